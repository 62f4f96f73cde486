/* core/os.h on Linux (and other POSIX systems). */
#include "core/os.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int os_mkdir(const char *path, unsigned mode)
{
	return mkdir(path, (mode_t)mode);
}

int os_fsync(int fd)
{
	return fsync(fd);
}

void os_sync_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
}

int os_replace(const char *from, const char *to)
{
	return rename(from, to);
}

const char *os_file_strerror(int errnum)
{
	return strerror(errnum);
}

bool os_gmtime(time_t t, struct tm *out)
{
	return gmtime_r(&t, out) != NULL;
}

char *os_abspath(const char *path)
{
	return realpath(path, NULL);
}

bool os_hostname(char *buf, size_t cap)
{
	if (cap == 0 || gethostname(buf, cap) != 0)
		return false;
	buf[cap - 1] = '\0';
	return true;
}

int os_file_trylock(int fd)
{
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	return errno == EWOULDBLOCK ? 1 : -1;
}

bool os_random(void *buf, size_t n)
{
	return getrandom(buf, n, 0) == (ssize_t)n;
}

int os_socket_wait(int fd, bool for_write, int ms)
{
	struct pollfd p = {.fd = fd, .events = for_write ? POLLOUT : POLLIN};
	return poll(&p, 1, ms);
}

void *os_lib_open(const char *name, const char **why)
{
	void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!h && why)
		*why = dlerror();
	return h;
}

void *os_lib_sym(void *lib, const char *name)
{
	return dlsym(lib, name);
}

void os_lib_close(void *lib)
{
	dlclose(lib);
}

const char *os_libpq_name(void)
{
	return "libpq.so.5";
}

os_stop_fn os_stop_set(os_stop_fn fn)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn ? fn : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART; /* a transfer in progress completes (libusb retries its wait) */
	sigaction(SIGINT, &sa, &old);
	sigaction(SIGTERM, &sa, NULL);
	return old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN ? NULL : old.sa_handler;
}

struct os_memout {
	FILE *f;
	char *buf;
	size_t len;
};

FILE *os_memout_open(struct os_memout **out)
{
	struct os_memout *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->f = open_memstream(&m->buf, &m->len);
	if (!m->f) {
		free(m);
		return NULL;
	}
	*out = m;
	return m->f;
}

bool os_memout_take(struct os_memout *m, char **buf, size_t *len)
{
	bool ok = fclose(m->f) == 0 && m->buf;
	*buf = m->buf;
	*len = ok ? m->len : 0;
	free(m);
	return ok;
}
