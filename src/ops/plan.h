/*
 * The write plan: decide, before touching the chip, which sectors to erase and which blocks to
 * program. Pure logic (no I/O), so it is unit-tested directly.
 *
 * Rules (the "plan first, then act"):
 *  - a sector whose current contents already equal the image is skipped (no erase, no program);
 *  - a sector that differs is erased and then holds exactly: the image's bytes where the image has
 *    data, and the sector's previous bytes elsewhere (nothing outside the image is lost);
 *  - after an erase only non-blank chunks are programmed; chunks are wTransferSize long, aligned to
 *    the start of each contiguous erased range, and consecutive chunks form one run (one Set Address
 *    Pointer, then blocks 2, 3, 4...);
 *  - --full erases and programs every touched sector even when unchanged.
 */
#ifndef OPS_PLAN_H
#define OPS_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct img;

struct plan_sector {
	uint32_t start;
	uint32_t size;
	unsigned index;     /* sector number as the chip counts (for messages and erase) */
};

enum plan_action {
	PLAN_SKIP = 0,       /* contents already right */
	PLAN_ERASE_PROGRAM,  /* erase, then program its non-blank chunks */
};

struct plan_touched {
	struct plan_sector sector;
	enum plan_action action;
	uint8_t *current;    /* what the chip holds now (read back before planning) */
	const uint8_t *base; /* NULL, or the sector's contents from before an unfinished write (a
	                        recovery file): the bytes outside the image come from here */
	uint8_t *desired;    /* what it must hold afterwards */
	uint32_t image_bytes;     /* bytes of the image in this sector */
	uint32_t preserved_bytes; /* non-blank bytes outside the image that the plan rewrites */
	int8_t by_checksum;  /* 0: current was read back; 1: the ROM's Get Checksum found the image's
	                        bytes there (skipped, the rest unread); -1: the image covers the sector
	                        and the CRC differs (replaced whole; current not read) */
};

struct plan_run {
	uint32_t addr;
	uint32_t len;         /* bytes; blocks are transfer_size long but the last may be shorter */
};

struct write_plan {
	struct plan_touched *touched;
	size_t n_touched;
	struct plan_run *runs;
	size_t n_runs;
	size_t cap_runs;
	uint32_t transfer_size;
	uint32_t align;       /* program granularity (F7: 8 bytes, AN2606 programming constraints) */
	uint64_t bytes_to_program;
	unsigned sectors_to_erase;
	unsigned sectors_skipped;
	unsigned blocks;      /* DNLOAD data blocks in all runs */
	bool mass_erase;      /* one mass erase does the erases (plan_mass_erase_pays) */
};

/*
 * Step 1: the sectors the image's segments of alt touch, in address order. Fails with
 * STM32DFU_E_RANGE naming the first address outside every sector (or past limit_end, the
 * chip's real flash end from its flash-size register; 0 = no limit).
 */
int plan_touch(struct write_plan *plan, const struct img *img, uint8_t alt, const struct plan_sector *sectors,
               size_t n_sectors, uint32_t limit_end, struct err *e);

/* Adds a sector outside the image to the touched set (address order; no-op if already there):
 * a recovery file's sector that must get its old bytes back. */
int plan_add_sector(struct write_plan *plan, const struct plan_sector *sector, struct err *e);

/* Step 2: after the caller filled every touched[i].current, decide actions and runs. */
int plan_build(struct write_plan *plan, const struct img *img, uint8_t alt, uint32_t transfer_size, uint32_t align,
               bool full, struct err *e);

/*
 * Step 3, after plan_build: whether one mass erase does the plan's erases in less time than the
 * sectors one by one. Yes when every sector of flash[0..n) (the part's whole flash) is to be
 * erased, none keeps a byte outside the image (preserved_bytes 0: the image and erased bytes are
 * all it will hold, so no recovery file holds anything of it), and mass_ms is below the sum of
 * sector_ms[0..n) (the datasheet's typical times, flash's order; any 0 = unknown: no). Sets
 * plan->mass_erase. Pure: whether the bootloader can and the write protection allows it is the
 * caller's to check.
 */
bool plan_mass_erase_pays(struct write_plan *plan, const struct plan_sector *flash, size_t n,
                          const unsigned *sector_ms, unsigned mass_ms);

/* The desired byte at addr (inside a touched sector), for programming and verifying. */
const uint8_t *plan_desired_at(const struct write_plan *plan, uint32_t addr);

/* Copies n desired bytes from addr into out, one memcpy per touched sector the range crosses
 * (a block may straddle two sectors, whose bytes live in separate buffers). */
void plan_desired_copy(const struct write_plan *plan, uint32_t addr, uint32_t n, uint8_t *out);

void plan_free(struct write_plan *plan);

#endif
