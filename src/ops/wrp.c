/* Write protection read before an erase, and every erase read back (see wrp.h). */
#include "ops/wrp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chip/ob.h"
#include "core/log.h"
#include "chip/layout.h"

/* The G4's option-byte alt has two zones, bank 1 at 0x1FFF7800 and bank 2 at 0x1FFFF800 (RM0440;
 * "@Option Bytes /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e"): the second is read once, after the
 * first, when the family's table decodes both (its size is their sum). */
static void read_second_zone(struct ops_session *s)
{
	struct ops_identity *id = &s->id;
	if (id->ob2_tried || !id->has_ob || id->ob_alt < 0)
		return;
	id->ob2_tried = true;
	const struct chip_family *fam = id->chip.family;
	const struct layout_mem *a = NULL;
	for (unsigned i = 0; i < s->map->n; i++)
		if (s->map->mem[i].alt == id->ob_alt)
			a = &s->map->mem[i];
	if (!fam || !fam->ob || !a || !a->have_layout || a->layout.n_regions < 2)
		return;
	const struct layout_region *r = &a->layout.regions[1];
	if (id->ob_len + r->length != fam->ob->size || id->ob_len + r->length > sizeof id->ob)
		return;
	if (ops_read_mem(s, (uint8_t)id->ob_alt, r->start, id->ob + id->ob_len, (size_t)r->length, -1) < 0) {
		log_info("the second option-byte zone at 0x%08X could not be read (%s): its write protection is unknown",
		         r->start, s->err.msg);
		err_clear(&s->err);
		return;
	}
	id->ob2_len = (size_t)r->length;
}

/* The flash sector where bank 2 starts, for a family whose option bytes count bank-2 pages from
 * there (G4, G0B1/G0C1 dual bank: half the flash, by the flash-size register, else the layout); 0
 * unknown. Used only by layouts with bank-2 areas. */
static unsigned bank2_first(struct ops_session *s)
{
	const struct layout_mem *fa = ops_flash_alt(s);
	if (!fa || !fa->have_layout || !fa->layout.n_regions)
		return 0;
	uint64_t bytes = s->id.has_flash_size && s->id.flash_size_kb && s->id.flash_size_kb != 0xFFFF
	                     ? (uint64_t)s->id.flash_size_kb * 1024u
	                     : fa->layout.regions[0].length;
	struct layout_sector ls;
	uint64_t mid = (uint64_t)fa->layout.regions[0].start + bytes / 2;
	if (mid > 0xFFFFFFFFu || !layout_find(&fa->layout, (uint32_t)mid, &ls) || ls.start != mid)
		return 0;
	return ls.index;
}

int ops_wrp_sector(struct ops_session *s, const struct plan_sector *sec, char *clear, size_t cap)
{
	ops_identify(s);
	if (!s->id.has_ob)
		return -1;
	read_second_zone(s);
	return ob_sector_wrp_banked(s->id.chip.family, s->id.ob, s->id.ob_len + s->id.ob2_len, sec->index, sec->start,
	                            sec->size, bank2_first(s), clear, cap);
}

/* Whether the space-separated list holds the word. */
static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; *p;) {
		size_t k = strcspn(p, " ");
		if (k == n && strncmp(p, w, n) == 0)
			return true;
		p += k;
		p += *p == ' ';
	}
	return false;
}

/* Appends "text" to buf (cap) after a separator; false when it does not fit. */
static bool append(char *buf, size_t cap, const char *sep, const char *text)
{
	size_t len = strlen(buf);
	int n = snprintf(buf + len, cap - len, "%s%s", len ? sep : "", text);
	if (n < 0 || (size_t)n >= cap - len) {
		buf[len] = '\0';
		return false;
	}
	return true;
}

/* Fills names ("1, 2") and assigns ("nWRP1=1 nWRP2=1") with the protected sectors; their count. */
static size_t scan(struct ops_session *s, const struct plan_sector *secs, size_t n, char *names, size_t ncap,
                   char *assigns, size_t acap, bool *unknown)
{
	size_t count = 0;
	bool trunc = false;
	names[0] = assigns[0] = '\0';
	if (unknown)
		*unknown = false;
	for (size_t i = 0; i < n; i++) {
		char clear[96], num[16];
		int p = ops_wrp_sector(s, &secs[i], clear, sizeof clear);
		if (p < 0 && unknown)
			*unknown = true;
		if (p != 1)
			continue;
		count++;
		snprintf(num, sizeof num, "%u", secs[i].index);
		/* F0/F1: one bit guards several pages, and the hint names it once */
		if (!trunc && (!append(names, ncap - 5, ", ", num) ||
		               (!has_word(assigns, clear) && !append(assigns, acap, " ", clear)))) {
			trunc = true;
			append(names, ncap, ", ", "...");
		}
	}
	return count;
}

int ops_wrp_refuse(struct ops_session *s, const char *what, const struct plan_sector *secs, size_t n,
                   bool *unknown)
{
	char names[200], assigns[160];
	size_t count = scan(s, secs, n, names, sizeof names, assigns, sizeof assigns, unknown);
	if (unknown && *unknown)
		log_info("%s: the option bytes do not tell whether every sector is write-protected: each erased "
		         "sector is read back", what);
	if (!count)
		return 0;
	err_set(&s->err, STM32DFU_E_PROTECTED,
	        "%s: sector%s %s %s write-protected (option bytes): the chip would ignore the erase without an "
	        "error; nothing was erased", what, count == 1 ? "" : "s", names, count == 1 ? "is" : "are");
	err_hint(&s->err, "lift the write protection with {@ob-set %s} (option bytes), then run this again",
	         assigns);
	return STM32DFU_E_PROTECTED;
}

int ops_wrp_refuse_mass(struct ops_session *s, const struct plan_sector *secs, size_t n)
{
	char names[200], assigns[120], others[96] = "";
	size_t count = scan(s, secs, n, names, sizeof names, assigns, sizeof assigns, NULL);
	if (!count)
		return 0;
	/* the unprotected sectors as ranges: "0-1,3-7" */
	for (size_t i = 0; i < n;) {
		char clear[96], run[24];
		if (ops_wrp_sector(s, &secs[i], clear, sizeof clear) == 1) {
			i++;
			continue;
		}
		size_t j = i;
		while (j + 1 < n && secs[j + 1].index == secs[j].index + 1 &&
		       ops_wrp_sector(s, &secs[j + 1], clear, sizeof clear) != 1)
			j++;
		if (j > i)
			snprintf(run, sizeof run, "%u-%u", secs[i].index, secs[j].index);
		else
			snprintf(run, sizeof run, "%u", secs[i].index);
		size_t len = strlen(others);
		if (len + strlen(run) + 2 < sizeof others)
			snprintf(others + len, sizeof others - len, "%s%s", len ? "," : "", run);
		i = j + 1;
	}
	err_set(&s->err, STM32DFU_E_PROTECTED,
	        "{@erase-all}: sector%s %s %s write-protected (option bytes), and the chip does not mass-erase a "
	        "flash with any protected sector (it would report success and erase nothing); nothing was erased",
	        count == 1 ? "" : "s", names, count == 1 ? "is" : "are");
	if (others[0])
		err_hint(&s->err, "lift it with {@ob-set %s} (option bytes), or erase the others with "
		                  "{@erase-sectors %s}", assigns, others);
	else
		err_hint(&s->err, "lift it with {@ob-set %s} (option bytes)", assigns);
	return STM32DFU_E_PROTECTED;
}

/* The first byte of buf[0..len) that is not 0xFF, or len. */
static size_t first_set(const uint8_t *buf, size_t len)
{
	size_t k = 0;
	while (k < len && buf[k] == 0xFF)
		k++;
	return k;
}

static const struct plan_sector *sector_of(const struct plan_sector *secs, size_t n, uint32_t a)
{
	for (size_t i = 0; i < n; i++)
		if (a >= secs[i].start && a - secs[i].start < secs[i].size)
			return &secs[i];
	return NULL;
}

static int not_blank(struct ops_session *s, const struct plan_sector *sec, uint32_t at, uint8_t v)
{
	char clear[96];
	int p = ops_wrp_sector(s, sec, clear, sizeof clear);
	if (p == 1) {
		err_set(&s->err, STM32DFU_E_PROTECTED,
		        "erase: sector %u at 0x%08X is write-protected: the chip ignored the erase (read 0x%02X at 0x%08X)",
		        sec->index, sec->start, v, at);
		err_hint(&s->err, "lift the write protection with {@ob-set %s} (option bytes)", clear);
		return STM32DFU_E_PROTECTED;
	}
	err_set(&s->err, STM32DFU_E_VERIFY,
	        "erase: sector %u at 0x%08X is not blank after the erase: read 0x%02X at 0x%08X", sec->index, sec->start,
	        v, at);
	err_hint(&s->err, p < 0 ? "the option bytes could not be read to tell whether the sector is write-protected: "
	                          "{@ob-show} shows them; the flash may also be worn"
	                        : "the option bytes do not protect it: the sector may be worn out; nothing here "
	                          "holds data you can rely on until it reads back blank");
	return STM32DFU_E_VERIFY;
}

int ops_erase_confirm(struct ops_session *s, uint8_t alt, const struct plan_sector *secs, size_t n, size_t *proven)
{
	uint32_t blk = s->t->max_transfer ? s->t->max_transfer : 1024;
	if (proven)
		*proven = 0;
	/* the ranges to read, merged where one ends where the next begins */
	struct span {
		uint32_t start;
		uint64_t end;
	} *sp = calloc(2 * n + 1, sizeof *sp);
	if (!sp)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	size_t ns = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t end = (uint64_t)secs[i].start + secs[i].size;
		struct span part[2] = {{secs[i].start, end}, {0, 0}};
		size_t np = 1;
		/* the first and last transfer of each sector (a 256 KiB sector: 4 KiB of it), or all of it
		 * with --blank-check */
		if (!s->blank_check && secs[i].size > 2u * blk) {
			part[0].end = (uint64_t)secs[i].start + blk;
			part[1] = (struct span){(uint32_t)(end - blk), end};
			np = 2;
		}
		for (size_t k = 0; k < np; k++) {
			if (ns && sp[ns - 1].end == part[k].start)
				sp[ns - 1].end = part[k].end;
			else
				sp[ns++] = part[k];
		}
	}
	int rc = 0;
	uint64_t blank_to = 0; /* everything read so far below this was blank */
	for (size_t i = 0; i < ns && rc == 0; i++) {
		size_t len = (size_t)(sp[i].end - sp[i].start);
		uint8_t *buf = malloc(len ? len : 1);
		if (!buf) {
			rc = err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
			break;
		}
		if ((rc = ops_read_mem(s, alt, sp[i].start, buf, len, -1)) < 0) {
			err_prefix(&s->err, "erase: reading back 0x%08X", sp[i].start);
		} else {
			size_t k = first_set(buf, len);
			blank_to = sp[i].start + (uint64_t)k; /* blank up to the first byte that is not */
			if (k < len) {
				uint32_t at = sp[i].start + (uint32_t)k;
				const struct plan_sector *sec = sector_of(secs, n, at);
				rc = sec ? not_blank(s, sec, at, buf[k])
				         : err_set(&s->err, STM32DFU_E_INTERNAL, "erase: 0x%08X is in no erased sector", at);
			}
		}
		free(buf);
	}
	free(sp);
	/* a sector is proven when the reads reached its end (secs are in address order) */
	for (size_t i = 0; proven && i < n && (uint64_t)secs[i].start + secs[i].size <= blank_to; i++)
		*proven = i + 1;
	return rc;
}
