/* What the two fault campaigns share (campaign_common.h). */
#define _POSIX_C_SOURCE 200809L
#include "campaign_common.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const leg_names[L_N] = {"faults", "no-home", "no-verify", "flip", "f0-pair", "erase-range", "usart"};
const char *const cls_names[C_N] = {"ok",   "clean failure", "stopped (SIGINT)", "killed (SIGKILL)", "SILENT",
                                    "LOST", "CRASH",         "NO FILE",          "WRONG CHIP"};

static uint64_t rng_state;

void camp_stream(uint64_t seed, unsigned session)
{
	/* the same numbers on every platform for a seed and a session, whatever ran before; the
	 * start mixed, so that session i's stream is not session i+1's one step later */
	rng_state = seed * 0xD1342543DE82EF95ull + session;
	rng_state = rnd();
}

uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull); /* splitmix64 */
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

unsigned rnd_below(unsigned n)
{
	return n ? (unsigned)(rnd() % n) : 0;
}

bool camp_plan_init(struct camp_plan *p, unsigned sessions, uint64_t seed, unsigned legs)
{
	memset(p, 0, sizeof *p);
	p->sessions = sessions;
	p->seed = seed;
	p->legs = legs;
	p->only = -1;
	p->first = 0;
	p->last = sessions;
	p->verbose = getenv("CAMPAIGN_VERBOSE") != NULL;
	const char *want = getenv("CAMPAIGN_LEG");
	for (int l = 0; want && l < L_N; l++)
		if (strcmp(want, leg_names[l]) == 0 && (legs & (1u << l)))
			p->only = l;
	if (want && p->only < 0) {
		fprintf(stderr, "campaign: CAMPAIGN_LEG=%s: no such leg here (", want);
		for (int l = 0, k = 0; l < L_N; l++)
			if (legs & (1u << l))
				fprintf(stderr, "%s%s", k++ ? ", " : "", leg_names[l]);
		fprintf(stderr, ")\n");
		return false;
	}
	const char *one = getenv("CAMPAIGN_SESSION");
	if (one && *one) {
		p->first = (unsigned)strtoul(one, NULL, 0);
		p->last = p->first + 1;
		p->verbose = true;
	}
	return true;
}

enum leg camp_begin(const struct camp_plan *p, unsigned i)
{
	camp_stream(p->seed, i);
	if (p->only >= 0)
		return (enum leg)p->only;
	unsigned n = (unsigned)__builtin_popcount(p->legs), k = i % n;
	for (int l = 0; l < L_N; l++)
		if ((p->legs & (1u << l)) && k-- == 0)
			return (enum leg)l;
	return L_FAULTS;
}

void random_chip(uint8_t *p, uint32_t span)
{
	for (uint32_t k = 0; k < span; k++)
		p[k] = rnd_below(3) ? 0xFF : (uint8_t)rnd();
}

void random_image(const uint8_t *old, uint8_t *want, uint32_t span, uint32_t *off, uint32_t *len)
{
	*off = rnd_below(span / 2) & ~7u;
	*len = (8 + rnd_below(span - *off - 8)) & ~7u;
	if (*len < 8)
		*len = 8;
	memcpy(want, old, span);
	for (uint32_t k = 0; k < *len; k++)
		want[*off + k] = (uint8_t)rnd();
}

bool outside_same(const uint8_t *a, const uint8_t *b, uint32_t span, uint32_t off, uint32_t len)
{
	for (uint32_t k = 0; k < span; k++)
		if ((k < off || k >= off + len) && a[k] != b[k])
			return false;
	return true;
}

static unsigned walk_dir(const char *dir, bool del)
{
	DIR *d = opendir(dir);
	unsigned k = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (del) {
			char p[1024];
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			unlink(p);
		}
		k++;
	}
	if (d)
		closedir(d);
	return k;
}

unsigned count_files(const char *dir)
{
	return walk_dir(dir, false);
}

unsigned clear_dir(const char *dir)
{
	return walk_dir(dir, true);
}

static int width(int k)
{
	return (int)strlen(cls_names[k]) > 8 ? (int)strlen(cls_names[k]) : 8;
}

void camp_table(FILE *f, const char *title, const struct camp_plan *p, unsigned done, unsigned n[L_N][C_N],
                unsigned tot[C_N])
{
	fprintf(f, "%s: %u sessions, seed %" PRIu64 "\n", title, done, p->seed);
	fprintf(f, "%-11s %8s", "leg", "sessions");
	for (int k = 0; k < C_N; k++)
		fprintf(f, " %*s", width(k), cls_names[k]);
	fprintf(f, "\n");
	memset(tot, 0, C_N * sizeof *tot);
	for (int l = 0; l < L_N; l++) {
		if (!(p->legs & (1u << l)))
			continue;
		unsigned sum = 0;
		for (int k = 0; k < C_N; k++)
			sum += n[l][k];
		fprintf(f, "%-11s %8u", leg_names[l], sum);
		for (int k = 0; k < C_N; k++) {
			fprintf(f, " %*u", width(k), n[l][k]);
			tot[k] += n[l][k];
		}
		fprintf(f, "\n");
	}
	fprintf(f, "%-11s %8u", "total", done);
	for (int k = 0; k < C_N; k++)
		fprintf(f, " %*u", width(k), tot[k]);
	fprintf(f, "\n");
}

unsigned camp_violations(const unsigned tot[C_N])
{
	unsigned v = 0;
	for (int k = C_SILENT; k < C_N; k++)
		v += tot[k];
	return v;
}
