#include "cli/progress.h"

#include <inttypes.h>

void cli_progress_init(struct cli_progress *p, FILE *out, bool tty)
{
	p->out = out;
	p->tty = tty;
	p->active = false;
	p->last_phase = -1;
	p->last_percent = -1;
	p->last_draw_us = 0;
}

static void human_rate(char *buf, size_t cap, double bytes_per_s)
{
	if (bytes_per_s >= 1024.0 * 1024.0)
		snprintf(buf, cap, "%.1f MiB/s", bytes_per_s / (1024.0 * 1024.0));
	else
		snprintf(buf, cap, "%.1f KiB/s", bytes_per_s / 1024.0);
}

void cli_progress_cb(void *ctx, const struct ops_progress *pr)
{
	struct cli_progress *p = ctx;
	if (!p->tty)
		return; /* summaries are printed by the commands; no bar into a pipe or a log */
	int percent = pr->total ? (int)(pr->done * 100u / pr->total) : 100;
	bool phase_change = (int)pr->phase != p->last_phase;
	/* redraw at most every 100 ms, and always at phase changes and the end */
	if (!phase_change && percent == p->last_percent)
		return;
	if (!phase_change && pr->done < pr->total && pr->elapsed_us - p->last_draw_us < 100000u)
		return;
	p->last_phase = (int)pr->phase;
	p->last_percent = percent;
	p->last_draw_us = pr->elapsed_us;
	const int width = 30;
	char bar[64];
	int fill = percent * width / 100;
	for (int i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = '\0';
	char rate[32] = "";
	if (pr->unit && pr->unit[0] == 'B' && pr->elapsed_us > 0)
		human_rate(rate, sizeof rate, (double)pr->done * 1e6 / (double)pr->elapsed_us);
	if (pr->unit && pr->unit[0] == 'B')
		fprintf(p->out, "\r%-8s [%s] %3d%% %" PRIu64 "/%" PRIu64 " KiB %s   ", ops_phase_name(pr->phase), bar, percent,
		        pr->done / 1024u, pr->total / 1024u, rate);
	else
		fprintf(p->out, "\r%-8s [%s] %3d%% %" PRIu64 "/%" PRIu64 " %s   ", ops_phase_name(pr->phase), bar, percent,
		        pr->done, pr->total, pr->unit ? pr->unit : "");
	p->active = true;
	fflush(p->out);
}

void cli_progress_done(struct cli_progress *p)
{
	if (p->active) {
		fputs("\r\033[K", p->out);
		fflush(p->out);
	}
	p->active = false;
	p->last_phase = -1;
}
