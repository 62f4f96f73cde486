/* Recovery files (see rescue.h): reading one back, every field checked before it is believed
 * (a file may be damaged, cut short or from another version). */
#define _POSIX_C_SOURCE 200809L
#include "ops/rescue.h"
#include "ops/rescue_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/os.h"
#include "core/file.h"
#include "core/rd.h"
#include "image/image.h"

static int read_fd_all(int fd, uint64_t size, uint8_t **out, size_t *len)
{
	if (size > 256u * 1024u * 1024u) {
		errno = EFBIG;
		return -1;
	}
	uint8_t *b = malloc((size_t)size + 1);
	if (!b)
		return -1;
	size_t got = 0;
	while (got < size) {
		ssize_t k = read(fd, b + got, (size_t)size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			free(b);
			if (k == 0)
				errno = EIO;
			return -1;
		}
		got += (size_t)k;
	}
	*out = b;
	*len = got;
	return 0;
}

/* The next line of [p, end) (without its newline) into line; advances *p. */
static bool next_line(const uint8_t **p, const uint8_t *end, char *line, size_t cap)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl || (size_t)(nl - *p) >= cap)
		return false;
	memcpy(line, *p, (size_t)(nl - *p));
	line[nl - *p] = '\0';
	*p = nl + 1;
	return true;
}

static int damaged(struct err *e, const char *path, const char *why)
{
	err_set(e, STM32DFU_E_FILE_FORMAT, "the recovery file %s is damaged (%s)", path, why);
	err_hint(e, "it was written atomically, so something else changed it; move it away to go on without it");
	return STM32DFU_E_FILE_FORMAT;
}

int rescue_load(const char *dir, const char *uid, struct rescue *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	int rc = rescue_file_path(dir, uid, r->path, sizeof r->path, e);
	if (rc < 0)
		return rc;
	char key[RESCUE_UID_CHARS + 1];
	rescue_name_key(uid, key);
	int fd = open(r->path, O_RDONLY | O_CLOEXEC | O_BINARY);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0)
		return err_set(e, STM32DFU_E_FILE_IO, "cannot read the recovery file %s: %s", r->path, strerror(errno));
	/* held while it is used: a write running now holds its own file (another chip's, on a line
	 * writing several boards at once) */
	int lk = os_file_trylock(fd);
	if (lk == 1) {
		close(fd);
		return RESCUE_IN_USE;
	}
	struct stat st_fd, st_path;
	bool moved = fstat(fd, &st_fd) != 0;
	/* replaced or deleted since it was opened, under a lock taken: its writer is at work on it.
	 * Without a lock (Windows) there is nothing to compare against: there fstat and stat do not
	 * give the same st_dev, and the fingerprint alone decides */
	if (!moved && lk == 0)
		moved = stat(r->path, &st_path) != 0 || st_fd.st_ino != st_path.st_ino || st_fd.st_dev != st_path.st_dev;
	if (moved) {
		close(fd);
		return access(r->path, F_OK) == 0 ? RESCUE_IN_USE : 1;
	}
	if (lk == 0)
		r->hold = fd + 1;
	uint8_t *buf = NULL;
	size_t len = 0;
	rc = read_fd_all(fd, (uint64_t)st_fd.st_size, &buf, &len);
	if (lk != 0)
		close(fd);
	if (rc < 0) {
		rescue_free(r);
		return err_set(e, STM32DFU_E_FILE_IO, "cannot read the recovery file %s: %s", r->path, strerror(errno));
	}
	const uint8_t *p = buf, *end = buf + len;
	char line[256], sh[65];
	rc = 0;
	/* the checksum line is the last one, of fixed length (the data before it is raw bytes) */
	const size_t cl = 7 + 64 + 1;
	const uint8_t *tail = len >= cl ? end - cl : buf;
	uint8_t want[32], got[32];
	if (len < cl || end[-1] != '\n' || memcmp(tail, "sha256 ", 7) != 0 || !rescue_unhex((const char *)tail + 7, want, 32)) {
		rc = damaged(e, r->path, "no checksum line");
		goto out;
	}
	struct sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, (size_t)(tail - buf), buf);
	sha256_digest(&c, sizeof got, got);
	if (memcmp(want, got, 32) != 0) {
		rc = damaged(e, r->path, "checksum mismatch");
		goto out;
	}
	end = tail;
	size_t n = 0, ne = 0;
	long long created = 0;
	if (!next_line(&p, end, line, sizeof line) || strncmp(line, "stm32dfu-recovery ", 18) != 0) {
		rc = damaged(e, r->path, "not a recovery file");
		goto out;
	}
	bool v3 = strcmp(line, "stm32dfu-recovery 3") == 0;
	if (!v3 && strcmp(line, "stm32dfu-recovery 2") != 0 && atoi(line + 18) > 3) {
		err_set(e, STM32DFU_E_FILE_FORMAT, "the recovery file %s is of a newer format (%s) than this stm32dfu reads",
		        r->path, line);
		err_hint(e, "nothing was written; apply it with the stm32dfu that wrote it");
		rc = STM32DFU_E_FILE_FORMAT;
		goto out;
	}
	if (!v3 && strcmp(line, "stm32dfu-recovery 2") != 0) {
		err_set(e, STM32DFU_E_FILE_FORMAT,
		        "the recovery file %s is of an older format (%s): it does not record the image's bytes, so it "
		        "cannot be checked against the chip", r->path, line);
		err_hint(e, "nothing was written; if the chip lost bytes in that write, their copy is in the file's data; "
		            "move the file away to go on without it");
		rc = STM32DFU_E_FILE_FORMAT;
		goto out;
	}
	char uniq[8], rest[72];
	if (!next_line(&p, end, line, sizeof line) || strncmp(line, "key ", 4) != 0 || strcmp(line + 4, key) != 0 ||
	    !next_line(&p, end, line, sizeof line) || sscanf(line, "unique %7s", uniq) != 1 ||
	    (strcmp(uniq, "yes") != 0 && strcmp(uniq, "no") != 0) || !next_line(&p, end, line, sizeof line) ||
	    sscanf(line, "image-sha256 %64s", sh) != 1 || strlen(sh) != 64 || !rescue_unhex(sh, r->image_sha256, 32) ||
	    !next_line(&p, end, line, sizeof line) || sscanf(line, "created %lld", &created) != 1 ||
	    !next_line(&p, end, line, sizeof line) || sscanf(line, "rest-sha256 %70s", rest) != 1 ||
	    !(strcmp(rest, "-") == 0 || (strlen(rest) == 64 && rescue_unhex(rest, r->rest_sha256, 32))) ||
	    !next_line(&p, end, line, sizeof line) || sscanf(line, "erased %zu", &ne) != 1 || ne > 65536) {
		rc = damaged(e, r->path, "bad header");
		goto out;
	}
	snprintf(r->uid, sizeof r->uid, "%s", key);
	r->unique = strcmp(uniq, "yes") == 0;
	r->have_rest = strcmp(rest, "-") != 0;
	r->created = created;
	if (r->unique && strchr(uid, '.')) {
		rc = damaged(e, r->path, "a unique key under a name for a key that is not unique");
		goto out;
	}
	if (!r->unique && !r->have_rest) {
		rc = damaged(e, r->path, "a key that is not unique with no hash of the rest of the flash");
		goto out;
	}
	for (size_t i = 0; i < ne; i++) {
		unsigned long start, size;
		if (!next_line(&p, end, line, sizeof line) || sscanf(line, "range %lx %lu", &start, &size) != 2 ||
		    start > UINT32_MAX || size == 0 || size > UINT32_MAX || rescue_add_erased(r, (uint32_t)start, (uint32_t)size, e) < 0) {
			rc = damaged(e, r->path, "bad range line");
			goto out;
		}
	}
	size_t nu = 0;
	if (v3 && (!next_line(&p, end, line, sizeof line) || sscanf(line, "unsettled %zu", &nu) != 1 || nu == 0 ||
	           nu > RESCUE_MAX_UNSETTLED)) {
		rc = damaged(e, r->path, "bad unsettled count");
		goto out;
	}
	for (size_t i = 0; i < nu; i++) {
		unsigned long start, size;
		if (!next_line(&p, end, line, sizeof line) || sscanf(line, "block %lx %lu", &start, &size) != 2 ||
		    start > UINT32_MAX || size == 0 || size > UINT32_MAX ||
		    rescue_add_unsettled(r, (uint32_t)start, (uint32_t)size, e) < 0) {
			rc = damaged(e, r->path, "bad block line");
			goto out;
		}
	}
	if (!next_line(&p, end, line, sizeof line) || sscanf(line, "sectors %zu", &n) != 1 || n > 4096) {
		rc = damaged(e, r->path, "bad sector count");
		goto out;
	}
	struct rescue_sector *v = calloc(n ? n : 1, sizeof *v);
	if (!v) {
		rc = err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
		goto out;
	}
	r->sectors = v;
	for (size_t i = 0; i < n; i++) {
		unsigned idx, size, nt;
		unsigned long start;
		if (!next_line(&p, end, line, sizeof line) ||
		    sscanf(line, "sector %u %lx %u %u %64s", &idx, &start, &size, &nt, sh) != 5 || start > UINT32_MAX ||
		    size == 0 || size > 16u * 1024 * 1024 || nt == 0 || nt > RESCUE_MAX_TARGETS || strlen(sh) != 64 ||
		    !rescue_unhex(sh, v[i].sha256, 32) || (i > 0 && start <= v[i - 1].start)) {
			rc = damaged(e, r->path, "bad sector line");
			goto out;
		}
		v[i] = (struct rescue_sector){idx, (uint32_t)start, size, NULL, NULL, nt, {0}};
		rescue_unhex(sh, v[i].sha256, 32);
		r->n = i + 1;
	}
	if (!next_line(&p, end, line, sizeof line) || strcmp(line, "data") != 0) {
		rc = damaged(e, r->path, "no data line");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t tl = (size_t)v[i].size * v[i].n_targets;
		if ((size_t)(end - p) < v[i].size + tl) {
			rc = damaged(e, r->path, "short data");
			goto out;
		}
		if (!(v[i].data = malloc(v[i].size)) || !(v[i].targets = malloc(tl))) {
			rc = err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
			goto out;
		}
		memcpy(v[i].data, p, v[i].size);
		memcpy(v[i].targets, p + v[i].size, tl);
		p += v[i].size + tl;
		uint8_t want_sec[32];
		memcpy(want_sec, v[i].sha256, 32);
		rescue_sector_sha(&v[i]);
		if (memcmp(want_sec, v[i].sha256, 32) != 0) {
			rc = damaged(e, r->path, "a sector's checksum does not match its bytes");
			goto out;
		}
	}
	if (p != end)
		rc = damaged(e, r->path, "data of unexpected length");
out:
	free(buf);
	if (rc != 0)
		rescue_free(r);
	return rc;
}
