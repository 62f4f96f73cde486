/* write: erasing the planned sectors (or the whole flash in one mass erase when that is faster),
 * refusing write-protected ones first, and reading the erased sectors back when no verify will. */
#include <stdlib.h>
#include <string.h>

#include "chip/chip.h"
#include "core/log.h"
#include "ops/ops.h"
#include "ops/recover.h"
#include "ops/write_int.h"
#include "ops/wrp.h"

static double sum_ms(const unsigned *ms, size_t n)
{
	double t = 0;
	for (size_t i = 0; i < n; i++)
		t += ms[i];
	return t;
}

void wr_choose_mass(struct ops_session *s, struct write_plan *plan, unsigned width)
{
	plan->mass_erase = false;
	const struct chip_family *fam = s->id.chip.family;
	unsigned mass_ms = chip_mass_erase_ms_at(fam, width);
	if (!plan->sectors_to_erase || !(s->t->caps & TARGET_CAP_MASS_ERASE) || !mass_ms)
		return;
	struct plan_sector *secs = NULL;
	size_t n = 0;
	uint32_t limit = 0;
	unsigned *ms = NULL;
	if (ops_flash_sectors(s, &secs, &n, &limit) < 0) {
		err_clear(&s->err);
		return;
	}
	/* the map must be the part's whole flash, as the flash-size register gives it: a mass erase
	 * also takes what a shorter map (a die's string cut short, F42x) or a longer one (a die's
	 * sectors past the part) leaves out, and nobody read those */
	if (!n || !limit || secs[n - 1].start + (uint64_t)secs[n - 1].size != limit)
		goto out;
	/* the chip mass-erases nothing when any sector is protected (RM0090 3.6.3, RM0402 3.6.4),
	 * and unknown protection is not known to be none */
	for (size_t i = 0; i < n; i++) {
		char clear[96];
		if (ops_wrp_sector(s, &secs[i], clear, sizeof clear) != 0) {
			err_clear(&s->err);
			goto out;
		}
	}
	if (!(ms = calloc(n, sizeof *ms)))
		goto out;
	for (size_t i = 0; i < n; i++)
		ms[i] = chip_sector_erase_ms_at(fam, secs[i].size, width);
	if (plan_mass_erase_pays(plan, secs, n, ms, mass_ms)) {
		const char *src = chip_erase_times_source(fam); /* its first word names the datasheet */
		log_info("plan: one mass erase (typically %u ms) instead of %u sector erases (%.0f ms; %.*s)", mass_ms,
		         plan->sectors_to_erase, sum_ms(ms, n), (int)strcspn(src, " "), src);
	}
out:
	free(ms);
	free(secs);
}

/* The plan's mass erase: one step, everything erased (or, when it fails, nothing known: every
 * sector counts as possibly erased and they are then erased one by one, as they were all to be). */
static int erase_mass(struct wstate *w, bool *fallback)
{
	struct ops_session *s = w->s;
	struct write_plan *plan = w->plan;
	*fallback = false;
	if (ops_canceled(s))
		return STM32DFU_E_CANCELED;
	for (size_t i = 0; i < plan->n_touched; i++)
		w->erased[i] = plan->touched[i].action == PLAN_ERASE_PROGRAM;
	uint64_t t0 = wr_now_us(s);
	ops_report(s, OPS_PHASE_ERASE, 0, chip_mass_erase_typ_ms(s->id.chip.family), "ms");
	int rc = s->t->ops->erase_mass(s->t, 0);
	if (rc < 0) {
		s->err = s->t->err;
		if (ops_canceled(s))
			return err_prefix(&s->err, "write: mass erase");
		log_info("write: the mass erase failed (%s): erasing the sectors one by one", s->err.msg);
		if (rec_worth_retry(s, rc) && !rec_spend(s, rc, "mass erase"))
			return err_prefix(&s->err, "write: mass erase");
		if ((rc = rec_resync(s, w->alt, rc)) < 0)
			return err_prefix(&s->err, "write: mass erase");
		err_clear(&s->err);
		*fallback = true;
		return 0;
	}
	uint64_t ms = (wr_now_us(s) - t0) / 1000u;
	for (size_t i = 0; i < plan->n_touched; i++)
		if (plan->touched[i].action == PLAN_ERASE_PROGRAM) {
			w->erase_ok[i] = true;
			w->r->sectors_erased++;
			w->r->erase.bytes += plan->touched[i].sector.size;
		}
	w->r->mass_erased = true;
	ops_report(s, OPS_PHASE_ERASE, ms ? ms : 1, ms ? ms : 1, "ms");
	return 0;
}

int wr_erase_planned(struct wstate *w)
{
	struct ops_session *s = w->s;
	struct write_plan *plan = w->plan;
	uint64_t t0 = wr_now_us(s);
	unsigned done = 0;
	if (plan->mass_erase) {
		bool fallback;
		int rc = erase_mass(w, &fallback);
		if (rc < 0 || !fallback) {
			w->r->erase.us = wr_now_us(s) - t0;
			return rc;
		}
	}
	/* the sectors to erase, in plan order, and where each is in the plan */
	struct plan_sector *secs = calloc(plan->n_touched ? plan->n_touched : 1, sizeof *secs);
	size_t *at = calloc(plan->n_touched ? plan->n_touched : 1, sizeof *at);
	size_t n = 0;
	if (!secs || !at) {
		free(secs);
		free(at);
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	for (size_t i = 0; i < plan->n_touched; i++)
		if (plan->touched[i].action == PLAN_ERASE_PROGRAM) {
			secs[n] = plan->touched[i].sector;
			at[n++] = i;
		}
	int rc = 0;
	/* over USART one command lists several pages (rec_erase_batch): Ctrl-C is seen between them */
	for (size_t j = 0, k; j < n; j += k) {
		k = rec_erase_batch(s, secs + j, n - j);
		if (ops_canceled(s)) {
			rc = STM32DFU_E_CANCELED;
			break;
		}
		for (size_t q = j; q < j + k; q++)
			w->erased[at[q]] = true; /* even a failed erase may have cleared it */
		if (rec_erase_list(s, w->alt, secs + j, k) < 0) {
			rc = k > 1 ? err_prefix(&s->err, "write: erasing sectors %u-%u from 0x%08X (one command: each may be "
			                                 "erased or not)", secs[j].index, secs[j + k - 1].index, secs[j].start)
			           : err_prefix(&s->err, "write: erasing sector %u at 0x%08X", secs[j].index, secs[j].start);
			break;
		}
		for (size_t q = j; q < j + k; q++) {
			w->erase_ok[at[q]] = true;
			w->r->sectors_erased++; /* counted as it happens, so a failure later reports it too */
			w->r->erase.bytes += secs[q].size;
		}
		done += (unsigned)k;
		ops_report(s, OPS_PHASE_ERASE, done, plan->sectors_to_erase, "sectors");
	}
	free(secs);
	free(at);
	w->r->erase.us = wr_now_us(s) - t0;
	return rc;
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
