/*
 * Recovery files: what a write must not lose, kept on disk before anything is erased.
 *
 * Before the first erase, a write saves the read-back of every sector it will erase but does not
 * cover completely (the bytes outside the image live only there), the image's SHA-256 and the
 * chip's UID, in one file per chip: DIR/<UID>.recovery, where DIR is
 * $XDG_STATE_HOME/stm32dfu/recovery (else ~/.local/state/stm32dfu/recovery; for the emulator in
 * --sim mode, the recovery/ folder beside its state file, so each emulated chip has its own).
 * The file is written atomically (a temporary file, fsync, rename, fsync of the folder), so it is
 * either absent or complete. A later write to the same UID, or 'stm32dfu recover', takes the saved
 * bytes as the sector's old contents, and the file is deleted once the chip is verified to hold
 * them.
 *
 * Format (version 1): text lines, then raw sector data, then a checksum line:
 *     stm32dfu-recovery 1
 *     uid <24 hex digits>
 *     image-sha256 <64 hex digits>
 *     created <seconds since 1970>
 *     sectors <n>
 *     sector <index> <start, 0x...> <size>      (n lines, address order)
 *     data
 *     <the n sectors' bytes, back to back>
 *     sha256 <64 hex digits: SHA-256 of every byte before this line>
 */
#ifndef OPS_RESCUE_H
#define OPS_RESCUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/err.h"

struct img;

#define RESCUE_UID_CHARS 64 /* 24 hex digits; a chip without a UID is keyed "serial-<USB serial>" */
#define RESCUE_PATH_MAX 1024

struct rescue_sector {
	unsigned index;
	uint32_t start;
	uint32_t size;
	uint8_t *data;  /* size bytes: the sector as it was before the first erase */
};

struct rescue {
	char uid[RESCUE_UID_CHARS + 1];
	uint8_t image_sha256[32];
	int64_t created;
	struct rescue_sector *sectors;
	size_t n;
	char path[RESCUE_PATH_MAX];
};

/* The folder for a chip's recovery files: next to an emulator's state file when state_path is
 * given, else under $XDG_STATE_HOME (or ~/.local/state). STM32DFU_E_FILE_IO when neither is set. */
int rescue_dir(const char *state_path, char *buf, size_t cap, struct err *e);

/* The UID in recovery-file form (the three words as 'stm32dfu info' shows them, no spaces). */
void rescue_uid_text(const uint8_t uid[12], char out[RESCUE_UID_CHARS + 1]);

/* SHA-256 of an image: for each segment in order, its alt (1 byte), address and length (LE32),
 * then its bytes. */
void rescue_image_sha256(const struct img *img, uint8_t out[32]);

/* Loads DIR/<uid>.recovery. 1 when there is none, 0 when loaded (into r, rescue_free it), or an
 * error naming the file (unreadable, damaged). */
int rescue_load(const char *dir, const char *uid, struct rescue *r, struct err *e);

/* Writes r to DIR/<r->uid>.recovery atomically (and sets r->path). */
int rescue_save(const char *dir, struct rescue *r, struct err *e);

/* Adds a copy of a sector (replacing a saved one at the same start). */
int rescue_add(struct rescue *r, unsigned index, uint32_t start, uint32_t size, const uint8_t *data, struct err *e);

/* The saved sector starting at start, or NULL. */
const struct rescue_sector *rescue_find(const struct rescue *r, uint32_t start);

/* Deletes the file behind r (r->path). */
int rescue_remove(const struct rescue *r, struct err *e);

void rescue_free(struct rescue *r);

/* The pending recovery files in dir (their names' UIDs, sorted), heap array of n entries. */
int rescue_list(const char *dir, char (**uids)[RESCUE_UID_CHARS + 1], size_t *n, struct err *e);

#endif
