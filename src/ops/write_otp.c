/* write into OTP memory (issue 15 item 4): one-time programmable, never erased. The range is read
 * first; a write the chip cannot take is refused before anything is written, bytes already equal
 * are skipped, what is programmed goes block by block (a stop request is honoured between two
 * blocks), and everything is read back. The caller (write_mem.c) has placed every segment in this
 * OTP alt's memory.
 *
 * Two rules, by family: F2/F4/F7 OTP bytes take any number of programs that only clear bits
 * (RM0090/RM0385 "One-time programmable bytes"); L4/G4/G0/WB OTP is programmed once per double
 * word, whatever the bits (issue 22 item 4). */
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "ops/ops.h"
#include "ops/write_int.h"

/* Bytes of an OTP program unit that can be written only once, 1 where bits may be cleared again.
 * RM0351 (L4) / RM0440 (G4) / RM0444 (G0) / RM0434 (WB) "OTP area": "The OTP area is divided into
 * 128 OTP words of 64-bit... If only one bit is at 0, the entire double word cannot be written
 * anymore, even with the value 0x0000 0000 0000 0000." */
static uint32_t otp_unit(const struct ops_session *s)
{
	static const char *const dword_once[] = {"L4", "G4", "G0", "WB"};
	const struct chip_family *fam = s->id.chip.family;
	for (size_t i = 0; fam && i < sizeof dword_once / sizeof dword_once[0]; i++)
		if (strcmp(fam->id, dword_once[i]) == 0)
			return 8;
	return 1;
}

static bool all_ff(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return false;
	return true;
}

/* One segment, widened to whole units: what the chip holds there and what it must hold. */
struct otp_span {
	uint32_t lo;
	size_t len;
	uint8_t *old, *want;
};

/* Checks a span against what the chip holds; 0 when it can be programmed. */
static int check_span(struct ops_session *s, const struct otp_span *p, uint32_t unit, size_t *differ)
{
	for (size_t k = 0; k < p->len; k += unit) {
		const uint8_t *o = p->old + k, *w = p->want + k;
		if (memcmp(o, w, unit) == 0)
			continue;
		*differ += 1;
		if (unit > 1) {
			if (all_ff(o, unit))
				continue;
			err_set(&s->err, STM32DFU_E_RANGE,
			        "OTP double word 0x%08X-0x%08X already holds data (%02X %02X %02X %02X %02X %02X %02X %02X) "
			        "and the file changes it: on this chip an OTP double word is written once, and one 0 bit "
			        "locks all of it (RM0351/RM0440/RM0444 \"OTP area\")", (unsigned)(p->lo + k),
			        (unsigned)(p->lo + k + unit - 1), o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]);
			err_hint(&s->err, "nothing was written; put the data in a double word that reads all 0xFF "
			                  "({@read 0x%08X %zu} shows the OTP)", p->lo, p->len);
			return STM32DFU_E_RANGE;
		}
		if (w[0] & (uint8_t)~o[0]) {
			err_set(&s->err, STM32DFU_E_RANGE,
			        "OTP byte at 0x%08X holds 0x%02X and cannot become 0x%02X: OTP bits can only be cleared, "
			        "never set again", (unsigned)(p->lo + k), o[0], w[0]);
			err_hint(&s->err, "nothing was written; {@read 0x%08X %zu} shows what the OTP holds",
			         p->lo, p->len);
			return STM32DFU_E_RANGE;
		}
	}
	return 0;
}

static int verify_otp(struct ops_session *s, const struct img *img, const struct layout_mem *alt,
                      struct ops_write_result *r)
{
	int rc = 0;
	for (size_t i = 0; i < img->n_segs && rc == 0; i++) {
		const struct img_seg *seg = &img->segs[i];
		if (seg->len == 0)
			continue;
		if (ops_canceled(s))
			return STM32DFU_E_CANCELED;
		uint8_t *back = malloc(seg->len);
		if (!back)
			return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
		if ((rc = ops_read_mem(s, alt->alt, seg->addr, back, seg->len, OPS_PHASE_VERIFY)) < 0) {
			free(back);
			return err_prefix(&s->err, "reading %s back at 0x%08X", alt->layout.name, seg->addr);
		}
		for (size_t k = 0; k < seg->len; k++)
			if (back[k] != seg->data[k]) {
				r->mismatch = true;
				r->mismatch_addr = seg->addr + (uint32_t)k;
				r->expected = seg->data[k];
				r->actual = back[k];
				rc = err_set(&s->err, STM32DFU_E_VERIFY, "%s at 0x%08X reads 0x%02X after programming 0x%02X",
				             alt->layout.name, r->mismatch_addr, r->actual, r->expected);
				err_hint(&s->err, "the OTP block may be locked (its lock byte is programmed)");
				break;
			}
		free(back);
		r->verify.bytes += seg->len;
	}
	return rc;
}

/* Programs the units of a span that change, each run of changed units in one go (units already
 * right are never written again: on L4/G4/G0/WB that would fail). F2/F4/F7: the whole span. */
static int program_span(struct ops_session *s, const struct layout_mem *alt, const struct otp_span *p, uint32_t unit,
                        uint64_t *done, uint64_t total, struct ops_write_result *r)
{
	if (unit == 1 && s->t->write_align > 1 && (p->lo % s->t->write_align || p->len % s->t->write_align)) {
		/* F2/F4/F7 over AN3155, whose Write Memory takes whole aligned words (3.6): the bytes
		 * around the span are programmed with 0xFF, which clears no bit, so an OTP byte there keeps
		 * what it holds, programmed or not (RM0090 3.8, RM0385 3.6 "One-time programmable bytes":
		 * programming only clears bits); the read back is of the span alone */
		uint32_t a = s->t->write_align, lo = p->lo / a * a;
		size_t len = (size_t)(((uint64_t)p->lo + p->len + a - 1) / a * a - lo);
		uint8_t *w = malloc(len);
		if (!w)
			return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
		memset(w, 0xFF, len);
		memcpy(w + (p->lo - lo), p->want, p->len);
		int rc = wr_program(s, alt->alt, lo, w, len, done, total + (len - p->len), r);
		free(w);
		return rc;
	}
	if (unit == 1)
		return wr_program(s, alt->alt, p->lo, p->want, p->len, done, total, r);
	for (size_t k = 0; k < p->len;) {
		if (memcmp(p->old + k, p->want + k, unit) == 0) {
			k += unit;
			continue;
		}
		size_t e = k + unit;
		while (e < p->len && memcmp(p->old + e, p->want + e, unit) != 0)
			e += unit;
		int rc = wr_program(s, alt->alt, p->lo + (uint32_t)k, p->want + k, e - k, done, total, r);
		if (rc < 0)
			return rc;
		k = e;
	}
	return 0;
}

int wr_otp(struct ops_session *s, const struct img *img, const struct layout_mem *alt, const struct ops_write_opts *o,
           struct ops_write_result *r, bool check_only)
{
	r->otp = true;
	if (!o->otp_ok) {
		err_set(&s->err, STM32DFU_E_NEEDS_CONFIRMATION,
		        "the file writes %s at 0x%08X: OTP bytes can be programmed only once and never erased",
		        alt->layout.name, img->n_segs ? img->segs[0].addr : 0);
		err_hint(&s->err, "check the bytes, then add {@otp-permanent}");
		return STM32DFU_E_NEEDS_CONFIRMATION;
	}
	ops_identify(s);
	const uint32_t unit = otp_unit(s);
	/* read everything first: nothing is programmed unless every segment can be */
	struct otp_span *sp = calloc(img->n_segs ? img->n_segs : 1, sizeof *sp);
	if (!sp)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	int rc = 0;
	size_t differ = 0;
	uint64_t t = clock_now_us(ops_clock(s));
	for (size_t i = 0; i < img->n_segs && rc == 0; i++) {
		const struct img_seg *seg = &img->segs[i];
		if (seg->len == 0)
			continue;
		struct otp_span *p = &sp[i];
		p->lo = seg->addr / unit * unit;
		p->len = (size_t)(((uint64_t)seg->addr + seg->len + unit - 1) / unit * unit - p->lo);
		if (ops_canceled(s))
			rc = STM32DFU_E_CANCELED;
		else if (!(p->old = malloc(p->len)) || !(p->want = malloc(p->len)))
			rc = err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
		else if ((rc = ops_read_mem(s, alt->alt, p->lo, p->old, p->len, OPS_PHASE_READ)) == 0) {
			/* the rest of a unit keeps what it holds (0xFF in a unit that can be written) */
			memcpy(p->want, p->old, p->len);
			memcpy(p->want + (seg->addr - p->lo), seg->data, seg->len);
			rc = check_span(s, p, unit, &differ);
		} else {
			err_prefix(&s->err, "reading %s at 0x%08X", alt->layout.name, p->lo);
		}
		r->read.bytes += p->len;
	}
	r->read.us = clock_now_us(ops_clock(s)) - t;
	t = clock_now_us(ops_clock(s));
	/* program only the spans that change; programming the equal bytes again is harmless (AND) on
	 * F2/F4/F7, and never done on the double-word parts */
	uint64_t done = 0, total = 0;
	for (size_t i = 0; i < img->n_segs && differ; i++)
		if (sp[i].len && memcmp(sp[i].want, sp[i].old, sp[i].len) != 0)
			total += sp[i].len;
	for (size_t i = 0; i < img->n_segs && rc == 0 && differ && !check_only; i++) {
		const struct otp_span *p = &sp[i];
		if (p->len == 0 || memcmp(p->want, p->old, p->len) == 0)
			continue;
		if ((rc = program_span(s, alt, p, unit, &done, total, r)) < 0)
			err_prefix(&s->err, "programming %s", alt->layout.name);
	}
	r->program.us = clock_now_us(ops_clock(s)) - t;
	r->program.bytes = r->bytes_programmed;
	t = clock_now_us(ops_clock(s));
	/* read back every segment, changed or not: success only for what is on the chip */
	if (rc == 0 && o->verify && !check_only)
		rc = verify_otp(s, img, alt, r);
	r->verify.us = clock_now_us(ops_clock(s)) - t;
	if (rc == 0)
		r->verified = o->verify && !check_only;
	for (size_t i = 0; i < img->n_segs; i++) {
		free(sp[i].old);
		free(sp[i].want);
	}
	free(sp);
	if (rc < 0 && ops_canceled(s)) {
		r->canceled = true;
		rc = STM32DFU_E_CANCELED;
	}
	return rc;
}
