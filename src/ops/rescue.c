/* Recovery files (see rescue.h): the record, atomic save, list, delete; the checked load is in
 * rescue_load.c. */
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

#define MAGIC "stm32dfu-recovery 2\n"
#define MAGIC3 "stm32dfu-recovery 3\n" /* with unsettled blocks */
#define SUFFIX ".recovery"

static bool key_ok(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > RESCUE_UID_CHARS)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* A file name's stem: KEY, or KEY.ID (a key that is not unique: one file per board, ID twelve hex
 * digits of the file's checksum). The key part into key (RESCUE_UID_CHARS + 1). */
static bool name_key(const char *name, char *key)
{
	const char *dot = strchr(name, '.');
	size_t kl = dot ? (size_t)(dot - name) : strlen(name);
	if (kl == 0 || kl > RESCUE_UID_CHARS)
		return false;
	memcpy(key, name, kl);
	key[kl] = '\0';
	if (!key_ok(key))
		return false;
	if (!dot)
		return true;
	size_t il = strlen(dot + 1);
	if (il != RESCUE_ID_CHARS)
		return false;
	for (size_t i = 1; i <= il; i++)
		if (!((dot[i] >= '0' && dot[i] <= '9') || (dot[i] >= 'a' && dot[i] <= 'f')))
			return false;
	return true;
}

bool rescue_name_key(const char *name, char key[RESCUE_UID_CHARS + 1])
{
	return name_key(name, key);
}

/* An XDG variable counts only as an absolute path (the spec: relative ones are invalid). */
static const char *abs_env(const char *name)
{
	const char *v = getenv(name);
	return v && v[0] == '/' ? v : NULL;
}

int rescue_dir(const char *state_path, char *buf, size_t cap, struct err *e)
{
	int n;
	const char *v;
	if (state_path && state_path[0]) {
		const char *slash = strrchr(state_path, '/');
		if (!slash)
			n = snprintf(buf, cap, "recovery");
		else
			n = snprintf(buf, cap, "%.*s/recovery", (int)(slash - state_path), state_path);
	} else if ((v = getenv("STM32DFU_RECOVERY_DIR")) && v[0]) {
		n = snprintf(buf, cap, "%s", v);
	} else if (file_state_path("recovery", buf, cap)) {
		n = (int)strlen(buf); /* $XDG_STATE_HOME/stm32dfu/recovery or ~/.local/state/... */
	} else if ((v = abs_env("XDG_CACHE_HOME"))) {
		n = snprintf(buf, cap, "%s/stm32dfu/recovery", v);
	} else if ((v = abs_env("XDG_RUNTIME_DIR"))) {
		n = snprintf(buf, cap, "%s/stm32dfu/recovery", v);
	} else {
		err_set(e, STM32DFU_E_FILE_IO,
		        "no folder for the recovery file: none of STM32DFU_RECOVERY_DIR, XDG_STATE_HOME, HOME, "
		        "XDG_CACHE_HOME, XDG_RUNTIME_DIR is set (as absolute paths)");
		return STM32DFU_E_FILE_IO;
	}
	if (n < 0 || (size_t)n >= cap)
		return err_set(e, STM32DFU_E_FILE_IO, "recovery folder: path too long");
	return 0;
}

void rescue_uid_text(const uint8_t uid[12], char out[RESCUE_UID_CHARS + 1])
{
	snprintf(out, RESCUE_UID_CHARS + 1, "%08" PRIX32 "%08" PRIX32 "%08" PRIX32, get_le32(uid), get_le32(uid + 4),
	         get_le32(uid + 8));
}

void rescue_image_sha256(const struct img *img, uint8_t out[32])
{
	struct sha256_ctx c;
	sha256_init(&c);
	for (size_t i = 0; img && i < img->n_segs; i++) {
		const struct img_seg *s = &img->segs[i];
		uint8_t hdr[9] = {s->alt};
		put_le32(hdr + 1, s->addr);
		put_le32(hdr + 5, s->len);
		sha256_update(&c, sizeof hdr, hdr);
		sha256_update(&c, s->len, s->data);
	}
	sha256_digest(&c, SHA256_DIGEST_SIZE, out);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

bool rescue_unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < 2 * n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (v < 0)
			return false;
		out[i / 2] = (uint8_t)(i % 2 ? (out[i / 2] << 4) | v : v);
	}
	return true;
}

int rescue_file_path(const char *dir, const char *uid, char *buf, size_t cap, struct err *e)
{
	char key[RESCUE_UID_CHARS + 1];
	if (strlen(uid) > RESCUE_NAME_CHARS || !name_key(uid, key))
		return err_set(e, STM32DFU_E_INTERNAL, "recovery file: '%s' is not a chip key", uid);
	int n = snprintf(buf, cap, "%s/%s" SUFFIX, dir, uid);
	if (n < 0 || (size_t)n >= cap)
		return err_set(e, STM32DFU_E_FILE_IO, "recovery file: path too long");
	return 0;
}

const struct rescue_sector *rescue_find(const struct rescue *r, uint32_t start)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (r->sectors[i].start == start)
			return &r->sectors[i];
	return NULL;
}

void rescue_sector_sha(struct rescue_sector *rs)
{
	struct sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, rs->size, rs->data);
	sha256_update(&c, (size_t)rs->size * rs->n_targets, rs->targets);
	sha256_digest(&c, SHA256_DIGEST_SIZE, rs->sha256);
}

int rescue_add(struct rescue *r, unsigned index, uint32_t start, uint32_t size, const uint8_t *data,
               const uint8_t *target, struct err *e)
{
	for (size_t i = 0; i < r->n; i++) {
		struct rescue_sector *rs = &r->sectors[i];
		if (rs->start != start)
			continue;
		if (rs->size != size)
			return err_set(e, STM32DFU_E_INTERNAL, "recovery file: sector at 0x%08X saved with another size", start);
		for (unsigned k = 0; k < rs->n_targets; k++)
			if (memcmp(rs->targets + (size_t)k * size, target, size) == 0)
				return 0; /* already allowed */
		if (rs->n_targets >= RESCUE_MAX_TARGETS)
			return err_set(e, STM32DFU_E_FILE_IO,
			               "recovery file: sector %u at 0x%08X was left unfinished by %u writes in a row", index,
			               start, rs->n_targets);
		uint8_t *t = realloc(rs->targets, (size_t)size * (rs->n_targets + 1));
		if (!t)
			return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
		memcpy(t + (size_t)size * rs->n_targets, target, size);
		rs->targets = t;
		rs->n_targets++;
		rescue_sector_sha(rs);
		return 0;
	}
	uint8_t *copy = malloc(size ? size : 1), *tg = malloc(size ? size : 1);
	struct rescue_sector *v = realloc(r->sectors, (r->n + 1) * sizeof *v);
	if (v)
		r->sectors = v;
	if (!copy || !tg || !v) {
		free(copy);
		free(tg);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	memcpy(copy, data, size);
	memcpy(tg, target, size);
	/* address order */
	size_t k = r->n;
	while (k > 0 && v[k - 1].start > start) {
		v[k] = v[k - 1];
		k--;
	}
	v[k] = (struct rescue_sector){index, start, size, copy, tg, 1, {0}};
	rescue_sector_sha(&v[k]);
	r->n++;
	return 0;
}

int rescue_add_erased(struct rescue *r, uint32_t start, uint32_t size, struct err *e)
{
	for (size_t i = 0; i < r->n_erased; i++)
		if (r->erased[i].start == start) {
			if (size > r->erased[i].size)
				r->erased[i].size = size;
			return 0;
		}
	struct rescue_range *v = realloc(r->erased, (r->n_erased + 1) * sizeof *v);
	if (!v)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	r->erased = v;
	size_t k = r->n_erased;
	while (k > 0 && v[k - 1].start > start) {
		v[k] = v[k - 1];
		k--;
	}
	v[k] = (struct rescue_range){start, size};
	r->n_erased++;
	return 0;
}

int rescue_add_unsettled(struct rescue *r, uint32_t start, uint32_t size, struct err *e)
{
	for (size_t i = 0; i < r->n_unsettled; i++)
		if (start >= r->unsettled[i].start &&
		    (uint64_t)start + size <= (uint64_t)r->unsettled[i].start + r->unsettled[i].size)
			return 0;
	if (r->n_unsettled >= RESCUE_MAX_UNSETTLED)
		return err_set(e, STM32DFU_E_FILE_IO, "recovery file: more than %u blocks left unanswered", RESCUE_MAX_UNSETTLED);
	struct rescue_range *v = realloc(r->unsettled, (r->n_unsettled + 1) * sizeof *v);
	if (!v)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	r->unsettled = v;
	size_t k = r->n_unsettled;
	while (k > 0 && v[k - 1].start > start) {
		v[k] = v[k - 1];
		k--;
	}
	v[k] = (struct rescue_range){start, size};
	r->n_unsettled++;
	return 0;
}

/* Whether addr lies in one of r's unsettled blocks (address order). */
static bool unsettled_at(const struct rescue *r, uint32_t addr)
{
	for (size_t i = 0; i < r->n_unsettled && r->unsettled[i].start <= addr; i++)
		if ((uint64_t)addr < (uint64_t)r->unsettled[i].start + r->unsettled[i].size)
			return true;
	return false;
}

bool rescue_erases(const struct rescue *r, uint32_t start, uint32_t size)
{
	for (size_t i = 0; i < r->n_erased; i++)
		if (start >= r->erased[i].start && (uint64_t)start + size <= (uint64_t)r->erased[i].start + r->erased[i].size)
			return true;
	return false;
}

bool rescue_consistent(const struct rescue *r, const struct rescue_sector *rs, const uint8_t *current, uint32_t *at)
{
	for (uint32_t i = 0; i < rs->size; i++) {
		uint8_t b = current[i];
		if (b == 0xFF || b == rs->data[i] || unsettled_at(r, rs->start + i))
			continue;
		bool ok = false;
		for (unsigned k = 0; k < rs->n_targets && !ok; k++)
			ok = b == rs->targets[(size_t)k * rs->size + i];
		if (!ok) {
			*at = i;
			return false;
		}
	}
	return true;
}

int rescue_hold_take(struct rescue *r)
{
	int h = r->hold;
	r->hold = 0;
	return h;
}

void rescue_hold_close(int hold)
{
	if (hold > 0)
		close(hold - 1); /* and with it the lock */
}

void rescue_free(struct rescue *r)
{
	rescue_hold_close(r->hold);
	r->hold = 0;
	for (size_t i = 0; i < r->n; i++) {
		free(r->sectors[i].data);
		free(r->sectors[i].targets);
	}
	free(r->sectors);
	free(r->erased);
	free(r->unsettled);
	r->sectors = NULL;
	r->erased = NULL;
	r->unsettled = NULL;
	r->n = r->n_erased = r->n_unsettled = 0;
}

static bool write_all(int fd, const void *p, size_t n, struct sha256_ctx *c)
{
	if (c)
		sha256_update(c, n, p);
	const uint8_t *b = p;
	while (n) {
		ssize_t k = write(fd, b, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		b += k;
		n -= (size_t)k;
	}
	return true;
}

int rescue_save(const char *dir, struct rescue *r, struct err *e)
{
	/* our folders: recovery/, and stm32dfu/ above it when it is the default one */
	char def[RESCUE_PATH_MAX];
	unsigned ours = file_state_path("recovery", def, sizeof def) && strcmp(def, dir) == 0 ? 2 : 1;
	int rc = file_private_dir(dir, ours, e);
	if (rc < 0)
		return rc;
	char tmp[RESCUE_PATH_MAX + 16], path[RESCUE_PATH_MAX];
	/* a file loaded before keeps its name; a key that is not unique gets one per board (below) */
	if (r->path[0])
		snprintf(path, sizeof path, "%s", r->path);
	else if ((rc = rescue_file_path(dir, r->uid, path, sizeof path, e)) < 0)
		return rc;
	/* a name of its own: two writers never share the temporary file */
	if (snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, r->uid) >= (int)sizeof tmp)
		return err_set(e, STM32DFU_E_FILE_IO, "recovery file: path too long");
	int fd = mkstemp(tmp);
	if (fd < 0)
		return err_set(e, STM32DFU_E_FILE_IO, "cannot write the recovery file %s: %s", tmp, strerror(errno));
	struct sha256_ctx c;
	sha256_init(&c);
	char line[256], sh[65], rest[65] = "-";
	/* version 2 while no block is unsettled: an older stm32dfu still applies it */
	const char *magic = r->n_unsettled ? MAGIC3 : MAGIC;
	bool ok = write_all(fd, magic, strlen(magic), &c);
	hex(r->image_sha256, 32, sh);
	if (r->have_rest)
		hex(r->rest_sha256, 32, rest);
	int n = snprintf(line, sizeof line, "key %s\nunique %s\nimage-sha256 %s\ncreated %" PRId64 "\nrest-sha256 %s\nerased %zu\n",
	                 r->uid, r->unique ? "yes" : "no", sh, r->created, rest, r->n_erased);
	ok = ok && write_all(fd, line, (size_t)n, &c);
	for (size_t i = 0; ok && i < r->n_erased; i++) {
		n = snprintf(line, sizeof line, "range 0x%08" PRIX32 " %" PRIu32 "\n", r->erased[i].start, r->erased[i].size);
		ok = write_all(fd, line, (size_t)n, &c);
	}
	if (r->n_unsettled) {
		n = snprintf(line, sizeof line, "unsettled %zu\n", r->n_unsettled);
		ok = ok && write_all(fd, line, (size_t)n, &c);
	}
	for (size_t i = 0; ok && i < r->n_unsettled; i++) {
		n = snprintf(line, sizeof line, "block 0x%08" PRIX32 " %" PRIu32 "\n", r->unsettled[i].start,
		             r->unsettled[i].size);
		ok = write_all(fd, line, (size_t)n, &c);
	}
	n = snprintf(line, sizeof line, "sectors %zu\n", r->n);
	ok = ok && write_all(fd, line, (size_t)n, &c);
	for (size_t i = 0; ok && i < r->n; i++) {
		const struct rescue_sector *rs = &r->sectors[i];
		hex(rs->sha256, 32, sh);
		n = snprintf(line, sizeof line, "sector %u 0x%08" PRIX32 " %" PRIu32 " %u %s\n", rs->index, rs->start, rs->size,
		             rs->n_targets, sh);
		ok = write_all(fd, line, (size_t)n, &c);
	}
	ok = ok && write_all(fd, "data\n", 5, &c);
	for (size_t i = 0; ok && i < r->n; i++)
		ok = write_all(fd, r->sectors[i].data, r->sectors[i].size, &c) &&
		     write_all(fd, r->sectors[i].targets, (size_t)r->sectors[i].size * r->sectors[i].n_targets, &c);
	uint8_t digest[32];
	sha256_digest(&c, sizeof digest, digest);
	hex(digest, 32, sh);
	if (!r->path[0] && !r->unique) {
		/* one name per write: two boards with the same bytes (one firmware on a line) write the
		 * same content, and neither file may replace the other */
		uint8_t id[RESCUE_ID_CHARS / 2];
		char idh[RESCUE_ID_CHARS + 1];
		if (!os_random(id, sizeof id))
			memcpy(id, digest, sizeof id);
		hex(id, sizeof id, idh);
		if (snprintf(path, sizeof path, "%s/%s.%s" SUFFIX, dir, r->uid, idh) >= (int)sizeof path)
			ok = false;
	}
	n = snprintf(line, sizeof line, "sha256 %s\n", sh);
	ok = ok && write_all(fd, line, (size_t)n, NULL);
	int saved = errno;
	if (ok && os_fsync(fd) != 0) {
		ok = false;
		saved = errno;
	}
	/* held from before it has its name: no other write can take it between the two */
	bool held = ok && os_file_trylock(fd) == 0;
	if (!held && close(fd) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (!ok || os_replace(tmp, path) != 0) {
		if (ok)
			saved = errno;
		if (held)
			close(fd);
		unlink(tmp);
		r->save_errno = saved;
		return err_set(e, STM32DFU_E_FILE_IO, "cannot write the recovery file %s: %s", path, strerror(saved));
	}
	snprintf(r->path, sizeof r->path, "%s", path);
	rescue_hold_close(r->hold);
	r->hold = held ? fd + 1 : 0;
	/* the rename itself must survive a power cut: sync the folder */
	os_sync_dir(dir);
	return 0;
}

/* The whole of an open file of size bytes (as fstat said), into a new heap buffer. */
int rescue_remove(const struct rescue *r, struct err *e)
{
	if (unlink(r->path) != 0 && errno != ENOENT)
		return err_set(e, STM32DFU_E_FILE_IO, "cannot delete the recovery file %s: %s", r->path, strerror(errno));
	return 0;
}

static int cmp_uid(const void *a, const void *b)
{
	return strcmp(a, b);
}

int rescue_list(const char *dir, char (**uids)[RESCUE_NAME_CHARS + 1], size_t *n, struct err *e)
{
	*uids = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0
		                       : err_set(e, STM32DFU_E_FILE_IO, "cannot read the recovery folder %s: %s", dir, strerror(errno));
	char (*v)[RESCUE_NAME_CHARS + 1] = NULL;
	size_t k = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), sl = strlen(SUFFIX);
		if (len <= sl || strcmp(de->d_name + len - sl, SUFFIX) != 0 || len - sl > RESCUE_NAME_CHARS)
			continue;
		char key[RESCUE_NAME_CHARS + 1], kp[RESCUE_UID_CHARS + 1];
		memcpy(key, de->d_name, len - sl);
		key[len - sl] = '\0';
		if (!name_key(key, kp))
			continue;
		void *nv = realloc(v, (k + 1) * sizeof *v);
		if (!nv) {
			free(v);
			closedir(d);
			return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
		}
		v = nv;
		memcpy(v[k++], key, sizeof key);
	}
	closedir(d);
	if (k)
		qsort(v, k, sizeof *v, cmp_uid);
	*uids = v;
	*n = k;
	return 0;
}
