/* A progress bar with throughput on a terminal, one summary line per phase otherwise. */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#include "ops/progress.h"

struct cli_progress {
	FILE *out;
	bool tty;
	bool active;     /* a bar is on screen */
	int last_phase;
	int last_percent;
	uint64_t last_draw_us;
};

void cli_progress_init(struct cli_progress *p, FILE *out, bool tty);
/* an ops_progress_fn; ctx is the struct cli_progress */
void cli_progress_cb(void *ctx, const struct ops_progress *p);
/* clears the bar (before printing anything else) */
void cli_progress_done(struct cli_progress *p);

#endif
