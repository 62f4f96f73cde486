/* Helpers shared by the image unit tests (one executable, three files). */
#ifndef TEST_IMAGE_UTIL_H
#define TEST_IMAGE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/crc32.h"
#include "image/image.h"

uint8_t *tu_slurp(const char *path, size_t *len);
/* Parses or fails the test with the error message. */
struct img *tu_parse_ok(const void *buf, size_t len, const char *name,
			const struct img_load_opts *o);
/* Expects a failure whose message contains want_in_msg (if not NULL); returns the code. */
int tu_parse_err(const void *buf, size_t len, const char *name, const struct img_load_opts *o,
		 const char *want_in_msg);

static inline uint32_t tu_crc32(const void *p, size_t n)
{
	return crc32_update(0, p, n);
}

int tu_run_core_tests(void);
int tu_run_malformed_tests(void);

#endif
