/*
 * A chip's memories as data, whichever link described them (design.md: chip/ is data, no I/O).
 * A memory is regions of sector groups, each group count x size bytes with what may be done to
 * it. Over USB the DfuSe alt strings describe them (dfu/layout.c parses UM0424's notation into
 * these types); over USART the family table does (chip/memmap.c, through target/). ops/ plans,
 * checks ranges and names memories from this map alone, the same way on both links.
 */
#ifndef CHIP_LAYOUT_H
#define CHIP_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a sector group allows: the bits of the DfuSe type letter (UM0424 4.3.2: letter - 'a' + 1). */
enum {
	LAYOUT_READABLE = 1,
	LAYOUT_ERASABLE = 2,
	LAYOUT_WRITABLE = 4,
};

/* a memory's name is as long as one USB string descriptor (TP_STRING_MAX in usb/transport.h):
 * never cut */
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
	uint8_t type; /* LAYOUT_READABLE | LAYOUT_ERASABLE | LAYOUT_WRITABLE */
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

/* Bytes described by all regions. */
uint64_t layout_total_size(const struct layout *l);
/* The sector containing addr; false when addr is in no region. */
bool layout_find(const struct layout *l, uint32_t addr, struct layout_sector *out);
/* The i-th sector of a region (i counted across groups); false past the end. */
bool layout_sector_at(const struct layout *l, unsigned region, unsigned i, struct layout_sector *out);

/* Memories one map holds: a DfuSe interface's alt settings past this are counted, not kept
 * (DFU_MAX_ALTS, dfu/funcdesc.h). */
#define LAYOUT_MAP_MAX 32
#define LAYOUT_ERROR_MAX 128

/* One memory of a chip's map, numbered as the user names it (--alt N): the DfuSe alt setting
 * over USB, its place in the map over USART. */
struct layout_mem {
	uint8_t alt;                /* its number */
	uint8_t iInterface;         /* DfuSe: the index of the string that described it; else 0 */
	char name[LAYOUT_NAME_MAX]; /* the description as the link gave it, in UM0424's notation
	                             * ("@Internal Flash  /0x08000000/04*032Kg,..."; over USART made
	                             * from the family table in the same notation) */
	bool have_layout;           /* the description parsed as a memory layout */
	struct layout layout;
	char layout_error[LAYOUT_ERROR_MAX]; /* why not, when it looked like one ('@...') */
	bool name_cut;              /* the ROM sent fewer bytes than the string's bLength (F42x) */
};

/* A session's memories, in the link's order (the DfuSe alt settings; over USART flash first). */
struct layout_map {
	unsigned n;
	struct layout_mem mem[LAYOUT_MAP_MAX];
};

/* The first memory whose layout name starts with prefix ("Internal Flash"), or NULL. */
const struct layout_mem *layout_map_find(const struct layout_map *m, const char *prefix);

#endif
