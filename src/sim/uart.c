/*
 * The ROM's AN3155 USART bootloader over the shared chip model (sim_uart.h). Sources are the short
 * names of ../shared/reference/protocol.md; each modelled choice is graded in docs/rom-quirks.md
 * ("USART bootloader").
 *
 * One state machine, fed one byte at a time: wait for 0x7F (autobaud), then a command byte and its
 * complement, then the command's frames (address + XOR, count, data + XOR, page lists). The ROM
 * answers ACK 0x79 / NACK 0x1F; a NACK returns it to waiting for a command (AN3155 Table 2 note).
 * The ROM has no timeout between bytes: a half-sent command waits for its remaining bytes
 * (stm32flash stm32.c, stm32_send_init_seq comment).
 */
#include "sim/sim_uart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rd.h"
#include "sim/sim_int.h"

#define ACK 0x79
#define NACK 0x1F
#define TXQ 1024 /* the longest answer is GET (16) or Read Memory (1 + 256): room for several */

enum ustate {
	U_SYNC,     /* after reset: waiting for 0x7F */
	U_LOST,     /* autobaud locked to a rate the host is not at: nothing is understood until reset */
	U_CMD,      /* waiting for a command byte */
	U_COMPL,    /* waiting for its complement */
	U_FRAME,    /* collecting `need` bytes of the command's next frame */
	U_GONE,     /* jumped to the application, or started it (BOOT0 low): the bootloader is not listening */
	U_HELD,     /* NRST held low by the fixture: the chip is in reset, nothing is received or sent */
};

enum uphase { P_RM_ADDR, P_RM_N, P_GO_ADDR, P_WM_ADDR, P_WM_N, P_WM_DATA, P_ER_N, P_ER_LIST, P_EE_N,
	      P_EE_LIST, P_WP_N, P_WP_LIST, P_CRC_ADDR, P_CRC_LEN };

enum umode { M_BOOT, M_SILENT, M_ECHO };

struct txb {
	uint8_t b;
	uint64_t at;
};

struct sim_uart {
	struct sim_device *d;
	/* identity and ROM build */
	uint16_t device_id;
	uint8_t version, gv[2];
	uint8_t cmds[32];
	size_t ncmds;
	unsigned max_baud;
	bool mass_erase; /* the special erase codes are taken (L0: no, stm32flash F_NO_ME) */
	int banks;
	unsigned max_erase_pages; /* pages one Extended Erase may list, 0: no limit (L0: 511) */
	double reset_ms;
	enum umode mode;
	/* faults */
	double noise, drop;
	unsigned noise_above;    /* uart_noise only at host rates above this (0: at every rate) */
	uint64_t noise_at, noise_tx_at, drop_at;
	uint64_t reset_at_byte, gone_at; /* the chip resets (a brown-out, an NRST glitch) / loses power
	                                  * or its cable as this host byte arrives (uart_reset_at, uart_gone_at) */
	uint64_t host_bytes, rom_bytes;
	/* the fixture: NRST and BOOT0 wired to the host's modem lines (uart_nrst, uart_boot0) */
	char nrst_line, boot0_line; /* 0 not wired, 'd' DTR, 'r' RTS */
	bool nrst_neg, boot0_neg;   /* the pin is active while its line is deasserted */
	bool boot0_strap;           /* BOOT0's level where no line drives it */
	bool dtr, rts;              /* the host's lines as last set (deasserted before the port opens) */
	bool in_reset;
	/* line */
	unsigned host_baud, locked_baud;
	char host_parity;
	bool host_checks;
	/* machine */
	enum ustate st;
	uint8_t cmd;
	enum uphase ph;
	uint8_t buf[2 * 65536 + 8];
	size_t have, need;
	uint32_t addr, len;
	uint64_t busy_until;  /* flash work or reset in progress: received bytes are lost */
	uint64_t reset_at;    /* 0, or when a pending reset ends (U_SYNC again) */
	/* transmit queue */
	struct txb q[TXQ];
	size_t qh, qn;
	uint64_t line_free;
	uint32_t line_ahead; /* sim_uart_byte_next */
	struct sim_uart_stats stats;
};

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

static int configure(struct sim_uart *u, const struct sim_profile *p, char *errbuf, size_t errlen)
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
	u->drop_at = c;
	if (key_u32(p, "uart_reset_at", 0, 0xFFFFFFFF, &a, errbuf, errlen) ||
	    key_u32(p, "uart_gone_at", 0, 0xFFFFFFFF, &b, errbuf, errlen))
		return -1;
	u->reset_at_byte = a;
	u->gone_at = b;
	return 0;
}

static bool line_of(const struct sim_uart *u, char line)
{
	return line == 'd' ? u->dtr : u->rts;
}

static bool nrst_low(const struct sim_uart *u)
{
	return u->nrst_line && line_of(u, u->nrst_line) != u->nrst_neg;
}

static bool boot0_high(const struct sim_uart *u)
{
	return u->boot0_line ? line_of(u, u->boot0_line) != u->boot0_neg : u->boot0_strap;
}

/* The F74x/F75x ROM still boots at RDP level 2 and serves Get, Get Version and Get ID there
 * (AN2606 F74x section, protocol.md 3.5; start() refuses the rest). */
static bool rdp2_boots(const struct sim_uart *u)
{
	return u->device_id == 0x449;
}

/* After a reset the ROM's bootloader runs when BOOT0 selects it, unless the option bytes just
 * loaded say RDP level 2, which disables boot from system memory for good on every family
 * without contrary evidence (sim_rdp2_gone: the USB door's rule, PM0059/RM0090 3.7.3, RM0440,
 * AN2606; docs/rom-quirks.md): such a chip answers no 0x7F again. */
static bool rom_runs(struct sim_uart *u)
{
	if (!boot0_high(u))
		return false;
	return !sim_rdp2_gone(u->d) || rdp2_boots(u);
}

struct sim_uart *sim_uart_new(struct sim_device *d, const struct sim_profile *p, char *errbuf, size_t errlen)
{
	if (errlen)
		errbuf[0] = '\0';
	struct sim_uart *u = calloc(1, sizeof *u);
	if (!u) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	u->d = d;
	if (configure(u, p, errbuf, errlen) != 0) {
		free(u);
		return NULL;
	}
	u->host_baud = 115200;
	u->host_parity = 'E';
	u->host_checks = true;
	/* powered up before any host opened the port: the lines deasserted, BOOT0 sampled at reset */
	u->in_reset = nrst_low(u);
	u->st = u->in_reset ? U_HELD : rom_runs(u) ? U_SYNC : U_GONE;
	return u;
}

void sim_uart_free(struct sim_uart *u)
{
	free(u);
}

struct sim_device *sim_uart_device(struct sim_uart *u)
{
	return u->d;
}

void sim_uart_set_host_line(struct sim_uart *u, unsigned baud, char parity, bool host_checks_parity)
{
	u->host_baud = baud;
	u->host_parity = parity;
	u->host_checks = host_checks_parity;
}

uint64_t sim_uart_byte_us(const struct sim_uart *u)
{
	unsigned baud = u->host_baud ? u->host_baud : 115200;
	unsigned bits = u->host_parity == 'N' ? 10 : 11;
	return ((uint64_t)bits * 1000000u + baud - 1) / baud;
}

uint64_t sim_uart_wire_us(const struct sim_uart *u, uint64_t n)
{
	unsigned baud = u->host_baud ? u->host_baud : 115200;
	return (n * (u->host_parity == 'N' ? 10u : 11u) * 1000000u + baud - 1) / baud;
}

uint64_t sim_uart_byte_next(const struct sim_uart *u, uint32_t *ahead)
{
	unsigned baud = u->host_baud ? u->host_baud : 115200;
	uint64_t need = (u->host_parity == 'N' ? 10u : 11u) * 1000000ull - (*ahead < baud ? *ahead : 0);
	uint64_t us = (need + baud - 1) / baud;
	*ahead = (uint32_t)(us * baud - need);
	return us;
}

void sim_uart_get_stats(const struct sim_uart *u, struct sim_uart_stats *out)
{
	*out = u->stats;
}

static bool chance(struct sim_uart *u, double p)
{
	return p > 0 && (double)(sim_rand(u->d) % 1000000u) < p * 1e6;
}

/* Line noise: a long cable or a slow level shifter blurs edges at high rates first, so uart_noise
 * may be limited to rates above uart_noise_above (a fault injection, not a ROM behaviour). */
static bool noisy(struct sim_uart *u)
{
	if (u->noise_above && u->host_baud <= u->noise_above)
		return false;
	return chance(u, u->noise);
}

/* ---- transmit ---- */

/* The ROM sends byte b once it has decided to at `at` (device time, after any flash work). */
static void emit(struct sim_uart *u, uint8_t b, uint64_t at)
{
	if (u->qn == TXQ)
		return; /* cannot happen: every answer is read before the next command */
	uint64_t start = at > u->line_free ? at : u->line_free;
	if (at >= u->line_free)
		u->line_ahead = 0; /* the line was idle: the byte starts on the whole microsecond */
	u->line_free = start + sim_uart_byte_next(u, &u->line_ahead);
	u->rom_bytes++;
	u->stats.bytes_out++;
	bool lost = false;
	if (chance(u, u->drop)) {
		lost = true;
		u->stats.faults++;
	} else if (noisy(u) || (u->noise_tx_at && u->rom_bytes == u->noise_tx_at)) {
		u->stats.faults++;
		/* one flipped bit: the parity bit no longer matches, a host port that checks parity
		 * drops the byte; one that does not passes the wrong byte on */
		b ^= (uint8_t)(1u << (sim_rand(u->d) % 8));
		lost = u->host_checks && u->host_parity != 'N';
	}
	/* the ROM sends at the rate it locked to; a host at another rate reads garbage (AN3155 2: 2.5 %) */
	if (u->locked_baud && u->host_baud &&
	    (u->host_baud > u->locked_baud * 1.025 || u->host_baud < u->locked_baud * 0.975))
		lost = true;
	if (lost)
		return;
	struct txb *t = &u->q[(u->qh + u->qn) % TXQ];
	t->b = b;
	t->at = u->line_free;
	u->qn++;
}

bool sim_uart_tx_peek(struct sim_uart *u, uint8_t *byte, uint64_t *at_us)
{
	if (!u->qn)
		return false;
	*byte = u->q[u->qh].b;
	*at_us = u->q[u->qh].at;
	return true;
}

bool sim_uart_tx_peek_at(struct sim_uart *u, size_t i, uint8_t *byte, uint64_t *at_us)
{
	if (i >= u->qn)
		return false;
	*byte = u->q[(u->qh + i) % TXQ].b;
	*at_us = u->q[(u->qh + i) % TXQ].at;
	return true;
}

void sim_uart_tx_pop(struct sim_uart *u)
{
	if (u->qn) {
		u->qh = (u->qh + 1) % TXQ;
		u->qn--;
	}
}

static void ack(struct sim_uart *u, uint64_t at)
{
	u->stats.acks++;
	emit(u, ACK, at);
}

static void nack(struct sim_uart *u, uint64_t at)
{
	u->stats.nacks++;
	emit(u, NACK, at);
	u->st = U_CMD;
}

/* ---- the chip ---- */

/* The chip resets after the last byte of the answer is out: option bytes reloaded, the ROM
 * starts again and waits for 0x7F (AN3155 3.9-3.12; chipwhisperer PR #249 in
 * data/uart/NOTES-behaviour-from-prose.md). */
static void reset_after(struct sim_uart *u, uint64_t at)
{
	uint64_t end = (at > u->line_free ? at : u->line_free) + sim_scaled_us(u->d, u->reset_ms);
	u->busy_until = u->reset_at = end;
	u->stats.resets++;
}

void sim_uart_reset(struct sim_uart *u, uint64_t at_us)
{
	u->qn = 0;
	u->line_free = at_us;
	u->st = U_SYNC;
	u->locked_baud = 0;
	u->busy_until = u->reset_at = 0;
	u->stats.resets++;
	sim_rom_reset(u->d); /* option bytes reloaded; the DfuSe side's state starts again too */
}

static void finish_reset(struct sim_uart *u)
{
	u->reset_at = 0;
	sim_rom_reset(u->d); /* the option bytes loaded first: they may say RDP level 2 */
	u->st = rom_runs(u) ? U_SYNC : U_GONE; /* BOOT0 is sampled again at every reset (AN2606) */
	u->locked_baud = 0;
}

void sim_uart_set_lines(struct sim_uart *u, int dtr, int rts, uint64_t at_us)
{
	if (dtr >= 0)
		u->dtr = dtr != 0;
	if (rts >= 0)
		u->rts = rts != 0;
	bool low = nrst_low(u);
	if (low && !u->in_reset) {
		/* NRST pulled low: the chip stops at once; what it was sending is cut off */
		u->in_reset = true;
		u->qn = 0;
		u->st = U_HELD;
		u->locked_baud = 0;
		u->busy_until = u->reset_at = 0;
	} else if (!low && u->in_reset) {
		/* released: BOOT0 sampled, the ROM (or the application) starts after the reset time */
		u->in_reset = false;
		u->stats.resets++;
		u->line_free = at_us;
		sim_rom_reset(u->d);
		u->st = rom_runs(u) ? U_SYNC : U_GONE;
		u->locked_baud = 0;
		u->busy_until = at_us + sim_scaled_us(u->d, u->reset_ms);
	}
}

static bool listed(const struct sim_uart *u, uint8_t c)
{
	for (size_t i = 0; i < u->ncmds; i++)
		if (u->cmds[i] == c)
			return true;
	return false;
}

static uint8_t xor_of(const uint8_t *b, size_t n)
{
	uint8_t x = 0;
	for (size_t i = 0; i < n; i++)
		x ^= b[i];
	return x;
}

static uint32_t get_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void clear_ram(struct sim_device *d)
{
	for (int i = 0; i < d->nmem; i++)
		if (d->mem[i].kind == SIM_MEM_RAM || d->mem[i].kind == SIM_MEM_EEPROM)
			memset(d->mem[i].data, 0, d->mem[i].size);
}

/* The option bytes as they will be after the reset: the OB block in memory (what a reload takes). */
static uint8_t *ob_block(struct sim_uart *u)
{
	return u->d->ob >= 0 ? u->d->mem[u->d->ob].data : NULL;
}

/* One write-protection bit to protected or not, as the flash interface programs it: the level the
 * family reads as protected (0, or 1 on L0/L1) and the stored complement beside it. */
static void wrp_bit(struct sim_device *d, uint8_t *ob, int bit, bool protect)
{
	const struct sim_ob_desc *o = &d->obd;
	int off = o->wrp_offsets[bit / 8];
	uint8_t m = (uint8_t)(1u << (bit % 8));
	bool set = protect == o->wrp_active_high;
	ob[off] = set ? (uint8_t)(ob[off] | m) : (uint8_t)(ob[off] & ~m);
	if (o->wrp_complement)
		ob[off + o->wrp_complement] = (uint8_t)~ob[off];
}

/* The runnable test of rom.c's leave(): a stack pointer inside SRAM and a Thumb reset vector in
 * flash or RAM (ARMv7-M B1.5.2); the same rule for Go. */
static bool runnable(struct sim_device *d, uint32_t at)
{
	uint8_t v[8];
	if (!sim_mem_read(d, at, v, 8))
		return false;
	uint32_t msp = get_le32(v), reset = get_le32(v + 4);
	const struct sim_mem *code = sim_mem_find_c(d, reset & ~1u);
	return msp > d->ram_lo && msp <= d->ram_hi && (reset & 1u) && code &&
	       (code->kind == SIM_MEM_FLASH || code->kind == SIM_MEM_RAM);
}

/* STM32 CRC unit defaults (RM0385 "CRC calculation unit"): poly 0x04C11DB7, init 0xFFFFFFFF,
 * 32-bit words as the bus reads them (little-endian), no reflection, no final XOR. Get Checksum
 * returns it (AN3155 3.13; stm32flash stm32_sw_crc computes the same). */
static uint32_t stm32_crc(uint32_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i += 4) {
		crc ^= get_le32(p + i);
		for (int k = 0; k < 32; k++)
			crc = crc & 0x80000000u ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
	}
	return crc;
}

/* The flash sectors (pages) erased by number: true when every number exists. Protected sectors
 * keep their bytes and no error is returned (AN3155 3.7/3.8 notes). */
static bool erase_list(struct sim_uart *u, const uint16_t *pages, size_t n, uint64_t *busy_us)
{
	struct sim_device *d = u->d;
	if (d->flash < 0)
		return false;
	const struct sim_mem *m = &d->mem[d->flash];
	for (size_t i = 0; i < n; i++)
		if (pages[i] >= m->nsectors)
			return false;
	double ms = 0;
	for (size_t i = 0; i < n; i++) {
		sim_flash_erase_sector(d, pages[i], false);
		ms += sim_erase_ms(d, m->sectors[pages[i]].size);
	}
	*busy_us = sim_scaled_us(d, ms);
	return true;
}

/* Starts a command whose byte and complement were received at t. */
static void start(struct sim_uart *u, uint64_t t)
{
	struct sim_device *d = u->d;
	uint8_t c = u->cmd;
	int rdp = sim_rdp_level(d);
	if (!listed(u, c)) {
		nack(u, t);
		return;
	}
	/* under RDP only Get, Get Version and Get ID (and Readout Unprotect at level 1) are served
	 * (AN3155 Table 2 note 2); at level 2 nothing else (AN2606, protocol.md 3.5) */
	if (rdp && c != 0x00 && c != 0x01 && c != 0x02 && !(c == 0x92 && rdp == 1)) {
		nack(u, t);
		return;
	}
	u->have = 0;
	u->st = U_FRAME;
	switch (c) {
	case 0x00: /* Get: N = count of bytes that follow - 1, version, commands (AN3155 3.1) */
		ack(u, t);
		emit(u, (uint8_t)u->ncmds, t);
		emit(u, u->version, t);
		for (size_t i = 0; i < u->ncmds; i++)
			emit(u, u->cmds[i], t);
		ack(u, t);
		u->st = U_CMD;
		return;
	case 0x01: /* Get Version: version and two option bytes, 0x00 0x00 on every log we have */
		ack(u, t);
		emit(u, u->version, t);
		emit(u, u->gv[0], t);
		emit(u, u->gv[1], t);
		ack(u, t);
		u->st = U_CMD;
		return;
	case 0x02: /* Get ID: N = 1, PID MSB first (data/uart CampusIoT and G431 logs: 01 04 16 / 01 04 68) */
		ack(u, t);
		emit(u, 0x01, t);
		emit(u, (uint8_t)(u->device_id >> 8), t);
		emit(u, (uint8_t)u->device_id, t);
		ack(u, t);
		u->st = U_CMD;
		return;
	case 0x11:
		u->ph = P_RM_ADDR, u->need = 5;
		break;
	case 0x21:
		u->ph = P_GO_ADDR, u->need = 5;
		break;
	case 0x31:
	case 0x32:
		u->ph = P_WM_ADDR, u->need = 5;
		break;
	case 0x43:
		u->ph = P_ER_N, u->need = 1;
		break;
	case 0x44:
	case 0x45:
		u->ph = P_EE_N, u->need = 2;
		break;
	case 0x63:
	case 0x64:
		u->ph = P_WP_N, u->need = 1;
		break;
	case 0xA1:
		u->ph = P_CRC_ADDR, u->need = 5;
		break;
	case 0x73:
	case 0x74: { /* Write Unprotect: ACK, every sector unprotected, ACK, reset (AN3155 3.10); only the
		      * WRP bits change (a byte that holds them may hold other options: F76x nDBANK) */
		ack(u, t);
		uint8_t *ob = ob_block(u);
		if (ob)
			for (int i = 0; i < d->obd.wrp_bits; i++)
				wrp_bit(d, ob, i, false);
		uint64_t done = t + sim_scaled_us(d, d->t.ob_ms);
		ack(u, done);
		reset_after(u, done);
		u->st = U_CMD;
		return;
	}
	case 0x82:
	case 0x83: { /* Readout Protect: ACK, RDP byte to a level-1 value, ACK, reset (AN3155 3.11) */
		ack(u, t);
		uint8_t *ob = ob_block(u);
		if (ob && d->obd.rdp_offset >= 0)
			ob[d->obd.rdp_offset] = 0x00; /* any value but 0xAA and 0xCC is level 1 (protocol.md 7.3) */
		uint64_t done = t + sim_scaled_us(d, d->t.ob_ms);
		ack(u, done);
		reset_after(u, done);
		u->st = U_CMD;
		return;
	}
	case 0x92:
	case 0x93: { /* Readout Unprotect: ACK, mass erase + OB defaults (level 1), RAM cleared, ACK,
		      * reset (AN3155 3.12; the RAM and defaults as AN3156 5.4 says for the same ROM) */
		ack(u, t);
		double ms = d->t.unprotect_ms + d->t.ob_ms;
		clear_ram(d);
		if (rdp == 1) {
			sim_flash_mass_erase(d, true);
			if (ob_block(u))
				memcpy(ob_block(u), d->obd.defaults, d->obd.size);
			ms += sim_mass_erase_ms(d);
		}
		uint64_t done = t + sim_scaled_us(d, ms);
		d->stats.busy_us += done - t;
		ack(u, done);
		reset_after(u, done);
		u->st = U_CMD;
		return;
	}
	default: /* listed by a profile but not modelled */
		nack(u, t);
		return;
	}
	ack(u, t);
}

/* A whole frame of the running command arrived at t. */
static void frame(struct sim_uart *u, uint64_t t)
{
	struct sim_device *d = u->d;
	const uint8_t *b = u->buf;
	size_t n = u->have;
	u->have = 0;
	switch (u->ph) {
	case P_RM_ADDR:
	case P_GO_ADDR:
	case P_WM_ADDR:
	case P_CRC_ADDR: {
		if (xor_of(b, 5) != 0) {
			nack(u, t);
			return;
		}
		u->addr = get_be32(b);
		const struct sim_mem *m = sim_mem_find_c(d, u->addr);
		bool ok = m != NULL;
		if (u->ph == P_GO_ADDR)
			ok = ok && (m->kind == SIM_MEM_FLASH || m->kind == SIM_MEM_RAM);
		if (u->ph == P_WM_ADDR)
			ok = ok && m->kind != SIM_MEM_ROM && m->kind != SIM_MEM_HANG;
		if (m && m->kind == SIM_MEM_HANG && u->ph == P_RM_ADDR) {
			d->hung = true; /* the F7 ROM's byte access to DBGMCU never returns (protocol.md 2.3) */
			u->st = U_GONE;
			return;
		}
		if (!ok) {
			nack(u, t);
			return;
		}
		ack(u, t);
		if (u->ph == P_GO_ADDR) {
			/* the ROM jumps: an application with a valid vector table runs (the bootloader is
			 * gone); without one the core faults and the chip comes back through reset */
			if (runnable(d, u->addr))
				u->st = U_GONE;
			else
				reset_after(u, t), u->st = U_CMD;
			return;
		}
		u->ph = u->ph == P_RM_ADDR ? P_RM_N : u->ph == P_WM_ADDR ? P_WM_N : P_CRC_LEN;
		u->need = u->ph == P_CRC_LEN ? 5 : u->ph == P_RM_N ? 2 : 1;
		return;
	}
	case P_RM_N: { /* N-1 and its complement; the range must lie in one memory */
		if ((b[0] ^ b[1]) != 0xFF) {
			nack(u, t);
			return;
		}
		uint32_t len = (uint32_t)b[0] + 1;
		uint8_t out[256];
		if (!sim_mem_read(d, u->addr, out, len)) {
			nack(u, t);
			return;
		}
		ack(u, t);
		for (uint32_t i = 0; i < len; i++)
			emit(u, out[i], t);
		u->st = U_CMD;
		return;
	}
	case P_WM_N:
		u->len = (uint32_t)b[0] + 1;
		u->buf[0] = b[0]; /* kept: the checksum covers N */
		u->have = 1;
		u->ph = P_WM_DATA;
		u->need = u->len + 2;
		return;
	case P_WM_DATA: {
		/* buf: N, data, checksum = XOR of N and the data (AN3155 3.6) */
		struct sim_mem *m = sim_mem_find(d, u->addr);
		if (xor_of(b, n) != 0 || !m || u->len > m->size - (u->addr - m->base)) {
			nack(u, t);
			return;
		}
		const uint8_t *data = b + 1;
		uint64_t done = t;
		bool reset = false;
		switch (m->kind) {
		case SIM_MEM_OB: /* programmed, then the chip resets to load them (AN3155 3.6) */
			memcpy(m->data + (u->addr - m->base), data, u->len);
			done += sim_scaled_us(d, d->t.ob_ms);
			reset = true;
			break;
		case SIM_MEM_RAM:
			if (u->addr < d->boot_ram_hi && (uint64_t)u->addr + u->len > d->boot_ram_lo)
				d->hung = true; /* over the ROM's own RAM (AN3155/AN2606: the bootloader's area) */
			memcpy(m->data + (u->addr - m->base), data, u->len);
			break;
		case SIM_MEM_EEPROM:
		case SIM_MEM_FEATURE:
			memcpy(m->data + (u->addr - m->base), data, u->len);
			done += sim_scaled_us(d, sim_program_ms(d, u->len));
			break;
		default: /* flash, OTP: bits only clear; WRP sectors keep their bytes, no error (AN3155 3.6 note) */
			sim_flash_program(d, m, u->addr, data, u->len);
			done += sim_scaled_us(d, sim_program_ms(d, u->len));
			break;
		}
		d->stats.busy_us += done - t;
		u->busy_until = done;
		if (d->hung) {
			u->st = U_GONE;
			return;
		}
		ack(u, done);
		u->st = U_CMD;
		if (reset)
			reset_after(u, done);
		return;
	}
	case P_ER_N: /* legacy Erase: N-1 pages, or 0xFF + 0x00 for all (AN3155 3.7) */
		u->buf[0] = b[0];
		u->have = 1;
		u->ph = P_ER_LIST;
		u->need = b[0] == 0xFF ? 2 : (size_t)b[0] + 3;
		return;
	case P_ER_LIST: {
		uint64_t busy = 0;
		if (b[0] == 0xFF) {
			if (b[1] != 0x00 || !u->mass_erase) {
				nack(u, t);
				return;
			}
			sim_flash_mass_erase(d, false);
			busy = sim_scaled_us(d, sim_mass_erase_ms(d));
		} else {
			uint16_t pages[256];
			size_t np = (size_t)b[0] + 1;
			for (size_t i = 0; i < np; i++)
				pages[i] = b[1 + i];
			if (xor_of(b, n) != 0 || !erase_list(u, pages, np, &busy)) {
				nack(u, t);
				return;
			}
		}
		d->stats.busy_us += busy;
		u->busy_until = t + busy;
		ack(u, t + busy);
		u->st = U_CMD;
		return;
	}
	case P_EE_N: { /* Extended Erase: N (16 bits, MSB first) or a special code (AN3155 3.8) */
		uint16_t v = (uint16_t)(b[0] << 8 | b[1]);
		u->buf[0] = b[0];
		u->buf[1] = b[1];
		u->have = 2;
		u->ph = P_EE_LIST;
		u->need = v >= 0xFFF0 ? 3 : 2 + 2 * ((size_t)v + 1) + 1;
		return;
	}
	case P_EE_LIST: {
		uint16_t v = (uint16_t)(b[0] << 8 | b[1]);
		uint64_t busy = 0;
		if (xor_of(b, n) != 0) {
			nack(u, t);
			return;
		}
		if (v >= 0xFFF0) {
			/* FFFF mass, FFFE bank 1, FFFD bank 2; the others reserved. L0 ROMs NACK all of them
			 * (stm32flash F_NO_ME; NOTES-behaviour-from-prose.md) */
			bool ok = u->mass_erase && (v == 0xFFFF || (u->banks == 2 && (v == 0xFFFE || v == 0xFFFD)));
			if (!ok) {
				nack(u, t);
				return;
			}
			if (v == 0xFFFF) {
				sim_flash_mass_erase(d, false);
				busy = sim_scaled_us(d, sim_mass_erase_ms(d));
			} else {
				const struct sim_mem *m = &d->mem[d->flash];
				size_t half = m->nsectors / 2, lo = v == 0xFFFE ? 0 : half;
				uint16_t pages[65536 / 2];
				size_t np = 0;
				for (size_t i = lo; i < lo + half && np < sizeof pages / sizeof pages[0]; i++)
					pages[np++] = (uint16_t)i;
				erase_list(u, pages, np, &busy);
			}
		} else {
			size_t np = (size_t)v + 1;
			uint16_t *pages = u->max_erase_pages && np > u->max_erase_pages ? NULL : malloc(np * sizeof *pages);
			if (!pages) {
				nack(u, t);
				return;
			}
			for (size_t i = 0; i < np; i++)
				pages[i] = (uint16_t)(b[2 + 2 * i] << 8 | b[3 + 2 * i]);
			bool ok = erase_list(u, pages, np, &busy);
			free(pages);
			if (!ok) {
				nack(u, t);
				return;
			}
		}
		d->stats.busy_us += busy;
		u->busy_until = t + busy;
		ack(u, t + busy);
		u->st = U_CMD;
		return;
	}
	case P_WP_N:
		u->buf[0] = b[0];
		u->have = 1;
		u->ph = P_WP_LIST;
		u->need = (size_t)b[0] + 3;
		return;
	case P_WP_LIST: { /* Write Protect: exactly the listed sectors protected, the others unprotected (a
		           * second command undoes the first: AN3155 3.9 note, AN2662 2.13, AN3154 3.10), ACK,
		           * reset. Codes past the flash are not checked and do nothing (the same note). */
		size_t ns = (size_t)b[0] + 1;
		uint8_t *ob = ob_block(u);
		const struct sim_ob_desc *o = &d->obd;
		if (xor_of(b, n) != 0 || !ob || !o->wrp_bits) {
			nack(u, t);
			return;
		}
		for (int i = 0; i < o->wrp_bits; i++)
			wrp_bit(d, ob, i, false);
		for (size_t i = 0; i < ns; i++) {
			size_t bit = b[1 + i] / (size_t)o->wrp_sectors_per_bit;
			if (bit < (size_t)o->wrp_bits)
				wrp_bit(d, ob, (int)bit, true);
		}
		uint64_t done = t + sim_scaled_us(d, d->t.ob_ms);
		ack(u, done);
		reset_after(u, done);
		u->st = U_CMD;
		return;
	}
	case P_CRC_LEN: { /* Get Checksum: length in bytes (a multiple of 4), then ACK, ACK, CRC + XOR */
		uint32_t len = get_be32(b);
		uint8_t *buf = NULL;
		if (xor_of(b, 5) != 0 || len == 0 || len % 4 || u->addr % 4 || !(buf = malloc(len)) ||
		    !sim_mem_read(d, u->addr, buf, len)) {
			free(buf);
			nack(u, t);
			return;
		}
		uint32_t crc = stm32_crc(0xFFFFFFFFu, buf, len);
		free(buf);
		ack(u, t);
		/* the ROM's CRC unit takes a word per bus cycle or so: a fraction of a read's wire time;
		 * 1 us per KiB here (UNCONFIRMED, small next to any wire time) */
		uint64_t done = t + sim_scaled_us(d, (double)len / 1024.0 / 1000.0);
		ack(u, done);
		uint8_t o[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
		for (int i = 0; i < 4; i++)
			emit(u, o[i], done);
		emit(u, xor_of(o, 4), done);
		u->st = U_CMD;
		return;
	}
	}
}

/* What the ROM's USART makes of a byte the host sent with its own framing: a parity mismatch
 * (the ROM runs 8E1, AN3155) loses the byte. A host at 8N1 sends its stop bit where the ROM
 * expects parity: bytes with an odd count of ones (0x7F among them) still pass. */
static bool parity_ok(const struct sim_uart *u, uint8_t b)
{
	int ones = __builtin_popcount(b);
	switch (u->host_parity) {
	case 'E':
		return true;
	case 'O':
		return false;
	default: /* 'N': the line is high (1) where the parity bit is read */
		return ones % 2 == 1;
	}
}

void sim_uart_rx(struct sim_uart *u, uint8_t b, uint64_t t)
{
	u->host_bytes++;
	if (u->mode == M_SILENT)
		return;
	if (u->mode == M_ECHO) { /* a running application that echoes, or TX looped to RX */
		emit(u, b, t);
		return;
	}
	if (u->gone_at && u->host_bytes >= u->gone_at) {
		if (u->host_bytes == u->gone_at)
			u->stats.faults++;
		u->qn = 0; /* no power, or no cable: nothing more is received or sent */
		return;
	}
	if (u->reset_at_byte && u->host_bytes == u->reset_at_byte) {
		/* the chip resets mid-command: the flash keeps what was programmed, the bootloader starts
		 * again and waits for 0x7F; the byte and any answer being sent are lost */
		u->stats.faults++;
		sim_uart_reset(u, t);
		u->busy_until = t + sim_scaled_us(u->d, u->reset_ms);
		return;
	}
	if (u->reset_at && t >= u->reset_at)
		finish_reset(u);
	if (u->st == U_SYNC && sim_rdp_level(u->d) == 2 && !rdp2_boots(u))
		u->st = U_GONE; /* a chip kept at level 2 (state file): its bootloader never started */
	u->stats.bytes_in++;
	if (chance(u, u->drop) || (u->drop_at && u->host_bytes == u->drop_at)) {
		u->stats.faults++;
		return; /* the start bit was lost: nothing arrives */
	}
	bool flipped = false;
	if (noisy(u) || (u->noise_at && u->host_bytes == u->noise_at)) {
		u->stats.faults++;
		b ^= (uint8_t)(1u << (sim_rand(u->d) % 8));
		flipped = true; /* the parity bit now disagrees */
	}
	if (u->st == U_GONE || u->st == U_LOST || u->st == U_HELD || t < u->busy_until || flipped || !parity_ok(u, b)) {
		u->stats.dropped++;
		return;
	}
	if (u->locked_baud && (u->host_baud > u->locked_baud * 1.025 || u->host_baud < u->locked_baud * 0.975)) {
		u->stats.dropped++; /* framing garbage at the wrong rate (AN3155 2: within 2.5 %) */
		return;
	}
	switch (u->st) {
	case U_SYNC:
		if (b != 0x7F)
			return; /* autobaud measures 0x7F only (AN3155 1) */
		if (u->host_baud > u->max_baud) {
			u->st = U_LOST; /* it measured a rate it cannot run: deaf until reset (DERIVED) */
			return;
		}
		u->locked_baud = u->host_baud;
		u->stats.syncs++;
		ack(u, t);
		u->st = U_CMD;
		return;
	case U_CMD:
		u->cmd = b;
		u->st = U_COMPL;
		return;
	case U_COMPL:
		if ((uint8_t)(u->cmd ^ b) != 0xFF) {
			nack(u, t); /* a second 0x7F lands here: NACK (G431 log, NOTES "Init / autobaud") */
			return;
		}
		start(u, t);
		return;
	case U_FRAME:
		u->buf[u->have++] = b;
		if (u->have == u->need)
			frame(u, t);
		return;
	default:
		return;
	}
}
