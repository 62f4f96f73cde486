/* A station's serial-port slots (slots.h). */
#include "ops/slots.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "target/an3155_link.h"
#include "target/ports.h"

/* An empty slot is asked every 250 ms (after a silent probe's ~0.8 s); a board that stays is
 * asked every second whether it is still there. */
#define SLOT_EMPTY_MS 250u
#define SLOT_STAY_MS 1000u

struct slot {
	struct ops_slots *s;
	size_t idx;
	const char *port;
	char path[32];
	pthread_t th;
	bool started;
	/* under s->mu */
	bool present;
	bool fresh;      /* arrived, not yet taken by a job: not probed meanwhile */
	bool held;       /* a job has the port */
	bool probing;    /* a probe is on the port now */
	unsigned devnum;
};

struct ops_slots {
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* the watchers: hold, release, quit */
	pthread_cond_t change;  /* the station: a slot changed */
	bool changed, quit;
	unsigned baud;
	bool has_seq;
	struct ser_seq_pair seq; /* its entry part is driven before a probe of an empty slot */
	size_t n;
	struct slot *slots;
};

static void deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000u);
	ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool answered(const struct target_port_probe *p)
{
	return p->answer == TARGET_PROBE_ACK || p->answer == TARGET_PROBE_NACK;
}

/* One probe, with the port left alone by everyone else meanwhile (called and returns under mu). */
static void probe(struct slot *sl, bool reset, struct target_port_probe *p)
{
	struct ops_slots *s = sl->s;
	sl->probing = true;
	pthread_mutex_unlock(&s->mu);
	struct ser_seq_pair entry;
	if (reset) {
		entry = s->seq;
		entry.has_exit = false; /* the board stays in its bootloader for the job */
	}
	target_probe_port(sl->port, s->baud, reset ? &entry : NULL, p);
	pthread_mutex_lock(&s->mu);
	sl->probing = false;
	pthread_cond_broadcast(&s->cv);
}

static void arrived(struct slot *sl, const char *how)
{
	sl->present = true;
	sl->fresh = true;
	sl->devnum++;
	sl->s->changed = true;
	pthread_cond_broadcast(&sl->s->change);
	log_info("station: a board answers on %s (%s)", sl->port, how);
}

static void departed(struct slot *sl, const struct target_port_probe *p)
{
	sl->present = false;
	sl->fresh = false;
	sl->s->changed = true;
	pthread_cond_broadcast(&sl->s->change);
	log_info("station: the board on %s left (%s%s%s)", sl->port, target_probe_answer_name(p->answer),
	         p->error.msg[0] ? ": " : "", p->error.msg);
}

static void *watch_main(void *arg)
{
	struct slot *sl = arg;
	struct ops_slots *s = sl->s;
	struct target_port_probe p;
	pthread_mutex_lock(&s->mu);
	while (!s->quit) {
		if (sl->held || (sl->present && sl->fresh)) {
			/* a job has the port, or the station has yet to take the board that arrived */
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		if (!sl->present) {
			probe(sl, s->has_seq, &p);
			if (s->quit || sl->held)
				continue;
			if (answered(&p))
				arrived(sl, s->has_seq ? "after the reset sequence" : target_probe_answer_name(p.answer));
		} else {
			/* a board stayed after its job: a synchronised ROM answers NACK; ACK is a ROM that
			 * has just started (a board placed or reset); silence: gone, or (with the reset
			 * sequence) perhaps an application running, which the sequence brings back */
			probe(sl, false, &p);
			if (s->quit || sl->held)
				continue;
			if (p.answer == TARGET_PROBE_ACK) {
				arrived(sl, "a ROM that has just started");
			} else if (p.answer != TARGET_PROBE_NACK) {
				if (s->has_seq) {
					probe(sl, true, &p);
					if (s->quit || sl->held)
						continue;
				}
				if (answered(&p))
					arrived(sl, "after the reset sequence");
				else
					departed(sl, &p);
			}
		}
		struct timespec ts;
		deadline(&ts, sl->present ? SLOT_STAY_MS : SLOT_EMPTY_MS);
		while (!s->quit && !sl->held && pthread_cond_timedwait(&s->cv, &s->mu, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	int r = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return r;
}

int ops_slots_check(const char *const *ports, size_t n, unsigned baud, const char *reset_seq, struct err *e)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < i; k++)
			if (strcmp(ports[i], ports[k]) == 0) {
				err_set(e, STM32DFU_E_USAGE, "--port %s is given twice: one board per port", ports[i]);
				err_hint(e, "give each of the fixture's ports once");
				return STM32DFU_E_USAGE;
			}
	struct ser_seq_pair seq;
	int rc;
	if (reset_seq && (rc = target_an3155_seq_parse(reset_seq, &seq, e)) < 0)
		return rc;
	if (!baud)
		baud = SER_BAUD_DEFAULT;
	for (size_t i = 0; i < n; i++) {
		struct ser *p = NULL;
		bool refused;
		if ((rc = target_an3155_port(ports[i], baud, NULL, NULL, NULL, NULL, &p, &refused, e)) < 0)
			return err_prefix(e, "--port %s", ports[i]);
		/* and take the reset sequence: a port without modem lines would never find a board */
		if (reset_seq && (rc = target_an3155_seq(p, &seq.entry, e)) < 0) {
			if (rc == STM32DFU_E_UNSUPPORTED)
				err_hint(e, "{@reset-seq} needs ports with DTR and RTS (USB serial adapters); a pseudo-terminal "
				            "has none: leave {@reset-seq} out and reset the boards into their bootloader by hand");
			target_an3155_port_close(p);
			return err_prefix(e, "--port %s", ports[i]);
		}
		target_an3155_port_close(p);
	}
	return 0;
}

int ops_slots_start(const char *const *ports, size_t n, unsigned baud, const char *reset_seq, struct ops_slots **out,
                    struct err *e)
{
	*out = NULL;
	struct ops_slots *s = calloc(1, sizeof *s);
	if (!s)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	s->baud = baud ? baud : SER_BAUD_DEFAULT;
	if (reset_seq) {
		int rc = target_an3155_seq_parse(reset_seq, &s->seq, e);
		if (rc < 0) {
			free(s);
			return rc;
		}
		s->has_seq = true;
	}
	s->slots = calloc(n ? n : 1, sizeof *s->slots);
	if (!s->slots) {
		free(s);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	s->n = n;
	pthread_mutex_init(&s->mu, NULL);
	cond_init_mono(&s->cv);
	cond_init_mono(&s->change);
	for (size_t i = 0; i < n; i++) {
		struct slot *sl = &s->slots[i];
		sl->s = s;
		sl->idx = i;
		sl->port = ports[i];
		if (strlen(ports[i]) < sizeof sl->path)
			snprintf(sl->path, sizeof sl->path, "%s", ports[i]);
		else
			snprintf(sl->path, sizeof sl->path, "port-%zu", i + 1);
	}
	for (size_t i = 0; i < n; i++) {
		if (pthread_create(&s->slots[i].th, NULL, watch_main, &s->slots[i]) != 0) {
			ops_slots_stop(s);
			return err_set(e, STM32DFU_E_NO_MEMORY, "cannot start the watcher of %s", ports[i]);
		}
		s->slots[i].started = true;
	}
	*out = s;
	return 0;
}

size_t ops_slots_list(struct ops_slots *s, struct ops_slot_board *out, size_t n)
{
	size_t k = 0;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->n && k < n; i++) {
		const struct slot *sl = &s->slots[i];
		if (!sl->present)
			continue;
		out[k].slot = i;
		snprintf(out[k].path, sizeof out[k].path, "%s", sl->path);
		out[k].devnum = sl->devnum;
		k++;
	}
	pthread_mutex_unlock(&s->mu);
	return k;
}

const char *ops_slots_port(const struct ops_slots *s, size_t slot)
{
	return slot < s->n ? s->slots[slot].port : "";
}

void ops_slots_hold(struct ops_slots *s, size_t slot, bool held)
{
	if (slot >= s->n)
		return;
	struct slot *sl = &s->slots[slot];
	pthread_mutex_lock(&s->mu);
	sl->held = held;
	if (held) {
		sl->fresh = false;
		while (sl->probing)
			pthread_cond_wait(&s->cv, &s->mu);
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

bool ops_slots_wait(struct ops_slots *s, unsigned max_ms)
{
	struct timespec ts;
	deadline(&ts, max_ms);
	pthread_mutex_lock(&s->mu);
	while (!s->changed && pthread_cond_timedwait(&s->change, &s->mu, &ts) == 0)
		;
	bool c = s->changed;
	s->changed = false;
	pthread_mutex_unlock(&s->mu);
	return c;
}

void ops_slots_stop(struct ops_slots *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->quit = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < s->n; i++)
		if (s->slots[i].started)
			pthread_join(s->slots[i].th, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->change);
	pthread_mutex_destroy(&s->mu);
	free(s->slots);
	free(s);
}
