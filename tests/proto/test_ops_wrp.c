/*
 * Write protection never yields a false success nor loses bytes (issue 11 items 2-3): erase and
 * write read the nWRP bits first and refuse a protected sector before anything is erased, a mass
 * erase with any protected sector is refused, and every erase is read back before it is reported.
 * Checked against the emulator's own memory and the USB transcript, not against our reports.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chip/ob.h"
#include "core/clock.h"
#include "core/rd.h"
#include "dfu/dfu.h"
#include "dfu/dfuse.h"
#include "image/image.h"
#include "ops/ops.h"
#include "ops/progress.h"
#include "ops/session.h"
#include "sim/sim.h"
#include "usb/tp_sim.h"
#include "usb/tp_trace.h"

#include "harness.h"

#define KIB 1024u
#define FLASH 0x08000000u
#define FLASH_LEN (1024u * KIB) /* F746: 4 x 32 KiB, 128 KiB, 3 x 256 KiB */

static struct clock_fake fake;

static struct ops_session *open_sim(const char *spec)
{
	struct ops_open_opts o = harness_opts(spec, &fake);
	return harness_open(&o);
}

/* Fills the whole flash with a pattern that is nowhere 0xFF (as the silicon holds it). */
static void fill_flash(struct sim_device *d)
{
	uint8_t *buf = malloc(FLASH_LEN);
	for (size_t i = 0; i < FLASH_LEN; i++)
		buf[i] = (uint8_t)(i * 7u + 1u) == 0xFF ? 0x5A : (uint8_t)(i * 7u + 1u);
	assert_true(sim_mem_write(d, FLASH, buf, FLASH_LEN));
	free(buf);
}

static uint8_t *flash_copy(struct sim_device *d)
{
	uint8_t *buf = malloc(FLASH_LEN);
	assert_true(sim_mem_read(d, FLASH, buf, FLASH_LEN));
	return buf;
}

/* Clears nWRP bit `sector` in the F7 OB word at 0x1FFF0008 (value low half, complement high), and
 * power-cycles the chip so that the option bytes are in force (RM0385: loaded at reset). */
static void protect_f7(struct sim_device *d, unsigned sector)
{
	uint8_t w[4];
	assert_true(sim_mem_read(d, 0x1FFF0008, w, 4));
	uint16_t v = (uint16_t)((w[0] | w[1] << 8) & ~(1u << sector));
	uint16_t cpl = (uint16_t)~v;
	uint8_t nw[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)cpl, (uint8_t)(cpl >> 8)};
	assert_true(sim_mem_write(d, 0x1FFF0008, nw, 4));
	sim_power_cycle(d);
}

static bool all_ff(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return false;
	return true;
}

/* erase --sectors 1-3 with sector 2 protected: refused before any erase command, every byte kept,
 * and the hint names the option bytes and the assignment that lifts it. */
static void test_erase_refuses_a_protected_sector_before_any_erase(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	struct sim_device *d = tp_sim_device(s->tp);
	fill_flash(d);
	protect_f7(d, 2);
	uint8_t *before = flash_copy(d);
	tp_trace_forget(s->tp);
	unsigned list[] = {1, 2, 3};
	assert_int_equal(ops_erase_sectors(s, list, 3, NULL), STM32DFU_E_PROTECTED);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_MASS_ERASE), 0);
	assert_non_null(strstr(s->err.msg, "sector 2 is write-protected"));
	assert_null(strstr(s->err.msg, "sectors 1"));
	assert_non_null(strstr(s->err.hint, "stm32dfu ob set nWRP2=1"));
	assert_non_null(strstr(s->err.hint, "option bytes"));
	uint8_t *after = flash_copy(d);
	assert_memory_equal(before, after, FLASH_LEN);
	/* a range that crosses it is refused the same way */
	unsigned n = 0;
	assert_int_equal(ops_erase_range(s, 0x08008000, 0x10000, &n), STM32DFU_E_PROTECTED);
	assert_int_equal(n, 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 0);
	free(before);
	free(after);
	ops_close(s);
}

/* A mass erase with any protected sector: the chip would do nothing and report success, so it is
 * refused before the command, naming the sector and the --sectors list of the others. */
static void test_mass_erase_with_protection_is_refused(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	struct sim_device *d = tp_sim_device(s->tp);
	fill_flash(d);
	protect_f7(d, 2);
	uint8_t *before = flash_copy(d);
	tp_trace_forget(s->tp);
	assert_int_equal(ops_mass_erase(s), STM32DFU_E_PROTECTED);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_MASS_ERASE), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 0);
	assert_non_null(strstr(s->err.msg, "sector 2 is write-protected"));
	assert_non_null(strstr(s->err.hint, "stm32dfu ob set nWRP2=1"));
	assert_non_null(strstr(s->err.hint, "stm32dfu erase --sectors 0-1,3-7"));
	uint8_t *after = flash_copy(d);
	assert_memory_equal(before, after, FLASH_LEN);
	free(before);
	free(after);
	ops_close(s);
}

/* Every erase is read back: the first and the last 2 KiB block of each erased sector, the end of
 * one sector and the start of the next in one run (F746: 9 runs, 16 blocks for the 8 sectors). */
static void test_every_erase_is_read_back(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	struct sim_device *d = tp_sim_device(s->tp);
	fill_flash(d);
	ops_identify(s);
	tp_trace_forget(s->tp);
	unsigned list[] = {0, 1, 2, 3, 4, 5, 6, 7};
	assert_int_equal(ops_erase_sectors(s, list, 8, NULL), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 8);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_UPLOAD_DATA), 16);
	/* the reads come after the last erase, and the chip is blank */
	size_t n;
	const struct tp_rec *r = tp_trace_records(s->tp, &n);
	size_t last_erase = 0, first_upload = n;
	for (size_t i = 0; i < n; i++) {
		if (r[i].cls == TP_REQ_ERASE)
			last_erase = i;
		if (r[i].cls == TP_REQ_UPLOAD_DATA && first_upload == n)
			first_upload = i;
	}
	assert_true(first_upload > last_erase);
	uint8_t *after = flash_copy(d);
	assert_true(all_ff(after, FLASH_LEN));
	free(after);
	/* the mass erase too */
	fill_flash(d);
	tp_trace_forget(s->tp);
	assert_int_equal(ops_mass_erase(s), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_MASS_ERASE), 1);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_UPLOAD_DATA), 16);
	ops_close(s);
}

/* A sector whose erase reports success but leaves its bytes (the emulator's worn_sector fault):
 * the read-back makes it a failure naming the sector and the address, for sectors and mass erase. */
static void test_an_erase_that_did_not_happen_is_a_failure(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0,worn_sector=3");
	struct sim_device *d = tp_sim_device(s->tp);
	fill_flash(d);
	unsigned list[] = {2, 3};
	assert_int_equal(ops_erase_sectors(s, list, 2, NULL), STM32DFU_E_VERIFY);
	assert_non_null(strstr(s->err.msg, "sector 3 at 0x08018000 is not blank after the erase"));
	assert_non_null(strstr(s->err.msg, "at 0x08018000"));
	uint8_t b[1];
	assert_true(sim_mem_read(d, 0x08018000, b, 1));
	assert_int_not_equal(b[0], 0xFF);
	assert_int_equal(ops_mass_erase(s), STM32DFU_E_VERIFY);
	assert_non_null(strstr(s->err.msg, "sector 3 at 0x08018000 is not blank"));
	ops_close(s);
}

/* Option bytes that cannot be read (no OB alt, or a read that fails): nothing tells the host the
 * sector is protected, so the erase is sent, and the read-back still reports it as not done. */
static void test_unreadable_option_bytes_still_caught_by_the_read_back(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	struct sim_device *d = tp_sim_device(s->tp);
	fill_flash(d);
	protect_f7(d, 2);
	ops_identify(s);
	s->id.has_ob = false; /* as when the OB alt is missing or its read fails */
	unsigned list[] = {2};
	assert_int_equal(ops_erase_sectors(s, list, 1, NULL), STM32DFU_E_VERIFY);
	assert_non_null(strstr(s->err.msg, "sector 2 at 0x08010000 is not blank after the erase"));
	assert_non_null(strstr(s->err.hint, "option bytes could not be read"));
	ops_close(s);
}

static struct img *pattern_image(uint8_t seed, size_t len)
{
	uint8_t *buf = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 13u);
	struct img *img = img_new();
	assert_int_equal(img_add(img, 0, FLASH, buf, len, NULL), 0);
	free(buf);
	return img;
}

/* A write covering sectors 0-1 with sector 1 protected: refused before any erase, no block sent,
 * every byte of the chip as it was; the hint names the option bytes, not the USB link. */
static void test_write_over_a_protected_sector_erases_nothing(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0");
	struct sim_device *d = tp_sim_device(s->tp);
	fill_flash(d);
	protect_f7(d, 1);
	uint8_t *before = flash_copy(d);
	struct img *img = pattern_image(3, 40 * KIB);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_PROTECTED);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_MASS_ERASE), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_DNLOAD_DATA), 0);
	assert_int_equal(r.sectors_erased, 0);
	assert_int_equal(r.blocked_sector, 1);
	assert_int_equal(r.n_sectors, 2);
	assert_int_equal(r.sectors[0].state, OPS_SECTOR_OLD);
	assert_int_equal(r.sectors[1].state, OPS_SECTOR_OLD);
	assert_string_equal(r.recovery_file, "");
	assert_non_null(strstr(s->err.msg, "sector 1 is write-protected"));
	assert_non_null(strstr(s->err.hint, "stm32dfu ob set nWRP1=1"));
	assert_non_null(strstr(s->err.hint, "option bytes"));
	assert_null(strstr(s->err.hint, "USB"));
	uint8_t *after = flash_copy(d);
	assert_memory_equal(before, after, FLASH_LEN);
	/* a sector that already holds the image needs no erase: protected or not, it is no obstacle */
	memcpy(img->segs[0].data + 32 * KIB, before + 32 * KIB, 8 * KIB);
	sim_power_cycle(d);
	assert_true(sim_mem_write(d, FLASH, img->segs[0].data, 32 * KIB)); /* sector 0 differs only below */
	img->segs[0].data[5] ^= 0x40;
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_int_equal(r.sectors_erased, 1);
	free(before);
	free(after);
	img_free(img);
	ops_close(s);
}

/* write --no-verify on a sector that does not erase: nothing else would read it back, so the
 * erase is, and the write fails before programming; that sector is not reported "erased". */
static void test_write_without_verify_reads_its_erases_back(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0,worn_sector=1");
	struct sim_device *d = tp_sim_device(s->tp);
	fill_flash(d);
	struct img *img = pattern_image(9, 64 * KIB); /* sectors 0-1 */
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	wo.verify = false;
	struct ops_write_result r;
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_VERIFY);
	assert_non_null(strstr(s->err.msg, "sector 1 at 0x08008000 is not blank after the erase"));
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_DNLOAD_DATA), 0);
	assert_int_equal(r.n_sectors, 2);
	assert_int_equal(r.sectors[0].state, OPS_SECTOR_ERASED); /* read back blank */
	assert_int_not_equal(r.sectors[1].state, OPS_SECTOR_ERASED);
	assert_int_not_equal(r.sectors[1].state, OPS_SECTOR_NEW);
	img_free(img);
	ops_close(s);
}

/* issue 22 item 6: an F767 in dual-bank mode (nDBANK = 0, profile f767-db): 24 sectors, and nWRP bit
 * i protects sectors 2i and 2i+1 (ST HAL OB_WRP_DB_SECTOR_*, RM0410). nWRP6 = 0 protects sectors 12
 * and 13, the start of bank 2: a write into sector 13 is refused before any erase, naming nWRP6;
 * sector 14 (bit 7) is written; the chip layer knows every sector's protection. */
static void test_f76x_dual_bank_one_bit_two_sectors(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f767-db,timing=0");
	struct sim_device *d = tp_sim_device(s->tp);
	protect_f7(d, 6);
	uint8_t data[4096];
	memset(data, 0x3C, sizeof data);
	struct img *img = img_new();
	assert_int_equal(img_add(img, 0, 0x08104000, data, sizeof data, NULL), 0); /* sector 13 */
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_PROTECTED);
	assert_string_equal(s->id.chip.family->id, "F76x");
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 0);
	assert_int_equal(r.blocked_sector, 13);
	assert_non_null(strstr(s->err.msg, "sector 13 is write-protected"));
	assert_non_null(strstr(s->err.hint, "nWRP6=1"));
	img_free(img);
	img = img_new();
	assert_int_equal(img_add(img, 0, 0x08108000, data, sizeof data, NULL), 0); /* sector 14: bit 7 */
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_true(r.verified);
	img_free(img);
	uint8_t ob[32];
	assert_true(sim_mem_read(d, 0x1FFF0000, ob, sizeof ob));
	const struct chip_family *f76 = chip_family_by_id("F76x");
	for (unsigned i = 0; i < 24; i++)
		assert_int_equal(ob_sector_write_protected(f76, ob, sizeof ob, i, 0x08000000, 0x4000, NULL, 0),
		                 i == 12 || i == 13);
	ops_close(s);
}

/* issue 22 item 7: write protection on L0/L1/L4/G4 modelled by the emulator from the manuals, and
 * read by the host (G4: both banks' zones) before anything is erased. One case per scheme: the
 * option bytes are set through the emulator's back door (value and complement), the chip power-
 * cycled so they are in force, then a write into a protected page is refused before any erase,
 * naming what lifts it, while the emulated chip really ignores an erase there. */
struct wrp_case {
	const char *profile;
	uint32_t ob_at;        /* where the option word with its complement goes */
	uint8_t word[8];
	unsigned sector;       /* a sector it protects ... */
	uint32_t addr;         /* ... at this address */
	const char *lift;      /* in the hint */
};

static void wrp_case_run(const struct wrp_case *c)
{
	struct ops_session *s = open_sim(c->profile);
	struct sim_device *d = tp_sim_device(s->tp);
	assert_true(sim_mem_write(d, c->ob_at, c->word, sizeof c->word));
	sim_power_cycle(d);
	uint8_t data[256];
	memset(data, 0x42, sizeof data);
	assert_true(sim_mem_write(d, c->addr, data, 4)); /* not blank: the emulator's erase is tried below */
	struct img *img = img_new();
	assert_int_equal(img_add(img, 0, c->addr, data, sizeof data, NULL), 0);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_PROTECTED);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_ERASE), 0);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_MASS_ERASE), 0);
	assert_int_equal(r.blocked_sector, (int)c->sector);
	if (!strstr(s->err.hint, c->lift))
		fail_msg("%s: hint '%s' does not name '%s'", c->profile, s->err.hint, c->lift);
	img_free(img);
	/* the emulated chip: an erase of that sector is ignored (no error, AN3156 Table 4 note 1) */
	assert_int_equal(dfu_set_alt(s->dfu, 0), 0);
	assert_int_equal(dfuse_erase_page(s->dfu, c->addr), 0);
	uint8_t b[4];
	assert_true(sim_mem_read(d, c->addr, b, 4));
	assert_memory_equal(b, data, 4);
	ops_close(s);
}

static void test_wrp_l0_l1_l4_g4(void **state)
{
	(void)state;
	static const struct wrp_case cases[] = {
		/* L0: WRP1 bit 1 (active high, 4 KiB = pages 32-63 of 128 B), RM0367 */
		{"l0-192k,timing=0", 0x1FF80008, {0x02, 0x00, 0xFD, 0xFF}, 40, 0x08001400, "WRP1L=0x0000"},
		/* L1: WRP01 bit 2 (active high, 4 KiB = pages 32-47 of 256 B), RM0038 */
		{"l100rc,timing=0", 0x1FF80008, {0x04, 0x00, 0xFB, 0xFF}, 33, 0x08002100, "WRP01=0x0000"},
		/* L4: WRP1A = pages [3, 4], RM0394 */
		{"l43x,timing=0", 0x1FFF7818, {0x03, 0xFF, 0x04, 0xFF, 0xFC, 0x00, 0xFB, 0x00}, 4, 0x08002000,
		 "WRP1A_STRT=0xFF WRP1A_END=0x0"},
		/* G4 bank 2: WRP2A = its pages [2, 2], i.e. flash sector 130 at 0x08041000, RM0440 */
		{"g474,timing=0", 0x1FFFF818, {0x02, 0xFF, 0x02, 0xFF, 0xFD, 0x00, 0xFD, 0x00}, 130, 0x08041000,
		 "WRP2A_STRT=0xFF WRP2A_END=0x0"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		wrp_case_run(&cases[i]);
}

/* issue 22: WB write protection, modelled from RM0434 (WRP1A/WRP1B areas of 4 KiB pages in the
 * option bytes at 0x1FFF8000; the WB ROM's strings are UNCONFIRMED, profiles/wb55): read by the
 * host before an erase, as on L4/G4 */
static void test_wrp_wb(void **state)
{
	(void)state;
	/* WRP1A = pages [3, 4] (value 0xFF04FF03, complement 0x00FB00FC): sector 4 at 0x08004000 */
	static const struct wrp_case wb = {"wb55,timing=0", 0x1FFF8018, {0x03, 0xFF, 0x04, 0xFF, 0xFC, 0x00, 0xFB, 0x00},
	                                   4, 0x08004000, "WRP1A_STRT=0xFF WRP1A_END=0x0"};
	wrp_case_run(&wb);
}

/* issue 22: G0 write protection (RM0444 WRP1A/WRP1B, 2 KiB pages). The G0C1 ROM offers no option-
 * byte alt (its listing shows the flash on every alt), so the host cannot read the protection over
 * DFU and the chip refuses the address; the emulated chip still ignores an erase of a protected
 * page, and the host's read-back of every erase catches it: the write fails naming the page, and
 * the page keeps what it held (nothing is reported written). */
static void test_wrp_g0_unlisted_option_bytes(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("g0c1,timing=0");
	struct sim_device *d = tp_sim_device(s->tp);
	/* WRP1A = pages [3, 4] */
	static const uint8_t word[8] = {0x03, 0xFF, 0x04, 0xFF, 0xFC, 0x00, 0xFB, 0x00};
	assert_true(sim_mem_write(d, 0x1FFF7818, word, sizeof word));
	sim_power_cycle(d);
	/* over DFU the option bytes are an address the ROM does not serve */
	uint8_t ob[40];
	assert_int_equal(ops_read(s, 0, 0x1FFF7800, ob, sizeof ob, false), STM32DFU_E_RANGE);
	uint8_t data[256], old[4] = {0x42, 0x42, 0x42, 0x42};
	memset(data, 0x5A, sizeof data);
	assert_true(sim_mem_write(d, 0x08002000, old, sizeof old));
	struct img *img = img_new();
	assert_int_equal(img_add(img, 0, 0x08002000, data, sizeof data, NULL), 0);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	struct ops_write_result r;
	int rc = ops_write(s, img, &wo, &r);
	assert_int_not_equal(rc, 0);
	assert_false(r.verified);
	assert_non_null(strstr(s->err.msg, "0x08002000"));
	uint8_t b[4];
	assert_true(sim_mem_read(d, 0x08002000, b, 4));
	assert_memory_equal(b, old, 4);
	/* the emulated chip: an erase of page 4 is ignored without an error (AN3156 Table 4 note 1),
	 * one of page 5 is done */
	assert_int_equal(dfu_set_alt(s->dfu, 0), 0);
	assert_int_equal(dfuse_erase_page(s->dfu, 0x08002000), 0);
	assert_true(sim_mem_read(d, 0x08002000, b, 4));
	assert_memory_equal(b, old, 4);
	assert_true(sim_mem_write(d, 0x08002800, old, sizeof old));
	assert_int_equal(dfuse_erase_page(s->dfu, 0x08002800), 0);
	assert_true(sim_mem_read(d, 0x08002800, b, 4));
	assert_memory_equal(b, "\xFF\xFF\xFF\xFF", 4);
	/* bank 2 (pages 128-255 from 0x08040000) has its own areas: WRP2A = bank-2 pages [1, 1] =
	 * page 129 at 0x08040800 (0x1FFF7858, RM0444 WRP2AR: DERIVED address) */
	static const uint8_t word2[8] = {0x01, 0xFF, 0x01, 0xFF, 0xFE, 0x00, 0xFE, 0x00};
	assert_true(sim_mem_write(d, 0x1FFF7858, word2, sizeof word2));
	sim_power_cycle(d);
	assert_int_equal(dfu_set_alt(s->dfu, 0), 0);
	assert_true(sim_mem_write(d, 0x08040800, old, sizeof old));
	assert_int_equal(dfuse_erase_page(s->dfu, 0x08040800), 0);
	assert_true(sim_mem_read(d, 0x08040800, b, 4));
	assert_memory_equal(b, old, 4);
	assert_true(sim_mem_write(d, 0x08041000, old, sizeof old));
	assert_int_equal(dfuse_erase_page(s->dfu, 0x08041000), 0);
	assert_true(sim_mem_read(d, 0x08041000, b, 4));
	assert_memory_equal(b, "\xFF\xFF\xFF\xFF", 4);
	/* a write onto the erased protected page 129: the erase reads back erased, the programming is
	 * ignored, the verify fails, and the hint names the protection the host could not read (not
	 * the USB link) */
	img_free(img);
	img = img_new();
	uint8_t erased[4] = {0xFF, 0xFF, 0xFF, 0xFF};
	assert_true(sim_mem_write(d, 0x08040800, erased, sizeof erased));
	assert_int_equal(img_add(img, 0, 0x08040800, data, sizeof data, NULL), 0);
	assert_int_equal(ops_write(s, img, &wo, &r), STM32DFU_E_VERIFY);
	assert_false(r.verified);
	assert_non_null(strstr(s->err.hint, "write-protected page"));
	assert_null(strstr(s->err.hint, "USB port"));
	/* an unprotected page is written as usual */
	img_free(img);
	img = img_new();
	assert_int_equal(img_add(img, 0, 0x08002800, data, sizeof data, NULL), 0);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_true(r.verified);
	harness_assert_chip_holds(s, img);
	img_free(img);
	ops_close(s);
}

/* The chip-layer reading of each protection scheme, from blocks ob_set builds. */
static void test_each_scheme_names_what_lifts_it(void **state)
{
	(void)state;
	uint8_t b[128], o[128];
	size_t len;
	char clear[96];
	/* F7: one bit per sector */
	const struct chip_family *f7 = chip_family_by_id("F74x");
	assert_int_equal(ob_default_block(f7, b, sizeof b, &len), 0);
	const char *a7[] = {"nWRP5=0"};
	assert_int_equal(ob_set(f7, b, len, a7, 1, o, NULL), 0);
	assert_int_equal(ob_sector_write_protected(f7, o, len, 5, 0x08040000, 0x40000, clear, sizeof clear), 1);
	assert_string_equal(clear, "nWRP5=1");
	assert_int_equal(ob_sector_write_protected(f7, o, len, 4, 0x08020000, 0x20000, clear, sizeof clear), 0);
	/* F0: one bit per 4 KiB, the last one guarding the rest of the flash */
	const struct chip_family *f0 = chip_family_by_id("F0");
	assert_int_equal(ob_default_block(f0, b, sizeof b, &len), 0);
	const char *a0[] = {"WRP01=0", "WRP37=0"};
	assert_int_equal(ob_set(f0, b, len, a0, 2, o, NULL), 0);
	assert_int_equal(ob_sector_write_protected(f0, o, len, 5, 0x08001400, 0x400, clear, sizeof clear), 1);
	assert_string_equal(clear, "WRP01=1");
	assert_int_equal(ob_sector_write_protected(f0, o, len, 3, 0x08000C00, 0x400, clear, sizeof clear), 0);
	assert_int_equal(ob_sector_write_protected(f0, o, len, 96, 0x08030000, 0x800, clear, sizeof clear), 1);
	assert_string_equal(clear, "WRP37=1");
	/* L4: a WRP area of pages [2, 4] */
	const struct chip_family *l4 = chip_family_by_id("L4");
	assert_int_equal(ob_default_block(l4, b, sizeof b, &len), 0);
	const char *a4[] = {"WRP1A_STRT=2", "WRP1A_END=4"};
	assert_int_equal(ob_set(l4, b, len, a4, 2, o, NULL), 0);
	assert_int_equal(ob_sector_write_protected(l4, o, len, 4, 0x08002000, 0x800, clear, sizeof clear), 1);
	assert_string_equal(clear, "WRP1A_STRT=0xFF WRP1A_END=0x0");
	assert_int_equal(ob_sector_write_protected(l4, o, len, 5, 0x08002800, 0x800, clear, sizeof clear), 0);
	/* G0B1/G0C1 dual bank: bank 2's area A of pages [2, 3] counts from bank 2's first page (128 on
	 * the 512 KiB G0C1); with DUAL_BANK = 0 there is no bank 2 and the area guards nothing in bank 1 */
	const struct chip_family *g0 = chip_family_by_id("G0");
	assert_int_equal(ob_default_block(g0, b, sizeof b, &len), 0);
	assert_int_equal(len, 104);
	const char *ag[] = {"WRP2A_STRT=2", "WRP2A_END=3"};
	assert_int_equal(ob_set(g0, b, len, ag, 2, o, NULL), 0);
	assert_int_equal(o[0x58] & 0x7F, 2);
	assert_int_equal(o[0x5A] & 0x7F, 3);
	assert_int_equal(ob_sector_wrp_banked(g0, o, len, 131, 0x08041800, 0x800, 128, clear, sizeof clear), 1);
	assert_string_equal(clear, "WRP2A_STRT=0x7F WRP2A_END=0x0");
	assert_int_equal(ob_sector_wrp_banked(g0, o, len, 3, 0x08001800, 0x800, 128, clear, sizeof clear), 0);
	assert_int_equal(ob_sector_wrp_banked(g0, o, len, 132, 0x08042000, 0x800, 128, clear, sizeof clear), 0);
	/* where bank 2 starts unknown: an active bank-2 area leaves the answer open, never "free" */
	assert_int_equal(ob_sector_wrp_banked(g0, o, len, 131, 0x08041800, 0x800, 0, clear, sizeof clear), -1);
	const char *sb[] = {"DUAL_BANK=0"};
	uint8_t o2[128];
	assert_int_equal(ob_set(g0, o, len, sb, 1, o2, NULL), 0);
	assert_int_equal(ob_sector_wrp_banked(g0, o2, len, 2, 0x08001000, 0x800, 128, clear, sizeof clear), 0);
	/* single bank: 7-bit page fields do not reach page 131, so the table cannot tell */
	assert_int_equal(ob_sector_wrp_banked(g0, o2, len, 131, 0x08041800, 0x800, 128, clear, sizeof clear), -1);
	/* L0: active high, one bit per 4 KiB */
	const struct chip_family *l0 = chip_family_by_id("L0");
	assert_int_equal(ob_default_block(l0, b, sizeof b, &len), 0);
	const char *al[] = {"WRP1L=0x0006"};
	assert_int_equal(ob_set(l0, b, len, al, 1, o, NULL), 0);
	assert_int_equal(ob_sector_write_protected(l0, o, len, 1, 0x08001000, 0x1000, clear, sizeof clear), 1);
	assert_string_equal(clear, "WRP1L=0x0004");
	assert_int_equal(ob_sector_write_protected(l0, o, len, 0, 0x08000000, 0x1000, clear, sizeof clear), 0);
	/* no table, or a block too short: it cannot tell */
	assert_int_equal(ob_sector_write_protected(NULL, o, len, 0, 0x08000000, 0x1000, clear, sizeof clear), -1);
	assert_int_equal(ob_sector_write_protected(f7, o, 4, 0, 0x08000000, 0x8000, clear, sizeof clear), -1);
}

/* Ctrl-C during a sector erase: the erase stops before the next sector (not after the last), and the
 * message says which sectors are erased and which are not; the chip agrees. */
struct stop_after {
	volatile sig_atomic_t flag;
	uint64_t sectors;
};

static void stop_after_sectors(void *ctx, const struct ops_progress *p)
{
	struct stop_after *st = ctx;
	if (p->phase == OPS_PHASE_ERASE && p->done >= st->sectors)
		st->flag = 1;
}

static void test_ctrl_c_stops_between_sectors_and_says_what_is_erased(void **state)
{
	(void)state;
	struct stop_after st = {0, 3};
	struct ops_open_opts o = harness_opts("f746,timing=0", &fake);
	o.cancel = &st.flag;
	struct ops_session *s = harness_open(&o);
	struct sim_device *d = tp_sim_device(s->tp);
	fill_flash(d);
	uint8_t *before = flash_copy(d);
	ops_set_progress(s, stop_after_sectors, &st);
	unsigned list[] = {0, 1, 2, 3, 4, 5, 6, 7}, erased = 99;
	assert_int_equal(ops_erase_sectors(s, list, 8, &erased), STM32DFU_E_CANCELED);
	assert_int_equal(erased, 3);
	assert_string_equal(s->err.msg, "erase stopped on request: sector(s) 0-2 erased (acknowledged, not read back); "
	                                "not erased: 3-7");
	uint8_t *after = flash_copy(d);
	assert_true(all_ff(after, 3 * 32 * KIB));
	assert_memory_equal(after + 3 * 32 * KIB, before + 3 * 32 * KIB, FLASH_LEN - 3 * 32 * KIB);
	free(after);
	/* stopped once the last sector is done: the read-back is what is cut short, and the message says so */
	st.flag = 0;
	st.sectors = 2;
	unsigned two[] = {4, 5};
	assert_int_equal(ops_erase_sectors(s, two, 2, &erased), STM32DFU_E_CANCELED);
	assert_int_equal(erased, 2);
	assert_string_equal(s->err.msg, "erase stopped on request during the read-back: sector(s) 4-5 erased "
	                                "(acknowledged), not all read back");
	after = flash_copy(d);
	assert_true(all_ff(after + 128 * KIB, 384 * KIB));
	assert_memory_equal(after + 512 * KIB, before + 512 * KIB, 512 * KIB);
	free(after);
	free(before);
	ops_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_erase_refuses_a_protected_sector_before_any_erase),
		cmocka_unit_test(test_mass_erase_with_protection_is_refused),
		cmocka_unit_test(test_every_erase_is_read_back),
		cmocka_unit_test(test_ctrl_c_stops_between_sectors_and_says_what_is_erased),
		cmocka_unit_test(test_an_erase_that_did_not_happen_is_a_failure),
		cmocka_unit_test(test_unreadable_option_bytes_still_caught_by_the_read_back),
		cmocka_unit_test(test_write_over_a_protected_sector_erases_nothing),
		cmocka_unit_test(test_write_without_verify_reads_its_erases_back),
		cmocka_unit_test(test_each_scheme_names_what_lifts_it),
		cmocka_unit_test(test_f76x_dual_bank_one_bit_two_sectors),
		cmocka_unit_test(test_wrp_l0_l1_l4_g4),
		cmocka_unit_test(test_wrp_wb),
		cmocka_unit_test(test_wrp_g0_unlisted_option_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
