/* write: plan first (read back the touched sectors), then erase what differs, program the
 * non-blank blocks in runs (one Set Address per run), verify by reading back. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "image/image.h"
#include "ops/ops.h"
#include "ops/vdd.h"
#include "ops/write_int.h"

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
	const struct layout_mem *fa = ops_flash_alt(s);
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
			if (!(ls.type & LAYOUT_WRITABLE) || k >= count)
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

static int select_alt(struct ops_session *s, uint8_t alt)
{
	int rc = s->t->ops->select(s->t, alt);
	if (rc < 0)
		s->err = s->t->err;
	return rc;
}

struct unsettled_ctx {
	struct ops_session *s;
	struct rescue *live;
};

static int note_unsettled(void *ctx, uint32_t addr, size_t len, struct err *e)
{
	struct unsettled_ctx *u = ctx;
	return wr_rescue_unsettled(u->s, u->live, addr, len, e);
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
	const struct layout_mem *fa = ops_flash_alt(s);
	for (size_t i = 0; i < img->n_segs; i++)
		if (img->segs[i].alt != 0) {
			free(sectors);
			return err_set(&s->err, STM32DFU_E_UNSUPPORTED,
			               "write: the file has data for alt setting %u; only flash (alt 0) is written "
			               "(option bytes: use {@ob-set})", img->segs[i].alt);
		}
	struct write_plan plan;
	struct rescue old, live;
	memset(&old, 0, sizeof old);
	memset(&live, 0, sizeof live);
	struct unsettled_ctx note = {s, &live};
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
		if ((rc = wr_rescue_unmatched(s)) < 0)
			return rc;
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
	w.block = malloc(s->t->max_transfer);
	w.back = malloc(s->t->max_transfer);
	if (!w.redo || !w.verified || !w.erased || !w.erase_ok || !w.programmed || !w.block || !w.back) {
		rc = err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
		goto out;
	}
	r->sectors_touched = (unsigned)plan.n_touched;
	r->image_bytes = img_total_bytes(img);
	if ((rc = wr_read_touched(s, &plan, alt, img, !have_old && !o->full, r)) < 0)
		goto out;
	/* an earlier write's file is applied only to the chip and the moment it belongs to */
	if (have_old && (rc = wr_rescue_check(s, &plan, &old)) < 0)
		goto out;
	if (have_old)
		wr_rescue_bases(&plan, &old);
	if ((rc = wr_confirm_kept(s, &plan, alt, img, o->full, r)) < 0)
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
	if ((rc = plan_build(&plan, img, 0, s->t->max_transfer, align, o->full, &s->err)) < 0)
		goto out;
	r->sectors_skipped = plan.sectors_skipped;
	r->runs = (unsigned)plan.n_runs;
	r->transfer_size = s->xfer_size && s->xfer_size < s->t->max_transfer ? s->xfer_size : s->t->max_transfer;
	for (size_t i = 0; i < plan.n_touched; i++)
		r->preserved_bytes += plan.touched[i].preserved_bytes;
	log_info("plan: %zu sectors touched, %u to erase, %u unchanged, %zu runs of %u blocks (%llu bytes)",
	         plan.n_touched, plan.sectors_to_erase, plan.sectors_skipped, plan.n_runs, plan.blocks,
	         (unsigned long long)plan.bytes_to_program);
	/* nothing is erased while a sector to erase is write-protected */
	if (plan.sectors_to_erase && (rc = wr_refuse_protected(s, &plan, &r->blocked_sector)) < 0)
		goto out;
	/* one mass erase instead of every sector, when that is faster and keeps nothing */
	wr_choose_mass(s, &plan, unit);
	/* nothing is erased before the bytes to keep are on disk */
	if (plan.sectors_to_erase && (rc = wr_rescue_save(s, &plan, img, have_old ? &old : NULL, r, &live)) < 0)
		goto out;
	if (live.path[0]) {
		/* a block left unanswered is noted in the file before the chip gets another byte */
		s->t->unsettled = note_unsettled;
		s->t->unsettled_ctx = &note;
	}
	/* the parallelism applies to the erase and the program alike: set it before both */
	if (o->set_range && plan.sectors_to_erase) {
		if ((rc = ops_vdd_apply(s, o->range)) < 0)
			goto out;
		r->range_set = o->range;
	}
	if ((rc = select_alt(s, alt)) < 0 || (rc = wr_erase_planned(&w)) < 0 ||
	    (!o->verify && (rc = wr_confirm_erased(&w)) < 0) || (rc = wr_program_runs(&w)) < 0)
		goto gave_up;
	/* sectors whose blocks came out wrong, then sectors that fail the verify: erase, rewrite,
	 * verify again, twice at most (a chip that keeps differing is not a link problem) */
	for (unsigned round = 0;; round++) {
		if ((rc = wr_rewrite_marked(&w)) < 0)
			goto gave_up;
		if (!o->verify)
			break;
		if ((rc = wr_verify_planned(&w)) < 0)
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
	s->t->unsettled = NULL;
	s->t->unsettled_ctx = NULL;
	rescue_free(&live);
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
