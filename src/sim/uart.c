/*
 * The ROM's AN3155 USART bootloader over the shared chip model (sim_uart.h). Sources are the short
 * names of ../shared/reference/protocol.md; each modelled choice is graded in docs/rom-quirks.md
 * ("USART bootloader").
 *
 * This part is the line and the parser (uart_int.h): bytes in and out at the host's rate with
 * their faults, resets and the fixture's modem lines, and one state machine, fed one byte at a
 * time: wait for 0x7F (autobaud), then a command byte and its
 * complement, then the command's frames (address + XOR, count, data + XOR, page lists). The ROM
 * answers ACK 0x79 / NACK 0x1F; a NACK returns it to waiting for a command (AN3155 Table 2 note).
 * The ROM has no timeout between bytes: a half-sent command waits for its remaining bytes
 * (stm32flash stm32.c, stm32_send_init_seq comment).
 */
#include "sim/sim_uart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/uart_int.h"

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
	if (sim_uart_configure(u, p, errbuf, errlen) != 0) {
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

/*
 * What noise does to the byte number `nth` of one direction (at: that direction's _at key, at2:
 * its two-bit key): 0 nothing; else the XOR mask of the flipped bits. One flipped bit breaks the
 * byte's even parity (the receiver that checks it drops the byte); two flipped bits keep it, so the
 * byte arrives wrong: a command that fails its complement, a frame that fails its XOR (NACKs), and
 * Read Memory data, which carry no checksum, wrong. uart_noise2 is the share of noisy bytes with
 * two flips (a fault injection: AN3155's 8E1 sees one and misses two, the rate is the model's).
 */
static uint8_t noise_mask(struct sim_uart *u, uint64_t nth, uint64_t at, uint64_t at2)
{
	bool two = at2 && nth == at2;
	if (!two && !noisy(u) && !(at && nth == at))
		return 0;
	u->stats.faults++;
	if (!two && !(at && nth == at))
		two = chance(u, u->noise2);
	if (two && at2 && nth == at2 && u->noise2_mask)
		return u->noise2_mask;
	unsigned i = sim_rand(u->d) % 8, j = two ? (i + 1 + sim_rand(u->d) % 7) % 8 : i;
	return (uint8_t)(1u << i | 1u << j);
}

void sim_uart_fault_next(struct sim_uart *u, bool to_rom, int bits, uint64_t after, uint8_t mask)
{
	uint64_t at = (to_rom ? u->host_bytes : u->rom_bytes) + after;
	if (bits == 2)
		*(to_rom ? &u->noise2_at : &u->noise2_tx_at) = at, u->noise2_mask = mask;
	else
		*(to_rom ? &u->noise_at : &u->noise_tx_at) = at;
}

void sim_uart_line_next(struct sim_uart *u, enum sim_uart_line ev, uint64_t after)
{
	uint64_t at = u->host_bytes + after;
	if (ev == SIM_UART_DROP)
		u->drop_at = at;
	else if (ev == SIM_UART_RESET)
		u->reset_at_byte = at;
	else
		u->gone_at = at;
}

/* ---- transmit ---- */

/* The ROM sends byte b once it has decided to at `at` (device time, after any flash work). */
void sim_uart_emit(struct sim_uart *u, uint8_t b, uint64_t at)
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
	uint8_t flip;
	if (chance(u, u->drop)) {
		lost = true;
		u->stats.faults++;
	} else if ((flip = noise_mask(u, u->rom_bytes, u->noise_tx_at, u->noise2_tx_at)) != 0) {
		/* one flipped bit: the parity bit no longer matches, a host port that checks parity
		 * drops the byte; one that does not passes the wrong byte on. Two: it passes either way */
		b ^= flip;
		lost = __builtin_popcount(flip) == 1 && u->host_checks && u->host_parity != 'N';
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

void sim_uart_ack(struct sim_uart *u, uint64_t at)
{
	u->stats.acks++;
	sim_uart_emit(u, ACK, at);
}

void sim_uart_nack(struct sim_uart *u, uint64_t at)
{
	u->stats.nacks++;
	sim_uart_emit(u, NACK, at);
	u->st = U_CMD;
}

/* ---- the chip ---- */

/* The chip resets after the last byte of the answer is out: option bytes reloaded, the ROM
 * starts again and waits for 0x7F (AN3155 3.9-3.12; chipwhisperer PR #249 in
 * data/uart/NOTES-behaviour-from-prose.md). */
void sim_uart_reset_after(struct sim_uart *u, uint64_t at)
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
		sim_uart_emit(u, b, t);
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
	uint8_t flip = noise_mask(u, u->host_bytes, u->noise_at, u->noise2_at);
	b ^= flip;
	bool flipped = __builtin_popcount(flip) == 1; /* the parity bit now disagrees; two flips it misses */
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
		sim_uart_ack(u, t);
		u->st = U_CMD;
		return;
	case U_CMD:
		u->cmd = b;
		u->st = U_COMPL;
		return;
	case U_COMPL:
		if ((uint8_t)(u->cmd ^ b) != 0xFF) {
			sim_uart_nack(u, t); /* a second 0x7F lands here: NACK (G431 log, NOTES "Init / autobaud") */
			return;
		}
		sim_uart_cmd_start(u, t);
		return;
	case U_FRAME:
		u->buf[u->have++] = b;
		if (u->have == u->need)
			sim_uart_cmd_frame(u, t);
		return;
	default:
		return;
	}
}
