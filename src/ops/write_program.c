/* write: programming the planned runs block by block (the transfer size chosen from the link),
 * what a failed block left on the chip, and the rewrite of sectors marked for it. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ops/ops.h"
#include "ops/recover.h"
#include "ops/write_int.h"

static void mark(const struct wstate *w, bool *flags, uint32_t a, uint32_t n)
{
	for (size_t i = 0; i < w->plan->n_touched; i++) {
		const struct plan_sector *sec = &w->plan->touched[i].sector;
		if ((uint64_t)a < (uint64_t)sec->start + sec->size && (uint64_t)a + n > sec->start)
			flags[i] = true;
	}
}

static bool all_erased(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return false;
	return true;
}

enum blk_state { BLK_DONE, BLK_BLANK, BLK_OTHER };

/* After a failed DNLOAD of [a, a+n) (w->block): re-sync, then read the block back to learn what the
 * chip did. Never rewrites blind: flash bits only clear, so a half-written block needs an erase. */
static int block_after_failure(struct wstate *w, int rc, uint32_t a, uint32_t n, bool spent, enum blk_state *out)
{
	struct ops_session *s = w->s;
	if (!spent && (!rec_worth_retry(s, rc) || !rec_spend(s, rc, "programming a block")))
		return rc;
	if ((rc = rec_resync(s, w->alt, rc)) < 0 || (rc = ops_read_mem(s, w->alt, a, w->back, n, -1)) < 0)
		return err_prefix(&s->err, "reading back the block at 0x%08X after a failure", a);
	*out = memcmp(w->back, w->block, n) == 0 ? BLK_DONE : all_erased(w->back, n) ? BLK_BLANK : BLK_OTHER;
	return 0;
}

/* The write chooser's cap: -t, or the device's wTransferSize, less after the chip refused longer. */
static void write_chooser(struct ops_session *s, uint32_t ts)
{
	uint32_t cap = s->xfer_size && s->xfer_size < ts ? s->xfer_size : ts; /* -t */
	if (!s->xa_write.cap)
		xfer_adapt_init(&s->xa_write, cap);
	else
		xfer_adapt_cap(&s->xa_write, cap);
}

/* Programs [addr, addr+len) from the plan: one Set Address, then blocks 2, 3, ... (the transcript of
 * a clean link); after a failure, a new Set Address at the failing block unless the chip's state
 * shows its pointer untouched. Each block's length comes from the chooser (ops/xfersize.h), which
 * weighs the loss and costs measured so far. */
static int program_range(struct wstate *w, uint32_t addr, uint32_t len)
{
	struct ops_session *s = w->s;
	const uint32_t ts = w->plan->transfer_size;
	uint32_t off = 0, base = addr;
	bool ptr_valid = false; /* the chip's pointer is at base and it is in dfuDNLOAD-IDLE */
	unsigned fails = 0;
	uint32_t piece_cap = 0; /* a block that keeps failing is split below the chosen size (0: none) */
	int rc;
	write_chooser(s, ts);
	while (off < len) {
		if (ops_canceled(s))
			return STM32DFU_E_CANCELED;
		uint64_t t0 = wr_now_us(s);
		uint32_t a = addr + off;
		w->chunk = xfer_adapt_next(&s->xa_write);
		if (piece_cap && w->chunk > piece_cap)
			w->chunk = piece_cap;
		uint32_t n = len - off < w->chunk ? len - off : w->chunk;
		/* the ROM places block k at pointer + (k - 2) x its own wTransferSize (protocol.md 2.2): a
		 * block elsewhere needs its own Set Address */
		if (!ptr_valid || (a - base) % ts != 0 || (a - base) / ts >= TARGET_MAX_RUN_PIECES) {
			if ((rc = rec_set_address(s, w->alt, a)) < 0)
				return err_prefix(&s->err, "write: run at 0x%08X", a);
			base = a;
			ptr_valid = true;
		}
		plan_desired_copy(w->plan, a, n, w->block);
		/* even a failed DNLOAD may have programmed some of it: the sector is no longer blank */
		mark(w, w->programmed, a, n);
		w->r->blocks++;
		/* the DNLOAD and its status polls apart: a failure of the DNLOAD itself comes before the
		 * chip could program anything */
		bool dnload_failed = false;
		rc = s->t->ops->dnload(s->t, a, w->block, n, &dnload_failed);
		if (rc == 0) {
			xfer_adapt_ok(&s->xa_write, n, wr_now_us(s) - t0);
			off += n;
			w->done += n;
			fails = 0;
			s->silent_in_row = 0;
			s->busy_in_row = 0;
			piece_cap = 0;
			ops_report(s, OPS_PHASE_PROGRAM, w->done, w->plan->bytes_to_program, "B");
			continue;
		}
		s->err = s->t->err;
		err_prefix(&s->err, "write: block at 0x%08X (%u bytes)", a, n);
		ptr_valid = false;
		uint32_t half;
		if (rc == STM32DFU_E_STALL && n > w->chunk / 2 &&
		    (half = rec_shrink(s, w->chunk, "the chip STALLed a data block")) != 0) {
			/* the device refusing the block's length, not a link fault: no retry spent. Early
			 * L43x ROMs advertise 2048 bytes and take 1024 (../shared/data/cubeprog/st-faq_and_L43x
			 * notes: dfu-util works with -t 1024) */
			xfer_adapt_cap(&s->xa_write, half);
			w->chunk = half;
			log_info("the chip refused a %u-byte block: programming in %u-byte blocks", n, half);
			if ((rc = rec_resync(s, w->alt, rc)) < 0 || (rc = ops_read_mem(s, w->alt, a, w->back, n, -1)) < 0)
				return err_prefix(&s->err, "reading back the block at 0x%08X after a refusal", a);
			if (!all_erased(w->back, n)) {
				log_info("the refused block at 0x%08X is not blank: its sector will be rewritten", a);
				mark(w, w->redo, a, n);
				off += n;
			}
			continue;
		}
		if (++fails > (n <= 64 ? 4u * s->opts.retries : s->opts.retries))
			return rc;
		/* a wedge (busy past every poll) is the chip's: a shorter block would only wedge more often */
		bool link_fault = (rc == STM32DFU_E_USB_IO || rc == STM32DFU_E_TIMEOUT) && !rec_busy_wedge(s, rc);
		bool spent = false;
		enum blk_state st = BLK_OTHER;
		if (link_fault && dnload_failed) {
			/* the DNLOAD itself failed: no GETSTATUS followed it, and the ROM programs a block only
			 * at the GETSTATUS after it (protocol.md 2.7a), so the block is not in the flash.
			 * GETSTATE shows where the chip is without making it act */
			if (!rec_spend(s, rc, "a data block"))
				return rc;
			spent = true;
			int state = TARGET_ST_OTHER;
			int q = rec_peek_state(s, &state);
			if (q == 0 && state == TARGET_ST_DNLOAD_IDLE) {
				ptr_valid = true; /* never reached it: the pointer is as it was, send it again */
				st = BLK_BLANK;
			} else if (q == 0 && state == TARGET_ST_IDLE) {
				st = BLK_BLANK;
			} else if (q == 0 && state == TARGET_ST_DNLOAD_SYNC) {
				/* the block arrived and waits for a GETSTATUS: ABORT drops it (DFU11 6.1.4) */
				if ((q = s->t->ops->abort(s->t, false)) == 0)
					st = BLK_BLANK;
				else
					s->err = s->t->err;
			}
			/* a lost GETSTATE or ABORT is a retry too; then the long way (also where the
			 * bootloader has no state to ask) */
			if (q < 0 && q != STM32DFU_E_UNSUPPORTED && !rec_spend(s, q, "a re-sync after a lost block"))
				return q;
		}
		if (st != BLK_BLANK && (rc = block_after_failure(w, rc, a, n, spent, &st)) < 0)
			return rc;
		if (link_fault) {
			/* the loss at this length, with what the recovery cost: the chooser weighs both */
			xfer_adapt_fail(&s->xa_write, n, wr_now_us(s) - t0);
			/* one block that keeps failing (protocol.md 4.4): split it, whatever the chooser says */
			if (fails >= (s->opts.retries > 2 ? s->opts.retries : 2u) && (half = rec_shrink(s, n, "a block keeps failing")) != 0) {
				piece_cap = half;
				fails = 1; /* a shorter block gets its own tries */
			}
		}
		if (st == BLK_BLANK) {
			log_info("the block at 0x%08X is still blank: programming it again", a);
			continue;
		}
		if (st == BLK_DONE) {
			log_info("the block at 0x%08X was programmed after all: going on", a);
			w->done += n;
		} else {
			log_info("the block at 0x%08X holds neither the image nor erased flash: its sector will be "
			         "erased, rewritten and verified", a);
			mark(w, w->redo, a, n);
		}
		off += n;
		fails = 0;
		piece_cap = 0;
	}
	return 0;
}

int wr_program_runs(struct wstate *w)
{
	uint64_t t0 = wr_now_us(w->s);
	int rc = 0;
	for (size_t i = 0; i < w->plan->n_runs && rc == 0; i++)
		rc = program_range(w, w->plan->runs[i].addr, w->plan->runs[i].len);
	w->r->program.bytes = w->done;
	w->r->program.us = wr_now_us(w->s) - t0;
	return rc;
}

/* Erases the sectors marked for it and programs their non-blank blocks again. */
int wr_rewrite_marked(struct wstate *w)
{
	struct ops_session *s = w->s;
	const uint32_t ts = w->plan->transfer_size;
	for (size_t i = 0; i < w->plan->n_touched; i++) {
		if (!w->redo[i])
			continue;
		struct plan_touched *t = &w->plan->touched[i];
		if (ops_canceled(s))
			return STM32DFU_E_CANCELED;
		w->redo[i] = false;
		w->verified[i] = false;
		w->programmed[i] = false;
		s->counters.rewrites++;
		log_info("rewriting sector %u at 0x%08X: erase, program, verify", t->sector.index, t->sector.start);
		w->erase_ok[i] = false;
		int rc = rec_erase(s, w->alt, t->sector.start, t->sector.size);
		if (rc < 0)
			return err_prefix(&s->err, "write: erasing sector %u again", t->sector.index);
		w->erase_ok[i] = true;
		/* runs of non-blank blocks, aligned to the sector start */
		for (uint32_t off = 0; off < t->sector.size;) {
			uint32_t n = t->sector.size - off < ts ? t->sector.size - off : ts;
			if (all_erased(t->desired + off, n)) {
				off += n;
				continue;
			}
			uint32_t end = off + n;
			while (end < t->sector.size) {
				uint32_t m = t->sector.size - end < ts ? t->sector.size - end : ts;
				if (all_erased(t->desired + end, m))
					break;
				end += m;
			}
			if ((rc = program_range(w, t->sector.start + off, end - off)) < 0)
				return rc;
			off = end;
		}
	}
	return 0;
}
