#include "core/file.h"
#include "core/os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _WIN32
#include <windows.h>
/* no owners or modes to check: %LOCALAPPDATA%'s ACL makes it the user's (unsafe_dir) */
#define lstat stat
#define S_ISLNK(m) 0
#define geteuid() 0
#endif

/* '/' everywhere; '\\' too on Windows */
static bool is_sep(char c)
{
#ifdef _WIN32
	return c == '/' || c == '\\';
#else
	return c == '/';
#endif
}

/* Where the first folder of path starts after its root: past "/" here; past "C:\\" or
 * "\\\\server\\share\\" on Windows, which cannot be created. */
static size_t root_len(const char *p)
{
#ifdef _WIN32
	if (is_sep(p[0]) && is_sep(p[1])) {
		size_t i = 2, parts = 0;
		while (p[i] && parts < 2)
			parts += is_sep(p[i++]);
		return i;
	}
	if (p[0] && p[1] == ':')
		return is_sep(p[2]) ? 3 : 2;
#else
	(void)p;
#endif
	return 1;
}

const char *file_device_name(const char *path, char *buf, size_t cap)
{
#ifdef _WIN32
	const char *base = path;
	for (const char *q = path; *q; q++)
		if (is_sep(*q) || *q == ':')
			base = q + 1;
	/* the name before its first dot, trailing spaces ignored, as Windows reads it */
	size_t n = strcspn(base, ".");
	while (n && base[n - 1] == ' ')
		n--;
	static const char *const names[] = {"CON", "PRN", "AUX", "NUL"};
	char up[8];
	if (n < 3 || n > 4)
		return NULL;
	for (size_t i = 0; i < n; i++)
		up[i] = (char)(base[i] >= 'a' && base[i] <= 'z' ? base[i] - 32 : base[i]);
	up[n] = '\0';
	bool dev = false;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		dev |= strcmp(up, names[i]) == 0;
	dev |= n == 4 && (strncmp(up, "COM", 3) == 0 || strncmp(up, "LPT", 3) == 0) && up[3] >= '1' && up[3] <= '9';
	if (!dev || !cap)
		return NULL;
	snprintf(buf, cap, "%s", up);
	return buf;
#else
	(void)path;
	(void)buf;
	(void)cap;
	return NULL;
#endif
}

int file_device_name_error(struct err *e, const char *what, const char *path, const char *dev)
{
	err_set(e, STM32DFU_E_FILE_IO,
	        "%s%s%s: %s is a Windows device name, not a file (CON, PRN, AUX, NUL, COM1-COM9 and LPT1-LPT9 are, "
	        "with any extension): reading or writing it reaches the device, never a file",
	        what ? what : "", what ? " " : "", path, dev);
	err_hint(e, "give the file another name");
	return STM32DFU_E_FILE_IO;
}

int file_read_all(const char *path, uint8_t **out, size_t *len, struct err *e)
{
	return file_read_all_max(path, 0, out, len, e);
}

int file_read_all_max(const char *path, uint64_t max, uint8_t **out, size_t *len, struct err *e)
{
	*out = NULL;
	*len = 0;
	char dev[8];
	if (file_device_name(path, dev, sizeof dev)) /* CON would wait for the keyboard */
		return file_device_name_error(e, NULL, path, dev);
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(e, STM32DFU_E_FILE_IO, "%s: %s", path, os_file_strerror(errno));
	/* checked before reading: /dev/zero never ends, and a sparse 3 GiB file costs its size in memory */
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return err_set(e, STM32DFU_E_FILE_IO, "%s is not a regular file", path);
	}
	if (max && (uint64_t)st.st_size > max) {
		fclose(f);
		return err_set(e, STM32DFU_E_FILE_FORMAT, "%s is %llu bytes, more than any firmware file can be (%llu MiB)",
		               path, (unsigned long long)st.st_size, (unsigned long long)(max >> 20));
	}
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (cap - n < 2) {
			size_t ncap = cap ? cap * 2 : 65536;
			uint8_t *nb = ncap > cap ? realloc(buf, ncap) : NULL;
			if (!nb) {
				free(buf);
				fclose(f);
				return err_set(e, STM32DFU_E_NO_MEMORY, "%s: out of memory reading", path);
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	int io = ferror(f);
	fclose(f);
	if (io) {
		free(buf);
		return err_set(e, STM32DFU_E_FILE_IO, "%s: read error", path);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Creates p's leading folders up to and including the component that ends at p[upto]. */
static int make_dirs_upto(const char *path, size_t upto, struct err *e)
{
	char p[4096];
	if (upto >= sizeof p)
		return err_set(e, STM32DFU_E_FILE_IO, "%.64s...: path too long to create its folders", path);
	memcpy(p, path, upto);
	p[upto] = '\0';
	for (size_t i = root_len(p); i <= upto; i++) {
		if (!is_sep(p[i]) && p[i] != '\0')
			continue;
		char keep = p[i];
		p[i] = '\0';
		if (os_mkdir(p, 0700) != 0 && errno != EEXIST) {
			int saved = errno;
			err_set(e, STM32DFU_E_FILE_IO, "cannot create the folder %s: %s", p, strerror(saved));
			errno = saved;
			return STM32DFU_E_FILE_IO;
		}
		p[i] = keep;
	}
	return 0;
}

int file_make_dirs(const char *dir, struct err *e)
{
	return make_dirs_upto(dir, strlen(dir), e);
}

int file_make_parent_dirs(const char *path, struct err *e)
{
	size_t slash = 0;
	for (size_t i = 0; path[i]; i++)
		if (is_sep(path[i]))
			slash = i;
	return slash ? make_dirs_upto(path, slash, e) : 0;
}

/* What is wrong with an existing component of one of our folders, or NULL. */
static const char *unsafe_dir(const char *p, bool ours, const struct stat *st)
{
#ifdef _WIN32
	/* the folders under %LOCALAPPDATA% are the user's by their ACL; a junction or a symbolic link
	 * (a reparse point) among ours is refused as a symlink is here */
	DWORD a = GetFileAttributesA(p);
	if (ours && a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_REPARSE_POINT))
		return "is a link (another user may have planted it)";
	return S_ISDIR(st->st_mode) ? NULL : "is not a folder";
#else
	if (ours && S_ISLNK(st->st_mode))
		return "is a symbolic link (another user may have planted it)";
	if (!S_ISDIR(st->st_mode))
		return "is not a folder";
	if (ours && st->st_uid != geteuid())
		return "belongs to another user";
	if (ours && (st->st_mode & 077))
		return "is open to other users";
	if (!ours && st->st_uid != geteuid() && st->st_uid != 0)
		return "belongs to another user, who could replace the folders in it";
	if (!ours && (st->st_mode & 022) && !(st->st_mode & S_ISVTX))
		return "is writable by other users (and not sticky), who could replace the folders in it";
	(void)p;
	return NULL;
#endif
}

int file_private_dir(const char *dir, unsigned n_ours, struct err *e)
{
	char p[4096];
	size_t len = strlen(dir);
	if (len >= sizeof p)
		return err_set(e, STM32DFU_E_FILE_IO, "%.64s...: path too long", dir);
	memcpy(p, dir, len + 1);
	while (len > root_len(p) && is_sep(p[len - 1]))
		p[--len] = '\0';
	/* ours: the components after the '/' that precedes the last n_ours */
	size_t ours = len;
	for (unsigned k = 0; k < n_ours && ours > 0;) {
		ours--;
		if (is_sep(p[ours]))
			k++;
	}
	for (size_t i = root_len(p); i <= len; i++) {
		if (!is_sep(p[i]) && p[i] != '\0')
			continue;
		char keep = p[i];
		p[i] = '\0';
		bool mine = i > ours;
		if (os_mkdir(p, 0700) != 0 && errno != EEXIST) {
			int saved = errno;
			err_set(e, STM32DFU_E_FILE_IO, "cannot create the folder %s: %s", p, strerror(saved));
			errno = saved;
			return STM32DFU_E_FILE_IO;
		}
		/* ours: the entry itself (a symlink is refused); the user's: what it leads to */
		struct stat st;
		if ((mine ? lstat(p, &st) : stat(p, &st)) != 0)
			return err_set(e, STM32DFU_E_FILE_IO, "%s: %s", p, strerror(errno));
		const char *why = unsafe_dir(p, mine, &st);
		if (why) {
			err_set(e, STM32DFU_E_FILE_IO, "the folder %s %s: stm32dfu keeps its records only in folders of its own", p, why);
			if (mine && !S_ISLNK(st.st_mode) && S_ISDIR(st.st_mode) && st.st_uid == geteuid())
				err_hint(e, "if it is yours: chmod 700 %s", p);
			else
				err_hint(e, "remove or rename it, or point XDG_STATE_HOME at a folder of your own");
			return STM32DFU_E_FILE_IO;
		}
		p[i] = keep;
	}
	return 0;
}

bool file_state_path(const char *sub, char *buf, size_t cap)
{
#ifdef _WIN32
	/* %LOCALAPPDATA%\stm32dfu: the per-user, per-machine folder Windows programs keep state in;
	 * an absolute XDG_STATE_HOME (X:\... or \\server\...) overrides it, as it does on Linux */
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *local = xdg && root_len(xdg) > 1 ? xdg : getenv("LOCALAPPDATA");
	int w = local && local[0] && root_len(local) > 1
	                ? snprintf(buf, cap, "%s\\stm32dfu%s%s", local, sub && sub[0] ? "\\" : "", sub ? sub : "")
	                : -1;
	return w > 0 && (size_t)w < cap;
#else
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	const char *sep = sub && sub[0] ? "/" : "";
	int n;
	if (xdg && xdg[0] == '/')
		n = snprintf(buf, cap, "%s/stm32dfu%s%s", xdg, sep, sub ? sub : "");
	else if (home && home[0] == '/')
		n = snprintf(buf, cap, "%s/.local/state/stm32dfu%s%s", home, sep, sub ? sub : "");
	else
		return false;
	return n > 0 && (size_t)n < cap;
#endif
}

int file_state_dir(const char *sub, char *buf, size_t cap, struct err *e)
{
	if (!file_state_path(sub, buf, cap))
		return err_set(e, STM32DFU_E_FILE_IO,
		               "no state folder: neither XDG_STATE_HOME (an absolute path) nor HOME is set");
	unsigned n = 1; /* "stm32dfu" and what is under it are ours */
	for (const char *q = sub; q && *q; q++)
		n += *q == '/';
	return file_private_dir(buf, n + (sub && sub[0]), e);
}

/* A temporary name beside path, created exclusively; the descriptor, or -1 with errno set. */
static int open_temp(const char *path, char *tmp, size_t cap, unsigned mode)
{
	static atomic_uint counter;
	for (int tries = 0; tries < 100; tries++) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		unsigned long x = (unsigned long)ts.tv_nsec * 2654435761u ^ (unsigned long)getpid() << 16 ^
		                  atomic_fetch_add(&counter, 1) * 40503u;
		int n = snprintf(tmp, cap, "%s.tmp-%06lx", path, x & 0xffffff);
		if (n < 0 || (size_t)n >= cap) {
			errno = ENAMETOOLONG;
			return -1;
		}
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_BINARY, (mode_t)mode);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

int file_out_open(struct file_out *o, const char *path, unsigned mode, struct err *e)
{
	memset(o, 0, sizeof *o);
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof o->path)
		return err_set(e, STM32DFU_E_FILE_IO, "%.64s: not a usable file name", path);
	memcpy(o->path, path, n + 1);
	char dev[8];
	if (file_device_name(path, dev, sizeof dev))
		return file_device_name_error(e, NULL, path, dev);
	o->no_sync = mode & FILE_OUT_NO_SYNC;
	mode &= 07777;
	/* a device or a pipe (-o /dev/stdout, /dev/null) is written as it is: it cannot be replaced */
	struct stat st;
	/* a read-only file is kept: a rename would replace it (POSIX, and wine), where Windows refuses */
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, W_OK) != 0)
		return err_set(e, STM32DFU_E_FILE_IO, "cannot write %s: %s (the file is as it was)", path, strerror(errno));
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		o->f = fopen(path, "wb");
		if (!o->f)
			return err_set(e, STM32DFU_E_FILE_IO, "cannot write %s: %s", path, strerror(errno));
		return 0;
	}
	int fd = open_temp(path, o->tmp, sizeof o->tmp, mode);
	if (fd < 0)
		return err_set(e, STM32DFU_E_FILE_IO, "cannot write %s: %s", path, os_file_strerror(errno));
	o->f = fdopen(fd, "wb");
	if (!o->f) {
		int saved = errno;
		close(fd);
		unlink(o->tmp);
		return err_set(e, STM32DFU_E_FILE_IO, "cannot write %s: %s", path, strerror(saved));
	}
	return 0;
}

int file_out_open_append(struct file_out *o, const char *path, unsigned mode, struct err *e)
{
	int rc = file_out_open(o, path, mode, e);
	if (rc < 0)
		return rc;
	FILE *old = fopen(path, "rb");
	if (!old)
		return 0;
	char buf[65536];
	size_t got;
	while ((got = fread(buf, 1, sizeof buf, old)) > 0)
		file_out_write(o, buf, got);
	bool bad = ferror(old);
	fclose(old);
	if (bad || o->failed) {
		file_out_abort(o);
		return err_set(e, STM32DFU_E_FILE_IO, "cannot copy %s to extend it", path);
	}
	return 0;
}

bool file_out_write(struct file_out *o, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, o->f) != n)
		o->failed = true;
	return !o->failed;
}

void file_out_abort(struct file_out *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = '\0';
}

int file_out_commit(struct file_out *o, struct err *e)
{
	if (!o->f)
		return err_set(e, STM32DFU_E_FILE_IO, "cannot write %s", o->path);
	int saved = 0;
	bool ok = !o->failed && !ferror(o->f);
	if (!ok)
		saved = errno;
	if (ok && fflush(o->f) != 0) {
		ok = false;
		saved = errno;
	}
	if (ok && o->tmp[0] && !o->no_sync && os_fsync(fileno(o->f)) != 0) {
		ok = false;
		saved = errno;
	}
	if (fclose(o->f) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	o->f = NULL;
	if (!o->tmp[0])
		return ok ? 0 : err_set(e, STM32DFU_E_FILE_IO, "cannot write %s: %s", o->path, saved ? strerror(saved) : "write error");
	const char *why = "write error";
	if (ok && os_replace(o->tmp, o->path) != 0) {
		ok = false;
		saved = errno;
		why = os_file_strerror(saved); /* now: the unlink below may change the last error */
	} else if (saved) {
		why = strerror(saved);
	}
	if (!ok) {
		unlink(o->tmp);
		o->tmp[0] = '\0';
		return err_set(e, STM32DFU_E_FILE_IO, "cannot write %s: %s (the file is as it was)", o->path, why);
	}
	o->tmp[0] = '\0';
	if (o->no_sync)
		return 0;
	/* the rename itself must survive a power cut: sync the folder */
	char dir[sizeof o->path];
	size_t slash = 0;
	bool any = false;
	for (size_t i = 0; o->path[i]; i++)
		if (is_sep(o->path[i])) {
			slash = i;
			any = true;
		}
	if (any)
		snprintf(dir, sizeof dir, "%.*s", slash == 0 ? 1 : (int)slash, o->path);
	else
		snprintf(dir, sizeof dir, ".");
	os_sync_dir(dir);
	return 0;
}

int file_write_atomic(const char *path, const void *buf, size_t len, unsigned mode, struct err *e)
{
	struct file_out o;
	int rc = file_out_open(&o, path, mode, e);
	if (rc < 0)
		return rc;
	file_out_write(&o, buf, len);
	return file_out_commit(&o, e);
}
