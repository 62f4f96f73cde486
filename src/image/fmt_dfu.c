/*
 * DFU files: the DFU suffix (DFU 1.1 appendix B; protocol.md §1.6), ST's DfuSe container
 * (UM0391; protocol.md §1.7) and plain DFU 1.0/1.1 files (a payload without addresses).
 *
 * The suffix is found from the end of the file: the last 16 bytes hold bcdDevice, idProduct,
 * idVendor, bcdDFU, "UFD", bLength and dwCRC. bLength may exceed 16 (fwupd stores metadata in the
 * extra bytes, which precede the standard 16), so the payload ends bLength bytes before the end.
 */
#include "image/fmt.h"

#include <stdlib.h>
#include <string.h>

#include "core/crc32.h"
#include "core/rd.h"

#define DFUSE_PREFIX_LEN 11
#define DFUSE_TARGET_LEN 274
#define SUFFIX_LEN 16

bool img_suffix_parse(const uint8_t *p, size_t n, struct img_suffix *s)
{
	memset(s, 0, sizeof *s);
	if (n < SUFFIX_LEN || memcmp(p + n - 8, "UFD", 3) != 0)
		return false;
	const uint8_t *q = p + n - SUFFIX_LEN;
	s->present = true;
	s->bcd_device = get_le16(q);
	s->pid = get_le16(q + 2);
	s->vid = get_le16(q + 4);
	s->bcd_dfu = get_le16(q + 6);
	s->length = q[11];
	s->crc_stored = get_le32(q + 12);
	s->crc_computed = crc32_dfu(p, n - 4);
	s->crc_valid = s->crc_stored == s->crc_computed;
	return true;
}

static int read_dfuse(struct img *img, const uint8_t *p, size_t n, const char *name,
		      struct err *e)
{
	struct rd r;
	rd_init(&r, p, n);
	if (n < DFUSE_PREFIX_LEN) {
		err_set(e, STM32DFU_E_FILE_FORMAT,
			"%s: DfuSe prefix truncated: %zu bytes, expected 11", name, n);
		return STM32DFU_E_FILE_FORMAT;
	}
	rd_skip(&r, 5);
	img->dfuse_version = rd_u8(&r);
	img->dfuse_image_size = rd_le32(&r);
	unsigned n_targets = rd_u8(&r);
	if (img->dfuse_version != 1) {
		err_set(e, STM32DFU_E_FILE_FORMAT, "%s: DfuSe version %u, expected 1", name,
			img->dfuse_version);
		return STM32DFU_E_FILE_FORMAT;
	}
	if (img->dfuse_image_size != n) {
		err_set(e, STM32DFU_E_FILE_FORMAT,
			"%s: the DfuSe prefix says %u bytes, the file has %zu before the suffix", name,
			(unsigned)img->dfuse_image_size, n);
		err_hint(e, "the file is truncated or was edited: rebuild it");
		return STM32DFU_E_FILE_FORMAT;
	}
	img->targets = calloc(n_targets ? n_targets : 1, sizeof *img->targets);
	if (!img->targets)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	for (unsigned t = 0; t < n_targets; t++) {
		size_t off = r.pos;
		struct img_target *tg = &img->targets[t];
		if (rd_left(&r) < DFUSE_TARGET_LEN) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s: target %u at offset 0x%zX: truncated: %zu bytes left, a target "
				"prefix takes 274", name, t, off, rd_left(&r));
			return STM32DFU_E_FILE_FORMAT;
		}
		if (memcmp(rd_take(&r, 6), "Target", 6) != 0) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s: target %u at offset 0x%zX: signature is not \"Target\"", name, t, off);
			return STM32DFU_E_FILE_FORMAT;
		}
		tg->alt = rd_u8(&r);
		tg->named = rd_le32(&r);
		rd_bytes(&r, tg->raw_name, sizeof tg->raw_name);
		memcpy(tg->name, tg->raw_name, sizeof tg->raw_name);
		tg->name[255] = '\0';
		tg->size = rd_le32(&r);
		uint32_t n_el = rd_le32(&r);
		img->n_targets = t + 1;
		/* each element takes at least 8 bytes: bound the count before allocating */
		if (n_el > rd_left(&r) / 8) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s: target %u: %u elements cannot fit in the %zu bytes left", name, t,
				(unsigned)n_el, rd_left(&r));
			return STM32DFU_E_FILE_FORMAT;
		}
		tg->elements = calloc(n_el ? n_el : 1, sizeof *tg->elements);
		if (!tg->elements)
			return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
		uint64_t used = 0;
		for (uint32_t i = 0; i < n_el; i++) {
			size_t eoff = r.pos;
			uint32_t addr = rd_le32(&r), size = rd_le32(&r);
			const uint8_t *d = rd_ok(&r) ? rd_take(&r, size) : NULL;
			if (!d) {
				err_set(e, STM32DFU_E_FILE_FORMAT,
					"%s: target %u element %u at offset 0x%zX: size %u runs past the "
					"end of the data (%zu bytes left)", name, t, (unsigned)i, eoff,
					(unsigned)size, n - eoff);
				err_hint(e, "the file is truncated or its size fields are corrupt");
				return STM32DFU_E_FILE_FORMAT;
			}
			tg->elements[i].addr = addr;
			tg->elements[i].size = size;
			tg->n_elements = i + 1;
			used += 8 + (uint64_t)size;
			if ((uint64_t)addr + size > 0x100000000ull) {
				err_set(e, STM32DFU_E_FILE_FORMAT,
					"%s: target %u element %u: %u bytes at 0x%08X run past 4 GiB", name,
					t, (unsigned)i, (unsigned)size, (unsigned)addr);
				return STM32DFU_E_FILE_FORMAT;
			}
			int rc = img_add(img, tg->alt, addr, d, size, e);
			if (rc)
				return err_prefix(e, "%s: target %u (alt %u) element %u", name, t, tg->alt,
						  (unsigned)i);
		}
		if (used != tg->size) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s: target %u: dwTargetSize %u, its elements take %llu bytes", name, t,
				(unsigned)tg->size, (unsigned long long)used);
			return STM32DFU_E_FILE_FORMAT;
		}
	}
	if (rd_left(&r)) {
		err_set(e, STM32DFU_E_FILE_FORMAT,
			"%s: %zu bytes after the last of %u targets (at offset 0x%zX)", name,
			rd_left(&r), n_targets, r.pos);
		return STM32DFU_E_FILE_FORMAT;
	}
	img->format = IMG_FMT_DFUSE;
	return 0;
}

int img_read_dfu(struct img *img, const uint8_t *p, size_t n, const char *name,
		 const struct img_load_opts *o, struct err *e)
{
	size_t payload = n;
	if (img_suffix_parse(p, n, &img->suffix)) {
		struct img_suffix *s = &img->suffix;
		if (s->length < SUFFIX_LEN || s->length > n) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s: DFU suffix bLength %u, expected 16 to %zu (the file size)", name,
				s->length, n);
			return STM32DFU_E_FILE_FORMAT;
		}
		if (!s->crc_valid && !o->allow_bad_crc) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"%s: DFU suffix CRC 0x%08X, computed 0x%08X (file corrupt?)", name,
				(unsigned)s->crc_stored, (unsigned)s->crc_computed);
			err_hint(e, "if the file was edited on purpose, redo the suffix: "
				    "dfu-suffix -D FILE; dfu-suffix -a FILE");
			return STM32DFU_E_FILE_FORMAT;
		}
		payload = n - s->length;
	} else if (n < 5 || memcmp(p, "DfuSe", 5) != 0) {
		err_set(e, STM32DFU_E_FILE_FORMAT,
			"%s: no DFU suffix (the file does not end with \"UFD\", bLength and a CRC)",
			name);
		err_hint(e, "add one with dfu-suffix -a, or give the file as a raw binary with an "
			    "address");
		return STM32DFU_E_FILE_FORMAT;
	}
	if (payload >= 5 && memcmp(p, "DfuSe", 5) == 0)
		return read_dfuse(img, p, payload, name, e);

	/* plain DFU: the payload goes to the device as is, at the address the device chooses */
	int rc = img_add(img, 0, o->has_base ? o->base : 0, p, payload, e);
	if (rc)
		return err_prefix(e, "%s", name);
	img->addressless = !o->has_base;
	img->format = IMG_FMT_DFU;
	return 0;
}

static uint16_t pick(int32_t opt, bool have, uint16_t from_file)
{
	if (opt >= 0)
		return (uint16_t)opt;
	return have ? from_file : 0xFFFF;
}

static void put_suffix(const struct img *img, const struct img_save_opts *o, struct img_buf *b,
		       uint16_t bcd_dfu)
{
	uint8_t s[SUFFIX_LEN];
	const struct img_suffix *in = &img->suffix;
	put_le16(s, pick(o->bcd_device, in->present, in->bcd_device));
	put_le16(s + 2, pick(o->pid, in->present, in->pid));
	put_le16(s + 4, pick(o->vid, in->present, in->vid));
	put_le16(s + 6, bcd_dfu);
	memcpy(s + 8, "UFD", 3);
	s[11] = SUFFIX_LEN;
	img_buf_put(b, s, 12);
	if (b->failed)
		return;
	put_le32(s + 12, crc32_dfu(b->p, b->len));
	img_buf_put(b, s + 12, 4);
}

int img_write_dfu(const struct img *img, const struct img_save_opts *o, struct img_buf *b,
		  struct err *e)
{
	if (img->n_segs != 1) {
		err_set(e, STM32DFU_E_UNSUPPORTED,
			"a plain DFU file holds one contiguous payload, the image has %zu segments",
			img->n_segs);
		err_hint(e, "write a DfuSe .dfu, which keeps addresses");
		return STM32DFU_E_UNSUPPORTED;
	}
	img_buf_put(b, img->segs[0].data, img->segs[0].len);
	put_suffix(img, o, b, img->suffix.present ? img->suffix.bcd_dfu : 0x0100);
	return 0;
}

int img_write_dfuse(const struct img *img, const struct img_save_opts *o, struct img_buf *b,
		    struct err *e)
{
	if (o->alt >= 0 && img_alt_count(img) > 1) {
		err_set(e, STM32DFU_E_USAGE, "{@alt} %d would merge data of %zu alt settings", o->alt,
			img_alt_count(img));
		return STM32DFU_E_USAGE;
	}
	if (o->alt > 255)
		return err_set(e, STM32DFU_E_USAGE, "alt setting %d, expected 0 to 255", o->alt);
	uint8_t prefix[DFUSE_PREFIX_LEN] = {'D', 'f', 'u', 'S', 'e', 1};
	img_buf_put(b, prefix, sizeof prefix);
	unsigned n_targets = 0;
	for (size_t i = 0; i < img->n_segs;) {
		uint8_t alt = img->segs[i].alt;
		size_t j = i;
		uint64_t size = 0;
		for (; j < img->n_segs && img->segs[j].alt == alt; j++)
			size += 8 + (uint64_t)img->segs[j].len;
		if (size > UINT32_MAX)
			return err_set(e, STM32DFU_E_RANGE, "alt %u: %llu bytes do not fit a DfuSe "
				       "target", alt, (unsigned long long)size);
		uint8_t out_alt = o->alt >= 0 ? (uint8_t)o->alt : alt;
		uint8_t t[DFUSE_TARGET_LEN] = {'T', 'a', 'r', 'g', 'e', 't', out_alt};
		const struct img_target *src = NULL;
		for (size_t k = 0; k < img->n_targets && !o->name; k++)
			if (img->targets[k].alt == alt) {
				src = &img->targets[k];
				break;
			}
		if (src) {
			/* the field as read, garbage after the NUL included: byte-exact round trips */
			put_le32(t + 7, src->named);
			memcpy(t + 11, src->raw_name, sizeof src->raw_name);
		} else {
			const char *nm = o->name ? o->name : "ST...";
			size_t len = strlen(nm);
			put_le32(t + 7, 1);
			memcpy(t + 11, nm, len < 254 ? len : 254);
		}
		put_le32(t + 266, (uint32_t)size);
		put_le32(t + 270, (uint32_t)(j - i));
		img_buf_put(b, t, sizeof t);
		for (; i < j; i++) {
			uint8_t el[8];
			put_le32(el, img->segs[i].addr);
			put_le32(el + 4, (uint32_t)img->segs[i].len);
			img_buf_put(b, el, sizeof el);
			img_buf_put(b, img->segs[i].data, img->segs[i].len);
		}
		n_targets++;
	}
	if (n_targets > 255)
		return err_set(e, STM32DFU_E_RANGE, "%u alt settings, a DfuSe file holds 255",
			       n_targets);
	if (b->failed)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory writing the DfuSe file");
	if (b->len > UINT32_MAX)
		return err_set(e, STM32DFU_E_RANGE, "%zu bytes do not fit a DfuSe file", b->len);
	put_le32(b->p + 6, (uint32_t)b->len);
	b->p[10] = (uint8_t)n_targets;
	put_suffix(img, o, b, 0x011A);
	return 0;
}
