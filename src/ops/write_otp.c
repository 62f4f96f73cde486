/* write into OTP memory (issue 15 item 4): one-time programmable, never erased. The range is read
 * first; a write that would need a bit to go from 0 to 1 is refused before anything is written,
 * bytes already equal are skipped, what is programmed goes block by block (a stop request is
 * honoured between two blocks), and everything is read back. The caller (write_mem.c) has placed
 * every segment in this OTP alt's memory. */
#include <stdlib.h>
#include <string.h>

#include "dfu/dfuse.h"
#include "image/image.h"
#include "ops/ops.h"
#include "ops/write_int.h"

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

static int verify_otp(struct ops_session *s, const struct img *img, const struct dfu_alt *alt, uint8_t **old,
                      struct ops_write_result *r)
{
	int rc = 0;
	for (size_t i = 0; i < img->n_segs && rc == 0; i++) {
		const struct img_seg *seg = &img->segs[i];
		if (seg->len == 0)
			continue;
		if (ops_canceled(s))
			return STM32DFU_E_CANCELED;
		if ((rc = ops_read_mem(s, alt->alt, seg->addr, old[i], seg->len, OPS_PHASE_VERIFY)) < 0)
			return err_prefix(&s->err, "reading %s back at 0x%08X", alt->layout.name, seg->addr);
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
	return rc;
}

int wr_otp(struct ops_session *s, const struct img *img, const struct dfu_alt *alt, const struct ops_write_opts *o,
           struct ops_write_result *r, bool check_only)
{
	r->otp = true;
	if (!o->otp_ok) {
		err_set(&s->err, STM32DFU_E_NEEDS_CONFIRMATION,
		        "the file writes %s at 0x%08X: OTP bytes can be programmed only once and never erased",
		        alt->layout.name, img->n_segs ? img->segs[0].addr : 0);
		err_hint(&s->err, "check the bytes, then add --i-understand-otp-is-permanent");
		return STM32DFU_E_NEEDS_CONFIRMATION;
	}
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
		if (ops_canceled(s))
			rc = STM32DFU_E_CANCELED;
		else if (!(old[i] = malloc(seg->len)))
			rc = err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
		else if ((rc = ops_read_mem(s, alt->alt, seg->addr, old[i], seg->len, OPS_PHASE_READ)) == 0)
			rc = check_bits(s, seg->addr, seg->data, old[i], seg->len, &differ);
		else
			err_prefix(&s->err, "reading %s at 0x%08X", alt->layout.name, seg->addr);
		r->read.bytes += seg->len;
	}
	r->read.us = clock_now_us(s->tp->clock) - t;
	t = clock_now_us(s->tp->clock);
	/* program only the segments that change; programming the equal bytes again is harmless (AND) */
	uint64_t done = 0, total = 0;
	for (size_t i = 0; i < img->n_segs && differ; i++)
		if (img->segs[i].len && memcmp(img->segs[i].data, old[i], img->segs[i].len) != 0)
			total += img->segs[i].len;
	for (size_t i = 0; i < img->n_segs && rc == 0 && differ && !check_only; i++) {
		const struct img_seg *seg = &img->segs[i];
		if (seg->len == 0 || memcmp(seg->data, old[i], seg->len) == 0)
			continue;
		if ((rc = wr_program(s, alt->alt, seg->addr, seg->data, seg->len, &done, total, r)) < 0)
			err_prefix(&s->err, "programming %s", alt->layout.name);
	}
	r->program.us = clock_now_us(s->tp->clock) - t;
	r->program.bytes = r->bytes_programmed;
	t = clock_now_us(s->tp->clock);
	/* read back every segment, changed or not: success only for what is on the chip */
	if (rc == 0 && o->verify && !check_only)
		rc = verify_otp(s, img, alt, old, r);
	r->verify.us = clock_now_us(s->tp->clock) - t;
	if (rc == 0)
		r->verified = o->verify && !check_only;
	for (size_t i = 0; i < img->n_segs; i++)
		free(old[i]);
	free(old);
	if (rc < 0 && ops_canceled(s)) {
		r->canceled = true;
		rc = STM32DFU_E_CANCELED;
	}
	return rc;
}
