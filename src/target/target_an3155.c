/*
 * The USART bootloader as a target (target.h) over uart/an3155. No alt strings here: the memory
 * map comes from the device ID (Get ID) through chip/'s family table, cut to the flash-size
 * register when the ROM lets it be read (some refuse: the L4 read of 0x1FFF75E0 is NACKed,
 * NOTES-behaviour-from-prose.md), else the family's largest part is assumed and said so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chip/chip.h"
#include "target/target.h"
#include "serial/serial.h"
#include "uart/an3155.h"

struct tu {
	struct an3155 *b;
	const struct chip_family *fam;
	uint32_t flash_size; /* bytes in use, 0 unknown */
	bool size_from_register;
	/* the flash map (chip_flash_map), made again after every reset (an option-byte write may have
	 * changed the bank mode) */
	const struct chip_memmap *mm;
	struct chip_sector_run runs[TARGET_MAX_RUNS];
	size_t n_runs;
	bool bank_mode_unknown; /* the option bytes that choose it could not be read */
};

/* The flash map for this part: the family's sectors or the ID's pages, cut to the flash-size
 * register, in the bank mode the option bytes select (F76x nDBANK, G4 DBANK: read, never assumed). */
static void load_map(struct tu *u)
{
	u->mm = chip_memmap_of(u->fam, u->b->pid);
	u->n_runs = 0;
	u->bank_mode_unknown = false;
	if (!u->fam)
		return;
	int dual = 0;
	if (u->mm && u->mm->dual_field) {
		uint8_t ob[512];
		size_t len = u->fam->ob_size <= sizeof ob ? u->fam->ob_size : 0;
		dual = len && an3155_read_all(u->b, u->fam->ob_addr, ob, len) == 0
		               ? chip_ob_dual_bank(u->fam, u->b->pid, ob, len)
		               : -1;
		if (dual < 0) {
			u->bank_mode_unknown = true;
			return;
		}
	}
	u->n_runs = chip_flash_map(u->fam, u->b->pid, u->flash_size, dual == 1, u->runs, TARGET_MAX_RUNS);
}

static void region(struct target_region *r, enum target_mem kind, uint32_t addr, uint32_t size, const char *name,
                   bool writable)
{
	memset(r, 0, sizeof *r);
	r->kind = kind;
	r->addr = addr;
	r->size = size;
	r->runs[0] = (struct target_run){1, size};
	r->n_runs = 1;
	r->readable = true;
	r->writable = writable;
	snprintf(r->name, sizeof r->name, "%s", name);
}

static int fail_from(struct target *t, struct an3155 *b, int r)
{
	t->err = b->err;
	return r;
}

static int tu_identity(struct target *t, struct target_identity *out)
{
	struct tu *u = t->impl;
	memset(out, 0, sizeof *out);
	out->dev_id = u->b->pid;
	out->flash_size = u->flash_size;
	out->rdp_level = -1;
	snprintf(out->bootloader, sizeof out->bootloader, "AN3155 %u.%u", u->b->version >> 4, u->b->version & 15u);
	if (u->fam && u->fam->uid_addr) {
		uint8_t w[12];
		int r = an3155_read(u->b, u->fam->uid_addr, w, 8);
		if (r == 0)
			r = an3155_read(u->b, u->fam->uid_addr + u->fam->uid_word2_offset, w + 8, 4);
		if (r == 0) {
			memcpy(out->uid, w, 12);
			out->has_uid = true;
			out->rdp_level = 0;
		} else if (r == STM32DFU_E_PROTECTED) {
			out->rdp_level = 1; /* Get ID answered, Read Memory NACKed on its command byte */
		}
	}
	return 0;
}

static int tu_regions(struct target *t, struct target_region *out, size_t cap, size_t *n)
{
	struct tu *u = t->impl;
	*n = 0;
	if (u->bank_mode_unknown)
		return err_set(&t->err, STM32DFU_E_UNSUPPORTED,
		               "device ID 0x%03x: the option bytes that choose the flash's bank mode could not be read "
		               "(read protection?): no sector map", u->b->pid);
	if (!u->n_runs)
		return err_set(&t->err, STM32DFU_E_UNSUPPORTED, "device ID 0x%03x: no sector or page map in the family table",
		               u->b->pid);
	if (cap < 5)
		return err_set(&t->err, STM32DFU_E_INTERNAL, "regions: no room");
	struct target_region *f = &out[0];
	memset(f, 0, sizeof *f);
	f->kind = TARGET_MEM_FLASH;
	f->addr = u->fam->flash_base;
	f->readable = f->writable = f->erasable = true;
	snprintf(f->name, sizeof f->name, "Internal Flash");
	for (size_t i = 0; i < u->n_runs; i++) {
		f->runs[f->n_runs++] = (struct target_run){u->runs[i].count, u->runs[i].size};
		f->size += u->runs[i].count * u->runs[i].size;
	}
	*n = 1;
	const struct chip_memmap *m = u->mm;
	if (u->fam->ob_addr && u->fam->ob_size) {
		/* with the second zone where the part has one (G4 category 3: bank 2's WRP, chip/memmap.c),
		 * as the ROM's DfuSe alt string lists both: the write protection of both banks is read */
		struct target_region *o = &out[(*n)++];
		region(o, TARGET_MEM_OB, u->fam->ob_addr, u->fam->ob_size, "Option Bytes", true);
		if (m && m->ob2_addr && m->ob2_size) {
			o->addr2 = m->ob2_addr;
			o->size2 = m->ob2_size;
		}
	}
	if (m && m->otp_addr) {
		struct target_region *o = &out[*n];
		region(o, TARGET_MEM_OTP, m->otp_addr, (uint32_t)m->otp_size + m->otp_lock, "OTP Memory", true);
		o->runs[0] = (struct target_run){1, m->otp_size};
		if (m->otp_lock)
			o->runs[o->n_runs++] = (struct target_run){1, m->otp_lock};
		(*n)++;
	}
	if (m && m->ram_size) {
		/* only the RAM the ROM serves: not its own (AN2606: the first 16 KB on F7), nor past the
		 * end of AN2606's range (the ROM NACKs both: chip/memmap.c) */
		uint32_t boot_end = m->ram_boot_end ? m->ram_boot_end : u->fam->boot_ram_end;
		uint32_t skip = boot_end > m->ram_addr ? boot_end - m->ram_addr : 0;
		uint32_t size = m->ram_size;
		if (m->ram_rom_end && m->ram_rom_end > m->ram_addr && m->ram_rom_end - m->ram_addr < size)
			size = m->ram_rom_end - m->ram_addr;
		if (skip < size)
			region(&out[(*n)++], TARGET_MEM_RAM, m->ram_addr + skip, size - skip, "SRAM", true);
	}
	if (m && m->sysmem_size)
		region(&out[(*n)++], TARGET_MEM_SYSTEM, m->sysmem_addr, m->sysmem_size, "System Memory", false);
	return 0;
}

static int tu_read(struct target *t, uint32_t addr, uint8_t *buf, size_t len)
{
	struct tu *u = t->impl;
	int r = an3155_read_all(u->b, addr, buf, len);
	return r < 0 ? fail_from(t, u->b, r) : 0;
}

/* Whether [addr, addr+len) is in the main flash (the map's runs). */
static bool in_flash(const struct tu *u, uint32_t addr, size_t len)
{
	uint64_t size = 0;
	for (size_t i = 0; i < u->n_runs; i++)
		size += (uint64_t)u->runs[i].count * u->runs[i].size;
	return u->fam && addr >= u->fam->flash_base && (uint64_t)addr - u->fam->flash_base + len <= size;
}

static int tu_unsettled(void *ctx, uint32_t addr, size_t len, struct err *e)
{
	struct target *t = ctx;
	return t->unsettled ? t->unsettled(t->unsettled_ctx, addr, len, e) : 0;
}

static int tu_write(struct target *t, uint32_t addr, const uint8_t *buf, size_t len)
{
	struct tu *u = t->impl;
	u->b->unsettled = tu_unsettled;
	u->b->unsettled_ctx = t;
	for (size_t off = 0; off < len; off += AN3155_MAX_BLOCK) {
		size_t k = len - off < AN3155_MAX_BLOCK ? len - off : AN3155_MAX_BLOCK;
		/* flash bits only clear: a block that may have gone in shifted is read back, never sent
		 * again blind (an3155_write) */
		u->b->write_flash = in_flash(u, addr + (uint32_t)off, k);
		int r = an3155_write(u->b, addr + (uint32_t)off, buf + off, k);
		if (r < 0)
			return fail_from(t, u->b, r);
	}
	return 0;
}

static int tu_erase(struct target *t, const unsigned *sectors, size_t n)
{
	struct tu *u = t->impl;
	uint16_t *p = malloc((n ? n : 1) * sizeof *p);
	if (!p)
		return err_set(&t->err, STM32DFU_E_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (sectors[i] > 0xFFEF) { /* FFF0.. are the special codes */
			free(p);
			return err_set(&t->err, STM32DFU_E_RANGE, "sector %u has no AN3155 page number", sectors[i]);
		}
		p[i] = (uint16_t)sectors[i];
	}
	int r = an3155_erase_pages(u->b, p, n);
	free(p);
	return r < 0 ? fail_from(t, u->b, r) : 0;
}

static int tu_erase_mass(struct target *t, int bank)
{
	struct tu *u = t->impl;
	int r = bank ? an3155_erase_bank(u->b, bank) : an3155_erase_mass(u->b);
	return r < 0 ? fail_from(t, u->b, r) : 0;
}

static int tu_checksum(struct target *t, uint32_t addr, uint32_t len, uint32_t *crc)
{
	struct tu *u = t->impl;
	int r = an3155_checksum(u->b, addr, len, crc);
	return r < 0 ? fail_from(t, u->b, r) : 0;
}

/* The second ACK says the address is valid, then the chip jumps (AN3155 3.5): confirmed. */
static int tu_go(struct target *t, bool have_addr, uint32_t addr)
{
	struct tu *u = t->impl;
	int r = an3155_go(u->b, have_addr ? addr : (u->fam ? u->fam->flash_base : 0x08000000u));
	return r < 0 ? fail_from(t, u->b, r) : 1;
}

/* After a command that resets the chip: find it again, the same chip (device ID). */
static int after_reset(struct target *t, struct tu *u)
{
	uint16_t pid = u->b->pid;
	int r = an3155_resync_after_reset(u->b);
	if (r == 0)
		r = an3155_get_id_expect(u->b, pid); /* another ID is believed only when it is answered twice */
	if (r < 0)
		return fail_from(t, u->b, r);
	if (u->b->pid != pid)
		return err_set(&t->err, STM32DFU_E_PROTOCOL, "after the reset another chip answers (0x%03x, was 0x%03x)",
		               u->b->pid, pid);
	load_map(u);
	return 0;
}

/* A command the chip answers with its reset (AN3155 3.6, 3.9-3.12): the caller reconnects. */
static int resets(struct target *t, struct tu *u, int r)
{
	return r < 0 ? fail_from(t, u->b, r) : 0;
}

static int tu_ob_write(struct target *t, uint32_t addr, const uint8_t *buf, size_t len, bool *reset)
{
	struct tu *u = t->impl;
	/* Write Memory to the option bytes: the chip resets after the ACK (AN3155 3.6) */
	*reset = false;
	if (len > AN3155_MAX_BLOCK)
		return err_set(&t->err, STM32DFU_E_RANGE, "option bytes: %zu bytes in one Write Memory of %u", len,
		               AN3155_MAX_BLOCK);
	/* the ACK comes once the option bytes are programmed: the protection commands' allowance */
	unsigned keep = u->b->to.write_ms;
	u->b->to.write_ms = u->b->to.ob_ms;
	u->b->write_whole = true; /* one frame: the chip resets after it */
	int r = resets(t, u, an3155_write(u->b, addr, buf, len));
	u->b->write_whole = false;
	u->b->to.write_ms = keep;
	*reset = r == 0;
	return r;
}

static int tu_write_protect(struct target *t, const unsigned *sectors, size_t n)
{
	struct tu *u = t->impl;
	uint8_t s[256];
	if (n == 0 || n > sizeof s)
		return err_set(&t->err, STM32DFU_E_USAGE, "write protect: %zu sectors", n);
	for (size_t i = 0; i < n; i++) {
		if (sectors[i] > 0xFF)
			return err_set(&t->err, STM32DFU_E_RANGE, "sector %u has no one-byte code", sectors[i]);
		s[i] = (uint8_t)sectors[i];
	}
	return resets(t, u, an3155_write_protect(u->b, s, n));
}

static int tu_write_unprotect(struct target *t)
{
	struct tu *u = t->impl;
	return resets(t, u, an3155_write_unprotect(u->b));
}

static int tu_readout_protect(struct target *t)
{
	struct tu *u = t->impl;
	return resets(t, u, an3155_readout_protect(u->b));
}

/* The mass erase happens between the two ACKs (an3155.c waits for it): only the reset is left. */
static int tu_readout_unprotect(struct target *t)
{
	struct tu *u = t->impl;
	return resets(t, u, an3155_readout_unprotect(u->b));
}

/* The ROM's start-up time (uart/'s reset_ms), then 0x7F: timeout_ms only caps that wait (a
 * USB caller's re-enumeration allowance would be dead time here). */
static int tu_reconnect(struct target *t, unsigned timeout_ms)
{
	struct tu *u = t->impl;
	unsigned keep = u->b->to.reset_ms;
	if (timeout_ms < keep)
		u->b->to.reset_ms = timeout_ms;
	int r = after_reset(t, u);
	u->b->to.reset_ms = keep;
	return r;
}

/* Every AN3155 command carries its address: no memory to select, no pointer to set, no run to end. */
static int tu_select(struct target *t, unsigned m)
{
	(void)t;
	(void)m;
	return 0;
}

static int tu_point(struct target *t, uint32_t addr, bool for_read)
{
	(void)t;
	(void)addr;
	(void)for_read;
	return 0;
}

static int tu_abort(struct target *t, bool later)
{
	(void)t;
	(void)later;
	return 0;
}

static int tu_dnload(struct target *t, uint32_t addr, const uint8_t *buf, size_t n, bool *not_sent)
{
	*not_sent = false; /* a lost ACK may follow a programmed block: the caller reads it back */
	return tu_write(t, addr, buf, n);
}

static int tu_peek(struct target *t, int *state)
{
	(void)state;
	return err_set(&t->err, STM32DFU_E_UNSUPPORTED, "AN3155 has no state to ask");
}

/* uart/ brings the ROM's parser back itself (0xFF bytes until a NACK, an3155.c) when its next
 * command finds it out of step; not 0x7F: after autobaud it is a command byte. */
static int tu_resync(struct target *t, int m, bool quick)
{
	struct tu *u = t->impl;
	(void)m;
	(void)quick;
	ser_flush_input(u->b->ser);
	return 0;
}

/* The sector's number counts across the flash's runs, as the ROM numbers them. */
static int tu_erase_at(struct target *t, uint32_t addr)
{
	struct tu *u = t->impl;
	uint32_t at = u->fam ? u->fam->flash_base : 0;
	unsigned idx = 0;
	for (size_t k = 0; k < u->n_runs; k++)
		for (uint32_t i = 0; i < u->runs[k].count; i++, idx++, at += u->runs[k].size)
			if (at == addr)
				return tu_erase(t, &idx, 1);
	return err_set(&t->err, STM32DFU_E_RANGE, "erase 0x%08X: no flash sector starts there", addr);
}

static int tu_clear_busy(struct target *t)
{
	return err_set(&t->err, STM32DFU_E_UNSUPPORTED, "AN3155 has no busy state to clear");
}

/* AN3155 answers ACK or NACK; a busy chip is a silent one (a TIMEOUT, the link's to judge). */
static bool tu_no(const struct target *t)
{
	(void)t;
	return false;
}

static void tu_close(struct target *t)
{
	free(t->impl);
	free(t);
}

static void tu_link(const struct target *t, struct target_link *out)
{
	const struct tu *u = t->impl;
	memset(out, 0, sizeof *out);
	out->kind = TARGET_AN3155;
	snprintf(out->path, sizeof out->path, "%.31s", u->b->ser->name);
	snprintf(out->product, sizeof out->product, "USART bootloader");
	out->dfu_interface = -1;
	out->dev_id = u->b->pid;
	out->version = u->b->version;
	an3155_version_text(u->b->version, out->version_text, sizeof out->version_text);
	snprintf(out->port, sizeof out->port, "%s", u->b->ser->name);
	out->baud = u->b->ser->cfg.baud;
	out->faults = u->b->stats.retries + u->b->stats.timeouts;
}

static const struct target_ops tu_ops = {
	.name = "an3155",
	.identity = tu_identity,
	.regions = tu_regions,
	.read = tu_read,
	.write = tu_write,
	.erase = tu_erase,
	.erase_mass = tu_erase_mass,
	.checksum = tu_checksum,
	.go = tu_go,
	.ob_write = tu_ob_write,
	.write_protect = tu_write_protect,
	.write_unprotect = tu_write_unprotect,
	.readout_protect = tu_readout_protect,
	.readout_unprotect = tu_readout_unprotect,
	.reconnect = tu_reconnect,
	.select = tu_select,
	.point = tu_point,
	.upload = tu_read,
	.dnload = tu_dnload,
	.abort = tu_abort,
	.peek = tu_peek,
	.resync = tu_resync,
	.erase_at = tu_erase_at,
	.clear_busy = tu_clear_busy,
	.refused_address = tu_no,
	.stayed_busy = tu_no,
	.link = tu_link,
	.close = tu_close,
};

int target_an3155_new(struct an3155 *b, struct target **out, struct err *e)
{
	*out = NULL;
	if (!b->have_get || !b->pid)
		return err_set(e, STM32DFU_E_USAGE, "target_an3155_new: connect first (GET and Get ID)");
	struct target *t = calloc(1, sizeof *t);
	struct tu *u = calloc(1, sizeof *u);
	if (!t || !u) {
		free(t);
		free(u);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	u->b = b;
	u->fam = chip_family_by_dev_id(b->pid);
	if (u->fam && u->fam->flash_size_addr) {
		uint8_t kb[2];
		/* a refusal is not an error: the family's largest part is assumed */
		if (an3155_read(b, u->fam->flash_size_addr, kb, 2) == 0 && (kb[0] | kb[1] << 8) != 0xFFFF) {
			u->flash_size = (uint32_t)(kb[0] | kb[1] << 8) * 1024u;
			u->size_from_register = true;
		}
	}
	load_map(u);
	t->ops = &tu_ops;
	t->impl = u;
	t->kind = TARGET_AN3155;
	t->max_transfer = AN3155_MAX_BLOCK;
	t->write_align = 4;
	t->erase_batch = an3155_has(b, AN3155_EXT_ERASE) ? AN3155_EXT_ERASE_MAX
	                 : an3155_has(b, AN3155_ERASE)   ? AN3155_ERASE_MAX
	                                                 : 1;
	t->caps = TARGET_CAP_GO;
	if (an3155_has(b, AN3155_EXT_ERASE) || an3155_has(b, AN3155_ERASE))
		t->caps |= TARGET_CAP_MASS_ERASE;
	if (an3155_has(b, AN3155_EXT_ERASE))
		t->caps |= TARGET_CAP_BANK_ERASE;
	if (an3155_has(b, AN3155_GET_CHECKSUM))
		t->caps |= TARGET_CAP_CHECKSUM;
	if (an3155_has(b, AN3155_WRITE_PROTECT) && an3155_has(b, AN3155_WRITE_UNPROTECT))
		t->caps |= TARGET_CAP_WRITE_PROTECT;
	if (an3155_has(b, AN3155_READOUT_PROTECT) && an3155_has(b, AN3155_READOUT_UNPROTECT))
		t->caps |= TARGET_CAP_READOUT_PROTECT;
	err_clear(&t->err);
	*out = t;
	return 0;
}

uint32_t target_crc(const uint8_t *buf, size_t len)
{
	return an3155_crc(0xFFFFFFFFu, buf, len);
}
