/* The remembered link verdict of doctor (linknote.h). */
#include "ops/linknote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/file.h"
#include "ops/session.h"

static bool note_dir(char *buf, size_t cap)
{
	return file_state_path("link", buf, cap);
}

bool ops_link_note_path(const struct ops_session *s, char *buf, size_t cap)
{
	char dir[400];
	if (!note_dir(dir, sizeof dir))
		return false;
	/* the serial is device data: only letters, digits, '-' and '_' reach the file name */
	char ser[2 * 64 + 1] = "";
	size_t k = 0;
	for (const char *p = s->tp->info.serial; *p && k + 2 < sizeof ser; p++) {
		unsigned char c = (unsigned char)*p;
		bool plain = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
		if (plain) {
			ser[k++] = (char)c;
		} else {
			static const char hex[] = "0123456789abcdef";
			ser[k++] = '_';
			ser[k++] = hex[c >> 4];
			if (k + 1 < sizeof ser)
				ser[k++] = hex[c & 15];
		}
	}
	ser[k] = '\0';
	int n = snprintf(buf, cap, "%s/%04x-%04x-%s", dir, s->tp->info.vid, s->tp->info.pid, k ? ser : "_");
	return n > 0 && (size_t)n < cap;
}

bool ops_link_note_marginal(const struct ops_session *s)
{
	char path[512];
	uint8_t *text = NULL;
	size_t len = 0;
	if (!ops_link_note_path(s, path, sizeof path) || file_read_all(path, &text, &len, NULL) < 0)
		return false;
	bool any = strstr((const char *)text, "marginal ") != NULL;
	free(text);
	return any;
}

int ops_link_note_record(const struct ops_session *s, bool marginal, struct err *e)
{
	char path[512], dir[400], uid[25] = "-";
	if (!ops_link_note_path(s, path, sizeof path) || !note_dir(dir, sizeof dir))
		return err_set(e, STM32DFU_E_FILE_IO, "no place for the link note: neither XDG_STATE_HOME nor HOME is set");
	if (s->have_identity && s->id.has_uid)
		for (int i = 0; i < 12; i++)
			snprintf(uid + 2 * i, 3, "%02X", s->id.uid[i]);
	char line[40];
	snprintf(line, sizeof line, "marginal %s\n", uid);
	/* keep the other chips' lines, drop this chip's */
	uint8_t *old = NULL;
	size_t len = 0;
	char *keep = NULL;
	size_t kept = 0;
	if (file_read_all(path, &old, &len, NULL) == 0) {
		keep = malloc(len + 1);
		if (!keep) {
			free(old);
			return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
		}
		for (char *l = (char *)old; *l;) {
			char *nl = strchr(l, '\n');
			size_t ll = nl ? (size_t)(nl - l) + 1 : strlen(l);
			if (strncmp(l, "marginal ", 9) == 0 && strncmp(l, line, strlen(line) - 1) != 0) {
				memcpy(keep + kept, l, ll);
				kept += ll;
				if (keep[kept - 1] != '\n')
					keep[kept++] = '\n';
			}
			l += ll;
		}
		free(old);
	}
	int rc = 0;
	if (!marginal && kept == 0) {
		if (remove(path) != 0 && errno != ENOENT)
			rc = err_set(e, STM32DFU_E_FILE_IO, "%s: cannot remove the link note: %s", path, strerror(errno));
		free(keep);
		return rc;
	}
	struct file_out f;
	if ((rc = file_private_dir(dir, 2, e)) < 0 || (rc = file_out_open(&f, path, 0600, e)) < 0) {
		free(keep);
		return err_prefix(e, "link note");
	}
	file_out_write(&f, keep, kept);
	if (marginal)
		file_out_write(&f, line, strlen(line));
	free(keep);
	if ((rc = file_out_commit(&f, e)) < 0)
		return err_prefix(e, "link note");
	return 0;
}
