/*
 * What the two fault campaigns share: bench/campaign.c (the library in-process, virtual time) and
 * bench/campaign_vusb.c (the real programs over virtual USB and the USART door). The legs, the
 * classes a session ends in, the random chips and images, the recovery folders, the session plan
 * and the table. Each session draws from a random stream of its own (the campaign's seed and the
 * session's number), so that any one session runs alone: CAMPAIGN_SESSION=N (with the same seed)
 * runs session N only, exactly as it ran in the whole campaign.
 */
#ifndef BENCH_CAMPAIGN_COMMON_H
#define BENCH_CAMPAIGN_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CAMP_FLASH_BASE 0x08000000u
#define CAMP_SPAN (256u * 1024u)   /* the f746's first 256 KiB: sectors 0-4, every byte checked */
#define CAMP_F0_SPAN (32u * 1024u) /* all of an f0-32k's flash */

/* the session's random stream (splitmix64) */
void camp_stream(uint64_t seed, unsigned session);
uint64_t rnd(void);
unsigned rnd_below(unsigned n);

enum leg { L_FAULTS, L_NOHOME, L_NOVERIFY, L_FLIP, L_F0PAIR, L_ERASE, L_USART, L_N };
extern const char *const leg_names[L_N];

/* How a session ends. ok, clean failure and stopped are right; the rest must be 0. */
enum cls {
	C_OK,     /* success, and the chip holds exactly the image over its old contents */
	C_FAIL,   /* a failure with a message; if anything was erased it names its recovery file */
	C_CANCEL, /* stopped by the SIGINT the campaign sent, saying so */
	C_KILLED, /* killed by the SIGKILL the campaign sent (no word from it), its files in place */
	C_SILENT, /* success claimed (or data returned), but the chip (or the data) differs */
	C_LOST,   /* after the clean run, a byte outside the image is not what it was, or a file is left */
	C_CRASH,  /* killed by a signal the campaign did not send, no JSON document, or a hang */
	C_NOFILE, /* a failure after an erase that names no recovery file */
	C_WRONG,  /* a chip holds bytes no write of its own could leave (another chip's file applied) */
	C_N
};
extern const char *const cls_names[C_N];

/* The sessions to run: [first, last) of sessions, each in its leg. From the arguments and the
 * environment: CAMPAIGN_LEG=NAME (that leg only), CAMPAIGN_SESSION=N (session N only). */
struct camp_plan {
	unsigned sessions, first, last;
	uint64_t seed;
	int only;      /* a leg, or -1: the legs in turn */
	unsigned legs; /* the legs this campaign has (bit per enum leg) */
	bool verbose;  /* CAMPAIGN_VERBOSE: one line per session */
};
/* Fills p; false (the reason on stderr) if the environment names no such leg. */
bool camp_plan_init(struct camp_plan *p, unsigned sessions, uint64_t seed, unsigned legs);
/* Session i's leg (and its random stream started). */
enum leg camp_begin(const struct camp_plan *p, unsigned i);

/* A random chip: a third of the bytes programmed. */
void random_chip(uint8_t *p, uint32_t span);
/* A random image over [*off, *off + *len) of span, 8-byte aligned: want = old with it. */
void random_image(const uint8_t *old, uint8_t *want, uint32_t span, uint32_t *off, uint32_t *len);
/* a and b agree outside [off, off + len) */
bool outside_same(const uint8_t *a, const uint8_t *b, uint32_t span, uint32_t off, uint32_t len);

/* The files in a recovery folder; clear_dir deletes them and says how many there were. */
unsigned count_files(const char *dir);
unsigned clear_dir(const char *dir);

/* The table: sessions per leg and class (the legs this campaign has), the totals in tot. */
void camp_table(FILE *f, const char *title, const struct camp_plan *p, unsigned done, unsigned n[L_N][C_N],
                unsigned tot[C_N]);
/* The number of sessions in a class that must stay 0. */
unsigned camp_violations(const unsigned tot[C_N]);

#endif
