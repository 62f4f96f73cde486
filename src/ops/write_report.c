/* What a write leaves on the chip, sector by sector: the states in the result, and the sentence
 * appended to a failure (with the recovery file that holds the bytes to keep). */
#include <stdio.h>
#include <string.h>

#include "ops/write_int.h"

const char *ops_sector_state_name(enum ops_sector_state st)
{
	static const char *const names[] = {"old", "erased", "new", "partial"};
	return (unsigned)st < 4 ? names[st] : "?";
}

/* Every touched sector's real state, from what this write did to it. */
void wr_sector_states(struct wstate *w, bool finished)
{
	struct ops_write_result *r = w->r;
	r->n_sectors = (unsigned)w->plan->n_touched;
	for (size_t i = 0; i < w->plan->n_touched && i < OPS_MAX_SECTOR_REPORTS; i++) {
		const struct plan_touched *t = &w->plan->touched[i];
		enum ops_sector_state st;
		if (!w->erased[i])
			st = OPS_SECTOR_OLD;
		else if (w->verified[i] || (finished && w->erase_ok[i]))
			st = OPS_SECTOR_NEW; /* finished without a verify (--no-verify): every block was accepted */
		else if (w->erase_ok[i] && !w->programmed[i])
			st = OPS_SECTOR_ERASED;
		else
			st = OPS_SECTOR_PARTIAL; /* a failed erase, or blocks written but not proven */
		r->sectors[i] = (struct ops_sector_report){t->sector.index, t->sector.start, t->sector.size, st};
	}
}

/* The family has write protection the host could not read (the G0 ROM offers no option bytes over
 * DFU): a protected page ignores erase and programming without an error, so a verify failure
 * may be the protection and not the link. */
static bool wrp_unread(const struct ops_session *s)
{
	const struct chip_family *f = s->id.chip.family;
	return f && f->ob && !s->id.has_ob;
}

/* Appends what is on the chip, sector by sector, and where the bytes to keep are, to the error. */
void wr_say_chip_state(struct wstate *w)
{
	struct ops_write_result *r = w->r;
	struct err *e = &w->s->err;
	char list[400] = "";
	size_t len = 0;
	bool lost = false;
	for (unsigned i = 0; i < r->n_sectors && i < OPS_MAX_SECTOR_REPORTS; i++) {
		const struct ops_sector_report *sr = &r->sectors[i];
		lost |= sr->state != OPS_SECTOR_OLD && sr->state != OPS_SECTOR_NEW;
		if (len < sizeof list - 40) {
			int n = snprintf(list + len, sizeof list - len, "%s%u %s", len ? ", " : "", sr->index,
			                 ops_sector_state_name(sr->state));
			if (n > 0)
				len += (size_t)n;
		}
	}
	size_t m = strlen(e->msg);
	snprintf(e->msg + m, sizeof e->msg - m, "; on the chip: sector%s %s%s%s", r->n_sectors == 1 ? "" : "s",
	         len ? list : "(none)", r->recovery_file[0] ? "; the bytes to keep are saved in " : "",
	         r->recovery_file);
	if (e->code == STM32DFU_E_PROTECTED) {
		/* the protection is the cause: the hint names the option bytes, never the USB link */
		char hint[ERR_HINT_MAX];
		snprintf(hint, sizeof hint, "%s", e->hint[0] ? e->hint
		                                             : "the chip's protection refuses it: {@ob-show} shows "
		                                               "the read and write protection (option bytes)");
		size_t h = strlen(hint);
		if (r->recovery_file[0] && h + 80 < sizeof hint)
			snprintf(hint + h, sizeof hint - h, "; then run the same write again: it restores the saved bytes");
		err_hint(e, "%s", hint);
	} else if (e->code == STM32DFU_E_VERIFY && wrp_unread(w->s)) {
		err_hint(e, "a write-protected page ignores erase and programming without an error, and this ROM "
		            "offers no option bytes over DFU: read them over its USART bootloader ({@ob-show})%s%s",
		         r->recovery_file[0] ? "; the bytes to keep are in " : "", r->recovery_file);
	} else if (r->recovery_file[0])
		err_hint(e, "run the same write again on this chip (or {@recover}): it restores the saved bytes "
		            "and deletes %s", r->recovery_file);
	else if (lost && e->code == STM32DFU_E_CANCELED)
		err_hint(e, "the flash does not hold the image: write it again");
	else if (lost && w->s->link == OPS_LINK_UART)
		err_hint(e, "the flash does not hold the image: write again ({@doctor} over the port finds the fastest "
		            "rate that holds)");
	else if (lost)
		err_hint(e, "the flash does not hold the image: write again (a better USB port or a hub helps; "
		            "{@doctor} checks the link)");
}
