/* stm32dfu-sim's hot plug (plug.h). */
#include "plug.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "sim/sim.h"
#include "sim/vusb.h"

struct simtool_sched {
	struct vusb *v;
	struct simtool_plugdev *devs;
	int ndev;
	struct simtool_event ev[SIMTOOL_MAX_EVENTS];
	int nev;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct timespec t0;
};

bool simtool_parse_timed(const char *arg, long *ms, const char **rest)
{
	char *end;
	errno = 0;
	double s = strtod(arg, &end);
	if (end == arg || errno || *end != ':' || !(s >= 0) || s > 86400 || !end[1])
		return false;
	*ms = (long)(s * 1000.0 + 0.5);
	*rest = end + 1;
	return true;
}

static int ev_cmp(const void *a, const void *b)
{
	long x = ((const struct simtool_event *)a)->ms, y = ((const struct simtool_event *)b)->ms;
	return x < y ? -1 : x > y;
}

/* lower-case hex digits only: "002D0030 3334510b..." and "002d00303334510B..." compare equal */
static void norm(const char *in, char *out, size_t cap)
{
	size_t k = 0;
	for (; *in && k + 1 < cap; in++)
		if (*in != ' ')
			out[k++] = (char)tolower((unsigned char)*in);
	out[k] = '\0';
}

static bool matches(const struct simtool_plugdev *d, const char *key)
{
	const char *serial = sim_profile_get(d->profile, "serial");
	if (serial && strcmp(serial, key) == 0)
		return true;
	const char *uid = sim_profile_get(d->profile, "uid");
	if (!uid)
		return false;
	char a[64], b[64];
	norm(uid, a, sizeof a);
	norm(key, b, sizeof b);
	return strcmp(a, b) == 0;
}

static void run_event(struct simtool_sched *s, const struct simtool_event *e)
{
	char err[256];
	if (e->plug) {
		struct simtool_plugdev *d = &s->devs[e->dev];
		d->vidx = vusb_add(s->v, d->dev, err, sizeof err);
		if (d->vidx < 0)
			fprintf(stderr, "stm32dfu-sim: --plug at %.1f s: %s\n", (double)e->ms / 1000.0, err);
		else
			log_debug("plugged %s at %ld ms", sim_profile_name(d->profile), e->ms);
		return;
	}
	bool any = false;
	for (int i = 0; i < s->ndev; i++) {
		if (s->devs[i].vidx >= 0 && matches(&s->devs[i], e->key)) {
			vusb_unplug_after(s->v, s->devs[i].vidx, 0);
			any = true;
		}
	}
	if (!any)
		fprintf(stderr, "stm32dfu-sim: --unplug at %.1f s: no plugged device has serial or UID %s\n",
		        (double)e->ms / 1000.0, e->key);
}

static struct timespec ts_add_ms(struct timespec t, long ms)
{
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static bool ts_before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

/* How often a gate file (--after) is looked for while one is awaited. */
#define SIMTOOL_GATE_POLL_MS 20

static void *sched_main(void *arg)
{
	struct simtool_sched *s = arg;
	bool done[SIMTOOL_MAX_EVENTS] = {false}, open[SIMTOOL_MAX_EVENTS] = {false};
	struct timespec from[SIMTOOL_MAX_EVENTS];
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		/* the first due event in order (sorted by time; ties keep the command line's order) */
		int due = -1, left = 0;
		bool awaiting = false;
		struct timespec next = ts_add_ms(now, 3600L * 1000L);
		for (int i = 0; i < s->nev && due < 0; i++) {
			if (done[i])
				continue;
			left++;
			if (!open[i]) {
				if (s->ev[i].after && access(s->ev[i].after, F_OK) != 0) {
					awaiting = true;
					continue;
				}
				open[i] = true;
				from[i] = s->ev[i].after ? now : s->t0;
			}
			struct timespec at = ts_add_ms(from[i], s->ev[i].ms);
			if (!ts_before(now, at))
				due = i;
			else if (ts_before(at, next))
				next = at;
		}
		if (due >= 0) {
			done[due] = true;
			pthread_mutex_unlock(&s->mu);
			run_event(s, &s->ev[due]);
			pthread_mutex_lock(&s->mu);
			continue;
		}
		if (!left)
			break;
		if (awaiting && ts_before(ts_add_ms(now, SIMTOOL_GATE_POLL_MS), next))
			next = ts_add_ms(now, SIMTOOL_GATE_POLL_MS);
		int rc = 0;
		while (!s->stop && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&s->cv, &s->mu, &next);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct simtool_sched *simtool_sched_start(struct vusb *v, struct simtool_plugdev *devs, int ndev,
                                          const struct simtool_event *ev, int nev)
{
	struct simtool_sched *s = calloc(1, sizeof *s);
	if (!s || nev > SIMTOOL_MAX_EVENTS) {
		free(s);
		return NULL;
	}
	s->v = v;
	s->devs = devs;
	s->ndev = ndev;
	memcpy(s->ev, ev, (size_t)nev * sizeof *ev);
	s->nev = nev;
	qsort(s->ev, (size_t)nev, sizeof *s->ev, ev_cmp);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	if (pthread_create(&s->thread, NULL, sched_main, s) != 0) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return NULL;
	}
	return s;
}

void simtool_sched_stop(struct simtool_sched *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
