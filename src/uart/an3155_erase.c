/*
 * AN3155's erase and protection commands (an3155.h): Erase / Extended Erase by page lists, mass
 * and bank codes, and Write/Readout Protect/Unprotect with the chip's reset after them. They share
 * the long waits the flash work needs; the memory commands are in an3155.c.
 */
#include "uart/an3155.h"
#include "uart/an3155_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The erase command GET listed: 0x44, else 0x43 (AN3155: a ROM has one or the other). */
static int erase_cmd(struct an3155 *b, uint8_t *cmd)
{
	if (!b->have_get && an3155_get(b) < 0)
		return b->err.code;
	if (an3155_has(b, AN3155_EXT_ERASE))
		*cmd = AN3155_EXT_ERASE;
	else if (an3155_has(b, AN3155_ERASE))
		*cmd = AN3155_ERASE;
	else
		return err_set(&b->err, STM32DFU_E_UNSUPPORTED, "the bootloader lists no erase command (0x43 or 0x44)");
	return 0;
}

static int erase_frame(struct an3155 *b, uint8_t cmd, const uint8_t *f, size_t n, unsigned timeout_ms,
                       const char *what)
{
	int r = 0, stage = 0, nack_stage = -1;
	bool twice = false;
	for (unsigned t = 0; t <= b->retries; t++) {
		if (t) {
			b->stats.retries++;
			if (an3155_resync(b) < 0)
				return err_prefix(&b->err, "%s", what);
		}
		/* erasing again leaves the same erased sectors */
		stage = 0;
		r = an3155_cmd(b, cmd);
		if (r == 0) {
			stage = 1;
			r = an3155_send(b, f, n);
			if (r == 0)
				r = an3155_ack(b, timeout_ms, what);
		}
		if (r == 0)
			return 0;
		if ((twice = an3155_nack_twice(r, stage, &nack_stage)))
			break;
		/* a timeout on a long erase is not the line: the chip may still be erasing */
		if (r == STM32DFU_E_TIMEOUT && stage == 1)
			break;
	}
	if (r == R_NACK && !twice)
		return err_set(&b->err, STM32DFU_E_PROTOCOL, "%s: no consistent answer (one NACK among lost answers)", what);
	if (r == R_NACK && stage == 0)
		return an3155_refused(b, what);
	if (r == R_NACK)
		return err_set(&b->err, STM32DFU_E_RANGE, "%s: NACK: the bootloader refused these pages", what);
	return err_prefix(&b->err, "%s", what);
}

int an3155_erase_pages(struct an3155 *b, const uint16_t *pages, size_t n)
{
	uint8_t cmd;
	if (n == 0)
		return 0;
	if (erase_cmd(b, &cmd) < 0)
		return b->err.code;
	/* stm32flash erases at most 512 pages per command (the L152 limit; 511 on L082) */
	size_t per = cmd == AN3155_EXT_ERASE ? AN3155_EXT_ERASE_MAX : AN3155_ERASE_MAX;
	uint8_t *f = malloc(2 + 2 * per + 1);
	if (!f)
		return err_set(&b->err, STM32DFU_E_NO_MEMORY, "out of memory");
	int r = 0;
	for (size_t off = 0; off < n && r == 0; off += per) {
		size_t k = n - off < per ? n - off : per, len = 0;
		uint8_t x = 0;
		if (cmd == AN3155_EXT_ERASE) {
			f[len++] = (uint8_t)((k - 1) >> 8);
			f[len++] = (uint8_t)(k - 1);
			for (size_t i = 0; i < k; i++) {
				f[len++] = (uint8_t)(pages[off + i] >> 8);
				f[len++] = (uint8_t)pages[off + i];
			}
		} else {
			f[len++] = (uint8_t)(k - 1);
			for (size_t i = 0; i < k; i++) {
				if (pages[off + i] > 0xFE) {
					free(f);
					return err_set(&b->err, STM32DFU_E_RANGE, "Erase: page %u has no one-byte number",
					               pages[off + i]);
				}
				f[len++] = (uint8_t)pages[off + i];
			}
		}
		for (size_t i = 0; i < len; i++)
			x ^= f[i];
		f[len++] = x;
		unsigned to = b->to.page_erase_ms * (unsigned)k;
		r = erase_frame(b, cmd, f, len, to < b->to.mass_erase_ms ? b->to.mass_erase_ms : to, "Erase");
	}
	free(f);
	return r;
}

int an3155_erase_mass(struct an3155 *b)
{
	uint8_t cmd;
	if (erase_cmd(b, &cmd) < 0)
		return b->err.code;
	if (cmd == AN3155_ERASE) {
		static const uint8_t f[2] = {0xFF, 0x00};
		return erase_frame(b, cmd, f, 2, b->to.mass_erase_ms, "mass erase");
	}
	static const uint8_t f[3] = {0xFF, 0xFF, 0x00};
	return erase_frame(b, cmd, f, 3, b->to.mass_erase_ms, "mass erase");
}

int an3155_erase_bank(struct an3155 *b, int bank)
{
	uint8_t cmd;
	if (bank != 1 && bank != 2)
		return err_set(&b->err, STM32DFU_E_USAGE, "bank %d (1 or 2)", bank);
	if (erase_cmd(b, &cmd) < 0)
		return b->err.code;
	if (cmd != AN3155_EXT_ERASE)
		return err_set(&b->err, STM32DFU_E_UNSUPPORTED, "bank erase needs Extended Erase (0x44)");
	uint16_t code = bank == 1 ? AN3155_EE_BANK1 : AN3155_EE_BANK2;
	uint8_t f[3] = {(uint8_t)(code >> 8), (uint8_t)code, 0};
	f[2] = f[0] ^ f[1];
	return erase_frame(b, cmd, f, 3, b->to.mass_erase_ms, "bank erase");
}

/* ---- protection: never repeated; the chip resets after the second ACK ---- */

static int protect_cmd(struct an3155 *b, uint8_t cmd, const char *name, const uint8_t *frame, size_t n,
                       unsigned timeout_ms)
{
	if (an3155_need(b, cmd, name) < 0)
		return b->err.code;
	int r = an3155_cmd(b, cmd);
	if (r == R_NACK)
		return err_set(&b->err, STM32DFU_E_PROTECTED, "%s: NACK on the command", name);
	if (r == 0 && frame)
		r = an3155_send(b, frame, n);
	if (r == 0)
		r = an3155_ack(b, timeout_ms, name);
	if (r == R_NACK)
		return err_set(&b->err, STM32DFU_E_PROTOCOL, "%s: NACK", name);
	if (r < 0)
		return err_prefix(&b->err, "%s", name);
	b->synced = false; /* the chip resets now */
	return 0;
}

int an3155_write_protect(struct an3155 *b, const uint8_t *sectors, size_t n)
{
	if (n == 0 || n > 256)
		return err_set(&b->err, STM32DFU_E_USAGE, "Write Protect: %zu sectors (1 to 256)", n);
	uint8_t f[258], x;
	f[0] = x = (uint8_t)(n - 1);
	for (size_t i = 0; i < n; i++)
		x ^= f[1 + i] = sectors[i];
	f[n + 1] = x;
	return protect_cmd(b, AN3155_WRITE_PROTECT, "Write Protect", f, n + 2, b->to.ob_ms);
}

int an3155_write_unprotect(struct an3155 *b)
{
	return protect_cmd(b, AN3155_WRITE_UNPROTECT, "Write Unprotect", NULL, 0, b->to.ob_ms);
}

int an3155_readout_protect(struct an3155 *b)
{
	return protect_cmd(b, AN3155_READOUT_PROTECT, "Readout Protect", NULL, 0, b->to.ob_ms);
}

int an3155_readout_unprotect(struct an3155 *b)
{
	/* a mass erase happens between the two ACKs */
	return protect_cmd(b, AN3155_READOUT_UNPROTECT, "Readout Unprotect", NULL, 0, b->to.mass_erase_ms);
}
