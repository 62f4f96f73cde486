/*
 * AN3155 connection: autobaud, GET, Get Version, Get ID (an3155.h). Sources: AN3155 3.1-3.3,
 * stm32flash 0.7 stm32.c (init order and the second 0x7F), the byte logs in ../shared/data/uart.
 */
#include <stdio.h>
#include <string.h>

#include "uart/an3155.h"
#include "uart/an3155_int.h"

static void hint_silent(struct an3155 *b)
{
	err_hint(&b->err, "no answer to 0x7F at %u baud: is BOOT0 high? are TX and RX crossed (adapter TX to the "
	                  "chip's RX)? a fixture wiring DTR/RTS to NRST/BOOT0 needs {@reset-seq}; try {@baud 57600}",
	         b->ser->cfg.baud);
}

int an3155_sync(struct an3155 *b)
{
	uint8_t s = AN3155_SYNC, a;
	b->sync_answer = -1;
	ser_flush_input(b->ser);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (an3155_send(b, &s, 1) < 0)
			return b->err.code;
		int n = ser_read(b->ser, &a, 1, b->to.sync_ms + an3155_answer_ms(b, 1));
		b->pending = 0;
		if (n < 0)
			return err_set(&b->err, n, "sync: %s", b->ser->err.msg);
		if (n == 1)
			b->sync_answer = a;
		if (n == 1 && (a == AN3155_ACK || a == AN3155_NACK)) {
			/* NACK: the ROM was synchronised before and took 0x7F as a command; a second 0x7F
			 * after a silent first one is NACKed too (G431 log; stm32flash's init) */
			b->synced = true;
			return 0;
		}
		if (n == 1) {
			err_set(&b->err, STM32DFU_E_PROTOCOL, "sync: 0x%02x answered 0x7F (ACK 0x79 expected)", a);
			if (a == AN3155_SYNC)
				err_hint(&b->err, "the port echoes what it is sent: the chip is not in its bootloader "
				                  "(BOOT0 low, an application running), or RX is looped to TX");
			else
				err_hint(&b->err, "something other than the ROM bootloader answers: an application, "
				                  "or the wrong baud rate");
			return b->err.code;
		}
		b->stats.timeouts++;
	}
	err_set(&b->err, STM32DFU_E_TIMEOUT, "sync: no answer to 0x7F");
	hint_silent(b);
	return b->err.code;
}

int an3155_resync_after_reset(struct an3155 *b)
{
	b->synced = false;
	clock_sleep_us(b->ser->clock, (uint64_t)b->to.reset_ms * 1000u);
	int r = 0;
	/* the chip may take longer than the ROM's nominal start: a few more tries, one second each */
	for (int i = 0; i < 5; i++) {
		r = an3155_sync(b);
		if (r != STM32DFU_E_TIMEOUT)
			break;
	}
	return r < 0 ? err_prefix(&b->err, "after the reset") : 0;
}

int an3155_get(struct an3155 *b)
{
	int r = STM32DFU_E_TIMEOUT;
	for (unsigned t = 0; t <= b->retries; t++) {
		if (t) {
			b->stats.retries++;
			if (an3155_resync(b) < 0)
				return b->err.code;
		}
		uint8_t n, buf[256];
		r = an3155_cmd(b, AN3155_GET);
		if (r == R_NACK)
			continue;
		if (r < 0 || (r = an3155_recv(b, &n, 1, 0, "GET")) < 0 ||
		    (r = an3155_recv(b, buf, (size_t)n + 1, 0, "GET")) < 0)
			continue;
		r = an3155_ack(b, 0, "GET");
		if (r != 0)
			continue;
		b->version = buf[0];
		b->ncmds = n < sizeof b->cmds ? n : sizeof b->cmds;
		memcpy(b->cmds, buf + 1, b->ncmds);
		b->have_get = true;
		return 0;
	}
	return r == R_NACK ? err_set(&b->err, STM32DFU_E_PROTOCOL, "GET: NACK") : err_prefix(&b->err, "GET");
}

int an3155_get_version(struct an3155 *b)
{
	int r = STM32DFU_E_TIMEOUT;
	for (unsigned t = 0; t <= b->retries; t++) {
		if (t) {
			b->stats.retries++;
			if (an3155_resync(b) < 0)
				return b->err.code;
		}
		uint8_t v[3];
		r = an3155_cmd(b, AN3155_GET_VERSION);
		if (r != 0 || (r = an3155_recv(b, v, 3, 0, "Get Version")) < 0 ||
		    (r = an3155_ack(b, 0, "Get Version")) != 0)
			continue;
		b->option1 = v[1];
		b->option2 = v[2];
		if (!b->have_get)
			b->version = v[0];
		return 0;
	}
	return r == R_NACK ? err_set(&b->err, STM32DFU_E_PROTOCOL, "Get Version: NACK")
	                   : err_prefix(&b->err, "Get Version");
}

int an3155_get_id(struct an3155 *b)
{
	int r = STM32DFU_E_TIMEOUT;
	for (unsigned t = 0; t <= b->retries; t++) {
		if (t) {
			b->stats.retries++;
			if (an3155_resync(b) < 0)
				return b->err.code;
		}
		uint8_t n, id[256];
		r = an3155_cmd(b, AN3155_GET_ID);
		if (r != 0 || (r = an3155_recv(b, &n, 1, 0, "Get ID")) < 0 ||
		    (r = an3155_recv(b, id, (size_t)n + 1, 0, "Get ID")) < 0 ||
		    (r = an3155_ack(b, 0, "Get ID")) != 0)
			continue;
		if (n < 1)
			return err_set(&b->err, STM32DFU_E_PROTOCOL, "Get ID: %u byte(s) of product ID", n + 1u);
		b->pid = (uint16_t)(id[0] << 8 | id[1]);
		return 0;
	}
	if (r == R_NACK) {
		/* the WLE5 log: GETID NACKed under RDP level 1 (data/uart/esp-usb-bridge-15_...) */
		err_set(&b->err, STM32DFU_E_PROTECTED, "Get ID: NACK");
		err_hint(&b->err, "some ROMs refuse Get ID while read protection is active");
		return b->err.code;
	}
	return err_prefix(&b->err, "Get ID");
}

/*
 * GET's and Get ID's answers carry no checksum, and two flipped bits in a byte pass the parity: a
 * flipped ID names another chip (0x449 and 0x451 differ in two bits), a flipped GET list another
 * command set (0x31 Write Memory and 0xA1 Get Checksum differ in two). So each is asked again
 * until two answers in a row agree (once more on a clean line: about 24 bytes per connection).
 */
static int get_agreed(struct an3155 *b)
{
	int r = an3155_get(b);
	for (unsigned i = 0; r == 0; i++) {
		uint8_t v = b->version, cmds[sizeof b->cmds];
		size_t n = b->ncmds;
		memcpy(cmds, b->cmds, n);
		if ((r = an3155_get(b)) != 0 || (b->version == v && b->ncmds == n && !memcmp(cmds, b->cmds, n)))
			break;
		if (i >= b->retries) {
			err_set(&b->err, STM32DFU_E_PROTOCOL, "GET: %u answers, no two in a row the same", i + 2);
			err_hint(&b->err, "the line changes bytes: a lower {@baud}, a shorter cable; {@doctor} measures it");
			return b->err.code;
		}
	}
	return r;
}

static int get_id_agreed(struct an3155 *b)
{
	int r = an3155_get_id(b);
	for (unsigned i = 0; r == 0; i++) {
		uint16_t pid = b->pid;
		if ((r = an3155_get_id(b)) != 0 || b->pid == pid)
			break;
		if (i >= b->retries) {
			err_set(&b->err, STM32DFU_E_PROTOCOL, "Get ID: %u answers, no two in a row the same", i + 2);
			err_hint(&b->err, "the line changes bytes: a lower {@baud}, a shorter cable; {@doctor} measures it");
			return b->err.code;
		}
	}
	return r;
}

int an3155_connect(struct an3155 *b)
{
	int r = an3155_sync(b);
	if (r == 0)
		r = get_agreed(b);
	if (r == 0 && an3155_has(b, AN3155_GET_VERSION))
		r = an3155_get_version(b);
	if (r == 0) {
		if (!an3155_has(b, AN3155_GET_ID))
			return err_set(&b->err, STM32DFU_E_UNSUPPORTED, "the bootloader's GET list has no Get ID (0x02)");
		r = get_id_agreed(b);
	}
	return r;
}

