/*
 * Shared body of the image fuzz targets: parse the input as one format; when it parses, write it
 * in every format and read it back, which must give the same data (a round-trip invariant, so
 * the fuzzer also finds writer bugs). abort() marks a violated invariant.
 */
#ifndef FUZZ_IMAGE_COMMON_H
#define FUZZ_IMAGE_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_round_trip(const struct img *img)
{
	static const enum img_format out[] = {IMG_FMT_IHEX, IMG_FMT_SREC, IMG_FMT_DFUSE, IMG_FMT_BIN};
	for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) {
		struct img_save_opts so;
		img_save_opts_init(&so);
		so.format = out[i];
		so.max_bin_span = 1u << 20; /* keep the fuzzer fast */
		uint8_t *buf;
		size_t len;
		struct err e;
		if (img_serialize(img, &so, &buf, &len, &e) != 0)
			continue; /* e.g. several alt settings in a .hex, or a sparse .bin */
		struct img_load_opts lo;
		img_load_opts_init(&lo);
		lo.format = out[i];
		lo.has_base = true;
		lo.base = img->n_segs ? img->segs[0].addr : 0;
		struct img *back = NULL;
		if (img_parse(buf, len, "fuzz", &lo, &back, &e) != 0)
			abort(); /* we cannot read what we wrote */
		if (out[i] != IMG_FMT_BIN &&
		    (img_crc32(back) != img_crc32(img) || img_total_bytes(back) != img_total_bytes(img)))
			abort();
		img_free(back);
		free(buf);
	}
}

static int fuzz_one(const uint8_t *data, size_t size, enum img_format f)
{
	struct img_load_opts lo;
	img_load_opts_init(&lo);
	lo.format = f;
	lo.has_base = true;
	lo.base = 0x08000000;
	lo.allow_bad_crc = size > 0 && (data[0] & 1); /* reach the DfuSe parser past the CRC */
	struct img *img = NULL;
	struct err e;
	if (img_parse(data, size, "fuzz", &lo, &img, &e) == 0) {
		if (img->n_segs)
			fuzz_round_trip(img);
		img_free(img);
	} else if (e.msg[0] == '\0') {
		abort(); /* every failure must say what went wrong */
	}
	return 0;
}

#endif
