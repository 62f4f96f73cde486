/*
 * The records' values: the --since time, a UID's one spelling and the SHA-256 of an image. Plain
 * text and hashing with no log open, so the CLI's filters and the station's records share them.
 */
#include "store/store_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


bool store_parse_since(const char *s, char *buf, size_t cap)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	size_t len = strlen(s);
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return false;
	if (len > 10) {
		int n2 = 0;
		if ((s[10] != 'T' && s[10] != ' ') ||
		    (sscanf(s + 11, "%2d:%2d%n", &h, &mi, &n2) != 2 || n2 != 5))
			return false;
		const char *rest = s + 16;
		if (*rest == ':') {
			int n3 = 0;
			if (sscanf(rest + 1, "%2d%n", &sec, &n3) != 1 || n3 != 2)
				return false;
			rest += 3;
		}
		if (*rest == 'Z')
			rest++;
		if (*rest)
			return false;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || h < 0 || mi < 0 || sec < 0)
		return false;
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, sec);
	return true;
}

bool store_uid_normalise(const char *in, char out[25])
{
	size_t k = 0;
	for (const char *p = in; *p; p++) {
		if (*p == ' ')
			continue;
		if (!isxdigit((unsigned char)*p) || k == 24)
			return false;
		out[k++] = (char)toupper((unsigned char)*p);
	}
	out[k] = '\0';
	return k == 24;
}

void store_sha256_buf(const void *buf, size_t len, char hex[65])
{
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, len, buf);
	uint8_t md[SHA256_DIGEST_SIZE];
	sha256_digest(&ctx, sizeof md, md);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

int store_sha256_file(const char *path, char hex[65], uint64_t *bytes, struct err *e)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(e, STM32DFU_E_FILE_IO, "%s: %s", path, strerror(errno));
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	unsigned char buf[65536];
	size_t n;
	uint64_t total = 0;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		sha256_update(&ctx, n, buf);
		total += n;
	}
	int bad = ferror(f);
	fclose(f);
	uint8_t md[SHA256_DIGEST_SIZE];
	sha256_digest(&ctx, sizeof md, md);
	if (bad)
		return err_set(e, STM32DFU_E_FILE_IO, "%s: read error", path);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (bytes)
		*bytes = total;
	return 0;
}
