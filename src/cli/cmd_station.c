/*
 * stm32dfu station FILE: programs every board as it is plugged in (ops/station.c), one record
 * each in the log. On a terminal, a live table of the boards in progress (phase, percent, KiB/s,
 * ETA) redrawn in place, with one line per finished board above it; off a terminal, the lines
 * only; --json, one JSON object per board per line. Ctrl-C: the first takes no new board and lets
 * those in progress finish; a second stops them at the next transfer boundary (as any command).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/text.h"
#include "cli/commands.h"
#include "cli/json.h"
#include "cli/logrec.h"
#include "cli/session.h"
#include "image/image.h"
#include "ops/record.h"
#include "ops/slots.h"
#include "ops/station.h"
#include "core/os.h"

static volatile sig_atomic_t station_stop, station_abort;

static void on_sigint(int sig)
{
	(void)sig;
	if (station_stop) {
		station_abort = 1;
		cli_stop_requested = 1;
	}
	station_stop = 1;
}

struct row {
	bool on;
	char who[32];
	int phase;
	uint64_t done, total, elapsed_us;
};

struct ui {
	struct cli_ctx *c;
	pthread_mutex_t mu;
	bool live, json;
	struct row rows[OPS_MULTI_MAX];
	size_t drawn;
	uint64_t last_draw_us;
	bool sn_on;
	const char *counter;
	const struct img *img;
	bool spooling;
	bool log_failed;
	/* the records go to the log on a thread of their own: a database that stops answering never
	 * holds the station's loop (boards keep being taken and reported) */
	pthread_t writer;
	bool writer_on;
	pthread_cond_t cv;
	struct store_record *queue; /* FIFO, nq records from qhead */
	size_t nq, qhead, qcap;
	bool closing;
};

static void undraw(struct ui *u);
static void draw(struct ui *u);

/* Takes the records in order and appends each; says once per outage that the database does not
 * answer, and once that it answers again. */
static void *writer_main(void *arg)
{
	struct ui *u = arg;
	struct cli_ctx *c = u->c;
	pthread_mutex_lock(&u->mu);
	for (;;) {
		while (!u->nq && !u->closing)
			pthread_cond_wait(&u->cv, &u->mu);
		if (!u->nq)
			break;
		struct store_record rec = u->queue[u->qhead];
		u->qhead++;
		u->nq--;
		pthread_mutex_unlock(&u->mu);
		struct err e;
		err_clear(&e);
		int rc = store_append(c->log, &rec, &e);
		bool spool = store_spooling(c->log);
		pthread_mutex_lock(&u->mu);
		if (u->live)
			undraw(u);
		if (rc < 0) {
			u->log_failed = true;
			fprintf(c->errf, "stm32dfu: the programming log lost the record of %s: %s\n", rec.uid[0] ? rec.uid : "a board",
			        e.msg);
		} else if (spool && !u->spooling) {
			fprintf(c->errf, "stm32dfu: the log database %s is unreachable: records are spooled locally and sent "
			                 "when it answers\n", store_url(c->log));
		} else if (!spool && u->spooling) {
			fprintf(c->errf, "stm32dfu: the log database answers again: the spooled records were sent\n");
		}
		u->spooling = spool;
		if (u->live)
			draw(u);
	}
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

/* Queues a record for the writer (under u->mu). */
static void enqueue(struct ui *u, const struct store_record *r)
{
	if (u->qhead && u->qhead + u->nq == u->qcap) {
		memmove(u->queue, u->queue + u->qhead, u->nq * sizeof *u->queue);
		u->qhead = 0;
	}
	if (u->nq == u->qcap) {
		size_t cap = u->qcap ? 2 * u->qcap : 16;
		struct store_record *q = realloc(u->queue, cap * sizeof *q);
		if (!q) {
			u->log_failed = true;
			fprintf(u->c->errf, "stm32dfu: out of memory: the record of %s is lost\n", r->uid);
			return;
		}
		u->queue = q;
		u->qcap = cap;
	}
	u->queue[u->qhead + u->nq++] = *r;
	pthread_cond_signal(&u->cv);
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void undraw(struct ui *u)
{
	if (u->drawn)
		fprintf(u->c->errf, "\033[%zuA\r\033[J", u->drawn);
	u->drawn = 0;
}

static void draw(struct ui *u)
{
	FILE *f = u->c->errf;
	undraw(u);
	for (size_t i = 0; i < OPS_MULTI_MAX; i++) {
		const struct row *r = &u->rows[i];
		if (!r->on)
			continue;
		unsigned pct = r->total ? (unsigned)(r->done * 100 / r->total) : 0;
		double s = (double)r->elapsed_us / 1e6;
		bool bytes = r->phase != OPS_PHASE_ERASE;
		double rate = bytes && s > 0 ? (double)r->done / 1024.0 / s : 0;
		double eta = r->done && r->total > r->done ? s * (double)(r->total - r->done) / (double)r->done : 0;
		fprintf(f, "  %-26s %-8s %3u%%", r->who, r->total ? ops_phase_name((enum ops_phase)r->phase) : "open", pct);
		if (rate > 0)
			fprintf(f, " %8.1f KiB/s", rate);
		else
			fprintf(f, " %14s", "");
		if (eta > 0)
			fprintf(f, "  ETA %4.0f s", eta);
		fputc('\n', f);
		u->drawn++;
	}
	fflush(f);
	u->last_draw_us = now_us();
}

static void on_progress(void *ctx, size_t slot, const struct ops_multi_result *r, const struct ops_progress *p)
{
	struct ui *u = ctx;
	if (!u->live || slot >= OPS_MULTI_MAX)
		return;
	pthread_mutex_lock(&u->mu);
	struct row *w = &u->rows[slot];
	if (r->has_uid)
		ops_record_uid(w->who, r->uid);
	w->phase = (int)p->phase;
	w->done = p->done;
	w->total = p->total;
	w->elapsed_us = p->elapsed_us;
	if (now_us() - u->last_draw_us >= 100000)
		draw(u);
	pthread_mutex_unlock(&u->mu);
}

static void on_start(void *ctx, size_t slot, const struct ops_multi_result *r)
{
	struct ui *u = ctx;
	pthread_mutex_lock(&u->mu);
	u->rows[slot] = (struct row){.on = true};
	snprintf(u->rows[slot].who, sizeof u->rows[slot].who, "%s", r->path);
	if (u->live)
		draw(u);
	pthread_mutex_unlock(&u->mu);
}

/* A re-plugged board this run programmed already: a line, no record (nothing was changed). */
static void on_already(struct ui *u, size_t slot, const struct ops_multi_result *r)
{
	struct cli_ctx *c = u->c;
	char uid[25];
	ops_record_uid(uid, r->uid);
	pthread_mutex_lock(&u->mu);
	u->rows[slot].on = false;
	if (u->live)
		undraw(u);
	if (u->json) {
		struct json j;
		json_init(&j, c->live_out);
		j.compact = true;
		json_obj_begin(&j);
		json_kstr(&j, "uid", uid);
		json_kstr(&j, r->port[0] ? "port" : "usb_path", r->port[0] ? r->port : r->path);
		json_kbool(&j, "already_programmed", true);
		json_obj_end(&j);
		json_end(&j);
		fflush(c->live_out);
	} else if (!c->args.given[OPT_QUIET]) {
		fprintf(c->out, "%-24s already programmed with this image in this run: not written, not counted  %s\n", uid,
		        text_esc(0, r->port[0] ? r->port : r->path));
		fflush(c->out);
	}
	if (u->live)
		draw(u);
	pthread_mutex_unlock(&u->mu);
}

static void on_done(void *ctx, size_t slot, const struct ops_multi_result *r)
{
	struct ui *u = ctx;
	struct cli_ctx *c = u->c;
	if (r->claim == OPS_CLAIM_ALREADY) {
		on_already(u, slot, r);
		return;
	}
	struct store_record rec;
	cli_log_init(c, &rec, "station");
	cli_log_image(c, &rec, c->args.pos[0], u->img);
	if (u->sn_on)
		snprintf(rec.serial_counter, sizeof rec.serial_counter, "%s", u->counter);
	ops_record_multi(&rec, r);
	store_fill_identity(&rec); /* the line shows the identity the record is stored under */
	pthread_mutex_lock(&u->mu);
	if (c->log)
		enqueue(u, &rec);
	u->rows[slot].on = false;
	if (u->live)
		undraw(u);
	if (r->claim == OPS_CLAIM_CLONE)
		/* loud, whatever the output mode: a second chip with one UID breaks what the log keys on */
		fprintf(c->errf, "stm32dfu: WARNING: cloned UID %s: the board at %s has the UID of the board at %s; "
		                 "it is quarantined (nothing written, no serial number)\n",
		        rec.uid, text_esc(0, r->path), text_esc(1, r->other_path));
	if (u->json) {
		struct json j;
		json_init(&j, c->live_out);
		j.compact = true;
		cli_json_record(&j, &rec);
		json_end(&j);
		fflush(c->live_out);
	} else if (!c->args.given[OPT_QUIET]) {
		char sn[32] = "-";
		if (r->has_serial_number)
			snprintf(sn, sizeof sn, "%" PRIu64, r->serial_number);
		fprintf(c->out, "%-24s %-16s %-10s %-6s %7.2f s  %s\n", rec.uid[0] ? rec.uid : "(no UID)",
		        r->serial[0] ? text_esc(0, r->serial) : r->port[0] ? "(USART)" : "(none)", sn, r->rc ? "FAILED" : "ok",
		        (double)r->us / 1e6, text_esc(1, r->port[0] ? r->port : r->path));
		if (r->rc) {
			fprintf(c->out, "    %s: %s\n", stm32dfu_errname(r->rc), text_esc(0, r->err.msg));
			if (r->err.hint[0])
				fprintf(c->out, "    hint: %s\n", text_esc(0, r->err.hint));
		}
		fflush(c->out);
	}
	if (u->live)
		draw(u);
	pthread_mutex_unlock(&u->mu);
}

/* The first Ctrl-C: said at once, so the operator knows the boards in progress are finishing. */
static void on_stopping(void *ctx, unsigned running)
{
	struct ui *u = ctx;
	pthread_mutex_lock(&u->mu);
	if (u->live)
		undraw(u);
	if (running)
		fprintf(u->c->errf, "station %s: Ctrl-C: no new board is taken; the %u in progress finish (Ctrl-C again "
		                    "stops them at the next transfer boundary)\n", u->c->station, running);
	else
		fprintf(u->c->errf, "station %s: Ctrl-C: stopping\n", u->c->station);
	fflush(u->c->errf);
	if (u->live)
		draw(u);
	pthread_mutex_unlock(&u->mu);
}

/* --serial-lease N: numbers held for an outage of the shared log (store_lease_start). */
static int lease_begin(struct cli_ctx *c, const struct ops_serialno *sn)
{
	const char *v = c->args.value[OPT_SERIAL_LEASE];
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (end == v || *end || errno || v[0] == '-' || n < 1 || n > 1000000)
		return cli_usage_error(c, "--serial-lease %s: expected how many numbers to hold, 1 to 1000000", v);
	struct store_lease_report r;
	int rc = store_lease_start(c->log, sn->counter, sn->start, c->station, n, &r, &c->err);
	if (rc < 0)
		return cli_fail(c, rc);
	if (c->args.given[OPT_QUIET])
		return 0;
	if (r.reached)
		fprintf(c->errf, "station %s: %" PRIu64 " serial number%s of counter '%s' leased for outages of the log\n",
		        c->station, r.held, r.held == 1 ? "" : "s", sn->counter);
	else if (r.held)
		fprintf(c->errf, "station %s: the log database does not answer: boards take their serial numbers from the "
		                 "%" PRIu64 " this station still holds (%s)\n", c->station, r.held, r.path);
	else
		fprintf(c->errf, "station %s: the log database does not answer and this station holds no leased serial "
		                 "numbers: boards fail until it answers\n", c->station);
	return 0;
}

/* Ends the lease; true when something stays in the local file (the database did not answer). */
static bool lease_finish(struct cli_ctx *c, const struct ops_serialno *sn)
{
	struct store_lease_report r;
	struct err e;
	err_clear(&e);
	int rc = store_lease_end(c->log, &r, &e);
	if (rc == 0) {
		if (!c->args.given[OPT_QUIET] && (r.given_back || r.unused))
			fprintf(c->errf, "station %s: serial lease ended: %" PRIu64 " unused number%s given back to counter '%s', "
			                 "%" PRIu64 " marked unused (never given)\n",
			        c->station, r.given_back, r.given_back == 1 ? "" : "s", sn->counter, r.unused);
		return false;
	}
	fprintf(c->errf, "stm32dfu: serial lease: %s\nstm32dfu: %" PRIu64 " leased number%s and %" PRIu64 " number%s "
	                 "handed out while the database was away stay in %s for this station's next run (the same "
	                 "station name, counter and database); no number is given twice\n",
	        e.msg, r.held, r.held == 1 ? "" : "s", r.pending, r.pending == 1 ? "" : "s", r.path);
	return true;
}

int cli_cmd_station(struct cli_ctx *c)
{
	const struct cli_args *a = &c->args;
	if (a->given[OPT_SIM])
		return cli_usage_error(c, "station watches USB (or its --port slots) for boards; to emulate them, run "
		                          "it under stm32dfu-sim --plug T:PROFILE (USB) or --uart PROFILE (serial ports)");
	if (a->nserials || a->npaths || a->given[OPT_TRACE])
		return cli_usage_error(c, "station takes every board plugged in: drop -S/-p/--trace");
	/* one kind of slot per station: with --port no USB is watched, so a -d VID:PID would be a
	 * promise of USB boards it never takes */
	if (a->nports && a->given[OPT_DEVICE])
		return cli_usage_error(c, "station watches either USB (-d VID:PID) or serial ports (--port), not both: "
		                          "run one station for each, with the same --log and --station names");
	if (!a->nports && a->given[OPT_RESET_SEQ])
		return cli_usage_error(c, "--reset-seq drives a serial port's DTR and RTS: give the fixture's ports "
		                          "with --port TTY (once per board)");
	unsigned count = 0;
	if (a->given[OPT_COUNT]) {
		uint32_t v;
		if (!cli_parse_u32(a->value[OPT_COUNT], &v) || v == 0)
			return cli_usage_error(c, "--count %s: expected a number of boards, 1 or more", a->value[OPT_COUNT]);
		count = v;
	}
	struct img *img;
	int rc = cli_load_image(c, &img);
	if (rc)
		return rc;
	if (!a->given[OPT_FORCE] && !a->any_device_id && !img_suffix_matches(img, a->vid, a->pid)) {
		err_set(&c->err, STM32DFU_E_FILE_FORMAT, "%s is made for device %04x:%04x, the station takes %04x:%04x",
		        a->pos[0], img->suffix.vid, img->suffix.pid, a->vid, a->pid);
		err_hint(&c->err, "use --force if you are sure it fits these chips");
		img_free(img);
		return cli_fail(c, STM32DFU_E_FILE_FORMAT);
	}
	/* the per-board logs need their folder before the first board (fleet write makes it too) */
	if (a->given[OPT_LOG_DIR] && os_mkdir(a->value[OPT_LOG_DIR], 0777) < 0 && errno != EEXIST) {
		err_set(&c->err, STM32DFU_E_FILE_IO, "--log-dir %s: %s", a->value[OPT_LOG_DIR], strerror(errno));
		err_hint(&c->err, "give a folder that can be created, or drop --log-dir");
		img_free(img);
		cli_fail(c, STM32DFU_E_FILE_IO);
		return EXIT_CANTCREAT;
	}
	/* the fixture's ports, before anything else is started (ops/slots.h) */
	if (a->nports && (rc = ops_slots_check(a->ports, (size_t)a->nports, a->baud,
	                                       a->given[OPT_RESET_SEQ] ? (a->value[OPT_RESET_SEQ] ? a->value[OPT_RESET_SEQ] : "")
	                                                               : NULL, &c->err)) < 0) {
		img_free(img);
		return cli_fail(c, rc);
	}
	struct ops_serialno sn;
	bool sn_on;
	if ((rc = cli_log_ready(c)) || (rc = cli_serialno_setup(c, img, &sn, &sn_on))) {
		img_free(img);
		return rc;
	}
	bool leased = sn_on && a->given[OPT_SERIAL_LEASE];
	if (leased && (rc = lease_begin(c, &sn))) {
		img_free(img);
		return rc;
	}
	struct ui *u = calloc(1, sizeof *u);
	if (!u) {
		img_free(img);
		return cli_fail(c, STM32DFU_E_NO_MEMORY);
	}
	pthread_mutex_init(&u->mu, NULL);
	u->c = c;
	u->json = a->given[OPT_JSON];
	u->live = c->tty && !u->json && !a->given[OPT_QUIET];
	u->sn_on = sn_on;
	u->counter = sn.counter;
	u->img = img;

	struct ops_station_opts so;
	memset(&so, 0, sizeof so);
	ops_multi_opts_init(&so.multi);
	cli_open_opts(c, &so.multi.open);
	so.multi.open.trace_path = NULL;
	so.multi.open.selector = NULL;
	so.multi.open.match.path = NULL;
	so.multi.open.port = NULL; /* each board's job opens its own slot's port */
	so.ports = a->nports ? a->ports : NULL;
	so.n_ports = (size_t)a->nports;
	so.multi.open.cancel = &station_abort;
	so.multi.log_dir = a->value[OPT_LOG_DIR];
	so.multi.write.verify = !a->given[OPT_NO_VERIFY];
	so.multi.write.full = a->given[OPT_FULL];
	so.multi.write.leave = a->given[OPT_LEAVE];
	so.multi.write.otp_ok = a->given[OPT_OTP_PERMANENT];
	so.multi.serialno = sn_on ? &sn : NULL;
	so.multi.progress = on_progress;
	so.multi.progress_ctx = u;
	so.count = count;
	so.stop = &station_stop;
	so.stopping = on_stopping;
	so.start = on_start;
	so.done = on_done;
	so.ctx = u;

	station_stop = station_abort = 0;
	os_stop_fn old_stop = os_stop_set(on_sigint);
	if (!u->json && !a->given[OPT_QUIET] && a->nports)
		fprintf(c->errf, "station %s: waiting for boards on %d serial port%s at %u baud (%s)%s; Ctrl-C stops\n",
		        c->station, a->nports, a->nports == 1 ? "" : "s", a->baud ? a->baud : 115200u, a->pos[0],
		        count ? "" : ", any number");
	else if (!u->json && !a->given[OPT_QUIET])
		fprintf(c->errf, "station %s: waiting for boards (%s)%s; Ctrl-C stops\n", c->station, a->pos[0],
		        count ? "" : ", any number");
	if (c->log)
		store_set_stop(c->log, &station_stop); /* Ctrl-C does not wait for a silent database */
	pthread_cond_init(&u->cv, NULL);
	if (c->log)
		u->writer_on = pthread_create(&u->writer, NULL, writer_main, u) == 0;
	if (c->log && !u->writer_on) {
		pthread_cond_destroy(&u->cv);
		pthread_mutex_destroy(&u->mu);
		free(u);
		img_free(img);
		return cli_fail(c, err_set(&c->err, STM32DFU_E_NO_MEMORY, "cannot start the log's thread"));
	}
	struct ops_station_summary sum;
	rc = ops_station_run(&so, img, &sum, &c->err);
	/* every record is stored (or spooled) before the summary */
	pthread_mutex_lock(&u->mu);
	u->closing = true;
	pthread_cond_signal(&u->cv);
	pthread_mutex_unlock(&u->mu);
	if (u->writer_on)
		pthread_join(u->writer, NULL);
	free(u->queue);
	os_stop_set(old_stop);
	if (u->live)
		undraw(u);
	double hours = (double)sum.us / 3.6e9;
	/* programmed boards only: a failed or quarantined board is not output */
	double per_hour = hours > 0 ? (double)(sum.done - sum.failed) / hours : 0;
	if (u->json) {
		/* the summary is the held document; the boards were lines on stdout already */
		struct json j;
		json_init(&j, c->out);
		j.compact = true;
		json_obj_begin(&j);
		json_key(&j, "summary");
		json_obj_begin(&j);
		json_kuint(&j, "done", sum.done);
		json_kuint(&j, "failed", sum.failed);
		json_kuint(&j, "cloned_uids", sum.clones);
		json_kuint(&j, "already_programmed", sum.already);
		json_kuint(&j, "uid_busy", sum.busy);
		json_kdouble(&j, "seconds", (double)sum.us / 1e6);
		json_kdouble(&j, "boards_per_hour", per_hour);
		json_kbool(&j, "hotplug", sum.hotplug);
		json_kbool(&j, "interrupted", station_stop != 0);
		json_obj_end(&j);
		json_obj_end(&j);
		json_end(&j);
	} else if (!a->given[OPT_QUIET]) {
		fprintf(c->out, "%u board%s: %u programmed, %u failed", sum.done, sum.done == 1 ? "" : "s",
		        sum.done - sum.failed, sum.failed);
		if (sum.clones)
			fprintf(c->out, " (%u quarantined: cloned UID)", sum.clones);
		if (sum.already)
			fprintf(c->out, "; %u re-plugged board%s already programmed, not counted", sum.already,
			        sum.already == 1 ? "" : "s");
		fprintf(c->out, ", in %.1f s (%.0f boards/hour)%s\n", (double)sum.us / 1e6, per_hour,
		        station_stop ? ", stopped by Ctrl-C" : "");
	}
	bool log_failed = u->log_failed;
	/* records left in the spool: the line is not done with them (and may be stopped again) */
	size_t spooled = 0;
	if (c->log && store_spooling(c->log)) {
		size_t sent = 0;
		struct err se;
		err_clear(&se);
		(void)store_sync(c->log, &sent, &spooled, &se);
		if (spooled)
			fprintf(c->errf, "stm32dfu: %zu record%s of this station wait in the local spool: the log database %s "
			                 "did not answer; 'stm32dfu log --sync' sends them\n",
			        spooled, spooled == 1 ? "" : "s", store_url(c->log));
	}
	bool lease_kept = leased && lease_finish(c, &sn);
	pthread_cond_destroy(&u->cv);
	pthread_mutex_destroy(&u->mu);
	free(u);
	img_free(img);
	if (rc < 0)
		return cli_fail(c, rc);
	if (station_abort)
		return EXIT_CANCELED;
	if (sum.failed)
		return EXIT_BOARDS_FAILED;
	if (log_failed)
		return EXIT_CANTCREAT;
	return spooled || lease_kept ? EXIT_TEMPFAIL : EXIT_OK;
}
