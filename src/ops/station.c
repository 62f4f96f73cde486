/* The programming station (station.h). */
#include "ops/station.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "usb/tp_watch.h"

#define STATION_SEEN_MAX 256

struct job {
	struct station *st;
	size_t slot;
	pthread_t thread;
	bool running;            /* a thread was started and not yet joined */
	bool finished;           /* its thread is done (under st->mu) */
	bool claimed;            /* its board's UID is taken (under st->mu) */
	struct ops_multi_result r;
};

struct seen {
	char path[32];
	unsigned devnum;
	bool present;
};

struct station {
	const struct ops_station_opts *o;
	const struct img *img;
	pthread_mutex_t mu;      /* finished flags and the UIDs in progress */
	struct job jobs[OPS_MULTI_MAX];
	struct seen seen[STATION_SEEN_MAX];
	size_t nseen;
};

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A UID already being programmed is not taken twice (a board that re-enumerated mid-write). */
static bool claim(void *ctx, const struct ops_multi_result *r)
{
	struct job *me = ctx;
	struct station *st = me->st;
	if (!r->has_uid)
		return true;
	bool busy = false;
	pthread_mutex_lock(&st->mu);
	for (size_t i = 0; i < OPS_MULTI_MAX && !busy; i++) {
		const struct job *j = &st->jobs[i];
		busy = j != me && j->claimed && !j->finished && memcmp(j->r.uid, r->uid, sizeof r->uid) == 0;
	}
	if (!busy)
		me->claimed = true; /* visible to the others from now on */
	pthread_mutex_unlock(&st->mu);
	return !busy;
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	ops_multi_run_one(&j->st->o->multi, j->st->img, j->slot, &j->r, claim, j);
	pthread_mutex_lock(&j->st->mu);
	j->finished = true;
	pthread_mutex_unlock(&j->st->mu);
	return NULL;
}

static struct job *free_slot(struct station *st)
{
	for (size_t i = 0; i < OPS_MULTI_MAX; i++)
		if (!st->jobs[i].running)
			return &st->jobs[i];
	return NULL;
}

static bool start_job(struct station *st, const struct tp_listed *d)
{
	struct job *j = free_slot(st);
	if (!j)
		return false;
	memset(&j->r, 0, sizeof j->r);
	snprintf(j->r.path, sizeof j->r.path, "%s", d->info.path);
	snprintf(j->r.serial, sizeof j->r.serial, "%s", d->info.serial);
	j->st = st;
	j->slot = (size_t)(j - st->jobs);
	j->finished = false;
	j->claimed = false;
	if (st->o->start)
		st->o->start(st->o->ctx, j->slot, &j->r);
	if (pthread_create(&j->thread, NULL, job_main, j) != 0)
		return false;
	j->running = true;
	return true;
}

/* Joins the finished jobs; counts and reports the boards (not the duplicates). */
static void reap(struct station *st, struct ops_station_summary *sum, unsigned *running)
{
	for (size_t i = 0; i < OPS_MULTI_MAX; i++) {
		struct job *j = &st->jobs[i];
		if (!j->running)
			continue;
		pthread_mutex_lock(&st->mu);
		bool fin = j->finished;
		pthread_mutex_unlock(&st->mu);
		if (!fin)
			continue;
		pthread_join(j->thread, NULL);
		j->running = false;
		(*running)--;
		if (!j->r.selected)
			continue;
		sum->done++;
		if (j->r.rc)
			sum->failed++;
		if (st->o->done)
			st->o->done(st->o->ctx, j->slot, &j->r);
	}
}

/* Looks at the bus: new devices get a job (while accepting), gone ones are forgotten. */
static int scan(struct station *st, bool accepting, unsigned room, unsigned *running, struct err *e)
{
	struct tp_listed *found = NULL;
	size_t n = 0;
	int rc = tp_libusb_list(&st->o->multi.open.match, &found, &n, e);
	if (rc < 0)
		return rc;
	for (size_t k = 0; k < st->nseen; k++)
		st->seen[k].present = false;
	for (size_t i = 0; i < n; i++) {
		struct seen *s = NULL;
		for (size_t k = 0; k < st->nseen && !s; k++)
			if (st->seen[k].devnum == found[i].info.devnum && strcmp(st->seen[k].path, found[i].info.path) == 0)
				s = &st->seen[k];
		if (s) {
			s->present = true;
			continue;
		}
		/* new: remembered only once taken, so a board that waits for room is taken later */
		if (!accepting || *running >= room || st->nseen == STATION_SEEN_MAX || !start_job(st, &found[i]))
			continue;
		(*running)++;
		s = &st->seen[st->nseen++];
		snprintf(s->path, sizeof s->path, "%s", found[i].info.path);
		s->devnum = found[i].info.devnum;
		s->present = true;
	}
	free(found);
	size_t k2 = 0;
	for (size_t k = 0; k < st->nseen; k++)
		if (st->seen[k].present)
			st->seen[k2++] = st->seen[k];
	st->nseen = k2;
	return 0;
}

int ops_station_run(const struct ops_station_opts *o, const struct img *img, struct ops_station_summary *sum,
                    struct err *e)
{
	memset(sum, 0, sizeof *sum);
	struct station *st = calloc(1, sizeof *st);
	if (!st)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	st->o = o;
	st->img = img;
	pthread_mutex_init(&st->mu, NULL);
	struct tp_watch *w = NULL;
	int rc = tp_watch_new(&w, &sum->hotplug, e);
	uint64_t t0 = mono_us();
	unsigned running = 0;
	while (rc == 0) {
		reap(st, sum, &running);
		bool stopping = (o->stop && *o->stop) || (o->count && sum->done >= o->count);
		if (stopping)
			break;
		unsigned room = OPS_MULTI_MAX;
		if (o->count && o->count - sum->done < room)
			room = o->count - sum->done;
		if ((rc = scan(st, true, room, &running, e)) < 0)
			break;
		tp_watch_wait(w, TP_WATCH_SCAN_MS);
	}
	/* the boards in progress finish (or stop at a transfer boundary if multi.open.cancel is set) */
	while (running) {
		reap(st, sum, &running);
		if (running) {
			struct timespec ts = {0, 20 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	sum->us = mono_us() - t0;
	tp_watch_free(w);
	pthread_mutex_destroy(&st->mu);
	free(st);
	return rc;
}
