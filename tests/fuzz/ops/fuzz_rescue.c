/*
 * Fuzz: the recovery-file parser (rescue_load) over arbitrary files. The input is the file without
 * its last line; the harness appends the right "sha256 ..." line, so that the header, range, sector
 * and data parsing behind the checksum is reached (a file with a wrong checksum stops at it).
 */
#define _POSIX_C_SOURCE 200809L
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/rescue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "%s/fuzz-rescue.XXXXXX", "/tmp");
		if (!mkdtemp(dir))
			return 0;
	}
	static const char key[] = "serial-FFFFFFFEFFFF";
	char path[128];
	snprintf(path, sizeof path, "%s/%s.recovery", dir, key);
	uint8_t d[32];
	struct sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, size, data);
	sha256_digest(&c, sizeof d, d);
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fputs("sha256 ", f);
	for (int i = 0; i < 32; i++)
		fprintf(f, "%02x", d[i]);
	fputc('\n', f);
	fclose(f);
	struct rescue r;
	struct err e;
	err_clear(&e);
	if (rescue_load(dir, key, &r, &e) == 0) {
		uint32_t at;
		for (size_t i = 0; i < r.n; i++)
			(void)rescue_consistent(&r, &r.sectors[i], r.sectors[i].data, &at);
		(void)rescue_erases(&r, 0x08000000, 1024);
		rescue_free(&r);
	}
	unlink(path);
	return 0;
}
