#include "cli/json.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "core/utf8.h"

void json_init(struct json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->first[0] = true;
	j->after_key = false;
	j->compact = false;
}

/* comma and indentation before a value or a key */
static void json_sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (!j->first[j->depth])
			fputc(',', j->out);
		if (j->compact) {
			j->first[j->depth] = false;
			return;
		}
		fputc('\n', j->out);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->out);
	}
	j->first[j->depth] = false;
}

static void json_open(struct json *j, char c)
{
	json_sep(j);
	fputc(c, j->out);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct json *j, char c)
{
	bool empty = j->first[j->depth];
	if (j->depth > 0)
		j->depth--;
	if (!empty && !j->compact) {
		fputc('\n', j->out);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->out);
	}
	fputc(c, j->out);
}

void json_obj_begin(struct json *j) { json_open(j, '{'); }
void json_obj_end(struct json *j) { json_close(j, '}'); }
void json_arr_begin(struct json *j) { json_open(j, '['); }
void json_arr_end(struct json *j) { json_close(j, ']'); }

/* Valid UTF-8 goes out as it is; JSON requires escaping only '"', '\\' and the controls below
 * 0x20 (RFC 8259 §7). A byte that is not part of well-formed UTF-8 (a file name is bytes, not text)
 * becomes the lone surrogate U+DC00+byte, as Python's "surrogateescape" does, so the exact bytes
 * come back: json.loads(doc)["file"].encode("utf-8", "surrogateescape") (docs/json.md). */
static void json_raw_string(FILE *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	fputc('"', out);
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		uint32_t cp;
		size_t len = c >= 0x80 ? utf8_decode(u + i, n - i, &cp) : 1;
		if (len > 1) {
			fwrite(u + i, 1, len, out);
			i += len;
			continue;
		}
		i++;
		if (c >= 0x80)
			fprintf(out, "\\udc%02x", c);
		else if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void json_key(struct json *j, const char *key)
{
	json_sep(j);
	json_raw_string(j->out, key, strlen(key));
	fputs(": ", j->out);
	j->after_key = true;
}

void json_strn(struct json *j, const char *s, size_t n)
{
	json_sep(j);
	json_raw_string(j->out, s, n);
}

void json_str(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void json_int(struct json *j, long long v)
{
	json_sep(j);
	fprintf(j->out, "%lld", v);
}

void json_uint(struct json *j, unsigned long long v)
{
	json_sep(j);
	fprintf(j->out, "%llu", v);
}

void json_double(struct json *j, double v)
{
	json_sep(j);
	if (isfinite(v))
		fprintf(j->out, "%.6g", v);
	else
		fputs("null", j->out);
}

void json_bool(struct json *j, bool v)
{
	json_sep(j);
	fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j)
{
	json_sep(j);
	fputs("null", j->out);
}

void json_hex32(struct json *j, uint32_t v)
{
	json_sep(j);
	fprintf(j->out, "\"0x%08" PRIX32 "\"", v);
}

void json_end(struct json *j)
{
	fputc('\n', j->out);
	fflush(j->out);
}

void json_kstr(struct json *j, const char *key, const char *s) { json_key(j, key); json_str(j, s); }
void json_kint(struct json *j, const char *key, long long v) { json_key(j, key); json_int(j, v); }
void json_kuint(struct json *j, const char *key, unsigned long long v) { json_key(j, key); json_uint(j, v); }
void json_kbool(struct json *j, const char *key, bool v) { json_key(j, key); json_bool(j, v); }
void json_khex32(struct json *j, const char *key, uint32_t v) { json_key(j, key); json_hex32(j, v); }
void json_kdouble(struct json *j, const char *key, double v) { json_key(j, key); json_double(j, v); }
