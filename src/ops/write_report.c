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

/* Touched sector i's real state, from what this write did to it. */
static enum ops_sector_state state_of(const struct wstate *w, size_t i, bool finished)
{
	if (!w->erased[i])
		return OPS_SECTOR_OLD;
	if (w->verified[i] || (finished && w->erase_ok[i]))
		return OPS_SECTOR_NEW; /* finished without a verify (--no-verify): every block was accepted */
	if (w->erase_ok[i] && !w->programmed[i])
		return OPS_SECTOR_ERASED;
	return OPS_SECTOR_PARTIAL; /* a failed erase, or blocks written but not proven */
}

/* Every touched sector's real state, from what this write did to it. */
void wr_sector_states(struct wstate *w, bool finished)
{
	struct ops_write_result *r = w->r;
	r->n_sectors = (unsigned)w->plan->n_touched;
	for (size_t i = 0; i < w->plan->n_touched && i < OPS_MAX_SECTOR_REPORTS; i++) {
		const struct plan_touched *t = &w->plan->touched[i];
		r->sectors[i] = (struct ops_sector_report){t->sector.index, t->sector.start, t->sector.size,
		                                           state_of(w, i, finished)};
	}
}

/*
 * Every touched sector's state as runs of one state over consecutive sector numbers ("0-32 erased,
 * 33 partial, 34-255 old"), so a page flash's 256 pages fit the message. When the runs do not fit
 * (an image with many holes), the count of each state instead. Returns whether a sector lost its
 * old bytes without holding the new ones.
 */
static bool chip_state_text(const struct wstate *w, char *buf, size_t cap)
{
	size_t n = w->plan->n_touched, len = 0;
	unsigned count[4] = {0};
	bool fits = true;
	buf[0] = '\0';
	for (size_t i = 0; i < n;) {
		enum ops_sector_state st = state_of(w, i, false);
		size_t j = i + 1;
		while (j < n && state_of(w, j, false) == st &&
		       w->plan->touched[j].sector.index == w->plan->touched[j - 1].sector.index + 1)
			j++;
		count[st] += (unsigned)(j - i);
		unsigned first = w->plan->touched[i].sector.index, last = w->plan->touched[j - 1].sector.index;
		int k = first == last ? snprintf(buf + len, cap - len, "%s%u %s", len ? ", " : "", first,
		                                  ops_sector_state_name(st))
		                      : snprintf(buf + len, cap - len, "%s%u-%u %s", len ? ", " : "", first, last,
		                                  ops_sector_state_name(st));
		if (fits && k > 0 && (size_t)k < cap - len)
			len += (size_t)k;
		else
			fits = false;
		i = j;
	}
	if (!fits) {
		len = 0;
		buf[0] = '\0';
		for (int st = 0; st < 4; st++)
			if (count[st]) {
				int k = snprintf(buf + len, cap - len, "%s%u %s", len ? ", " : "", count[st],
				                 ops_sector_state_name((enum ops_sector_state)st));
				if (k > 0 && (size_t)k < cap - len)
					len += (size_t)k;
			}
	}
	return count[OPS_SECTOR_ERASED] || count[OPS_SECTOR_PARTIAL];
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
	/* the list takes what the message has left, so the recovery file's name is never cut */
	size_t m = strlen(e->msg), room = sizeof e->msg - m;
	size_t tail = 24 + (r->recovery_file[0] ? 34 + strlen(r->recovery_file) : 0);
	char list[ERR_MSG_MAX];
	bool lost = chip_state_text(w, list, room > tail + 64 ? room - tail : 64);
	snprintf(e->msg + m, sizeof e->msg - m, "; on the chip: sector%s %s%s%s", w->plan->n_touched == 1 ? "" : "s",
	         list[0] ? list : "(none)", r->recovery_file[0] ? "; the bytes to keep are saved in " : "",
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
