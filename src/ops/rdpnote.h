/* RDP level 2 as written by this tool, remembered per device (rdpnote.c says why). */
#ifndef OPS_RDPNOTE_H
#define OPS_RDPNOTE_H

#include <stdbool.h>

struct ops_session;

/* true if this tool wrote RDP level 2 to a device with this VID:PID and USB serial. */
bool ops_rdp2_noted(const struct ops_session *s);
/* level2: record it (after the chip started refusing reads); false: forget it. Best effort. */
void ops_rdp2_note(const struct ops_session *s, bool level2);
/* The hint for a chip that refuses reads: unprotect for level 1, never for level 2 (permanent). */
const char *ops_rdp_hint(const struct ops_session *s);

#endif
