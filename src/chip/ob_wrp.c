/*
 * Write protection of one flash sector, as an option-byte block sets it (issue 11 items 2-3). The
 * ROM ignores an erase or a write of a protected sector without an error (AN3156 Table 4 note 1,
 * protocol.md 2.3), so the host reads the protection before it erases. Four schemes:
 *  - one nWRP bit per sector, 0 = protected (F2/F4/F7, H7 bank 1): the bit is the sector index
 *    (F76x in dual-bank mode: one bit per two sectors);
 *  - one bit per 4 KiB group, 0 = protected (F0/F1/F3 WRP0..WRP3): the last bit also guards the
 *    rest of the flash (RM0091 4.1.3, RM0008 2.5);
 *  - one bit per 4 KiB group, 1 = protected (L0/L1 WRPx words, RM0367 3.4.1);
 *  - WRP areas [start page, end page] (L4/G0/G4/WB/U5 bank 1), the layout counting pages.
 */
#include <stdio.h>
#include <string.h>

#include "chip/ob.h"

static uint32_t field_mask(const struct ob_field *f)
{
	return f->width >= 32 ? 0xFFFFFFFFu : (1u << f->width) - 1u;
}

/* The one-bit form ob_set takes: "nWRP2=1" (bit 2 of nWRP), "WRP03=1" (bit 3 of WRP0). */
static void say_bit(char *clear, size_t cap, const struct ob_field *f, unsigned bit)
{
	if (clear && cap)
		snprintf(clear, cap, "%s%u=1", f->name, bit);
}

/* Bit-per-group layouts (wrp_bit_bytes): groups [g0, g1] of the sector. */
static int group_bits(const struct ob_layout *l, const struct ob_decoded *d, uint32_t g0, uint32_t g1, char *clear,
                      size_t cap)
{
	const struct ob_field_value *last = NULL;
	uint32_t last_bit = 0, covered = 0;
	bool low_protects = !l->wrp_active_high;
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct ob_field_value *fv = &d->fields[i];
		const struct ob_field *f = fv->field;
		if (!f->wrp_group1 || (f->kind != OB_K_NWRP && f->kind != OB_K_PLAIN))
			continue;
		if (!fv->present)
			return -1;
		uint32_t first = (uint32_t)f->wrp_group1 - 1u;
		for (uint32_t b = 0; b < f->width; b++) {
			uint32_t g = first + b;
			bool prot = low_protects ? !(fv->value & (1u << b)) : (fv->value & (1u << b)) != 0;
			if (g >= g0 && g <= g1 && prot) {
				if (f->kind == OB_K_NWRP)
					say_bit(clear, cap, f, b);
				else if (clear && cap) /* active high: the whole word, that bit cleared */
					snprintf(clear, cap, "%s=0x%04X", f->name, (unsigned)(fv->value & ~(1u << b) & field_mask(f)));
				return 1;
			}
		}
		if (first + f->width > covered)
			covered = first + f->width;
		if (!last || first >= last_bit) {
			last = fv;
			last_bit = first + f->width - 1u;
		}
	}
	if (g1 < covered)
		return 0;
	/* past the last bit: on F0/F1/F3 the last bit guards the rest of the flash; elsewhere the
	 * block does not say (a bank this table does not decode) */
	if (!last || !low_protects)
		return -1;
	uint32_t b = last_bit - ((uint32_t)last->field->wrp_group1 - 1u);
	if (!(last->value & (1u << b))) {
		say_bit(clear, cap, last->field, b);
		return 1;
	}
	return 0;
}

/* One nWRP bit per sector, numbered across the nWRP fields in table order. */
static int sector_bits(const struct ob_decoded *d, unsigned idx, char *clear, size_t cap)
{
	unsigned base = 0;
	bool any = false;
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct ob_field_value *fv = &d->fields[i];
		if (fv->field->kind != OB_K_NWRP)
			continue;
		any = true;
		if (idx < base + fv->field->width) {
			if (!fv->present)
				return -1;
			if (fv->value & (1u << (idx - base)))
				return 0;
			say_bit(clear, cap, fv->field, idx - base);
			return 1;
		}
		base += fv->field->width;
	}
	return any ? -1 : 0;
}

/* F76x/F77x with nDBANK = 0: two banks of 12 sectors of half the single-bank size, and nWRP bit i
 * protects sectors 2i and 2i+1 (ST HAL stm32f7xx_hal_flash_ex.h: OB_WRP_DB_SECTOR_0 and _1 are both
 * 0x00010000, _22 and _23 both 0x08000000; RM0410 dual-bank organisation). */
static bool dual_bank(const struct ob_decoded *d)
{
	for (size_t i = 0; i < d->n_fields; i++)
		if (d->fields[i].field->kind == OB_K_NDBANK && d->fields[i].present)
			return d->fields[i].value == 0;
	return false;
}

/* The value of the field named name, -1 when the table has none or the block does not hold it. */
static long named(const struct ob_decoded *d, const char *name)
{
	for (size_t i = 0; i < d->n_fields; i++)
		if (strcmp(d->fields[i].field->name, name) == 0)
			return d->fields[i].present ? (long)d->fields[i].value : -1;
	return -1;
}

/* WRP areas: protected pages [STRT, END] when STRT <= END (the next field is the end). Areas of
 * bank 2 ("WRP2A_STRT": G4 in the 0x1FFFF800 zone, G0B1/G0C1 at 0x1FFF7858) count pages from bank 2's first sector,
 * bank2_first (0: not known; with DBANK = 1 the flash is two banks, RM0440 "Write protection"). */
static int areas(const struct ob_decoded *d, unsigned idx, unsigned bank2_first, char *clear, size_t cap)
{
	bool any = false, beyond = false;
	long dbank = named(d, "DBANK");
	if (dbank < 0)
		dbank = named(d, "DUAL_BANK"); /* G0B1/G0C1 */
	unsigned half = dbank == 1 ? bank2_first : 0;
	for (size_t i = 0; i + 1 < d->n_fields; i++) {
		const struct ob_field_value *s = &d->fields[i], *e = &d->fields[i + 1];
		if (s->field->kind != OB_K_WRP_START || e->field->kind != OB_K_WRP_END)
			continue;
		if (!s->present || !e->present)
			return -1;
		bool bank2 = strncmp(s->field->name, "WRP2", 4) == 0;
		unsigned page = idx;
		if (bank2) {
			if (dbank == 0)
				continue; /* single bank: no second bank to protect */
			if (!half) { /* where bank 2 starts is not known: an active area there leaves it open */
				if (s->value <= e->value)
					beyond = true;
				continue;
			}
			if (idx < half)
				continue;
			page = idx - half;
		} else if (half && idx >= half) {
			continue; /* a bank-1 area says nothing about bank 2 */
		}
		any = true;
		if (page > field_mask(s->field))
			beyond = true;
		else if (s->value <= e->value && page >= s->value && page <= e->value) {
			if (clear && cap)
				snprintf(clear, cap, "%s=0x%X %s=0x%X", s->field->name, (unsigned)s->field->def, e->field->name,
				         (unsigned)e->field->def);
			return 1;
		}
	}
	return !any ? 0 : beyond ? -1 : 0;
}

int ob_sector_write_protected(const struct chip_family *fam, const uint8_t *block, size_t len, unsigned idx,
                              uint32_t start, uint32_t size, char *clear, size_t cap)
{
	return ob_sector_wrp_banked(fam, block, len, idx, start, size, 0, clear, cap);
}

int ob_sector_wrp_banked(const struct chip_family *fam, const uint8_t *block, size_t len, unsigned idx,
                         uint32_t start, uint32_t size, unsigned bank2_first, char *clear, size_t cap)
{
	if (clear && cap)
		clear[0] = '\0';
	struct ob_decoded d;
	if (!fam || !fam->ob || size == 0 || ob_decode(fam, block, len, &d, NULL) != 0)
		return -1;
	const struct ob_layout *l = fam->ob;
	int rc;
	if (l->wrp_bit_bytes) {
		if (start < fam->flash_base)
			return -1;
		uint32_t off = start - fam->flash_base;
		rc = group_bits(l, &d, off / l->wrp_bit_bytes, (uint32_t)(((uint64_t)off + size - 1u) / l->wrp_bit_bytes),
		                clear, cap);
	} else {
		rc = sector_bits(&d, dual_bank(&d) ? idx / 2u : idx, clear, cap);
		int a = areas(&d, idx, bank2_first, rc == 1 ? NULL : clear, cap);
		if (rc != 1 && a != 0)
			rc = a;
	}
	return rc;
}
