/*
 * Where a firmware file's data lies, found without loading it (issue 24 item 13): a raw binary from
 * its size, a DfuSe file from its element headers, Intel HEX and S-record by streaming the records
 * through a small buffer. So a file that cannot fit the device (a 200 MB binary, a HEX whose
 * addresses are out of range) is refused before it is read into memory or the device is touched.
 *
 * The probe never reports an error of its own: when it cannot tell cheaply (ELF, a plain DFU payload,
 * a malformed record, more ranges than it keeps), `known` is false and the full parse, which explains
 * the problem precisely, decides as before.
 */
#ifndef IMAGE_PROBE_H
#define IMAGE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/image.h"

#define IMG_EXTENT_MAX 64
/* Files smaller than this are loaded first, as always: loading them costs less than opening the
 * device, and the checks after the load name the memory more precisely (RAM, system memory, the
 * flash-size register's end). Larger than any STM32 memory's Intel HEX (2 MiB of flash: 5.7 MB). */
#define IMG_PROBE_MIN_SIZE ((uint64_t)16 << 20)

struct img_range {
	uint8_t alt;          /* DfuSe target's alt setting; 0 for every other format */
	uint32_t lo;
	uint64_t end;         /* exclusive */
};

struct img_extent {
	bool known;
	enum img_format format;
	uint64_t file_size;
	uint64_t bytes;       /* data bytes (overlaps counted once per record) */
	size_t n;
	struct img_range r[IMG_EXTENT_MAX];   /* sorted by (alt, lo), disjoint, not adjacent */
};

/* Streaming scanner of Intel HEX or S-record text, fed in pieces of any size (the fuzzable part). */
struct img_scan {
	enum img_format format;   /* IMG_FMT_IHEX or IMG_FMT_SREC */
	struct img_extent *x;
	char line[600];           /* the record being read (a record is at most 1 + 2 + 510 + ... chars) */
	size_t len;
	uint32_t base;            /* HEX: the extended segment/linear address */
	bool done;                /* end record seen, or the scan gave up (x->known false) */
};
void img_scan_init(struct img_scan *s, enum img_format f, struct img_extent *x);
/* Feeds the next piece of the file; final after the last one. */
void img_scan_feed(struct img_scan *s, const uint8_t *buf, size_t len, bool final);

/* Adds [lo, end) in alt to x, merging; false (and x->known = false) when x is full. */
bool img_extent_add(struct img_extent *x, uint8_t alt, uint32_t lo, uint64_t end);

/* Probes path with the load options the full load will use (format, base). Never fails. */
void img_probe_file(const char *path, const struct img_load_opts *o, struct img_extent *x);

#endif
