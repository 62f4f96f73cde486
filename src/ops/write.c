/* write: plan first (read back the touched sectors), then erase what differs, program the
 * non-blank blocks in runs (one Set Address per run), verify by reading back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chip/ob.h"
#include "core/log.h"
#include "image/image.h"
#include "ops/ops.h"
#include "ops/rdpnote.h"
#include "ops/recover.h"
#include "ops/vdd.h"
#include "ops/write_int.h"
#include "ops/wrp.h"

void ops_write_opts_init(struct ops_write_opts *o)
{
	memset(o, 0, sizeof *o);
	o->verify = true;
}

int ops_flash_sectors(struct ops_session *s, struct plan_sector **out, size_t *n, uint32_t *limit_end)
{
	*out = NULL;
	*n = 0;
	*limit_end = 0;
	const struct dfu_alt *fa = ops_flash_alt(s);
	if (!fa || !fa->have_layout)
		return ops_no_flash(s);
	size_t count = 0;
	for (unsigned r = 0; r < fa->layout.n_regions; r++)
		for (unsigned g = 0; g < fa->layout.regions[r].n_groups; g++)
			count += fa->layout.regions[r].groups[g].count;
	struct plan_sector *sec = calloc(count ? count : 1, sizeof *sec);
	if (!sec)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	size_t k = 0;
	for (unsigned r = 0; r < fa->layout.n_regions; r++) {
		struct layout_sector ls;
		for (unsigned i = 0; layout_sector_at(&fa->layout, r, i, &ls); i++) {
			if (!(ls.type & DFUSE_MEM_WRITABLE) || k >= count)
				continue;
			sec[k++] = (struct plan_sector){ls.start, ls.size, ls.index};
		}
	}
	*out = sec;
	*n = k;
	/* real ROMs advertise the die's flash, not the part's: the flash-size register bounds writes */
	ops_identify(s);
	if (s->id.has_flash_size && s->id.flash_size_kb != 0 && s->id.flash_size_kb != 0xFFFF && fa->layout.n_regions)
		*limit_end = fa->layout.regions[0].start + (uint32_t)s->id.flash_size_kb * 1024u;
	return 0;
}

static uint64_t now_us(struct ops_session *s)
{
	return clock_now_us(ops_clock(s));
}

static int select_alt(struct ops_session *s, uint8_t alt)
{
	int rc = s->t->ops->select(s->t, alt);
	if (rc < 0)
		s->err = s->t->err;
	return rc;
}

/* Reads back every touched sector, so the plan knows what is on the chip. */
/* Bytes of the image inside [start, start+size) (segments do not overlap). */
static uint64_t image_bytes_in(const struct img *img, uint32_t start, uint32_t size)
{
	uint64_t sum = 0, hi_sec = (uint64_t)start + size;
	for (size_t k = 0; k < img->n_segs; k++) {
		const struct img_seg *seg = &img->segs[k];
		uint64_t lo = seg->addr > start ? seg->addr : start;
		uint64_t hi = (uint64_t)seg->addr + seg->len < hi_sec ? (uint64_t)seg->addr + seg->len : hi_sec;
		if (seg->alt == 0 && lo < hi)
			sum += hi - lo;
	}
	return sum;
}

/* Whether the image's bytes in touched sector t differ from what the chip holds (the sector
 * will be erased). */
static bool image_differs(const struct img *img, const struct plan_touched *t)
{
	for (size_t k = 0; k < img->n_segs; k++) {
		const struct img_seg *seg = &img->segs[k];
		uint64_t lo = seg->addr > t->sector.start ? seg->addr : t->sector.start;
		uint64_t hi_seg = (uint64_t)seg->addr + seg->len, hi_sec = (uint64_t)t->sector.start + t->sector.size;
		uint64_t hi = hi_seg < hi_sec ? hi_seg : hi_sec;
		if (seg->alt == 0 && lo < hi &&
		    memcmp(seg->data + (lo - seg->addr), t->current + (lo - t->sector.start), (size_t)(hi - lo)) != 0)
			return true;
	}
	return false;
}

/*
 * A sector the image covers only partly keeps its other bytes through an erase by writing back
 * what was read, and the verify compares against that same copy: a bit flipped in that read (past
 * USB's CRC16) would be written back as "kept" and verified. So every such sector that will be
 * erased is read a second time before anything is erased, and the reads must agree (ops_read_again
 * reads on until two in a row do). One extra read of the partly covered sectors only: sectors the
 * image covers completely (the verify checks them) and sectors whose kept bytes come from a
 * recovery file pay nothing.
 */
static int confirm_kept(struct ops_session *s, struct write_plan *plan, uint8_t alt, const struct img *img, bool full,
                        struct ops_write_result *r)
{
	for (size_t i = 0; i < plan->n_touched; i++) {
		struct plan_touched *t = &plan->touched[i];
		if (t->base || image_bytes_in(img, t->sector.start, t->sector.size) >= t->sector.size ||
		    (!full && !image_differs(img, t)))
			continue;
		uint64_t t0 = now_us(s);
		char differ[48];
		snprintf(differ, sizeof differ, "two reads of sector %u differ", t->sector.index);
		int rc = ops_read_again(s, alt, t->sector.start, t->current, t->sector.size, -1, differ,
		                        "confirming the bytes to keep");
		r->read.bytes += t->sector.size;
		r->read.us += now_us(s) - t0;
		if (rc < 0)
			return err_prefix(&s->err, "write: nothing was erased: reading back sector %u", t->sector.index);
	}
	return 0;
}

static int read_touched(struct ops_session *s, struct write_plan *plan, uint8_t alt, const struct img *img,
                        bool compare, struct ops_write_result *r)
{
	uint64_t total = 0;
	uint64_t t0 = now_us(s);
	if (ops_canceled(s))
		return STM32DFU_E_CANCELED;
	/* over USART, sectors are compared first (ops/compare.c: Get Checksum, or a read up to the first
	 * difference of a sector the image covers): one found equal, or to be replaced whole, is not
	 * read whole */
	uint64_t compared0 = s->counters.compare_read_bytes;
	for (size_t i = 0; compare && i < plan->n_touched; i++) {
		int rc = ops_compare_touched(s, img, &plan->touched[i]);
		if (rc < 0)
			return err_prefix(&s->err, "write: comparing sector %u", plan->touched[i].sector.index);
	}
	total = s->counters.compare_read_bytes - compared0;
	for (size_t i = 0; i < plan->n_touched; i++)
		total += plan->touched[i].current ? 0 : plan->touched[i].sector.size;
	/* adjacent sectors are read as one run: each Set Address costs a status poll (~100 ms on the ROM) */
	for (size_t i = 0; i < plan->n_touched;) {
		if (plan->touched[i].current) {
			i++;
			continue;
		}
		size_t j = i + 1;
		uint64_t span = plan->touched[i].sector.size;
		while (j < plan->n_touched && !plan->touched[j].current &&
		       plan->touched[j].sector.start == (uint64_t)plan->touched[i].sector.start + span) {
			span += plan->touched[j].sector.size;
			j++;
		}
		uint8_t *buf = malloc((size_t)span);
		if (!buf)
			return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
		int rc = ops_read_mem(s, alt, plan->touched[i].sector.start, buf, (size_t)span, OPS_PHASE_READ);
		if (rc < 0) {
			free(buf);
			if (rc == STM32DFU_E_PROTECTED)
				err_hint(&s->err, "%s", ops_rdp_hint(s));
			return err_prefix(&s->err, "write: reading back sector %u", plan->touched[i].sector.index);
		}
		for (size_t k = i, off = 0; k < j; k++) {
			struct plan_touched *t = &plan->touched[k];
			t->current = malloc(t->sector.size);
			if (!t->current) {
				free(buf);
				return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
			}
			memcpy(t->current, buf + off, t->sector.size);
			off += t->sector.size;
		}
		free(buf);
		i = j;
	}
	r->read.bytes = total;
	r->read.us = now_us(s) - t0;
	return 0;
}

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
		uint64_t t0 = now_us(s);
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
			xfer_adapt_ok(&s->xa_write, n, now_us(s) - t0);
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
			xfer_adapt_fail(&s->xa_write, n, now_us(s) - t0);
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

static int erase_planned(struct wstate *w)
{
	struct ops_session *s = w->s;
	struct write_plan *plan = w->plan;
	uint64_t t0 = now_us(s);
	unsigned done = 0;
	for (size_t i = 0; i < plan->n_touched; i++) {
		struct plan_touched *t = &plan->touched[i];
		if (t->action != PLAN_ERASE_PROGRAM)
			continue;
		if (ops_canceled(s)) {
			w->r->erase.us = now_us(s) - t0;
			return STM32DFU_E_CANCELED;
		}
		w->erased[i] = true; /* even a failed erase may have cleared it */
		if (rec_erase(s, w->alt, t->sector.start, t->sector.size) < 0) {
			w->r->erase.us = now_us(s) - t0;
			return err_prefix(&s->err, "write: erasing sector %u at 0x%08X", t->sector.index, t->sector.start);
		}
		w->erase_ok[i] = true;
		w->r->sectors_erased++; /* counted as it happens, so a failure later reports it too */
		w->r->erase.bytes += t->sector.size;
		ops_report(s, OPS_PHASE_ERASE, ++done, plan->sectors_to_erase, "sectors");
	}
	w->r->erase.us = now_us(s) - t0;
	return 0;
}

/* Without a verify nothing else reads the erased sectors back: their first and last blocks are,
 * so that a sector the chip did not erase (protection the option bytes do not show, wear) fails
 * here instead of being reported written. */
static int confirm_erased(struct wstate *w)
{
	struct plan_sector *secs = calloc(w->plan->n_touched ? w->plan->n_touched : 1, sizeof *secs);
	if (!secs)
		return err_set(&w->s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	size_t n = 0, proven = 0;
	for (size_t i = 0; i < w->plan->n_touched; i++)
		if (w->erase_ok[i])
			secs[n++] = w->plan->touched[i].sector;
	int rc = n ? ops_erase_confirm(w->s, w->alt, secs, n, &proven) : 0;
	free(secs);
	if (rc == 0)
		return 0;
	/* the sectors not read back blank are not "erased": their state is not proven */
	for (size_t i = 0, k = 0; i < w->plan->n_touched; i++)
		if (w->erase_ok[i] && k++ >= proven)
			w->erase_ok[i] = false;
	return err_prefix(&w->s->err, "write");
}

static int program_runs(struct wstate *w)
{
	uint64_t t0 = now_us(w->s);
	int rc = 0;
	for (size_t i = 0; i < w->plan->n_runs && rc == 0; i++)
		rc = program_range(w, w->plan->runs[i].addr, w->plan->runs[i].len);
	w->r->program.bytes = w->done;
	w->r->program.us = now_us(w->s) - t0;
	return rc;
}

/* Erases the sectors marked for it and programs their non-blank blocks again. */
static int rewrite_marked(struct wstate *w)
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

/* Whether the option bytes write-protect touched sector t (1), with the 'ob set' assignment. */
static int wrp_protects(struct ops_session *s, const struct plan_touched *t, char *clear, size_t cap)
{
	return ops_wrp_sector(s, &t->sector, clear, cap);
}

/* Before anything is erased: every sector the plan would erase must be writable (the ROM would
 * ignore the erase and the writes of a protected one without an error). */
static int refuse_protected(struct ops_session *s, const struct write_plan *plan, int *blocked)
{
	struct plan_sector *secs = calloc(plan->n_touched ? plan->n_touched : 1, sizeof *secs);
	if (!secs)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < plan->n_touched; i++)
		if (plan->touched[i].action == PLAN_ERASE_PROGRAM)
			secs[n++] = plan->touched[i].sector;
	int rc = ops_wrp_refuse(s, "write", secs, n, NULL);
	free(secs);
	for (size_t i = 0; rc < 0 && s->err.code == STM32DFU_E_PROTECTED && i < plan->n_touched; i++) {
		char clear[96];
		if (plan->touched[i].action == PLAN_ERASE_PROGRAM && wrp_protects(s, &plan->touched[i], clear, sizeof clear) == 1) {
			*blocked = (int)plan->touched[i].sector.index;
			break;
		}
	}
	return rc;
}

static bool needs_verify(const struct wstate *w, size_t i)
{
	return w->plan->touched[i].action == PLAN_ERASE_PROGRAM && !w->verified[i];
}

/* Compares sector i's read-back (in t->current) with the image. A read differs: one more read of
 * that sector tells a flipped bit on the link from wrong flash before anything is erased again.
 * 0: equal; 1: differs (marked for a rewrite, the first difference in r); <0: an error. */
static int judge_sector(struct wstate *w, size_t i)
{
	struct ops_session *s = w->s;
	struct ops_write_result *r = w->r;
	struct plan_touched *t = &w->plan->touched[i];
	w->verified[i] = memcmp(t->current, t->desired, t->sector.size) == 0;
	if (!w->verified[i]) {
		err_set(&s->err, STM32DFU_E_VERIFY, "sector %u differs", t->sector.index);
		if (!rec_spend(s, STM32DFU_E_VERIFY, "verify"))
			return STM32DFU_E_VERIFY;
		if (ops_read_mem(s, w->alt, t->sector.start, t->current, t->sector.size, -1) < 0)
			return err_prefix(&s->err, "write: verifying sector %u", t->sector.index);
		w->verified[i] = memcmp(t->current, t->desired, t->sector.size) == 0;
	}
	if (w->verified[i])
		return 0;
	uint32_t k = 0;
	while (t->current[k] == t->desired[k])
		k++;
	r->mismatch = true;
	r->mismatch_addr = t->sector.start + k;
	r->expected = t->desired[k];
	r->actual = t->current[k];
	char clear[96];
	if (wrp_protects(s, t, clear, sizeof clear) == 1) {
		r->blocked_sector = (int)t->sector.index;
		err_set(&s->err, STM32DFU_E_PROTECTED,
		        "write: sector %u at 0x%08X is write-protected: the chip ignored the erase and "
		        "the writes (read 0x%02X at 0x%08X, expected 0x%02X)",
		        t->sector.index, t->sector.start, r->actual, r->mismatch_addr, r->expected);
		err_hint(&s->err, "lift the write protection with {@ob-set %s} (option bytes)", clear);
		return STM32DFU_E_PROTECTED;
	}
	err_set(&s->err, STM32DFU_E_VERIFY, "write: verify failed in sector %u: read 0x%02X at 0x%08X, expected 0x%02X",
	        t->sector.index, r->actual, r->mismatch_addr, r->expected);
	w->redo[i] = true;
	return 1;
}

/* Reads back every written sector not yet verified, adjacent sectors as one run (one Set Address
 * each, as the read-back before planning). 0: all equal; 1: some differ (marked for a rewrite,
 * the first difference in r); <0: an error. */
static int verify_planned(struct wstate *w)
{
	struct ops_session *s = w->s;
	struct write_plan *plan = w->plan;
	uint64_t t0 = now_us(s);
	uint64_t total = 0, done = 0;
	int differ = 0;
	/* sectors whose CRC the ROM gives equal to the desired bytes need no read (ops/compare.c) */
	for (size_t i = 0; i < plan->n_touched; i++)
		if (needs_verify(w, i) && ops_compare_verify(s, &plan->touched[i]) == 1) {
			w->verified[i] = true;
			done += plan->touched[i].sector.size;
		}
	total = done;
	for (size_t i = 0; i < plan->n_touched; i++)
		if (needs_verify(w, i))
			total += plan->touched[i].sector.size;
	for (size_t i = 0; i < plan->n_touched;) {
		if (!needs_verify(w, i)) {
			i++; /* skipped sectors were compared while planning (read back, or by CRC) */
			continue;
		}
		if (ops_canceled(s))
			return STM32DFU_E_CANCELED;
		size_t j = i + 1;
		uint64_t span = plan->touched[i].sector.size;
		while (j < plan->n_touched && needs_verify(w, j) &&
		       plan->touched[j].sector.start == (uint64_t)plan->touched[i].sector.start + span)
			span += plan->touched[j++].sector.size;
		uint8_t *buf = malloc((size_t)span);
		if (!buf)
			return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
		int rc = ops_read_mem(s, w->alt, plan->touched[i].sector.start, buf, (size_t)span, -1);
		if (rc < 0) {
			free(buf);
			return err_prefix(&s->err, "write: verifying sector %u", plan->touched[i].sector.index);
		}
		/* the read-back buffers are no longer needed: they take what was read */
		for (size_t k = i, off = 0; k < j; off += plan->touched[k].sector.size, k++)
			memcpy(plan->touched[k].current, buf + off, plan->touched[k].sector.size);
		free(buf);
		for (size_t k = i; k < j; k++) {
			if ((rc = judge_sector(w, k)) < 0)
				return rc;
			differ |= rc;
			if (rc == 0)
				done += plan->touched[k].sector.size;
			ops_report(s, OPS_PHASE_VERIFY, done, total, "B");
		}
		i = j;
	}
	w->r->verify.bytes += total;
	w->r->verify.us += now_us(s) - t0;
	return differ;
}

static int write_run(struct ops_session *s, const struct img *img, const struct ops_write_opts *o,
                     struct ops_write_result *r, bool recover_only)
{
	memset(r, 0, sizeof *r);
	r->blocked_sector = -1;
	r->range_set = -1;
	err_clear(&s->err);
	if (o->set_range && ops_vdd_check(s) < 0)
		return s->err.code; /* refused before any work */
	struct plan_sector *sectors = NULL;
	size_t n_sectors = 0;
	uint32_t limit_end = 0;
	int rc = ops_flash_sectors(s, &sectors, &n_sectors, &limit_end);
	if (rc < 0)
		return rc;
	const struct dfu_alt *fa = ops_flash_alt(s);
	for (size_t i = 0; i < img->n_segs; i++)
		if (img->segs[i].alt != 0) {
			free(sectors);
			return err_set(&s->err, STM32DFU_E_UNSUPPORTED,
			               "write: the file has data for alt setting %u; only flash (alt 0) is written "
			               "(option bytes: use {@ob-set})", img->segs[i].alt);
		}
	struct write_plan plan;
	struct rescue old;
	memset(&old, 0, sizeof old);
	bool have_old = false;
	rc = plan_touch(&plan, img, 0, sectors, n_sectors, limit_end, &s->err);
	if (rc == 0)
		rc = wr_rescue_load(s, &plan, sectors, n_sectors, &old, &have_old);
	free(sectors);
	if (rc < 0) {
		plan_free(&plan);
		rescue_free(&old);
		return rc;
	}
	if (recover_only && !have_old) {
		plan_free(&plan);
		return 1; /* nothing pending for this chip */
	}
	uint8_t alt = fa->alt;
	struct wstate w = {s, &plan, r, alt, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0};
	size_t nt = plan.n_touched ? plan.n_touched : 1;
	w.redo = calloc(nt, sizeof *w.redo);
	w.verified = calloc(nt, sizeof *w.verified);
	w.erased = calloc(nt, sizeof *w.erased);
	w.erase_ok = calloc(nt, sizeof *w.erase_ok);
	w.programmed = calloc(nt, sizeof *w.programmed);
	w.block = malloc(s->dfu->transfer_size);
	w.back = malloc(s->dfu->transfer_size);
	if (!w.redo || !w.verified || !w.erased || !w.erase_ok || !w.programmed || !w.block || !w.back) {
		rc = err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
		goto out;
	}
	r->sectors_touched = (unsigned)plan.n_touched;
	r->image_bytes = img_total_bytes(img);
	if ((rc = read_touched(s, &plan, alt, img, !have_old && !o->full, r)) < 0)
		goto out;
	/* an earlier write's file is applied only to the chip and the moment it belongs to */
	if (have_old && (rc = wr_rescue_check(s, &plan, &old)) < 0)
		goto out;
	if (have_old)
		wr_rescue_bases(&plan, &old);
	if ((rc = confirm_kept(s, &plan, alt, img, o->full, r)) < 0)
		goto out;
	const struct chip_family *fam = s->id.chip.family;
	uint32_t align = fam && fam->write_align ? fam->write_align : 8;
	/* the bootloader's own unit: AN3155 Write Memory takes whole words (AN3155 3.6) */
	if (s->t->write_align > align)
		align = s->t->write_align;
	/* --vdd: the flash then takes whole units of the range's parallelism (x16: 2, x32: 4 bytes;
	 * RM0090 PGPERR otherwise): every block, the last one too, is a whole number of them, padded
	 * with the erased bytes after it (runs only end inside erased sectors) */
	uint32_t unit = o->set_range ? ops_vdd_unit(o->range) : 1;
	if (unit > align)
		align = unit;
	if (o->set_range && s->xfer_size % align) {
		rc = err_set(&s->err, STM32DFU_E_USAGE, "{@xfer} %u: not a whole number of the %u-byte program units of "
		             "voltage range %d (%s); nothing was written", s->xfer_size, align, o->range,
		             ops_vdd_range_text(o->range));
		uint32_t down = s->xfer_size / align * align;
		err_hint(&s->err, "give {@xfer} a multiple of %u, e.g. {@xfer} %u", align, down ? down : align);
		goto out;
	}
	if ((rc = plan_build(&plan, img, 0, s->dfu->transfer_size, align, o->full, &s->err)) < 0)
		goto out;
	r->sectors_skipped = plan.sectors_skipped;
	r->runs = (unsigned)plan.n_runs;
	r->transfer_size = s->xfer_size && s->xfer_size < s->dfu->transfer_size ? s->xfer_size : s->dfu->transfer_size;
	for (size_t i = 0; i < plan.n_touched; i++)
		r->preserved_bytes += plan.touched[i].preserved_bytes;
	log_info("plan: %zu sectors touched, %u to erase, %u unchanged, %zu runs of %u blocks (%llu bytes)",
	         plan.n_touched, plan.sectors_to_erase, plan.sectors_skipped, plan.n_runs, plan.blocks,
	         (unsigned long long)plan.bytes_to_program);
	/* nothing is erased while a sector to erase is write-protected */
	if (plan.sectors_to_erase && (rc = refuse_protected(s, &plan, &r->blocked_sector)) < 0)
		goto out;
	/* nothing is erased before the bytes to keep are on disk */
	if (plan.sectors_to_erase && (rc = wr_rescue_save(s, &plan, img, have_old ? &old : NULL, r)) < 0)
		goto out;
	/* the parallelism applies to the erase and the program alike: set it before both */
	if (o->set_range && plan.sectors_to_erase) {
		if ((rc = ops_vdd_apply(s, o->range)) < 0)
			goto out;
		r->range_set = o->range;
	}
	if ((rc = select_alt(s, alt)) < 0 || (rc = erase_planned(&w)) < 0 ||
	    (!o->verify && (rc = confirm_erased(&w)) < 0) || (rc = program_runs(&w)) < 0)
		goto gave_up;
	/* sectors whose blocks came out wrong, then sectors that fail the verify: erase, rewrite,
	 * verify again, twice at most (a chip that keeps differing is not a link problem) */
	for (unsigned round = 0;; round++) {
		if ((rc = rewrite_marked(&w)) < 0)
			goto gave_up;
		if (!o->verify)
			break;
		if ((rc = verify_planned(&w)) < 0)
			goto gave_up;
		if (rc == 0)
			break;
		if (round >= 2) {
			rc = STM32DFU_E_VERIFY;
			err_hint(&s->err, "the sector still differs after erasing and rewriting it twice: the flash may be "
			                  "worn or protected; {@doctor} checks the link and the protection");
			goto gave_up;
		}
	}
	r->bytes_programmed = w.done;
	r->verified = o->verify;
	wr_sector_states(&w, true);
	err_clear(&s->err); /* the retries' messages are history now */
	/* the write completed (verified or not): its recovery file has done its job */
	if ((rc = wr_rescue_finish(s, have_old ? &old : NULL, r)) < 0)
		goto out;
	if (o->leave) {
		/* the application's vector table is at the image's lowest flash address (segments are
		 * sorted by alt, then address; only alt 0 was written) */
		bool have = o->have_leave_addr || img->n_segs;
		uint32_t at = o->have_leave_addr ? o->leave_addr : img->n_segs ? img->segs[0].addr : 0;
		rc = ops_leave(s, have, at, &r->leave);
		r->left = rc == 0;
	}
	goto out;
gave_up:
	r->bytes_programmed = w.done;
	if (ops_canceled(s))
		rc = STM32DFU_E_CANCELED;
	wr_sector_states(&w, false);
	wr_say_chip_state(&w);
out:
	if (w.chunk)
		r->transfer_size = w.chunk; /* what the last block was sent with */
	if (rc < 0 && ops_canceled(s)) {
		r->canceled = true;
		rc = STM32DFU_E_CANCELED;
	}
	if (rc < 0 && w.erased && w.erase_ok && w.programmed && w.verified)
		wr_sector_states(&w, false); /* before any erase: every sector is still what it was */
	free(w.redo);
	free(w.verified);
	free(w.erased);
	free(w.erase_ok);
	free(w.programmed);
	free(w.block);
	free(w.back);
	plan_free(&plan);
	rescue_free(&old);
	rescue_hold_close(s->rescue_hold); /* the write is over: its file is no longer held */
	s->rescue_hold = 0;
	return rc;
}

int wr_flash(struct ops_session *s, const struct img *img, const struct ops_write_opts *o, struct ops_write_result *r)
{
	return write_run(s, img, o, r, false);
}

int ops_recover_apply(struct ops_session *s, const struct ops_write_opts *o, struct ops_write_result *r)
{
	struct img *none = img_new();
	if (!none)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	int rc = write_run(s, none, o, r, true);
	img_free(none);
	return rc;
}
