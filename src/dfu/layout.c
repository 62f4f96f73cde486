/* Memory-layout string parser (see layout.h). Hand-written, bounded, overflow-checked. */
#include "dfu/layout.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "dfu/proto.h"

_Static_assert((int)LAYOUT_READABLE == (int)DFUSE_MEM_READABLE && (int)LAYOUT_ERASABLE == (int)DFUSE_MEM_ERASABLE &&
                   (int)LAYOUT_WRITABLE == (int)DFUSE_MEM_WRITABLE,
               "a layout's access bits are the DfuSe type letter's");

struct cur {
	const char *s;
	size_t n, pos;
	struct err *e;
};

static int peek(const struct cur *c)
{
	return c->pos < c->n ? (unsigned char)c->s[c->pos] : -1;
}

static int fail(struct cur *c, const char *what)
{
	return err_set(c->e, STM32DFU_E_PROTOCOL, "layout: %s at offset %zu", what, c->pos);
}

static void skip_spaces(struct cur *c)
{
	while (peek(c) == ' ' || peek(c) == '\t')
		c->pos++;
}

static bool only_space_left(const struct cur *c)
{
	for (size_t i = c->pos; i < c->n; i++)
		if (c->s[i] != ' ' && c->s[i] != '\t' && c->s[i] != '\r' && c->s[i] != '\n')
			return false;
	return true;
}

/* A decimal number of any width (leading zeros allowed) that fits 32 bits. */
static int decimal(struct cur *c, uint32_t *out, const char *what)
{
	uint64_t v = 0;
	size_t start = c->pos;
	while (peek(c) >= '0' && peek(c) <= '9') {
		v = v * 10 + (uint64_t)(peek(c) - '0');
		if (v > UINT32_MAX) {
			c->pos = start; /* point at the number, not at the digit that overflowed */
			return fail(c, what[0] == 's' ? "sector size too large" : "sector count too large");
		}
		c->pos++;
	}
	if (c->pos == start) {
		char msg[64];
		snprintf(msg, sizeof msg, "expected %s (digits)", what);
		return fail(c, msg);
	}
	*out = (uint32_t)v;
	return 0;
}

static bool at_hex_prefix(const struct cur *c)
{
	return c->pos + 1 < c->n && c->s[c->pos] == '0' && (c->s[c->pos + 1] == 'x' || c->s[c->pos + 1] == 'X');
}

static int hex_address(struct cur *c, uint32_t *out)
{
	if (!at_hex_prefix(c))
		return fail(c, "expected region address '0x...'");
	c->pos += 2;
	uint64_t v = 0;
	size_t start = c->pos;
	for (;;) {
		int ch = peek(c);
		unsigned h;
		if (ch >= '0' && ch <= '9')
			h = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			h = (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			h = (unsigned)(ch - 'A' + 10);
		else
			break;
		v = v * 16 + h;
		if (v > UINT32_MAX)
			return fail(c, "region address wider than 32 bits");
		c->pos++;
	}
	if (c->pos == start)
		return fail(c, "expected hex digits after '0x'");
	*out = (uint32_t)v;
	return 0;
}

/* N*SIZE[unit]type */
static int group(struct cur *c, struct layout_group *g)
{
	uint32_t count, size;
	skip_spaces(c); /* Artery's AT32 ROM: "/0x08000000/ 128*1Kg" (dfu-util's sscanf skips it too) */
	int r = decimal(c, &count, "count");
	if (r < 0)
		return r;
	if (count == 0)
		return fail(c, "sector count is zero");
	if (peek(c) != '*')
		return fail(c, "expected '*' after sector count");
	c->pos++;
	r = decimal(c, &size, "size");
	if (r < 0)
		return r;
	skip_spaces(c); /* a space unit means bytes: "01*032 e", "1024*256 g" */
	uint64_t mult = 1;
	int u = peek(c);
	if (u == 'K' || u == 'M' || u == 'B') {
		mult = u == 'K' ? 1024u : u == 'M' ? 1024u * 1024u : 1u;
		c->pos++;
		skip_spaces(c);
	}
	int t = peek(c);
	if (t < 'a' || t > 'g')
		return fail(c, "expected sector type letter a-g");
	c->pos++;
	uint64_t bytes = (uint64_t)size * mult;
	if (bytes == 0 || bytes > UINT32_MAX)
		return fail(c, bytes ? "sector size too large" : "sector size is zero");
	g->count = count;
	g->size = (uint32_t)bytes;
	g->type = (uint8_t)((t - 'a' + 1) & 7);
	return 0;
}

int layout_parse(const char *s, size_t n, struct layout *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (!s)
		n = 0;
	const void *nul = n ? memchr(s, '\0', n) : NULL;
	if (nul)
		n = (size_t)((const char *)nul - s);
	struct cur c = {s, n, 0, e};
	uint64_t sectors = 0;
	if (peek(&c) != '@')
		return fail(&c, "expected '@'");
	c.pos++;
	/* the name runs to the first '/'; trim both ends (ROMs pad it with 1-3 spaces) */
	size_t name_start = c.pos;
	while (c.pos < n && s[c.pos] != '/')
		c.pos++;
	if (c.pos == n)
		return fail(&c, "expected '/' after the name");
	size_t a = name_start, b = c.pos;
	while (a < b && (s[a] == ' ' || s[a] == '\t'))
		a++;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	size_t nl = b - a < LAYOUT_NAME_MAX - 1 ? b - a : LAYOUT_NAME_MAX - 1;
	memcpy(out->name, s + a, nl);
	out->name[nl] = '\0';

	for (;;) {
		/* here: at '/' before a region address */
		c.pos++;
		if (out->n_regions == LAYOUT_MAX_REGIONS)
			return fail(&c, "too many regions");
		struct layout_region *reg = &out->regions[out->n_regions];
		int r = hex_address(&c, &reg->start);
		if (r < 0)
			return r;
		if (peek(&c) != '/')
			return fail(&c, "expected '/' after region address");
		c.pos++;
		for (;;) {
			if (reg->n_groups == LAYOUT_MAX_GROUPS)
				return fail(&c, "too many sector groups in one region");
			struct layout_group *g = &reg->groups[reg->n_groups];
			r = group(&c, g);
			if (r < 0)
				return r;
			reg->n_groups++;
			/* a device's memory map, not a way to make the host allocate: every sector becomes a
			 * plan entry, so the total is bounded before anything is allocated for it */
			sectors += g->count;
			if (sectors > LAYOUT_MAX_SECTORS)
				return fail(&c, "more sectors than any device has (the limit is " LAYOUT_MAX_SECTORS_TEXT ")");
			/* no wrap: length <= 2^32 here and count * size <= (2^32 - 1)^2 */
			reg->length += (uint64_t)g->count * g->size;
			if ((uint64_t)reg->start + reg->length > (uint64_t)UINT32_MAX + 1)
				return fail(&c, "region runs past the 4 GiB address space");
			if (peek(&c) != ',')
				break;
			c.pos++;
		}
		for (unsigned k = 0; k < out->n_regions; k++) {
			const struct layout_region *o = &out->regions[k];
			if (reg->start < o->start + o->length && o->start < reg->start + reg->length)
				return fail(&c, "region overlaps an earlier one");
		}
		out->n_regions++;
		if (peek(&c) == '/') {
			size_t save = c.pos;
			c.pos++;
			if (at_hex_prefix(&c)) {
				c.pos = save;
				continue;
			}
			c.pos = save;
		}
		break;
	}
	if (!only_space_left(&c)) {
		out->trailing_at = c.pos;
		log_warn("layout \"%.*s\": ignoring trailing characters at offset %zu", (int)(n < 120 ? n : 120), s,
		         c.pos);
	}
	/* dfu-util's quirk for STM32F4: the Device Feature area is readable and writable */
	if (strcmp(out->name, "Device Feature") == 0) {
		out->quirk_device_feature = true;
		for (unsigned i = 0; i < out->n_regions; i++)
			for (unsigned j = 0; j < out->regions[i].n_groups; j++)
				out->regions[i].groups[j].type |= DFUSE_MEM_READABLE | DFUSE_MEM_WRITABLE;
	}
	return 0;
}
