/*
 * Firmware files <-> a sparse memory image.
 *
 * An image is a list of segments sorted by (alternate setting, address). Adjacent data merges into
 * one segment; overlapping data must agree byte for byte. Readers take (pointer, length) and never
 * trust either; writers produce a heap buffer. Only img_load_file/img_save_file (img_file.c) and
 * img_probe_file (probe.c) touch files, so the rest of the module stays free of I/O and can be fuzzed.
 *
 * Nothing here prints or exits: failures return a negative enum stm32dfu_err and fill struct err
 * with a message naming the file, the line or offset, what was found and what was expected.
 */
#ifndef IMAGE_IMAGE_H
#define IMAGE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum img_format {
	IMG_FMT_UNKNOWN = 0,
	IMG_FMT_BIN,   /* raw binary: needs a base address */
	IMG_FMT_IHEX,  /* Intel HEX, record types 00-05 */
	IMG_FMT_SREC,  /* Motorola S-record, S0-S3, S5-S9 */
	IMG_FMT_ELF,   /* ELF32 little-endian (read only) */
	IMG_FMT_DFUSE, /* ST DfuSe .dfu: prefix, targets, elements, suffix */
	IMG_FMT_DFU,   /* plain DFU 1.0/1.1: payload + suffix, no addresses */
};

/* "bin", "ihex", "srec", "elf", "dfuse", "dfu" or "unknown" */
const char *img_format_name(enum img_format f);

struct img_seg {
	uint32_t addr;
	uint8_t alt;   /* DfuSe alternate setting (0 for every other format) */
	size_t len;
	size_t cap;    /* allocated bytes of data, >= len (appends are amortized) */
	uint8_t *data;
};

/* The DFU suffix (protocol.md §1.6), as found in a file. */
struct img_suffix {
	bool present;
	uint16_t bcd_device;
	uint16_t pid;
	uint16_t vid;
	uint16_t bcd_dfu;      /* 0x0100 plain DFU, 0x011A DfuSe */
	uint8_t length;        /* bLength: 16, or more (extra bytes precede the standard 16) */
	uint32_t crc_stored;
	uint32_t crc_computed; /* ~crc32 over the file but the last 4 bytes */
	bool crc_valid;
};

/* A DfuSe element and target as the file lays them out (protocol.md §1.7), for `file info`. */
struct img_element {
	uint32_t addr;
	uint32_t size;
};

struct img_target {
	uint8_t alt;
	uint32_t named;          /* bTargetNamed as stored (nonzero: the name is meaningful) */
	char name[256];          /* NUL-terminated */
	uint8_t raw_name[255];   /* the field as stored: some tools leave garbage after the NUL */
	uint32_t size;           /* dwTargetSize */
	size_t n_elements;
	struct img_element *elements;
};

struct img {
	struct img_seg *segs;
	size_t n_segs;
	size_t cap_segs;
	size_t hint;             /* the segment last appended to: most files are written in order */

	enum img_format format;  /* the format it was read from (IMG_FMT_UNKNOWN if built in memory) */
	bool has_entry;          /* HEX type 03/05, S7/S8/S9, ELF e_entry */
	uint32_t entry;
	bool addressless;        /* plain DFU payload: placed at the base address (0 if none given) */

	struct img_suffix suffix;
	uint8_t dfuse_version;
	uint32_t dfuse_image_size;
	struct img_target *targets; /* DfuSe targets in file order; also names alts for writing */
	size_t n_targets;
};

struct img_load_opts {
	enum img_format format;  /* IMG_FMT_UNKNOWN: detect from content, then the file name */
	bool has_base;           /* base address for raw binaries and plain DFU payloads */
	uint32_t base;
	bool allow_bad_crc;      /* `file info`: report a bad suffix CRC instead of failing */
	bool base_is_explicit;   /* the user gave the base (-a): an error for a file with its own addresses */
	bool bin_at_flash;       /* without a base, a raw binary goes to the start of STM32 flash (0x08000000) */
};

/* No firmware file is larger: the largest STM32 memory is a few MiB, its Intel HEX under three
 * times that; an ELF with debug information is larger but not this large. Checked before reading. */
#define IMG_FILE_MAX ((uint64_t)256 << 20)

struct img_save_opts {
	enum img_format format;  /* IMG_FMT_UNKNOWN: from the output file name */
	uint8_t fill;            /* gap fill for .bin (default 0xFF, erased flash) */
	int32_t vid, pid, bcd_device; /* suffix fields; < 0: from the input's suffix, else 0xFFFF */
	int alt;                 /* >= 0: put every segment in this alt setting (.dfu) */
	const char *name;        /* DfuSe target name; NULL: the input's name for that alt, else "ST..." */
	uint32_t max_bin_span;   /* refuse a .bin larger than this (0: 256 MiB) */
};

void img_load_opts_init(struct img_load_opts *o);
void img_save_opts_init(struct img_save_opts *o);

struct img *img_new(void);
void img_free(struct img *img);

/*
 * Adds len bytes at addr in alt. Merges with adjacent or overlapping segments; overlapping bytes
 * that differ are STM32DFU_E_FILE_FORMAT naming both addresses; identical overlap is accepted.
 * Data past 4 GiB is STM32DFU_E_RANGE.
 */
int img_add(struct img *img, uint8_t alt, uint32_t addr, const void *data, size_t len,
	    struct err *e);
/* Makes [addr, addr+len) one segment, filling the gaps with fill. */
int img_fill_range(struct img *img, uint8_t alt, uint32_t addr, size_t len, uint8_t fill,
		   struct err *e);

/* Lowest address and end (exclusive) over all segments; false when the image is empty. */
bool img_span(const struct img *img, uint32_t *lo, uint64_t *end);
/* Bytes of data held (gaps not counted). */
uint64_t img_total_bytes(const struct img *img);
/* Number of distinct alt settings used by segments (0 when empty). */
size_t img_alt_count(const struct img *img);
/* The segment holding addr in alt, or NULL. */
const struct img_seg *img_find(const struct img *img, uint8_t alt, uint32_t addr);
bool img_get_byte(const struct img *img, uint8_t alt, uint32_t addr, uint8_t *out);
/* Copies [addr, addr+len) of alt into out, fill where there is no data; returns bytes present. */
size_t img_read(const struct img *img, uint8_t alt, uint32_t addr, size_t len, uint8_t fill,
		uint8_t *out);
/* zlib CRC-32 of the data of every segment in order (gaps skipped). */
uint32_t img_crc32(const struct img *img);
/* zlib CRC-32 of [addr, addr+len) of alt with gaps filled, as a device would read it back. */
uint32_t img_crc32_range(const struct img *img, uint8_t alt, uint32_t addr, size_t len,
			 uint8_t fill);

/* True when the file has no suffix, or its VID/PID match (0xFFFF in the file is a wildcard). */
bool img_suffix_matches(const struct img *img, uint16_t vid, uint16_t pid);
/* Name of the first DfuSe target for alt, or NULL. */
const char *img_target_name(const struct img *img, uint8_t alt);

/* Format from content (ELF magic, DFU suffix, DfuSe prefix, ':' or 'S' records), then the name. */
enum img_format img_detect(const uint8_t *buf, size_t len, const char *name);
/* Format from the file name's extension only (for writing); IMG_FMT_UNKNOWN if none fits. */
enum img_format img_format_from_name(const char *name);

/* Parses a whole file in memory. name (may be NULL) is used in messages only. */
int img_parse(const uint8_t *buf, size_t len, const char *name, const struct img_load_opts *opts,
	      struct img **out, struct err *e);
/* Serializes to a new heap buffer (free() it). */
int img_serialize(const struct img *img, const struct img_save_opts *opts, uint8_t **out,
		  size_t *out_len, struct err *e);

/* The only file I/O of the module. */
int img_load_file(const char *path, const struct img_load_opts *opts, struct img **out,
		  struct err *e);
int img_save_file(const char *path, const struct img *img, const struct img_save_opts *opts,
		  struct err *e);

#endif
