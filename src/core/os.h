/*
 * What differs between POSIX and Windows, in one place: the rest of the tree calls these and never
 * names a platform. os_posix.c and os_win.c implement them (meson.build picks one).
 */
#ifndef CORE_OS_H
#define CORE_OS_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

/* open() flags that one side lacks: Windows has no symlinks to refuse (file.c checks reparse
 * points) and no exec; POSIX has no text mode, which Windows must be told not to use */
#ifdef _WIN32
#define O_NOFOLLOW 0
#define O_CLOEXEC 0
#define O_DIRECTORY 0
#else
#define O_BINARY 0
#endif

/* Creates one folder (its parent must exist); mode is POSIX permission bits, ignored on Windows.
 * 0, or -1 with errno (EEXIST when it is there already). */
int os_mkdir(const char *path, unsigned mode);

/* Durable files: flush a descriptor to the disk; make a rename in dir survive a power cut (POSIX
 * fsyncs the folder; NTFS journals it); rename over an existing file (MoveFileEx on Windows, whose
 * rename() refuses an existing target). 0, or -1 with errno. */
int os_fsync(int fd);
void os_sync_dir(const char *dir);
int os_replace(const char *from, const char *to);
/* What a file call that just failed with errnum met, in words: strerror, except on Windows where
 * a file another program holds open (a sharing violation) is said so, not "Permission denied".
 * Call it right after the failure (it reads the thread's last Windows error). */
const char *os_file_strerror(int errnum);

/* Takes an exclusive advisory lock on an open file, without waiting (flock: held per open file,
 * so two opens in one process exclude each other too; released when fd is closed). 0 locked, 1
 * held by someone else, -1 not supported (Windows: its locks would block the file's rename and
 * deletion) or failed. */
int os_file_trylock(int fd);

/* gmtime that is thread-safe on both (gmtime_r / gmtime_s) */
bool os_gmtime(time_t t, struct tm *out);

/* The absolute, normalised form of path (malloc'd), or NULL. */
char *os_abspath(const char *path);

/* This machine's name, for the programming log's station field; false if unknown. */
bool os_hostname(char *buf, size_t cap);

/* n bytes from the system's random source (getrandom / BCryptGenRandom); false if it failed. */
bool os_random(void *buf, size_t n);

/* Waits up to ms for a socket (libpq's PQsocket) to be readable, or writable: poll here, WSAPoll
 * there. >0 ready, 0 timed out, <0 error. */
int os_socket_wait(int fd, bool for_write, int ms);

/* A shared library and its symbols: libpq.so.5 here, libpq.dll there. */
void *os_lib_open(const char *name, const char **why);
void *os_lib_sym(void *lib, const char *name);
void os_lib_close(void *lib);
/* libpq's file name on this platform */
const char *os_libpq_name(void);

/*
 * Stop requests: Ctrl-C and SIGTERM on POSIX (SA_RESTART, so a transfer in progress completes),
 * Ctrl-C, Ctrl-Break and console close on Windows (SetConsoleCtrlHandler, which calls the handler on
 * its own thread). The handler may only set a flag. os_stop_set returns the handler it replaced.
 */
typedef void (*os_stop_fn)(int);
os_stop_fn os_stop_set(os_stop_fn fn);

/* A stream that writes into memory (open_memstream on POSIX, a delete-on-close temporary file on
 * Windows); os_memout_take closes it and hands over the bytes (NUL-terminated, free() them). */
struct os_memout;
FILE *os_memout_open(struct os_memout **out);
bool os_memout_take(struct os_memout *m, char **buf, size_t *len);

#endif
