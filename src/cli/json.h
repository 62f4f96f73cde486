/* A small streaming JSON writer: always valid output, whatever bytes a device sends us. */
#ifndef CLI_JSON_H
#define CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *out;
	int depth;
	bool first[JSON_MAX_DEPTH]; /* no member written yet at this depth */
	bool after_key;
	bool compact;               /* one line, no indentation (JSON lines); set after json_init */
};

void json_init(struct json *j, FILE *out);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
/* Valid UTF-8 is written as it is, only '"', '\\' and controls escaped; a byte that is not
 * well-formed UTF-8 becomes \udcXX (Python's surrogateescape), so every string round-trips. */
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t n);
void json_int(struct json *j, long long v);
void json_uint(struct json *j, unsigned long long v);
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* "0x08000000"-style hex string, the form addresses take in our JSON (docs/json.md) */
void json_hex32(struct json *j, uint32_t v);
/* finishes the document with a newline */
void json_end(struct json *j);

/* key + value shorthands */
void json_kstr(struct json *j, const char *key, const char *s);
void json_kint(struct json *j, const char *key, long long v);
void json_kuint(struct json *j, const char *key, unsigned long long v);
void json_kbool(struct json *j, const char *key, bool v);
void json_khex32(struct json *j, const char *key, uint32_t v);
void json_kdouble(struct json *j, const char *key, double v);

#endif
