/* Whole-file input: the one place that reads a file into memory (firmware files, transcripts). */
#ifndef CORE_FILE_H
#define CORE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Reads path into a new heap buffer (free() it; one spare byte holds a NUL, so text can be parsed
 * as a string). STM32DFU_E_FILE_IO naming the file and the OS's reason, or NO_MEMORY. */
int file_read_all(const char *path, uint8_t **out, size_t *len, struct err *e);
/* The same for regular files only (FILE_IO otherwise: a device, a FIFO, a directory), refusing
 * one larger than max bytes (0: no limit) with FILE_FORMAT before reading anything. */
int file_read_all_max(const char *path, uint64_t max, uint8_t **out, size_t *len, struct err *e);

/* mkdir -p of dir, mode 0700 (the folders hold firmware, logs and notes). FILE_IO naming the folder
 * that could not be made and the OS's reason; errno is left as the failing mkdir set it. */
int file_make_dirs(const char *dir, struct err *e);
/* The same for the folders leading to a file path (not the file itself). */
int file_make_parent_dirs(const char *path, struct err *e);

#endif
