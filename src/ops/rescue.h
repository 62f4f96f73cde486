/*
 * Recovery files: what a write must not lose, kept on disk before anything is erased, and applied
 * only to the chip and the moment they belong to.
 *
 * Before the first erase, a write saves every sector it will erase but does not cover completely
 * (the bytes outside the image live only there). Per sector the file holds the bytes to keep (the
 * sector as read, twice, before the erase), the bytes the write would leave (the image's where it
 * has data, the kept ones elsewhere; a write that applied an older file adds its own, so a sector
 * may carry several) and a SHA-256 of both. One file per chip key: DIR/<KEY>.recovery, where KEY is
 * the chip's UID, or "serial-<USB serial>" for a chip whose UID cannot be read (every F0: the ROM
 * refuses the UID address). Such a key is not unique (all F0s report FFFFFFFEFFFF): the file then
 * also holds a SHA-256 of the rest of the flash (every sector the write did not erase), read before
 * the erase, so it is never trusted on the key alone; and it is named DIR/<KEY>.<ID>.recovery, one
 * per board. A file whose rest differs from the connected chip's is another chip's: it is left for
 * that chip (ops/write_rescue.c). DIR: see rescue_dir().
 *
 * The file is written atomically (a temporary file, fsync, rename, fsync of the folder), so it is
 * either absent or complete. A later write to the same chip, or 'stm32dfu recover', applies it only
 * when the chip's content of every saved sector is consistent with an interrupted write: each byte
 * erased (0xFF), the kept byte, or a byte the write would have left; and, for a key that is not
 * unique, the rest of the flash still hashes the same. Anything else is another chip's file or
 * another time's: it is kept, nothing is written, and the error names the file and the sector. A
 * write that completed (verified or not) deletes it, as does a 'verify' that finds every saved
 * sector as the write left it.
 *
 * A flash block whose request got no answer may hold anything until its sector is erased again:
 * over USART a Write Memory frame two bytes short is completed by the next bytes on the line and
 * may be programmed shifted (docs/usart.md). The write adds such a block to its file (unsettled)
 * before it sends another byte; its bytes are then not checked when the file is applied, and the
 * block never counts as a finished write (rescue_consistent, and ops/'s verify that ends a file
 * needs every sector to hold one target in full).
 *
 * Format (version 2; version 3 when blocks are unsettled): text lines, then raw sector data, then
 * a checksum line:
 *     stm32dfu-recovery 2                       (3: with the unsettled lines below)
 *     key <UID, 24 hex digits | serial-... | path-...>
 *     unique <yes | no>
 *     image-sha256 <64 hex digits>
 *     created <seconds since 1970>
 *     rest-sha256 <64 hex digits | ->          (- for a unique key)
 *     erased <n>
 *     range <start, 0x...> <size>               (n lines: every sector the write erases)
 *     unsettled <m>                             (version 3 only)
 *     block <start, 0x...> <size>               (m lines: blocks that may hold anything)
 *     sectors <n>
 *     sector <index> <start, 0x...> <size> <targets> <SHA-256 of kept then targets>   (n lines)
 *     data
 *     <per sector: the kept bytes, then each target's bytes, back to back>
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
#define RESCUE_ID_CHARS 12   /* a key that is not unique: KEY.ID, one file per board */
#define RESCUE_NAME_CHARS (RESCUE_UID_CHARS + 1 + RESCUE_ID_CHARS)
#define RESCUE_PATH_MAX 1024
#define RESCUE_MAX_TARGETS 8 /* interrupted writes in a row over one sector, each applying the last */

struct rescue_sector {
	unsigned index;
	uint32_t start;
	uint32_t size;
	uint8_t *data;     /* size bytes: the sector as it was before the first erase (to keep) */
	uint8_t *targets;  /* n_targets x size bytes: what each interrupted write would have left */
	unsigned n_targets;
	uint8_t sha256[32]; /* of data, then targets */
};

struct rescue_range {
	uint32_t start;
	uint32_t size;
};

struct rescue {
	char uid[RESCUE_UID_CHARS + 1]; /* the chip's key */
	bool unique;                    /* a UID; else a serial or path another chip may share */
	uint8_t image_sha256[32];
	int64_t created;
	bool have_rest;
	uint8_t rest_sha256[32];        /* the flash outside the erased ranges (keys that are not unique) */
	struct rescue_range *erased;    /* every sector the write erases, address order */
	size_t n_erased;
	struct rescue_range *unsettled; /* flash blocks left unanswered: any bytes (version 3) */
	size_t n_unsettled;
	struct rescue_sector *sectors;
	size_t n;
	char path[RESCUE_PATH_MAX];
	int hold; /* the file open and locked (os_file_trylock) while a write runs on it: fd + 1, 0: none */
	int save_errno; /* why rescue_save could not write the file (the OS's errno), 0: it did */
};

/* rescue_load: the file is held (locked) by a write running now, in this process or another */
#define RESCUE_IN_USE 2

/* The folder for recovery files, the first of: next to an emulator's state file when state_path
 * is given; $STM32DFU_RECOVERY_DIR; $XDG_STATE_HOME/stm32dfu/recovery; ~/.local/state/stm32dfu/
 * recovery; $XDG_CACHE_HOME/stm32dfu/recovery; $XDG_RUNTIME_DIR/stm32dfu/recovery (a unit or
 * container with no HOME: it does not survive a reboot, but survives the failed write). XDG
 * variables that are not absolute paths are ignored (XDG Base Directory spec). STM32DFU_E_FILE_IO
 * naming the variables when none is set. */
int rescue_dir(const char *state_path, char *buf, size_t cap, struct err *e);

/* The UID in recovery-file form (the three words as 'stm32dfu info' shows them, no spaces). */
void rescue_uid_text(const uint8_t uid[12], char out[RESCUE_UID_CHARS + 1]);

/* SHA-256 of an image: for each segment in order, its alt (1 byte), address and length (LE32),
 * then its bytes. */
void rescue_image_sha256(const struct img *img, uint8_t out[32]);

/* The key part of a file name's stem (KEY or KEY.ID); false when it is not one. */
bool rescue_name_key(const char *name, char key[RESCUE_UID_CHARS + 1]);

/* Loads DIR/<name>.recovery, name a key or KEY.ID (rescue_list), and holds it: open and locked
 * (where the system has such locks) until rescue_free, so that no other write takes it meanwhile.
 * 1 when there is none, RESCUE_IN_USE when a write running now holds it (a chip being written:
 * its own file, left alone), 0 when loaded (into r, rescue_free it), or an error naming the file
 * (unreadable, damaged). */
int rescue_load(const char *dir, const char *uid, struct rescue *r, struct err *e);

/* Writes r atomically to r->path when set (a file loaded before), else DIR/<KEY>.recovery, or for a
 * key that is not unique DIR/<KEY>.<ID>.recovery (ID: 12 random hex digits, so two boards' files
 * never share a name, even with the same content); sets r->path, and holds the new file (as
 * rescue_load does) until rescue_free or rescue_hold_take. */
int rescue_save(const char *dir, struct rescue *r, struct err *e);

/* Adds a sector: the bytes to keep and what the write leaves there (target); a sector saved
 * already keeps its kept bytes and gains the target (its older targets stay allowed). */
int rescue_add(struct rescue *r, unsigned index, uint32_t start, uint32_t size, const uint8_t *data,
               const uint8_t *target, struct err *e);

/* Adds an erased range (address order, merged with a saved one at the same start). */
int rescue_add_erased(struct rescue *r, uint32_t start, uint32_t size, struct err *e);

/* Adds a block that may hold anything (nothing when a block already listed holds it). */
int rescue_add_unsettled(struct rescue *r, uint32_t start, uint32_t size, struct err *e);

/* Whether [start, start+size) lies inside an erased range. */
bool rescue_erases(const struct rescue *r, uint32_t start, uint32_t size);

/* Whether current (the chip's sector rs of r now) is what an interrupted write leaves: every byte
 * 0xFF, the kept byte, a target's byte, or in one of r's unsettled blocks. false: *at is the
 * offset of the first byte that is none. */
bool rescue_consistent(const struct rescue *r, const struct rescue_sector *rs, const uint8_t *current, uint32_t *at);

/* The saved sector starting at start, or NULL. */
const struct rescue_sector *rescue_find(const struct rescue *r, uint32_t start);

/* Deletes the file behind r (r->path). */
int rescue_remove(const struct rescue *r, struct err *e);

void rescue_free(struct rescue *r);

/* Hands r's hold over to the caller: the fd + 1 (0: none), for close_hold after the write. */
int rescue_hold_take(struct rescue *r);
void rescue_hold_close(int hold);

/* The pending recovery files in dir (their names' stems, KEY or KEY.ID, sorted), heap array of n
 * entries. */
int rescue_list(const char *dir, char (**uids)[RESCUE_NAME_CHARS + 1], size_t *n, struct err *e);

#endif
