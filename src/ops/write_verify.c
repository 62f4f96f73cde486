/* write: the verify. Each written sector is read back (or its CRC asked, ops/compare.c) and
 * compared; one that differs is read once more, then marked for a rewrite or named as protected. */
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "ops/recover.h"
#include "ops/write_int.h"
#include "ops/wrp.h"

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
	if (ops_wrp_sector(s, &t->sector, clear, sizeof clear) == 1) {
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
int wr_verify_planned(struct wstate *w)
{
	struct ops_session *s = w->s;
	struct write_plan *plan = w->plan;
	uint64_t t0 = wr_now_us(s);
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
		/* a span of adjacent sectors can take minutes over USART: its read reports as it goes */
		s->progress_base = done;
		s->progress_total = total;
		int rc = ops_read_mem(s, w->alt, plan->touched[i].sector.start, buf, (size_t)span, OPS_PHASE_VERIFY);
		s->progress_base = s->progress_total = 0;
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
		}
		ops_report(s, OPS_PHASE_VERIFY, done, total, "B"); /* once per span: never behind the read's own */
		i = j;
	}
	w->r->verify.bytes += total;
	w->r->verify.us += wr_now_us(s) - t0;
	return differ;
}
