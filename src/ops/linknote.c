/* The remembered link verdict of doctor (linknote.h). */
#include "ops/linknote.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "ops/recdir.h"
#include "ops/record.h"
#include "ops/session.h"

static bool note_dir(const struct ops_session *s, char *buf, size_t cap)
{
	char base[900];
	if (!ops_records_base(s, base, sizeof base))
		return false;
	int n = snprintf(buf, cap, "%s/link", base);
	return n > 0 && (size_t)n < cap;
}

void ops_note_usb_name(const struct ops_session *s, char *buf, size_t cap)
{
	/* the serial is device data: only letters, digits and '-' reach the file name */
	char ser[3 * 64 + 1] = "";
	size_t k = 0;
	static const char hex[] = "0123456789abcdef";
	for (const char *p = ops_info(s)->serial; *p && k + 4 < sizeof ser; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-') {
			ser[k++] = (char)c;
		} else {
			ser[k++] = '_';
			ser[k++] = hex[c >> 4];
			ser[k++] = hex[c & 15];
		}
	}
	ser[k] = '\0';
	snprintf(buf, cap, "%04x-%04x-%s", ops_info(s)->vid, ops_info(s)->pid, k ? ser : "_");
}

bool ops_link_note_path(const struct ops_session *s, char *buf, size_t cap)
{
	char dir[1024], name[256];
	if (!note_dir(s, dir, sizeof dir))
		return false;
	if (s->have_identity && s->id.has_uid) {
		char uid[25];
		ops_record_uid(uid, s->id.uid);
		snprintf(name, sizeof name, "%s", uid);
	} else {
		ops_note_usb_name(s, name, sizeof name);
	}
	int n = snprintf(buf, cap, "%s/%s", dir, name);
	return n > 0 && (size_t)n < cap;
}

/* A note's text: "marginal link|hse\nhse_hz N\nusb NAME\n". */
static bool parse_note(const char *path, struct ops_link_note *n, char *usb, size_t usb_cap)
{
	memset(n, 0, sizeof *n);
	if (usb_cap)
		usb[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[512];
	bool any = false;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "marginal link") == 0) {
			n->reason = OPS_LINK_ERRORS;
			any = true;
		} else if (strcmp(line, "marginal hse") == 0) {
			n->reason = OPS_LINK_THIN_HSE;
			any = true;
		} else if (strncmp(line, "hse_hz ", 7) == 0) {
			n->hse_hz = strtod(line + 7, NULL);
			if (!(n->hse_hz > 0 && n->hse_hz < 1e9))
				n->hse_hz = 0;
		} else if (strncmp(line, "usb ", 4) == 0 && usb_cap) {
			snprintf(usb, usb_cap, "%.*s", (int)(usb_cap - 1), line + 4);
		}
	}
	fclose(f);
	return any;
}

void ops_link_note_read(const struct ops_session *s, struct ops_link_note *n)
{
	char path[1400];
	memset(n, 0, sizeof *n);
	if (ops_link_note_path(s, path, sizeof path))
		parse_note(path, n, NULL, 0);
}

bool ops_link_note_refine(const struct ops_session *s)
{
	struct ops_link_note n;
	ops_link_note_read(s, &n);
	return n.reason != OPS_LINK_HEALTHY;
}

bool ops_link_note_suspect(const struct ops_session *s)
{
	char dir[1024], usb[256];
	if (!note_dir(s, dir, sizeof dir))
		return false;
	ops_note_usb_name(s, usb, sizeof usb);
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[1400], noted[256];
		struct ops_link_note n;
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
			continue;
		found = parse_note(path, &n, noted, sizeof noted) && strcmp(noted, usb) == 0;
	}
	closedir(d);
	return found;
}

int ops_link_note_record(const struct ops_session *s, const struct ops_link_note *n, struct err *e)
{
	char path[1400], dir[1024];
	if (!ops_link_note_path(s, path, sizeof path) || !note_dir(s, dir, sizeof dir))
		return err_set(e, STM32DFU_E_FILE_IO, "no place for the link note: neither XDG_STATE_HOME nor HOME is set");
	if (n->reason == OPS_LINK_HEALTHY) {
		if (remove(path) != 0 && errno != ENOENT)
			return err_set(e, STM32DFU_E_FILE_IO, "%s: cannot remove the link note: %s", path, strerror(errno));
		return 0;
	}
	char usb[256], text[512];
	ops_note_usb_name(s, usb, sizeof usb);
	int len = snprintf(text, sizeof text, "marginal %s\nhse_hz %.0f\nusb %s\n",
	                   n->reason == OPS_LINK_THIN_HSE ? "hse" : "link", n->hse_hz, usb);
	/* a new file renamed into place: a reader never sees half a note; our folders are checked as
	 * ssh checks ~/.ssh (core/file.h): stm32dfu/link, or stm32dfu/sim/link */
	struct file_out f;
	int rc;
	if ((rc = file_private_dir(dir, ops_session_emulated(s) ? 3 : 2, e)) < 0 ||
	    (rc = file_out_open(&f, path, 0600, e)) < 0)
		return err_prefix(e, "link note");
	file_out_write(&f, text, (size_t)len);
	if ((rc = file_out_commit(&f, e)) < 0)
		return err_prefix(e, "link note");
	return 0;
}
