/*
 * Profiles: plain-text `key = value` files (docs/profiles.md), one per chip, plus inline keys
 * from a spec such as "f746,timing=0,serial=...". Here only text is handled; config.c gives the
 * keys their meaning.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>

#include "sim/sim_int.h"

#define SIM_PROFILE_FILE_MAX (1u << 20)

static char *sim_strdup(const char *s, size_t n)
{
	char *r = malloc(n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

static char *trim(char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static bool kv_add(struct sim_profile *p, const char *key, const char *value)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		struct sim_kv *kv = realloc(p->kv, cap * sizeof(*kv));
		if (!kv)
			return false;
		p->kv = kv;
		p->cap = cap;
	}
	p->kv[p->n].key = sim_strdup(key, strlen(key));
	p->kv[p->n].value = sim_strdup(value, strlen(value));
	if (!p->kv[p->n].key || !p->kv[p->n].value) {
		free(p->kv[p->n].key);
		free(p->kv[p->n].value);
		return false;
	}
	p->n++;
	return true;
}

static void kv_remove_key(struct sim_profile *p, const char *key)
{
	size_t j = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->kv[i].key, key) == 0) {
			free(p->kv[i].key);
			free(p->kv[i].value);
		} else {
			p->kv[j++] = p->kv[i];
		}
	}
	p->n = j;
}

/* Values keep inner spaces (alt strings pad names with them) but lose the outer ones, except
 * that a value in double quotes is taken verbatim. */
static int parse_text(struct sim_profile *p, char *text, const char *where, char *errbuf, size_t errlen)
{
	unsigned line = 0;
	char *save = text;
	while (save && *save) {
		char *nl = strchr(save, '\n');
		char *cur = save;
		if (nl) {
			*nl = '\0';
			save = nl + 1;
		} else {
			save = NULL;
		}
		line++;
		size_t cl = strlen(cur);
		if (cl > 0 && cur[cl - 1] == '\r')
			cur[cl - 1] = '\0';
		char *s = trim(cur);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(errbuf, errlen, "%s:%u: expected `key = value`", where, line);
			return -1;
		}
		*eq = '\0';
		char *key = trim(s);
		char *value = trim(eq + 1);
		size_t vl = strlen(value);
		if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
			value[vl - 1] = '\0';
			value++;
		}
		if (*key == '\0') {
			snprintf(errbuf, errlen, "%s:%u: empty key", where, line);
			return -1;
		}
		for (const char *k = key; *k; k++) {
			if (!isalnum((unsigned char)*k) && *k != '_') {
				snprintf(errbuf, errlen, "%s:%u: bad key `%s`", where, line, key);
				return -1;
			}
		}
		if (!kv_add(p, key, value)) {
			snprintf(errbuf, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int load_file(struct sim_profile *p, const char *path, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(errbuf, errlen, "profile %s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = malloc(SIM_PROFILE_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	size_t n = fread(buf, 1, SIM_PROFILE_FILE_MAX + 1, f);
	fclose(f);
	if (n > SIM_PROFILE_FILE_MAX) {
		free(buf);
		snprintf(errbuf, errlen, "profile %s: larger than 1 MiB", path);
		return -1;
	}
	buf[n] = '\0';
	int rc = parse_text(p, buf, path, errbuf, errlen);
	free(buf);
	return rc;
}

static void set_name(struct sim_profile *p, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	if (n >= sizeof(p->name))
		n = sizeof(p->name) - 1;
	memcpy(p->name, base, n);
	p->name[n] = '\0';
	char *dot = strstr(p->name, ".profile");
	if (dot && dot[8] == '\0')
		*dot = '\0';
}

static bool is_path(const char *s)
{
	size_t n = strlen(s);
	return strchr(s, '/') || (n > 8 && strcmp(s + n - 8, ".profile") == 0);
}

/* Where a profile name is looked up, in order (resolve, sim_profile_names). */
static void search_dirs(const char *profile_dir, const char *dirs[4])
{
	dirs[0] = profile_dir;
	dirs[1] = getenv("STM32DFU_PROFILE_DIR");
	dirs[2] = NULL;
	dirs[3] = NULL;
#ifdef STM32DFU_DATADIR
	dirs[2] = STM32DFU_DATADIR "/profiles";
#endif
#ifdef STM32DFU_SOURCE_PROFILES
	dirs[3] = STM32DFU_SOURCE_PROFILES;
#endif
}

void sim_profile_names(const char *profile_dir, void (*fn)(const char *name, void *ctx), void *ctx)
{
	const char *dirs[4];
	search_dirs(profile_dir, dirs);
	for (int i = 0; i < 4; i++) {
		if (!dirs[i] || !*dirs[i])
			continue;
		DIR *d = opendir(dirs[i]);
		if (!d)
			continue;
		for (struct dirent *e; (e = readdir(d));) {
			size_t n = strlen(e->d_name);
			if (n <= 8 || strcmp(e->d_name + n - 8, ".profile") != 0 || n - 8 >= 128)
				continue;
			char name[128];
			memcpy(name, e->d_name, n - 8);
			name[n - 8] = '\0';
			fn(name, ctx);
		}
		closedir(d);
	}
}

static int resolve(const char *name, const char *profile_dir, char *out, size_t cap)
{
	const char *dirs[4];
	search_dirs(profile_dir, dirs);
	for (int i = 0; i < 4; i++) {
		if (!dirs[i] || !*dirs[i])
			continue;
		int n = snprintf(out, cap, "%s/%s.profile", dirs[i], name);
		if (n < 0 || (size_t)n >= cap)
			continue;
		FILE *f = fopen(out, "rb");
		if (f) {
			fclose(f);
			return 0;
		}
	}
	return -1;
}

/*
 * `base = NAME` in a profile file: start from that profile (looked up like any other, or beside
 * this file) and let this file's keys replace the base's. A board is then its chip plus a few
 * lines. Bases nest up to SIM_BASE_DEPTH deep, which also stops loops.
 */
#define SIM_BASE_DEPTH 4
static int apply_base(struct sim_profile *p, const char *path, const char *profile_dir, int depth, char *errbuf,
                      size_t errlen)
{
	const char *base = sim_profile_get(p, "base");
	if (!base || !*base)
		return 0;
	if (depth >= SIM_BASE_DEPTH) {
		snprintf(errbuf, errlen, "%s: `base` nests too deep (a loop?)", path);
		return -1;
	}
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	char basepath[4096];
	if (is_path(base))
		snprintf(basepath, sizeof basepath, "%s", base);
	else if (resolve(base, dir, basepath, sizeof basepath) != 0) { /* beside this file, then the usual places */
		snprintf(errbuf, errlen, "%s: base profile `%s` not found", path, base);
		return -1;
	}
	struct sim_profile b = {0};
	if (load_file(&b, basepath, errbuf, errlen) != 0 ||
	    apply_base(&b, basepath, profile_dir, depth + 1, errbuf, errlen) != 0)
		goto fail;
	kv_remove_key(&b, "base");
	/* this file's keys replace the base's (all values of a repeatable key, like inline keys) */
	for (size_t i = 0; i < p->n; i++)
		kv_remove_key(&b, p->kv[i].key);
	for (size_t i = 0; i < b.n; i++)
		if (!kv_add(p, b.kv[i].key, b.kv[i].value)) {
			snprintf(errbuf, errlen, "out of memory");
			goto fail;
		}
	for (size_t i = 0; i < b.n; i++) {
		free(b.kv[i].key);
		free(b.kv[i].value);
	}
	free(b.kv);
	return 0;
fail:
	for (size_t i = 0; i < b.n; i++) {
		free(b.kv[i].key);
		free(b.kv[i].value);
	}
	free(b.kv);
	return -1;
}

struct sim_profile *sim_profile_load(const char *spec, const char *profile_dir, char *errbuf, size_t errlen)
{
	if (errlen)
		errbuf[0] = '\0';
	if (!spec)
		spec = "";
	struct sim_profile *p = calloc(1, sizeof(*p));
	char *copy = sim_strdup(spec, strlen(spec));
	if (!p || !copy) {
		free(p);
		free(copy);
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	char *rest = strchr(copy, ',');
	if (rest)
		*rest++ = '\0';
	char *head = trim(copy);
	/* A first part with '=' is an inline key: a profile of keys only. */
	if (*head && strchr(head, '=')) {
		if (rest)
			rest[-1] = ',';
		rest = head;
		head = (char *)"";
	}
	if (*head) {
		char path[4096];
		if (is_path(head)) {
			snprintf(path, sizeof(path), "%s", head);
		} else if (resolve(head, profile_dir, path, sizeof(path)) != 0) {
			snprintf(errbuf, errlen, "no profile named `%s`: give a file path, or put %s.profile in "
				 "$STM32DFU_PROFILE_DIR or the installed profiles directory", head, head);
			goto fail;
		}
		if (load_file(p, path, errbuf, errlen) != 0 || apply_base(p, path, profile_dir, 0, errbuf, errlen) != 0)
			goto fail;
		set_name(p, path);
	} else {
		snprintf(p->name, sizeof(p->name), "custom");
	}
	/* Inline keys override the file's: all values of that key are replaced (for `alt` too). */
	if (rest && *rest) {
		struct sim_profile inl = {0};
		for (char *save = NULL, *tok = strtok_r(rest, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(tok, '=');
			if (!eq) {
				snprintf(errbuf, errlen, "inline key `%s`: expected key=value", trim(tok));
				goto fail_inl;
			}
			*eq = '\0';
			char *k = trim(tok);
			if (!kv_add(&inl, k, eq + 1)) {
				snprintf(errbuf, errlen, "out of memory");
				goto fail_inl;
			}
		}
		for (size_t i = 0; i < inl.n; i++)
			kv_remove_key(p, inl.kv[i].key);
		for (size_t i = 0; i < inl.n; i++) {
			if (!kv_add(p, inl.kv[i].key, inl.kv[i].value)) {
				snprintf(errbuf, errlen, "out of memory");
				goto fail_inl;
			}
		}
		for (size_t i = 0; i < inl.n; i++) {
			free(inl.kv[i].key);
			free(inl.kv[i].value);
		}
		free(inl.kv);
		goto done;
fail_inl:
		for (size_t i = 0; i < inl.n; i++) {
			free(inl.kv[i].key);
			free(inl.kv[i].value);
		}
		free(inl.kv);
		goto fail;
	}
done:
	free(copy);
	const char *nm = sim_profile_get(p, "name");
	if (nm && *nm)
		set_name(p, nm);
	return p;
fail:
	free(copy);
	sim_profile_free(p);
	return NULL;
}

void sim_profile_free(struct sim_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->kv[i].key);
		free(p->kv[i].value);
	}
	free(p->kv);
	free(p);
}

/* The last value wins for single keys. */
const char *sim_profile_get(const struct sim_profile *p, const char *key)
{
	if (!p || !key)
		return NULL;
	for (size_t i = p->n; i-- > 0;)
		if (strcmp(p->kv[i].key, key) == 0)
			return p->kv[i].value;
	return NULL;
}

size_t sim_profile_get_all(const struct sim_profile *p, const char *key, const char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; p && i < p->n && n < max; i++)
		if (strcmp(p->kv[i].key, key) == 0)
			out[n++] = p->kv[i].value;
	return n;
}

const char *sim_profile_name(const struct sim_profile *p)
{
	return p ? p->name : NULL;
}

bool sim_parse_u32(const char *s, uint32_t *out)
{
	if (!s)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0' || *s == '-')
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 0);
	/* size suffixes, as in layout strings */
	if (*end == 'K' || *end == 'k') {
		v *= 1024;
		end++;
	} else if (*end == 'M') {
		v *= 1024 * 1024;
		end++;
	}
	while (isspace((unsigned char)*end))
		end++;
	if (errno || *end || v > 0xFFFFFFFFull)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool sim_parse_double(const char *s, double *out)
{
	if (!s)
		return false;
	errno = 0;
	char *end;
	double v = strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || end == s || *end || v != v)
		return false;
	*out = v;
	return true;
}

int sim_parse_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int half = -1;
	for (; s && *s; s++) {
		int v;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else if (isspace((unsigned char)*s) && half < 0)
			continue;
		else
			return -1;
		if (half < 0) {
			half = v;
		} else {
			if (n >= cap)
				return -1;
			out[n++] = (uint8_t)(half << 4 | v);
			half = -1;
		}
	}
	return half < 0 ? (int)n : -1;
}
