/*
 * RDP level 2 remembered. A chip at level 2 refuses every read just as one at level 1 does
 * (AN3156 4.1: errVENDOR whatever the target), so the level cannot be read back over DFU. What can
 * be known is what this tool wrote: after `ob set RDP=level2` makes the chip refuse reads, a note
 * is kept, and a later session that finds the chip refusing reads reports level 2 from it. The
 * note sits beside doctor's link notes (linknote.h), one file per VID:PID and USB serial (the serial
 * costs no transfer; on the ST ROM it is derived from the UID). A session that reads the option
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
#include "ops/session.h"

static bool note_path(const struct ops_session *s, char *buf, size_t cap, char *dir, size_t dcap)
{
	char link[512];
	if (!ops_link_note_path(s, link, sizeof link))
		return false;
	/* the same directory tree and file name as the link note, under rdp2/ instead of link/ */
	char *slash = strrchr(link, '/');
	if (!slash || slash - link < 5 || memcmp(slash - 5, "/link", 5) != 0)
		return false;
	*slash = '\0';
	link[strlen(link) - 5] = '\0';
	int n = snprintf(dir, dcap, "%s/rdp2", link);
	int m = snprintf(buf, cap, "%s/%s", dir, slash + 1);
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
	if (file_private_dir(dir, 2, NULL) < 0 || file_out_open(&f, path, 0600, NULL) < 0)
		return;
	char stamp[CLOCK_UTC_STAMP_LEN];
	clock_utc_stamp(stamp);
	fprintf(f.f, "RDP level 2 written by stm32dfu ob set at %s; the chip then refused reads\n", stamp);
	file_out_commit(&f, NULL);
}
