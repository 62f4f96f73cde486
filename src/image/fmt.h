/* Internal to src/image: one reader and one writer per format, and a growing output buffer. */
#ifndef IMAGE_FMT_H
#define IMAGE_FMT_H

#include "image/image.h"

/* digit value + 1, so that the zero default marks every other byte */
static const uint8_t img_hexval1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15,
	['F'] = 16, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

/* 0..15 for a hex digit, 0xFF for anything else */
static inline uint8_t img_hx(uint8_t c)
{
	return (uint8_t)(img_hexval1[c] - 1);
}

static const char img_hexdig[] = "0123456789ABCDEF";

/* Appends n bytes as upper-case hex at line[k] and adds them to *sum (both record formats'
 * checksums are byte sums); returns the new k. */
static inline size_t img_put_hex(char *line, size_t k, const uint8_t *d, size_t n, uint8_t *sum)
{
	for (size_t i = 0; i < n; i++) {
		line[k++] = img_hexdig[d[i] >> 4];
		line[k++] = img_hexdig[d[i] & 15];
		*sum = (uint8_t)(*sum + d[i]);
	}
	return k;
}

/* Ends a record line: the checksum byte in hex and a newline; returns the new k. */
static inline size_t img_put_checksum(char *line, size_t k, uint8_t sum)
{
	line[k++] = img_hexdig[sum >> 4];
	line[k++] = img_hexdig[sum & 15];
	line[k++] = '\n';
	return k;
}

/* A growing byte buffer; on allocation failure it sets failed and drops further writes. */
struct img_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool failed;
};

bool img_buf_reserve(struct img_buf *b, size_t more);
void img_buf_put(struct img_buf *b, const void *p, size_t n);
void img_buf_free(struct img_buf *b);

/* Readers fill an empty img; name is for messages (never NULL here). */
/*
 * Records in file order, added to the image in address order (a stable sort: O(n log n) whatever
 * the order of a HEX or S-record file; adding each record as it comes made a descending file
 * quadratic, each record copying the whole segment it lands before). tag: the record's line, for
 * the error of img_batch_commit ("line N: overlapping data differs ...").
 */
struct img_chunk {
	uint32_t addr;
	uint32_t len;
	size_t off; /* into bytes */
	unsigned tag;
	size_t seq;
};
struct img_batch {
	struct img_chunk *c;
	size_t n, cap;
	uint8_t *bytes;
	size_t used, bcap;
	bool sorted; /* so far in address order */
};
int img_batch_add(struct img_batch *b, uint32_t addr, const uint8_t *data, size_t len, unsigned tag, struct err *e);
/* Adds every record to alt 0 of img (img_add) and frees the batch; on an error, *tag is the
 * failing record's tag. */
int img_batch_commit(struct img_batch *b, struct img *img, unsigned *tag, struct err *e);
void img_batch_free(struct img_batch *b);
/* A line-record reader (HEX, S-record): parse fills the batch in file order, then the records go
 * into img in address order; an error names the file and the record's line. */
typedef int (*img_record_parser)(struct img *img, const uint8_t *p, size_t n, const char *name,
                                 struct img_batch *batch, struct err *e);
int img_read_records(struct img *img, const uint8_t *p, size_t n, const char *name, img_record_parser parse,
                     struct err *e);

int img_read_bin(struct img *img, const uint8_t *p, size_t n, const char *name,
		 const struct img_load_opts *o, struct err *e);
int img_read_ihex(struct img *img, const uint8_t *p, size_t n, const char *name, struct err *e);
int img_read_srec(struct img *img, const uint8_t *p, size_t n, const char *name, struct err *e);
int img_read_elf(struct img *img, const uint8_t *p, size_t n, const char *name, struct err *e);
/* DfuSe and plain DFU: both start from the suffix. */
int img_read_dfu(struct img *img, const uint8_t *p, size_t n, const char *name,
		 const struct img_load_opts *o, struct err *e);
/* Finds and checks a DFU suffix at the end of p[0..n); false if there is none. */
bool img_suffix_parse(const uint8_t *p, size_t n, struct img_suffix *s);

/* Writers; the image has at least one segment. */
int img_write_bin(const struct img *img, const struct img_save_opts *o, struct img_buf *b,
		  struct err *e);
int img_write_ihex(const struct img *img, const struct img_save_opts *o, struct img_buf *b,
		   struct err *e);
int img_write_srec(const struct img *img, const struct img_save_opts *o, struct img_buf *b,
		   struct err *e);
/* plain DFU: the one segment's bytes and a suffix (for payloads without addresses) */
int img_write_dfu(const struct img *img, const struct img_save_opts *o, struct img_buf *b,
		  struct err *e);
int img_write_dfuse(const struct img *img, const struct img_save_opts *o, struct img_buf *b,
		    struct err *e);

/* bin, hex and srec carry one address space: refuse images with several alt settings. */
int img_check_single_alt(const struct img *img, const char *what, struct err *e);

#endif
