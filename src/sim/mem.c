/*
 * The chip's memories: regions built from the alt-setting layout strings, flash sectors and their
 * physics (programming only clears bits, erase sets them, nWRP sectors ignore both), option bytes
 * (RDP level, nWRP bits) and the Device Feature byte that sets the program parallelism.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_int.h"

struct sim_mem *sim_mem_find(struct sim_device *d, uint32_t addr)
{
	for (int i = 0; i < d->nmem; i++)
		if (addr >= d->mem[i].base && addr - d->mem[i].base < d->mem[i].size)
			return &d->mem[i];
	return NULL;
}

const struct sim_mem *sim_mem_find_c(const struct sim_device *d, uint32_t addr)
{
	for (int i = 0; i < d->nmem; i++)
		if (addr >= d->mem[i].base && addr - d->mem[i].base < d->mem[i].size)
			return &d->mem[i];
	return NULL;
}

struct sim_mem *sim_mem_range(struct sim_device *d, uint32_t addr, uint32_t len)
{
	struct sim_mem *m = sim_mem_find(d, addr);
	if (!m || len > m->size - (addr - m->base))
		return NULL;
	return m;
}

struct sim_mem *sim_mem_add(struct sim_device *d, enum sim_mem_kind kind, uint32_t base, uint32_t size,
			    uint8_t fill)
{
	if (d->nmem >= SIM_MAX_REGIONS || size == 0 || (uint64_t)base + size > 0x100000000ull)
		return NULL;
	uint64_t total = size;
	for (int i = 0; i < d->nmem; i++) {
		uint64_t b = d->mem[i].base, e = b + d->mem[i].size;
		if (base < e && (uint64_t)base + size > b)
			return NULL; /* overlap */
		total += d->mem[i].size;
	}
	if (total > SIM_MAX_MEMORY)
		return NULL;
	struct sim_mem *m = &d->mem[d->nmem];
	memset(m, 0, sizeof(*m));
	m->data = malloc(size);
	if (!m->data)
		return NULL;
	memset(m->data, fill, size);
	m->kind = kind;
	m->base = base;
	m->size = size;
	m->persist = kind == SIM_MEM_FLASH || kind == SIM_MEM_OB || kind == SIM_MEM_OTP || kind == SIM_MEM_EEPROM;
	d->nmem++;
	return m;
}

/* One zone of a layout string: "/0xADDR/N*SIZE[unit]type,..." (protocol.md 2.8). */
static int parse_zone(const char **ps, uint32_t base, struct sim_sector *out, size_t cap, size_t *n,
		      uint64_t *total)
{
	const char *s = *ps;
	uint64_t addr = base;
	for (;;) {
		while (*s == ' ')
			s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		unsigned long count = strtoul(s, (char **)&s, 10);
		if (*s++ != '*' || !isdigit((unsigned char)*s))
			return -1;
		unsigned long size = strtoul(s, (char **)&s, 10);
		if (*s == 'K')
			size *= 1024, s++;
		else if (*s == 'M')
			size *= 1024 * 1024, s++;
		else if (*s == 'B' || *s == ' ')
			s++;
		if (*s < 'a' || *s > 'g' || count == 0 || count > 65536 || size == 0 || size > (64ul << 20))
			return -1;
		uint8_t type = (uint8_t)(*s - 'a' + 1);
		s++;
		for (unsigned long i = 0; i < count; i++) {
			if (*n >= cap || addr + size > 0x100000000ull)
				return -1;
			out[*n].addr = (uint32_t)addr;
			out[*n].size = (uint32_t)size;
			out[*n].type = type;
			(*n)++;
			addr += size;
		}
		if (*s != ',')
			break;
		s++;
	}
	*total = addr - base;
	*ps = s;
	return 0;
}

static enum sim_mem_kind kind_of(const char *name, uint8_t type)
{
	if (strstr(name, "Option"))
		return SIM_MEM_OB;
	if (strstr(name, "OTP"))
		return SIM_MEM_OTP;
	if (strstr(name, "Feature"))
		return SIM_MEM_FEATURE;
	/* "@DATA Memory" on L0/L1 ROMs (data/dfu-list/bigclown-..., openbttn-...): the data EEPROM,
	 * advertised readable+writable, not erasable (RM0367 3.3.4: a write erases the word itself). */
	if (strstr(name, "DATA") && !(type & DFUSE_MEM_ERASABLE) && (type & DFUSE_MEM_WRITABLE))
		return SIM_MEM_EEPROM;
	if (type & DFUSE_MEM_ERASABLE)
		return SIM_MEM_FLASH;
	return (type & DFUSE_MEM_WRITABLE) ? SIM_MEM_RAM : SIM_MEM_ROM;
}

int sim_layout_parse(struct sim_device *d, const char *alt, char *errbuf, size_t errlen)
{
	if (alt[0] != '@') {
		snprintf(errbuf, errlen, "profile key `alt` = `%s`: a DfuSe layout starts with '@'", alt);
		return -1;
	}
	const char *slash = strchr(alt, '/');
	if (!slash) {
		snprintf(errbuf, errlen, "profile key `alt` = `%s`: no /0xADDRESS/ zone", alt);
		return -1;
	}
	char name[128];
	size_t nl = (size_t)(slash - alt - 1);
	snprintf(name, sizeof(name), "%.*s", (int)(nl < sizeof(name) ? nl : sizeof(name) - 1), alt + 1);
	const char *s = slash;
	size_t cap = 65536;
	struct sim_sector *secs = malloc(cap * sizeof(*secs));
	if (!secs) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	while (*s == '/') {
		s++;
		char *end;
		unsigned long long base = strtoull(s, &end, 16);
		if (end == s || *end != '/' || base > 0xFFFFFFFFull)
			goto bad;
		s = end + 1;
		size_t n = 0;
		uint64_t total = 0;
		if (parse_zone(&s, (uint32_t)base, secs, cap, &n, &total) != 0)
			goto bad;
		if (sim_mem_find(d, (uint32_t)base))
			continue; /* another alt already serves it (G0C1 repeats alt 0) */
		uint8_t type = secs[0].type;
		enum sim_mem_kind kind = kind_of(name, type);
		/* data EEPROM reads 0x00 when erased (RM0367 3.3.4) */
		struct sim_mem *m = sim_mem_add(d, kind, (uint32_t)base, (uint32_t)total,
						kind == SIM_MEM_FEATURE || kind == SIM_MEM_EEPROM ? 0x00 : 0xFF);
		if (!m) {
			snprintf(errbuf, errlen,
			         "profile key `alt` = `%s`: overlapping or too many memories, or more than %u MiB in all", alt,
			         SIM_MAX_MEMORY >> 20);
			free(secs);
			return -1;
		}
		if (kind == SIM_MEM_FEATURE && total >= 4)
			memset(m->data + 1, 0xFF, 3); /* AN2606 Table 4: bytes 1-3 reserved, 0xFF */
		m->sectors = malloc(n * sizeof(*secs));
		if (!m->sectors) {
			free(secs);
			snprintf(errbuf, errlen, "out of memory");
			return -1;
		}
		memcpy(m->sectors, secs, n * sizeof(*secs));
		m->nsectors = n;
		int idx = (int)(m - d->mem);
		if (kind == SIM_MEM_FLASH && d->flash < 0)
			d->flash = idx;
		else if (kind == SIM_MEM_OB && d->ob < 0)
			d->ob = idx;
		else if (kind == SIM_MEM_FEATURE && d->feature < 0)
			d->feature = idx;
	}
	free(secs);
	return 0; /* garbage after the last field is tolerated, as real strings have it */
bad:
	free(secs);
	snprintf(errbuf, errlen, "profile key `alt` = `%s`: bad DfuSe layout string", alt);
	return -1;
}

/* 0xAA level 0, 0xCC level 2, anything else level 1 (protocol.md 7.3). */
int sim_rdp_level(const struct sim_device *d)
{
	if (!d->ob_active || d->obd.rdp_offset < 0)
		return 0;
	uint8_t rdp = d->ob_active[d->obd.rdp_offset];
	return rdp == 0xAA ? 0 : rdp == 0xCC ? 2 : 1;
}

/* An option byte as the chip uses it: the block loaded at the last reset for the main OB zone;
 * a second zone (G4 bank 2 at 0x1FFFF800) as it reads now (when the chip loads it is UNCONFIRMED). */
static uint8_t ob_byte(const struct sim_device *d, uint32_t addr)
{
	const struct sim_mem *m = d->ob >= 0 ? &d->mem[d->ob] : NULL;
	if (m && addr >= m->base && addr - m->base < m->size)
		return d->ob_active[addr - m->base];
	uint8_t b = 0xFF;
	sim_mem_read(d, addr, &b, 1);
	return b;
}

bool sim_sector_protected(const struct sim_device *d, size_t sector)
{
	const struct sim_ob_desc *o = &d->obd;
	if (!d->ob_active)
		return false;
	/* WRP areas (RM0351/RM0440/RM0444/RM0434 "Write protection"): [STRT, END] of the bank's pages */
	for (int i = 0; i < o->n_areas; i++) {
		const struct sim_wrp_area *a = &o->areas[i];
		if (sector < a->first_sector || sector - a->first_sector >= a->pages)
			continue;
		uint32_t page = (uint32_t)(sector - a->first_sector);
		uint32_t lo = ob_byte(d, a->start_addr) & a->mask, hi = ob_byte(d, a->end_addr) & a->mask;
		if (lo <= hi && page >= lo && page <= hi)
			return true;
	}
	if (o->wrp_bits == 0)
		return false;
	size_t bit = sector / (size_t)o->wrp_sectors_per_bit;
	if (bit >= (size_t)o->wrp_bits)
		bit = (size_t)o->wrp_bits - 1; /* F0: the last bit guards all pages above */
	uint8_t byte = d->ob_active[o->wrp_offsets[bit / 8]];
	bool set = (byte & (1u << (bit % 8))) != 0;
	return o->wrp_active_high ? set : !set;
}

const struct sim_sector *sim_sector_at(const struct sim_device *d, uint32_t addr, size_t *index)
{
	if (d->flash < 0)
		return NULL;
	const struct sim_mem *m = &d->mem[d->flash];
	for (size_t i = 0; i < m->nsectors; i++) {
		if (addr >= m->sectors[i].addr && addr - m->sectors[i].addr < m->sectors[i].size) {
			if (index)
				*index = i;
			return &m->sectors[i];
		}
	}
	return NULL;
}

/* OTP laid out as data blocks then one lock byte per block (RM0090/RM0385 "One-time programmable
 * bytes": 16 data blocks, 16 lock bytes; a block takes no more programming once its lock byte is
 * 0x00): whether the byte at a is in a locked block. */
static bool otp_locked(const struct sim_mem *m, uint32_t a)
{
	if (m->kind != SIM_MEM_OTP || m->nsectors != 2 || m->sectors[1].size != 16 || m->sectors[0].size % 16)
		return false;
	const struct sim_sector *dat = &m->sectors[0], *lock = &m->sectors[1];
	if (a < dat->addr || a - dat->addr >= dat->size)
		return false;
	uint32_t block = (a - dat->addr) / (dat->size / 16);
	return m->data[lock->addr - m->base + block] == 0x00;
}

/* Programming clears bits. Each sector the range crosses is looked up once and its nWRP bit read
 * once: a protected sector keeps its bytes (silently, as the chip does). */
void sim_flash_program(struct sim_device *d, struct sim_mem *m, uint32_t addr, const uint8_t *buf, uint32_t len)
{
	bool main_flash = d->flash >= 0 && m == &d->mem[d->flash];
	for (uint32_t i = 0; i < len;) {
		uint32_t a = addr + i, run = len - i;
		size_t sec;
		const struct sim_sector *s = main_flash ? sim_sector_at(d, a, &sec) : NULL;
		if (s && s->size - (a - s->addr) < run)
			run = s->size - (a - s->addr);
		if (!s || !sim_sector_protected(d, sec)) {
			uint8_t *dst = m->data + (a - m->base);
			for (uint32_t k = 0; k < run; k++)
				if (!otp_locked(m, a + k))
					dst[k] &= buf[i + k];
		}
		i += run;
	}
	d->stats.bytes_programmed += len;
}

void sim_flash_erase_sector(struct sim_device *d, size_t sector, bool ignore_wrp)
{
	struct sim_mem *m = &d->mem[d->flash];
	if (sector >= m->nsectors || (!ignore_wrp && sim_sector_protected(d, sector)))
		return;
	if (d->f.worn && sector == d->f.worn_sector)
		return; /* fault injection: the erase "succeeds" and the bytes stay */
	memset(m->data + (m->sectors[sector].addr - m->base), 0xFF, m->sectors[sector].size);
	d->stats.erases++;
}

/* With a protected sector a mass erase is not performed at all (RM0402 3.6.4); the ROM reports
 * nothing, as for other WRP cases. Other flash regions (a second bank zone) are erased too. */
void sim_flash_mass_erase(struct sim_device *d, bool ignore_wrp)
{
	if (d->flash < 0)
		return;
	struct sim_mem *m = &d->mem[d->flash];
	if (!ignore_wrp)
		for (size_t i = 0; i < m->nsectors; i++)
			if (sim_sector_protected(d, i))
				return;
	for (int i = 0; i < d->nmem; i++)
		if (d->mem[i].kind == SIM_MEM_FLASH && (!d->f.worn || i != d->flash))
			memset(d->mem[i].data, 0xFF, d->mem[i].size);
	if (d->f.worn) /* fault injection: every sector but the worn one */
		for (size_t i = 0; i < m->nsectors; i++)
			if (i != d->f.worn_sector)
				memset(m->data + (m->sectors[i].addr - m->base), 0xFF, m->sectors[i].size);
	d->stats.mass_erases++;
}

void sim_ob_reload(struct sim_device *d)
{
	if (d->ob >= 0 && d->ob_active)
		memcpy(d->ob_active, d->mem[d->ob].data, d->mem[d->ob].size);
	sim_bank_apply(d);
}

int sim_flash_resector(struct sim_device *d, const char *alt)
{
	if (d->flash < 0)
		return -1;
	struct sim_mem *m = &d->mem[d->flash];
	const char *s = strchr(alt, '/');
	if (!s)
		return -1;
	s++;
	char *end;
	unsigned long long base = strtoull(s, &end, 16);
	if (end == s || *end != '/' || base != m->base)
		return -1;
	s = end + 1;
	size_t cap = 65536, n = 0;
	uint64_t total = 0;
	struct sim_sector *secs = malloc(cap * sizeof(*secs));
	if (!secs)
		return -1;
	if (parse_zone(&s, (uint32_t)base, secs, cap, &n, &total) != 0 || total != m->size || *s == '/') {
		free(secs);
		return -1;
	}
	struct sim_sector *keep = realloc(secs, n * sizeof(*secs));
	free(m->sectors);
	m->sectors = keep ? keep : secs;
	m->nsectors = n;
	return 0;
}

void sim_bank_apply(struct sim_device *d)
{
	struct sim_bank *b = &d->bank;
	if (!b->on || !d->ob_active)
		return;
	bool want = (d->ob_active[b->offset] & b->mask) == b->value;
	if (want == b->active)
		return;
	const char *alt = want ? b->alt : b->home_alt;
	if (sim_flash_resector(d, alt) != 0)
		return; /* checked when the profile was read */
	snprintf(d->alts[0], sizeof d->alts[0], "%s", alt);
	d->obd.wrp_sectors_per_bit = want ? b->sectors_per_bit : b->home_spb;
	b->active = want;
}

/* Device Feature byte 0 is the voltage range, which sets the parallelism (AN2606 Table 4; the
 * range -> x8/x16/x32/x64 mapping is RM0090 Table 7 / RM0385 "Program/erase parallelism"). */
int sim_prog_width(const struct sim_device *d)
{
	if (d->feature < 0)
		return d->t.prog_width;
	static const int width[5] = {1, 2, 2, 4, 8};
	uint8_t v = d->mem[d->feature].data[0];
	return v < 5 ? width[v] : 1;
}

bool sim_mem_read(const struct sim_device *d, uint32_t addr, uint8_t *buf, size_t len)
{
	const struct sim_mem *m = sim_mem_find_c(d, addr);
	if (!m || len > m->size - (addr - m->base))
		return false;
	memcpy(buf, m->data + (addr - m->base), len);
	return true;
}

bool sim_mem_write(struct sim_device *d, uint32_t addr, const uint8_t *buf, size_t len)
{
	struct sim_mem *m = sim_mem_find(d, addr);
	if (!m || len > m->size - (addr - m->base))
		return false;
	memcpy(m->data + (addr - m->base), buf, len);
	return true;
}
