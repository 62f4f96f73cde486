/*
 * uart/an3155 against real byte logs (../shared/data/uart): a scripted port expects exactly the
 * bytes the real host sent and answers what the real chip answered.
 *   - CampusIoT L151 (0x416, v3.0): 7F -> 79; 02 FD -> 79 01 04 16 79; 00 FF -> 79 0b 30 00 01 02
 *     11 21 31 44 63 73 82 92 79; the read probe 11 EE / 08 00 00 00 08 / 00 FF
 *   - ST community F100C4 (v2.2): 00 FF -> 79 0b 22 00 01 02 11 21 31 43 63 73 82 92 79 (legacy erase)
 *   - ST community G431C8 (0x468): the first 7F unanswered, the second NACKed, then 02 FD -> 79 01 04 68 79
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"
#include "serial/serial.h"
#include "uart/an3155.h"

/* CRC-32/MPEG-2 of "12345678" (see test_crc_reference) */
#define CRC_12345678 0x49E3C2FBu

/* One exchange: the host must send `out`, then the chip answers `in` (may be empty: silence). */
struct step {
	const char *out, *in;
};

struct script {
	const struct step *steps;
	size_t n, at;
	uint8_t want[512], give[512];
	size_t nwant, wpos, ngive, gpos;
	char sent[4096]; /* every host byte, hex */
};

static size_t hex(const char *s, uint8_t *out)
{
	size_t n = 0;
	unsigned v;
	int k;
	while (s && sscanf(s, " %2x%n", &v, &k) == 1) {
		out[n++] = (uint8_t)v;
		s += k;
	}
	return n;
}

static void load(struct script *sc)
{
	if (sc->at < sc->n) {
		sc->nwant = hex(sc->steps[sc->at].out, sc->want);
		sc->wpos = 0;
	}
}

static int sc_configure(struct ser *s, const struct ser_config *c)
{
	(void)s;
	(void)c;
	return 0;
}

static int sc_write(struct ser *s, const uint8_t *buf, size_t n, unsigned t)
{
	(void)t;
	struct script *sc = s->impl;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(sc->sent);
		snprintf(sc->sent + l, sizeof sc->sent - l, "%s%02x", l ? " " : "", buf[i]);
		if (sc->at >= sc->n)
			fail_msg("host sent 0x%02x after the end of the log", buf[i]);
		if (buf[i] != sc->want[sc->wpos])
			fail_msg("step %zu: host sent 0x%02x, the log has 0x%02x (sent so far: %s)", sc->at, buf[i],
			         sc->want[sc->wpos], sc->sent);
		if (++sc->wpos == sc->nwant) {
			sc->ngive = hex(sc->steps[sc->at].in, sc->give);
			sc->gpos = 0;
			sc->at++;
			load(sc);
		}
	}
	return (int)n;
}

static int sc_read(struct ser *s, uint8_t *buf, size_t n, unsigned t)
{
	struct script *sc = s->impl;
	size_t k = 0;
	while (k < n && sc->gpos < sc->ngive)
		buf[k++] = sc->give[sc->gpos++];
	if (k < n)
		clock_sleep_us(s->clock, (uint64_t)t * 1000u);
	return (int)k;
}

static int sc_flush(struct ser *s)
{
	(void)s;
	return 0;
}

static void sc_close(struct ser *s)
{
	ser_free(s);
}

static const struct ser_ops sc_ops = {"script", sc_configure, sc_write, sc_read, sc_flush, NULL, sc_close};

static struct clock_fake fake;

static struct ser *open_script(struct script *sc, const struct step *steps, size_t n)
{
	memset(sc, 0, sizeof *sc);
	sc->steps = steps;
	sc->n = n;
	load(sc);
	clock_fake_init(&fake);
	struct ser *s = ser_alloc(&sc_ops, sc, "script");
	s->clock = &fake.clock;
	return s;
}

static void test_l151_cubeprog_session(void **st)
{
	(void)st;
	static const struct step steps[] = {
		{"7f", "79"},
		{"02 fd", "79 01 04 16 79"},
		{"00 ff", "79 0b 30 00 01 02 11 21 31 44 63 73 82 92 79"},
		/* the read probe; CubeProgrammer's verbosity 3 does not print these ACKs */
		{"11 ee", "79"},
		{"08 00 00 00 08", "79"},
		{"00 ff", "79 5a"},
	};
	struct script sc;
	struct ser *s = open_script(&sc, steps, sizeof steps / sizeof steps[0]);
	struct an3155 b;
	an3155_init(&b, s);
	assert_int_equal(an3155_sync(&b), 0);
	assert_int_equal(an3155_get_id(&b), 0);
	assert_int_equal(b.pid, 0x416);
	assert_int_equal(an3155_get(&b), 0);
	assert_int_equal(b.version, 0x30);
	assert_int_equal(b.ncmds, 11);
	assert_true(an3155_has(&b, AN3155_EXT_ERASE));
	assert_false(an3155_has(&b, AN3155_ERASE));
	assert_false(an3155_has(&b, AN3155_GET_CHECKSUM));
	uint8_t one;
	assert_int_equal(an3155_read(&b, 0x08000000, &one, 1), 0);
	assert_int_equal(one, 0x5a);
	assert_int_equal(sc.at, sc.n);
	/* the list has no Get Checksum: refused before a byte is sent */
	uint32_t crc;
	size_t before = strlen(sc.sent);
	assert_int_equal(an3155_checksum(&b, 0x08000000, 4, &crc), STM32DFU_E_UNSUPPORTED);
	assert_int_equal(strlen(sc.sent), before);
	/* nor a write the protocol cannot carry */
	assert_int_equal(an3155_write(&b, 0x08000000, &one, 1), STM32DFU_E_USAGE);
	assert_int_equal(an3155_write(&b, 0x08000002, (uint8_t[8]){0}, 8), STM32DFU_E_USAGE);
	assert_int_equal(strlen(sc.sent), before);
	ser_close(s);
}

/* The F100's v2.2 list has the legacy Erase 0x43: erases go that way, with one-byte page numbers
 * and the 0xFF 0x00 global form (AN3155 3.7). */
static void test_f100_legacy_erase(void **st)
{
	(void)st;
	static const struct step steps[] = {
		{"7f", "79"},
		{"00 ff", "79 0b 22 00 01 02 11 21 31 43 63 73 82 92 79"},
		{"43 bc", "79"},
		{"02 00 01 02 01", "79"}, /* 3 pages: N=2, 0 1 2, XOR 02^00^01^02 = 01 */
		{"43 bc", "79"},
		{"ff 00", "79"},
	};
	struct script sc;
	struct ser *s = open_script(&sc, steps, sizeof steps / sizeof steps[0]);
	struct an3155 b;
	an3155_init(&b, s);
	assert_int_equal(an3155_sync(&b), 0);
	assert_int_equal(an3155_get(&b), 0);
	assert_int_equal(b.version, 0x22);
	assert_true(an3155_has(&b, AN3155_ERASE));
	assert_false(an3155_has(&b, AN3155_EXT_ERASE));
	uint16_t pages[3] = {0, 1, 2};
	assert_int_equal(an3155_erase_pages(&b, pages, 3), 0);
	assert_int_equal(an3155_erase_mass(&b), 0);
	/* bank erase exists only with Extended Erase */
	assert_int_equal(an3155_erase_bank(&b, 2), STM32DFU_E_UNSUPPORTED);
	assert_int_equal(sc.at, sc.n);
	ser_close(s);
}

/* G431: the first 0x7F is not answered, the second is NACKed: the ROM is synchronised (it took the
 * second as a command byte), as CubeProgrammer and stm32flash conclude. */
static void test_g431_second_sync_nack(void **st)
{
	(void)st;
	static const struct step steps[] = {
		{"7f", ""},
		{"7f", "1f"},
		{"02 fd", "79 01 04 68 79"},
	};
	struct script sc;
	struct ser *s = open_script(&sc, steps, sizeof steps / sizeof steps[0]);
	struct an3155 b;
	an3155_init(&b, s);
	assert_int_equal(an3155_sync(&b), 0);
	assert_int_equal(an3155_get_id(&b), 0);
	assert_int_equal(b.pid, 0x468);
	assert_int_equal(sc.at, sc.n);
	ser_close(s);
}

/* Extended Erase frames (AN3155 3.8): two-byte N and page numbers MSB first, the XOR of all;
 * mass erase FF FF 00; bank 2 FF FD 02. */
static void test_extended_erase_frames(void **st)
{
	(void)st;
	static const struct step steps[] = {
		{"7f", "79"},
		{"00 ff", "79 0b 31 00 01 02 11 21 31 44 63 73 82 92 79"},
		{"44 bb", "79"},
		{"00 01 01 2c 01 2d 00", "79"}, /* 2 pages: N = 0001, 012c 012d, XOR of them all 00 */
		{"44 bb", "79"},
		{"ff ff 00", "79"},
		{"44 bb", "79"},
		{"ff fd 02", "79"},
	};
	struct script sc;
	struct ser *s = open_script(&sc, steps, sizeof steps / sizeof steps[0]);
	struct an3155 b;
	an3155_init(&b, s);
	assert_int_equal(an3155_sync(&b), 0);
	assert_int_equal(an3155_get(&b), 0);
	uint16_t pages[2] = {0x12c, 0x12d};
	assert_int_equal(an3155_erase_pages(&b, pages, 2), 0);
	assert_int_equal(an3155_erase_mass(&b), 0);
	assert_int_equal(an3155_erase_bank(&b, 2), 0);
	assert_int_equal(sc.at, sc.n);
	ser_close(s);
}

/* Silence and echo give distinct errors with hints a person can act on. */
static void test_silence_and_echo(void **st)
{
	(void)st;
	static const struct step silent[] = {{"7f", ""}, {"7f", ""}};
	struct script sc;
	struct ser *s = open_script(&sc, silent, 2);
	struct an3155 b;
	an3155_init(&b, s);
	assert_int_equal(an3155_sync(&b), STM32DFU_E_TIMEOUT);
	assert_non_null(strstr(b.err.hint, "BOOT0"));
	assert_non_null(strstr(b.err.hint, "RX"));
	ser_close(s);
	static const struct step echo[] = {{"7f", "7f"}};
	s = open_script(&sc, echo, 1);
	an3155_init(&b, s);
	assert_int_equal(an3155_sync(&b), STM32DFU_E_PROTOCOL);
	assert_non_null(strstr(b.err.hint, "echoes"));
	ser_close(s);
}

/* The Get Checksum CRC against an independent reference: CRC-32/MPEG-2 (poly 04C11DB7, init
 * FFFFFFFF, no reflection, no final XOR; check value of "123456789" 0x0376E6E7) of the bytes in
 * the order the STM32 CRC unit shifts them, i.e. each little-endian word MSB first. The reference
 * values were computed with a bitwise Python implementation checked against that check value. */
static void test_crc_reference(void **st)
{
	(void)st;
	/* "4321" "8765" as stored = the words 0x31323334 0x35363738: MPEG-2 of "12345678" */
	const uint8_t w[8] = {'4', '3', '2', '1', '8', '7', '6', '5'};
	assert_int_equal(an3155_crc(0xFFFFFFFFu, w, 8), CRC_12345678);
	/* chaining = one call */
	assert_int_equal(an3155_crc(an3155_crc(0xFFFFFFFFu, w, 4), w + 4, 4), CRC_12345678);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_l151_cubeprog_session), cmocka_unit_test(test_f100_legacy_erase),
		cmocka_unit_test(test_g431_second_sync_nack), cmocka_unit_test(test_extended_erase_frames),
		cmocka_unit_test(test_silence_and_echo),      cmocka_unit_test(test_crc_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
