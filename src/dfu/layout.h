/*
 * The DfuSe memory-layout string (the iInterface string of each alternate setting, ST UM0424
 * §4.3.2; protocol.md §2.8):
 *
 *     @Name/0xADDR/N*SIZE[unit]type[,N*SIZE[unit]type...][/0xADDR/...]
 *
 * unit is K (KiB), M (MiB), B or a space (bytes) or absent (bytes); type is a letter a..g whose
 * value (letter - 'a' + 1) is a bitmask of DFUSE_MEM_READABLE/ERASABLE/WRITABLE.
 *
 * Accepted variants (all seen on real ROMs, see shared/data/README.md): counts and sizes of any
 * width with leading zeros (0128*0002Kg), no unit (1536*128g, 01*528e), a space unit (01*032 e),
 * several spaces before the type, names padded with spaces (trimmed here), several regions in one
 * string. Decision on trailing garbage: after a complete sector group, anything that is not ','
 * or "/0x" ends the parse; the layout is kept, trailing_at records where the garbage starts and
 * a warning is logged (forum copies and some ROMs append junk; rejecting them would lock users
 * out of a working chip). Anything malformed before that point is an error naming the offset, and
 * so is a map no device has: more than LAYOUT_MAX_SECTORS sectors, a region past 4 GiB, or two
 * regions that overlap.
 * Quirk (dfu-util dfuse_mem.c): a region named "Device Feature" is readable and writable.
 */
#ifndef DFU_LAYOUT_H
#define DFU_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* a layout name is part of one string descriptor (TP_STRING_MAX in usb/transport.h): never cut */
#define LAYOUT_NAME_MAX 384
#define LAYOUT_MAX_REGIONS 8
#define LAYOUT_MAX_GROUPS 16
/* sectors in one string, all regions: real ROMs list at most 1536 (L0, 128-byte pages; the
 * listings in shared/data); a string naming more is refused (a 2^30-sector one made the write
 * path allocate 12 GiB) */
#define LAYOUT_MAX_SECTORS 65536
#define LAYOUT_MAX_SECTORS_TEXT "65536"

/* count sectors of size bytes each, all of one type */
struct layout_group {
	uint32_t count;
	uint32_t size;
	uint8_t type; /* DFUSE_MEM_* bits */
};

struct layout_region {
	uint32_t start;
	uint64_t length; /* sum of count * size; start + length <= 2^32 */
	unsigned n_groups;
	struct layout_group groups[LAYOUT_MAX_GROUPS];
};

struct layout {
	char name[LAYOUT_NAME_MAX]; /* trimmed */
	unsigned n_regions;
	struct layout_region regions[LAYOUT_MAX_REGIONS];
	size_t trailing_at; /* offset of ignored trailing garbage, 0 when none */
	bool quirk_device_feature;
};

/* A sector found by address. */
struct layout_sector {
	unsigned region;
	unsigned index;  /* sector number within the region, counting across groups */
	uint32_t start;
	uint32_t size;
	uint8_t type;
};

/* Parses s[0..n) (NUL ends it early). 0, or STM32DFU_E_PROTOCOL with "layout: ... at offset N". */
int layout_parse(const char *s, size_t n, struct layout *out, struct err *e);

/* Bytes described by all regions. */
uint64_t layout_total_size(const struct layout *l);
/* The sector containing addr; false when addr is in no region. */
bool layout_find(const struct layout *l, uint32_t addr, struct layout_sector *out);
/* The i-th sector of a region (i counted across groups); false past the end. */
bool layout_sector_at(const struct layout *l, unsigned region, unsigned i, struct layout_sector *out);

#endif
