/*
 * Gives a profile's keys their meaning: identity, memories, option-byte layout, start state and
 * timing. Every key and its default is documented in docs/profiles.md; a key not listed here is an
 * error, so that a typo in a profile does not pass silently.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rd.h"
#include "sim/sim_int.h"

static const char *const sim_known_keys[] = {
	"name", "vid", "pid", "bcd_device", "bcd_usb", "manufacturer", "product", "serial", "uid",
	"uid_addr", "transfer_size", "detach_timeout", "dfu_attributes", "dfu_version",
	"config_attributes", "max_power_ma", "alt", "rom", "ram", "hang", "flash_size_addr",
	"flash_size_kb", "bootloader_id_addr", "bootloader_id", "ob_default", "ob_rdp_offset",
	"ob_wrp_offsets", "ob_wrp_bits", "ob_wrp_sectors_per_bit", "feature_default", "poke", "base",
	"start_state", "start_status", "msp_range", "timing", "t_prog_us", "prog_width", "t_erase",
	"t_mass_erase", "t_ob", "t_reset", "t_unprotect", "t_set_address", "poll_erase",
	"poll_mass_erase", "poll_program", "poll_set_address", "poll_manifest", "poll_unprotect",
	"poll_ob", "poll_after_busy", "serial_encoding", "uid2_addr", "busy_reply", "max_dnload",
	"erase_wedge", "ob_upload", "leave_status", "boot_ram", "leave_needs_address", "string_cut", "otp_unit",
	"ob_wrp_active_high", "ob_wrp_area", "ob_unlisted", "ob_wrp_complement", "bank_alt",
	"unprotect_reply",
	/* faults.c */
	"seed", "fault_rate", "hse", "hsi_error", "usb_clock_error", "stall_at", "timeout_at",
	"disconnect_at", "unplug_at", "busy_stuck_after", "corrupt_upload_at", "poll_lie", "worn_sector",
	"erase_dnload_hold",
	/* usb/tp_sim.c: the host's OS refusing the device (access, driver, busy) */
	"open_refused",
	/* uart.c, uart_cfg.c: the AN3155 USART front end (sim_uart.h) */
	"uart_device_id", "uart_version", "uart_commands", "uart_gv_options", "uart_max_baud", "uart_mode",
	"uart_mass_erase", "uart_max_erase_pages", "uart_ram", "uart_banks", "uart_t_reset", "uart_noise", "uart_noise_above", "uart_noise_at",
	"uart_noise_tx_at", "uart_drop", "uart_drop_at", "uart_reset_at", "uart_gone_at", "uart_nrst", "uart_boot0",
	"uart_noise2", "uart_noise2_at", "uart_noise2_tx_at", "uart_noise2_mask", "uart_noise2_read_at",
};

const char *const *sim_profile_known_keys(size_t *n)
{
	*n = sizeof sim_known_keys / sizeof sim_known_keys[0];
	return sim_known_keys;
}

/* Used when a profile has no `alt` at all: the F4 (1 MiB die) strings, data/dfu-list/platformio-... */
static const char *const sim_default_alts[] = {
	"@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
	"@Option Bytes  /0x1FFFC000/01*016 e",
	"@OTP Memory /0x1FFF7800/01*512 e,01*016 e",
	"@Device Feature/0xFFFF0000/01*004 e",
};

static const char *const sim_state_names[DFU_STATE_COUNT] = {
	"appIDLE", "appDETACH", "dfuIDLE", "dfuDNLOAD-SYNC", "dfuDNBUSY", "dfuDNLOAD-IDLE",
	"dfuMANIFEST-SYNC", "dfuMANIFEST", "dfuMANIFEST-WAIT-RESET", "dfuUPLOAD-IDLE", "dfuERROR",
};
static const char *const sim_status_names[DFU_STATUS_COUNT] = {
	"OK", "errTARGET", "errFILE", "errWRITE", "errERASE", "errCHECK_ERASED", "errPROG",
	"errVERIFY", "errADDRESS", "errNOTDONE", "errFIRMWARE", "errVENDOR", "errUSBR", "errPOR",
	"errUNKNOWN", "errSTALLEDPKT",
};

static int fail(char *errbuf, size_t errlen, const char *key, const char *value, const char *why)
{
	snprintf(errbuf, errlen, "profile key `%s` = `%s`: %s", key, value ? value : "", why);
	return -1;
}

static int get_u32(const struct sim_profile *p, const char *key, uint32_t def, uint32_t max, uint32_t *out,
		   char *errbuf, size_t errlen)
{
	const char *v = sim_profile_get(p, key);
	*out = def;
	if (!v)
		return 0;
	if (!sim_parse_u32(v, out) || *out > max)
		return fail(errbuf, errlen, key, v, "not a number in range");
	return 0;
}

static int get_double(const struct sim_profile *p, const char *key, double def, double *out, char *errbuf,
		      size_t errlen)
{
	const char *v = sim_profile_get(p, key);
	*out = def;
	if (!v)
		return 0;
	if (!sim_parse_double(v, out) || *out < 0)
		return fail(errbuf, errlen, key, v, "not a non-negative number");
	return 0;
}

static int get_str(const struct sim_profile *p, const char *key, const char *def, char *out, size_t cap,
		   char *errbuf, size_t errlen)
{
	const char *v = sim_profile_get(p, key);
	if (!v)
		v = def;
	if (strlen(v) >= cap || strlen(v) > 126) /* a string descriptor holds 126 UTF-16 units */
		return fail(errbuf, errlen, key, v, "too long");
	snprintf(out, cap, "%s", v);
	return 0;
}

static int name_index(const char *v, const char *const *names, int n)
{
	uint32_t num;
	if (sim_parse_u32(v, &num))
		return num < (uint32_t)n ? (int)num : -1;
	for (int i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return -1;
}

/* "ADDR SIZE" pairs, for rom/ram/hang */
static int add_regions(struct sim_device *d, const struct sim_profile *p, const char *key,
		       enum sim_mem_kind kind, char *errbuf, size_t errlen)
{
	const char *vals[SIM_MAX_REGIONS];
	size_t n = sim_profile_get_all(p, key, vals, SIM_MAX_REGIONS);
	for (size_t i = 0; i < n; i++) {
		char a[32], b[32];
		uint32_t base, size;
		if (sscanf(vals[i], "%31s %31s", a, b) != 2 || !sim_parse_u32(a, &base) ||
		    !sim_parse_u32(b, &size) || size == 0 || size > (64u << 20) ||
		    (uint64_t)base + size > 0x100000000ull)
			return fail(errbuf, errlen, key, vals[i], "expected `ADDRESS SIZE`");
		if (sim_mem_find(d, base))
			continue; /* already served by an alt setting */
		if (!sim_mem_add(d, kind, base, size, kind == SIM_MEM_ROM ? 0x00 : 0xFF))
			return fail(errbuf, errlen, key, vals[i], "overlapping or too many memories, or more than 64 MiB in all");
	}
	return 0;
}

/* Writes bytes into whatever memory holds addr, creating a small read-only one if none does
 * (UID, flash-size register, bootloader ID often lie outside any alt setting's range). */
static int place(struct sim_device *d, uint32_t addr, const uint8_t *buf, uint32_t len, const char *key,
		 char *errbuf, size_t errlen)
{
	struct sim_mem *m = sim_mem_range(d, addr, len);
	if (!m && !sim_mem_find(d, addr))
		m = sim_mem_add(d, SIM_MEM_ROM, addr, len, 0x00);
	if (!m)
		return fail(errbuf, errlen, key, "", "address range overlaps a memory's end");
	memcpy(m->data + (addr - m->base), buf, len);
	return 0;
}

static int config_identity(struct sim_device *d, const struct sim_profile *p, char *errbuf, size_t errlen)
{
	uint32_t v;
	/* Device descriptor values of the F4 ROM: data/lsusb/rust-dfu_lsusb_F4-512K_... */
	if (get_u32(p, "vid", STM32_ROM_VID, 0xFFFF, &v, errbuf, errlen))
		return -1;
	d->vid = (uint16_t)v;
	if (get_u32(p, "pid", STM32_ROM_PID, 0xFFFF, &v, errbuf, errlen))
		return -1;
	d->pid = (uint16_t)v;
	if (get_u32(p, "bcd_device", 0x2200, 0xFFFF, &v, errbuf, errlen))
		return -1;
	d->bcd_device = (uint16_t)v;
	if (get_u32(p, "bcd_usb", 0x0100, 0xFFFF, &v, errbuf, errlen))
		return -1;
	d->bcd_usb = (uint16_t)v;
	if (get_u32(p, "transfer_size", 2048, SIM_MAX_TRANSFER, &v, errbuf, errlen))
		return -1;
	if (v < 64)
		return fail(errbuf, errlen, "transfer_size", sim_profile_get(p, "transfer_size"),
			    "must be 64..4096");
	d->transfer_size = (uint16_t)v;
	if (get_u32(p, "detach_timeout", 255, 0xFFFF, &v, errbuf, errlen))
		return -1;
	d->detach_timeout = (uint16_t)v;
	if (get_u32(p, "dfu_attributes", 0x0B, 0xFF, &v, errbuf, errlen))
		return -1;
	d->dfu_attributes = (uint8_t)v;
	if (get_u32(p, "dfu_version", DFU_VERSION_DFUSE, 0xFFFF, &v, errbuf, errlen))
		return -1;
	d->dfu_version = (uint16_t)v;
	if (get_u32(p, "config_attributes", 0xC0, 0xFF, &v, errbuf, errlen))
		return -1;
	d->config_attributes = (uint8_t)v;
	if (get_u32(p, "max_power_ma", 100, 500, &v, errbuf, errlen))
		return -1;
	d->max_power_2ma = (uint8_t)(v / 2);
	if (get_str(p, "manufacturer", "STMicroelectronics", d->manufacturer, sizeof(d->manufacturer), errbuf,
		    errlen) ||
	    get_str(p, "product", "STM32  BOOTLOADER", d->product, sizeof(d->product), errbuf, errlen))
		return -1;
	return 0;
}

/* uid: 24 hex digits, the words UID0 UID1 UID2 as numbers (spaces allowed between them). */
static int config_uid(struct sim_device *d, const struct sim_profile *p, char *errbuf, size_t errlen)
{
	const char *u = sim_profile_get(p, "uid");
	bool have_uid = false;
	uint32_t w[3] = {0};
	if (u) {
		uint8_t b[12];
		if (sim_parse_hex(u, b, sizeof(b)) != 12)
			return fail(errbuf, errlen, "uid", u, "expected 24 hex digits (UID0 UID1 UID2)");
		for (int i = 0; i < 3; i++)
			w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
			       (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
		have_uid = true;
		uint32_t addr;
		const char *a = sim_profile_get(p, "uid_addr");
		if (a) {
			if (!sim_parse_u32(a, &addr))
				return fail(errbuf, errlen, "uid_addr", a, "not an address");
			uint8_t le[12];
			for (int i = 0; i < 3; i++)
				put_le32(le + 4 * i, w[i]);
			/* L0/L1 keep UID2 apart from UID0/UID1 (RM0367 28.2: UID at +0x00, +0x04, +0x14) */
			const char *a2 = sim_profile_get(p, "uid2_addr");
			uint32_t addr2;
			if (a2 && !sim_parse_u32(a2, &addr2))
				return fail(errbuf, errlen, "uid2_addr", a2, "not an address");
			if (a2 ? place(d, addr, le, 8, "uid_addr", errbuf, errlen) ||
					 place(d, addr2, le + 8, 4, "uid2_addr", errbuf, errlen)
			       : place(d, addr, le, 12, "uid_addr", errbuf, errlen))
				return -1;
		}
	}
	char def[32] = "STM32FxSTM32"; /* the F446/F72x ROM constant (protocol.md 5.2) */
	if (have_uid) /* F2/F4 rule, protocol.md 5.1/5.2: hex8(UID0 + UID2) hex4(UID1 >> 16) */
		snprintf(def, sizeof(def), "%08X%04X", (unsigned)(w[0] + w[2]), (unsigned)(w[1] >> 16));
	const char *enc = sim_profile_get(p, "serial_encoding");
	d->serial_utf8 = false;
	if (enc) {
		if (strcmp(enc, "utf8") == 0)
			d->serial_utf8 = true;
		else if (strcmp(enc, "utf16") != 0)
			return fail(errbuf, errlen, "serial_encoding", enc, "must be `utf16` or `utf8`");
	}
	return get_str(p, "serial", def, d->serial, sizeof(d->serial), errbuf, errlen);
}

static int config_memories(struct sim_device *d, const struct sim_profile *p, char *errbuf, size_t errlen)
{
	const char *alts[SIM_MAX_ALTS + 1];
	size_t n = sim_profile_get_all(p, "alt", alts, SIM_MAX_ALTS + 1);
	if (n > SIM_MAX_ALTS)
		return fail(errbuf, errlen, "alt", alts[SIM_MAX_ALTS], "too many alternate settings");
	if (n == 0) {
		n = sizeof(sim_default_alts) / sizeof(sim_default_alts[0]);
		for (size_t i = 0; i < n; i++)
			alts[i] = sim_default_alts[i];
	}
	d->nalts = (int)n;
	for (size_t i = 0; i < n; i++) {
		if (strlen(alts[i]) > 126)
			return fail(errbuf, errlen, "alt", alts[i], "longer than a string descriptor");
		snprintf(d->alts[i], sizeof(d->alts[i]), "%s", alts[i]);
		if (sim_layout_parse(d, alts[i], errbuf, errlen) != 0)
			return -1;
	}
	/* ob_unlisted = ADDR SIZE: option bytes the chip has and no alt offers (the G0 ROM lists the
	 * flash on every alt: data/dfu-list/st-community_G0C1VET6_...) */
	const char *ou = sim_profile_get(p, "ob_unlisted");
	if (ou) {
		char a[32], b[32];
		uint32_t base, size;
		struct sim_mem *m = NULL;
		if (d->ob >= 0 || sscanf(ou, "%31s %31s", a, b) != 2 || !sim_parse_u32(a, &base) || !sim_parse_u32(b, &size) ||
		    size == 0 || size > 512 || !(m = sim_mem_add(d, SIM_MEM_OB, base, size, 0xFF)))
			return fail(errbuf, errlen, "ob_unlisted", ou,
				    "expected `ADDRESS SIZE` (up to 512 bytes, not overlapping, and no `Option Bytes` alt)");
		m->unlisted = true;
		d->ob = (int)(m - d->mem);
	}
	if (add_regions(d, p, "rom", SIM_MEM_ROM, errbuf, errlen) ||
	    add_regions(d, p, "ram", SIM_MEM_RAM, errbuf, errlen) ||
	    add_regions(d, p, "hang", SIM_MEM_HANG, errbuf, errlen))
		return -1;
	uint32_t v, addr;
	const char *a = sim_profile_get(p, "flash_size_addr");
	if (a) {
		uint32_t def = d->flash >= 0 ? d->mem[d->flash].size / 1024 : 0;
		if (!sim_parse_u32(a, &addr) || get_u32(p, "flash_size_kb", def, 0xFFFF, &v, errbuf, errlen))
			return fail(errbuf, errlen, "flash_size_addr", a, "not an address");
		uint8_t le[2];
		put_le16(le, (uint16_t)v);
		if (place(d, addr, le, 2, "flash_size_addr", errbuf, errlen))
			return -1;
	}
	a = sim_profile_get(p, "bootloader_id_addr");
	if (a) {
		if (!sim_parse_u32(a, &addr) || get_u32(p, "bootloader_id", 0, 0xFF, &v, errbuf, errlen))
			return fail(errbuf, errlen, "bootloader_id_addr", a, "not an address");
		uint8_t b = (uint8_t)v;
		if (place(d, addr, &b, 1, "bootloader_id_addr", errbuf, errlen))
			return -1;
	}
	/* where a valid initial stack pointer points: the first RAM, else the usual SRAM window */
	d->ram_lo = 0x20000000;
	d->ram_hi = 0x20100000;
	for (int i = 0; i < d->nmem; i++) {
		if (d->mem[i].kind == SIM_MEM_RAM) {
			d->ram_lo = d->mem[i].base;
			d->ram_hi = d->mem[i].base + d->mem[i].size;
			break;
		}
	}
	a = sim_profile_get(p, "msp_range");
	if (a) {
		char x[32], y[32];
		if (sscanf(a, "%31s %31s", x, y) != 2 || !sim_parse_u32(x, &d->ram_lo) ||
		    !sim_parse_u32(y, &d->ram_hi) || d->ram_hi <= d->ram_lo)
			return fail(errbuf, errlen, "msp_range", a, "expected `LOW HIGH`");
	}
	a = sim_profile_get(p, "boot_ram");
	if (a) {
		char x[32], y[32];
		uint32_t size;
		if (sscanf(a, "%31s %31s", x, y) != 2 || !sim_parse_u32(x, &d->boot_ram_lo) || !sim_parse_u32(y, &size) ||
		    size == 0 || (uint64_t)d->boot_ram_lo + size > 0x100000000ull)
			return fail(errbuf, errlen, "boot_ram", a, "expected `ADDR SIZE`");
		d->boot_ram_hi = d->boot_ram_lo + size;
	}
	return 0;
}

static int config_ob(struct sim_device *d, const struct sim_profile *p, char *errbuf, size_t errlen)
{
	struct sim_ob_desc *o = &d->obd;
	o->rdp_offset = -1;
	o->wrp_sectors_per_bit = 1;
	if (d->ob < 0)
		return sim_profile_get(p, "ob_default") ? fail(errbuf, errlen, "ob_default", "",
							       "no `Option Bytes` alt setting") : 0;
	struct sim_mem *m = &d->mem[d->ob];
	o->size = m->size;
	o->defaults = malloc(m->size);
	d->ob_active = malloc(m->size);
	if (!o->defaults || !d->ob_active)
		return fail(errbuf, errlen, "ob_default", "", "out of memory");
	memset(o->defaults, 0xFF, m->size);
	const char *v = sim_profile_get(p, "ob_default");
	if (v && sim_parse_hex(v, o->defaults, m->size) != (int)m->size)
		return fail(errbuf, errlen, "ob_default", v, "expected as many hex bytes as the OB block");
	uint32_t x;
	if (get_u32(p, "ob_rdp_offset", 0xFFFFFFFF, 0xFFFFFFFF, &x, errbuf, errlen))
		return -1;
	if (x != 0xFFFFFFFF) {
		if (x >= m->size)
			return fail(errbuf, errlen, "ob_rdp_offset", sim_profile_get(p, "ob_rdp_offset"),
				    "outside the OB block");
		o->rdp_offset = (int)x;
	}
	v = sim_profile_get(p, "ob_wrp_offsets");
	if (v) {
		char buf[256];
		snprintf(buf, sizeof(buf), "%s", v);
		for (char *save = NULL, *t = strtok_r(buf, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
			if (o->n_wrp_offsets >= 8 || !sim_parse_u32(t, &x) || x >= m->size)
				return fail(errbuf, errlen, "ob_wrp_offsets", v, "expected up to 8 byte offsets");
			o->wrp_offsets[o->n_wrp_offsets++] = (int)x;
		}
	}
	if (get_u32(p, "ob_wrp_bits", (uint32_t)o->n_wrp_offsets * 8, (uint32_t)o->n_wrp_offsets * 8, &x, errbuf,
		    errlen))
		return -1;
	o->wrp_bits = (int)x;
	if (get_u32(p, "ob_wrp_sectors_per_bit", 1, 1024, &x, errbuf, errlen))
		return -1;
	o->wrp_sectors_per_bit = x ? (int)x : 1;
	if (get_u32(p, "ob_wrp_active_high", 0, 1, &x, errbuf, errlen))
		return -1;
	o->wrp_active_high = x != 0;
	if (get_u32(p, "ob_wrp_complement", 0, 8, &x, errbuf, errlen))
		return -1;
	for (int i = 0; x && i < o->n_wrp_offsets; i++)
		if ((uint32_t)o->wrp_offsets[i] + x >= m->size)
			return fail(errbuf, errlen, "ob_wrp_complement", sim_profile_get(p, "ob_wrp_complement"),
			            "a complement outside the OB block");
	o->wrp_complement = (int)x;
	/* ob_wrp_area = START_ADDR END_ADDR MASK FIRST_SECTOR PAGES (one per WRP area) */
	const char *areas[8];
	size_t na = sim_profile_get_all(p, "ob_wrp_area", areas, 8);
	for (size_t i = 0; i < na; i++) {
		uint32_t f[5];
		int k = 0;
		char buf[128];
		snprintf(buf, sizeof buf, "%s", areas[i]);
		for (char *save = NULL, *t = strtok_r(buf, " \t,", &save); t && k < 6; t = strtok_r(NULL, " \t,", &save), k++)
			if (k >= 5 || !sim_parse_u32(t, &f[k]))
				k = 6;
		if (k != 5 || o->n_areas >= 4 || f[2] > 0xFF || f[4] == 0)
			return fail(errbuf, errlen, "ob_wrp_area", areas[i],
				    "expected START_ADDR END_ADDR MASK FIRST_SECTOR PAGES (up to 4 areas)");
		o->areas[o->n_areas++] = (struct sim_wrp_area){f[0], f[1], (uint8_t)f[2], f[3], f[4]};
	}
	memcpy(m->data, o->defaults, m->size);
	memcpy(d->ob_active, o->defaults, m->size);
	/* bank_alt = OFFSET MASK VALUE SECTORS_PER_BIT @layout: alt 0 in the organisation the option
	 * byte at OFFSET selects when (byte & MASK) == VALUE (F76x nDBANK = 1: single bank, RM0410 3.3.2) */
	v = sim_profile_get(p, "bank_alt");
	if (v) {
		uint32_t f[4];
		int used = 0;
		char a[4][32];
		const char *at = strchr(v, '@');
		if (!at || sscanf(v, "%31s %31s %31s %31s %n", a[0], a[1], a[2], a[3], &used) != 4 || v + used != at ||
		    !sim_parse_u32(a[0], &f[0]) || !sim_parse_u32(a[1], &f[1]) || !sim_parse_u32(a[2], &f[2]) ||
		    !sim_parse_u32(a[3], &f[3]) || f[0] >= m->size || f[1] > 0xFF || f[1] == 0 || f[2] > 0xFF ||
		    f[3] == 0 || f[3] > 1024 || strlen(at) > 126 || d->nalts < 1)
			return fail(errbuf, errlen, "bank_alt", v, "expected OFFSET MASK VALUE SECTORS_PER_BIT @layout");
		struct sim_bank *b = &d->bank;
		b->offset = (int)f[0];
		b->mask = (uint8_t)f[1];
		b->value = (uint8_t)f[2];
		b->sectors_per_bit = (int)f[3];
		b->home_spb = o->wrp_sectors_per_bit;
		snprintf(b->alt, sizeof b->alt, "%s", at);
		snprintf(b->home_alt, sizeof b->home_alt, "%s", d->alts[0]);
		/* both organisations must cover the flash alt 0 made */
		if (sim_flash_resector(d, b->alt) != 0 || sim_flash_resector(d, b->home_alt) != 0)
			return fail(errbuf, errlen, "bank_alt", v, "a layout of the flash's base and size");
		b->on = true;
		sim_bank_apply(d);
	}
	return 0;
}

static int config_contents(struct sim_device *d, const struct sim_profile *p, char *errbuf, size_t errlen)
{
	const char *v = sim_profile_get(p, "feature_default");
	if (v) {
		if (d->feature < 0)
			return fail(errbuf, errlen, "feature_default", v, "no `Device Feature` alt setting");
		struct sim_mem *m = &d->mem[d->feature];
		if (sim_parse_hex(v, m->data, m->size) != (int)m->size)
			return fail(errbuf, errlen, "feature_default", v, "expected the block's size in hex bytes");
	}
	const char *pokes[64];
	size_t n = sim_profile_get_all(p, "poke", pokes, 64);
	uint8_t *buf = malloc(65536);
	if (!buf)
		return fail(errbuf, errlen, "poke", "", "out of memory");
	for (size_t i = 0; i < n; i++) {
		char a[32];
		int off = 0;
		uint32_t addr;
		if (sscanf(pokes[i], "%31s %n", a, &off) != 1 || !sim_parse_u32(a, &addr)) {
			free(buf);
			return fail(errbuf, errlen, "poke", pokes[i], "expected `ADDRESS HEXBYTES`");
		}
		int len = sim_parse_hex(pokes[i] + off, buf, 65536);
		struct sim_mem *m = len > 0 ? sim_mem_range(d, addr, (uint32_t)len) : NULL;
		if (!m) {
			free(buf);
			return fail(errbuf, errlen, "poke", pokes[i], "bad bytes or not inside one memory");
		}
		memcpy(m->data + (addr - m->base), buf, (size_t)len);
	}
	free(buf);
	return 0;
}

static int config_start(struct sim_device *d, const struct sim_profile *p, char *errbuf, size_t errlen)
{
	d->start_state = dfuIDLE;
	d->start_status = DFU_STATUS_OK;
	const char *v = sim_profile_get(p, "start_state");
	if (v) {
		int i = name_index(v, sim_state_names, DFU_STATE_COUNT);
		if (i != dfuIDLE && i != dfuERROR)
			return fail(errbuf, errlen, "start_state", v, "must be dfuIDLE or dfuERROR");
		d->start_state = (enum dfu_state)i;
	}
	v = sim_profile_get(p, "start_status");
	if (v) {
		int i = name_index(v, sim_status_names, DFU_STATUS_COUNT);
		if (i < 0)
			return fail(errbuf, errlen, "start_status", v, "not a DFU status");
		d->start_status = (enum dfu_status)i;
	} else if (d->start_state == dfuERROR) {
		d->start_status = errFIRMWARE; /* what F0/F4/L1 ROMs show (data/dfu-list/unicorne-8_...) */
	}
	if ((d->start_state == dfuIDLE) != (d->start_status == DFU_STATUS_OK))
		return fail(errbuf, errlen, "start_status", v, "dfuIDLE goes with OK, dfuERROR with an error");
	return 0;
}

/* t_erase = SIZE MS_X8 [MS_X16 [MS_X32 [MS_X64]]] */
static int config_timing(struct sim_device *d, const struct sim_profile *p, char *errbuf, size_t errlen)
{
	struct sim_timing *t = &d->t;
	uint32_t v;
	if (get_double(p, "timing", 1.0, &t->scale, errbuf, errlen) ||
	    get_double(p, "t_prog_us", 16.0, &t->t_prog_us, errbuf, errlen) ||
	    get_double(p, "t_ob", 100.0, &t->ob_ms, errbuf, errlen) ||
	    get_double(p, "t_reset", 230.0, &t->reset_ms, errbuf, errlen) ||
	    get_double(p, "t_unprotect", 0.0, &t->unprotect_ms, errbuf, errlen) ||
	    get_double(p, "t_set_address", 0.0, &t->set_address_ms, errbuf, errlen))
		return -1;
	if (get_u32(p, "prog_width", 1, 8, &v, errbuf, errlen))
		return -1;
	if (v != 1 && v != 2 && v != 4 && v != 8)
		return fail(errbuf, errlen, "prog_width", sim_profile_get(p, "prog_width"), "must be 1, 2, 4 or 8");
	t->prog_width = (int)v;
	const char *vals[8];
	size_t n = sim_profile_get_all(p, "t_erase", vals, 8);
	for (size_t i = 0; i < n; i++) {
		char sz[32];
		double ms[4];
		int k = sscanf(vals[i], "%31s %lf %lf %lf %lf", sz, &ms[0], &ms[1], &ms[2], &ms[3]);
		if (k < 2 || !sim_parse_u32(sz, &t->erase_size[i]))
			return fail(errbuf, errlen, "t_erase", vals[i], "expected `SECTOR_SIZE MS [MS...]`");
		for (int j = 0; j < 4; j++)
			t->erase_ms[i][j] = j < k - 1 ? ms[j] : t->erase_ms[i][j - 1];
	}
	t->n_erase = (int)n;
	const char *me = sim_profile_get(p, "t_mass_erase");
	double mev[4] = {16000, 16000, 16000, 16000};
	if (me) {
		int k = sscanf(me, "%lf %lf %lf %lf", &mev[0], &mev[1], &mev[2], &mev[3]);
		if (k < 1)
			return fail(errbuf, errlen, "t_mass_erase", me, "expected `MS [MS...]`");
		for (int j = k; j < 4; j++)
			mev[j] = mev[j - 1];
	}
	memcpy(t->mass_erase_ms, mev, sizeof(mev));
	/* Reported polls: F4 ROM, protocol.md 2.7 (100 ms erase, 104 ms program); manifest 1 ms as the
	 * F0 capture and ST-MW show. */
	struct {
		const char *key;
		uint32_t def;
		uint32_t *out;
	} polls[] = {
		{"poll_erase", 100, &t->poll_erase},
		{"poll_mass_erase", 0xFFFFFFFF, &t->poll_mass_erase},
		{"poll_program", 104, &t->poll_program},
		{"poll_set_address", 0xFFFFFFFF, &t->poll_set_address},
		{"poll_manifest", 1, &t->poll_manifest},
		{"poll_unprotect", 0xFFFFFFFF, &t->poll_unprotect},
		{"poll_ob", 0xFFFFFFFF, &t->poll_ob},
	};
	for (size_t i = 0; i < sizeof(polls) / sizeof(polls[0]); i++)
		if (get_u32(p, polls[i].key, polls[i].def, 0xFFFFFFFF, polls[i].out, errbuf, errlen))
			return -1;
	if (t->poll_mass_erase == 0xFFFFFFFF)
		t->poll_mass_erase = t->poll_erase;
	if (t->poll_set_address == 0xFFFFFFFF) /* DERIVED: the F0 capture reports the program poll */
		t->poll_set_address = t->poll_program;
	if (t->poll_unprotect == 0xFFFFFFFF)
		t->poll_unprotect = t->poll_erase;
	if (t->poll_ob == 0xFFFFFFFF)
		t->poll_ob = t->poll_program;
	for (size_t i = 0; i < sizeof(polls) / sizeof(polls[0]); i++)
		if (*polls[i].out > 0xFFFFFF)
			return fail(errbuf, errlen, polls[i].key, "", "bwPollTimeout has 24 bits");
	const char *pb = sim_profile_get(p, "poll_after_busy");
	t->poll_repeat = false;
	if (pb) {
		if (strcmp(pb, "same") == 0)
			t->poll_repeat = true;
		else if (strcmp(pb, "zero") != 0)
			return fail(errbuf, errlen, "poll_after_busy", pb, "must be `same` or `zero`");
	}
	/* What a GETSTATUS gets while the flash operation runs (docs/rom-quirks.md): held until it
	 * ends (F2/F4/F7, protocol.md 2.7a), dfuDNBUSY at once (an asynchronous device), or a STALL
	 * (STM32L4). Without the key: dfuDNBUSY, the behaviour that asks most of a host's poll loop. */
	const char *br = sim_profile_get(p, "busy_reply");
	t->busy_reply = SIM_BUSY_REPLY_BUSY;
	if (br) {
		if (strcmp(br, "hold") == 0)
			t->busy_reply = SIM_BUSY_REPLY_HOLD;
		else if (strcmp(br, "stall") == 0)
			t->busy_reply = SIM_BUSY_REPLY_STALL;
		else if (strcmp(br, "stall_error") == 0)
			t->busy_reply = SIM_BUSY_REPLY_STALL_ERROR;
		else if (strcmp(br, "hold_first") == 0)
			t->busy_reply = SIM_BUSY_REPLY_HOLD_FIRST;
		else if (strcmp(br, "busy") != 0)
			return fail(errbuf, errlen, "busy_reply", br,
			            "must be `hold`, `hold_first`, `busy`, `stall` or `stall_error`");
	}
	/* C071 (LibUsbDfu #13): a leave whose DNLOAD does not follow a Set Address ends in dfuERROR */
	const char *lna = sim_profile_get(p, "leave_needs_address");
	t->leave_needs_address = false;
	if (lna) {
		if (strcmp(lna, "1") == 0)
			t->leave_needs_address = true;
		else if (strcmp(lna, "0") != 0)
			return fail(errbuf, errlen, "leave_needs_address", lna, "must be 0 or 1");
	}
	/* AT32F415 (flashfloppy #584): READ_UNPROTECT answered dfuDNLOAD-IDLE instead of dfuDNBUSY */
	const char *ur = sim_profile_get(p, "unprotect_reply");
	t->unprotect_idle = false;
	if (ur) {
		if (strcmp(ur, "idle") == 0)
			t->unprotect_idle = true;
		else if (strcmp(ur, "busy") != 0)
			return fail(errbuf, errlen, "unprotect_reply", ur, "must be `busy` or `idle`");
	}
	/* F42x (community.st.com thread 27098): one string descriptor is sent cut short while its
	 * bLength keeps the whole length */
	const char *sc = sim_profile_get(p, "string_cut");
	t->string_cut_index = 0;
	t->string_cut_bytes = 0;
	if (sc) {
		unsigned idx = 0, bytes = 0;
		if (sscanf(sc, "%u %u", &idx, &bytes) != 2 || idx == 0 || idx > 255 || bytes < 2 || bytes > 255)
			return fail(errbuf, errlen, "string_cut", sc, "expected `INDEX BYTES` (index 1..255, 2..255 bytes)");
		t->string_cut_index = (uint8_t)idx;
		t->string_cut_bytes = (uint8_t)bytes;
	}
	/* L4/G4/G0/WB: OTP is written once per double word */
	if (get_u32(p, "otp_unit", 0, 64, &t->otp_unit, errbuf, errlen))
		return -1;
	/* L43x: data DNLOADs above 1024 bytes fail although wTransferSize says 2048 */
	if (get_u32(p, "max_dnload", 0, SIM_MAX_TRANSFER, &t->max_dnload, errbuf, errlen))
		return -1;
	/* Option-byte UPLOAD length: AN3156 4.1 wants exactly the block's size (`exact`, the default);
	 * some ROMs were seen serving other lengths (`any`, docs/rom-quirks.md) */
	const char *ou = sim_profile_get(p, "ob_upload");
	t->ob_upload_any = false;
	if (ou) {
		if (strcmp(ou, "any") == 0)
			t->ob_upload_any = true;
		else if (strcmp(ou, "exact") != 0)
			return fail(errbuf, errlen, "ob_upload", ou, "must be `exact` or `any`");
	}
	/* H7 rev V: the erase of a sector at or above this address stays in dfuDNBUSY */
	const char *ew = sim_profile_get(p, "erase_wedge");
	t->erase_wedge_enabled = ew != NULL;
	if (ew && !sim_parse_u32(ew, &t->erase_wedge))
		return fail(errbuf, errlen, "erase_wedge", ew, "not an address");
	/* H750 (nuttx transcript) and GD32VF103 (dfu-util's leave quirk): the chip is gone after the
	 * leave DNLOAD and never answers the GETSTATUS that would report dfuMANIFEST */
	const char *ls = sim_profile_get(p, "leave_status");
	t->leave_at_dnload = false;
	if (ls) {
		if (strcmp(ls, "none") == 0)
			t->leave_at_dnload = true;
		else if (strcmp(ls, "answer") != 0)
			return fail(errbuf, errlen, "leave_status", ls, "must be `answer` or `none`");
	}
	return 0;
}

int sim_dev_configure(struct sim_device *d, const struct sim_profile *p, char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < p->n; i++) {
		bool known = false;
		for (size_t k = 0; k < sizeof(sim_known_keys) / sizeof(sim_known_keys[0]); k++)
			known = known || strcmp(p->kv[i].key, sim_known_keys[k]) == 0;
		if (!known)
			return fail(errbuf, errlen, p->kv[i].key, p->kv[i].value, "unknown key (docs/profiles.md)");
	}
	snprintf(d->name, sizeof(d->name), "%s", p->name);
	d->flash = d->ob = d->feature = -1;
	if (config_identity(d, p, errbuf, errlen) || config_memories(d, p, errbuf, errlen) ||
	    config_uid(d, p, errbuf, errlen) || config_ob(d, p, errbuf, errlen) ||
	    config_contents(d, p, errbuf, errlen) || config_start(d, p, errbuf, errlen) ||
	    config_timing(d, p, errbuf, errlen))
		return -1;
	return 0;
}
