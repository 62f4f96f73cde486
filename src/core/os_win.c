/* core/os.h on Windows (mingw-w64). */
#include "core/os.h"

#include <direct.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <winsock2.h> /* before windows.h */
#include <windows.h>
#include <bcrypt.h>

int os_mkdir(const char *path, unsigned mode)
{
	(void)mode; /* folders under %LOCALAPPDATA% are the user's own */
	return _mkdir(path);
}

int os_fsync(int fd)
{
	return _commit(fd);
}

void os_sync_dir(const char *dir)
{
	(void)dir;
}

int os_replace(const char *from, const char *to)
{
	if (MoveFileExA(from, to, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
		return 0;
	DWORD w = GetLastError();
	if (w == ERROR_ACCESS_DENIED) {
		/* replacing a file another program holds open says "access denied": tell it from a
		 * read-only file by opening the target as a reader that shares everything */
		HANDLE h = CreateFileA(to, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
		                       OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
		if (h != INVALID_HANDLE_VALUE)
			CloseHandle(h);
		else if (GetLastError() == ERROR_SHARING_VIOLATION)
			w = ERROR_SHARING_VIOLATION;
		SetLastError(w); /* os_file_strerror reads it */
	}
	errno = w == ERROR_ACCESS_DENIED || w == ERROR_SHARING_VIOLATION ? EACCES
	        : w == ERROR_PATH_NOT_FOUND || w == ERROR_FILE_NOT_FOUND ? ENOENT
	        : w == ERROR_DISK_FULL ? ENOSPC : EIO;
	return -1;
}

const char *os_file_strerror(int errnum)
{
	DWORD w = GetLastError();
	if (w == ERROR_SHARING_VIOLATION || w == ERROR_LOCK_VIOLATION)
		return "in use by another program (a sharing violation): close it there, then try again";
	return strerror(errnum);
}

bool os_gmtime(time_t t, struct tm *out)
{
	return gmtime_s(out, &t) == 0;
}

char *os_abspath(const char *path)
{
	return _fullpath(NULL, path, 0);
}

bool os_hostname(char *buf, size_t cap)
{
	DWORD n = cap > 0xFFFF ? 0xFFFF : (DWORD)cap;
	return cap > 0 && GetComputerNameA(buf, &n) != 0;
}

int os_file_trylock(int fd)
{
	(void)fd;
	return -1;
}

bool os_random(void *buf, size_t n)
{
	return n <= 0xFFFFFFFFu &&
	       BCryptGenRandom(NULL, buf, (ULONG)n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) == 0;
}

int os_socket_wait(int fd, bool for_write, int ms)
{
	WSAPOLLFD p = {0};
	p.fd = (SOCKET)fd;
	p.events = for_write ? POLLWRNORM : POLLRDNORM;
	return WSAPoll(&p, 1, ms);
}

void *os_lib_open(const char *name, const char **why)
{
	HMODULE h = LoadLibraryA(name);
	if (!h && why)
		*why = "LoadLibrary failed";
	return (void *)h;
}

void *os_lib_sym(void *lib, const char *name)
{
	FARPROC f = GetProcAddress((HMODULE)lib, name);
	void *p;
	memcpy(&p, &f, sizeof p); /* a function pointer as data, as dlsym returns it */
	return p;
}

void os_lib_close(void *lib)
{
	FreeLibrary((HMODULE)lib);
}

const char *os_libpq_name(void)
{
	return "libpq.dll";
}

static volatile os_stop_fn stop_fn;

/* Runs on a thread of its own (SetConsoleCtrlHandler): it only calls the flag-setting handler. */
static BOOL WINAPI on_console_ctrl(DWORD type)
{
	os_stop_fn fn = stop_fn;
	if (!fn)
		return FALSE;
	if (type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT || type == CTRL_CLOSE_EVENT) {
		fn(SIGINT);
		/* a closed console window ends the process as soon as this returns (Windows allows about
		 * 5 s): wait here, so the main thread reaches its transfer boundary and says what the chip
		 * holds; its exit ends this wait */
		if (type == CTRL_CLOSE_EVENT)
			Sleep(4500);
		return TRUE;
	}
	return FALSE;
}

os_stop_fn os_stop_set(os_stop_fn fn)
{
	static bool installed;
	os_stop_fn old = stop_fn;
	stop_fn = fn;
	if (!installed) {
		SetConsoleCtrlHandler(on_console_ctrl, TRUE);
		installed = true;
	}
	return old;
}

struct os_memout {
	FILE *f;
};

FILE *os_memout_open(struct os_memout **out)
{
	/* no open_memstream: a temporary file that Windows deletes on close ("D"), kept in memory
	 * by the cache where it can ("T") */
	char dir[MAX_PATH + 1], path[MAX_PATH + 1];
	DWORD n = GetTempPathA(sizeof dir, dir);
	if (n == 0 || n > sizeof dir || GetTempFileNameA(dir, "s32", 0, path) == 0)
		return NULL;
	struct os_memout *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->f = fopen(path, "w+bTD");
	if (!m->f) {
		DeleteFileA(path);
		free(m);
		return NULL;
	}
	*out = m;
	return m->f;
}

bool os_memout_take(struct os_memout *m, char **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	bool ok = fflush(m->f) == 0 && fseek(m->f, 0, SEEK_END) == 0;
	long size = ok ? ftell(m->f) : -1;
	ok = ok && size >= 0 && fseek(m->f, 0, SEEK_SET) == 0;
	char *b = ok ? malloc((size_t)size + 1) : NULL;
	if (b && fread(b, 1, (size_t)size, m->f) == (size_t)size) {
		b[size] = '\0';
		*buf = b;
		*len = (size_t)size;
	} else {
		free(b);
		ok = false;
	}
	fclose(m->f);
	free(m);
	return ok;
}
