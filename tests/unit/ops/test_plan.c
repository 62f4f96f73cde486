/* The write planner: which sectors are erased, which blocks programmed, and nothing lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "chip/chip.h"
#include "image/image.h"
#include "ops/plan.h"

/* the F746 sector map (RM0385 §3.3.1; ROM layout string 04*032Kg,01*128Kg,03*256Kg) */
static const struct plan_sector f746[] = {
	{0x08000000, 32768, 0},  {0x08008000, 32768, 1},  {0x08010000, 32768, 2},  {0x08018000, 32768, 3},
	{0x08020000, 131072, 4}, {0x08040000, 262144, 5}, {0x08080000, 262144, 6}, {0x080C0000, 262144, 7},
};
#define NSEC (sizeof f746 / sizeof f746[0])

/* the chip's memory in the test: 1 MiB from 0x08000000 */
static uint8_t chip[1u << 20];

static void read_back(struct write_plan *p)
{
	for (size_t i = 0; i < p->n_touched; i++) {
		struct plan_touched *t = &p->touched[i];
		t->current = malloc(t->sector.size);
		memcpy(t->current, chip + (t->sector.start - 0x08000000u), t->sector.size);
	}
}

static struct img *image_of(uint32_t addr, const uint8_t *data, size_t len)
{
	struct img *img = img_new();
	assert_non_null(img);
	assert_int_equal(img_add(img, 0, addr, data, len, NULL), 0);
	return img;
}

static void test_blank_chip_full_image(void **state)
{
	(void)state;
	memset(chip, 0xFF, sizeof chip);
	uint8_t *data = malloc(sizeof chip);
	for (size_t i = 0; i < sizeof chip; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	struct img *img = image_of(0x08000000, data, sizeof chip);
	struct write_plan p;
	assert_int_equal(plan_touch(&p, img, 0, f746, NSEC, 0x08100000, NULL), 0);
	assert_int_equal(p.n_touched, 8);
	read_back(&p);
	assert_int_equal(plan_build(&p, img, 0, 2048, 8, false, NULL), 0);
	assert_int_equal(p.sectors_to_erase, 8);
	assert_int_equal(p.sectors_skipped, 0);
	/* one contiguous run, 512 blocks of 2048 bytes */
	assert_int_equal(p.n_runs, 1);
	assert_int_equal(p.runs[0].addr, 0x08000000);
	assert_int_equal(p.runs[0].len, 1u << 20);
	assert_int_equal(p.blocks, 512);
	plan_free(&p);
	img_free(img);
	free(data);
}

static void test_same_image_is_skipped(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof chip; i++)
		chip[i] = (uint8_t)(i * 13);
	struct img *img = image_of(0x08000000, chip, sizeof chip);
	struct write_plan p;
	assert_int_equal(plan_touch(&p, img, 0, f746, NSEC, 0, NULL), 0);
	read_back(&p);
	assert_int_equal(plan_build(&p, img, 0, 2048, 8, false, NULL), 0);
	assert_int_equal(p.sectors_to_erase, 0);
	assert_int_equal(p.sectors_skipped, 8);
	assert_int_equal(p.n_runs, 0);
	assert_int_equal(p.bytes_to_program, 0);
	plan_free(&p);
	/* --full rewrites everything anyway */
	assert_int_equal(plan_touch(&p, img, 0, f746, NSEC, 0, NULL), 0);
	read_back(&p);
	assert_int_equal(plan_build(&p, img, 0, 2048, 8, true, NULL), 0);
	assert_int_equal(p.sectors_to_erase, 8);
	plan_free(&p);
	img_free(img);
}

static void test_one_byte_changes_one_sector(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof chip; i++)
		chip[i] = (uint8_t)(i * 13);
	uint8_t *data = malloc(sizeof chip);
	memcpy(data, chip, sizeof chip);
	data[0x18123] ^= 0x55; /* sector 3 */
	struct img *img = image_of(0x08000000, data, sizeof chip);
	struct write_plan p;
	assert_int_equal(plan_touch(&p, img, 0, f746, NSEC, 0, NULL), 0);
	read_back(&p);
	assert_int_equal(plan_build(&p, img, 0, 2048, 8, false, NULL), 0);
	assert_int_equal(p.sectors_to_erase, 1);
	assert_int_equal(p.sectors_skipped, 7);
	for (size_t i = 0; i < p.n_touched; i++)
		assert_int_equal(p.touched[i].action, p.touched[i].sector.index == 3 ? PLAN_ERASE_PROGRAM : PLAN_SKIP);
	assert_int_equal(p.n_runs, 1);
	assert_int_equal(p.runs[0].addr, 0x08018000);
	assert_int_equal(p.runs[0].len, 32768);
	plan_free(&p);
	img_free(img);
	free(data);
}

static void test_bytes_outside_image_are_kept(void **state)
{
	(void)state;
	memset(chip, 0xFF, sizeof chip);
	memset(chip + 0x7000, 0x42, 0x100); /* data near the end of sector 0, outside the image */
	uint8_t small[100];
	memset(small, 0x11, sizeof small);
	struct img *img = image_of(0x08000000, small, sizeof small);
	struct write_plan p;
	assert_int_equal(plan_touch(&p, img, 0, f746, NSEC, 0, NULL), 0);
	assert_int_equal(p.n_touched, 1);
	read_back(&p);
	assert_int_equal(plan_build(&p, img, 0, 2048, 8, false, NULL), 0);
	assert_int_equal(p.touched[0].preserved_bytes, 0x100);
	assert_int_equal(p.touched[0].image_bytes, 100);
	/* the image's block, then (after blank blocks) the preserved block: two runs */
	assert_int_equal(p.n_runs, 2);
	assert_int_equal(p.runs[0].addr, 0x08000000);
	assert_int_equal(p.runs[0].len, 104); /* trailing erased bytes trimmed to 8-byte alignment */
	assert_int_equal(p.runs[1].addr, 0x08007000);
	assert_int_equal(p.runs[1].len, 0x100);
	assert_memory_equal(plan_desired_at(&p, 0x08007000), chip + 0x7000, 0x100);
	plan_free(&p);
	img_free(img);
}

/* Old data under the image does not count as kept; a copy across a sector boundary joins both
 * sectors' desired bytes (what each DNLOAD block is built from). */
static void test_kept_bytes_and_copy_across_sectors(void **state)
{
	(void)state;
	memset(chip, 0xFF, sizeof chip);
	memset(chip + 0x7F00, 0x33, 0x100);  /* under the image (end of sector 0) */
	memset(chip + 0x8100, 0x44, 0x80);   /* under the image (start of sector 1) */
	memset(chip + 0xC000, 0x55, 0x10);   /* outside the image, in sector 1 */
	memset(chip + 0x0010, 0x00, 3);      /* outside the image, in sector 0 */
	uint8_t data[0x400];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i ^ 0xA5);
	struct img *img = image_of(0x08007E00, data, sizeof data); /* 0x08007E00..0x08008200 */
	struct write_plan p;
	assert_int_equal(plan_touch(&p, img, 0, f746, NSEC, 0, NULL), 0);
	assert_int_equal(p.n_touched, 2);
	read_back(&p);
	assert_int_equal(plan_build(&p, img, 0, 2048, 8, false, NULL), 0);
	assert_int_equal(p.touched[0].preserved_bytes, 3);
	assert_int_equal(p.touched[1].preserved_bytes, 0x10);
	uint8_t out[0x600];
	plan_desired_copy(&p, 0x08007E00, sizeof out, out);
	assert_memory_equal(out, data, sizeof data);
	assert_memory_equal(out + sizeof data, chip + 0x8200, sizeof out - sizeof data);
	assert_ptr_equal(plan_desired_at(&p, 0x08008000), p.touched[1].desired);
	assert_null(plan_desired_at(&p, 0x08010000));
	plan_free(&p);
	img_free(img);
}

/* the F407 sector map (RM0090 3.3 Table 5; ROM layout string 04*016Kg,01*064Kg,07*128Kg) */
static const struct plan_sector f407[] = {
	{0x08000000, 16384, 0},   {0x08004000, 16384, 1},   {0x08008000, 16384, 2},   {0x0800C000, 16384, 3},
	{0x08010000, 65536, 4},   {0x08020000, 131072, 5},  {0x08040000, 131072, 6},  {0x08060000, 131072, 7},
	{0x08080000, 131072, 8},  {0x080A0000, 131072, 9},  {0x080C0000, 131072, 10}, {0x080E0000, 131072, 11},
};
#define NSEC407 (sizeof f407 / sizeof f407[0])

/* Plans img over the chip's bytes and asks whether one mass erase pays, with the family's
 * datasheet figures (chip/timing.c) at x8, over the first n sectors of map (the part's flash). */
static bool mass_pays(const char *family, const struct plan_sector *map, size_t n, const struct img *img,
                      unsigned *erase_sectors)
{
	const struct chip_family *fam = chip_family_by_id(family);
	assert_non_null(fam);
	unsigned ms[16];
	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++)
		ms[i] = chip_sector_erase_ms_at(fam, map[i].size, 1);
	struct write_plan p;
	assert_int_equal(plan_touch(&p, img, 0, map, n, map[n - 1].start + map[n - 1].size, NULL), 0);
	read_back(&p);
	assert_int_equal(plan_build(&p, img, 0, 2048, 8, false, NULL), 0);
	bool pays = plan_mass_erase_pays(&p, map, n, ms, chip_mass_erase_ms_at(fam, 1));
	assert_int_equal(p.mass_erase, pays);
	*erase_sectors = p.sectors_to_erase;
	plan_free(&p);
	return pays;
}

/* A blank F407 and an image of its whole flash: the 12 sector erases take 16.8 s (DS8626 x8:
 * 4 x 0.4 + 1.2 + 7 x 2), one mass erase 16 s: mass. The F746's 8 sectors take 8.7 s against
 * the same 16 s (DS10916): sectors. */
static void test_mass_erase_when_the_datasheet_says_it_is_faster(void **state)
{
	(void)state;
	memset(chip, 0xFF, sizeof chip);
	uint8_t *data = malloc(sizeof chip);
	for (size_t i = 0; i < sizeof chip; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	struct img *img = image_of(0x08000000, data, sizeof chip);
	unsigned n;
	assert_true(mass_pays("F40x", f407, NSEC407, img, &n));
	assert_int_equal(n, 12);
	assert_false(mass_pays("F74x", f746, NSEC, img, &n));
	assert_int_equal(n, 8);
	/* a family without figures: never */
	assert_false(mass_pays("F3", f407, NSEC407, img, &n));
	img_free(img);
	/* a 512 KiB F407 (the flash-size register ends the part at sector 7): 8.8 s of sectors */
	img = image_of(0x08000000, data, sizeof chip / 2);
	assert_false(mass_pays("F40x", f407, 8, img, &n));
	assert_int_equal(n, 8);
	img_free(img);
	free(data);
}

/* One byte outside the image that holds data must be kept: the sectors, one by one (the mass
 * erase would take it with it). Erased bytes outside the image keep nothing: mass. */
static void test_no_mass_erase_when_a_byte_is_kept(void **state)
{
	(void)state;
	memset(chip, 0xFF, sizeof chip);
	uint8_t *data = malloc(sizeof chip);
	for (size_t i = 0; i < sizeof chip; i++)
		data[i] = (uint8_t)(i * 5 + 3);
	struct img *img = image_of(0x08000000, data, sizeof chip - 16); /* all but the last 16 bytes */
	unsigned n;
	assert_true(mass_pays("F40x", f407, NSEC407, img, &n));
	chip[sizeof chip - 1] = 0x42;
	assert_false(mass_pays("F40x", f407, NSEC407, img, &n));
	assert_int_equal(n, 12);
	img_free(img);
	free(data);
}

/* A sector that already holds the image is not erased, so the plan does not erase every sector. */
static void test_no_mass_erase_when_a_sector_is_unchanged(void **state)
{
	(void)state;
	memset(chip, 0xFF, sizeof chip);
	uint8_t *data = malloc(sizeof chip);
	for (size_t i = 0; i < sizeof chip; i++)
		data[i] = (uint8_t)(i * 11 + 5);
	memcpy(chip + 0xC000, data + 0xC000, 0x4000); /* sector 3 holds its part already */
	struct img *img = image_of(0x08000000, data, sizeof chip);
	unsigned n;
	assert_false(mass_pays("F40x", f407, NSEC407, img, &n));
	assert_int_equal(n, 11);
	img_free(img);
	free(data);
}

static void test_out_of_range(void **state)
{
	(void)state;
	uint8_t b[16] = {0};
	struct img *img = image_of(0x08100000, b, sizeof b);
	struct write_plan p;
	struct err e;
	err_clear(&e);
	assert_int_equal(plan_touch(&p, img, 0, f746, NSEC, 0, &e), STM32DFU_E_RANGE);
	assert_non_null(strstr(e.msg, "0x08100000"));
	plan_free(&p);
	img_free(img);
	/* bounded by the flash-size register: a 512 KiB part with the 1 MiB layout */
	img = image_of(0x0807FFF8, b, sizeof b);
	err_clear(&e);
	assert_int_equal(plan_touch(&p, img, 0, f746, NSEC, 0x08080000, &e), STM32DFU_E_RANGE);
	assert_non_null(strstr(e.msg, "past the end of flash"));
	plan_free(&p);
	img_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blank_chip_full_image),
		cmocka_unit_test(test_same_image_is_skipped),
		cmocka_unit_test(test_one_byte_changes_one_sector),
		cmocka_unit_test(test_bytes_outside_image_are_kept),
		cmocka_unit_test(test_kept_bytes_and_copy_across_sectors),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_mass_erase_when_the_datasheet_says_it_is_faster),
		cmocka_unit_test(test_no_mass_erase_when_a_byte_is_kept),
		cmocka_unit_test(test_no_mass_erase_when_a_sector_is_unchanged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
