/*
 * Motorola S-record: S0 header, S1/S2/S3 data with 16/24/32-bit addresses, S5/S6 record count,
 * S7/S8/S9 start address ending the file. S4 is reserved. The checksum is the ones' complement of
 * the low byte of the sum of the count, address and data bytes.
 */
#include "image/fmt.h"

#include <string.h>

static bool is_space(uint8_t c)
{
	return c == '\r' || c == '\n' || c == ' ' || c == '\t';
}

/* address bytes for S0..S9; 0 for the reserved S4 */
static const uint8_t addr_len[10] = {2, 2, 3, 4, 0, 2, 3, 4, 3, 2};

static int parse(struct img *img, const uint8_t *p, size_t n, const char *name, struct img_batch *batch,
                 struct err *e)
{
	uint8_t rec[256];
	unsigned line = 1;
	size_t pos = 0, line_start = 0;
	uint32_t data_records = 0;
	bool end = false;

	while (pos < n && !end) {
		uint8_t c = p[pos];
		if (is_space(c)) {
			if (c == '\n') {
				line++;
				line_start = pos + 1;
			}
			pos++;
			continue;
		}
		if (c != 'S' && c != 's') {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s line %u: expected 'S' to start a record, found %s0x%02X", name, line,
				c >= 0x20 && c < 0x7F ? "" : "byte ", c);
			err_hint(e, "not a Motorola S-record file, or corrupt");
			return STM32DFU_E_FILE_FORMAT;
		}
		if (n - pos < 4 || p[pos + 1] < '0' || p[pos + 1] > '9' ||
		    (img_hx(p[pos + 2]) | img_hx(p[pos + 3])) & 0x80) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s line %u: record truncated or malformed: expected S<type 0-9> and a "
				"2-digit byte count", name, line);
			return STM32DFU_E_FILE_FORMAT;
		}
		unsigned type = (unsigned)(p[pos + 1] - '0');
		size_t count = (size_t)(img_hx(p[pos + 2]) << 4 | img_hx(p[pos + 3]));
		if (type == 4) {
			err_set(e, STM32DFU_E_FILE_FORMAT, "%s line %u: S4 is a reserved record type",
				name, line);
			return STM32DFU_E_FILE_FORMAT;
		}
		size_t alen = addr_len[type];
		if (count < alen + 1) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s line %u: S%u byte count %zu, expected at least %zu (address and "
				"checksum)", name, line, type, count, alen + 1);
			return STM32DFU_E_FILE_FORMAT;
		}
		pos += 4;
		size_t digits = 2 * count, have = 0;
		while (have < digits && pos + have < n && img_hx(p[pos + have]) != 0xFF)
			have++;
		if (have < digits) {
			if (pos + have >= n || p[pos + have] == '\r' || p[pos + have] == '\n')
				err_set(e, STM32DFU_E_FILE_FORMAT,
					"%s line %u: record truncated: %zu hex digits after the count, "
					"expected %zu", name, line, have, digits);
			else
				err_set(e, STM32DFU_E_FILE_FORMAT,
					"%s line %u column %zu: byte 0x%02X is not a hex digit", name, line,
					pos + have - line_start + 1, p[pos + have]);
			err_hint(e, "the file is corrupt or not an S-record file");
			return STM32DFU_E_FILE_FORMAT;
		}
		if (pos + digits < n && !is_space(p[pos + digits])) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s line %u column %zu: the record goes on past the %zu bytes its count "
				"gives", name, line, pos + digits - line_start + 1, count);
			return STM32DFU_E_FILE_FORMAT;
		}
		uint8_t sum = (uint8_t)count;
		for (size_t i = 0; i < count; i++) {
			rec[i] = (uint8_t)(img_hx(p[pos + 2 * i]) << 4 | img_hx(p[pos + 2 * i + 1]));
			if (i + 1 < count)
				sum = (uint8_t)(sum + rec[i]);
		}
		pos += digits;
		uint8_t want = (uint8_t)~sum;
		if (rec[count - 1] != want) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s line %u: checksum 0x%02X, expected 0x%02X (file corrupt?)", name, line,
				rec[count - 1], want);
			return STM32DFU_E_FILE_FORMAT;
		}
		uint32_t a = 0;
		for (size_t i = 0; i < alen; i++)
			a = a << 8 | rec[i];
		const uint8_t *d = rec + alen;
		size_t dlen = count - alen - 1;
		switch (type) {
		case 0: /* header text: informational */
			break;
		case 1:
		case 2:
		case 3: {
			if ((uint64_t)a + dlen > 0x100000000ull) {
				err_set(e, STM32DFU_E_FILE_FORMAT,
					"%s line %u: %zu bytes at 0x%08X run past 4 GiB", name, line, dlen,
					(unsigned)a);
				return STM32DFU_E_FILE_FORMAT;
			}
			int rc = img_batch_add(batch, a, d, dlen, line, e);
			if (rc)
				return rc;
			data_records++;
			break;
		}
		case 5:
		case 6: {
			uint32_t mask = type == 5 ? 0xFFFF : 0xFFFFFF;
			if (a != (data_records & mask)) {
				err_set(e, STM32DFU_E_FILE_FORMAT,
					"%s line %u: S%u says %u data records, the file has %u before it "
					"(records lost?)", name, line, type, (unsigned)a,
					(unsigned)(data_records & mask));
				return STM32DFU_E_FILE_FORMAT;
			}
			break;
		}
		default: /* 7, 8, 9 */
			img->has_entry = true;
			img->entry = a;
			end = true;
			break;
		}
	}
	if (!end) {
		err_set(e, STM32DFU_E_FILE_FORMAT,
			"%s line %u: end of file without a termination record (S7, S8 or S9)", name,
			line);
		err_hint(e, "the file is truncated: get a complete copy");
		return STM32DFU_E_FILE_FORMAT;
	}
	img->format = IMG_FMT_SREC;
	return 0;
}

static void put_record(struct img_buf *b, unsigned type, uint32_t a, size_t alen,
		       const uint8_t *d, size_t dlen)
{
	char line[4 + 2 * 256 + 1];
	uint8_t count = (uint8_t)(alen + dlen + 1);
	uint8_t sum = 0; /* the S-record checksum covers count, address and data */
	size_t k = 0;
	line[k++] = 'S';
	line[k++] = (char)('0' + type);
	k = img_put_hex(line, k, &count, 1, &sum);
	uint8_t addr[4];
	for (size_t i = 0; i < alen; i++)
		addr[i] = (uint8_t)(a >> (8 * (alen - 1 - i)));
	k = img_put_hex(line, k, addr, alen, &sum);
	k = img_put_hex(line, k, d, dlen, &sum);
	k = img_put_checksum(line, k, (uint8_t)~sum);
	img_buf_put(b, line, k);
}

int img_write_srec(const struct img *img, const struct img_save_opts *o, struct img_buf *b,
		   struct err *e)
{
	(void)o;
	int rc = img_check_single_alt(img, "an S-record file", e);
	if (rc)
		return rc;
	uint32_t lo;
	uint64_t end;
	img_span(img, &lo, &end);
	uint64_t top = end > img->entry ? end : (uint64_t)img->entry + 1;
	/* the shortest address that fits, as objcopy chooses: S1/S9, S2/S8 or S3/S7 */
	unsigned dtype = top <= 0x10000 ? 1 : top <= 0x1000000 ? 2 : 3;
	size_t alen = dtype + 1;
	static const char header[] = "stm32dfu";
	put_record(b, 0, 0, 2, (const uint8_t *)header, sizeof header - 1);
	uint32_t records = 0;
	for (size_t i = 0; i < img->n_segs; i++) {
		const struct img_seg *s = &img->segs[i];
		for (size_t done = 0; done < s->len;) {
			size_t n = s->len - done < 32 ? s->len - done : 32;
			put_record(b, dtype, s->addr + (uint32_t)done, alen, s->data + done, n);
			done += n;
			records++;
		}
	}
	if (records <= 0xFFFF)
		put_record(b, 5, records, 2, NULL, 0);
	else if (records <= 0xFFFFFF)
		put_record(b, 6, records, 3, NULL, 0);
	put_record(b, 10 - dtype, img->has_entry ? img->entry : 0, alen, NULL, 0);
	return 0;
}

int img_read_srec(struct img *img, const uint8_t *p, size_t n, const char *name, struct err *e)
{
	return img_read_records(img, p, n, name, parse, e);
}
