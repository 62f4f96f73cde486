/* The USART half of ops_open (session.c): the AN3155 bootloader behind a serial port or the
 * emulator's USART door, and the session's memory map from the target's regions. */
#ifndef OPS_SESSION_UART_H
#define OPS_SESSION_UART_H

#include <stdbool.h>
#include <stddef.h>

#include "chip/serial.h"
#include "ops/session.h"

/* --sim=PROFILE,...,link=uart: copies the spec without its link key into rest; *uart tells which
 * link it named (usb when none). With state non-NULL, a state=FILE key goes there too. */
int ops_sim_link(const char *spec, char *rest, size_t cap, bool *uart, char *state, size_t state_cap,
                 struct err *e);
/* The port (or, with sim_rest, the emulator), a trace when asked, 0x7F, GET/Get Version/Get ID,
 * the target and its memory map. */
int ops_open_uart(struct ops_session *s, const struct ops_open_opts *o, const char *sim_rest, struct err *e);
/* After the bootloader answered: the recovery folder, and -S by UID. */
int ops_open_uart_rest(struct ops_session *s, const struct ops_open_opts *o, const struct chip_selector *sel,
                       struct ops_session **out, struct err *e);

/* After a reset the chip made (an option-byte write may change the flash's bank mode): the
 * session's map made again, in place, from the target's; nothing on USB. */
int ops_uart_remap(struct ops_session *s);

#endif
