/*
 * Fleet write. Two parallel phases: every candidate is opened by path and identified (its UID
 * read), then, once the selectors have been checked against what was found, every selected
 * device is written. Checking between the phases means a selector that matches nothing stops the
 * run before any chip is touched. Each session is used by one thread at a time and sessions share
 * nothing (one libusb context each), so no locking is needed beyond the caller's progress sink.
 */
#include "ops/multi.h"
#include "core/os.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "target/dfuse_link.h"

#include "core/clock.h"
#include "core/crc32.h"
#include "core/file.h"
#include "core/log.h"
#include "core/rd.h"
#include "image/image.h"

struct worker {
	const struct ops_multi_opts *o;
	const struct img *img;
	size_t index;
	struct ops_multi_result *r;
	struct ops_session *s;
	FILE *log;            /* logf.f: the log is complete or as it was (renamed in at the end) */
	struct file_out logf;
	uint64_t t0_us;
	pthread_t thread;
	bool started;
};

void ops_multi_opts_init(struct ops_multi_opts *o)
{
	memset(o, 0, sizeof *o);
	ops_open_opts_init(&o->open);
	ops_write_opts_init(&o->write);
}

static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void log_line(FILE *f, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void log_line(FILE *f, const char *fmt, ...)
{
	if (!f)
		return;
	char stamp[CLOCK_UTC_STAMP_LEN];
	clock_utc_stamp(stamp);
	fprintf(f, "%s ", stamp);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

/* the per-thread log sink: library messages of this device go to its own file */
static void log_to_file(enum log_level level, const char *msg, void *ctx)
{
	static const char *const names[] = {"error", "warning", "info", "debug", "trace"};
	log_line(ctx, "%s: %s", names[level], msg);
}

/* Without a per-device log, the board's messages go where the others go, saying which board: N
 * boards share one terminal, and a warning ("the USB link is failing") must name its own. */
static void log_named(enum log_level level, const char *msg, void *ctx)
{
	struct worker *w = ctx;
	char who[64];
	if (w->r->has_uid)
		snprintf(who, sizeof who, "%s (UID %08" PRIX32 "%08" PRIX32 "%08" PRIX32 ")", w->r->path,
		         get_le32(w->r->uid), get_le32(w->r->uid + 4), get_le32(w->r->uid + 8));
	else
		snprintf(who, sizeof who, "%s", w->r->path);
	log_set_thread_sink(NULL, NULL);
	log_msg(level, "board %s: %s", who, msg);
	log_set_thread_sink(log_named, w);
}

static void board_sink(struct worker *w)
{
	if (w->log)
		log_set_thread_sink(log_to_file, w->log);
	else
		log_set_thread_sink(log_named, w);
}

static void on_progress(void *ctx, const struct ops_progress *p)
{
	struct worker *w = ctx;
	/* the log keeps phase ends only: a factory record, not a trace */
	if (p->done == p->total)
		log_line(w->log, "%s: %" PRIu64 " %s in %.2f s", ops_phase_name(p->phase), p->total, p->unit,
		         (double)p->elapsed_us / 1e6);
	if (w->o->progress)
		w->o->progress(w->o->progress_ctx, w->index, w->r, p);
}

static void fail(struct worker *w, int rc, const struct err *detail)
{
	w->r->rc = rc;
	if (detail && detail->code)
		w->r->err = *detail;
	else
		err_set(&w->r->err, rc, "%s", stm32dfu_strerror(rc));
	log_line(w->log, "FAILED: %s (%s)", w->r->err.msg, stm32dfu_errname(rc));
	if (w->r->err.hint[0])
		log_line(w->log, "hint: %s", w->r->err.hint);
}

/* Log files are named by UID, the key that survives serial collisions and re-plugging. */
static void open_log(struct worker *w)
{
	const char *dir = w->o->log_dir;
	if (!dir)
		return;
	char name[64];
	if (w->r->has_uid)
		snprintf(name, sizeof name, "%08" PRIX32 "%08" PRIX32 "%08" PRIX32, get_le32(w->r->uid),
		         get_le32(w->r->uid + 4), get_le32(w->r->uid + 8));
	else
		snprintf(name, sizeof name, "path-%s", w->r->path);
	if (w->r->has_uid && w->r->uid_shared) {
		/* two chips with one UID (a clone, a faked UID): one log each, never interleaved */
		size_t used = strlen(name);
		snprintf(name + used, sizeof name - used, "-path-%s", w->r->path);
	}
	for (char *p = name; *p; p++)
		if (*p == '/' || *p == ' ')
			*p = '_';
	snprintf(w->r->log_path, sizeof w->r->log_path, "%s/%s.log", dir, name);
	struct err le;
	err_clear(&le);
	w->log = file_out_open_append(&w->logf, w->r->log_path, 0666, &le) == 0 ? w->logf.f : NULL;
	if (!w->log) {
		snprintf(w->r->log_error, sizeof w->r->log_error, "%s", le.msg[0] ? le.msg : w->r->log_path);
		w->r->log_path[0] = '\0';
	}
}

static bool path_selected(const struct ops_multi_opts *o, const char *path)
{
	for (size_t i = 0; i < o->n_paths; i++)
		if (strcmp(o->paths[i], path) == 0)
			return true;
	return false;
}

static bool selector_matches(const char *selector, const struct ops_multi_result *r)
{
	struct chip_selector sel;
	return chip_serial_parse_selector(selector, &sel) && chip_selector_matches(&sel, r->serial, r->has_uid ? r->uid : NULL);
}

/* phase 1: open by path, identify, decide whether this device is one of those asked for */
static void *identify_main(void *arg)
{
	struct worker *w = arg;
	const struct ops_multi_opts *o = w->o;
	w->t0_us = wall_us();
	struct ops_open_opts oo = o->open;
	if (w->r->port[0])
		oo.port = w->r->port; /* a serial-port slot: its ROM's USART bootloader */
	else if (!oo.sim_spec)
		oo.match.path = w->r->path;
	oo.selector = NULL; /* by path: two boards with one serial are still two paths */
	struct err e;
	err_clear(&e);
	int rc = ops_open(&oo, &w->s, &e);
	if (rc < 0) {
		open_log(w);
		board_sink(w);
		fail(w, rc, &e);
		log_set_thread_sink(NULL, NULL);
		w->r->selected = (o->n_selectors == 0 && o->n_paths == 0) || path_selected(o, w->r->path);
		w->r->us = wall_us() - w->t0_us;
		return NULL;
	}
	if (w->s->link == OPS_LINK_UART && !w->r->port[0])
		snprintf(w->r->port, sizeof w->r->port, "%s", ops_port_name(w->s)); /* --sim=...,link=uart */
	else if (!w->r->port[0]) {
		/* over USART the slot's name stays the path: the port's own may be too long for it */
		snprintf(w->r->serial, sizeof w->r->serial, "%s", ops_info(w->s)->serial);
		snprintf(w->r->path, sizeof w->r->path, "%s", ops_info(w->s)->path);
	}
	ops_identify(w->s);
	w->r->has_uid = w->s->id.has_uid;
	if (w->s->id.chip.family)
		snprintf(w->r->chip, sizeof w->r->chip, "%s", w->s->id.chip.family->name);
	if (w->s->id.chip.has_bootloader_version)
		snprintf(w->r->bootloader_version, sizeof w->r->bootloader_version, "%s", w->s->id.chip.bootloader_version);
	memcpy(w->r->uid, w->s->id.uid, sizeof w->r->uid);
	bool sel = o->n_selectors == 0 && o->n_paths == 0;
	sel = sel || path_selected(o, w->r->path);
	for (size_t i = 0; !sel && i < o->n_selectors; i++)
		sel = selector_matches(o->selectors[i], w->r);
	w->r->selected = sel;
	if (!sel) {
		ops_close(w->s);
		w->s = NULL;
	}
	/* the log is opened once every device's UID is known (open_logs) */
	return NULL;
}

/* After identification, in one thread: devices that share a UID get a log each (named by UID and path). */
static void open_logs(struct worker *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (i != j && w[i].s && w[j].s && w[i].r->has_uid && w[j].r->has_uid &&
			    memcmp(w[i].r->uid, w[j].r->uid, sizeof w[i].r->uid) == 0)
				w[i].r->uid_shared = true;
	for (size_t i = 0; i < n; i++) {
		if (!w[i].s)
			continue;
		open_log(&w[i]);
		log_line(w[i].log, "device path %s serial %s chip %s%s", w[i].r->path,
		         w[i].r->serial[0] ? w[i].r->serial : "(none)",
		         w[i].s->id.chip.family ? w[i].s->id.chip.family->name : "unknown",
		         w[i].r->uid_shared ? " (another attached device has the same UID)" : "");
	}
}

/* phase 2: write (plan, erase, program, verify) and close */
static void *write_main(void *arg)
{
	struct worker *w = arg;
	board_sink(w);
	ops_set_progress(w->s, on_progress, w);
	log_line(w->log, "write %" PRIu64 " bytes%s", w->img ? img_total_bytes(w->img) : 0,
	         w->o->write.verify ? ", then verify" : " (no verify)");
	struct ops_write_result wr;
	memset(&wr, 0, sizeof wr);
	const struct img *img = w->img;
	struct img *board = NULL;
	int rc = 0;
	if (w->o->serialno) {
		rc = ops_serialno_apply(w->s, w->o->serialno, w->img, &board, &w->r->serial_number);
		w->r->has_serial_number = rc == 0;
		img = board;
	}
	struct ops_write_opts wo = w->o->write;
	wo.otp_last = w->o->serialno != NULL; /* a serial number in OTP: after the verified flash */
	if (rc == 0)
		rc = ops_write(w->s, img, &wo, &wr);
	img_free(board);
	w->r->bytes = wr.bytes_programmed;
	w->r->image_bytes = wr.image_bytes;
	w->r->verified = wr.verified;
	w->r->wr = wr;
	w->r->retries = w->s->counters.retries;
	if (rc < 0)
		fail(w, rc, &w->s->err);
	else
		log_line(w->log, "OK: %u sectors erased, %u unchanged, %" PRIu64 " bytes programmed, %s, %u retries",
		         wr.sectors_erased, wr.sectors_skipped, wr.bytes_programmed, wr.verified ? "verified" : "NOT verified",
		         w->r->retries);
	ops_close(w->s);
	w->s = NULL;
	w->r->us = wall_us() - w->t0_us;
	log_line(w->log, "done in %.2f s", (double)w->r->us / 1e6);
	log_set_thread_sink(NULL, NULL);
	return NULL;
}

/* Runs fn on every worker that wants it, one thread each, and waits for all. */
static int run_all(struct worker *w, size_t n, void *(*fn)(void *), bool (*wanted)(const struct worker *))
{
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		w[i].started = false;
		if (wanted && !wanted(&w[i]))
			continue;
		if (pthread_create(&w[i].thread, NULL, fn, &w[i]) != 0) {
			/* too many threads: do this one here rather than not at all */
			fn(&w[i]);
			rc = -1;
			continue;
		}
		w[i].started = true;
	}
	for (size_t i = 0; i < n; i++)
		if (w[i].started)
			pthread_join(w[i].thread, NULL);
	return rc;
}

static int path_cmp(const void *pa, const void *pb)
{
	return target_usb_path_cmp(((const struct ops_multi_result *)pa)->path, ((const struct ops_multi_result *)pb)->path);
}

static bool wants_write(const struct worker *w)
{
	return w->s != NULL;
}

static int find_candidates(const struct ops_multi_opts *o, struct ops_multi_result **out, size_t *n, struct err *e)
{
	if (o->n_ports) {
		/* one board per serial port, in the order given (no USB is looked at) */
		size_t np = o->n_ports < OPS_MULTI_MAX ? o->n_ports : OPS_MULTI_MAX;
		*out = calloc(np, sizeof **out);
		if (!*out)
			return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
		for (size_t i = 0; i < np; i++) {
			struct ops_multi_result *r = &(*out)[i];
			snprintf(r->port, sizeof r->port, "%s", o->ports[i]);
			if (strlen(o->ports[i]) < sizeof r->path)
				snprintf(r->path, sizeof r->path, "%s", o->ports[i]);
			else
				snprintf(r->path, sizeof r->path, "port-%zu", i + 1);
		}
		*n = np;
		return 0;
	}
	if (o->open.sim_spec) {
		/* the in-process emulator is one device */
		*out = calloc(1, sizeof **out);
		if (!*out)
			return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
		snprintf((*out)[0].path, sizeof (*out)[0].path, "sim");
		*n = 1;
		return 0;
	}
	struct tp_listed *found = NULL;
	size_t nf = 0;
	int rc = target_usb_list(&o->open.match, NULL, false, &found, &nf, e);
	if (rc < 0)
		return rc;
	if (nf > OPS_MULTI_MAX)
		nf = OPS_MULTI_MAX;
	*out = calloc(nf ? nf : 1, sizeof **out);
	if (!*out) {
		free(found);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	size_t k = 0;
	for (size_t i = 0; i < nf; i++) {
		/* with only -p selectors, nothing else needs opening */
		if (o->n_selectors == 0 && o->n_paths && !path_selected(o, found[i].info.path))
			continue;
		snprintf((*out)[k].path, sizeof (*out)[k].path, "%s", found[i].info.path);
		snprintf((*out)[k].serial, sizeof (*out)[k].serial, "%s", found[i].info.serial);
		k++;
	}
	free(found);
	qsort(*out, k, sizeof **out, path_cmp);
	*n = k;
	return 0;
}

/* Every -S and -p must name at least one device: a typo must not silently shrink the batch. */
static int check_selectors(const struct ops_multi_opts *o, const struct ops_multi_result *r, size_t n, struct err *e)
{
	for (size_t i = 0; i < o->n_paths; i++) {
		bool hit = false;
		for (size_t k = 0; k < n && !hit; k++)
			hit = strcmp(r[k].path, o->paths[i]) == 0;
		if (!hit) {
			err_set(e, STM32DFU_E_NO_DEVICE, "no DFU device at path %s: nothing was written", o->paths[i]);
			err_hint(e, "{@list} shows each device's path");
			return STM32DFU_E_NO_DEVICE;
		}
	}
	for (size_t i = 0; i < o->n_selectors; i++) {
		struct chip_selector sel;
		if (!chip_serial_parse_selector(o->selectors[i], &sel))
			return err_set(e, STM32DFU_E_USAGE, "-S '%s': expected a USB serial or a 24-digit UID", o->selectors[i]);
		bool hit = false;
		for (size_t k = 0; k < n && !hit; k++)
			hit = selector_matches(o->selectors[i], &r[k]);
		if (!hit) {
			err_set(e, STM32DFU_E_NO_DEVICE, "no DFU device matches -S %s: nothing was written", o->selectors[i]);
			err_hint(e, "{@list} shows each device's serial and UID");
			return STM32DFU_E_NO_DEVICE;
		}
	}
	return 0;
}

int ops_multi_write(const struct ops_multi_opts *o, const struct img *img, struct ops_multi_result **out, size_t *n,
                    struct err *e)
{
	*out = NULL;
	*n = 0;
	if (o->log_dir && os_mkdir(o->log_dir, 0777) < 0 && errno != EEXIST)
		return err_set(e, STM32DFU_E_FILE_IO, "--log-dir %s: %s", o->log_dir, strerror(errno));
	struct ops_multi_result *r = NULL;
	size_t nr = 0;
	int rc = find_candidates(o, &r, &nr, e);
	if (rc < 0)
		return rc;
	if (nr == 0) {
		free(r);
		if (o->n_ports)
			return err_set(e, STM32DFU_E_USAGE, "no --port given");
		err_set(e, STM32DFU_E_NO_DEVICE, "no DFU device found");
		err_hint(e, "are the chips in DFU mode (BOOT0 high, USB connected)?");
		return STM32DFU_E_NO_DEVICE;
	}
	struct worker *w = calloc(nr, sizeof *w);
	if (!w) {
		free(r);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	for (size_t i = 0; i < nr; i++)
		w[i] = (struct worker){.o = o, .img = img, .index = i, .r = &r[i]};
	/* the CRC tables are built lazily: build them before the threads race to */
	(void)crc32_update(0, NULL, 0);
	run_all(w, nr, identify_main, NULL);
	rc = check_selectors(o, r, nr, e);
	if (rc == 0) {
		open_logs(w, nr);
		run_all(w, nr, write_main, wants_write);
	}
	for (size_t i = 0; i < nr; i++) {
		ops_close(w[i].s); /* only left open when the selectors failed */
		if (w[i].log && file_out_commit(&w[i].logf, NULL) < 0)
			w[i].r->log_path[0] = '\0'; /* not written: the old log is as it was */
	}
	free(w);
	if (rc < 0) {
		free(r);
		return rc;
	}
	/* keep only the devices asked for */
	size_t k = 0;
	for (size_t i = 0; i < nr; i++)
		if (r[i].selected)
			r[k++] = r[i];
	*out = r;
	*n = k;
	return 0;
}

void ops_multi_run_one(const struct ops_multi_opts *o, const struct img *img, size_t index, struct ops_multi_result *r,
                       enum ops_claim (*claim)(void *ctx, const struct ops_multi_result *r), void *claim_ctx)
{
	struct worker w = {.o = o, .img = img, .index = index, .r = r};
	(void)crc32_update(0, NULL, 0);
	identify_main(&w);
	r->claim = w.s && claim ? claim(claim_ctx, r) : OPS_CLAIM_GO;
	if (r->claim != OPS_CLAIM_GO) {
		char uid[25];
		snprintf(uid, sizeof uid, "%08" PRIX32 "%08" PRIX32 "%08" PRIX32, get_le32(r->uid), get_le32(r->uid + 4),
		         get_le32(r->uid + 8));
		if (r->claim == OPS_CLAIM_CLONE) {
			r->rc = err_set(&r->err, STM32DFU_E_AMBIGUOUS,
			                "cloned UID: %s is also the UID of the board at %s: quarantined, nothing written, "
			                "no serial number", uid, r->other_path);
			err_hint(&r->err, "two chips answer with one UID (a counterfeit, or a faked UID): set this board "
			                  "aside; 'stm32dfu log --collisions' lists such boards");
		} else if (r->claim == OPS_CLAIM_BUSY) {
			r->rc = err_set(&r->err, STM32DFU_E_AMBIGUOUS,
			                "UID busy: %s is still being programmed from %s, where it was until now: this "
			                "board is taken again once that job ends", uid, r->other_path);
		}
		ops_close(w.s);
		w.s = NULL;
	}
	if (w.s && !w.log) {
		/* the board's own log (--log-dir), as the fleet's open_logs opens them */
		open_log(&w);
		log_line(w.log, "device path %s serial %s chip %s", r->path, r->serial[0] ? r->serial : "(none)",
		         r->chip[0] ? r->chip : "unknown");
	}
	if (w.s)
		write_main(&w);
	/* the log is renamed into place only now (complete or absent), as ops_multi_write's */
	if (w.log && file_out_commit(&w.logf, NULL) < 0)
		r->log_path[0] = '\0';
}
