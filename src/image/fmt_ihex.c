/*
 * Intel HEX: record types 00 data, 01 end of file, 02 extended segment address, 03 start segment
 * address, 04 extended linear address, 05 start linear address (Intel "Hexadecimal Object File
 * Format Specification" rev A).
 *
 * The reader is a hand-written loop over a digit lookup table with no per-record allocation:
 * data is appended to the current segment (amortized), which is what keeps a 16 MiB file faster
 * than objcopy.
 */
#include "image/fmt.h"

#include <string.h>

static bool is_space(uint8_t c)
{
	return c == '\r' || c == '\n' || c == ' ' || c == '\t';
}

static int bad_digit(const char *name, unsigned line, size_t col, const uint8_t *p, size_t left,
		     unsigned got, unsigned want, struct err *e)
{
	if (left == 0 || p[0] == '\r' || p[0] == '\n')
		err_set(e, STM32DFU_E_FILE_FORMAT,
			"%s line %u: record truncated: %u hex digits, expected %u", name, line, got,
			want);
	else if (p[0] >= 0x20 && p[0] < 0x7F)
		err_set(e, STM32DFU_E_FILE_FORMAT,
			"%s line %u column %zu: '%c' is not a hex digit", name, line, col, p[0]);
	else
		err_set(e, STM32DFU_E_FILE_FORMAT,
			"%s line %u column %zu: byte 0x%02X is not a hex digit", name, line, col, p[0]);
	err_hint(e, "the file is corrupt or not Intel HEX");
	return STM32DFU_E_FILE_FORMAT;
}

static int parse(struct img *img, const uint8_t *p, size_t n, const char *name, struct img_batch *batch,
                 struct err *e)
{
	uint8_t rec[5 + 255];
	uint32_t base = 0; /* from type 02 (segment << 4) or 04 (upper 16 bits) */
	unsigned line = 1;
	size_t pos = 0, line_start = 0;
	bool eof = false;

	while (pos < n && !eof) {
		uint8_t c = p[pos];
		if (is_space(c)) {
			if (c == '\n') {
				line++;
				line_start = pos + 1;
			}
			pos++;
			continue;
		}
		if (c != ':') {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s line %u: expected ':' to start a record, found %s0x%02X", name, line,
				c >= 0x20 && c < 0x7F ? "" : "byte ", c);
			err_hint(e, "not an Intel HEX file, or corrupt");
			return STM32DFU_E_FILE_FORMAT;
		}
		pos++;
		/* the byte count first: it fixes the record's length */
		if (n - pos < 2 || (img_hx(p[pos]) | img_hx(p[pos + 1])) & 0x80)
			return bad_digit(name, line, pos - line_start + 1, p + pos, n - pos, 0, 10, e);
		size_t count = (size_t)(img_hx(p[pos]) << 4 | img_hx(p[pos + 1]));
		size_t digits = 2 * (5 + count);
		size_t have = 0;
		while (have < digits && pos + have < n && img_hx(p[pos + have]) != 0xFF)
			have++;
		if (have < digits)
			return bad_digit(name, line, pos + have - line_start + 1, p + pos + have,
					 n - pos - have, (unsigned)have, (unsigned)digits, e);
		/* only whitespace may follow a record on its line: check before the checksum, so a
		 * wrong byte count is reported as such */
		if (pos + digits < n && !is_space(p[pos + digits])) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s line %u column %zu: the record goes on past the %zu hex digits its "
				"byte count 0x%02zX gives", name, line, pos + digits - line_start + 1,
				digits, count);
			err_hint(e, "the file is corrupt or not Intel HEX");
			return STM32DFU_E_FILE_FORMAT;
		}
		uint8_t sum = 0;
		for (size_t i = 0; i < 5 + count; i++) {
			rec[i] = (uint8_t)(img_hx(p[pos + 2 * i]) << 4 | img_hx(p[pos + 2 * i + 1]));
			sum = (uint8_t)(sum + rec[i]);
		}
		pos += digits;
		if (sum != 0) {
			uint8_t stored = rec[4 + count];
			uint8_t want = (uint8_t)(stored - sum);
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s line %u: checksum 0x%02X, expected 0x%02X (file corrupt?)", name, line,
				stored, want);
			return STM32DFU_E_FILE_FORMAT;
		}
		uint16_t offset = (uint16_t)(rec[1] << 8 | rec[2]);
		uint8_t type = rec[3];
		const uint8_t *d = rec + 4;
		static const int want_len[6] = {-1, 0, 2, 4, 2, 4};
		if (type > 5) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s line %u: record type 0x%02X, expected 00 to 05", name, line, type);
			return STM32DFU_E_FILE_FORMAT;
		}
		if (want_len[type] >= 0 && count != (size_t)want_len[type]) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s line %u: record type %02X with %zu data bytes, expected %d", name, line,
				type, count, want_len[type]);
			return STM32DFU_E_FILE_FORMAT;
		}
		switch (type) {
		case 0: {
			uint64_t a = (uint64_t)base + offset;
			if (a + count > 0x100000000ull) {
				err_set(e, STM32DFU_E_FILE_FORMAT,
					"%s line %u: %zu bytes at 0x%08llX run past 4 GiB", name, line,
					count, (unsigned long long)a);
				return STM32DFU_E_FILE_FORMAT;
			}
			int rc = img_batch_add(batch, (uint32_t)a, d, (size_t)count, line, e);
			if (rc)
				return rc;
			break;
		}
		case 1:
			eof = true;
			break;
		case 2:
			base = (uint32_t)(d[0] << 8 | d[1]) << 4;
			break;
		case 3:
			/* CS:IP, as objcopy reads it: a real-mode address */
			img->has_entry = true;
			img->entry = ((uint32_t)(d[0] << 8 | d[1]) << 4) + (uint32_t)(d[2] << 8 | d[3]);
			break;
		case 4:
			base = (uint32_t)(d[0] << 8 | d[1]) << 16;
			break;
		case 5:
			img->has_entry = true;
			img->entry = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
			break;
		}
	}
	if (!eof) {
		err_set(e, STM32DFU_E_FILE_FORMAT,
			"%s line %u: end of file without an end-of-file record (:00000001FF)", name, line);
		err_hint(e, "the file is truncated: get a complete copy");
		return STM32DFU_E_FILE_FORMAT;
	}
	img->format = IMG_FMT_IHEX;
	return 0;
}

/* Writes one record: ':' count, address, type, data, checksum, newline. */
static void put_record(struct img_buf *b, uint8_t type, uint16_t addr, const uint8_t *d,
		       size_t count)
{
	char line[1 + 2 * (5 + 255) + 1];
	uint8_t hdr[4] = {(uint8_t)count, (uint8_t)(addr >> 8), (uint8_t)addr, type};
	uint8_t sum = 0;
	size_t k = 0;
	line[k++] = ':';
	k = img_put_hex(line, k, hdr, 4, &sum);
	k = img_put_hex(line, k, d, count, &sum);
	k = img_put_checksum(line, k, (uint8_t)-sum);
	img_buf_put(b, line, k);
}

int img_write_ihex(const struct img *img, const struct img_save_opts *o, struct img_buf *b,
		   struct err *e)
{
	(void)o;
	int rc = img_check_single_alt(img, "Intel HEX", e);
	if (rc)
		return rc;
	uint32_t upper = 0;
	for (size_t i = 0; i < img->n_segs; i++) {
		const struct img_seg *s = &img->segs[i];
		size_t done = 0;
		while (done < s->len) {
			uint32_t a = s->addr + (uint32_t)done;
			if (a >> 16 != upper) {
				upper = a >> 16;
				uint8_t d[2] = {(uint8_t)(upper >> 8), (uint8_t)upper};
				put_record(b, 4, 0, d, 2);
			}
			/* 16 bytes a record, as objcopy writes, never crossing a 64 KiB boundary */
			size_t n = s->len - done < 16 ? s->len - done : 16;
			size_t to_boundary = 0x10000 - (a & 0xFFFF);
			if (n > to_boundary)
				n = to_boundary;
			put_record(b, 0, (uint16_t)a, s->data + done, n);
			done += n;
		}
	}
	if (img->has_entry) {
		uint8_t d[4] = {(uint8_t)(img->entry >> 24), (uint8_t)(img->entry >> 16),
				(uint8_t)(img->entry >> 8), (uint8_t)img->entry};
		put_record(b, 5, 0, d, 4);
	}
	put_record(b, 1, 0, NULL, 0);
	return 0;
}

int img_read_ihex(struct img *img, const uint8_t *p, size_t n, const char *name, struct err *e)
{
	return img_read_records(img, p, n, name, parse, e);
}
