/* The programming station (station.h). */
#include "ops/station.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "ops/slots.h"
#include "target/dfuse_link.h"

#define STATION_SEEN_MAX 256
#define STATION_DONE_MAX 4096

struct job {
	struct station *st;
	size_t slot;
	pthread_t thread;
	bool running;            /* a thread was started and not yet joined */
	bool finished;           /* its thread is done (under st->mu) */
	bool claimed;            /* its board's UID is taken (under st->mu) */
	unsigned devnum;         /* the enumeration it was started for */
	bool on_port;            /* a serial-port slot's board (port_slot): the slot is held while it runs */
	size_t port_slot;
	volatile sig_atomic_t departed; /* its board left the bus: stop waiting for it (ops_open_opts.departed) */
	struct ops_multi_opts mo; /* the station's options with this job's departed flag */
	struct ops_multi_result r;
};

struct seen {
	char path[32];
	unsigned devnum;
	bool present;
	bool has_uid;            /* learnt by its job (under st->mu) */
	uint8_t uid[12];
	bool busy;               /* its UID is held by another job: taken again when that job ends */
};

struct station {
	const struct ops_station_opts *o;
	const struct img *img;
	pthread_mutex_t mu;      /* finished flags, the UIDs in progress, seen[] and done_uids[] */
	struct job jobs[OPS_MULTI_MAX];
	struct seen seen[STATION_SEEN_MAX];
	size_t nseen;
	uint8_t (*done_uids)[12]; /* boards programmed in this run (a re-plugged one is not counted again) */
	size_t ndone;
	bool rescan;             /* look at the bus at the next turn (an event, a job ended) */
	struct ops_slots *slots; /* --port: the serial-port slots watched instead of USB */
	/* the board each slot last held, until the slot is seen empty: a ROM that starts again under
	 * it (a fixture whose DTR drives NRST resets it at every open of the port) is the same board */
	bool slot_has_uid[OPS_MULTI_MAX];
	uint8_t slot_uid[OPS_MULTI_MAX][12];
};

/* A board the bus (or a slot) shows: where, which enumeration (or arrival), its USB serial. */
struct dev {
	char path[32];
	unsigned devnum;
	char serial[TP_STRING_MAX];
	bool on_port;
	size_t port_slot;
};

/* The boards attached now, without opening any: USB devices of the VID:PID, or the boards the
 * serial-port slots' watchers found. *out: malloc'ed. */
static int list_devs(struct station *st, struct dev **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	if (st->slots) {
		struct ops_slot_board b[OPS_MULTI_MAX];
		size_t k = ops_slots_list(st->slots, b, OPS_MULTI_MAX);
		*out = calloc(k ? k : 1, sizeof **out);
		if (!*out)
			return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
		bool here[OPS_MULTI_MAX] = {false};
		for (size_t i = 0; i < k; i++)
			here[b[i].slot] = true;
		for (size_t i = 0; i < OPS_MULTI_MAX; i++)
			if (!here[i])
				st->slot_has_uid[i] = false; /* seen empty: the next board there is another one */
		for (size_t i = 0; i < k; i++) {
			snprintf((*out)[i].path, sizeof (*out)[i].path, "%s", b[i].path);
			(*out)[i].devnum = b[i].devnum;
			(*out)[i].on_port = true;
			(*out)[i].port_slot = b[i].slot;
		}
		*n = k;
		return 0;
	}
	struct tp_listed *found = NULL;
	size_t nf = 0;
	int rc = target_usb_list(&st->o->multi.open.match, NULL, true, &found, &nf, e);
	if (rc < 0)
		return rc;
	*out = calloc(nf ? nf : 1, sizeof **out);
	if (!*out) {
		free(found);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	for (size_t i = 0; i < nf; i++) {
		snprintf((*out)[i].path, sizeof (*out)[i].path, "%s", found[i].info.path);
		(*out)[i].devnum = found[i].info.devnum;
		snprintf((*out)[i].serial, sizeof (*out)[i].serial, "%s", found[i].info.serial);
	}
	free(found);
	*n = nf;
	return 0;
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool seen_present(const struct station *st, const char *path, unsigned devnum)
{
	for (size_t k = 0; k < st->nseen; k++)
		if (st->seen[k].present && st->seen[k].devnum == devnum && strcmp(st->seen[k].path, path) == 0)
			return true;
	return false;
}

/*
 * Whether this board may be written (under st->mu). A UID another open job holds is a clone when
 * that job's board is still attached (two chips answer with one UID: quarantined), and the same
 * board moved or re-seated when it is not (busy: taken again once that job ends). A UID attached
 * elsewhere at the same time is a clone too. A board this run already programmed is not again.
 */
static enum ops_claim claim_locked(struct job *me, const struct ops_multi_result *r)
{
	struct station *st = me->st;
	for (size_t i = 0; i < OPS_MULTI_MAX; i++) {
		const struct job *j = &st->jobs[i];
		if (j == me || !j->claimed || j->finished || memcmp(j->r.uid, r->uid, sizeof r->uid) != 0)
			continue;
		snprintf(me->r.other_path, sizeof me->r.other_path, "%s", j->r.path);
		return seen_present(st, j->r.path, j->devnum) && strcmp(j->r.path, r->path) != 0 ? OPS_CLAIM_CLONE
		                                                                                  : OPS_CLAIM_BUSY;
	}
	for (size_t k = 0; k < st->nseen; k++) {
		const struct seen *s = &st->seen[k];
		if (s->present && s->has_uid && strcmp(s->path, r->path) != 0 && memcmp(s->uid, r->uid, sizeof r->uid) == 0) {
			snprintf(me->r.other_path, sizeof me->r.other_path, "%s", s->path);
			return OPS_CLAIM_CLONE;
		}
	}
	for (size_t k = 0; k < st->ndone; k++)
		if (memcmp(st->done_uids[k], r->uid, sizeof r->uid) == 0)
			return OPS_CLAIM_ALREADY;
	return OPS_CLAIM_GO;
}

static enum ops_claim claim(void *ctx, const struct ops_multi_result *r)
{
	struct job *me = ctx;
	struct station *st = me->st;
	if (!r->has_uid)
		return OPS_CLAIM_GO;
	pthread_mutex_lock(&st->mu);
	enum ops_claim c = claim_locked(me, r);
	if (c == OPS_CLAIM_GO)
		me->claimed = true; /* visible to the others from now on */
	/* the attached board's UID, for the clone check of boards plugged later */
	for (size_t k = 0; k < st->nseen; k++)
		if (st->seen[k].devnum == me->devnum && strcmp(st->seen[k].path, me->r.path) == 0) {
			st->seen[k].has_uid = true;
			memcpy(st->seen[k].uid, r->uid, sizeof st->seen[k].uid);
		}
	pthread_mutex_unlock(&st->mu);
	return c;
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	ops_multi_run_one(&j->mo, j->st->img, j->slot, &j->r, claim, j);
	if (j->on_port)
		ops_slots_hold(j->st->slots, j->port_slot, false); /* its watcher looks whether the board stayed */
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

static bool start_job(struct station *st, const struct dev *d)
{
	struct job *j = free_slot(st);
	if (!j)
		return false;
	memset(&j->r, 0, sizeof j->r);
	snprintf(j->r.path, sizeof j->r.path, "%s", d->path);
	snprintf(j->r.serial, sizeof j->r.serial, "%s", d->serial);
	j->st = st;
	j->slot = (size_t)(j - st->jobs);
	j->devnum = d->devnum;
	j->departed = 0;
	j->mo = st->o->multi;
	j->mo.open.departed = &j->departed;
	j->on_port = d->on_port;
	j->port_slot = d->port_slot;
	if (d->on_port) {
		/* the board's session opens its port; the slot's watcher keeps off it meanwhile */
		snprintf(j->r.port, sizeof j->r.port, "%s", ops_slots_port(st->slots, d->port_slot));
		ops_slots_hold(st->slots, d->port_slot, true);
	}
	pthread_mutex_lock(&st->mu);
	j->finished = false;
	j->claimed = false;
	pthread_mutex_unlock(&st->mu);
	if (st->o->start)
		st->o->start(st->o->ctx, j->slot, &j->r);
	if (pthread_create(&j->thread, NULL, job_main, j) != 0) {
		if (d->on_port)
			ops_slots_hold(st->slots, d->port_slot, false);
		return false;
	}
	j->running = true;
	return true;
}

static void remember_done(struct station *st, const uint8_t uid[12])
{
	if (st->ndone == STATION_DONE_MAX)
		return;
	pthread_mutex_lock(&st->mu);
	memcpy(st->done_uids[st->ndone++], uid, 12);
	pthread_mutex_unlock(&st->mu);
}

/* Forgets the attached board at path/devnum so that the next scan takes it again. */
static void forget(struct station *st, const char *path, unsigned devnum)
{
	pthread_mutex_lock(&st->mu);
	size_t k2 = 0;
	for (size_t k = 0; k < st->nseen; k++)
		if (!(st->seen[k].devnum == devnum && strcmp(st->seen[k].path, path) == 0))
			st->seen[k2++] = st->seen[k];
	st->nseen = k2;
	pthread_mutex_unlock(&st->mu);
}

/* The boards that waited for uid's job: the next scan takes them again. */
static void release_busy(struct station *st, const uint8_t uid[12])
{
	pthread_mutex_lock(&st->mu);
	size_t k2 = 0;
	for (size_t k = 0; k < st->nseen; k++)
		if (!(st->seen[k].busy && memcmp(st->seen[k].uid, uid, 12) == 0))
			st->seen[k2++] = st->seen[k];
	st->nseen = k2;
	pthread_mutex_unlock(&st->mu);
}

static bool uid_held(struct station *st, const uint8_t uid[12])
{
	bool held = false;
	pthread_mutex_lock(&st->mu);
	for (size_t i = 0; i < OPS_MULTI_MAX && !held; i++) {
		const struct job *j = &st->jobs[i];
		held = j->running && j->claimed && !j->finished && memcmp(j->r.uid, uid, 12) == 0;
	}
	pthread_mutex_unlock(&st->mu);
	return held;
}

static void mark_busy(struct station *st, const char *path, unsigned devnum)
{
	pthread_mutex_lock(&st->mu);
	for (size_t k = 0; k < st->nseen; k++)
		if (st->seen[k].devnum == devnum && strcmp(st->seen[k].path, path) == 0)
			st->seen[k].busy = true;
	pthread_mutex_unlock(&st->mu);
}

/* Joins the finished jobs; counts and reports the boards. */
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
		st->rescan = true; /* room, and a board that waited for this job's UID */
		if (j->on_port && j->r.has_uid) {
			size_t ps = j->port_slot;
			bool same = st->slot_has_uid[ps] && memcmp(st->slot_uid[ps], j->r.uid, sizeof j->r.uid) == 0;
			st->slot_has_uid[ps] = true;
			memcpy(st->slot_uid[ps], j->r.uid, sizeof j->r.uid);
			if (same && j->r.claim == OPS_CLAIM_ALREADY) {
				/* never left its slot: not a re-placed board, nothing to report */
				log_info("station: the board on %s is the one programmed there: its bootloader started again "
				         "(a reset); left alone", j->r.port);
				continue;
			}
		}
		switch (j->r.claim) {
		case OPS_CLAIM_BUSY:
			/* taken again once the job holding its UID has ended */
			sum->busy++;
			mark_busy(st, j->r.path, j->devnum);
			if (!uid_held(st, j->r.uid))
				release_busy(st, j->r.uid); /* that job ended meanwhile */
			break;
		case OPS_CLAIM_CLONE:
			sum->clones++;
			sum->done++;
			sum->failed++;
			break;
		case OPS_CLAIM_ALREADY:
			sum->already++;
			break;
		case OPS_CLAIM_GO:
			if (j->r.has_uid)
				release_busy(st, j->r.uid);
			if (!j->r.selected)
				continue;
			sum->done++;
			if (j->r.rc)
				sum->failed++;
			else if (j->r.has_uid)
				remember_done(st, j->r.uid);
			break;
		}
		if (st->o->done)
			st->o->done(st->o->ctx, j->slot, &j->r);
	}
}

/* The running job whose board is at path (its first enumeration), or NULL. */
static struct job *job_at(struct station *st, const char *path)
{
	for (size_t i = 0; i < OPS_MULTI_MAX; i++)
		if (st->jobs[i].running && strcmp(st->jobs[i].r.path, path) == 0)
			return &st->jobs[i];
	return NULL;
}

/*
 * Looks at the bus, without opening anything (the board's own thread does: a board that holds
 * its control pipe never delays the others). New devices get a job (while accepting); gone ones
 * are forgotten, and a job whose board left is told at once. A new enumeration where a job's
 * board was (re-seated, or back from a reset) waits for that job to end.
 */
static int scan(struct station *st, unsigned room, unsigned *running, struct err *e)
{
	struct dev *found = NULL;
	size_t n = 0;
	int rc = list_devs(st, &found, &n, e);
	if (rc < 0)
		return rc;
	log_debug("station: %zu boards attached", n);
	pthread_mutex_lock(&st->mu);
	for (size_t k = 0; k < st->nseen; k++)
		st->seen[k].present = false;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < st->nseen; k++)
			if (st->seen[k].devnum == found[i].devnum && strcmp(st->seen[k].path, found[i].path) == 0)
				st->seen[k].present = true;
	size_t k2 = 0;
	for (size_t k = 0; k < st->nseen; k++)
		if (st->seen[k].present)
			st->seen[k2++] = st->seen[k];
	st->nseen = k2;
	pthread_mutex_unlock(&st->mu);
	for (size_t i = 0; i < OPS_MULTI_MAX; i++) {
		struct job *j = &st->jobs[i];
		if (j->running && !j->departed && !seen_present(st, j->r.path, j->devnum)) {
			log_info("station: the board at %s (device %u) left the bus", j->r.path, j->devnum);
			j->departed = 1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (seen_present(st, found[i].path, found[i].devnum))
			continue;
		/* new: remembered only once taken, so a board that waits for room is taken later */
		if (*running >= room || st->nseen == STATION_SEEN_MAX || job_at(st, found[i].path))
			continue;
		pthread_mutex_lock(&st->mu);
		struct seen *s = &st->seen[st->nseen++];
		memset(s, 0, sizeof *s);
		snprintf(s->path, sizeof s->path, "%s", found[i].path);
		s->devnum = found[i].devnum;
		s->present = true;
		pthread_mutex_unlock(&st->mu);
		if (!start_job(st, &found[i])) {
			forget(st, found[i].path, found[i].devnum);
			continue;
		}
		(*running)++;
	}
	free(found);
	return 0;
}

/* The bus said these boards left: their jobs stop waiting for them at once. */
static void departures(struct station *st, struct tp_watch *w)
{
	char path[32];
	unsigned devnum;
	while (target_usb_watch_left(w, path, &devnum))
		for (size_t i = 0; i < OPS_MULTI_MAX; i++) {
			struct job *j = &st->jobs[i];
			if (j->running && !j->departed && j->devnum == devnum && strcmp(j->r.path, path) == 0) {
				log_info("station: the board at %s (device %u) left the bus", path, devnum);
				j->departed = 1;
			}
		}
}

int ops_station_run(const struct ops_station_opts *o, const struct img *img, struct ops_station_summary *sum,
                    struct err *e)
{
	memset(sum, 0, sizeof *sum);
	if (o->n_ports > OPS_MULTI_MAX)
		return err_set(e, STM32DFU_E_USAGE, "%zu ports: a station watches at most %d", o->n_ports, OPS_MULTI_MAX);
	struct station *st = calloc(1, sizeof *st);
	if (st)
		st->done_uids = calloc(STATION_DONE_MAX, sizeof *st->done_uids);
	if (!st || !st->done_uids) {
		free(st);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	st->o = o;
	st->img = img;
	st->rescan = true;
	pthread_mutex_init(&st->mu, NULL);
	struct tp_watch *w = NULL;
	int rc;
	if (o->n_ports)
		rc = ops_slots_start(o->ports, o->n_ports, o->multi.open.baud, o->multi.open.reset_seq, &st->slots, e);
	else
		rc = target_usb_watch_new(&w, &sum->hotplug, e);
	uint64_t t0 = mono_us();
	unsigned running = 0;
	while (rc == 0) {
		reap(st, sum, &running);
		bool stopping = (o->stop && *o->stop) || (o->count && sum->done >= o->count);
		if (stopping) {
			if (o->stop && *o->stop && o->stopping)
				o->stopping(o->ctx, running);
			break;
		}
		unsigned room = OPS_MULTI_MAX;
		if (o->count && o->count - sum->done < room)
			room = o->count - sum->done;
		/* with hotplug, the bus is looked at only when it changed or a job ended; the slots'
		 * list is in memory, looked at every turn */
		if (!sum->hotplug || st->rescan) {
			st->rescan = false;
			if ((rc = scan(st, room, &running, e)) < 0)
				break;
		}
		if (st->slots) {
			ops_slots_wait(st->slots, TARGET_USB_SCAN_MS);
			continue;
		}
		if (target_usb_watch_wait(w, TARGET_USB_SCAN_MS))
			st->rescan = true;
		departures(st, w);
	}
	/* the boards in progress finish (or stop at a transfer boundary if multi.open.cancel is set);
	 * a board pulled meanwhile is still told */
	while (running) {
		reap(st, sum, &running);
		if (!running)
			break;
		if (st->slots) {
			ops_slots_wait(st->slots, 100);
			continue;
		}
		departures(st, w);
		if (target_usb_watch_wait(w, 100) || !sum->hotplug) {
			struct tp_listed *found = NULL;
			size_t n = 0;
			if (target_usb_list(&o->multi.open.match, NULL, true, &found, &n, NULL) >= 0) {
				for (size_t i = 0; i < OPS_MULTI_MAX; i++) {
					struct job *j = &st->jobs[i];
					bool here = false;
					for (size_t k = 0; k < n && !here; k++)
						here = found[k].info.devnum == j->devnum && strcmp(found[k].info.path, j->r.path) == 0;
					if (j->running && !here)
						j->departed = 1;
				}
				free(found);
			}
		}
	}
	sum->us = mono_us() - t0;
	ops_slots_stop(st->slots);
	target_usb_watch_free(w);
	pthread_mutex_destroy(&st->mu);
	free(st->done_uids);
	free(st);
	return rc;
}
