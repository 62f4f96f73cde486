/*
 * Malformed twins: each reader gets a broken variant of a good file and must fail with a precise
 * message, never crash. Then every truncation and many corruptions of the real files, which the
 * sanitizer build checks for over-reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/rd.h"
#include "test_image_util.h"

#define FW SHARED_DATA_DIR "/firmware/"

static int parse_err(const char *text, const char *name, const char *want)
{
	return tu_parse_err(text, strlen(text), name, NULL, want);
}

static void test_ihex_errors(void **state)
{
	(void)state;
	/* good: :04 0000 00 01020304 F2 */
	struct img *img = tu_parse_ok(":0400000001020304F2\n:00000001FF\n", 31, "ok.hex", NULL);
	img_free(img);
	assert_int_equal(parse_err(":0400000001020304F3\n:00000001FF\n", "fw.hex",
				   "fw.hex line 1: checksum 0xF3, expected 0xF2 (file corrupt?)"),
			 STM32DFU_E_FILE_FORMAT);
	img = tu_parse_ok(":00000001FF\n", 12, "empty.hex", NULL);
	assert_int_equal(img->n_segs, 0);
	img_free(img);
	parse_err(":0400000001020304F2\n:040004000102\n:00000001FF\n", "t.hex",
		  "t.hex line 2: record truncated: 12 hex digits, expected 18");
	parse_err(":0400000001020304F2\n", "noeof.hex", "without an end-of-file record");
	parse_err(":0400000001020304F2\n:0400000001020305F1\n:00000001FF\n", "ov.hex",
		  "overlapping data differs at 0x00000003");
	parse_err(":0400000001020304F2XX\n:00000001FF\n", "x.hex", "goes on past the 18 hex digits");
	parse_err(":0400000001020304F2\nhello\n", "g.hex", "line 2: expected ':'");
	parse_err(":04000000010Z0304F2\n", "z.hex", "line 1 column 13: 'Z' is not a hex digit");
	parse_err(":0400000601020304EC\n:00000001FF\n", "ty.hex", "record type 0x06");
	parse_err(":03000004080000F1\n:00000001FF\n", "len.hex",
		  "record type 04 with 3 data bytes, expected 2");
	/* data that runs past 4 GiB: ULBA FFFF, offset FFFF, 4 bytes */
	parse_err(":02000004FFFFFC\n:04FFFF0001020304F4\n:00000001FF\n", "big.hex",
		  "run past 4 GiB");
	/* an identical overlap is accepted */
	img = tu_parse_ok(":0400000001020304F2\n:0400000001020304F2\n:00000001FF\n", 51, "same.hex",
			  NULL);
	assert_int_equal(img_total_bytes(img), 4);
	img_free(img);
	/* type 02 segments and 03 start address: 0x1000:0x0010 */
	img = tu_parse_ok(":020000021000EC\r\n:0100100042AD\r\n:0400000310000010D9\r\n:00000001FF\r\n", 66,
			  "seg.hex", NULL);
	assert_int_equal(img->segs[0].addr, 0x10010);
	assert_int_equal(img->entry, 0x10010);
	img_free(img);
}

static void test_srec_errors(void **state)
{
	(void)state;
	/* good: S1 07 0000 01020304 EE, S9 03 0000 FC */
	struct img *img = tu_parse_ok("S107000001020304EE\nS9030000FC\n", 30, "ok.srec", NULL);
	assert_int_equal(img_total_bytes(img), 4);
	img_free(img);
	parse_err("S107000001020304EF\nS9030000FC\n", "fw.srec",
		  "fw.srec line 1: checksum 0xEF, expected 0xEE (file corrupt?)");
	parse_err("S107000001020304EE\nS9030000\n", "t.srec",
		  "line 2: record truncated: 4 hex digits after the count, expected 6");
	parse_err("S107000001020304EE\n", "noend.srec", "without a termination record");
	parse_err("S107000001020304EE\nS5030002FA\nS9030000FC\n", "cnt.srec",
		  "S5 says 2 data records, the file has 1");
	parse_err("S4030000FC\n", "s4.srec", "S4 is a reserved");
	parse_err("S3030000FC\n", "short.srec", "byte count 3, expected at least 5");
	parse_err("S107000001020304EE\nS107000201020304EC\nS9030000FC\n", "ov.srec",
		  "overlapping data differs");
	parse_err("S309FFFFFFFE01020304F1\nS70500000000FA\n", "big.srec", "run past 4 GiB");
}

/* A minimal ELF32 LE header with one program header, for twins. */
static size_t make_elf(uint8_t *b, uint32_t phnum, uint32_t off, uint32_t filesz, uint32_t memsz)
{
	memset(b, 0, 128);
	memcpy(b, "\x7f" "ELF\1\1\1", 7);
	put_le16(b + 16, 2);      /* ET_EXEC */
	put_le16(b + 18, 40);     /* EM_ARM */
	put_le32(b + 20, 1);
	put_le32(b + 24, 0x08000101); /* entry */
	put_le32(b + 28, 52);     /* phoff */
	put_le16(b + 40, 52);
	put_le16(b + 42, 32);
	put_le16(b + 44, (uint16_t)phnum);
	uint8_t *ph = b + 52;
	put_le32(ph, 1);          /* PT_LOAD */
	put_le32(ph + 4, off);
	put_le32(ph + 8, 0x20000000);  /* vaddr: RAM */
	put_le32(ph + 12, 0x08000000); /* paddr: flash, where the data goes */
	put_le32(ph + 16, filesz);
	put_le32(ph + 20, memsz);
	memcpy(b + 84, "DATA", 4);
	return 88;
}

static void test_elf_errors(void **state)
{
	(void)state;
	uint8_t b[128];
	size_t n = make_elf(b, 1, 84, 4, 8);
	struct img *img = tu_parse_ok(b, n, "ok.elf", NULL);
	assert_int_equal(img->format, IMG_FMT_ELF);
	assert_int_equal(img->segs[0].addr, 0x08000000); /* p_paddr, not p_vaddr */
	assert_int_equal(img->segs[0].len, 4);           /* not the bss part */
	assert_int_equal(img->entry, 0x08000101);
	img_free(img);
	n = make_elf(b, 1, 84, 0xFFFFFFF0, 0xFFFFFFF0);
	tu_parse_err(b, n, "huge.elf", NULL, "run past the end of the file");
	n = make_elf(b, 1, 0xFFFFFFFF, 4, 4);
	tu_parse_err(b, n, "off.elf", NULL, "file offset 0xFFFFFFFF");
	n = make_elf(b, 0xFFFF, 84, 4, 4);
	tu_parse_err(b, n, "phnum.elf", NULL, "program header table at 0x34 (65535 entries)");
	n = make_elf(b, 1, 84, 8, 4);
	tu_parse_err(b, n, "mem.elf", NULL, "p_filesz 8 larger than p_memsz 4");
	n = make_elf(b, 1, 84, 4, 4);
	b[4] = 2;
	tu_parse_err(b, n, "64.elf", NULL, "ELF class 2, expected 1");
	b[4] = 1;
	tu_parse_err(b, 40, "short.elf", NULL, "shorter than the 52-byte");
	put_le16(b + 44, 0);
	tu_parse_err(b, n, "empty.elf", NULL, "no loadable data");
}

/* Issue 26 item 5: 65,535 program headers naming one 64 KiB block made a 2.1 MB ELF load 4.2 GB.
 * No byte of the file is loaded twice: refused before anything is loaded, naming two headers. */
static void test_elf_amplification(void **state)
{
	(void)state;
	const uint32_t phnum = 0xFFFF, block = 64 * 1024, data = 52 + phnum * 32;
	size_t n = data + block;
	uint8_t *b = calloc(1, n);
	assert_non_null(b);
	make_elf(b, phnum, data, block, block);
	for (uint32_t i = 1; i < phnum; i++) {
		memcpy(b + 52 + i * 32, b + 52, 32);
		put_le32(b + 52 + i * 32 + 12, 0x08000000 + i * block); /* each elsewhere in flash */
	}
	tu_parse_err(b, n, "amp.elf", NULL, "program headers 0 and 1 load the same bytes of the file");
	/* two headers sharing only their last and first byte: still refused */
	make_elf(b, 2, data, 16, 16);
	memcpy(b + 84, b + 52, 32);
	put_le32(b + 84 + 4, data + 15);
	put_le32(b + 84 + 12, 0x08001000);
	tu_parse_err(b, n, "touch.elf", NULL, "load the same bytes");
	/* adjacent ranges are two parts of the file: fine */
	put_le32(b + 84 + 4, data + 16);
	struct img *img = tu_parse_ok(b, n, "adjacent.elf", NULL);
	assert_int_equal(img_total_bytes(img), 32);
	img_free(img);
	/* the same through section headers (no program headers) */
	memset(b, 0, 200);
	memcpy(b, "\x7f" "ELF\1\1\1", 7);
	put_le16(b + 16, 1); /* ET_REL */
	put_le32(b + 32, 52); /* shoff */
	put_le16(b + 46, 40);
	put_le16(b + 48, 3);
	for (int i = 1; i < 3; i++) {
		uint8_t *sh = b + 52 + i * 40;
		put_le32(sh + 4, 1);      /* PROGBITS */
		put_le32(sh + 8, 2);      /* ALLOC */
		put_le32(sh + 12, 0x08000000 + (uint32_t)i * 0x1000);
		put_le32(sh + 16, data);  /* both: the same bytes */
		put_le32(sh + 20, 64);
	}
	tu_parse_err(b, n, "sections.elf", NULL, "sections 1 and 2 load the same bytes of the file");
	free(b);
}

/* Issue 26 item 6: records in any order give the same image (they are added in address order;
 * the speed is in bench/hex_order.sh). Descending, shuffled, and overlapping identical records. */
static void test_record_order(void **state)
{
	(void)state;
	enum { N = 2048 };
	char *asc = malloc(N * 48 + 64), *desc = malloc(N * 48 + 64), *srec = malloc(N * 48 + 64);
	assert_non_null(asc);
	assert_non_null(desc);
	assert_non_null(srec);
	size_t a = 0, d = 0, s = 0;
	for (int i = 0; i < N; i++) {
		uint16_t addr = (uint16_t)(i * 16);
		uint8_t sum = (uint8_t)(16 + (addr >> 8) + (addr & 0xFF));
		char rec[64];
		int k = snprintf(rec, sizeof rec, ":10%04X00", addr);
		for (int j = 0; j < 16; j++) {
			uint8_t v = (uint8_t)(i * 7 + j);
			k += snprintf(rec + k, sizeof rec - (size_t)k, "%02X", v);
			sum = (uint8_t)(sum + v);
		}
		snprintf(rec + k, sizeof rec - (size_t)k, "%02X\n", (uint8_t)-sum);
		a += (size_t)sprintf(asc + a, "%s", rec);
		/* S1: count, 16-bit address, data, ones' complement of the sum */
		uint8_t ss = (uint8_t)(19 + (addr >> 8) + (addr & 0xFF));
		int m = sprintf(srec + s, "S113%04X", addr);
		for (int j = 0; j < 16; j++) {
			uint8_t v = (uint8_t)(i * 7 + j);
			m += sprintf(srec + s + m, "%02X", v);
			ss = (uint8_t)(ss + v);
		}
		m += sprintf(srec + s + m, "%02X\n", (uint8_t)~ss);
		s += (size_t)m;
	}
	/* descending: the same lines, last first, with one record repeated (identical overlap) */
	for (int i = N - 1; i >= 0; i--) {
		const char *line = asc + (size_t)i * 44;
		d += (size_t)sprintf(desc + d, "%.44s", line);
		if (i == N / 2)
			d += (size_t)sprintf(desc + d, "%.44s", line);
	}
	a += (size_t)sprintf(asc + a, ":00000001FF\n");
	d += (size_t)sprintf(desc + d, ":00000001FF\n");
	struct img *x = tu_parse_ok(asc, a, "asc.hex", NULL), *y = tu_parse_ok(desc, d, "desc.hex", NULL);
	assert_int_equal(x->n_segs, 1);
	assert_int_equal(y->n_segs, 1);
	assert_int_equal(y->segs[0].len, N * 16);
	assert_memory_equal(x->segs[0].data, y->segs[0].data, N * 16);
	/* S-records in reverse order: the same bytes */
	char *rev = malloc(s + 32);
	assert_non_null(rev);
	size_t r = 0;
	for (int i = N - 1; i >= 0; i--)
		r += (size_t)sprintf(rev + r, "%.43s", srec + (size_t)i * 43);
	r += (size_t)sprintf(rev + r, "S9030000FC\n");
	struct img *z = tu_parse_ok(rev, r, "desc.srec", NULL);
	assert_int_equal(z->n_segs, 1);
	assert_memory_equal(x->segs[0].data, z->segs[0].data, N * 16);
	img_free(x);
	img_free(y);
	img_free(z);
	/* a differing overlap is still named by a line: records go in address order, so the one
	 * found to differ is line 1 (0x0010), which line 3 (0x000E) overlaps */
	parse_err(":0400100001020304E2\n:0400000005060708E2\n:04000E00AABBCCDDE0\n:00000001FF\n", "o.hex",
	          "o.hex line 1: overlapping data differs at 0x00000010");
	free(asc);
	free(desc);
	free(srec);
	free(rev);
}

/* Rewrites the suffix CRC after an edit, so a twin tests the field and not the CRC. */
static void fix_crc(uint8_t *p, size_t n)
{
	put_le32(p + n - 4, ~tu_crc32(p, n - 4));
}

static void test_dfu_errors(void **state)
{
	(void)state;
	size_t len;
	uint8_t *file = tu_slurp(FW "fwupd_firmware.dfuse", &len);
	uint8_t *t = malloc(len);
	struct img_load_opts lo;
	img_load_opts_init(&lo);

	memcpy(t, file, len);
	t[300] ^= 1; /* a data byte: only the CRC notices */
	tu_parse_err(t, len, "crc.dfu", NULL, "DFU suffix CRC 0x");
	lo.allow_bad_crc = true; /* `file info` shows it instead */
	struct img *img = tu_parse_ok(t, len, "crc.dfu", &lo);
	assert_false(img->suffix.crc_valid);
	img_free(img);

	memcpy(t, file, len);
	t[len - 5] = 15;
	fix_crc(t, len);
	tu_parse_err(t, len, "blen.dfu", NULL, "DFU suffix bLength 15, expected 16 to");
	/* a bLength larger than the file: checked before it is used to find the payload */
	memcpy(t, file, 200);
	memcpy(t + 200 - 16, file + len - 16, 16);
	t[200 - 5] = 255;
	fix_crc(t, 200);
	tu_parse_err(t, 200, "blen2.dfu", NULL, "DFU suffix bLength 255, expected 16 to 200");

	/* an element size that runs past the end: first element of target 0 at 11+274 */
	memcpy(t, file, len);
	put_le32(t + 11 + 274 + 4, 0xFFFFFFF0);
	fix_crc(t, len);
	tu_parse_err(t, len, "el.dfu", NULL, "target 0 element 0 at offset 0x11D: size 4294967280");
	memcpy(t, file, len);
	put_le32(t + 11 + 270, 0x7FFFFFFF); /* dwNbElements */
	fix_crc(t, len);
	tu_parse_err(t, len, "nel.dfu", NULL, "2147483647 elements cannot fit");
	memcpy(t, file, len);
	put_le32(t + 11 + 266, 39); /* dwTargetSize */
	fix_crc(t, len);
	tu_parse_err(t, len, "tsz.dfu", NULL, "dwTargetSize 39, its elements take 38 bytes");
	memcpy(t, file, len);
	put_le32(t + 6, 1000); /* DFUImageSize */
	fix_crc(t, len);
	tu_parse_err(t, len, "isz.dfu", NULL, "the DfuSe prefix says 1000 bytes, the file has 616");
	memcpy(t, file, len);
	t[10] = 3; /* bTargets */
	fix_crc(t, len);
	tu_parse_err(t, len, "nt.dfu", NULL, "target 2 at offset 0x268: truncated");
	memcpy(t, file, len);
	t[5] = 2;
	fix_crc(t, len);
	tu_parse_err(t, len, "ver.dfu", NULL, "DfuSe version 2, expected 1");
	memcpy(t, file, len);
	memcpy(t + 11, "Tarxet", 6);
	fix_crc(t, len);
	tu_parse_err(t, len, "sig.dfu", NULL, "signature is not \"Target\"");
	/* the two targets of alt 0 overlapping with different data */
	memcpy(t, file, len);
	put_le32(t + 11 + 274 + 8 + 11, 0x08000000 + 2);
	fix_crc(t, len);
	tu_parse_err(t, len, "ovl.dfu", NULL, "target 1 (alt 0) element 0: overlapping data differs");
	tu_parse_err("hello world, no suffix", 22, "x.dfu", &(struct img_load_opts){IMG_FMT_DFU},
		     "no DFU suffix");
	free(t);
	free(file);
}

/* dfu-suffix -a style: a payload, then a standard 16-byte suffix. */
static void test_suffix_added(void **state)
{
	(void)state;
	uint8_t f[20 + 16] = "0123456789abcdefghij";
	uint8_t *s = f + 20;
	put_le16(s, 0x0200);
	put_le16(s + 2, 0xDF11);
	put_le16(s + 4, 0x0483);
	put_le16(s + 6, 0x0100);
	memcpy(s + 8, "UFD", 3);
	s[11] = 16;
	fix_crc(f, sizeof f);
	struct img_load_opts lo;
	img_load_opts_init(&lo);
	lo.has_base = true;
	lo.base = 0x08000000;
	struct img *img = tu_parse_ok(f, sizeof f, "a.dfu", &lo);
	assert_int_equal(img->format, IMG_FMT_DFU);
	assert_false(img->addressless);
	assert_int_equal(img->segs[0].addr, 0x08000000);
	assert_int_equal(img->segs[0].len, 20);
	assert_true(img_suffix_matches(img, 0x0483, 0xDF11));
	assert_false(img_suffix_matches(img, 0x0483, 0xDF12));
	img_free(img);
}

/* Every prefix and a walk of single-byte corruptions of each real file: no crash, no leak. */
static void test_mutations(void **state)
{
	(void)state;
	static const char *files[] = {
		"fwupd_dev_VRBRAIN.dfu", "fwupd_firmware.dfuse", "fwupd_firmware.hex",
		"fwupd_kiibohd.dfu.bin", "fwupd_metadata.dfu",
		"fysetc-spider_Bootloader_FYSETC_SPIDER@41821e4.hex",
		"openblt_demoprog_stm32f746.srec",
	};
	static const uint8_t flips[] = {0x00, 0xFF, 0x01, ':', 'S', '\n'};
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		char path[512];
		snprintf(path, sizeof path, FW "%s", files[f]);
		size_t len;
		uint8_t *file = tu_slurp(path, &len);
		size_t step = len / 300 + 1;
		struct img_load_opts lo;
		img_load_opts_init(&lo);
		lo.format = img_detect(file, len, files[f]);
		for (size_t cut = 0; cut < len; cut += step) {
			uint8_t *c = malloc(cut ? cut : 1);
			memcpy(c, file, cut);
			struct img *img = NULL;
			struct err e;
			err_clear(&e);
			if (img_parse(c, cut, files[f], &lo, &img, &e) == 0)
				img_free(img);
			else
				assert_true(e.msg[0] != '\0');
			free(c);
		}
		for (size_t at = 0; at < len; at += step) {
			for (size_t k = 0; k < sizeof flips; k++) {
				uint8_t saved = file[at];
				file[at] = flips[k];
				struct img *img = NULL;
				struct err e;
				err_clear(&e);
				if (img_parse(file, len, files[f], NULL, &img, &e) == 0)
					img_free(img);
				else
					assert_true(e.msg[0] != '\0');
				file[at] = saved;
			}
		}
		free(file);
	}
}

int tu_run_malformed_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ihex_errors),
		cmocka_unit_test(test_srec_errors),
		cmocka_unit_test(test_elf_errors),
		cmocka_unit_test(test_elf_amplification),
		cmocka_unit_test(test_record_order),
		cmocka_unit_test(test_dfu_errors),
		cmocka_unit_test(test_suffix_added),
		cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests_name("image_malformed", tests, NULL, NULL);
}
