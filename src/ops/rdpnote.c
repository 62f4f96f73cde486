/*
 * RDP level 2 remembered. A chip at level 2 refuses every read just as one at level 1 does
 * (AN3156 4.1: errVENDOR whatever the target), so the level cannot be read back over DFU. What can
 * be known is what this tool wrote: after `ob set RDP=level2` makes the chip refuse reads, a note
 * is kept, and a later session that finds the chip refusing reads reports level 2 from it. The
 * note sits beside doctor's link notes (linknote.h, recdir.h), one file per VID:PID and USB serial
 * (a chip at level 2 refuses the UID read; on the ST ROM the serial is derived from the UID). A session that reads the option
 * bytes (the chip is not protected after all) removes it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/clock.h"
#include "core/file.h"
#include "ops/linknote.h"
#include "ops/rdpnote.h"
#include "ops/recdir.h"
#include "ops/session.h"

static bool note_path(const struct ops_session *s, char *buf, size_t cap, char *dir, size_t dcap)
{
	/* beside the link notes (linknote.h), by VID:PID and serial: a chip at level 2 shows no UID */
	char base[900], name[256];
	if (!ops_records_base(s, base, sizeof base))
		return false;
	ops_note_usb_name(s, name, sizeof name);
	int n = snprintf(dir, dcap, "%s/rdp2", base);
	int m = snprintf(buf, cap, "%s/%s", dir, name);
	return n > 0 && (size_t)n < dcap && m > 0 && (size_t)m < cap;
}

bool ops_rdp2_noted(const struct ops_session *s)
{
	char path[600], dir[600];
	if (!note_path(s, path, sizeof path, dir, sizeof dir))
		return false;
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	fclose(f);
	return true;
}

const char *ops_rdp_hint(const struct ops_session *s)
{
	if (s->id.rdp_level == 2 || ops_rdp2_noted(s))
		return "this tool set RDP level 2 on this chip: that is permanent, nothing can lower it (no unprotect); "
		       "only the application in flash can change the flash";
	return "the chip is read-protected (RDP level 1): {@unprotect} removes it and erases the flash";
}

void ops_rdp2_note(const struct ops_session *s, bool level2)
{
	char path[600], dir[600];
	if (!note_path(s, path, sizeof path, dir, sizeof dir))
		return;
	if (!level2) {
		remove(path);
		return;
	}
	struct file_out f;
	if (file_private_dir(dir, ops_session_emulated(s) ? 3 : 2, NULL) < 0 || file_out_open(&f, path, 0600, NULL) < 0)
		return;
	char stamp[CLOCK_UTC_STAMP_LEN];
	clock_utc_stamp(stamp);
	fprintf(f.f, "RDP level 2 written by stm32dfu ob set at %s; the chip then refused reads\n", stamp);
	file_out_commit(&f, NULL);
}
