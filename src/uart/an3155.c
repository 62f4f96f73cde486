/*
 * AN3155 over a serial transport (an3155.h). Sources: AN3155 (command frames), stm32flash 0.7
 * stm32.c (what a widely used host does: init, timeouts, Get Checksum's two ACKs), the byte logs
 * in ../shared/data/uart. docs/usart.md grades each fact.
 */
#include "uart/an3155.h"
#include "uart/an3155_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POISON 0xFF

void an3155_init(struct an3155 *b, struct ser *ser)
{
	memset(b, 0, sizeof *b);
	b->ser = ser;
	/* An answer: 100 ms plus twice its wire time and that of the bytes still on their way out
	 * (an3155_answer_ms). 100 ms covers a USB-serial adapter's latency (FTDI's latency timer is 16 ms
	 * by default, CH340 and CP210x alike) and Windows' tick (15.6 ms), and a lost byte then costs
	 * 0.1 s rather than stm32flash's 1 s at any rate. A block's ACK comes after its programming:
	 * 200 ms more, 4x the slowest 256-byte block of the profiles (x8 at 200 us a byte, 51 ms; the
	 * F4's DS maximum is 100 us a byte, 26 ms). Erases and option bytes keep stm32flash's timeouts:
	 * page erase 5 s each, mass erase 35 s, (un)protect 1 s; the F7 mass erase is 16 s typical, 32 s
	 * max (protocol.md 3.4), a 256 KiB F7 sector 2 s typical, 4 s max. */
	b->to.sync_ms = 1000; /* the ROM may be starting: the profiles' t_reset is 230-250 ms */
	b->to.byte_ms = 100;
	b->to.write_ms = 200;
	b->to.page_erase_ms = 5000;
	b->to.mass_erase_ms = 40000;
	b->to.ob_ms = 2000;
	b->to.reset_ms = 1000;
	b->retries = 3;
	b->sync_answer = -1;
	err_clear(&b->err);
}

void an3155_version_text(uint8_t v, char *buf, size_t cap)
{
	snprintf(buf, cap, "%u.%u", v >> 4, v & 15u);
}

uint32_t an3155_crc(uint32_t crc, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i += 4) {
		crc ^= (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24;
		for (int k = 0; k < 32; k++)
			crc = crc & 0x80000000u ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
	}
	return crc;
}

bool an3155_has(const struct an3155 *b, uint8_t cmd)
{
	for (size_t i = 0; i < b->ncmds; i++)
		if (b->cmds[i] == cmd)
			return true;
	return false;
}

/* ---- bytes ---- */

unsigned an3155_answer_ms(const struct an3155 *b, size_t n)
{
	uint64_t us = ser_wire_us(&b->ser->cfg, b->pending + n);
	return b->to.byte_ms + (unsigned)((2 * us + 999) / 1000u);
}

int an3155_send(struct an3155 *b, const uint8_t *p, size_t n)
{
	int r = ser_write(b->ser, p, n, b->to.byte_ms + (unsigned)(ser_wire_us(&b->ser->cfg, n) / 1000u));
	if (r < 0)
		return err_set(&b->err, r, "%s", b->ser->err.msg);
	b->pending += n; /* a write returns once the bytes are queued: they may still be on the wire */
	return 0;
}

int an3155_recv(struct an3155 *b, uint8_t *p, size_t n, unsigned work_ms, const char *what)
{
	unsigned t = an3155_answer_ms(b, n) + work_ms;
	int r = ser_read(b->ser, p, n, t);
	if (r < 0)
		return err_set(&b->err, r, "%s: %s", what, b->ser->err.msg);
	if (r > 0)
		b->pending = 0;
	if ((size_t)r < n) {
		b->stats.timeouts++;
		return err_set(&b->err, STM32DFU_E_TIMEOUT, "%s: %d of %zu bytes in %u ms", what, r, n, t);
	}
	return 0;
}

/* One ACK/NACK. 0 ACK, R_NACK, or an error. */
int an3155_ack(struct an3155 *b, unsigned timeout_ms, const char *what)
{
	uint8_t a;
	int r = an3155_recv(b, &a, 1, timeout_ms, what);
	if (r < 0)
		return r;
	if (a == AN3155_ACK)
		return 0;
	if (a == AN3155_NACK) {
		b->stats.nacks++;
		return R_NACK;
	}
	return err_set(&b->err, STM32DFU_E_PROTOCOL, "%s: 0x%02x where ACK 0x79 or NACK 0x1F belongs", what, a);
}

int an3155_cmd(struct an3155 *b, uint8_t cmd)
{
	uint8_t f[2] = {cmd, (uint8_t)~cmd};
	char what[32];
	b->stats.commands++;
	snprintf(what, sizeof what, "command 0x%02x", cmd);
	int r = an3155_send(b, f, 2);
	return r < 0 ? r : an3155_ack(b, 0, what);
}

/* Address (or any 32-bit value) MSB first and its XOR (AN3155 3.4). */
static int send_u32(struct an3155 *b, uint32_t v, unsigned timeout_ms, const char *what)
{
	uint8_t f[5] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v, 0};
	f[4] = f[0] ^ f[1] ^ f[2] ^ f[3];
	int r = an3155_send(b, f, 5);
	return r < 0 ? r : an3155_ack(b, timeout_ms, what);
}

/*
 * Brings the ROM's parser back to waiting for a command after an answer went missing. 0x7F
 * cannot do it (after autobaud it is a command byte), so: bytes of 0xFF. A ROM waiting for a
 * command takes 0xFF as one and NACKs the next 0xFF, which is not its complement; a ROM waiting
 * for a frame's length takes a frame of 0xFF whose XOR fits, and 0xFF programs nothing. Once the
 * burst is answered, single bytes until a NACK: a NACK to the last byte sent means nothing is
 * pending, whether the ROM was at a command or at a complement.
 *
 * A ROM that lost one byte d of a frame the host sent waits for one more, and the first byte r
 * that comes ends the frame: the XOR then fits exactly when r == d (the frame's XOR with d left
 * out is d), and the ROM acts on the frame shifted by one byte. With r = 0xFF and the image
 * full of 0xFF, wrong bytes reached the flash (the USART campaign: 8 sessions in 20). So after
 * a frame the first byte is one the frame does not hold (b->lead_poison; write_poison()), and
 * neither 0x00 nor 0xFF, so that taken as a frame's length it cannot make a frame of 0xFF fit.
 */
static int resync_(struct an3155 *b)
{
	/* two bytes first: a ROM at a command NACKs the pair at once (one byte alone went unanswered and
	 * cost a whole wait), a ROM one byte short of a frame takes the first and NACKs the frame */
	static const size_t bursts[] = {2, 16, 64, 128, 128};
	uint8_t z[128], in[64];
	memset(z, POISON, sizeof z);
	b->stats.resyncs++;
	ser_flush_input(b->ser);
	for (size_t i = 0; i < sizeof bursts / sizeof bursts[0]; i++) {
		z[0] = i == 0 && b->lead_poison ? b->lead_poison : POISON;
		if (an3155_send(b, z, bursts[i]) < 0)
			return b->err.code;
		z[0] = POISON;
		int n = ser_read(b->ser, in, 1, an3155_answer_ms(b, 2)); /* the first answer, then the rest */
		if (n < 0)
			return err_set(&b->err, n, "resync: %s", b->ser->err.msg);
		if (n == 0)
			continue;
		/* drain what follows (bounded: a line that never goes quiet is not a bootloader) */
		unsigned drain = b->to.byte_ms / 2 + (unsigned)(2 * ser_wire_us(&b->ser->cfg, bursts[i]) / 1000u);
		for (int k = 0; k < 64 && (n = ser_read(b->ser, in, sizeof in, drain)) > 0; k++)
			;
		b->pending = 0;
		for (int k = 0; k < 4; k++) {
			uint8_t a;
			if (an3155_send(b, z, 1) < 0)
				return b->err.code;
			n = ser_read(b->ser, &a, 1, an3155_answer_ms(b, 1));
			b->pending = n == 1 ? 0 : b->pending;
			if (n == 1 && a == AN3155_NACK)
				return 0;
		}
	}
	return err_set(&b->err, STM32DFU_E_TIMEOUT, "resync: the bootloader does not answer any more");
}

int an3155_resync(struct an3155 *b)
{
	return resync_(b);
}

/* ---- memory ---- */

int an3155_need(struct an3155 *b, uint8_t cmd, const char *name)
{
	if (!b->have_get && an3155_get(b) < 0)
		return b->err.code;
	if (!an3155_has(b, cmd))
		return err_set(&b->err, STM32DFU_E_UNSUPPORTED, "this bootloader (protocol %u.%u) has no %s command (0x%02x)",
		               b->version >> 4, b->version & 15u, name, cmd);
	return 0;
}

/* A NACK to the command byte of a memory command: read protection (AN3155 Table 2 note 2). */
int an3155_refused(struct an3155 *b, const char *what)
{
	err_set(&b->err, STM32DFU_E_PROTECTED, "%s: NACK on the command: read protection is active", what);
	err_hint(&b->err, "{@unprotect} removes it (a mass erase)");
	return b->err.code;
}

/* A NACK is the chip's answer only when the same stage of a command got it twice: one alone may be
 * the line's (a spoiled byte, or an ACK lost and the next byte read in its place: a Read Memory of
 * flash that starts with 0x1F). *stage_seen: the stage of the last NACK (-1 none); true when
 * confirmed. */
bool an3155_nack_twice(int r, int stage, int *stage_seen)
{
	if (r != R_NACK)
		return false;
	if (*stage_seen == stage)
		return true;
	*stage_seen = stage;
	return false;
}

/* After the tries: a NACK seen once is the link's failure, not a refusal. */
static int lone_nack(struct an3155 *b, const char *what, uint32_t addr)
{
	return err_set(&b->err, STM32DFU_E_PROTOCOL,
	               "%s at 0x%08x: no consistent answer (one NACK among lost answers: the line, not the chip)", what,
	               addr);
}

static int read_once(struct an3155 *b, uint32_t addr, uint8_t *buf, size_t len, int *stage)
{
	*stage = 0;
	int r = an3155_cmd(b, AN3155_READ);
	if (r != 0)
		return r;
	*stage = 1;
	if ((r = send_u32(b, addr, 0, "Read Memory address")) != 0)
		return r;
	*stage = 2;
	uint8_t nf[2] = {(uint8_t)(len - 1), (uint8_t)~(len - 1)};
	if ((r = an3155_send(b, nf, 2)) < 0 || (r = an3155_ack(b, 0, "Read Memory count")) != 0)
		return r;
	return an3155_recv(b, buf, len, 0, "Read Memory data");
}

int an3155_read(struct an3155 *b, uint32_t addr, uint8_t *buf, size_t len)
{
	if (len == 0 || len > AN3155_MAX_BLOCK)
		return err_set(&b->err, STM32DFU_E_USAGE, "Read Memory: %zu bytes (1 to 256 per command)", len);
	if (an3155_need(b, AN3155_READ, "Read Memory") < 0)
		return b->err.code;
	int r = 0, stage = 0, nack_stage = -1;
	bool twice = false;
	for (unsigned t = 0; t <= b->retries; t++) {
		if (t) {
			b->stats.retries++;
			if (an3155_resync(b) < 0)
				return err_prefix(&b->err, "read at 0x%08x", addr);
		}
		r = read_once(b, addr, buf, len, &stage);
		if (r == 0)
			return 0;
		/* a NACK may be a byte the line spoiled; twice the same NACK is the chip's answer */
		if ((twice = an3155_nack_twice(r, stage, &nack_stage)))
			break;
	}
	if (r == R_NACK && !twice)
		return lone_nack(b, "Read Memory", addr);
	if (r == R_NACK && stage == 0)
		return an3155_refused(b, "Read Memory");
	if (r == R_NACK)
		return err_set(&b->err, STM32DFU_E_RANGE, "Read Memory: 0x%08x (+%zu): NACK: not readable there", addr, len);
	return err_prefix(&b->err, "read at 0x%08x", addr);
}

int an3155_read_all(struct an3155 *b, uint32_t addr, uint8_t *buf, size_t len)
{
	for (size_t off = 0; off < len; off += AN3155_MAX_BLOCK) {
		size_t n = len - off < AN3155_MAX_BLOCK ? len - off : AN3155_MAX_BLOCK;
		int r = an3155_read(b, addr + (uint32_t)off, buf + off, n);
		if (r < 0)
			return r;
	}
	return 0;
}

static int write_once(struct an3155 *b, uint32_t addr, const uint8_t *buf, size_t len, int *stage)
{
	*stage = 0;
	int r = an3155_cmd(b, AN3155_WRITE);
	if (r != 0)
		return r;
	*stage = 1;
	if ((r = send_u32(b, addr, 0, "Write Memory address")) != 0)
		return r;
	*stage = 2;
	uint8_t f[AN3155_MAX_BLOCK + 2];
	f[0] = (uint8_t)(len - 1);
	uint8_t x = f[0];
	for (size_t i = 0; i < len; i++)
		x ^= f[1 + i] = buf[i];
	f[len + 1] = x;
	if ((r = an3155_send(b, f, len + 2)) < 0)
		return r;
	return an3155_ack(b, b->to.write_ms, "Write Memory data");
}

/* A byte that the Write Memory frame of these bytes (its length byte, the data, the XOR) does
 * not hold, and not 0x00 or 0xFF (resync()); 0 when the frame holds all the others. */
static uint8_t write_poison(const uint8_t *buf, size_t len)
{
	bool seen[256] = {false};
	uint8_t x = (uint8_t)(len - 1);
	seen[x] = true;
	for (size_t i = 0; i < len; i++) {
		seen[buf[i]] = true;
		x ^= buf[i];
	}
	seen[x] = true;
	for (unsigned v = 0x01; v < 0xFF; v++)
		if (!seen[v])
			return (uint8_t)v;
	return 0;
}

/* After an unanswered Write Memory data frame: 0 the block holds buf, 1 it is erased, 2 anything
 * else, <0 the read failed. */
static int read_back(struct an3155 *b, uint32_t addr, const uint8_t *buf, size_t len)
{
	uint8_t back[AN3155_MAX_BLOCK];
	int r = an3155_read(b, addr, back, len);
	if (r < 0)
		return r;
	if (memcmp(back, buf, len) == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (back[i] != 0xFF)
			return 2;
	return 1;
}

/*
 * A chip that resets while a Write Memory frame is on the line waits for 0x7F, and a 0x7F among the
 * frame's bytes (its length byte too: 0x7F for 128 bytes) synchronises it: it answers ACK, which the
 * host takes for the frame's, and takes the bytes after it as commands, a byte and its complement
 * (campaign usart seed 2702 session 238: a Readout Protect, 0x82 0x7D, ran from the data). The
 * ROM's parse from there is fixed: pairs from the byte after the 0x7F. Returns the data offset
 * (a multiple of 4, 0 < cut < len) at which to split the frame when the bytes after one of its
 * 0x7F would make a pair this ROM runs (any it lists), else 0 (also when no split can help).
 */
static size_t command_cut(const struct an3155 *b, const uint8_t *buf, size_t len)
{
	uint8_t n = (uint8_t)(len - 1), x = n;
	for (size_t i = 0; i < len; i++)
		x ^= buf[i];
	/* the frame: f(0) the length, f(1..len) the data, f(len + 1) the XOR */
#define F(k) ((k) == 0 ? n : (k) <= len ? buf[(k) - 1] : x)
	for (size_t s = 0; s <= len; s++) {
		if (F(s) != 0x7F)
			continue;
		for (size_t k = s + 1; k + 1 <= len + 1; k += 2) {
			uint8_t c = F(k), cc = F(k + 1);
			if ((uint8_t)(c ^ cc) != 0xFF || !an3155_has(b, c))
				continue;
			if (s == 0) /* the length byte: another length */
				return len / 2 & ~(size_t)3;
			/* end the frame after the 0x7F's word, or before it when that is the last one */
			size_t d = s - 1, cut = (d / 4 + 1) * 4;
			if (cut >= len)
				cut = d / 4 * 4;
			return cut > 0 && cut < len ? cut : 0;
		}
	}
#undef F
	return 0;
}

/*
 * A frame whose length byte the line lost (the parity check drops a flipped bit) or changed (two
 * flipped bits pass it) ends early for the ROM: it takes a data byte, or the changed one, for the
 * length, and runs the bytes after the frame's wrong end as commands, a byte and its complement (a
 * noisy write over the emulator left the chip at RDP level 1: 0x82 0x7D, Readout Protect, in its
 * data; another went silent). The earliest such an end can come is a length of 1: the length, one
 * data byte, the XOR, so commands from the frame's 4th byte (data byte 2) on, in either step (a
 * byte lost after it shifts them). Returns the data offset (a multiple of 4, 0 < cut < len) at
 * which to split the frame so that the first pair of a command this ROM lists and its complement
 * from data byte 2 on (the XOR counts as the byte after the last) is no longer in one frame: the
 * frame ends before that pair's word, or, for a pair in the first word, after it. 0 when none is
 * there, or no split helps (a pair at data bytes 2-3 of a 4-byte frame: only a length changed to
 * 0 reaches it).
 */
static size_t pair_cut(const struct an3155 *b, const uint8_t *buf, size_t len)
{
	uint8_t x = (uint8_t)(len - 1);
	for (size_t i = 0; i < len; i++)
		x ^= buf[i];
	for (size_t j = 2; j < len; j++) {
		uint8_t c = buf[j], cc = j + 1 < len ? buf[j + 1] : x;
		if ((uint8_t)(c ^ cc) != 0xFF || !an3155_has(b, c))
			continue;
		size_t w = j & ~(size_t)3;
		if (w > 0)
			return w;
		return len > 4 ? 4 : 0;
	}
	return 0;
}

int an3155_write(struct an3155 *b, uint32_t addr, const uint8_t *buf, size_t len)
{
	bool flash = b->write_flash;
	b->write_flash = false;
	if (len < 4 || len > AN3155_MAX_BLOCK || len % 4 || addr % 4)
		return err_set(&b->err, STM32DFU_E_USAGE,
		               "Write Memory: %zu bytes at 0x%08x (4 to 256 bytes, a multiple of 4, at a 4-byte "
		               "aligned address)",
		               len, addr);
	if (an3155_need(b, AN3155_WRITE, "Write Memory") < 0)
		return b->err.code;
	/* data the ROM may take for commands is split (not the option bytes: one frame, then a reset) */
	size_t cut = b->write_whole ? 0 : command_cut(b, buf, len);
	if (!cut && !b->write_whole)
		cut = pair_cut(b, buf, len);
	if (cut) {
		b->write_flash = flash;
		int r = an3155_write(b, addr, buf, cut);
		b->write_flash = flash;
		r = r < 0 ? r : an3155_write(b, addr + (uint32_t)cut, buf + cut, len - cut);
		b->write_flash = false;
		return r;
	}
	uint8_t poison = write_poison(buf, len);
	if (!poison && !b->write_whole) {
		/* a frame with 254 different bytes leaves no safe first byte: two frames of half as many */
		size_t half = len / 2 & ~(size_t)3;
		b->write_flash = flash;
		int r = an3155_write(b, addr, buf, half);
		b->write_flash = flash;
		r = r < 0 ? r : an3155_write(b, addr + (uint32_t)half, buf + half, len - half);
		b->write_flash = false;
		return r;
	}
	int r = 0, stage = 0, nack_stage = -1;
	bool twice = false;
	for (unsigned t = 0; t <= b->retries; t++) {
		if (t) {
			b->stats.retries++;
			/* the ROM may still be inside the data frame: end it with a byte it cannot hold */
			b->lead_poison = stage == 2 ? poison : 0;
			int rs = an3155_resync(b);
			b->lead_poison = 0;
			if (rs < 0)
				return err_prefix(&b->err, "write at 0x%08x", addr);
			if (flash && stage == 2 && r != R_NACK) {
				/* no answer (or a wrong one) to the data frame: the ROM may have programmed it,
				 * or, two bytes short, completed it with the resync's first two bytes and
				 * programmed it shifted when their XOR fit (d1 ^ d2 == r1 ^ r2: no choice of
				 * resync bytes excludes every pair). Flash bits only clear, so the block is
				 * read back before it is sent again */
				int rb = read_back(b, addr, buf, len);
				if (rb <= 0)
					return rb < 0 ? err_prefix(&b->err, "reading back the block at 0x%08x", addr) : 0;
				if (rb == 2)
					return err_set(&b->err, STM32DFU_E_TIMEOUT,
					               "Write Memory data: no answer, and the block at 0x%08x (%zu bytes) holds "
					               "neither the data nor erased flash: its sector must be erased again",
					               addr, len);
			}
		}
		/* repeating a block programs the same bits again: flash and RAM end as once */
		r = write_once(b, addr, buf, len, &stage);
		if (r == 0)
			return 0;
		if (flash && stage == 2 && r != R_NACK && b->unsettled) {
			/* the ROM may wait inside the frame: the next bytes, whoever sends them (the resync,
			 * the next command, the next session's 0x7F), may complete it shifted. Noted first */
			int h = b->unsettled(b->unsettled_ctx, addr, len, &b->err);
			if (h < 0)
				return h;
		}
		if ((twice = an3155_nack_twice(r, stage, &nack_stage)))
			break;
	}
	if (r == R_NACK && !twice)
		return lone_nack(b, "Write Memory", addr);
	if (r == R_NACK && stage == 0)
		return an3155_refused(b, "Write Memory");
	if (r == R_NACK && stage == 1)
		return err_set(&b->err, STM32DFU_E_RANGE, "Write Memory: 0x%08x: NACK: not writable there", addr);
	if (r == R_NACK)
		return err_set(&b->err, STM32DFU_E_PROTOCOL, "Write Memory: 0x%08x (+%zu): the block was NACKed twice", addr,
		               len);
	return err_prefix(&b->err, "write at 0x%08x", addr);
}

int an3155_go(struct an3155 *b, uint32_t addr)
{
	if (an3155_need(b, AN3155_GO, "Go") < 0)
		return b->err.code;
	int r = an3155_cmd(b, AN3155_GO);
	if (r == R_NACK)
		return an3155_refused(b, "Go");
	if (r == 0)
		r = send_u32(b, addr, 0, "Go address");
	if (r == R_NACK)
		return err_set(&b->err, STM32DFU_E_RANGE, "Go: 0x%08x: NACK: no code memory there", addr);
	b->synced = r == 0 ? false : b->synced;
	return r < 0 ? err_prefix(&b->err, "Go 0x%08x", addr) : 0;
}

int an3155_checksum(struct an3155 *b, uint32_t addr, uint32_t len, uint32_t *crc)
{
	if (len == 0 || len % 4 || addr % 4)
		return err_set(&b->err, STM32DFU_E_USAGE, "Get Checksum: %u bytes at 0x%08x (a multiple of 4, aligned)", len,
		               addr);
	if (an3155_need(b, AN3155_GET_CHECKSUM, "Get Checksum") < 0)
		return b->err.code;
	int r = 0, stage = 0, nack_stage = -1;
	bool twice = false;
	for (unsigned t = 0; t <= b->retries; t++) {
		if (t) {
			b->stats.retries++;
			if (an3155_resync(b) < 0)
				return err_prefix(&b->err, "checksum at 0x%08x", addr);
		}
		uint8_t o[5];
		stage = 0;
		r = an3155_cmd(b, AN3155_GET_CHECKSUM);
		if (r == 0 && (stage = 1, r = send_u32(b, addr, 0, "Get Checksum address")) == 0 &&
		    (stage = 2, r = send_u32(b, len, 0, "Get Checksum length")) == 0 &&
		    (r = an3155_ack(b, len / 1024u, "Get Checksum result")) == 0 &&
		    (r = an3155_recv(b, o, 5, 0, "Get Checksum result")) == 0) {
			if ((o[0] ^ o[1] ^ o[2] ^ o[3]) != o[4]) {
				r = err_set(&b->err, STM32DFU_E_PROTOCOL, "Get Checksum: the CRC's XOR does not match");
				continue;
			}
			*crc = (uint32_t)o[0] << 24 | (uint32_t)o[1] << 16 | (uint32_t)o[2] << 8 | o[3];
			return 0;
		}
		if ((twice = an3155_nack_twice(r, stage, &nack_stage)))
			break;
	}
	if (r == R_NACK && !twice)
		return lone_nack(b, "Get Checksum", addr);
	if (r == R_NACK && stage == 0)
		return an3155_refused(b, "Get Checksum");
	if (r == R_NACK)
		return err_set(&b->err, STM32DFU_E_RANGE, "Get Checksum: 0x%08x (+%u): NACK", addr, len);
	return err_prefix(&b->err, "checksum at 0x%08x", addr);
}
