/* write into OTP memory (issue 15 item 4): one-time programmable, never erased. The range is read
 * first; a write that would need a bit to go from 0 to 1 is refused before anything is written,
 * bytes already equal are skipped, and what is programmed is read back. */
#include <stdlib.h>
#include <string.h>

#include "dfu/dfuse.h"
#include "image/image.h"
#include "ops/ops.h"
#include "ops/write_int.h"

static bool is_otp(const struct dfu_alt *a)
{
	return a->have_layout && strstr(a->layout.name, "OTP") != NULL;
}

/* The OTP alt and region holding addr (for a segment of alt 0 or of that alt), or NULL. */
static const struct dfu_alt *otp_at(const struct ops_session *s, const struct img_seg *seg,
                                    const struct layout_region **rg)
{
	for (unsigned i = 0; i < s->dfu->n_alts; i++) {
		const struct dfu_alt *a = &s->dfu->alts[i];
		if (!is_otp(a) || (seg->alt != 0 && seg->alt != a->alt))
			continue;
		for (unsigned r = 0; r < a->layout.n_regions; r++) {
			const struct layout_region *g = &a->layout.regions[r];
			if (seg->addr >= g->start && (uint64_t)seg->addr < (uint64_t)g->start + g->length) {
				*rg = g;
				return a;
			}
		}
	}
	return NULL;
}

/* Checks every OTP segment against what the chip holds; 0 when all can be programmed. */
static int check_bits(struct ops_session *s, uint32_t addr, const uint8_t *want, const uint8_t *old, size_t len,
                      size_t *differ)
{
	for (size_t k = 0; k < len; k++) {
		if (want[k] & (uint8_t)~old[k]) {
			err_set(&s->err, STM32DFU_E_RANGE,
			        "OTP byte at 0x%08X holds 0x%02X and cannot become 0x%02X: OTP bits can only be cleared, "
			        "never set again", (unsigned)(addr + k), old[k], want[k]);
			err_hint(&s->err, "nothing was written; 'stm32dfu read 0x%08X %zu' shows what the OTP holds",
			         addr, len);
			return STM32DFU_E_RANGE;
		}
		*differ += want[k] != old[k];
	}
	return 0;
}

int wr_otp(struct ops_session *s, const struct img *img, const struct ops_write_opts *o, struct ops_write_result *r,
           bool *handled)
{
	*handled = false;
	const struct dfu_alt *alt = NULL;
	bool other = false;
	for (size_t i = 0; i < img->n_segs; i++) {
		const struct img_seg *seg = &img->segs[i];
		if (seg->len == 0)
			continue;
		const struct layout_region *rg = NULL;
		const struct dfu_alt *a = otp_at(s, seg, &rg);
		if (!a) {
			other = true;
			continue;
		}
		uint64_t end = (uint64_t)seg->addr + seg->len;
		if (end > (uint64_t)rg->start + rg->length)
			return err_set(&s->err, STM32DFU_E_RANGE, "image data at 0x%08X-0x%08X runs past the end of %s at 0x%08X",
			               seg->addr, (unsigned)(end - 1), a->layout.name, (unsigned)(rg->start + rg->length));
		if (alt && alt != a)
			other = true;
		alt = a;
	}
	if (!alt)
		return 0;
	*handled = true;
	memset(r, 0, sizeof *r);
	r->blocked_sector = -1;
	r->range_set = -1;
	r->otp = true;
	if (other) {
		err_set(&s->err, STM32DFU_E_USAGE, "the file has data both in %s and in other memory", alt->layout.name);
		err_hint(&s->err, "write the OTP bytes from a file of their own");
		return STM32DFU_E_USAGE;
	}
	if (!o->otp_ok) {
		err_set(&s->err, STM32DFU_E_NEEDS_CONFIRMATION,
		        "the file writes %s at 0x%08X: OTP bytes can be programmed only once and never erased",
		        alt->layout.name, img->segs[0].addr);
		err_hint(&s->err, "check the bytes, then add --i-understand-otp-is-permanent");
		return STM32DFU_E_NEEDS_CONFIRMATION;
	}
	r->image_bytes = img_total_bytes(img);
	/* read everything first: nothing is programmed unless every segment can be */
	uint8_t **old = calloc(img->n_segs ? img->n_segs : 1, sizeof *old);
	if (!old)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	int rc = 0;
	size_t differ = 0;
	uint64_t t = clock_now_us(s->tp->clock);
	for (size_t i = 0; i < img->n_segs && rc == 0; i++) {
		const struct img_seg *seg = &img->segs[i];
		if (seg->len == 0)
			continue;
		if (!(old[i] = malloc(seg->len)))
			rc = err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
		else if ((rc = ops_read_mem(s, alt->alt, seg->addr, old[i], seg->len, OPS_PHASE_READ)) == 0)
			rc = check_bits(s, seg->addr, seg->data, old[i], seg->len, &differ);
		r->read.bytes += seg->len;
	}
	r->read.us = clock_now_us(s->tp->clock) - t;
	t = clock_now_us(s->tp->clock);
	/* program only the segments that change; programming the equal bytes again is harmless (AND) */
	for (size_t i = 0; i < img->n_segs && rc == 0 && differ; i++) {
		const struct img_seg *seg = &img->segs[i];
		if (seg->len == 0 || memcmp(seg->data, old[i], seg->len) == 0)
			continue;
		if (s->dfu->alt != alt->alt && (rc = dfu_set_alt(s->dfu, alt->alt)) < 0) {
			s->err = s->dfu->err;
			break;
		}
		if ((rc = dfuse_write(s->dfu, seg->addr, seg->data, seg->len)) < 0) {
			s->err = s->dfu->err;
			break;
		}
		r->bytes_programmed += seg->len;
		r->blocks++;
		r->runs++;
	}
	r->program.us = clock_now_us(s->tp->clock) - t;
	r->program.bytes = r->bytes_programmed;
	t = clock_now_us(s->tp->clock);
	/* read back every segment, changed or not: success only for what is on the chip */
	for (size_t i = 0; i < img->n_segs && rc == 0 && o->verify; i++) {
		const struct img_seg *seg = &img->segs[i];
		if (seg->len == 0)
			continue;
		if ((rc = ops_read_mem(s, alt->alt, seg->addr, old[i], seg->len, OPS_PHASE_VERIFY)) < 0)
			break;
		for (size_t k = 0; k < seg->len; k++)
			if (old[i][k] != seg->data[k]) {
				r->mismatch = true;
				r->mismatch_addr = seg->addr + (uint32_t)k;
				r->expected = seg->data[k];
				r->actual = old[i][k];
				rc = err_set(&s->err, STM32DFU_E_VERIFY, "%s at 0x%08X reads 0x%02X after programming 0x%02X",
				             alt->layout.name, r->mismatch_addr, r->actual, r->expected);
				err_hint(&s->err, "the OTP block may be locked (its lock byte is programmed)");
				break;
			}
		r->verify.bytes += seg->len;
	}
	r->verify.us = clock_now_us(s->tp->clock) - t;
	if (rc == 0)
		r->verified = o->verify;
	for (size_t i = 0; i < img->n_segs; i++)
		free(old[i]);
	free(old);
	if (rc == 0 && o->leave) {
		/* the application is in flash, not in OTP: the flash start unless --leave-addr said */
		rc = ops_leave(s, o->have_leave_addr, o->leave_addr, &r->leave);
		r->left = rc == 0;
	}
	return rc;
}
