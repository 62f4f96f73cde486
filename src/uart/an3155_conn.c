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

/*
 * The three identity commands have one shape (AN3155 3.1-3.3): the command and its ACK, an answer
 * (a fixed length, or a count byte N and N + 1 bytes), the final ACK. ask_once sends one with the
 * session's retries (a resync before each repeat); the parse callback keeps the answer in b.
 */
struct ask {
	uint8_t cmd;
	const char *what;
	size_t fixed;                                        /* answer bytes, or 0: count byte first */
	int (*parse)(struct an3155 *b, const uint8_t *p, size_t n); /* < 0: an answer no retry mends */
	int (*nack)(struct an3155 *b);                       /* the error of a NACK on the last try */
	bool agree; /* asked until two answers in a row agree (ask_agreed) */
};

struct answer {
	size_t n;
	uint8_t p[256];
};

static int ask_once(struct an3155 *b, const struct ask *a, struct answer *ans)
{
	int r = STM32DFU_E_TIMEOUT;
	for (unsigned t = 0; t <= b->retries; t++) {
		if (t) {
			b->stats.retries++;
			if (an3155_resync(b) < 0)
				return b->err.code;
		}
		uint8_t n = 0;
		if ((r = an3155_cmd(b, a->cmd)) != 0 || (!a->fixed && (r = an3155_recv(b, &n, 1, 0, a->what)) < 0))
			continue;
		ans->n = a->fixed ? a->fixed : (size_t)n + 1;
		if ((r = an3155_recv(b, ans->p, ans->n, 0, a->what)) < 0 || (r = an3155_ack(b, 0, a->what)) != 0)
			continue;
		return a->parse(b, ans->p, ans->n);
	}
	return r == R_NACK ? a->nack(b) : err_prefix(&b->err, "%s", a->what);
}

/*
 * GET's and Get ID's answers carry no checksum, and two flipped bits in a byte pass the parity: a
 * flipped ID names another chip (0x449 and 0x451 differ in two bits), a flipped GET list another
 * command set (0x31 Write Memory and 0xA1 Get Checksum differ in two). So those are asked again
 * until two answers in a row agree (once more on a clean line: about 24 bytes per connection). An
 * answer equal to known (the answer before a reset), when given, needs no second one.
 */
static bool same_answer(const struct answer *x, const struct answer *y)
{
	return y && x->n == y->n && !memcmp(x->p, y->p, x->n);
}

static int ask_agreed(struct an3155 *b, const struct ask *a, const struct answer *known)
{
	struct answer prev, ans;
	int r = ask_once(b, a, &prev);
	if (r == 0 && same_answer(&prev, known))
		return 0;
	for (unsigned i = 0; r == 0 && a->agree; i++) {
		if ((r = ask_once(b, a, &ans)) != 0 || same_answer(&ans, &prev) || same_answer(&ans, known))
			break;
		if (i >= b->retries) {
			err_set(&b->err, STM32DFU_E_PROTOCOL, "%s: %u answers, no two in a row the same", a->what, i + 2);
			err_hint(&b->err, "the line changes bytes: a lower {@baud N}, a shorter cable; {@doctor} measures it");
			return b->err.code;
		}
		prev = ans;
	}
	return r;
}

static int parse_get(struct an3155 *b, const uint8_t *p, size_t n)
{
	b->version = p[0];
	b->ncmds = n - 1 < sizeof b->cmds ? n - 1 : sizeof b->cmds;
	memcpy(b->cmds, p + 1, b->ncmds);
	b->have_get = true;
	return 0;
}

static int parse_version(struct an3155 *b, const uint8_t *p, size_t n)
{
	(void)n;
	b->option1 = p[1];
	b->option2 = p[2];
	if (!b->have_get)
		b->version = p[0];
	return 0;
}

static int parse_id(struct an3155 *b, const uint8_t *p, size_t n)
{
	if (n < 2)
		return err_set(&b->err, STM32DFU_E_PROTOCOL, "Get ID: %zu byte(s) of product ID", n);
	b->pid = (uint16_t)(p[0] << 8 | p[1]);
	return 0;
}

static int nack_get(struct an3155 *b)
{
	return err_set(&b->err, STM32DFU_E_PROTOCOL, "GET: NACK");
}

static int nack_version(struct an3155 *b)
{
	return err_set(&b->err, STM32DFU_E_PROTOCOL, "Get Version: NACK");
}

/* the WLE5 log: GETID NACKed under RDP level 1 (data/uart/esp-usb-bridge-15_...) */
static int nack_id(struct an3155 *b)
{
	err_set(&b->err, STM32DFU_E_PROTECTED, "Get ID: NACK");
	err_hint(&b->err, "some ROMs refuse Get ID while read protection is active");
	return b->err.code;
}

static const struct ask ask_get = {AN3155_GET, "GET", 0, parse_get, nack_get, true};
static const struct ask ask_version = {AN3155_GET_VERSION, "Get Version", 3, parse_version, nack_version, false};
static const struct ask ask_id = {AN3155_GET_ID, "Get ID", 0, parse_id, nack_id, true};

int an3155_get(struct an3155 *b)
{
	struct answer ans;
	return ask_once(b, &ask_get, &ans);
}

int an3155_get_version(struct an3155 *b)
{
	struct answer ans;
	return ask_once(b, &ask_version, &ans);
}

int an3155_get_id(struct an3155 *b)
{
	struct answer ans;
	return ask_once(b, &ask_id, &ans);
}

int an3155_get_agreed(struct an3155 *b)
{
	return ask_agreed(b, &ask_get, NULL);
}

int an3155_get_id_agreed(struct an3155 *b)
{
	return ask_agreed(b, &ask_id, NULL);
}

int an3155_get_id_expect(struct an3155 *b, uint16_t known)
{
	const struct answer k = {2, {(uint8_t)(known >> 8), (uint8_t)known}};
	return ask_agreed(b, &ask_id, &k);
}

int an3155_connect(struct an3155 *b)
{
	int r = an3155_sync(b);
	if (r == 0)
		r = an3155_get_agreed(b);
	if (r == 0 && an3155_has(b, AN3155_GET_VERSION))
		r = ask_agreed(b, &ask_version, NULL);
	if (r == 0) {
		if (!an3155_has(b, AN3155_GET_ID))
			return err_set(&b->err, STM32DFU_E_UNSUPPORTED, "the bootloader's GET list has no Get ID (0x02)");
		r = an3155_get_id_agreed(b);
	}
	return r;
}
