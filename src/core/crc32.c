#include "core/crc32.h"

#include <pthread.h>

/* Slicing-by-4 tables, built once (pthread_once: threads of a library caller never race to build
 * them, which ThreadSanitizer rightly called a data race); the CRC is on the hot path of verify and
 * file conversion. */
static uint32_t crc_table[4][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 4; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
}

uint32_t crc32_update(uint32_t crc, const void *p, size_t n)
{
	pthread_once(&crc_once, crc_init);
	const uint8_t *b = p;
	uint32_t c = ~crc;
	while (n >= 4) {
		c ^= (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
		c = crc_table[3][c & 0xFF] ^ crc_table[2][(c >> 8) & 0xFF] ^ crc_table[1][(c >> 16) & 0xFF] ^
		    crc_table[0][c >> 24];
		b += 4;
		n -= 4;
	}
	while (n--)
		c = crc_table[0][(c ^ *b++) & 0xFF] ^ (c >> 8);
	return ~c;
}
