/* CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320), the zlib value. */
#ifndef CORE_CRC32_H
#define CORE_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* crc32_update(0, p, n) is zlib's crc32(0, p, n); chain calls to cover several buffers. */
uint32_t crc32_update(uint32_t crc, const void *p, size_t n);

/* The DFU suffix CRC (dfu-util dfu_file.c): the same register with no final XOR, i.e. ~crc32. */
static inline uint32_t crc32_dfu(const void *p, size_t n)
{
	return ~crc32_update(0, p, n);
}

#endif
