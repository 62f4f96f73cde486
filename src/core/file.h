/* Files: whole-file input, atomic output (temporary file beside the target + rename), and the
 * private state folders (owned by us, 0700, never through a symlink). */
#ifndef CORE_FILE_H
#define CORE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

/* Reads path into a new heap buffer (free() it; one spare byte holds a NUL, so text can be parsed
 * as a string). STM32DFU_E_FILE_IO naming the file and the OS's reason, or NO_MEMORY. */
int file_read_all(const char *path, uint8_t **out, size_t *len, struct err *e);
/* The same for regular files only (FILE_IO otherwise: a device, a FIFO, a directory), refusing
 * one larger than max bytes (0: no limit) with FILE_FORMAT before reading anything. */
int file_read_all_max(const char *path, uint64_t max, uint8_t **out, size_t *len, struct err *e);
/* Windows: the device name path's last part is (CON, PRN, AUX, NUL, COM1-9, LPT1-9, in any case,
 * with any extension: "nul.bin" is NUL), copied to buf; NULL when it names a file, and always on
 * other systems. Reading or writing such a name reaches the device, never a file. */
const char *file_device_name(const char *path, char *buf, size_t cap);
/* The error for a file named so: "PATH: NUL is a Windows device name, not a file ..." with a hint. */
int file_device_name_error(struct err *e, const char *what, const char *path, const char *dev);

/* mkdir -p of dir, mode 0700. FILE_IO naming the folder that could not be made and the OS's
 * reason; errno is left as the failing mkdir set it. For folders the user named (--log-dir). */
int file_make_dirs(const char *dir, struct err *e);
/* The same for the folders leading to a file path (not the file itself). */
int file_make_parent_dirs(const char *path, struct err *e);

/*
 * A folder that holds our records (state, recovery files, link notes, the log), checked the way
 * ssh checks ~/.ssh. Its last n_ours components are ours: each is created 0700 where missing, and
 * one that exists must be a real folder (not a symlink), owned by us, with no access for group or
 * others. The components before them are the user's (e.g. $XDG_STATE_HOME): created 0700 where
 * missing, and each must be owned by us or root and not writable by others unless sticky (/tmp),
 * so nobody else can swap our folder. FILE_IO naming the folder, what is wrong and the fix.
 */
int file_private_dir(const char *dir, unsigned n_ours, struct err *e);

/*
 * Our state folder: $XDG_STATE_HOME/stm32dfu (an absolute XDG_STATE_HOME only: the XDG spec says a
 * relative one is ignored), else $HOME/.local/state/stm32dfu; then "/sub" when sub is not empty.
 * file_state_path only computes it (false when neither variable is usable or it does not fit);
 * file_state_dir also creates and checks it (file_private_dir, "stm32dfu" and below are ours).
 */
bool file_state_path(const char *sub, char *buf, size_t cap);
int file_state_dir(const char *sub, char *buf, size_t cap, struct err *e);

/*
 * Atomic output: everything goes to a new temporary file beside path (created O_EXCL|O_NOFOLLOW,
 * so a planted symlink is never followed), which replaces path only in file_out_commit, after
 * fflush and fsync. Until then path is untouched; file_out_abort (or a failed commit) removes the
 * temporary file, so a failure leaves the old file as it was and no partial file.
 * mode: 0600 for records, 0666 for the user's outputs (the umask applies). A path that is a device
 * or a pipe (/dev/stdout, /dev/null) is written directly: it cannot be replaced.
 */
struct file_out {
	FILE *f;
	char path[4096];
	char tmp[4096 + 32];
	bool failed; /* a write through file_out_write failed */
	bool no_sync;
};
/* Or'ed into mode: renamed into place without fsync (the emulator's state: a power cut may lose
 * it, but it is never half written); records and the user's outputs are synced. */
#define FILE_OUT_NO_SYNC 0x10000u
int file_out_open(struct file_out *o, const char *path, unsigned mode, struct err *e);
/* As file_out_open, starting with a copy of path's current content (an append that is atomic). */
int file_out_open_append(struct file_out *o, const char *path, unsigned mode, struct err *e);
/* fwrite to o->f, remembering a failure for commit. */
bool file_out_write(struct file_out *o, const void *p, size_t n);
/* Flushes, syncs and renames into place. On any failure: FILE_IO naming path and the OS's reason,
 * the temporary file removed, path untouched. o->f is closed either way. */
int file_out_commit(struct file_out *o, struct err *e);
void file_out_abort(struct file_out *o);
/* The whole of buf to path, atomically (the three calls above). */
int file_write_atomic(const char *path, const void *buf, size_t len, unsigned mode, struct err *e);

#endif
