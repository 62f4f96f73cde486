/*
 * The emulated USART bootloader's profile keys (uart_int.h; docs/profiles.md lists them, and
 * docs/rom-quirks.md grades what each models).
 */
#include <stdio.h>
#include <string.h>

#include "sim/uart_int.h"


/* The GET list of F2/F4/F7 ROMs with protocol 3.1 (AN3155 Table 2; the L1 v3.0 byte log in
 * data/uart/CampusIoT-... has the same eleven codes). */
static const uint8_t default_cmds[] = {0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92};

static int fail(char *errbuf, size_t errlen, const char *key, const char *v, const char *why)
{
	snprintf(errbuf, errlen, "profile key `%s` = `%s`: %s", key, v ? v : "", why);
	return -1;
}

static int key_u32(const struct sim_profile *p, const char *key, uint32_t def, uint32_t max, uint32_t *out,
		   char *errbuf, size_t errlen)
{
	const char *v = sim_profile_get(p, key);
	*out = def;
	if (v && (!sim_parse_u32(v, out) || *out > max))
		return fail(errbuf, errlen, key, v, "not a number in range");
	return 0;
}

static int key_rate(const struct sim_profile *p, const char *key, double *out, char *errbuf, size_t errlen)
{
	const char *v = sim_profile_get(p, key);
	*out = 0;
	if (v && (!sim_parse_double(v, out) || *out < 0 || *out > 1))
		return fail(errbuf, errlen, key, v, "a probability from 0 to 1");
	return 0;
}

/* "dtr", "-dtr", "rts", "-rts": which host line drives a pin, and whether its deasserted state is the
 * pin's active one */
static bool wiring(const char *v, char *line, bool *neg)
{
	*neg = v[0] == '-';
	const char *n = *neg ? v + 1 : v;
	if (strcmp(n, "dtr") && strcmp(n, "rts"))
		return false;
	*line = n[0];
	return true;
}

int sim_uart_configure(struct sim_uart *u, const struct sim_profile *p, char *errbuf, size_t errlen)
{
	uint32_t v;
	const char *s = sim_profile_get(p, "uart_device_id");
	if (!s)
		return fail(errbuf, errlen, "uart_device_id", "", "needed for the USART bootloader (GET ID answers it)");
	if (key_u32(p, "uart_device_id", 0, 0xFFFF, &v, errbuf, errlen))
		return -1;
	u->device_id = (uint16_t)v;
	if (key_u32(p, "uart_version", 0x31, 0xFF, &v, errbuf, errlen))
		return -1;
	u->version = (uint8_t)v;
	s = sim_profile_get(p, "uart_commands");
	if (s) {
		int n = sim_parse_hex(s, u->cmds, sizeof u->cmds);
		if (n < 1)
			return fail(errbuf, errlen, "uart_commands", s, "expected hex command codes");
		u->ncmds = (size_t)n;
	} else {
		memcpy(u->cmds, default_cmds, sizeof default_cmds);
		u->ncmds = sizeof default_cmds;
	}
	s = sim_profile_get(p, "uart_gv_options");
	if (s && sim_parse_hex(s, u->gv, 2) != 2)
		return fail(errbuf, errlen, "uart_gv_options", s, "expected two hex bytes");
	if (key_u32(p, "uart_max_baud", 115200, 10000000, &v, errbuf, errlen))
		return -1;
	u->max_baud = v;
	s = sim_profile_get(p, "uart_mode");
	u->mode = M_BOOT;
	if (s) {
		if (!strcmp(s, "silent"))
			u->mode = M_SILENT;
		else if (!strcmp(s, "echo"))
			u->mode = M_ECHO;
		else if (strcmp(s, "bootloader"))
			return fail(errbuf, errlen, "uart_mode", s, "must be `bootloader`, `silent` or `echo`");
	}
	s = sim_profile_get(p, "uart_mass_erase");
	u->mass_erase = !s || !strcmp(s, "yes");
	if (s && strcmp(s, "yes") && strcmp(s, "no"))
		return fail(errbuf, errlen, "uart_mass_erase", s, "must be `yes` or `no`");
	if (key_u32(p, "uart_banks", 1, 2, &v, errbuf, errlen))
		return -1;
	u->banks = v ? (int)v : 1;
	if (key_u32(p, "uart_max_erase_pages", 0, 65535, &v, errbuf, errlen))
		return -1;
	u->max_erase_pages = v;
	s = sim_profile_get(p, "uart_ram");
	u->ram_lo = u->ram_hi = 0;
	u->ram_limited = false;
	if (s) {
		char a[32], b[32];
		uint32_t size;
		if (sscanf(s, "%31s %31s", a, b) != 2 || !sim_parse_u32(a, &u->ram_lo) || !sim_parse_u32(b, &size) ||
		    (uint64_t)u->ram_lo + size > 0xFFFFFFFFull)
			return fail(errbuf, errlen, "uart_ram", s, "expected `ADDR SIZE` (SIZE 0: no RAM served)");
		u->ram_hi = u->ram_lo + size;
		u->ram_limited = true;
	}
	s = sim_profile_get(p, "uart_t_reset");
	u->reset_ms = u->d->t.reset_ms;
	if (s && (!sim_parse_double(s, &u->reset_ms) || u->reset_ms < 0))
		return fail(errbuf, errlen, "uart_t_reset", s, "not a time in ms");
	s = sim_profile_get(p, "uart_nrst");
	if (s && strcmp(s, "none") && !wiring(s, &u->nrst_line, &u->nrst_neg))
		return fail(errbuf, errlen, "uart_nrst", s, "must be `none`, `dtr`, `-dtr`, `rts` or `-rts`");
	s = sim_profile_get(p, "uart_boot0");
	u->boot0_strap = true;
	if (s && !strcmp(s, "low"))
		u->boot0_strap = false;
	else if (s && strcmp(s, "high") && !wiring(s, &u->boot0_line, &u->boot0_neg))
		return fail(errbuf, errlen, "uart_boot0", s, "must be `high`, `low`, `dtr`, `-dtr`, `rts` or `-rts`");
	if (u->nrst_line && u->nrst_line == u->boot0_line)
		return fail(errbuf, errlen, "uart_boot0", s, "NRST and BOOT0 cannot share one line");
	if (key_rate(p, "uart_noise", &u->noise, errbuf, errlen) || key_rate(p, "uart_drop", &u->drop, errbuf, errlen))
		return -1;
	if (key_u32(p, "uart_noise_above", 0, 10000000, &v, errbuf, errlen))
		return -1;
	u->noise_above = v;
	uint32_t a, b, c;
	if (key_u32(p, "uart_noise_at", 0, 0xFFFFFFFF, &a, errbuf, errlen) ||
	    key_u32(p, "uart_noise_tx_at", 0, 0xFFFFFFFF, &b, errbuf, errlen) ||
	    key_u32(p, "uart_drop_at", 0, 0xFFFFFFFF, &c, errbuf, errlen))
		return -1;
	u->noise_at = a;
	u->noise_tx_at = b;
	if (key_rate(p, "uart_noise2", &u->noise2, errbuf, errlen) ||
	    key_u32(p, "uart_noise2_at", 0, 0xFFFFFFFF, &a, errbuf, errlen) ||
	    key_u32(p, "uart_noise2_tx_at", 0, 0xFFFFFFFF, &b, errbuf, errlen) ||
	    key_u32(p, "uart_noise2_mask", 0, 0xFF, &v, errbuf, errlen))
		return -1;
	if (v && __builtin_popcount(v) != 2)
		return fail(errbuf, errlen, "uart_noise2_mask", sim_profile_get(p, "uart_noise2_mask"),
		            "two bits set (the flips parity cannot see)");
	u->noise2_at = a;
	u->noise2_tx_at = b;
	u->noise2_mask = (uint8_t)v;
	if (key_u32(p, "uart_noise2_read_at", 0, 0xFFFFFFFF, &a, errbuf, errlen))
		return -1;
	u->noise2_read_at = a;
	u->drop_at = c;
	if (key_u32(p, "uart_reset_at", 0, 0xFFFFFFFF, &a, errbuf, errlen) ||
	    key_u32(p, "uart_gone_at", 0, 0xFFFFFFFF, &b, errbuf, errlen))
		return -1;
	u->reset_at_byte = a;
	u->gone_at = b;
	return 0;
}
