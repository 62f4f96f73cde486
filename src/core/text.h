/* Text from outside (device strings, names in files) made safe to print on a terminal. */
#ifndef CORE_TEXT_H
#define CORE_TEXT_H

#include <stddef.h>

/*
 * Copies s into out (cap bytes, always NUL-terminated) with every control character (below 0x20,
 * and 0x7F) and the backslash written as an escape: \x1b, \\ (so a device cannot retitle the
 * terminal, clear the screen or move the cursor over our verdict). Bytes >= 0x80 pass (UTF-8).
 * Cut at a whole escape when out is full. Returns out. On Windows the backslash, the path
 * separator, passes as it is: a path in a message must read as the user typed it.
 */
char *text_escape(char *out, size_t cap, const char *s);
/* The same in a buffer the calling thread owns until its next call with the same slot (0-3), for
 * printf arguments: printf("%s %s", text_esc(0, a), text_esc(1, b)). 1600 bytes each (a
 * 384-byte string descriptor all escapes). */
const char *text_esc(unsigned slot, const char *s);

#endif
