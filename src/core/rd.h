/*
 * A bounded little-endian reader over (pointer, length). Reads past the end return 0 and set a
 * sticky error flag, so a parser can read a whole header and check once.
 */
#ifndef CORE_RD_H
#define CORE_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rd {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool overrun;
};

void rd_init(struct rd *r, const void *p, size_t len);
uint8_t rd_u8(struct rd *r);
uint16_t rd_le16(struct rd *r);
uint32_t rd_le32(struct rd *r);
uint16_t rd_be16(struct rd *r);
uint32_t rd_be32(struct rd *r);
/* Copies n bytes; on overrun fills out with zeros and returns false. */
bool rd_bytes(struct rd *r, void *out, size_t n);
/* A pointer to the next n bytes (and skips them), or NULL on overrun. */
const uint8_t *rd_take(struct rd *r, size_t n);
bool rd_skip(struct rd *r, size_t n);
/* Moves to an absolute offset; false (and overrun) past the end. */
bool rd_seek(struct rd *r, size_t pos);
size_t rd_left(const struct rd *r);
bool rd_ok(const struct rd *r);

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#endif
