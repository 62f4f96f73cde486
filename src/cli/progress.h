/* A progress bar with throughput and ETA on a terminal; off a terminal a line per phase every few seconds. */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "ops/progress.h"

struct cli_progress {
	FILE *out;
	bool tty;        /* a redrawn bar; otherwise a line per phase every few seconds */
	bool enabled;    /* false with -q or --json */
	bool active;     /* a bar is on screen */
	int last_phase;
	int last_percent;
	uint64_t last_draw_us;
	int line_phase;  /* off a terminal: the phase of the last line, when it was printed (phase time) */
	uint64_t line_at_us;
	unsigned line_count;
	bool line_done;  /* the phase's closing line is out */
	/* a timed step (unit "ms"): a thread redraws it from the wall clock until its end report */
	pthread_mutex_t mu;
	pthread_t ticker;
	bool ticking, stop;
	struct ops_progress timed;
	uint64_t timed_t0_us;
};

void cli_progress_init(struct cli_progress *p, FILE *out, bool tty, bool enabled);
/* an ops_progress_fn; ctx is the struct cli_progress */
void cli_progress_cb(void *ctx, const struct ops_progress *p);
/* stops a timed display and clears the bar (before printing anything else) */
void cli_progress_done(struct cli_progress *p);

#endif
