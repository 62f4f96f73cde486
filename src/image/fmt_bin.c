/* Raw binary: bytes without addresses, so reading needs a base address and writing fills gaps. */
#include "image/fmt.h"

#include <string.h>

int img_read_bin(struct img *img, const uint8_t *p, size_t n, const char *name,
		 const struct img_load_opts *o, struct err *e)
{
	uint32_t base = o->has_base ? o->base : 0x08000000u;
	if (!o->has_base && !o->bin_at_flash) {
		err_set(e, STM32DFU_E_USAGE, "%s: a raw binary needs a base address", name);
		err_hint(e, "give one: -a 0x08000000 (the start of STM32 flash)");
		return STM32DFU_E_USAGE;
	}
	if (n == 0) {
		err_set(e, STM32DFU_E_FILE_FORMAT, "%s: the file is empty", name);
		return STM32DFU_E_FILE_FORMAT;
	}
	if ((uint64_t)n > 0x100000000ull - base) {
		err_set(e, STM32DFU_E_RANGE, "%s: %zu bytes at 0x%08X run past 4 GiB", name, n, (unsigned)base);
		return STM32DFU_E_RANGE;
	}
	int rc = img_add(img, 0, base, p, n, e);
	if (rc)
		return err_prefix(e, "%s", name);
	img->format = IMG_FMT_BIN;
	return 0;
}

int img_write_bin(const struct img *img, const struct img_save_opts *o, struct img_buf *b,
		  struct err *e)
{
	int rc = img_check_single_alt(img, "a raw binary", e);
	if (rc)
		return rc;
	uint32_t lo;
	uint64_t end;
	img_span(img, &lo, &end);
	uint64_t span = end - lo;
	uint64_t max = o->max_bin_span ? o->max_bin_span : 256u << 20;
	if (span > max || span > SIZE_MAX) {
		err_set(e, STM32DFU_E_RANGE,
			"the image spans 0x%08X to 0x%08llX (%llu bytes): a raw binary that large is "
			"mostly gap fill", (unsigned)lo, (unsigned long long)(end - 1),
			(unsigned long long)span);
		err_hint(e, "write .hex, .srec or .dfu, which keep addresses, or check the input's "
			    "addresses");
		return STM32DFU_E_RANGE;
	}
	if (!img_buf_reserve(b, (size_t)span))
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory for a %llu-byte binary",
			       (unsigned long long)span);
	uint8_t *out = b->p + b->len;
	/* fill only the gaps: the data is copied over the rest */
	uint64_t at = lo;
	for (size_t i = 0; i < img->n_segs; i++) {
		const struct img_seg *s = &img->segs[i];
		memset(out + (at - lo), o->fill, (size_t)(s->addr - at));
		memcpy(out + (s->addr - lo), s->data, s->len);
		at = (uint64_t)s->addr + s->len;
	}
	b->len += (size_t)span;
	return 0;
}
