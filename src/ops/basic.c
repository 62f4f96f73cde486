/* read, verify, erase, leave: the single-step operations. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "image/image.h"
#include "ops/ops.h"
#include "ops/rdpnote.h"
#include "ops/write_int.h"
#include "ops/recover.h"
#include "ops/wrp.h"

/* The alt whose layout serves addr; the flash alt if none does. */
static int alt_for(struct ops_session *s, uint32_t addr, uint32_t len)
{
	for (unsigned i = 0; i < s->map->n; i++) {
		const struct layout_mem *a = &s->map->mem[i];
		if (!a->have_layout)
			continue;
		for (unsigned r = 0; r < a->layout.n_regions; r++) {
			const struct layout_region *rg = &a->layout.regions[r];
			if (addr >= rg->start && (uint64_t)addr + len <= rg->start + rg->length)
				return a->alt;
		}
	}
	const struct layout_mem *fa = ops_flash_alt(s);
	return fa ? fa->alt : 0;
}

int ops_read(struct ops_session *s, int alt, uint32_t addr, uint8_t *buf, size_t len, bool may_confirm)
{
	err_clear(&s->err);
	if ((uint64_t)addr + len > 0x100000000ull)
		return err_set(&s->err, STM32DFU_E_RANGE, "read: 0x%08X + %zu runs past 4 GiB", addr, len);
	uint8_t a = (uint8_t)(alt >= 0 ? alt : alt_for(s, addr, (uint32_t)len));
	/* one read is enough on a sound link (CRC16 on every packet); after a link fault, or when doctor
	 * judged the link marginal, a second read must agree */
	int rc = may_confirm ? ops_read_mem_sure(s, a, addr, buf, len, OPS_PHASE_READ)
	                     : ops_read_mem(s, a, addr, buf, len, OPS_PHASE_READ);
	if (rc == STM32DFU_E_TIMEOUT)
		err_hint(&s->err, "the bootloader stopped answering: power-cycle the board (unplug it and plug it back in "
		                  "with BOOT0 high)");
	else if (rc == STM32DFU_E_PROTECTED)
		err_hint(&s->err, "%s", ops_rdp_hint(s));
	else if (rc == STM32DFU_E_DFU_STATUS)
		err_hint(&s->err, "the address may be outside what the bootloader serves: see {@list} for the map");
	return rc;
}

static bool overlaps(uint32_t a, uint64_t end, uint32_t b, uint32_t blen)
{
	return a < (uint64_t)b + blen && b < end;
}

static bool inside(uint32_t a, uint64_t end, uint32_t b, uint32_t blen)
{
	return a >= b && end <= (uint64_t)b + blen;
}

/* The region of alt a holding addr, or NULL. */
static const struct layout_region *region_at(const struct layout_mem *a, uint32_t addr)
{
	for (unsigned r = 0; a->have_layout && r < a->layout.n_regions; r++) {
		const struct layout_region *rg = &a->layout.regions[r];
		if (addr >= rg->start && (uint64_t)addr < (uint64_t)rg->start + rg->length)
			return rg;
	}
	return NULL;
}

int ops_read_check(struct ops_session *s, int alt, uint32_t addr, size_t len, bool force)
{
	err_clear(&s->err);
	uint64_t end = (uint64_t)addr + len;
	if (alt >= 0 && (unsigned)alt >= s->map->n)
		return err_set(&s->err, STM32DFU_E_USAGE, "{@alt} %d: the device has %u alternate setting%s (0 to %u)", alt,
		               s->map->n, s->map->n == 1 ? "" : "s", s->map->n ? s->map->n - 1 : 0);
	if (end > 0x100000000ull)
		return err_set(&s->err, STM32DFU_E_RANGE, "read: 0x%08X + %zu runs past 4 GiB", addr, len);
	if (force)
		return 0;
	/* inside a memory an alt setting lists, and away from DBGMCU: nothing more to know (the
	 * identity costs some 25 transfers, a twentieth of a 1 MiB read) */
	if (!overlaps(addr, end, 0xE0042000u, 4))
		for (unsigned i = 0; i < s->map->n; i++) {
			const struct layout_region *rg = alt >= 0 && (unsigned)alt != s->map->mem[i].alt
			                                     ? NULL : region_at(&s->map->mem[i], addr);
			if (rg && inside(addr, end, rg->start, rg->length))
				return 0;
		}
	ops_identify(s);
	const struct chip_family *fam = s->id.chip.family;
	/* protocol.md 2.3: the F7 ROM reads DBGMCU_IDCODE with byte accesses and never answers again */
	if (fam && (fam->quirks & CHIP_Q_DBGMCU_HANGS) && overlaps(addr, end, 0xE0042000u, 4)) {
		err_set(&s->err, STM32DFU_E_RANGE, "read: 0x%08X-0x%08X covers DBGMCU_IDCODE (0xE0042000), whose read hangs the "
		        "%s ROM bootloader until a power cycle", addr, (unsigned)(end - 1), fam->name);
		err_hint(&s->err, "the chip is identified without it ({@info}); {@force} reads it anyway");
		return STM32DFU_E_RANGE;
	}
	/* the memories the alt settings list, and the identity registers the ROM serves outside them */
	for (unsigned i = 0; i < s->map->n; i++) {
		if (alt >= 0 && (unsigned)alt != s->map->mem[i].alt)
			continue;
		const struct layout_region *rg = region_at(&s->map->mem[i], addr);
		if (rg && inside(addr, end, rg->start, rg->length))
			return 0;
		if (rg) {
			err_set(&s->err, STM32DFU_E_RANGE, "read: 0x%08X-0x%08X runs past the end of %s at 0x%08X", addr,
			        (unsigned)(end - 1), s->map->mem[i].have_layout ? s->map->mem[i].layout.name : "the memory",
			        (unsigned)(rg->start + rg->length));
			err_hint(&s->err, "the memory map is shown below; {@force} reads outside it");
			return STM32DFU_E_RANGE;
		}
	}
	/* over USART the ROM NACKs RAM it does not serve (its own, past AN2606's range): the map lists
	 * what it serves, the rest is refused here as a write there is (write_mem.c) */
	char what[48];
	snprintf(what, sizeof what, "read: 0x%08X-0x%08X", addr, (unsigned)(end - (len ? 1 : 0)));
	if (wr_uart_ram_refused(s, what, addr, end, "read", "read", "read") < 0)
		return s->err.code;
	/* RAM: the ROM reads and writes it without listing it (AN2606 Table 5; protocol.md 2.3), in the
	 * SRAM region of the Cortex-M memory map (ARMv7-M B3.1: 0x20000000-0x3FFFFFFF) */
	if (fam && alt < 0 && inside(addr, end, 0x20000000u, 0x20000000u))
		return 0;
	if (fam && alt < 0 &&
	    (inside(addr, end, fam->uid_addr, 8) ||
	     inside(addr, end, fam->uid_addr + fam->uid_word2_offset, 4) ||
	     (fam->uid_word2_offset == 8 && inside(addr, end, fam->uid_addr, 12)) ||
	     (fam->flash_size_addr && inside(addr, end, fam->flash_size_addr, 2)) ||
	     (fam->bootloader_id_addr && inside(addr, end, fam->bootloader_id_addr, 2))))
		return 0;
	err_set(&s->err, STM32DFU_E_RANGE, "read: 0x%08X-0x%08X is outside the memory map%s", addr, (unsigned)(end - 1),
	        alt >= 0 ? " of that alternate setting" : "");
	err_hint(&s->err, "the memory map is shown below; {@force} reads outside it");
	return STM32DFU_E_RANGE;
}

int ops_verify(struct ops_session *s, const struct img *img, struct ops_verify_result *r)
{
	memset(r, 0, sizeof *r);
	err_clear(&s->err);
	uint64_t t0 = clock_now_us(ops_clock(s));
	uint64_t total = img_total_bytes(img), done = 0;
	/* over USART, RAM the ROM does not serve: refused before anything is read (it would NACK) */
	for (size_t i = 0; i < img->n_segs; i++) {
		const struct img_seg *seg = &img->segs[i];
		char what[40];
		snprintf(what, sizeof what, "the file's data at 0x%08X", seg->addr);
		if (seg->len && wr_uart_ram_refused(s, what, seg->addr, (uint64_t)seg->addr + seg->len, "read", "read",
		                                    "verify") < 0)
			return err_prefix(&s->err, "verify");
	}
	for (size_t i = 0; i < img->n_segs; i++) {
		const struct img_seg *seg = &img->segs[i];
		/* over USART where GET lists Get Checksum: an equal CRC needs no read (ops/compare.c); a
		 * different one is read, which names the first differing byte */
		if (ops_compare_range(s, seg->addr, seg->data, seg->len) == 1) {
			done += seg->len;
			ops_report(s, OPS_PHASE_VERIFY, done, total, "B");
			continue;
		}
		uint8_t *buf = malloc(seg->len ? seg->len : 1);
		if (!buf)
			return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
		int alt = img->n_targets ? seg->alt : alt_for(s, seg->addr, (uint32_t)seg->len);
		int rc = ops_read_mem(s, (uint8_t)alt, seg->addr, buf, seg->len, -1);
		/* a difference may be the line's (USART: two flipped bits pass the parity): reads go on
		 * until two in a row agree before a byte is called different */
		if (rc == 0 && memcmp(buf, seg->data, seg->len) != 0) {
			char differ[80];
			snprintf(differ, sizeof differ, "verify 0x%08X (%zu bytes): two reads differ", (unsigned)seg->addr,
			         seg->len);
			rc = ops_read_again(s, (uint8_t)alt, seg->addr, buf, seg->len, -1, differ, "verify");
		}
		if (rc < 0) {
			free(buf);
			return err_prefix(&s->err, "verify");
		}
		for (size_t k = 0; k < seg->len; k++) {
			if (buf[k] == seg->data[k])
				continue;
			if (r->mismatches++ == 0) {
				r->first_addr = seg->addr + (uint32_t)k;
				r->expected = seg->data[k];
				r->actual = buf[k];
			}
		}
		free(buf);
		done += seg->len;
		ops_report(s, OPS_PHASE_VERIFY, done, total, "B");
	}
	r->bytes = total;
	r->us = clock_now_us(ops_clock(s)) - t0;
	r->match = r->mismatches == 0;
	if (!r->match) {
		err_set(&s->err, STM32DFU_E_VERIFY, "verify: %llu bytes differ; first at 0x%08X: read 0x%02X, expected 0x%02X",
		        (unsigned long long)r->mismatches, r->first_addr, r->actual, r->expected);
		return STM32DFU_E_VERIFY;
	}
	/* a write left unfinished, now seen complete: its recovery file must not be applied later */
	return wr_rescue_clear_done(s, r->cleared_recovery, sizeof r->cleared_recovery);
}

/* The flash made the memory the next requests address (DfuSe: its alt setting). */
static int select_flash(struct ops_session *s, const struct layout_mem *fa)
{
	if (s->t->ops->select(s->t, fa->alt) < 0) {
		s->err = s->t->err;
		return s->err.code;
	}
	return 0;
}

static int flash_alt_selected(struct ops_session *s, const struct layout_mem **fa)
{
	*fa = ops_flash_alt(s);
	if (!*fa || !(*fa)->have_layout)
		return ops_no_flash(s);
	return select_flash(s, *fa);
}

static int erase_in_lists(struct ops_session *s, const struct layout_mem *fa, const struct plan_sector *secs,
                          size_t n, unsigned *erased);

int ops_mass_erase(struct ops_session *s)
{
	err_clear(&s->err);
	const struct layout_mem *fa;
	int rc = flash_alt_selected(s, &fa);
	if (rc < 0)
		return rc;
	struct plan_sector *secs = NULL;
	size_t n = 0;
	uint32_t limit = 0;
	if ((rc = ops_flash_sectors(s, &secs, &n, &limit)) < 0)
		return rc;
	/* with any sector protected the chip erases nothing and says nothing (sim/mem.c, RM0402
	 * 3.6.4): refused before anything is sent */
	if ((rc = ops_wrp_refuse_mass(s, secs, n)) < 0)
		goto out;
	if ((rc = select_flash(s, fa)) < 0)
		goto out;
	/* the ROM holds GETSTATUS (or answers busy) until the erase is over: the report says how long
	 * it typically takes, so a progress display can show time-based progress meanwhile (unit "ms") */
	uint64_t t0 = clock_now_us(ops_clock(s));
	ops_report(s, OPS_PHASE_ERASE, 0, chip_mass_erase_typ_ms(s->id.chip.family), "ms");
	/* erased only once read back blank: the sectors the part has (the flash-size register), not
	 * the die's whole map the ROM advertises */
	size_t keep = n;
	while (limit && keep && secs[keep - 1].start >= limit)
		keep--;
	if (!(s->t->caps & TARGET_CAP_MASS_ERASE)) {
		rc = err_set(&s->err, STM32DFU_E_UNSUPPORTED, "this bootloader lists no erase command");
	} else if ((rc = s->t->ops->erase_mass(s->t, 0)) < 0) {
		s->err = s->t->err;
		/* a USART ROM without a bootloader mass erase NACKs the special code (L0: stm32flash
		 * F_NO_ME, c1394c4); it erases page lists: every page of the part, a few commands */
		if (rc == STM32DFU_E_RANGE && s->t->kind == TARGET_AN3155 && keep) {
			log_info("mass erase: the bootloader refused the mass-erase code: erasing the %zu pages by lists", keep);
			err_clear(&s->err);
			rc = erase_in_lists(s, fa, secs, keep, NULL);
		}
	}
	if (rc < 0) {
		rc = err_prefix(&s->err, "mass erase");
		goto out;
	}
	uint64_t ms = (clock_now_us(ops_clock(s)) - t0) / 1000u;
	if ((rc = ops_erase_confirm(s, fa->alt, secs, keep, NULL)) < 0) {
		if (rc == STM32DFU_E_CANCELED)
			err_set(&s->err, rc, "stopped on request during the read-back: the mass erase was done "
			                     "(acknowledged), its read-back not finished");
		goto out;
	}
	ops_report(s, OPS_PHASE_ERASE, ms ? ms : 1, ms ? ms : 1, "ms");
out:
	free(secs);
	return rc;
}

/* "0-2, 5" from sector indices (in the order given; runs of consecutive numbers folded). */
static void sector_list_text(char *buf, size_t cap, const struct plan_sector *secs, size_t n)
{
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && k < cap; i++) {
		size_t j = i;
		while (j + 1 < n && secs[j + 1].index == secs[j].index + 1)
			j++;
		int w = j > i ? snprintf(buf + k, cap - k, "%s%u-%u", k ? ", " : "", secs[i].index, secs[j].index)
		              : snprintf(buf + k, cap - k, "%s%u", k ? ", " : "", secs[i].index);
		if (w < 0)
			break;
		k += (size_t)w;
		i = j;
	}
}

/* Says in the error what a sector erase that failed at secs[failed] (k sectors in one command) left
 * on the chip: those before erased, those of the command unknown, the rest not reached. */
static void erase_failed_at(struct ops_session *s, const struct plan_sector *secs, size_t n, size_t failed, size_t k)
{
	char done[160], rest[160], cmd[160];
	sector_list_text(done, sizeof done, secs, failed);
	sector_list_text(rest, sizeof rest, secs + failed + k, n - failed - k);
	if (k > 1) {
		sector_list_text(cmd, sizeof cmd, secs + failed, k);
		err_prefix(&s->err, "erase: sectors %s at 0x%08X (one erase command) failed: each may be erased or not%s%s%s%s%s",
		           cmd, secs[failed].start, failed ? "; before them sector(s) " : "", done,
		           failed ? " were erased (acknowledged, not read back)" : "", n > failed + k ? "; not reached: " : "",
		           rest);
		return;
	}
	err_prefix(&s->err, "erase: sector %u at 0x%08X failed%s%s%s%s%s", secs[failed].index, secs[failed].start,
	           failed ? " after sector(s) " : "", done, failed ? " were erased (acknowledged, not read back)" : "",
	           n > failed + 1 ? "; not reached: " : "", rest);
}

/* Ctrl-C between two sector erases (a safe point: no sector is half-erased): says what is erased. */
static int erase_stopped_before(struct ops_session *s, const struct plan_sector *secs, size_t n, size_t next)
{
	char done[160], rest[160];
	if (next == 0)
		return err_set(&s->err, STM32DFU_E_CANCELED, "erase stopped on request before any sector was erased");
	sector_list_text(done, sizeof done, secs, next);
	sector_list_text(rest, sizeof rest, secs + next, n - next);
	return err_set(&s->err, STM32DFU_E_CANCELED,
	               "erase stopped on request: sector(s) %s erased (acknowledged, not read back); not erased: %s", done,
	               rest);
}

/* Erases secs[0..n), over USART several pages a command (rec_erase_batch); Ctrl-C is seen between
 * commands. On failure or a stop the error says what is erased, unknown and not reached. */
static int erase_in_lists(struct ops_session *s, const struct layout_mem *fa, const struct plan_sector *secs,
                          size_t n, unsigned *erased)
{
	for (size_t i = 0, k; i < n; i += k) {
		k = rec_erase_batch(s, secs + i, n - i);
		if (ops_canceled(s))
			return erase_stopped_before(s, secs, n, i);
		/* retried like the write's erases; an H7 rev V wedge is cleared and blank-checked */
		int rc = rec_erase_list(s, fa->alt, secs + i, k);
		if (rc < 0) {
			erase_failed_at(s, secs, n, i, k);
			return rc;
		}
		if (erased)
			*erased = (unsigned)(i + k);
		ops_report(s, OPS_PHASE_ERASE, i + k, n, "sectors");
	}
	return 0;
}

int ops_erase_sectors(struct ops_session *s, const unsigned *sectors, size_t n, unsigned *erased)
{
	if (erased)
		*erased = 0;
	err_clear(&s->err);
	const struct layout_mem *fa;
	int rc = flash_alt_selected(s, &fa);
	if (rc < 0)
		return rc;
	struct plan_sector *secs = calloc(n ? n : 1, sizeof *secs);
	if (!secs)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct layout_sector ls;
		if (!layout_sector_at(&fa->layout, 0, sectors[i], &ls))
			rc = err_set(&s->err, STM32DFU_E_RANGE, "erase: the flash has no sector %u", sectors[i]);
		else if (!(ls.type & LAYOUT_ERASABLE))
			rc = err_set(&s->err, STM32DFU_E_RANGE, "erase: sector %u is not erasable", sectors[i]);
		if (rc < 0)
			goto out;
		secs[i] = (struct plan_sector){ls.start, ls.size, ls.index};
	}
	/* the ROM would ignore the erase of a protected sector without an error: refused first */
	if ((rc = ops_wrp_refuse(s, "erase", secs, n, NULL)) < 0)
		goto out;
	if ((rc = erase_in_lists(s, fa, secs, n, erased)) < 0)
		goto out;
	/* erased only once read back blank */
	rc = ops_erase_confirm(s, fa->alt, secs, n, NULL);
	if (rc == STM32DFU_E_CANCELED) {
		char done[160];
		sector_list_text(done, sizeof done, secs, n);
		err_set(&s->err, rc, "erase stopped on request during the read-back: sector(s) %s erased (acknowledged), "
		                     "not all read back", done);
	}
out:
	free(secs);
	return rc;
}

int ops_erase_range(struct ops_session *s, uint32_t addr, uint32_t len, unsigned *erased)
{
	*erased = 0;
	err_clear(&s->err);
	const struct layout_mem *fa;
	int rc = flash_alt_selected(s, &fa);
	if (rc < 0)
		return rc;
	if (len == 0)
		return err_set(&s->err, STM32DFU_E_USAGE, "erase: the length is 0");
	unsigned list[4096];
	size_t n = 0;
	for (uint64_t a = addr; a < (uint64_t)addr + len;) {
		struct layout_sector ls;
		if (!layout_find(&fa->layout, (uint32_t)a, &ls))
			return err_set(&s->err, STM32DFU_E_RANGE, "erase: 0x%08X is outside the flash", (unsigned)a);
		if (ls.region != 0 || n >= sizeof list / sizeof list[0])
			return err_set(&s->err, STM32DFU_E_RANGE, "erase: 0x%08X is not in the main flash region", (unsigned)a);
		list[n++] = ls.index;
		a = (uint64_t)ls.start + ls.size;
	}
	return ops_erase_sectors(s, list, n, erased);
}

int ops_erase_span(struct ops_session *s, uint32_t addr, uint32_t len, uint32_t *first, uint64_t *end)
{
	const struct layout_mem *fa = ops_flash_alt(s);
	struct layout_sector lo, hi;
	if (!fa || !fa->have_layout || !len || !layout_find(&fa->layout, addr, &lo) ||
	    !layout_find(&fa->layout, (uint32_t)((uint64_t)addr + len - 1), &hi))
		return err_set(&s->err, STM32DFU_E_RANGE, "erase: 0x%08X (%u bytes) is outside the flash", addr, len);
	*first = lo.start;
	*end = (uint64_t)hi.start + hi.size;
	return 0;
}

/* Within a memory the flash alt names (the layout's regions). */
static bool in_flash(const struct layout_mem *fa, uint32_t a)
{
	for (unsigned r = 0; fa && fa->have_layout && r < fa->layout.n_regions; r++) {
		const struct layout_region *rg = &fa->layout.regions[r];
		if (a >= rg->start && (uint64_t)a < (uint64_t)rg->start + rg->length)
			return true;
	}
	return false;
}

/* SRAM as the Cortex-M memory map places it (ARMv7-M ARM B3.1: the SRAM region 0x20000000-
 * 0x3FFFFFFF, where every STM32 has its main SRAM), plus the F3/F4 core-coupled RAM at 0x10000000
 * (64 KiB at most, RM0090 §2.3). The initial MSP is the top of the stack: the end of a RAM is valid. */
static bool in_ram(uint32_t a)
{
	return (a > 0x20000000u && a <= 0x40000000u) || (a > 0x10000000u && a <= 0x10010000u);
}

bool ops_leave_vector_ok(const struct ops_leave_result *r)
{
	return r->vector_read && r->sp_in_ram && r->reset_in_code && r->reset_thumb;
}

const char *ops_leave_rule_name(enum ops_leave_rule r)
{
	switch (r) {
	case OPS_LEAVE_FLASH_START: return "flash-start";
	case OPS_LEAVE_ENTRY: return "entry";
	case OPS_LEAVE_FIRST_TABLE: return "vector-table";
	default: return "given";
	}
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The two words at p, as the ROM would load them from a table at a, look runnable. */
static bool table_at(const struct layout_mem *fa, uint32_t a, const uint8_t *p)
{
	uint32_t sp = le32(p), pc = le32(p + 4);
	if (!in_ram(sp) || (sp & 3u) || !(pc & 1u))
		return false;
	uint32_t code = pc & ~1u;
	return in_flash(fa, code) || (!in_flash(fa, a) && in_ram(code + 1u));
}

int ops_leave_pick(struct ops_session *s, const struct img *img, uint32_t *addr, enum ops_leave_rule *rule)
{
	const struct layout_mem *fa = ops_flash_alt(s);
	bool have_first = false;
	uint32_t first = 0;
	for (size_t i = 0; i < img->n_segs; i++) {
		const struct img_seg *g = &img->segs[i];
		for (uint64_t a = g->addr; a + 8 <= (uint64_t)g->addr + g->len;) {
			const uint8_t *p = g->data + (a - g->addr);
			if (!(a & 3u) && table_at(fa, (uint32_t)a, p)) {
				if (img->has_entry && ((le32(p + 4) ^ img->entry) & ~1u) == 0) {
					*addr = (uint32_t)a;
					*rule = OPS_LEAVE_ENTRY;
					return 0;
				}
				if (!have_first || a < first) {
					have_first = true;
					first = (uint32_t)a;
				}
			}
			a = (a | 127u) + 1u; /* the next 128-byte boundary */
		}
	}
	if (have_first) {
		*addr = first;
		*rule = OPS_LEAVE_FIRST_TABLE;
		if (img->has_entry)
			log_info("leave: no vector table in the file has the entry point 0x%08X as its reset vector; "
			         "the lowest one is at 0x%08X", img->entry, first);
		return 0;
	}
	err_set(&s->err, STM32DFU_E_USAGE, "{@leave}: the file holds no vector table (initial stack pointer in RAM, "
	        "reset vector with the Thumb bit into flash)%s; nothing was written",
	        img->has_entry ? " whose reset vector is its entry point" : "");
	err_hint(&s->err, "write it without {@leave}, then {@leave-at} with the address of the "
	                  "application's vector table");
	return STM32DFU_E_USAGE;
}

/* What the ROM will load: the initial MSP and the reset vector at the jump address (AN3156 §5.5). */
static void read_vector(struct ops_session *s, const struct layout_mem *fa, struct ops_leave_result *r)
{
	uint8_t v[8];
	uint8_t alt = (uint8_t)alt_for(s, r->addr, sizeof v);
	if (ops_read_mem(s, alt, r->addr, v, sizeof v, -1) < 0) {
		log_info("leave: cannot read the vector table at 0x%08X (%s)", r->addr, s->err.msg);
		err_clear(&s->err);
		return;
	}
	r->vector_read = true;
	r->sp = (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
	r->reset = (uint32_t)v[4] | (uint32_t)v[5] << 8 | (uint32_t)v[6] << 16 | (uint32_t)v[7] << 24;
	r->sp_in_ram = in_ram(r->sp);
	r->reset_thumb = (r->reset & 1u) != 0;
	/* code runs from flash; an application loaded into RAM and started there runs from RAM */
	uint32_t entry = r->reset & ~1u;
	r->reset_in_code = in_flash(fa, entry) || (!in_flash(fa, r->addr) && in_ram(entry + 1u));
}

int ops_leave(struct ops_session *s, bool have_addr, uint32_t addr, struct ops_leave_result *r)
{
	memset(r, 0, sizeof *r);
	err_clear(&s->err);
	const struct layout_mem *fa = ops_flash_alt(s);
	if (!have_addr) {
		if (!fa || !fa->have_layout || fa->layout.n_regions == 0)
			return err_set(&s->err, STM32DFU_E_UNSUPPORTED,
			               "leave: the device names no flash memory; give the address of the vector table");
		addr = fa->layout.regions[0].start;
	}
	r->addr = addr;
	r->rule = have_addr ? OPS_LEAVE_GIVEN : OPS_LEAVE_FLASH_START;
	read_vector(s, fa, r);
	if (fa && select_flash(s, fa) < 0)
		return s->err.code;
	/* the DfuSe ROM jumps to the last Set Address Pointer (AN3156 §5.5), which after a read or a
	 * verify is wherever the last run started: the target sets it right before leaving. AN3155
	 * Go carries its address; its second ACK says the address is valid, then the chip jumps */
	int rc = s->t->ops->go(s->t, true, addr);
	if (rc < 0) {
		s->err = s->t->err;
		return err_prefix(&s->err, "leave");
	}
	r->confirmed = rc > 0;
	/* over USART nothing is sent afterwards to see whether it runs: a 0x7F would reach the
	 * application */
	if (!(s->t->caps & TARGET_CAP_LEAVE_SEEN))
		return 0;
	/* The ROM disconnects, then runs the application, or resets into the bootloader when the
	 * target holds no code it can run: watch the bus to tell which. */
	rc = ops_reconnect(s, OPS_LEAVE_WATCH_MS);
	if (rc == 0) {
		err_set(&s->err, STM32DFU_E_NOT_STARTED,
		        "leave: the application did not start (the bootloader came back, same UID) after jumping to 0x%08X",
		        addr);
		err_hint(&s->err, ops_leave_vector_ok(r)
		                      ? "the application reset itself or the chip booted from the bootloader again (BOOT0 "
		                        "high?); check the boot pins and the application's start-up"
		                      : "the vector table there is not runnable: write the application there, or give "
		                        "{@leave-at}, given the address of its vector table");
		return STM32DFU_E_NOT_STARTED;
	}
	if (rc == STM32DFU_E_TIMEOUT) {
		err_prefix(&s->err, "leave");
		err_hint(&s->err, "the chip acknowledged the leave request but stayed on the bus: reset it by hand");
		return rc;
	}
	/* gone and not back as the bootloader (or back as something else: the application) */
	log_debug("leave: the device left the bus (%s)", s->err.msg);
	err_clear(&s->err);
	r->gone = true;
	return 0;
}
