#include "core/rd.h"

#include <string.h>

void rd_init(struct rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->pos = 0;
	r->overrun = false;
}

size_t rd_left(const struct rd *r)
{
	return r->len - r->pos;
}

bool rd_ok(const struct rd *r)
{
	return !r->overrun;
}

const uint8_t *rd_take(struct rd *r, size_t n)
{
	if (r->overrun || n > rd_left(r)) {
		r->overrun = true;
		return NULL;
	}
	const uint8_t *at = r->p + r->pos;
	r->pos += n;
	return at;
}

bool rd_skip(struct rd *r, size_t n)
{
	return rd_take(r, n) != NULL || n == 0;
}

bool rd_seek(struct rd *r, size_t pos)
{
	if (pos > r->len) {
		r->overrun = true;
		return false;
	}
	r->pos = pos;
	return true;
}

bool rd_bytes(struct rd *r, void *out, size_t n)
{
	const uint8_t *at = rd_take(r, n);
	if (!at) {
		if (n)
			memset(out, 0, n);
		return n == 0;
	}
	if (n)
		memcpy(out, at, n);
	return true;
}

uint8_t rd_u8(struct rd *r)
{
	const uint8_t *at = rd_take(r, 1);
	return at ? at[0] : 0;
}

uint16_t rd_le16(struct rd *r)
{
	const uint8_t *at = rd_take(r, 2);
	return at ? get_le16(at) : 0;
}

uint32_t rd_le32(struct rd *r)
{
	const uint8_t *at = rd_take(r, 4);
	return at ? get_le32(at) : 0;
}

uint16_t rd_be16(struct rd *r)
{
	const uint8_t *at = rd_take(r, 2);
	return at ? (uint16_t)((at[0] << 8) | at[1]) : 0;
}

uint32_t rd_be32(struct rd *r)
{
	const uint8_t *at = rd_take(r, 4);
	return at ? ((uint32_t)at[0] << 24) | ((uint32_t)at[1] << 16) | ((uint32_t)at[2] << 8) | at[3] : 0;
}
