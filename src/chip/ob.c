/*
 * The option-byte engine: decode, default block, set (validate + build with complements), diff; the
 * guards against a change that locks the chip are in ob_guard.c.
 * Field tables live in ob_tables_f.c (F0/F1/F3, F2/F4, F7) and ob_tables_lgh.c (L4, G0, G4, H7).
 */
#include "chip/ob.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/rd.h"

static uint32_t mask_of(unsigned width)
{
	return width >= 32 ? 0xFFFFFFFFu : ((1u << width) - 1u);
}

/* Bytes a word occupies in the block (value plus complement). */
static size_t word_span(const struct ob_word *w)
{
	switch (w->cpl) {
	case OB_CPL_HIGH16: return 4;
	case OB_CPL_NEXT32: return 8;
	case OB_CPL_BYTE: return 2;
	case OB_CPL_NONE: break;
	}
	return (size_t)(w->bits / 8);
}

static bool word_present(const struct ob_word *w, size_t len)
{
	return (size_t)w->offset + word_span(w) <= len;
}

/* Reads a word's value and complement (caller checked word_present). */
static void word_get(const struct ob_word *w, const uint8_t *b, uint32_t *val, uint32_t *cpl)
{
	const uint8_t *p = b + w->offset;
	*cpl = 0;
	switch (w->cpl) {
	case OB_CPL_HIGH16:
		*val = get_le16(p);
		*cpl = get_le16(p + 2);
		return;
	case OB_CPL_NEXT32:
		*val = get_le32(p);
		*cpl = get_le32(p + 4);
		return;
	case OB_CPL_BYTE:
		*val = p[0];
		*cpl = p[1];
		return;
	case OB_CPL_NONE:
		break;
	}
	*val = w->bits == 8 ? p[0] : w->bits == 16 ? get_le16(p) : get_le32(p);
}

static bool word_cpl_ok(const struct ob_word *w, uint32_t val, uint32_t cpl)
{
	if (w->cpl == OB_CPL_NONE)
		return true;
	return ((val ^ cpl) & mask_of(w->bits)) == mask_of(w->bits);
}

static void word_put(const struct ob_word *w, uint8_t *b, uint32_t val)
{
	uint8_t *p = b + w->offset;
	val &= mask_of(w->bits);
	switch (w->cpl) {
	case OB_CPL_HIGH16:
		put_le16(p, (uint16_t)val);
		put_le16(p + 2, (uint16_t)~val);
		return;
	case OB_CPL_NEXT32:
		put_le32(p, val);
		put_le32(p + 4, ~val);
		return;
	case OB_CPL_BYTE:
		p[0] = (uint8_t)val;
		p[1] = (uint8_t)~val;
		return;
	case OB_CPL_NONE:
		break;
	}
	if (w->bits == 8)
		p[0] = (uint8_t)val;
	else if (w->bits == 16)
		put_le16(p, (uint16_t)val);
	else
		put_le32(p, val);
}

int ob_rdp_level(const struct ob_layout *l, uint32_t rdp)
{
	if (rdp == l->rdp_level0)
		return 0;
	if (l->has_rdp2 && rdp == 0xCC)
		return 2;
	return 1;
}

uint32_t ob_boot_address(const struct ob_field *f, uint32_t v)
{
	return f->kind == OB_K_BOOT_ADDR_F7 ? v << 14 : f->kind == OB_K_BOOT_ADDR_U5 ? v << 7 : v << 16;
}

/* Lists the set (or clear) bits of v as group numbers from first. */
static void list_groups(char *buf, size_t len, const char *lead, uint32_t v, unsigned width, unsigned first,
			bool set)
{
	size_t pos = (size_t)snprintf(buf, len, "%s", lead);
	for (unsigned i = 0; i < width && pos < len; i++)
		if (((v >> i) & 1u) == (set ? 1u : 0u))
			pos += (size_t)snprintf(buf + pos, len - pos, " %u", first + i);
}

static void describe(const struct ob_layout *l, const struct ob_field *f, uint32_t v, char *buf, size_t len)
{
	const char *named = NULL;
	for (const struct ob_value_name *n = f->values; n && n->meaning; n++)
		if (n->value == v) {
			named = n->meaning;
			break;
		}
	uint32_t m = mask_of(f->width);
	unsigned first = f->wrp_group1 ? f->wrp_group1 - 1u : 0u;
	switch (f->kind) {
	case OB_K_RDP: {
		int lvl = ob_rdp_level(l, v);
		snprintf(buf, len, "%s", lvl == 0 ? "level 0: no read protection"
					 : lvl == 2 ? "level 2: chip permanently protected"
						    : "level 1: read protection, reads need Read Unprotect");
		return;
	}
	case OB_K_NWRP:
		/* a group field numbers its bits from its first group (F0 WRP1: groups 8-15) */
		if ((v & m) == m)
			snprintf(buf, len, "no write protection");
		else
			list_groups(buf, len, "write-protected:", v, f->width, first, false);
		return;
	case OB_K_BOOT_ADDR_F7:
	case OB_K_BOOT_ADDR_H7:
	case OB_K_BOOT_ADDR_U5:
		snprintf(buf, len, "boot at 0x%08X%s%s", (unsigned)ob_boot_address(f, v), named ? ": " : "",
			 named ? named : "");
		return;
	case OB_K_DATA:
		snprintf(buf, len, "user data 0x%02X (kept for the application, unused by the chip)", (unsigned)v);
		return;
	case OB_K_COUNT:
		snprintf(buf, len, "%s: %u", f->desc, (unsigned)v);
		return;
	case OB_K_WRP_START:
	case OB_K_WRP_END:
	case OB_K_PCROP_START:
	case OB_K_PCROP_END:
		/* ob_decode rewrites these from the pair; alone, the page or offset */
		snprintf(buf, len, "%s %u", f->kind == OB_K_WRP_START || f->kind == OB_K_WRP_END ? "page" : "offset",
			 (unsigned)v);
		return;
	default:
		break;
	}
	/* L0/L1: active-high write-protection bits (1 = the sector is protected) */
	if (f->kind == OB_K_PLAIN && f->wrp_group1 && l->wrp_active_high) {
		if ((v & m) == 0)
			snprintf(buf, len, "no write protection");
		else
			list_groups(buf, len, "write-protected:", v, f->width, first, true);
		return;
	}
	if (named)
		snprintf(buf, len, "%s", named);
	else
		snprintf(buf, len, "%s: 0x%X (no meaning in the reference manual)", f->desc, (unsigned)v);
}

/* A WRP or PCROP area is a START field followed by its END field: the area they make. */
static void describe_areas(const struct ob_layout *l, struct ob_decoded *d)
{
	for (size_t i = 0; i + 1 < d->n_fields; i++) {
		struct ob_field_value *s = &d->fields[i], *e = &d->fields[i + 1];
		bool wrp = s->field->kind == OB_K_WRP_START && e->field->kind == OB_K_WRP_END;
		bool pcrop = s->field->kind == OB_K_PCROP_START && e->field->kind == OB_K_PCROP_END;
		if ((!wrp && !pcrop) || !s->present || !e->present)
			continue;
		char area[96];
		if (s->value > e->value)
			snprintf(area, sizeof area, "no %s area (start %u > end %u)", wrp ? "write-protected" : "PCROP",
				 (unsigned)s->value, (unsigned)e->value);
		else if (wrp)
			snprintf(area, sizeof area, "pages %u-%u write-protected", (unsigned)s->value, (unsigned)e->value);
		else {
			uint32_t base = 0x08000000u, unit = s->field->unit ? s->field->unit : 1u;
			snprintf(area, sizeof area, "PCROP area 0x%08X-0x%08X", (unsigned)(base + s->value * unit),
				 (unsigned)(base + (e->value + 1u) * unit - 1u));
		}
		(void)l;
		snprintf(s->meaning, sizeof s->meaning, "%s", area);
		snprintf(e->meaning, sizeof e->meaning, "%s", area);
		i++;
	}
}

int ob_decode(const struct chip_family *fam, const uint8_t *block, size_t len, struct ob_decoded *out,
	      struct err *e)
{
	memset(out, 0, sizeof(*out));
	out->rdp_level = -1;
	if (!fam || !fam->ob)
		return err_set(e, STM32DFU_E_UNSUPPORTED, "no option-byte table for %s",
			       fam ? fam->name : "this chip");
	const struct ob_layout *l = fam->ob;
	out->layout = l;
	if (!block || len < l->min_size)
		return err_set(e, STM32DFU_E_RANGE, "option-byte block of %zu bytes, %s needs at least %u", len,
			       fam->id, (unsigned)l->min_size);
	out->short_block = len < l->size;
	uint32_t vals[OB_MAX_WORDS] = {0};
	bool present[OB_MAX_WORDS] = {false};
	for (size_t i = 0; i < l->n_words && i < OB_MAX_WORDS; i++) {
		const struct ob_word *w = &l->words[i];
		struct ob_word_check *c = &out->words[out->n_words++];
		c->word = w;
		c->has_cpl = w->cpl != OB_CPL_NONE;
		c->present = present[i] = word_present(w, len);
		c->ok = true;
		if (!c->present)
			continue;
		word_get(w, block, &c->value, &c->complement);
		vals[i] = c->value;
		c->ok = word_cpl_ok(w, c->value, c->complement);
		if (!c->ok)
			out->complement_errors++;
	}
	for (size_t i = 0; i < l->n_fields && i < OB_MAX_FIELDS; i++) {
		const struct ob_field *f = &l->fields[i];
		struct ob_field_value *fv = &out->fields[out->n_fields++];
		fv->field = f;
		if (f->word >= l->n_words || !present[f->word])
			continue;
		fv->present = true;
		fv->value = (vals[f->word] >> f->shift) & mask_of(f->width);
		fv->is_default = fv->value == f->def;
		describe(l, f, fv->value, fv->meaning, sizeof(fv->meaning));
		if (f->kind == OB_K_RDP && out->rdp_level < 0)
			out->rdp_level = ob_rdp_level(l, fv->value);
	}
	describe_areas(l, out);
	return 0;
}

void ob_fix_complements(const struct ob_layout *l, uint8_t *block, size_t len)
{
	for (size_t i = 0; i < l->n_words; i++) {
		uint32_t v, c;
		if (!word_present(&l->words[i], len))
			continue;
		word_get(&l->words[i], block, &v, &c);
		word_put(&l->words[i], block, v);
	}
}

int ob_default_block(const struct chip_family *fam, uint8_t *out, size_t cap, size_t *out_len)
{
	if (!fam || !fam->ob)
		return STM32DFU_E_UNSUPPORTED;
	const struct ob_layout *l = fam->ob;
	if (cap < l->size)
		return STM32DFU_E_RANGE;
	memset(out, l->fill, l->size);
	for (size_t i = 0; i < l->n_words; i++)
		word_put(&l->words[i], out, l->words[i].def);
	if (out_len)
		*out_len = l->size;
	return 0;
}

int ob_encode_field(const struct chip_family *fam, uint8_t *block, size_t len, const struct ob_field *f,
		    uint32_t value, struct err *e)
{
	const struct ob_layout *l = fam ? fam->ob : NULL;
	if (!l || !f || f->word >= l->n_words)
		return err_set(e, STM32DFU_E_INTERNAL, "bad option-byte field");
	const struct ob_word *w = &l->words[f->word];
	if (!word_present(w, len))
		return err_set(e, STM32DFU_E_RANGE, "%s: not in a %zu-byte block", f->name, len);
	if (value > mask_of(f->width))
		return err_set(e, STM32DFU_E_USAGE, "%s: 0x%X does not fit in %u bits", f->name,
			       (unsigned)value, (unsigned)f->width);
	uint32_t v, c;
	word_get(w, block, &v, &c);
	uint32_t m = mask_of(f->width) << f->shift;
	v = (v & ~m) | ((value << f->shift) & m);
	word_put(w, block, v);
	return 0;
}

const struct ob_field *ob_field_by_name(const struct ob_layout *l, const char *name)
{
	if (!l || !name)
		return NULL;
	for (size_t i = 0; i < l->n_fields; i++)
		if (strcasecmp(l->fields[i].name, name) == 0)
			return &l->fields[i];
	return NULL;
}

/* Strict unsigned parse: base 0 ("0x.."/decimal), or base 16 when hex16; whole string. */
static bool parse_u32(const char *s, int base, uint32_t *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, base);
	if (errno || *end || v > 0xFFFFFFFFul)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* A named value is a word: tables that name levels by a digit ("2") are offered as "level2", so
 * that every number means the raw field value (BOR_LEV=2 and BOR_LEV=0x2 are the same), as with
 * CubeProgrammer's -ob. */
static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

const char *ob_value_word(const struct ob_value_name *n, char *buf, size_t cap)
{
	if (!n->name)
		return NULL;
	if (!all_digits(n->name))
		return n->name;
	snprintf(buf, cap, "level%s", n->name);
	return buf;
}

size_t ob_named_values(const struct ob_layout *l, const struct ob_field *f, struct ob_named *out, size_t cap)
{
	size_t n = 0;
	if (f->kind == OB_K_RDP) {
		/* the words parse_value takes for the levels; level2 only where the family has it */
		const uint32_t bytes[3] = {l->rdp_level0, OB_RDP_LEVEL1_BYTE, 0xCC};
		for (unsigned i = 0; i < (l->has_rdp2 ? 3u : 2u) && n < cap; i++, n++) {
			snprintf(out[n].word, sizeof out[n].word, "level%u", i);
			out[n].value = bytes[i];
			describe(l, f, bytes[i], out[n].meaning, sizeof out[n].meaning);
		}
	}
	for (const struct ob_value_name *v = f->values; v && v->meaning && n < cap; v++) {
		const char *word = ob_value_word(v, out[n].word, sizeof out[n].word);
		if (!word)
			continue;
		if (word != out[n].word)
			snprintf(out[n].word, sizeof out[n].word, "%s", word);
		out[n].value = v->value;
		describe(l, f, v->value, out[n].meaning, sizeof out[n].meaning);
		n++;
	}
	return n;
}

static void list_symbols(const struct ob_field *f, char *buf, size_t len)
{
	size_t pos = 0;
	buf[0] = 0;
	for (const struct ob_value_name *n = f->values; n && n->meaning && pos < len; n++) {
		char w[32];
		const char *word = ob_value_word(n, w, sizeof w);
		if (word)
			pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", pos ? ", " : "", word);
	}
}

static int parse_value(const struct ob_layout *l, const struct ob_field *f, const char *s, uint32_t *out,
		       struct err *e)
{
	for (const struct ob_value_name *n = f->values; n && n->meaning; n++) {
		char w[32];
		const char *word = ob_value_word(n, w, sizeof w);
		if (word && strcasecmp(word, s) == 0) {
			*out = n->value;
			return 0;
		}
	}
	uint32_t v;
	if (f->kind == OB_K_RDP) {
		/* words name the levels; a number is the raw byte (0xAA level 0, 0xCC level 2, else 1) */
		if (strcasecmp(s, "level0") == 0) {
			*out = l->rdp_level0;
			return 0;
		}
		if (strcasecmp(s, "level1") == 0) {
			*out = OB_RDP_LEVEL1_BYTE;
			return 0;
		}
		if (strcasecmp(s, "level2") == 0) {
			if (!l->has_rdp2)
				return err_set(e, STM32DFU_E_USAGE, "RDP: this family has no level 2");
			*out = 0xCC;
			return 0;
		}
		if (!parse_u32(s, 0, &v) || v > 0xFF) {
			err_set(e, STM32DFU_E_USAGE, "RDP: '%s' is not level0, level1, level2 or a byte", s);
			err_hint(e, "use RDP=level0 (0x%02X), RDP=level1, RDP=level2 (0xCC, permanent) or a raw byte like RDP=0x%02X",
			         l->rdp_level0, l->rdp_level0);
			return e ? e->code : STM32DFU_E_USAGE;
		}
		if (v <= 2) {
			/* the raw byte 0, 1 or 2 means level 1: almost surely a level was meant */
			err_set(e, STM32DFU_E_USAGE, "RDP=%s is the raw byte 0x%02X (every byte but 0x%02X and 0xCC means level 1): "
			        "a level is said as a word", s, (unsigned)v, l->rdp_level0);
			err_hint(e, "RDP=level%u", (unsigned)v);
			return e ? e->code : STM32DFU_E_USAGE;
		}
		*out = v;
		return 0;
	}
	bool raw = strncasecmp(s, "raw:", 4) == 0;
	if (raw)
		s += 4;
	if (!parse_u32(s, 0, &v)) {
		char syms[160];
		list_symbols(f, syms, sizeof(syms));
		err_set(e, STM32DFU_E_USAGE, "%s: '%s' is not a number%s", f->name, s,
			syms[0] ? " or a known name" : "");
		if (syms[0])
			err_hint(e, "%s accepts %s, or a raw number", f->name, syms);
		return e ? e->code : STM32DFU_E_USAGE;
	}
	/* BOOT_ADDx holds an address: a number is always one (a raw field value is said raw:N) */
	if ((f->kind == OB_K_BOOT_ADDR_F7 || f->kind == OB_K_BOOT_ADDR_H7) && !raw) {
		unsigned sh = f->kind == OB_K_BOOT_ADDR_F7 ? 14 : 16;
		if (v & ((1u << sh) - 1u)) {
			err_set(e, STM32DFU_E_USAGE, "%s: address 0x%08X is not %u KiB aligned", f->name, (unsigned)v,
			        (1u << sh) / 1024);
			err_hint(e, "%s takes the boot address (0x08000000) or a name; the raw field value is said "
			            "raw:N (%s=raw:0x0080)", f->name, f->name);
			return e ? e->code : STM32DFU_E_USAGE;
		}
		v >>= sh;
	}
	if (v > mask_of(f->width))
		return err_set(e, STM32DFU_E_USAGE, "%s: %s is out of range (0..0x%X)", f->name, s,
			       (unsigned)mask_of(f->width));
	/* a value the reference manual reserves is refused, the valid ones listed */
	for (const struct ob_value_name *n = f->values; n && n->meaning; n++) {
		if (n->value != v || n->name || strcmp(n->meaning, "reserved") != 0)
			continue;
		char valid[300];
		size_t pos = 0;
		valid[0] = 0;
		for (const struct ob_value_name *k = f->values; k && k->meaning && pos < sizeof valid; k++)
			if (k->name)
				pos += (size_t)snprintf(valid + pos, sizeof valid - pos, "%s%u (%s)", pos ? ", " : "",
				                        (unsigned)k->value, k->meaning);
		err_set(e, STM32DFU_E_USAGE, "%s=%s is a reserved value on %s", f->name, s, l->id);
		err_hint(e, "valid: %s", valid);
		return e ? e->code : STM32DFU_E_USAGE;
	}
	*out = v;
	return 0;
}

int ob_write_supported(const struct chip_family *fam, struct err *e)
{
	if (!fam || !fam->ob)
		return err_set(e, STM32DFU_E_UNSUPPORTED, "no option-byte table for %s", fam ? fam->name : "chip");
	if (fam->ob->writable)
		return 0;
	/* H7: the window at 0x5200201C is the FLASH option registers (OPTSR_CUR/_PRG, WPSN, BOOT; RM0433
	 * §4.9), not a stored block: they change through OPTSR_PRG and FLASH_OPTCR.OPTSTART (RM0433
	 * "Option byte modification"), and what the ROM does with a DNLOAD there is not documented (AN3156 names the alt only) */
	err_set(e, STM32DFU_E_UNSUPPORTED, "%s option bytes are decode-only in stm32dfu, for 'ob set' and a raw "
	        "block alike: %s; nothing was written", fam->name, fam->ob->note ? fam->ob->note : "no write rule is known");
	err_hint(e, "{@ob-show} decodes them; change them with STM32CubeProgrammer, or from the application "
	            "through the reference manual's option-byte sequence");
	return STM32DFU_E_UNSUPPORTED;
}

int ob_set(const struct chip_family *fam, const uint8_t *old, size_t len, const char *const *assigns,
	   size_t n_assigns, uint8_t *out, struct err *e)
{
	int wr = ob_write_supported(fam, e);
	if (wr < 0)
		return wr;
	const struct ob_layout *l = fam->ob;
	if (len < l->min_size)
		return err_set(e, STM32DFU_E_RANGE, "option-byte block of %zu bytes, need %u", len,
			       (unsigned)l->min_size);
	if (out != old)
		memmove(out, old, len);
	for (size_t i = 0; i < n_assigns; i++) {
		const char *a = assigns[i];
		const char *eq = a ? strchr(a, '=') : NULL;
		char name[40];
		if (!eq || eq == a || (size_t)(eq - a) >= sizeof(name))
			return err_set(e, STM32DFU_E_USAGE, "'%s': expected FIELD=VALUE", a ? a : "");
		memcpy(name, a, (size_t)(eq - a));
		name[eq - a] = 0;
		/* one value per field: a second one would silently win */
		for (size_t k = 0; k < i; k++) {
			const char *b = assigns[k], *beq = b ? strchr(b, '=') : NULL;
			if (beq && (size_t)(beq - b) == strlen(name) && strncasecmp(b, name, strlen(name)) == 0) {
				err_set(e, STM32DFU_E_USAGE, "%s is given twice ('%s' and '%s')", name, b, a);
				err_hint(e, "give each field once");
				return e ? e->code : STM32DFU_E_USAGE;
			}
		}
		const char *vs = eq + 1;
		const struct ob_field *f = ob_field_by_name(l, name);
		int bit = -1;
		if (!f) {
			/* nWRP3=0: one bit of a write-protection mask */
			for (size_t k = 0; k < l->n_fields && !f; k++) {
				const struct ob_field *c = &l->fields[k];
				size_t nl = strlen(c->name);
				uint32_t idx;
				if (c->kind != OB_K_NWRP || strncasecmp(name, c->name, nl) != 0 || !name[nl] ||
				    !isdigit((unsigned char)name[nl]) || !parse_u32(name + nl, 10, &idx) ||
				    idx >= c->width)
					continue;
				f = c;
				bit = (int)idx;
			}
		}
		if (!f) {
			err_set(e, STM32DFU_E_USAGE, "unknown option-byte field '%s' for %s", name, fam->id);
			err_hint(e, "{@ob-show} lists the fields");
			return e ? e->code : STM32DFU_E_USAGE;
		}
		uint32_t v = 0;
		if (bit >= 0) {
			uint32_t b, cur, c;
			if (!parse_u32(vs, 0, &b) || b > 1)
				return err_set(e, STM32DFU_E_USAGE, "%s: '%s' must be 0 (protected) or 1", name, vs);
			if (!word_present(&l->words[f->word], len))
				return err_set(e, STM32DFU_E_RANGE, "%s: not in this block", name);
			word_get(&l->words[f->word], out, &cur, &c);
			v = (cur >> f->shift) & mask_of(f->width);
			v = b ? (v | (1u << bit)) : (v & ~(1u << bit));
		} else {
			int rc = parse_value(l, f, vs, &v, e);
			if (rc)
				return rc;
		}
		int rc = ob_encode_field(fam, out, len, f, v, e);
		if (rc)
			return rc;
	}
	ob_fix_complements(l, out, len);
	return 0;
}

void ob_diff(const struct chip_family *fam, const uint8_t *old, const uint8_t *new_block, size_t len,
	     struct ob_diff *out)
{
	struct ob_decoded a, b;
	memset(out, 0, sizeof(*out));
	if (ob_decode(fam, old, len, &a, NULL) || ob_decode(fam, new_block, len, &b, NULL))
		return;
	for (size_t i = 0; i < a.n_fields && i < b.n_fields; i++) {
		if (!a.fields[i].present || !b.fields[i].present || a.fields[i].value == b.fields[i].value)
			continue;
		struct ob_change *c = &out->changes[out->n++];
		c->field = a.fields[i].field;
		c->old_value = a.fields[i].value;
		c->new_value = b.fields[i].value;
	}
	for (size_t i = 0; i < a.n_words && i < b.n_words; i++)
		if (!a.words[i].ok && b.words[i].ok)
			out->complements_repaired++;
}
