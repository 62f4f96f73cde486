/* Unit tests of src/image: the real files of ../shared/data/firmware, round trips, core ops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image/image.h"
#include "test_image_util.h"

#define FW SHARED_DATA_DIR "/firmware/"

uint8_t *tu_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t *buf = NULL;
	size_t cap = 0;
	*len = 0;
	for (;;) {
		if (*len == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t got = fread(buf + *len, 1, cap - *len, f);
		if (!got)
			break;
		*len += got;
	}
	fclose(f);
	return buf;
}

struct img *tu_parse_ok(const void *buf, size_t len, const char *name,
			const struct img_load_opts *o)
{
	struct img *img = NULL;
	struct err e;
	err_clear(&e);
	int rc = img_parse(buf, len, name, o, &img, &e);
	if (rc)
		fail_msg("%s: unexpected error %d: %s", name, rc, e.msg);
	return img;
}

int tu_parse_err(const void *buf, size_t len, const char *name, const struct img_load_opts *o,
		 const char *want_in_msg)
{
	struct img *img = NULL;
	struct err e;
	err_clear(&e);
	int rc = img_parse(buf, len, name, o, &img, &e);
	if (rc == 0)
		fail_msg("%s: parsed, expected an error containing \"%s\"", name, want_in_msg);
	assert_null(img);
	if (want_in_msg && !strstr(e.msg, want_in_msg))
		fail_msg("%s: error \"%s\" lacks \"%s\"", name, e.msg, want_in_msg);
	return rc;
}

static struct img *load(const char *path)
{
	struct img *img = NULL;
	struct err e;
	err_clear(&e);
	if (img_load_file(path, NULL, &img, &e))
		fail_msg("%s: %s", path, e.msg);
	return img;
}

static uint8_t *serialize(const struct img *img, enum img_format f, uint8_t fill, size_t *len)
{
	struct img_save_opts o;
	img_save_opts_init(&o);
	o.format = f;
	o.fill = fill;
	uint8_t *out = NULL;
	struct err e;
	err_clear(&e);
	if (img_serialize(img, &o, &out, len, &e))
		fail_msg("serialize %s: %s", img_format_name(f), e.msg);
	return out;
}

static void test_vrbrain_dfu(void **state)
{
	(void)state;
	size_t len;
	uint8_t *file = tu_slurp(FW "fwupd_dev_VRBRAIN.dfu", &len);
	struct img *img = tu_parse_ok(file, len, "fwupd_dev_VRBRAIN.dfu", NULL);
	assert_int_equal(img->format, IMG_FMT_DFUSE);
	assert_int_equal(img->dfuse_version, 1);
	assert_int_equal(img->n_targets, 1);
	assert_int_equal(img->targets[0].alt, 0);
	assert_int_equal(img->targets[0].n_elements, 2);
	assert_int_equal(img->targets[0].elements[0].addr, 0x08000000);
	assert_int_equal(img->targets[0].elements[0].size, 91857);
	assert_int_equal(img->targets[0].elements[1].addr, 0x080166D4);
	assert_int_equal(img->targets[0].elements[1].size, 516);
	assert_int_equal(img->targets[0].size, 92389);
	assert_int_equal(img->n_segs, 2);
	assert_int_equal(img_total_bytes(img), 0x168D5);
	assert_true(img->suffix.present);
	assert_int_equal(img->suffix.bcd_dfu, 0x011A);
	assert_int_equal(img->suffix.vid, 0x0483);
	assert_int_equal(img->suffix.length, 16);
	assert_true(img->suffix.crc_valid);
	assert_int_equal(img->suffix.pid, 0x0000); /* not a wildcard: only PID 0 matches */
	assert_true(img_suffix_matches(img, 0x0483, 0x0000));
	assert_false(img_suffix_matches(img, 0x0483, 0xDF11));
	assert_false(img_suffix_matches(img, 0x1234, 0x0000));

	/* byte-exact round trip, including the garbage after the target name's NUL */
	size_t olen;
	uint8_t *out = serialize(img, IMG_FMT_DFUSE, 0xFF, &olen);
	assert_int_equal(olen, len);
	assert_memory_equal(out, file, len);
	free(out);
	img_free(img);
	free(file);
}

static void test_fwupd_dfuse(void **state)
{
	(void)state;
	struct img *img = load(FW "fwupd_firmware.dfuse");
	assert_int_equal(img->format, IMG_FMT_DFUSE);
	assert_int_equal(img->n_targets, 2);
	assert_int_equal(img->targets[0].alt, 0);
	assert_int_equal(img->targets[1].alt, 0);
	assert_string_equal(img->targets[0].name, "one");
	assert_string_equal(img->targets[1].name, "two");
	assert_int_equal(img->targets[0].n_elements, 2);
	assert_int_equal(img->targets[0].elements[0].addr, 0x08001234);
	assert_int_equal(img->targets[0].elements[0].size, 11);
	assert_int_equal(img->targets[0].elements[1].addr, 0x08005678);
	assert_int_equal(img->targets[0].elements[1].size, 11);
	assert_int_equal(img->targets[0].size, 38);
	assert_int_equal(img->targets[1].n_elements, 1);
	assert_int_equal(img->targets[1].elements[0].addr, 0x08000000);
	assert_int_equal(img->targets[1].elements[0].size, 11);
	assert_int_equal(img->suffix.vid, 0x1234);
	assert_int_equal(img->suffix.pid, 0x5678);
	assert_int_equal(img->suffix.bcd_device, 0x8642);
	assert_true(img->suffix.crc_valid);
	/* both targets are alt 0: one address space, three segments */
	assert_int_equal(img->n_segs, 3);
	assert_int_equal(img->segs[0].addr, 0x08000000);
	assert_true(img_suffix_matches(img, 0x1234, 0x5678));
	assert_false(img_suffix_matches(img, 0x0483, 0xDF11));

	/* written back as one target per alt setting: same data, same suffix ids */
	size_t olen;
	uint8_t *out = serialize(img, IMG_FMT_DFUSE, 0xFF, &olen);
	struct img *back = tu_parse_ok(out, olen, "rewritten.dfu", NULL);
	assert_int_equal(back->n_targets, 1);
	assert_string_equal(back->targets[0].name, "one");
	assert_int_equal(back->n_segs, 3);
	assert_int_equal(img_crc32(back), img_crc32(img));
	assert_int_equal(back->suffix.pid, 0x5678);
	assert_int_equal(back->suffix.bcd_device, 0x8642);
	img_free(back);
	free(out);
	img_free(img);
}

static void test_fwupd_hex_to_bin(void **state)
{
	(void)state;
	size_t blen;
	uint8_t *bin = tu_slurp(FW "fwupd_firmware.bin", &blen);
	assert_int_equal(blen, 136);
	struct img *img = load(FW "fwupd_firmware.hex");
	assert_int_equal(img->format, IMG_FMT_IHEX);
	uint32_t lo;
	uint64_t end;
	assert_true(img_span(img, &lo, &end));
	assert_int_equal(lo, 0x4000);
	assert_int_equal(end - lo, 136);
	size_t olen;
	uint8_t *out = serialize(img, IMG_FMT_BIN, 0x00, &olen);
	assert_int_equal(olen, blen);
	assert_memory_equal(out, bin, blen);
	free(out);
	/* the CRC of the range as a device reads it back, with the same fill */
	assert_int_equal(img_crc32_range(img, 0, 0x4000, 136, 0x00), tu_crc32(bin, blen));
	img_free(img);
	free(bin);
}

static void check_contiguous(const char *path, enum img_format f, uint32_t addr, size_t len,
			     uint32_t entry)
{
	struct img *img = load(path);
	assert_int_equal(img->format, f);
	assert_int_equal(img->n_segs, 1);
	assert_int_equal(img->segs[0].addr, addr);
	assert_int_equal(img->segs[0].len, len);
	assert_true(img->has_entry);
	assert_int_equal(img->entry, entry);
	/* round trip through every text format and back to the same bytes and entry */
	enum img_format fmts[] = {IMG_FMT_IHEX, IMG_FMT_SREC, IMG_FMT_DFUSE};
	for (size_t i = 0; i < 3; i++) {
		size_t olen;
		uint8_t *out = serialize(img, fmts[i], 0xFF, &olen);
		struct img *back = tu_parse_ok(out, olen, "roundtrip", NULL);
		assert_int_equal(back->n_segs, 1);
		assert_int_equal(back->segs[0].addr, addr);
		assert_int_equal(back->segs[0].len, len);
		assert_memory_equal(back->segs[0].data, img->segs[0].data, len);
		if (fmts[i] != IMG_FMT_DFUSE)
			assert_int_equal(back->entry, entry);
		img_free(back);
		free(out);
	}
	img_free(img);
}

static void test_openblt_srec(void **state)
{
	(void)state;
	check_contiguous(FW "openblt_demoprog_stm32f746.srec", IMG_FMT_SREC, 0x08008000, 8600,
			 0x0800828D);
	check_contiguous(FW "openblt_demoprog_stm32f767.srec", IMG_FMT_SREC, 0x08008000, 18692,
			 0x080082BD);
}

static void test_fysetc_hex(void **state)
{
	(void)state;
	check_contiguous(FW "fysetc-spider_Bootloader_FYSETC_SPIDER@41821e4.hex", IMG_FMT_IHEX,
			 0x08000000, 20260, 0x080001C5);
}

static void test_kiibohd_plain_dfu(void **state)
{
	(void)state;
	size_t len;
	uint8_t *file = tu_slurp(FW "fwupd_kiibohd.dfu.bin", &len);
	/* the name says .bin, the content says DFU: content wins */
	assert_int_equal(img_detect(file, len, "fwupd_kiibohd.dfu.bin"), IMG_FMT_DFU);
	struct img *img = tu_parse_ok(file, len, "fwupd_kiibohd.dfu.bin", NULL);
	assert_int_equal(img->format, IMG_FMT_DFU);
	assert_true(img->addressless);
	assert_int_equal(img->suffix.vid, 0x1C11);
	assert_int_equal(img->suffix.pid, 0xB007);
	assert_int_equal(img->suffix.bcd_device, 0xFFFF);
	assert_int_equal(img->suffix.bcd_dfu, 0x0100);
	assert_true(img->suffix.crc_valid);
	assert_int_equal(img_total_bytes(img), 0x8EB4);
	size_t olen;
	uint8_t *out = serialize(img, IMG_FMT_DFU, 0xFF, &olen);
	assert_int_equal(olen, len);
	assert_memory_equal(out, file, len);
	free(out);
	img_free(img);
	free(file);
}

static void test_metadata_long_suffix(void **state)
{
	(void)state;
	struct img *img = load(FW "fwupd_metadata.dfu");
	assert_int_equal(img->format, IMG_FMT_DFU);
	assert_int_equal(img->suffix.length, 29);
	assert_true(img->suffix.crc_valid);
	assert_int_equal(img_total_bytes(img), 6);
	assert_memory_equal(img->segs[0].data, "amalia", 6);
	img_free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vrbrain_dfu),
		cmocka_unit_test(test_fwupd_dfuse),
		cmocka_unit_test(test_fwupd_hex_to_bin),
		cmocka_unit_test(test_openblt_srec),
		cmocka_unit_test(test_fysetc_hex),
		cmocka_unit_test(test_kiibohd_plain_dfu),
		cmocka_unit_test(test_metadata_long_suffix),
	};
	int failed = cmocka_run_group_tests_name("image_files", tests, NULL, NULL);
	return failed | tu_run_core_tests() | tu_run_malformed_tests();
}
