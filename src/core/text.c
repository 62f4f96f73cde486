#include "core/text.h"

#include <stdio.h>

char *text_escape(char *out, size_t cap, const char *s)
{
	size_t k = 0;
	if (!cap)
		return out;
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[5];
		size_t n;
		if (c < 0x20 || c == 0x7F) {
			snprintf(esc, sizeof esc, "\\x%02x", c);
			n = 4;
#ifndef _WIN32
		} else if (c == '\\') {
			esc[0] = esc[1] = '\\';
			n = 2;
#endif
		} else {
			esc[0] = (char)c;
			n = 1;
		}
		if (k + n >= cap)
			break;
		for (size_t i = 0; i < n; i++)
			out[k++] = esc[i];
	}
	out[k] = '\0';
	return out;
}

const char *text_esc(unsigned slot, const char *s)
{
	static _Thread_local char buf[4][1600];
	return text_escape(buf[slot & 3], sizeof buf[0], s);
}
