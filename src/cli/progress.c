#include "cli/progress.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

/* Off a terminal (a pipe, a CI log), one line per phase every this many seconds, as dfu-util's
 * progress keeps a log alive: a 500 s write on a marginal link is not silent. */
#define CLI_PROGRESS_LINE_US 2000000u

void cli_progress_init(struct cli_progress *p, FILE *out, bool tty, bool enabled)
{
	memset(p, 0, sizeof *p);
	p->out = out;
	p->tty = tty;
	p->enabled = enabled;
	p->last_phase = -1;
	p->last_percent = -1;
	p->line_phase = -1;
	pthread_mutex_init(&p->mu, NULL);
}

static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void human_rate(char *buf, size_t cap, double bytes_per_s)
{
	if (bytes_per_s >= 1024.0 * 1024.0)
		snprintf(buf, cap, "%.1f MiB/s", bytes_per_s / (1024.0 * 1024.0));
	else
		snprintf(buf, cap, "%.1f KiB/s", bytes_per_s / 1024.0);
}

static void duration_text(char *buf, size_t cap, uint64_t us)
{
	uint64_t s = (us + 500000u) / 1000000u;
	if (s >= 3600)
		snprintf(buf, cap, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, cap, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
}

static bool timed(const struct ops_progress *pr)
{
	return pr->unit && strcmp(pr->unit, "ms") == 0;
}

/* The progress of pr in words: counts, rate, ETA; a time-based phase (a mass erase) against its
 * typical duration. */
static void describe(char *buf, size_t cap, const struct ops_progress *pr)
{
	char eta[64] = "", rate[32] = "";
	if (timed(pr)) {
		if (pr->total && pr->done >= pr->total)
			snprintf(buf, cap, "done in %.1f s", (double)pr->done / 1e3);
		else if (pr->total)
			snprintf(buf, cap, "%.0f s of about %.0f s typical", (double)pr->done / 1e3, (double)pr->total / 1e3);
		else
			snprintf(buf, cap, "%.0f s", (double)pr->done / 1e3);
		return;
	}
	if (pr->done && pr->done < pr->total && pr->elapsed_us > 0) {
		char d[48];
		duration_text(d, sizeof d, (uint64_t)((double)pr->elapsed_us * (double)(pr->total - pr->done) / (double)pr->done));
		snprintf(eta, sizeof eta, " ETA %s", d);
	}
	bool bytes = pr->unit && pr->unit[0] == 'B';
	if (bytes && pr->elapsed_us > 0)
		human_rate(rate, sizeof rate, (double)pr->done * 1e6 / (double)pr->elapsed_us);
	if (bytes && pr->total < 1024)
		snprintf(buf, cap, "%" PRIu64 "/%" PRIu64 " B %s%s", pr->done, pr->total, rate, eta);
	else if (bytes)
		snprintf(buf, cap, "%" PRIu64 "/%" PRIu64 " KiB %s%s", pr->done / 1024u, pr->total / 1024u, rate, eta);
	else
		snprintf(buf, cap, "%" PRIu64 "/%" PRIu64 " %s%s", pr->done, pr->total, pr->unit ? pr->unit : "", eta);
}

static int percent_of(const struct ops_progress *pr)
{
	if (!pr->total)
		return timed(pr) ? -1 : 100;
	uint64_t pc = pr->done * 100u / pr->total;
	return pc > 100 ? 100 : (int)pc;
}

/* a line now and then, for logs */
static void line(struct cli_progress *p, const struct ops_progress *pr)
{
	bool end = pr->total && pr->done >= pr->total;
	if ((int)pr->phase != p->line_phase) {
		p->line_phase = (int)pr->phase;
		p->line_at_us = 0;
		p->line_count = 0;
	}
	if (end ? p->line_count == 0 || p->line_done : pr->elapsed_us < p->line_at_us + CLI_PROGRESS_LINE_US)
		return; /* a phase too short for a line gets none: the command's summary says it all */
	char what[128];
	describe(what, sizeof what, pr);
	int pc = percent_of(pr);
	if (pc >= 0)
		fprintf(p->out, "%s: %3d%% %s\n", ops_phase_name(pr->phase), pc, what);
	else
		fprintf(p->out, "%s: %s\n", ops_phase_name(pr->phase), what);
	fflush(p->out);
	p->line_at_us = pr->elapsed_us;
	p->line_count++;
	p->line_done = end;
}

static void draw(struct cli_progress *p, const struct ops_progress *pr)
{
	/* nothing to count, or a few bytes (the UID, the option bytes: over before a bar means
	 * anything; "0/0 KiB" would be all it could say) */
	if (!timed(pr) && (!pr->total || (pr->unit && pr->unit[0] == 'B' && pr->total < 1024)))
		return;
	if (!p->tty) {
		if ((int)pr->phase != p->line_phase)
			p->line_done = false;
		line(p, pr);
		return;
	}
	int percent = percent_of(pr);
	bool phase_change = (int)pr->phase != p->last_phase;
	/* redraw at most every 100 ms, and always at phase changes and the end */
	if (!phase_change && percent == p->last_percent && !timed(pr))
		return;
	if (!phase_change && pr->done < pr->total && pr->elapsed_us - p->last_draw_us < 100000u)
		return;
	if (!phase_change && timed(pr) && pr->elapsed_us - p->last_draw_us < 100000u)
		return;
	p->last_phase = (int)pr->phase;
	p->last_percent = percent;
	p->last_draw_us = pr->elapsed_us;
	const int width = 30;
	char bar[64];
	int fill = percent > 0 ? percent * width / 100 : 0;
	for (int i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = '\0';
	char what[128];
	describe(what, sizeof what, pr);
	if (percent >= 0)
		fprintf(p->out, "\r%-8s [%s] %3d%% %s   ", ops_phase_name(pr->phase), bar, percent, what);
	else
		fprintf(p->out, "\r%-8s %s   ", ops_phase_name(pr->phase), what);
	p->active = true;
	fflush(p->out);
}

/* the timed step's display: every 100 ms, the time since its start against the typical time */
static void *tick_main(void *arg)
{
	struct cli_progress *p = arg;
	for (;;) {
		struct timespec ts = {0, 100000000};
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		struct ops_progress pr = p->timed;
		pr.elapsed_us = wall_us() - p->timed_t0_us;
		pr.done = pr.elapsed_us / 1000u;
		if (pr.total && pr.done > pr.total * 99 / 100)
			pr.done = pr.total * 99 / 100; /* 100 % only when the chip says it is done */
		draw(p, &pr);
		pthread_mutex_unlock(&p->mu);
	}
}

static void stop_ticker(struct cli_progress *p)
{
	pthread_mutex_lock(&p->mu);
	bool was = p->ticking;
	p->stop = true;
	p->ticking = false;
	pthread_mutex_unlock(&p->mu);
	if (was)
		pthread_join(p->ticker, NULL);
}

void cli_progress_cb(void *ctx, const struct ops_progress *pr)
{
	struct cli_progress *p = ctx;
	if (!p->enabled)
		return;
	if (timed(pr) && pr->done == 0 && !p->ticking) {
		pthread_mutex_lock(&p->mu);
		p->timed = *pr;
		p->timed_t0_us = wall_us();
		p->stop = false;
		draw(p, pr);
		p->ticking = pthread_create(&p->ticker, NULL, tick_main, p) == 0;
		pthread_mutex_unlock(&p->mu);
		return;
	}
	if (timed(pr))
		stop_ticker(p);
	pthread_mutex_lock(&p->mu);
	draw(p, pr);
	pthread_mutex_unlock(&p->mu);
}

void cli_progress_done(struct cli_progress *p)
{
	stop_ticker(p);
	if (p->active) {
		fputs("\r\033[K", p->out);
		fflush(p->out);
	}
	p->active = false;
	p->last_phase = -1;
}
