/* Shared by write.c and its steps (write_read, write_erase, write_program, write_verify) and
 * write_rescue.c (not part of the ops interface). */
#ifndef OPS_WRITE_INT_H
#define OPS_WRITE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"
#include "ops/plan.h"
#include "ops/rescue.h"
#include "ops/session.h"

/* What the program and verify steps share, and which sectors must be done again. */
struct wstate {
	struct ops_session *s;
	struct write_plan *plan;
	struct ops_write_result *r;
	uint8_t alt;
	bool *redo;       /* per touched sector: erase and rewrite it */
	bool *verified;   /* per touched sector: read back and equal since it was last written */
	bool *erased;     /* per touched sector: an erase was sent (its old contents may be gone) */
	bool *erase_ok;   /* per touched sector: the last erase completed */
	bool *programmed; /* per touched sector: a block was sent since that erase */
	uint8_t *block;
	uint8_t *back;
	uint64_t done;
	uint32_t chunk;   /* bytes per DNLOAD: -t or the device's wTransferSize, halved (rec_shrink) when the
	                   * chip STALLs a block or long ones keep failing */
};

static inline uint64_t wr_now_us(struct ops_session *s)
{
	return clock_now_us(ops_clock(s));
}

/* write_read.c: before the plan. Compares each touched sector (over USART, ops/compare.c when
 * compare) or reads it back into t->current, adjacent sectors as one run; counts r->read. */
int wr_read_touched(struct ops_session *s, struct write_plan *plan, uint8_t alt, const struct img *img,
                    bool compare, struct ops_write_result *r);
/* Reads each partly covered sector that will be erased a second time; the reads must agree. */
int wr_confirm_kept(struct ops_session *s, struct write_plan *plan, uint8_t alt, const struct img *img, bool full,
                    struct ops_write_result *r);

/* write_rescue.c: recover found no file for this chip's key: an error when that is because the
 * chip is read-protected (no UID to key it by) while files are pending in the folder. */
int wr_rescue_unmatched(struct ops_session *s);

/* write_erase.c: refuses (naming it in *blocked) a write-protected sector the plan would erase,
 * before anything is erased; erases the planned sectors; without a verify, reads the erased
 * sectors' first and last blocks back (ops_erase_confirm). */
int wr_refuse_protected(struct ops_session *s, const struct write_plan *plan, int *blocked);
/* Sets plan->mass_erase when one mass erase does the plan's erases faster (plan_mass_erase_pays
 * with the family's datasheet times at program width `width`), the bootloader offers it, the map
 * is the part's whole flash and the option bytes say no sector is write-protected. */
void wr_choose_mass(struct ops_session *s, struct write_plan *plan, unsigned width);
int wr_erase_planned(struct wstate *w);
int wr_confirm_erased(struct wstate *w);

/* write_program.c: programs the plan's runs; then erases and programs again the sectors marked
 * in w->redo. */
int wr_program_runs(struct wstate *w);
int wr_rewrite_marked(struct wstate *w);

/* write_verify.c: verifies every written sector not yet verified. 0: all equal; 1: some differ
 * (marked for a rewrite, the first difference in w->r); <0: an error. */
int wr_verify_planned(struct wstate *w);

/* ops/compare.c: where the ROM lists Get Checksum (AN3155 0xA1). Compares the image's bytes in
 * touched sector t (not read yet, no recovery base) with the chip's by CRC: 1 and t->current and
 * t->by_checksum set when decided (equal: skipped unread; the image covers it and it differs:
 * replaced whole, unread); 0 when the sector must be read back (a part of the image differs and
 * bytes must be kept, or the ROM cannot be asked); <0 an error. *differed: the last sector decided
 * differed (in: the next read starts with a short probe; the caller starts it true). */
int ops_compare_touched(struct ops_session *s, const struct img *img, struct plan_touched *t, bool *differed);
/* 1 when the chip's CRC of sector t equals the CRC of t->desired (verified without a read); 0: read back. */
int ops_compare_verify(struct ops_session *s, const struct plan_touched *t);
bool ops_can_checksum(const struct ops_session *s);
/* 1 when the ROM's CRC of [addr, addr+len) equals the CRC of want (no read needed); 0: read it. */
int ops_compare_range(struct ops_session *s, uint32_t addr, const uint8_t *want, size_t len);

/* Loads the chip's pending recovery file (if any) into old and adds its sectors to the plan
 * (they get their saved bytes back even where the new image does not reach). */
int wr_rescue_load(struct ops_session *s, struct write_plan *plan, const struct plan_sector *sectors, size_t n,
                   struct rescue *old, bool *have_old);

/* After the read-back, before anything is planned: old applies only if every saved sector holds
 * what an interrupted write leaves (rescue_consistent) and, for a key that is not unique, the rest
 * of the flash hashes as saved. Else STM32DFU_E_FILE_FORMAT naming the file and the sector. */
int wr_rescue_check(struct ops_session *s, const struct write_plan *plan, const struct rescue *old);

/* Points each touched sector that old saved at its saved bytes (plan_touched.base). */
void wr_rescue_bases(struct write_plan *plan, const struct rescue *old);

/* Before the first erase: saves every sector to be erased that the image covers only partly
 * (plus what old still holds) with the image's SHA-256 and the chip's key; names the file in r.
 * The file as saved goes to live (untouched when none was needed; rescue_free it). */
int wr_rescue_save(struct ops_session *s, const struct write_plan *plan, const struct img *img,
                   const struct rescue *old, struct ops_write_result *r, struct rescue *live);

/* A flash block [addr, addr+n) got no answer (target.h unsettled): before another byte goes to the
 * chip, the file saved in live notes that it may hold anything (when it lies in a saved sector),
 * saved again and held. <0: it could not be saved (the sentence in e). */
int wr_rescue_unsettled(struct ops_session *s, struct rescue *live, uint32_t addr, size_t n, struct err *e);

/* After a completed write (verified or not): deletes the file, which must never be applied again. */
int wr_rescue_finish(struct ops_session *s, const struct rescue *old, struct ops_write_result *r);

/* After a verify that matched: deletes the chip's recovery file when every sector it saved holds
 * all of what its write would have left (that write completed); names it in cleared. */
int wr_rescue_clear_done(struct ops_session *s, char *cleared, size_t cap);

/* Fills r->sectors from what this write did to each touched sector (finished: the write ran to
 * its end, so sectors erased and programmed without a verify count as new). */
void wr_sector_states(struct wstate *w, bool finished);

/* Appends each sector's state and the recovery file to the failure in s->err (and a hint). */
void wr_say_chip_state(struct wstate *w);

/* An image whose data lies in OTP memory alt (write_otp.c, every segment placed there by
 * write_mem.c): read, refuse 0->1 bits, program what differs, read back. check_only: the read and
 * the check only. */
int wr_otp(struct ops_session *s, const struct img *img, const struct layout_mem *alt, const struct ops_write_opts *o,
           struct ops_write_result *r, bool check_only);

/* The flash write (write.c): plan, erase what differs, program, verify, leave. */
int wr_flash(struct ops_session *s, const struct img *img, const struct ops_write_opts *o, struct ops_write_result *r);

/* write_mem.c: over USART, [addr, end) in the SRAM region but not inside the RAM the ROM serves (the
 * map's SRAM; AN2606's device table): the ROM NACKs Write and Read Memory there, so this sets
 * STM32DFU_E_RANGE naming the range before anything is sent ("<what> is in the RAM the ...
 * bootloader uses itself (...): its ROM refuses to <verb> there; nothing was <done>", hint "<fix> at
 * ... or above"). 0 on another link, outside the SRAM region, or inside the served RAM. */
int wr_uart_ram_refused(struct ops_session *s, const char *what, uint32_t addr, uint64_t end, const char *verb,
                        const char *done, const char *fix);

/* Programs [addr, addr+len) through alt in blocks of the transfer size, one Set Address per run,
 * stopping between two blocks on a stop request (E_CANCELED); counts blocks, runs and bytes in r,
 * and reports *done of total as OPS_PHASE_PROGRAM progress (write_mem.c). */
int wr_program(struct ops_session *s, uint8_t alt, uint32_t addr, const uint8_t *data, size_t len, uint64_t *done,
               uint64_t total, struct ops_write_result *r);

#endif
