/*
 * Identify the chip over DFU without DBGMCU (an UPLOAD of DBGMCU_IDCODE hangs the F7 ROM, protocol.md
 * §2.3, §6): from the alt-setting layout strings, then the bootloader-ID byte, the flash-size register
 * and the serial. The layout parse here is deliberately light; dfu/layout.c is the real parser.
 */
#include "chip/chip.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stm32dfu/stm32dfu.h"

/* Parses "N*SIZE[mult][type]" runs up to the next '/' or end. */
static bool parse_runs(const char **pp, struct chip_zone *z)
{
	const char *p = *pp;
	uint64_t total = 0;
	for (;;) {
		char *end;
		unsigned long count = strtoul(p, &end, 10);
		if (end == p || *end != '*' || count == 0 || count > 65535)
			return false;
		p = end + 1;
		unsigned long size = strtoul(p, &end, 10);
		if (end == p || size == 0 || size > 0xFFFFFFul)
			return false;
		p = end;
		uint64_t mult = 1;
		if (*p == 'K')
			mult = 1024, p++;
		else if (*p == 'M')
			mult = 1024 * 1024, p++;
		else if (*p == 'B' || *p == ' ')
			p++;
		if (*p >= 'a' && *p <= 'g')
			p++;
		uint64_t bytes = (uint64_t)size * mult;
		if (bytes > 0xFFFFFFFFu)
			return false;
		if (z->n_runs < sizeof(z->runs) / sizeof(z->runs[0]))
			z->runs[z->n_runs++] = (struct chip_sector_run){(uint16_t)count, (uint32_t)bytes};
		total += count * bytes;
		if (total > 0xFFFFFFFFu)
			return false;
		if (*p == ',') {
			p++;
			continue;
		}
		break;
	}
	z->total = (uint32_t)total;
	*pp = p;
	return true;
}

bool chip_parse_alt(const char *s, struct chip_alt_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!s || *s != '@')
		return false;
	const char *p = strchr(s, '/');
	if (!p)
		return false;
	size_t nl = (size_t)(p - s - 1);
	while (nl && s[nl] == ' ')
		nl--;
	if (nl >= sizeof(out->name))
		nl = sizeof(out->name) - 1;
	memcpy(out->name, s + 1, nl);
	out->name[nl] = 0;
	while (*p == '/' && out->n_zones < 2) {
		char *end;
		p++;
		if (strncasecmp(p, "0x", 2) != 0)
			return false;
		unsigned long addr = strtoul(p, &end, 16);
		if (end == p + 2 || *end != '/' || addr > 0xFFFFFFFFul)
			return false;
		struct chip_zone *z = &out->zones[out->n_zones];
		z->addr = (uint32_t)addr;
		p = end + 1;
		if (!parse_runs(&p, z))
			return false;
		out->n_zones++;
	}
	return out->n_zones > 0;
}

static bool runs_equal(const struct chip_zone *z, const struct chip_sector_run *r, size_t n)
{
	if (z->n_runs != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (z->runs[i].count != r[i].count || z->runs[i].size != r[i].size)
			return false;
	return true;
}

/* The uniform page size of a zone, 0 if mixed. */
static uint32_t page_size(const struct chip_zone *z)
{
	return z->n_runs == 1 ? z->runs[0].size : 0;
}

const char *chip_confidence_name(enum chip_confidence c)
{
	switch (c) {
	case CHIP_CONF_CERTAIN: return "certain";
	case CHIP_CONF_LIKELY: return "likely";
	case CHIP_CONF_GUESS: return "guess";
	case CHIP_CONF_NONE: break;
	}
	return "unknown";
}

void chip_bootloader_version(uint8_t id, char *buf, size_t len)
{
	snprintf(buf, len, "V%u.%u", (unsigned)(id >> 4), (unsigned)(id & 0xF));
}

struct cands {
	const struct chip_family *f[8];
	size_t n;
};

static void add(struct cands *c, const char *id)
{
	const struct chip_family *f = chip_family_by_id(id);
	if (f && c->n < 8)
		c->f[c->n++] = f;
}

static bool has_id(const struct chip_family *f, uint8_t id)
{
	for (size_t i = 0; i < sizeof(f->bootloader_ids) && f->bootloader_ids[i]; i++)
		if (f->bootloader_ids[i] == id)
			return true;
	return false;
}

/* Candidates from the layout strings, with a short description of what matched. */
static void from_layout(const struct chip_evidence *ev, const struct chip_zone *fl, const struct chip_zone *ob,
			bool ob2, struct cands *c, const char **why)
{
	static const struct chip_sector_run f4_1m[] = {{4, 16384}, {1, 65536}, {7, 131072}};
	static const struct chip_sector_run f4_512k[] = {{4, 16384}, {1, 65536}, {3, 131072}};
	static const struct chip_sector_run f4_2m[] = {{4, 16384}, {1, 65536}, {7, 131072},
						       {4, 16384}, {1, 65536}, {7, 131072}};
	static const struct chip_sector_run f74x[] = {{4, 32768}, {1, 131072}, {3, 262144}};
	static const struct chip_sector_run f76x[] = {{4, 32768}, {1, 131072}, {7, 262144}};
	/* F76x with nDBANK = 0: two banks of 4 x 16K, 64K, 7 x 128K (RM0410) */
	static const struct chip_sector_run f76x_db[] = {{4, 16384}, {1, 65536}, {7, 131072},
						         {4, 16384}, {1, 65536}, {7, 131072}};
	const char *serial = ev->usb_serial ? ev->usb_serial : "";
	uint32_t oba = ob ? ob->addr : 0, pg = fl ? page_size(fl) : 0;

	if (oba == 0x1FFF0000 || (fl && (runs_equal(fl, f74x, 3) || runs_equal(fl, f76x, 3)))) {
		*why = "F7 layout (OB at 0x1FFF0000 / 32K-128K-256K sectors)";
		if (fl && (runs_equal(fl, f76x, 3) || runs_equal(fl, f76x_db, 6)))
			add(c, "F76x");
		else if (fl && runs_equal(fl, f74x, 3))
			add(c, "F74x");
		else if (fl && runs_equal(fl, f4_512k, 3))
			add(c, "F72x");
		else {
			add(c, "F74x"), add(c, "F76x"), add(c, "F72x");
		}
		return;
	}
	if (oba == 0x1FFFC000 || (fl && (runs_equal(fl, f4_1m, 3) || runs_equal(fl, f4_512k, 3)))) {
		*why = "F2/F4 layout (OB at 0x1FFFC000, 16K-64K-128K sectors)";
		if (fl && runs_equal(fl, f4_2m, 6))
			add(c, "F42x");
		else if (fl && runs_equal(fl, f4_1m, 3))
			add(c, "F40x"), add(c, "F412"), add(c, "F2");
		else if (fl && runs_equal(fl, f4_512k, 3))
			add(c, "F401"), add(c, "F411"), add(c, "F446");
		else
			add(c, "F40x"), add(c, "F401"), add(c, "F411"), add(c, "F446"), add(c, "F2");
		return;
	}
	if (oba == 0x5200201C) {
		*why = "H7 layout (OB registers at 0x5200201C)";
		if ((ob && ob->total >= 256) || pg == 8192)
			add(c, "H7A3");
		else
			add(c, "H74x");
		return;
	}
	if (oba == 0x1FFF7800 && (ob2 || (ob && ob->total == 48))) {
		*why = "G4 layout (OB 0x1FFF7800, 48 bytes)";
		add(c, "G4");
		return;
	}
	if (oba == 0x1FFF7800) {
		*why = "L4 layout (OB 0x1FFF7800, 40 bytes)";
		add(c, "L4");
		return;
	}
	if (oba == 0x40022040) {
		/* the U5 ROM offers the FLASH option registers (FLASH_OPTR, RM0456), not a copy in flash */
		*why = "U5 layout (OB registers at 0x40022040)";
		add(c, "U5");
		return;
	}
	if (oba == 0x1FFF8000) {
		*why = "WB layout (OB at 0x1FFF8000, RM0434 3.4.1)";
		add(c, "WB");
		return;
	}
	if (oba == 0x1FF80000) {
		*why = "L0/L1 layout (OB at 0x1FF80000)";
		if (pg == 128)
			add(c, "L0");
		else if (pg == 256)
			add(c, "L1");
		else
			add(c, "L0"), add(c, "L1");
		return;
	}
	if (oba == 0x1FFFF800) {
		*why = "F0/F1/F3 layout (OB at 0x1FFFF800)";
		if (strcmp(serial, "STM32") == 0)
			add(c, "F1");
		else if (strcasecmp(serial, "FFFFFFFEFFFF") == 0 || pg == 1024)
			add(c, "F0");
		else
			add(c, "F3"), add(c, "F1"), add(c, "F0");
		return;
	}
	if (fl && !ob) {
		/* No OB alt: G0 (all alts identical), WB (4K pages), U5 (8K pages). */
		*why = "flash alt only";
		if (pg == 2048)
			add(c, "G0");
		else if (pg == 4096)
			add(c, "WB");
		else if (pg == 8192)
			add(c, "U5");
	}
}

int chip_identify(const struct chip_evidence *ev, struct chip_identity *out)
{
	struct chip_alt_info info;
	struct chip_zone flash = {0}, ob = {0};
	bool have_flash = false, have_ob = false, ob2 = false;
	struct cands c = {.n = 0};
	const char *why = "no layout matched";
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; ev && i < ev->n_alts && i < CHIP_MAX_ALTS; i++) {
		if (!chip_parse_alt(ev->alt_names[i], &info))
			continue;
		if (!have_flash && info.zones[0].addr == 0x08000000 && strstr(info.name, "Flash")) {
			flash = info.zones[0];
			have_flash = true;
		}
		if (!have_ob && strstr(info.name, "Option")) {
			ob = info.zones[0];
			have_ob = true;
			ob2 = info.n_zones > 1;
		}
	}
	/* ST's ROM bootloaders enumerate as 0483:df11 (AN3156 §1). Another vendor's DfuSe clone can copy
	 * the layout strings (GD32VF103, 28e9:0189: "@Option Bytes  /0x1FFFF800/..." like an F1), so a
	 * layout match alone must not name an STM32 family for it. */
	bool other_vendor = ev && ev->has_vid && ev->vid != 0x0483;
	if (other_vendor)
		why = "not an ST device (vendor ID is not 0x0483): no STM32 family is claimed";
	else if (ev && (have_flash || have_ob))
		from_layout(ev, have_flash ? &flash : NULL, have_ob ? &ob : NULL, ob2, &c, &why);
	out->layout_flash_size = have_flash ? flash.total : 0;

	if (c.n == 0) {
		out->confidence = CHIP_CONF_NONE;
		snprintf(out->reason, sizeof(out->reason), "%s", why);
		if (have_flash) {
			out->flash_size = flash.total;
			out->flash_size_source = CHIP_SIZE_LAYOUT;
		}
		return STM32DFU_E_UNSUPPORTED;
	}
	/* The bootloader-ID byte narrows candidates (F7: 0x93 = F76x; 0x70 = F74x). */
	bool id_confirms = false;
	if (ev->has_bootloader_id) {
		chip_bootloader_version(ev->bootloader_id, out->bootloader_version, sizeof(out->bootloader_version));
		out->has_bootloader_version = true;
		for (size_t i = 0; i < c.n; i++)
			if (has_id(c.f[i], ev->bootloader_id)) {
				const struct chip_family *hit = c.f[i];
				size_t matches = 0;
				for (size_t k = 0; k < c.n; k++)
					matches += has_id(c.f[k], ev->bootloader_id);
				memmove(&c.f[1], &c.f[0], i * sizeof(c.f[0]));
				c.f[0] = hit;
				if (matches == 1)
					c.n = 1, id_confirms = hit->bootloader_id_confirmed;
				break;
			}
	}
	out->family = c.f[0];
	for (size_t i = 1; i < c.n && i <= 4; i++)
		if (i - 1 < 3)
			out->alternatives[i - 1] = c.f[i];

	/* Flash size: the register when plausible, else the layout total (which can overstate). */
	bool reg_ok = ev->has_flash_size && ev->flash_size_kb != 0 && ev->flash_size_kb != 0xFFFF;
	if (reg_ok) {
		out->flash_size = (uint32_t)ev->flash_size_kb * 1024u;
		out->flash_size_source = CHIP_SIZE_REGISTER;
	} else if (have_flash) {
		out->flash_size = flash.total;
		out->flash_size_source = CHIP_SIZE_LAYOUT;
	}
	bool size_fits = reg_ok && (!have_flash || out->flash_size <= flash.total);

	pos = (size_t)snprintf(out->reason, sizeof(out->reason), "%s", why);
	if (ev->has_bootloader_id && pos < sizeof(out->reason))
		pos += (size_t)snprintf(out->reason + pos, sizeof(out->reason) - pos, "; bootloader ID 0x%02X%s",
					ev->bootloader_id, id_confirms ? " (matches)" : "");
	if (reg_ok && pos < sizeof(out->reason))
		pos += (size_t)snprintf(out->reason + pos, sizeof(out->reason) - pos, "; flash-size register %u KiB%s",
					(unsigned)ev->flash_size_kb, size_fits ? "" : " (larger than the layout!)");
	else if (have_flash && pos < sizeof(out->reason))
		pos += (size_t)snprintf(out->reason + pos, sizeof(out->reason) - pos,
					"; flash size from the layout (may overstate)");
	if (c.n > 1 && pos < sizeof(out->reason)) {
		pos += (size_t)snprintf(out->reason + pos, sizeof(out->reason) - pos, "; also fits:");
		for (size_t i = 1; i < c.n && pos < sizeof(out->reason); i++)
			pos += (size_t)snprintf(out->reason + pos, sizeof(out->reason) - pos, " %s", c.f[i]->id);
	}
	if (c.n > 1)
		out->confidence = CHIP_CONF_GUESS;
	else if (id_confirms || (size_fits && ev->has_bootloader_id && has_id(c.f[0], ev->bootloader_id)))
		out->confidence = CHIP_CONF_CERTAIN;
	else
		out->confidence = CHIP_CONF_LIKELY;
	return 0;
}
