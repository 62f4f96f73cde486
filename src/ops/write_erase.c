/* write: erasing the planned sectors, refusing write-protected ones first, and reading the erased
 * sectors back when no verify will. */
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "ops/recover.h"
#include "ops/write_int.h"
#include "ops/wrp.h"

int wr_erase_planned(struct wstate *w)
{
	struct ops_session *s = w->s;
	struct write_plan *plan = w->plan;
	uint64_t t0 = wr_now_us(s);
	unsigned done = 0;
	for (size_t i = 0; i < plan->n_touched; i++) {
		struct plan_touched *t = &plan->touched[i];
		if (t->action != PLAN_ERASE_PROGRAM)
			continue;
		if (ops_canceled(s)) {
			w->r->erase.us = wr_now_us(s) - t0;
			return STM32DFU_E_CANCELED;
		}
		w->erased[i] = true; /* even a failed erase may have cleared it */
		if (rec_erase(s, w->alt, t->sector.start, t->sector.size) < 0) {
			w->r->erase.us = wr_now_us(s) - t0;
			return err_prefix(&s->err, "write: erasing sector %u at 0x%08X", t->sector.index, t->sector.start);
		}
		w->erase_ok[i] = true;
		w->r->sectors_erased++; /* counted as it happens, so a failure later reports it too */
		w->r->erase.bytes += t->sector.size;
		ops_report(s, OPS_PHASE_ERASE, ++done, plan->sectors_to_erase, "sectors");
	}
	w->r->erase.us = wr_now_us(s) - t0;
	return 0;
}

/* Without a verify nothing else reads the erased sectors back: their first and last blocks are,
 * so that a sector the chip did not erase (protection the option bytes do not show, wear) fails
 * here instead of being reported written. */
int wr_confirm_erased(struct wstate *w)
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

/* Whether the option bytes write-protect touched sector t (1), with the 'ob set' assignment. */
static int wrp_protects(struct ops_session *s, const struct plan_touched *t, char *clear, size_t cap)
{
	return ops_wrp_sector(s, &t->sector, clear, cap);
}

/* Before anything is erased: every sector the plan would erase must be writable (the ROM would
 * ignore the erase and the writes of a protected one without an error). */
int wr_refuse_protected(struct ops_session *s, const struct write_plan *plan, int *blocked)
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
