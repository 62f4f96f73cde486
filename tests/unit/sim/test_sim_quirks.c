/*
 * docs/rom-quirks.md against the emulator's profile parser, so the catalogue cannot drift:
 * every key the parser knows is either a catalogue row's key or listed as modelling no behaviour;
 * every key the page names exists; every catalogue row has a grade; every test it names exists.
 */
#include "sim_test.h"

#include <ctype.h>

#define MAX_KEYS 256

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	size_t k;
	while (buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += k;
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

struct names {
	char v[MAX_KEYS][64];
	size_t n;
};

static bool has(const struct names *s, const char *k)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], k) == 0)
			return true;
	return false;
}

/* Adds each `backticked` word of [p, end) that looks like a key (lowercase, digits, '_'). */
static void backticked(const char *p, const char *end, struct names *out)
{
	while (p < end && (p = memchr(p, '`', (size_t)(end - p))) != NULL) {
		const char *q = memchr(p + 1, '`', (size_t)(end - p - 1));
		if (!q)
			break;
		size_t len = (size_t)(q - p - 1);
		bool key = len > 0 && len < 64;
		for (size_t i = 1; key && i <= len; i++)
			key = islower((unsigned char)p[i]) || isdigit((unsigned char)p[i]) || p[i] == '_';
		if (key && out->n < MAX_KEYS) {
			memcpy(out->v[out->n], p + 1, len);
			out->v[out->n][len] = '\0';
			out->n++;
		}
		p = q + 1;
	}
}

/* The cells of one table row "| a | b | c |": pointers to each cell's start and end. */
static int cells(const char *line, const char *end, const char **cs, const char **ce, int max)
{
	int n = 0;
	const char *p = memchr(line, '|', (size_t)(end - line));
	while (p && p < end && n < max) {
		const char *q = memchr(p + 1, '|', (size_t)(end - p - 1));
		if (!q)
			break;
		cs[n] = p + 1;
		ce[n] = q;
		n++;
		p = q;
	}
	return n;
}

/* A test reference "tests/DIR/FILE[::FUNCTION]" must name a file that exists and, with a function,
 * a file that defines it. */
static void check_test_ref(const char *ref)
{
	char path[512], func[128] = "";
	const char *sep = strstr(ref, "::");
	size_t fl = sep ? (size_t)(sep - ref) : strlen(ref);
	assert_true(fl < 256);
	snprintf(path, sizeof path, "%s/%.*s", SOURCE_ROOT, (int)fl, ref);
	if (sep)
		snprintf(func, sizeof func, "%s(", sep + 2);
	char *src = slurp(path);
	if (!src)
		fail_msg("docs/rom-quirks.md names %s, which does not exist", ref);
	if (func[0] && !strstr(src, func))
		fail_msg("docs/rom-quirks.md names %s: %s does not define it", ref, path);
	free(src);
}

/* Every tests/... reference in [p, end). */
static unsigned check_tests_in(const char *p, const char *end)
{
	unsigned n = 0;
	while (p < end && (p = strstr(p, "tests/")) != NULL && p < end) {
		size_t len = 0;
		while (p + len < end && (isalnum((unsigned char)p[len]) || strchr("/_.-:", p[len])))
			len++;
		while (len && (p[len - 1] == '.' || p[len - 1] == ':'))
			len--;
		char ref[300];
		snprintf(ref, sizeof ref, "%.*s", (int)len, p);
		check_test_ref(ref);
		n++;
		p += len;
	}
	return n;
}

static void test_catalogue_matches_the_parser(void **state)
{
	(void)state;
	char *doc = slurp(SOURCE_ROOT "/docs/rom-quirks.md");
	assert_non_null(doc);
	const char *cat = strstr(doc, "\n## Catalogue");
	const char *plain = strstr(doc, "\n## Keys that model no ROM behaviour");
	assert_non_null(cat);
	assert_non_null(plain);
	assert_true(cat < plain);
	const char *plain_end = strstr(plain + 1, "\n## ");
	if (!plain_end)
		plain_end = doc + strlen(doc);

	struct names *row_keys = calloc(1, sizeof *row_keys), *other = calloc(1, sizeof *other);
	assert_non_null(row_keys);
	assert_non_null(other);
	unsigned rows = 0;
	for (const char *line = cat + 1; line < plain;) {
		const char *eol = strchr(line, '\n');
		if (!eol)
			eol = line + strlen(line);
		const char *cs[8], *ce[8];
		if (line[0] == '|' && strncmp(line, "|---", 4) != 0 && strncmp(line, "| family", 8) != 0) {
			int n = cells(line, eol, cs, ce, 8);
			if (n != 5)
				fail_msg("docs/rom-quirks.md: a catalogue row has %d cells, want 5: %.*s", n, (int)(eol - line), line);
			char ev[1024];
			snprintf(ev, sizeof ev, "%.*s", (int)(ce[2] - cs[2]), cs[2]);
			if (!strstr(ev, "**DOCUMENTED**") && !strstr(ev, "**OBSERVED**") && !strstr(ev, "**DERIVED**") &&
			    !strstr(ev, "**UNCONFIRMED**"))
				fail_msg("docs/rom-quirks.md: a row has no grade: %.*s", (int)(eol - line), line);
			backticked(cs[3], ce[3], row_keys);
			if (check_tests_in(cs[4], ce[4]) == 0)
				fail_msg("docs/rom-quirks.md: a row names no test: %.*s", (int)(eol - line), line);
			rows++;
		}
		line = *eol ? eol + 1 : eol;
	}
	assert_true(rows >= 10);
	backticked(plain, plain_end, other);
	check_tests_in(plain, plain_end);

	size_t nk;
	const char *const *known = sim_profile_known_keys(&nk);
	for (size_t i = 0; i < nk; i++)
		if (!has(row_keys, known[i]) && !has(other, known[i]))
			fail_msg("profile key `%s` is in neither the catalogue nor the list of keys that model no "
			         "behaviour (docs/rom-quirks.md)", known[i]);
	struct names all = {0};
	for (size_t i = 0; i < nk && all.n < MAX_KEYS; i++)
		snprintf(all.v[all.n++], sizeof all.v[0], "%s", known[i]);
	for (size_t i = 0; i < row_keys->n; i++)
		if (!has(&all, row_keys->v[i]))
			fail_msg("docs/rom-quirks.md names profile key `%s`, which the parser does not know", row_keys->v[i]);
	for (size_t i = 0; i < other->n; i++)
		if (!has(&all, other->v[i]))
			fail_msg("docs/rom-quirks.md lists `%s` as a key, which the parser does not know", other->v[i]);
	free(row_keys);
	free(other);
	free(doc);
}

/* The check itself: a key missing from the page, or a made-up one, must be caught. */
static void test_checker_sees_a_missing_key(void **state)
{
	(void)state;
	struct names s = {0};
	const char *line = "| `poll_erase`, `t_reset` and `no such` |";
	backticked(line, line + strlen(line), &s);
	assert_int_equal(s.n, 2);
	assert_true(has(&s, "poll_erase"));
	assert_true(has(&s, "t_reset"));
	assert_false(has(&s, "busy_reply_x"));
	const char *cs[8], *ce[8];
	const char *row = "| a | b | c |";
	assert_int_equal(cells(row, row + strlen(row), cs, ce, 8), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalogue_matches_the_parser),
		cmocka_unit_test(test_checker_sees_a_missing_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
