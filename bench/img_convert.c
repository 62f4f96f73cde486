/*
 * img_convert IN OUT [-a BASE] [--fill BYTE] [--vid V] [--pid P] [--alt N] [--name S]
 *
 * A thin driver over img_load_file/img_save_file, for bench/hex2bin.sh and the image
 * cross-check test; the user-facing command is `stm32dfu file convert`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/image.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct img_load_opts lo;
	struct img_save_opts so;
	img_load_opts_init(&lo);
	img_save_opts_init(&so);
	const char *in = NULL, *out = NULL;
	bool timing = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-t")) {
			timing = true;
		} else if (!strcmp(a, "-a") && v) {
			lo.has_base = true;
			lo.base = (uint32_t)strtoul(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--fill") && v) {
			so.fill = (uint8_t)strtoul(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--vid") && v) {
			so.vid = (int32_t)strtol(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--pid") && v) {
			so.pid = (int32_t)strtol(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--alt") && v) {
			so.alt = (int)strtol(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--name") && v) {
			so.name = v;
			i++;
		} else if (!in) {
			in = a;
		} else if (!out) {
			out = a;
		} else {
			in = NULL;
			break;
		}
	}
	if (!in || !out) {
		fprintf(stderr, "usage: img_convert IN OUT [-t] [-a BASE] [--fill BYTE] [--vid V] "
				"[--pid P] [--alt N] [--name S]\n");
		return 64;
	}
	struct err e;
	err_clear(&e);
	struct img *img;
	double t0 = now_s();
	int rc = img_load_file(in, &lo, &img, &e);
	if (rc == 0) {
		rc = img_save_file(out, img, &so, &e);
		img_free(img);
	}
	if (rc) {
		fprintf(stderr, "img_convert: %s\n", e.msg);
		if (e.hint[0])
			fprintf(stderr, "hint: %s\n", e.hint);
		return rc == STM32DFU_E_FILE_IO ? 74 : 65;
	}
	if (timing)
		fprintf(stderr, "img_convert: %.3f s\n", now_s() - t0);
	return 0;
}
