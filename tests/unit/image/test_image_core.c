/* Unit tests of the sparse image: merge, overlap, fill, read, CRC, detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_image_util.h"

static void add_ok(struct img *img, uint8_t alt, uint32_t addr, const void *d, size_t n)
{
	struct err e;
	err_clear(&e);
	if (img_add(img, alt, addr, d, n, &e))
		fail_msg("img_add 0x%08X: %s", (unsigned)addr, e.msg);
}

static void test_merge(void **state)
{
	(void)state;
	struct img *img = img_new();
	assert_non_null(img);
	uint8_t a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
	add_ok(img, 0, 0x1000, a, 4);
	add_ok(img, 0, 0x1004, b, 4); /* appends */
	assert_int_equal(img->n_segs, 1);
	add_ok(img, 0, 0x0FFC, b, 4); /* prepends: merges into the same segment */
	assert_int_equal(img->n_segs, 1);
	assert_int_equal(img->segs[0].addr, 0x0FFC);
	assert_int_equal(img->segs[0].len, 12);
	add_ok(img, 0, 0x2000, a, 4); /* a gap: a second segment */
	add_ok(img, 0, 0x0100, a, 4); /* before everything: stays sorted */
	assert_int_equal(img->n_segs, 3);
	assert_int_equal(img->segs[0].addr, 0x0100);
	assert_int_equal(img->segs[2].addr, 0x2000);
	add_ok(img, 1, 0x1000, b, 4); /* another alt setting: its own address space */
	assert_int_equal(img->n_segs, 4);
	assert_int_equal(img_alt_count(img), 2);
	/* identical overlap is fine; bridging fills the gap and merges three into one */
	add_ok(img, 0, 0x1002, (uint8_t[]){3, 4}, 2);
	uint8_t big[0x2000 - 0x1008];
	memset(big, 0xAA, sizeof big);
	add_ok(img, 0, 0x1008, big, sizeof big);
	assert_int_equal(img->n_segs, 3);
	assert_int_equal(img->segs[1].addr, 0x0FFC);
	assert_int_equal(img->segs[1].len, 0x2004 - 0x0FFC);
	uint8_t v;
	assert_true(img_get_byte(img, 0, 0x2003, &v));
	assert_int_equal(v, 4);
	assert_true(img_get_byte(img, 1, 0x1000, &v));
	assert_int_equal(v, 5);
	assert_false(img_get_byte(img, 0, 0x2004, &v));
	assert_false(img_get_byte(img, 2, 0x1000, &v));
	assert_int_equal(img_total_bytes(img), 4 + (0x2004 - 0x0FFC) + 4);
	img_free(img);
}

static void test_overlap_differs(void **state)
{
	(void)state;
	struct img *img = img_new();
	uint8_t a[8] = {0}, b[4] = {0, 0, 9, 0};
	add_ok(img, 0, 0x08000000, a, 8);
	struct err e;
	err_clear(&e);
	assert_int_equal(img_add(img, 0, 0x08000004, b, 4, &e), STM32DFU_E_FILE_FORMAT);
	/* the message names both pieces and the first differing byte */
	assert_non_null(strstr(e.msg, "0x08000004"));
	assert_non_null(strstr(e.msg, "0x08000000"));
	assert_non_null(strstr(e.msg, "0x08000006"));
	assert_true(e.hint[0] != '\0');
	assert_int_equal(img->n_segs, 1);
	assert_int_equal(img->segs[0].len, 8);
	img_free(img);
}

static void test_range_limits(void **state)
{
	(void)state;
	struct img *img = img_new();
	uint8_t a[4] = {1, 2, 3, 4};
	struct err e;
	err_clear(&e);
	assert_int_equal(img_add(img, 0, 0xFFFFFFFE, a, 4, &e), STM32DFU_E_RANGE);
	add_ok(img, 0, 0xFFFFFFFC, a, 4); /* ends exactly at 4 GiB */
	uint32_t lo;
	uint64_t end;
	assert_true(img_span(img, &lo, &end));
	assert_int_equal(end, 0x100000000ull);
	img_free(img);
}

static void test_fill_read_crc(void **state)
{
	(void)state;
	struct img *img = img_new();
	add_ok(img, 0, 0x10, "ab", 2);
	add_ok(img, 0, 0x18, "cd", 2);
	uint8_t out[12];
	assert_int_equal(img_read(img, 0, 0x0E, sizeof out, 0xFF, out), 4);
	const uint8_t want[12] = {0xFF, 0xFF, 'a', 'b', 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 'c', 'd'};
	assert_memory_equal(out, want, sizeof want);
	assert_int_equal(img_crc32(img), tu_crc32("abcd", 4));
	assert_int_equal(img_crc32_range(img, 0, 0x0E, 12, 0xFF), tu_crc32(want, 12));
	struct err e;
	err_clear(&e);
	assert_int_equal(img_fill_range(img, 0, 0x0E, 12, 0xFF, &e), 0);
	assert_int_equal(img->n_segs, 1);
	assert_memory_equal(img->segs[0].data, want, 12);
	/* the zlib check value */
	assert_int_equal(tu_crc32("123456789", 9), 0xCBF43926);
	img_free(img);
}

static void test_detect(void **state)
{
	(void)state;
	assert_int_equal(img_detect((const uint8_t *)"\x7f" "ELF\1\1", 6, "x.bin"), IMG_FMT_ELF);
	assert_int_equal(img_detect((const uint8_t *)"\r\n:00000001FF", 13, "x"), IMG_FMT_IHEX);
	assert_int_equal(img_detect((const uint8_t *)"S00600004844521B", 16, NULL), IMG_FMT_SREC);
	assert_int_equal(img_detect((const uint8_t *)":00000001FF", 11, "a.bin"), IMG_FMT_BIN);
	assert_int_equal(img_detect((const uint8_t *)"DfuSe\1", 6, NULL), IMG_FMT_DFUSE);
	assert_int_equal(img_detect((const uint8_t *)"\0\1\2", 3, "fw.srec"), IMG_FMT_SREC);
	assert_int_equal(img_detect((const uint8_t *)"\0\1\2", 3, NULL), IMG_FMT_BIN);
	assert_int_equal(img_format_from_name("FW.HEX"), IMG_FMT_IHEX);
	assert_int_equal(img_format_from_name("a.s19"), IMG_FMT_SREC);
	assert_int_equal(img_format_from_name("a.dfu"), IMG_FMT_DFUSE);
	assert_int_equal(img_format_from_name("noext"), IMG_FMT_UNKNOWN);
	assert_string_equal(img_format_name(IMG_FMT_DFUSE), "dfuse");
}

static void test_bin_and_writers(void **state)
{
	(void)state;
	struct img_load_opts lo;
	img_load_opts_init(&lo);
	/* a raw binary needs an address, and the message says how to give one */
	tu_parse_err("\1\2\3", 3, "fw.bin", &lo, "needs a base address");
	lo.has_base = true;
	lo.base = 0x08000000;
	struct img *img = tu_parse_ok("\1\2\3", 3, "fw.bin", &lo);
	assert_int_equal(img->format, IMG_FMT_BIN);
	add_ok(img, 0, 0x08000010, "\4", 1);
	img->has_entry = true;
	img->entry = 0x08000001;
	struct img_save_opts so;
	img_save_opts_init(&so);
	uint8_t *out;
	size_t len;
	struct err e;
	err_clear(&e);
	so.format = IMG_FMT_BIN;
	assert_int_equal(img_serialize(img, &so, &out, &len, &e), 0);
	assert_int_equal(len, 17);
	assert_int_equal(out[3], 0xFF);
	assert_int_equal(out[16], 4);
	free(out);
	so.format = IMG_FMT_IHEX;
	assert_int_equal(img_serialize(img, &so, &out, &len, &e), 0);
	const char *hex = ":020000040800F2\n:03000000010203F7\n:0100100004EB\n"
			  ":0400000508000001EE\n:00000001FF\n";
	assert_int_equal(len, strlen(hex));
	assert_memory_equal(out, hex, len);
	free(out);
	so.format = IMG_FMT_SREC;
	assert_int_equal(img_serialize(img, &so, &out, &len, &e), 0);
	struct img *back = tu_parse_ok(out, len, "x.srec", NULL);
	assert_int_equal(back->n_segs, 2);
	assert_int_equal(back->entry, 0x08000001);
	assert_non_null(strstr((const char *)out, "S70508000001F1"));
	img_free(back);
	free(out);
	/* a .bin spanning more than the limit is refused, not written as gigabytes of fill */
	add_ok(img, 0, 0x20000000, "\5", 1);
	so.format = IMG_FMT_BIN;
	assert_int_equal(img_serialize(img, &so, &out, &len, &e), STM32DFU_E_RANGE);
	assert_null(out);
	/* several alt settings fit only a .dfu */
	add_ok(img, 1, 0x1FFFC000, "\6", 1);
	so.format = IMG_FMT_IHEX;
	assert_int_equal(img_serialize(img, &so, &out, &len, &e), STM32DFU_E_UNSUPPORTED);
	so.format = IMG_FMT_DFUSE;
	so.vid = 0x0483;
	so.pid = 0xDF11;
	so.name = "Internal Flash";
	assert_int_equal(img_serialize(img, &so, &out, &len, &e), 0);
	back = tu_parse_ok(out, len, "x.dfu", NULL);
	assert_int_equal(back->n_targets, 2);
	assert_int_equal(back->targets[1].alt, 1);
	assert_string_equal(back->targets[0].name, "Internal Flash");
	assert_int_equal(back->suffix.vid, 0x0483);
	assert_int_equal(back->suffix.pid, 0xDF11);
	assert_int_equal(back->suffix.bcd_device, 0xFFFF);
	assert_int_equal(img_crc32(back), img_crc32(img));
	img_free(back);
	free(out);
	img_free(img);
}

int tu_run_core_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_overlap_differs),
		cmocka_unit_test(test_range_limits),
		cmocka_unit_test(test_fill_read_crc),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_bin_and_writers),
	};
	return cmocka_run_group_tests_name("image_core", tests, NULL, NULL);
}
