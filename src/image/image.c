/* The sparse memory image: sorted segments, merge, overlap detection, fill, CRC. */
#include "image/fmt.h"

#include <stdlib.h>
#include <string.h>

#include "core/crc32.h"

/* Segments sort by (alt, address): one 64-bit key keeps the comparisons simple. */
static uint64_t key(uint8_t alt, uint64_t addr)
{
	return ((uint64_t)alt << 32) + addr;
}

static uint64_t seg_start(const struct img_seg *s)
{
	return key(s->alt, s->addr);
}

static uint64_t seg_end(const struct img_seg *s)
{
	return key(s->alt, (uint64_t)s->addr + s->len);
}

const char *img_format_name(enum img_format f)
{
	switch (f) {
	case IMG_FMT_BIN: return "bin";
	case IMG_FMT_IHEX: return "ihex";
	case IMG_FMT_SREC: return "srec";
	case IMG_FMT_ELF: return "elf";
	case IMG_FMT_DFUSE: return "dfuse";
	case IMG_FMT_DFU: return "dfu";
	case IMG_FMT_UNKNOWN: break;
	}
	return "unknown";
}

void img_load_opts_init(struct img_load_opts *o)
{
	memset(o, 0, sizeof *o);
}

void img_save_opts_init(struct img_save_opts *o)
{
	memset(o, 0, sizeof *o);
	o->fill = 0xFF;
	o->vid = o->pid = o->bcd_device = -1;
	o->alt = -1;
}

struct img *img_new(void)
{
	return calloc(1, sizeof(struct img));
}

void img_free(struct img *img)
{
	if (!img)
		return;
	for (size_t i = 0; i < img->n_segs; i++)
		free(img->segs[i].data);
	free(img->segs);
	for (size_t i = 0; i < img->n_targets; i++)
		free(img->targets[i].elements);
	free(img->targets);
	free(img);
}

/* Index of the first segment whose end key is >= k (so it touches or follows k). */
static size_t first_touching(const struct img *img, uint64_t k)
{
	size_t lo = 0, hi = img->n_segs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (seg_end(&img->segs[mid]) < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int grow_data(struct img_seg *s, size_t need, struct err *e)
{
	if (need <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	uint8_t *d = realloc(s->data, cap);
	if (!d)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory for a %zu-byte segment", need);
	s->data = d;
	s->cap = cap;
	return 0;
}

static int insert_seg(struct img *img, size_t at, struct err *e)
{
	if (img->n_segs == img->cap_segs) {
		size_t cap = img->cap_segs ? img->cap_segs * 2 : 8;
		if (cap > SIZE_MAX / sizeof(struct img_seg))
			return err_set(e, STM32DFU_E_NO_MEMORY, "too many segments");
		struct img_seg *n = realloc(img->segs, cap * sizeof *n);
		if (!n)
			return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory for segments");
		img->segs = n;
		img->cap_segs = cap;
	}
	memmove(&img->segs[at + 1], &img->segs[at], (img->n_segs - at) * sizeof(struct img_seg));
	memset(&img->segs[at], 0, sizeof(struct img_seg));
	img->n_segs++;
	return 0;
}

/* Overlapping bytes must be equal: report the first difference with both segments' addresses. */
static int check_overlap(const struct img_seg *s, uint32_t addr, const uint8_t *data, size_t len,
			 struct err *e)
{
	uint64_t end = (uint64_t)addr + len;
	uint64_t lo = addr > s->addr ? addr : s->addr;
	uint64_t hi = end < (uint64_t)s->addr + s->len ? end : (uint64_t)s->addr + s->len;
	for (uint64_t a = lo; a < hi; a++) {
		if (data[a - addr] != s->data[a - s->addr]) {
			err_set(e, STM32DFU_E_FILE_FORMAT,
				"overlapping data differs at 0x%08llX: data at 0x%08X (%zu bytes) has "
				"0x%02X, data already at 0x%08X (%zu bytes) has 0x%02X",
				(unsigned long long)a, (unsigned)addr, len, data[a - addr],
				(unsigned)s->addr, s->len, s->data[a - s->addr]);
			err_hint(e, "two parts of the file place different bytes at the same address: "
				    "check the linker script or the files that were merged");
			return STM32DFU_E_FILE_FORMAT;
		}
	}
	return 0;
}

int img_add(struct img *img, uint8_t alt, uint32_t addr, const void *data, size_t len,
	    struct err *e)
{
	if (len == 0)
		return 0;
	if ((uint64_t)len > 0x100000000ull - addr)
		return err_set(e, STM32DFU_E_RANGE, "%zu bytes at 0x%08X run past the 4 GiB address space",
			       len, (unsigned)addr);
	uint64_t k0 = key(alt, addr), k1 = key(alt, (uint64_t)addr + len);

	/* fast path: appending to the segment written last, with no neighbour in the way */
	if (img->hint < img->n_segs) {
		struct img_seg *s = &img->segs[img->hint];
		if (seg_end(s) == k0 &&
		    (img->hint + 1 == img->n_segs || seg_start(&img->segs[img->hint + 1]) > k1)) {
			int rc = grow_data(s, s->len + len, e);
			if (rc)
				return rc;
			memcpy(s->data + s->len, data, len);
			s->len += len;
			return 0;
		}
	}

	size_t i = first_touching(img, k0), j = i;
	while (j < img->n_segs && seg_start(&img->segs[j]) <= k1)
		j++;
	for (size_t k = i; k < j; k++) {
		int rc = check_overlap(&img->segs[k], addr, data, len, e);
		if (rc)
			return rc;
	}
	if (i == j) {
		int rc = insert_seg(img, i, e);
		if (rc)
			return rc;
		struct img_seg *s = &img->segs[i];
		s->addr = addr;
		s->alt = alt;
		rc = grow_data(s, len, e);
		if (rc) {
			memmove(&img->segs[i], &img->segs[i + 1], (img->n_segs - i - 1) * sizeof *s);
			img->n_segs--;
			return rc;
		}
		memcpy(s->data, data, len);
		s->len = len;
		img->hint = i;
		return 0;
	}
	/* extending one segment from inside it (records in address order that overlap): grow it in
	 * place, amortised, rather than copying it whole for each record */
	if (j - i == 1 && k0 >= seg_start(&img->segs[i])) {
		struct img_seg *s = &img->segs[i];
		if (k1 > seg_end(s)) {
			size_t keep = (size_t)(seg_end(s) - k0);
			int rc = grow_data(s, s->len + (len - keep), e);
			if (rc)
				return rc;
			memcpy(s->data + s->len, (const uint8_t *)data + keep, len - keep);
			s->len += len - keep;
		}
		img->hint = i;
		return 0;
	}
	/* merge segments i..j-1 and the new data into segment i */
	uint64_t lo = k0 < seg_start(&img->segs[i]) ? k0 : seg_start(&img->segs[i]);
	uint64_t hi = k1 > seg_end(&img->segs[j - 1]) ? k1 : seg_end(&img->segs[j - 1]);
	if (hi - lo > SIZE_MAX)
		return err_set(e, STM32DFU_E_NO_MEMORY, "segment too large for this host");
	size_t n = (size_t)(hi - lo);
	uint8_t *d = malloc(n);
	if (!d)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory for a %zu-byte segment", n);
	for (size_t k = i; k < j; k++) {
		struct img_seg *s = &img->segs[k];
		memcpy(d + (seg_start(s) - lo), s->data, s->len);
	}
	memcpy(d + (k0 - lo), data, len);
	for (size_t k = i; k < j; k++)
		free(img->segs[k].data);
	struct img_seg *s = &img->segs[i];
	s->data = d;
	s->addr = (uint32_t)lo;
	s->len = s->cap = n;
	memmove(&img->segs[i + 1], &img->segs[j], (img->n_segs - j) * sizeof *s);
	img->n_segs -= j - i - 1;
	img->hint = i;
	return 0;
}

int img_batch_add(struct img_batch *b, uint32_t addr, const uint8_t *data, size_t len, unsigned tag, struct err *e)
{
	if (len == 0)
		return 0;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct img_chunk *c = cap < SIZE_MAX / sizeof *c ? realloc(b->c, cap * sizeof *c) : NULL;
		if (!c)
			return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory for the file's records");
		b->c = c;
		b->cap = cap;
	}
	if (b->bcap - b->used < len) {
		size_t cap = b->bcap ? b->bcap : 65536;
		while (cap - b->used < len)
			cap *= 2;
		uint8_t *d = realloc(b->bytes, cap);
		if (!d)
			return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory for the file's records");
		b->bytes = d;
		b->bcap = cap;
	}
	memcpy(b->bytes + b->used, data, len);
	if (b->n == 0)
		b->sorted = true;
	else if (addr < b->c[b->n - 1].addr)
		b->sorted = false;
	b->c[b->n] = (struct img_chunk){addr, (uint32_t)len, b->used, tag, b->n};
	b->n++;
	b->used += len;
	return 0;
}

static int chunk_cmp(const void *pa, const void *pb)
{
	const struct img_chunk *a = pa, *b = pb;
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int img_batch_commit(struct img_batch *b, struct img *img, unsigned *tag, struct err *e)
{
	if (!b->sorted && b->n > 1) /* an empty batch has no array: qsort(NULL, 0) is undefined */
		qsort(b->c, b->n, sizeof *b->c, chunk_cmp);
	int rc = 0;
	for (size_t i = 0; i < b->n && rc == 0; i++) {
		rc = img_add(img, 0, b->c[i].addr, b->bytes + b->c[i].off, b->c[i].len, e);
		if (rc && tag)
			*tag = b->c[i].tag;
	}
	img_batch_free(b);
	return rc;
}

int img_read_records(struct img *img, const uint8_t *p, size_t n, const char *name, img_record_parser parse,
                     struct err *e)
{
	struct img_batch batch = {0};
	int rc = parse(img, p, n, name, &batch, e);
	if (rc) {
		img_batch_free(&batch);
		return rc;
	}
	unsigned line = 0;
	rc = img_batch_commit(&batch, img, &line, e);
	return rc ? err_prefix(e, "%s line %u", name, line) : 0;
}

void img_batch_free(struct img_batch *b)
{
	free(b->c);
	free(b->bytes);
	memset(b, 0, sizeof *b);
}

int img_fill_range(struct img *img, uint8_t alt, uint32_t addr, size_t len, uint8_t fill,
		   struct err *e)
{
	if (len == 0)
		return 0;
	if ((uint64_t)len > 0x100000000ull - addr)
		return err_set(e, STM32DFU_E_RANGE, "fill of %zu bytes at 0x%08X runs past 4 GiB", len,
			       (unsigned)addr);
	uint8_t *buf = malloc(len);
	if (!buf)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory for a %zu-byte fill", len);
	/* read what is there, fill the rest: adding it back is then an identical overlap */
	img_read(img, alt, addr, len, fill, buf);
	int rc = img_add(img, alt, addr, buf, len, e);
	free(buf);
	return rc;
}

bool img_span(const struct img *img, uint32_t *lo, uint64_t *end)
{
	if (!img->n_segs)
		return false;
	uint32_t l = UINT32_MAX;
	uint64_t h = 0;
	for (size_t i = 0; i < img->n_segs; i++) {
		const struct img_seg *s = &img->segs[i];
		if (s->addr < l)
			l = s->addr;
		if ((uint64_t)s->addr + s->len > h)
			h = (uint64_t)s->addr + s->len;
	}
	*lo = l;
	*end = h;
	return true;
}

uint64_t img_total_bytes(const struct img *img)
{
	uint64_t t = 0;
	for (size_t i = 0; i < img->n_segs; i++)
		t += img->segs[i].len;
	return t;
}

size_t img_alt_count(const struct img *img)
{
	size_t n = 0;
	for (size_t i = 0; i < img->n_segs; i++)
		if (i == 0 || img->segs[i].alt != img->segs[i - 1].alt)
			n++;
	return n;
}

const struct img_seg *img_find(const struct img *img, uint8_t alt, uint32_t addr)
{
	size_t i = first_touching(img, key(alt, addr) + 1);
	if (i < img->n_segs && seg_start(&img->segs[i]) <= key(alt, addr))
		return &img->segs[i];
	return NULL;
}

bool img_get_byte(const struct img *img, uint8_t alt, uint32_t addr, uint8_t *out)
{
	const struct img_seg *s = img_find(img, alt, addr);
	if (!s)
		return false;
	*out = s->data[addr - s->addr];
	return true;
}

size_t img_read(const struct img *img, uint8_t alt, uint32_t addr, size_t len, uint8_t fill,
		uint8_t *out)
{
	memset(out, fill, len);
	uint64_t k0 = key(alt, addr), k1 = k0 + len;
	size_t present = 0;
	for (size_t i = first_touching(img, k0 + 1); i < img->n_segs; i++) {
		const struct img_seg *s = &img->segs[i];
		if (seg_start(s) >= k1)
			break;
		uint64_t lo = seg_start(s) > k0 ? seg_start(s) : k0;
		uint64_t hi = seg_end(s) < k1 ? seg_end(s) : k1;
		if (hi <= lo)
			continue;
		memcpy(out + (lo - k0), s->data + (lo - seg_start(s)), (size_t)(hi - lo));
		present += (size_t)(hi - lo);
	}
	return present;
}

uint32_t img_crc32(const struct img *img)
{
	uint32_t crc = 0;
	for (size_t i = 0; i < img->n_segs; i++)
		crc = crc32_update(crc, img->segs[i].data, img->segs[i].len);
	return crc;
}

uint32_t img_crc32_range(const struct img *img, uint8_t alt, uint32_t addr, size_t len,
			 uint8_t fill)
{
	uint8_t chunk[4096];
	uint32_t crc = 0;
	while (len) {
		size_t n = len < sizeof chunk ? len : sizeof chunk;
		img_read(img, alt, addr, n, fill, chunk);
		crc = crc32_update(crc, chunk, n);
		addr += (uint32_t)n;
		len -= n;
	}
	return crc;
}

bool img_suffix_matches(const struct img *img, uint16_t vid, uint16_t pid)
{
	if (!img->suffix.present)
		return true;
	return (img->suffix.vid == 0xFFFF || img->suffix.vid == vid) &&
	       (img->suffix.pid == 0xFFFF || img->suffix.pid == pid);
}

const char *img_target_name(const struct img *img, uint8_t alt)
{
	for (size_t i = 0; i < img->n_targets; i++)
		if (img->targets[i].alt == alt)
			return img->targets[i].name;
	return NULL;
}

int img_check_single_alt(const struct img *img, const char *what, struct err *e)
{
	if (img_alt_count(img) <= 1)
		return 0;
	err_set(e, STM32DFU_E_UNSUPPORTED, "the image has data for %zu alt settings; %s holds one",
		img_alt_count(img), what);
	err_hint(e, "write a .dfu, which keeps one target per alt setting");
	return STM32DFU_E_UNSUPPORTED;
}

bool img_buf_reserve(struct img_buf *b, size_t more)
{
	if (b->failed)
		return false;
	if (more <= b->cap - b->len)
		return true;
	if (more > SIZE_MAX - b->len) {
		b->failed = true;
		return false;
	}
	size_t need = b->len + more, cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void img_buf_put(struct img_buf *b, const void *p, size_t n)
{
	if (!n || !img_buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void img_buf_free(struct img_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}
