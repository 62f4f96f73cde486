/* UTF-8 as RFC 3629 defines it: the one decoder the JSON writer and the emulator's strings share. */
#ifndef CORE_UTF8_H
#define CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the code point at s (n bytes available): returns the bytes it takes (1-4) and sets *cp,
 * or 0 when s does not start a well-formed sequence (a stray continuation byte, an overlong form,
 * a surrogate, a code point past U+10FFFF, a sequence cut short). n must be at least 1. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
