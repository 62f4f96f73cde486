/* The extent probe (probe.h): a file's data ranges without loading the file. */
#include "image/probe.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool img_extent_add(struct img_extent *x, uint8_t alt, uint32_t lo, uint64_t end)
{
	if (!x->known || end <= lo)
		return x->known;
	x->bytes += end - lo;
	/* most files are in address order: the last range first */
	if (x->n && x->r[x->n - 1].alt == alt && lo >= x->r[x->n - 1].lo && lo <= x->r[x->n - 1].end) {
		if (end > x->r[x->n - 1].end)
			x->r[x->n - 1].end = end;
		return true;
	}
	size_t i = 0;
	while (i < x->n && (x->r[i].alt < alt || (x->r[i].alt == alt && x->r[i].end < lo)))
		i++;
	/* [i, j) are the ranges of alt that touch [lo, end) */
	size_t j = i;
	while (j < x->n && x->r[j].alt == alt && x->r[j].lo <= end)
		j++;
	if (j > i) {
		if (x->r[i].lo < lo)
			lo = x->r[i].lo;
		if (x->r[j - 1].end > end)
			end = x->r[j - 1].end;
		x->r[i] = (struct img_range){alt, lo, end};
		memmove(&x->r[i + 1], &x->r[j], (x->n - j) * sizeof x->r[0]);
		x->n -= j - i - 1;
		return true;
	}
	if (x->n == IMG_EXTENT_MAX) {
		x->known = false;  /* too scattered to keep cheaply: the full parse decides */
		return false;
	}
	memmove(&x->r[i + 1], &x->r[i], (x->n - i) * sizeof x->r[0]);
	x->r[i] = (struct img_range){alt, lo, end};
	x->n++;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the hex digits of s (n digits, n even) into out; false on a non-hex digit. */
static bool unhex(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i + 1 < n; i += 2) {
		int a = hexval(s[i]), b = hexval(s[i + 1]);
		if (a < 0 || b < 0)
			return false;
		out[i / 2] = (uint8_t)(a << 4 | b);
	}
	return true;
}

static void give_up(struct img_scan *s)
{
	s->x->known = false;
	s->done = true;
}

static void ihex_record(struct img_scan *s, const char *l, size_t n)
{
	uint8_t b[300];
	if (n < 11 || l[0] != ':' || (n - 1) % 2 || (n - 1) / 2 > sizeof b || !unhex(l + 1, n - 1, b))
		return give_up(s);
	size_t nb = (n - 1) / 2;
	uint8_t sum = 0;
	for (size_t i = 0; i < nb; i++)
		sum = (uint8_t)(sum + b[i]);
	if (sum != 0 || nb != (size_t)b[0] + 5)
		return give_up(s);
	uint32_t off = (uint32_t)b[1] << 8 | b[2];
	switch (b[3]) {
	case 0x00:
		/* data crossing a 64 KiB boundary wraps or not by parser: leave that to the full parse */
		if (off + b[0] > 0x10000u)
			return give_up(s);
		img_extent_add(s->x, 0, s->base + off, (uint64_t)s->base + off + b[0]);
		if (!s->x->known)
			s->done = true;
		return;
	case 0x01:
		s->done = true;
		return;
	case 0x02:
	case 0x04:
		if (b[0] != 2)
			return give_up(s);
		s->base = ((uint32_t)b[4] << 8 | b[5]) << (b[3] == 0x02 ? 4 : 16);
		return;
	case 0x03:
	case 0x05:
		return;
	default:
		return give_up(s);
	}
}

static void srec_record(struct img_scan *s, const char *l, size_t n)
{
	uint8_t b[300];
	if (n < 4 || (l[0] != 'S' && l[0] != 's') || hexval(l[1]) < 0 || (n - 2) % 2 || (n - 2) / 2 > sizeof b ||
	    !unhex(l + 2, n - 2, b))
		return give_up(s);
	size_t nb = (n - 2) / 2;
	uint8_t sum = 0;
	for (size_t i = 0; i < nb; i++)
		sum = (uint8_t)(sum + b[i]);
	if (sum != 0xFF || nb != (size_t)b[0] + 1)
		return give_up(s);
	unsigned t = (unsigned)hexval(l[1]);
	unsigned alen = t == 1 ? 2 : t == 2 ? 3 : t == 3 ? 4 : 0;
	if (t == 7 || t == 8 || t == 9) {
		s->done = true;
		return;
	}
	if (!alen)
		return; /* S0 header, S5/S6 counts */
	if (b[0] < alen + 1)
		return give_up(s);
	uint32_t a = 0;
	for (unsigned i = 0; i < alen; i++)
		a = a << 8 | b[1 + i];
	img_extent_add(s->x, 0, a, (uint64_t)a + (b[0] - alen - 1u));
	if (!s->x->known)
		s->done = true;
}

static void end_line(struct img_scan *s)
{
	size_t n = s->len;
	while (n && (s->line[n - 1] == ' ' || s->line[n - 1] == '\t' || s->line[n - 1] == '\r'))
		n--;
	size_t i = 0;
	while (i < n && (s->line[i] == ' ' || s->line[i] == '\t'))
		i++;
	s->len = 0;
	if (i == n)
		return;
	if (s->format == IMG_FMT_IHEX)
		ihex_record(s, s->line + i, n - i);
	else
		srec_record(s, s->line + i, n - i);
}

void img_scan_init(struct img_scan *s, enum img_format f, struct img_extent *x)
{
	memset(s, 0, sizeof *s);
	s->format = f;
	s->x = x;
}

void img_scan_feed(struct img_scan *s, const uint8_t *buf, size_t len, bool final)
{
	for (size_t i = 0; i < len && !s->done; i++) {
		if (buf[i] == '\n') {
			end_line(s);
			continue;
		}
		if (s->len == sizeof s->line)
			return give_up(s);
		s->line[s->len++] = (char)buf[i];
	}
	if (final && !s->done) {
		if (s->len)
			end_line(s);
		/* a file with no end record: the full parse says whether that is an error */
		if (!s->done)
			give_up(s);
	}
}

/* DfuSe (protocol.md §1.7): prefix, then per target a 274-byte header and elements (8-byte header +
 * data), read with seeks; any inconsistency leaves the extent unknown. */
static void probe_dfuse(FILE *f, struct img_extent *x)
{
	uint8_t h[274];
	if (fseek(f, 0, SEEK_SET) != 0 || fread(h, 1, 11, f) != 11 || memcmp(h, "DfuSe", 5) != 0) {
		x->known = false;
		return;
	}
	unsigned targets = h[10];
	uint64_t pos = 11, limit = x->file_size >= 16 ? x->file_size - 16 : 0; /* the suffix ends the file */
	for (unsigned t = 0; t < targets && x->known; t++) {
		if (pos + 274 > limit || fseek(f, (long)pos, SEEK_SET) != 0 || fread(h, 1, 274, f) != 274 ||
		    memcmp(h, "Target", 6) != 0) {
			x->known = false;
			return;
		}
		uint8_t alt = h[6];
		uint32_t n_el = le32(h + 270);
		pos += 274;
		for (uint32_t k = 0; k < n_el && x->known; k++) {
			uint8_t eh[8];
			if (pos + 8 > limit || fseek(f, (long)pos, SEEK_SET) != 0 || fread(eh, 1, 8, f) != 8) {
				x->known = false;
				return;
			}
			uint32_t addr = le32(eh), size = le32(eh + 4);
			pos += 8;
			if (pos + size > limit) {
				x->known = false;
				return;
			}
			img_extent_add(x, alt, addr, (uint64_t)addr + size);
			pos += size;
		}
	}
}

void img_probe_file(const char *path, const struct img_load_opts *o, struct img_extent *x)
{
	memset(x, 0, sizeof *x);
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f)
		return;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > IMG_FILE_MAX) {
		fclose(f);
		return;
	}
	x->file_size = (uint64_t)st.st_size;
	x->known = true;
	uint8_t head[4096];
	size_t n = fread(head, 1, sizeof head, f);
	enum img_format fmt = o && o->format != IMG_FMT_UNKNOWN ? o->format : img_detect(head, n, path);
	/* a DFU suffix is found at the file's end, which the head does not hold */
	uint8_t tail[16];
	if (x->file_size >= 16 && fseek(f, -16, SEEK_END) == 0 && fread(tail, 1, 16, f) == 16 &&
	    memcmp(tail + 8, "UFD", 3) == 0 && fmt != IMG_FMT_DFUSE)
		fmt = IMG_FMT_DFU;
	x->format = fmt;
	switch (fmt) {
	case IMG_FMT_BIN:
		if (!o || !o->has_base || x->file_size == 0)
			x->known = false;
		else
			img_extent_add(x, 0, o->base, (uint64_t)o->base + x->file_size);
		break;
	case IMG_FMT_DFUSE:
		probe_dfuse(f, x);
		break;
	case IMG_FMT_IHEX:
	case IMG_FMT_SREC: {
		struct img_scan sc;
		img_scan_init(&sc, fmt, x);
		if (fseek(f, 0, SEEK_SET) != 0) {
			x->known = false;
			break;
		}
		uint8_t buf[65536];
		size_t got;
		while (!sc.done && (got = fread(buf, 1, sizeof buf, f)) > 0)
			img_scan_feed(&sc, buf, got, false);
		if (!sc.done)
			img_scan_feed(&sc, NULL, 0, true);
		if (ferror(f))
			x->known = false;
		break;
	}
	default:
		x->known = false; /* ELF, plain DFU: the full parse */
		break;
	}
	if (x->known && x->n == 0)
		x->known = false; /* no data: the full parse says so in its words */
	fclose(f);
}
