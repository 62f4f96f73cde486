/*
 * The emulated ROM's AN3155 commands on the shared chip model (uart_int.h): what each command
 * does to the chip and answers, once uart.c's parser has its byte, complement and frames. Sources
 * are the short names of ../shared/reference/protocol.md; docs/rom-quirks.md ("USART") grades
 * each modelled choice.
 */
#include <stdlib.h>
#include <string.h>

#include "core/rd.h"
#include "sim/uart_int.h"

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

/* Whether the ROM serves [addr, addr+len) of a RAM memory to Write or Read Memory: not its own RAM
 * (boot_ram), nor outside AN2606's range (uart_ram). ST: "The first Bytes/Kbytes of the RAM is used
 * by the boot loader firmware ... So we Nack any read/Write to that area" (community.st.com
 * td-p/355741); a G474 user could not write below 0x20004000 (qa-community 24359). */
static bool ram_served(const struct sim_uart *u, uint32_t addr, uint64_t len)
{
	const struct sim_device *d = u->d;
	uint64_t end = (uint64_t)addr + len;
	if (u->ram_limited)
		return addr >= u->ram_lo && end <= u->ram_hi;
	return !(addr < d->boot_ram_hi && end > d->boot_ram_lo);
}

/* Starts a command whose byte and complement were received at t. */
void sim_uart_cmd_start(struct sim_uart *u, uint64_t t)
{
	struct sim_device *d = u->d;
	uint8_t c = u->cmd;
	int rdp = sim_rdp_level(d);
	if (!listed(u, c)) {
		sim_uart_nack(u, t);
		return;
	}
	/* under RDP only Get, Get Version and Get ID (and Readout Unprotect at level 1) are served
	 * (AN3155 Table 2 note 2); at level 2 nothing else (AN2606, protocol.md 3.5) */
	if (rdp && c != 0x00 && c != 0x01 && c != 0x02 && !(c == 0x92 && rdp == 1)) {
		sim_uart_nack(u, t);
		return;
	}
	u->have = 0;
	u->st = U_FRAME;
	switch (c) {
	case 0x00: /* Get: N = count of bytes that follow - 1, version, commands (AN3155 3.1) */
		sim_uart_ack(u, t);
		sim_uart_emit(u, (uint8_t)u->ncmds, t);
		sim_uart_emit(u, u->version, t);
		for (size_t i = 0; i < u->ncmds; i++)
			sim_uart_emit(u, u->cmds[i], t);
		sim_uart_ack(u, t);
		u->st = U_CMD;
		return;
	case 0x01: /* Get Version: version and two option bytes, 0x00 0x00 on every log we have */
		sim_uart_ack(u, t);
		sim_uart_emit(u, u->version, t);
		sim_uart_emit(u, u->gv[0], t);
		sim_uart_emit(u, u->gv[1], t);
		sim_uart_ack(u, t);
		u->st = U_CMD;
		return;
	case 0x02: /* Get ID: N = 1, PID MSB first (data/uart CampusIoT and G431 logs: 01 04 16 / 01 04 68) */
		sim_uart_ack(u, t);
		sim_uart_emit(u, 0x01, t);
		sim_uart_emit(u, (uint8_t)(u->device_id >> 8), t);
		sim_uart_emit(u, (uint8_t)u->device_id, t);
		sim_uart_ack(u, t);
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
		sim_uart_ack(u, t);
		uint8_t *ob = ob_block(u);
		if (ob)
			for (int i = 0; i < d->obd.wrp_bits; i++)
				wrp_bit(d, ob, i, false);
		uint64_t done = t + sim_scaled_us(d, d->t.ob_ms);
		sim_uart_ack(u, done);
		sim_uart_reset_after(u, done);
		u->st = U_CMD;
		return;
	}
	case 0x82:
	case 0x83: { /* Readout Protect: ACK, RDP byte to a level-1 value, ACK, reset (AN3155 3.11) */
		sim_uart_ack(u, t);
		uint8_t *ob = ob_block(u);
		if (ob && d->obd.rdp_offset >= 0)
			ob[d->obd.rdp_offset] = 0x00; /* any value but 0xAA and 0xCC is level 1 (protocol.md 7.3) */
		uint64_t done = t + sim_scaled_us(d, d->t.ob_ms);
		sim_uart_ack(u, done);
		sim_uart_reset_after(u, done);
		u->st = U_CMD;
		return;
	}
	case 0x92:
	case 0x93: { /* Readout Unprotect: ACK, mass erase + OB defaults (level 1), RAM cleared, ACK,
		      * reset (AN3155 3.12; the RAM and defaults as AN3156 5.4 says for the same ROM) */
		sim_uart_ack(u, t);
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
		sim_uart_ack(u, done);
		sim_uart_reset_after(u, done);
		u->st = U_CMD;
		return;
	}
	default: /* listed by a profile but not modelled */
		sim_uart_nack(u, t);
		return;
	}
	sim_uart_ack(u, t);
}

/* A whole frame of the running command arrived at t. */
void sim_uart_cmd_frame(struct sim_uart *u, uint64_t t)
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
			sim_uart_nack(u, t);
			return;
		}
		u->addr = get_be32(b);
		const struct sim_mem *m = sim_mem_find_c(d, u->addr);
		bool ok = m != NULL;
		if (u->ph == P_GO_ADDR)
			ok = ok && (m->kind == SIM_MEM_FLASH || m->kind == SIM_MEM_RAM);
		if (u->ph == P_WM_ADDR)
			ok = ok && m->kind != SIM_MEM_ROM && m->kind != SIM_MEM_HANG;
		if (ok && m->kind == SIM_MEM_RAM && u->ph != P_GO_ADDR)
			ok = ram_served(u, u->addr, 1);
		if (m && m->kind == SIM_MEM_HANG && u->ph == P_RM_ADDR) {
			d->hung = true; /* the F7 ROM's byte access to DBGMCU never returns (protocol.md 2.3) */
			u->st = U_GONE;
			return;
		}
		if (!ok) {
			sim_uart_nack(u, t);
			return;
		}
		sim_uart_ack(u, t);
		if (u->ph == P_GO_ADDR) {
			/* the ROM jumps: an application with a valid vector table runs (the bootloader is
			 * gone); without one the core faults and the chip comes back through reset */
			if (runnable(d, u->addr))
				u->st = U_GONE;
			else
				sim_uart_reset_after(u, t), u->st = U_CMD;
			return;
		}
		u->ph = u->ph == P_RM_ADDR ? P_RM_N : u->ph == P_WM_ADDR ? P_WM_N : P_CRC_LEN;
		u->need = u->ph == P_CRC_LEN ? 5 : u->ph == P_RM_N ? 2 : 1;
		return;
	}
	case P_RM_N: { /* N-1 and its complement; the range must lie in one memory */
		if ((b[0] ^ b[1]) != 0xFF) {
			sim_uart_nack(u, t);
			return;
		}
		uint32_t len = (uint32_t)b[0] + 1;
		uint8_t out[256];
		const struct sim_mem *rm = sim_mem_find_c(d, u->addr);
		if (!sim_mem_read(d, u->addr, out, len) || (rm && rm->kind == SIM_MEM_RAM && !ram_served(u, u->addr, len))) {
			sim_uart_nack(u, t);
			return;
		}
		sim_uart_ack(u, t);
		if (u->noise2_read_at && !u->noise2_read_done && u->noise2_read_at - u->addr < len) {
			/* a fault injection aimed at one address (uart_noise2_read_at): two bits, parity passes */
			u->noise2_read_done = true;
			u->stats.faults++;
			out[u->noise2_read_at - u->addr] ^= u->noise2_mask ? u->noise2_mask : 0x03;
		}
		for (uint32_t i = 0; i < len; i++)
			sim_uart_emit(u, out[i], t);
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
		if (xor_of(b, n) != 0 || !m || u->len > m->size - (u->addr - m->base) ||
		    (m->kind == SIM_MEM_RAM && !ram_served(u, u->addr, u->len))) {
			sim_uart_nack(u, t);
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
		case SIM_MEM_RAM: /* only where the ROM serves it (ram_served, checked above) */
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
		sim_uart_ack(u, done);
		u->st = U_CMD;
		if (reset)
			sim_uart_reset_after(u, done);
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
				sim_uart_nack(u, t);
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
				sim_uart_nack(u, t);
				return;
			}
		}
		d->stats.busy_us += busy;
		u->busy_until = t + busy;
		sim_uart_ack(u, t + busy);
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
			sim_uart_nack(u, t);
			return;
		}
		if (v >= 0xFFF0) {
			/* FFFF mass, FFFE bank 1, FFFD bank 2; the others reserved. L0 ROMs NACK all of them
			 * (stm32flash F_NO_ME; NOTES-behaviour-from-prose.md) */
			bool ok = u->mass_erase && (v == 0xFFFF || (u->banks == 2 && (v == 0xFFFE || v == 0xFFFD)));
			if (!ok) {
				sim_uart_nack(u, t);
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
				sim_uart_nack(u, t);
				return;
			}
			for (size_t i = 0; i < np; i++)
				pages[i] = (uint16_t)(b[2 + 2 * i] << 8 | b[3 + 2 * i]);
			bool ok = erase_list(u, pages, np, &busy);
			free(pages);
			if (!ok) {
				sim_uart_nack(u, t);
				return;
			}
		}
		d->stats.busy_us += busy;
		u->busy_until = t + busy;
		sim_uart_ack(u, t + busy);
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
			sim_uart_nack(u, t);
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
		sim_uart_ack(u, done);
		sim_uart_reset_after(u, done);
		u->st = U_CMD;
		return;
	}
	case P_CRC_LEN: { /* Get Checksum: length in bytes (a multiple of 4), then ACK, ACK, CRC + XOR */
		uint32_t len = get_be32(b);
		uint8_t *buf = NULL;
		if (xor_of(b, 5) != 0 || len == 0 || len % 4 || u->addr % 4 || !(buf = malloc(len)) ||
		    !sim_mem_read(d, u->addr, buf, len)) {
			free(buf);
			sim_uart_nack(u, t);
			return;
		}
		uint32_t crc = stm32_crc(0xFFFFFFFFu, buf, len);
		free(buf);
		sim_uart_ack(u, t);
		/* the ROM's CRC unit takes a word per bus cycle or so: a fraction of a read's wire time;
		 * 1 us per KiB here (UNCONFIRMED, small next to any wire time) */
		uint64_t done = t + sim_scaled_us(d, (double)len / 1024.0 / 1000.0);
		sim_uart_ack(u, done);
		uint8_t o[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
		for (int i = 0; i < 4; i++)
			sim_uart_emit(u, o[i], done);
		sim_uart_emit(u, xor_of(o, 4), done);
		u->st = U_CMD;
		return;
	}
	}
}
