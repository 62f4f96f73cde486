/* write: plan first (read back the touched sectors), then erase what differs, program the
 * non-blank blocks in runs (one Set Address per run), verify by reading back. */
#include <stdlib.h>
#include <string.h>

#include "chip/ob.h"
#include "core/log.h"
#include "dfu/dfuse.h"
#include "image/image.h"
#include "ops/ops.h"

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
		return err_set(&s->err, STM32DFU_E_UNSUPPORTED, "the device names no flash memory in its alt settings");
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
	return clock_now_us(s->tp->clock);
}

static int select_alt(struct ops_session *s, uint8_t alt)
{
	if (s->dfu->alt == alt)
		return 0;
	int rc = dfu_set_alt(s->dfu, alt);
	if (rc < 0)
		s->err = s->dfu->err;
	return rc;
}

/* Reads back every touched sector, so the plan knows what is on the chip. */
static int read_touched(struct ops_session *s, struct write_plan *plan, uint8_t alt, struct ops_write_result *r)
{
	uint64_t total = 0, done = 0;
	for (size_t i = 0; i < plan->n_touched; i++)
		total += plan->touched[i].sector.size;
	uint64_t t0 = now_us(s);
	for (size_t i = 0; i < plan->n_touched; i++) {
		struct plan_touched *t = &plan->touched[i];
		t->current = malloc(t->sector.size);
		if (!t->current)
			return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
		int rc = ops_read_mem(s, alt, t->sector.start, t->current, t->sector.size, -1);
		if (rc < 0) {
			if (rc == STM32DFU_E_PROTECTED)
				err_hint(&s->err, "the chip is read-protected (RDP level 1): 'stm32dfu unprotect --yes' "
				                  "removes it and erases the flash");
			return err_prefix(&s->err, "write: reading back sector %u", t->sector.index);
		}
		done += t->sector.size;
		ops_report(s, OPS_PHASE_READ, done, total, "B");
	}
	r->read.bytes = total;
	r->read.us = now_us(s) - t0;
	return 0;
}

static int erase_planned(struct ops_session *s, struct write_plan *plan, struct ops_write_result *r)
{
	uint64_t t0 = now_us(s);
	unsigned done = 0;
	for (size_t i = 0; i < plan->n_touched; i++) {
		struct plan_touched *t = &plan->touched[i];
		if (t->action != PLAN_ERASE_PROGRAM)
			continue;
		int rc = dfuse_erase_page(s->dfu, t->sector.start);
		if (rc < 0) {
			s->err = s->dfu->err;
			return err_prefix(&s->err, "write: erasing sector %u at 0x%08X", t->sector.index, t->sector.start);
		}
		r->erase.bytes += t->sector.size;
		ops_report(s, OPS_PHASE_ERASE, ++done, plan->sectors_to_erase, "sectors");
	}
	r->sectors_erased = done;
	r->erase.us = now_us(s) - t0;
	return 0;
}

static int program_runs(struct ops_session *s, struct write_plan *plan, struct ops_write_result *r)
{
	uint64_t t0 = now_us(s);
	uint64_t done = 0;
	uint32_t ts = plan->transfer_size;
	uint8_t *block = malloc(ts);
	if (!block)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	int rc = 0;
	for (size_t i = 0; i < plan->n_runs && rc == 0; i++) {
		const struct plan_run *run = &plan->runs[i];
		if ((rc = dfuse_set_address(s->dfu, run->addr)) < 0) {
			s->err = s->dfu->err;
			err_prefix(&s->err, "write: run at 0x%08X: set address", run->addr);
			break;
		}
		uint32_t nblocks = (run->len + ts - 1) / ts;
		for (uint32_t b = 0; b < nblocks; b++) {
			uint32_t off = b * ts;
			uint32_t n = run->len - off < ts ? run->len - off : ts;
			/* a block may straddle two sectors, whose desired bytes live in separate buffers */
			for (uint32_t k = 0; k < n;) {
				uint32_t a = run->addr + off + k;
				const uint8_t *src = plan_desired_at(plan, a);
				uint32_t m = 1;
				while (k + m < n && plan_desired_at(plan, a + m) == src + m)
					m++;
				memcpy(block + k, src, m);
				k += m;
			}
			rc = dfu_dnload_wait(s->dfu, (uint16_t)(DFUSE_FIRST_DATA_BLOCK + b), block, (uint16_t)n,
			                     s->dfu->limits.program_ms);
			if (rc < 0) {
				s->err = s->dfu->err;
				err_prefix(&s->err, "write: block at 0x%08X (%u bytes)", run->addr + off, n);
				break;
			}
			done += n;
			ops_report(s, OPS_PHASE_PROGRAM, done, plan->bytes_to_program, "B");
		}
	}
	free(block);
	r->program.bytes = done;
	r->program.us = now_us(s) - t0;
	return rc;
}

/* The write-protected sector that explains a mismatch at addr, or -1 (nWRP from the option bytes). */
static int wrp_sector_of(struct ops_session *s, unsigned sector_index)
{
	const struct chip_family *fam = s->id.chip.family;
	if (!s->id.has_ob || !fam || !fam->ob)
		return -1;
	struct ob_decoded dec;
	if (ob_decode(fam, s->id.ob, s->id.ob_len, &dec, NULL) != 0)
		return -1;
	for (size_t i = 0; i < dec.n_fields; i++) {
		const struct ob_field_value *fv = &dec.fields[i];
		if (!fv->present || fv->field->kind != OB_K_NWRP)
			continue;
		if (sector_index < fv->field->width && !(fv->value & (1u << sector_index)))
			return (int)sector_index;
	}
	return -1;
}

static int verify_planned(struct ops_session *s, struct write_plan *plan, uint8_t alt, struct ops_write_result *r)
{
	uint64_t t0 = now_us(s);
	uint64_t total = 0, done = 0;
	for (size_t i = 0; i < plan->n_touched; i++)
		if (plan->touched[i].action == PLAN_ERASE_PROGRAM)
			total += plan->touched[i].sector.size;
	for (size_t i = 0; i < plan->n_touched; i++) {
		struct plan_touched *t = &plan->touched[i];
		if (t->action != PLAN_ERASE_PROGRAM)
			continue; /* skipped sectors were read back and compared while planning */
		/* reuse the read-back buffer: current is no longer needed */
		int rc = ops_read_mem(s, alt, t->sector.start, t->current, t->sector.size, -1);
		if (rc < 0)
			return err_prefix(&s->err, "write: verifying sector %u", t->sector.index);
		if (memcmp(t->current, t->desired, t->sector.size) != 0) {
			uint32_t k = 0;
			while (t->current[k] == t->desired[k])
				k++;
			r->mismatch = true;
			r->mismatch_addr = t->sector.start + k;
			r->expected = t->desired[k];
			r->actual = t->current[k];
			r->blocked_sector = wrp_sector_of(s, t->sector.index);
			if (r->blocked_sector >= 0) {
				err_set(&s->err, STM32DFU_E_PROTECTED,
				        "write: sector %u at 0x%08X is write-protected: the chip ignored the erase and "
				        "the writes (read 0x%02X at 0x%08X, expected 0x%02X)",
				        t->sector.index, t->sector.start, r->actual, r->mismatch_addr, r->expected);
				err_hint(&s->err, "clear the protection with 'stm32dfu ob set nWRP%u=1' (option bytes)", t->sector.index);
				return STM32DFU_E_PROTECTED;
			}
			err_set(&s->err, STM32DFU_E_VERIFY,
			        "write: verify failed in sector %u: read 0x%02X at 0x%08X, expected 0x%02X", t->sector.index,
			        r->actual, r->mismatch_addr, r->expected);
			err_hint(&s->err, "the flash does not hold the image; run 'stm32dfu doctor' to check the link");
			return STM32DFU_E_VERIFY;
		}
		done += t->sector.size;
		ops_report(s, OPS_PHASE_VERIFY, done, total, "B");
	}
	r->verify.bytes = total;
	r->verify.us = now_us(s) - t0;
	r->verified = true;
	return 0;
}

int ops_write(struct ops_session *s, const struct img *img, const struct ops_write_opts *o, struct ops_write_result *r)
{
	memset(r, 0, sizeof *r);
	r->blocked_sector = -1;
	err_clear(&s->err);
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
			               "(option bytes: use 'stm32dfu ob set')", img->segs[i].alt);
		}
	struct write_plan plan;
	rc = plan_touch(&plan, img, 0, sectors, n_sectors, limit_end, &s->err);
	free(sectors);
	if (rc < 0)
		goto out;
	r->sectors_touched = (unsigned)plan.n_touched;
	r->image_bytes = img_total_bytes(img);
	if ((rc = read_touched(s, &plan, fa->alt, r)) < 0)
		goto out;
	const struct chip_family *fam = s->id.chip.family;
	uint32_t align = fam && fam->write_align ? fam->write_align : 8;
	if ((rc = plan_build(&plan, img, 0, s->dfu->transfer_size, align, o->full, &s->err)) < 0)
		goto out;
	r->sectors_skipped = plan.sectors_skipped;
	r->runs = (unsigned)plan.n_runs;
	r->blocks = plan.blocks;
	for (size_t i = 0; i < plan.n_touched; i++)
		r->preserved_bytes += plan.touched[i].preserved_bytes;
	log_info("plan: %zu sectors touched, %u to erase, %u unchanged, %zu runs of %u blocks (%llu bytes)",
	         plan.n_touched, plan.sectors_to_erase, plan.sectors_skipped, plan.n_runs, plan.blocks,
	         (unsigned long long)plan.bytes_to_program);
	if ((rc = select_alt(s, fa->alt)) < 0 || (rc = erase_planned(s, &plan, r)) < 0 ||
	    (rc = program_runs(s, &plan, r)) < 0)
		goto out;
	r->bytes_programmed = r->program.bytes;
	if (o->verify && (rc = verify_planned(s, &plan, fa->alt, r)) < 0)
		goto out;
	if (o->leave) {
		bool probably;
		rc = ops_leave(s, o->have_leave_addr, o->leave_addr, &probably);
		r->left = rc == 0;
	}
out:
	plan_free(&plan);
	return rc;
}
