/*
 * write --all, or write with several -S/-p: one session per device, in parallel (ops/multi.c).
 * Progress per device (a redrawn block of lines on a terminal, phase lines otherwise), then a
 * table or a JSON array, and the failed devices named by UID.
 */
#include "core/text.h"
#include "cli/fleet.h"
#include "ops/slots.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/file.h"

#include "cli/logrec.h"
#include "cli/session.h"
#include "image/image.h"
#include "ops/multi.h"
#include "ops/record.h"

struct fleet_line {
	char path[32];
	int phase;
	uint64_t done, total;
};

struct fleet_progress {
	pthread_mutex_t mu;    /* device threads report concurrently */
	FILE *out;
	bool tty, enabled;
	size_t n_lines;        /* lines of the block on screen */
	size_t n;
	struct fleet_line line[OPS_MULTI_MAX];
	uint64_t last_draw_us;
};

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void draw_block(struct fleet_progress *f)
{
	if (f->n_lines)
		fprintf(f->out, "\033[%zuA", f->n_lines);
	for (size_t i = 0; i < f->n; i++) {
		const struct fleet_line *l = &f->line[i];
		unsigned pct = l->total ? (unsigned)(l->done * 100 / l->total) : 0;
		char bar[21];
		memset(bar, ' ', 20);
		memset(bar, '#', pct / 5);
		bar[20] = '\0';
		fprintf(f->out, "\r\033[K%-12s %-8s [%s] %3u%%\n", l->path[0] ? l->path : "?",
		        ops_phase_name((enum ops_phase)l->phase), bar, pct);
	}
	f->n_lines = f->n;
	fflush(f->out);
}

static void fleet_progress_cb(void *ctx, size_t index, const struct ops_multi_result *r, const struct ops_progress *p)
{
	struct fleet_progress *f = ctx;
	if (!f->enabled || index >= OPS_MULTI_MAX)
		return;
	pthread_mutex_lock(&f->mu);
	if (index >= f->n)
		f->n = index + 1;
	struct fleet_line *l = &f->line[index];
	if (!l->path[0])
		snprintf(l->path, sizeof l->path, "%s", r->path);
	bool phase_end = p->done == p->total && !(l->phase == (int)p->phase && l->done == p->done);
	l->phase = (int)p->phase;
	l->done = p->done;
	l->total = p->total;
	if (f->tty) {
		/* a redraw of N lines per block would flood a slow terminal: 10 per second is enough */
		uint64_t now = mono_us();
		if (phase_end || now - f->last_draw_us >= 100000) {
			draw_block(f);
			f->last_draw_us = now;
		}
	} else if (phase_end) {
		fprintf(f->out, "%s: %s %" PRIu64 " %s done\n", r->path, ops_phase_name(p->phase), p->total, p->unit);
	}
	pthread_mutex_unlock(&f->mu);
}

static void uid_text(const struct ops_multi_result *r, char *buf, size_t cap)
{
	if (r->has_uid)
		cli_uid_format(r->uid, buf, cap);
	else
		snprintf(buf, cap, "(unknown)");
}

static void print_table(struct cli_ctx *c, const struct ops_multi_result *r, size_t n)
{
	FILE *o = c->out;
	fprintf(o, "%-12s %-26s %-26s %-8s %10s %8s %7s\n", "path", "UID", "serial", "result", "bytes", "seconds",
	        "retries");
	for (size_t i = 0; i < n; i++) {
		char u[40];
		uid_text(&r[i], u, sizeof u);
		fprintf(o, "%-12s %-26s %-26s %-8s %10" PRIu64 " %8.2f %7u\n", text_esc(0, r[i].path), u,
		        r[i].serial[0] ? text_esc(1, r[i].serial) : "(none)", r[i].rc ? "FAILED" : "ok", r[i].bytes, (double)r[i].us / 1e6,
		        r[i].retries);
	}
}

static void print_json(struct cli_ctx *c, const struct ops_multi_result *r, size_t n)
{
	struct json j;
	json_init(&j, c->out);
	json_arr_begin(&j);
	for (size_t i = 0; i < n; i++) {
		json_obj_begin(&j);
		json_kstr(&j, "path", r[i].path);
		json_kstr(&j, "link", r[i].port[0] ? "uart" : "usb");
		json_kstr(&j, "port", r[i].port);
		json_key(&j, "uid");
		if (r[i].has_uid) {
			char u[40], m[40];
			cli_uid_format(r[i].uid, u, sizeof u);
			cli_uid_machine(u, m, sizeof m);
			json_str(&j, m);
		} else {
			json_null(&j);
		}
		json_kstr(&j, "serial", r[i].serial);
		json_kstr(&j, "file", c->args.pos[0]);
		json_kbool(&j, "ok", r[i].rc == 0);
		if (r[i].rc) {
			json_kstr(&j, "error", stm32dfu_errname(r[i].rc));
			json_kstr(&j, "message", r[i].err.msg);
			json_kstr(&j, "hint", r[i].err.hint);
		}
		json_kuint(&j, "image_bytes", r[i].image_bytes);
		json_kuint(&j, "bytes_programmed", r[i].bytes);
		json_kbool(&j, "verified", r[i].verified);
		json_kdouble(&j, "seconds", (double)r[i].us / 1e6);
		json_kuint(&j, "retries", r[i].retries);
		if (r[i].has_serial_number)
			json_kuint(&j, "serial_number", r[i].serial_number);
		if (c->args.given[OPT_LOG_DIR]) {
			json_key(&j, "log");
			json_str(&j, r[i].log_path[0] ? r[i].log_path : NULL);
			json_key(&j, "log_error");
			json_str(&j, r[i].log_error[0] ? r[i].log_error : NULL);
		}
		json_kbool(&j, "uid_shared", r[i].uid_shared);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_end(&j);
}

bool cli_fleet_wanted(const struct cli_ctx *c)
{
	const struct cli_args *a = &c->args;
	return a->given[OPT_ALL] || a->nserials + a->npaths > 1 || a->nports > 1 || a->given[OPT_LOG_DIR];
}

/* --strict-log: the folder must take a file before any device is touched (a probe, removed) */
static int probe_log_dir(struct cli_ctx *c, const char *dir)
{
	char probe[4096];
	int fd = -1;
	if (file_make_dirs(dir, &c->err) == 0) {
		snprintf(probe, sizeof probe, "%s/.stm32dfu-probe-XXXXXX", dir);
		fd = mkstemp(probe);
		if (fd < 0)
			err_set(&c->err, STM32DFU_E_FILE_IO, "--log-dir %s: cannot write a log there: %s", dir, strerror(errno));
	}
	if (fd < 0) {
		err_hint(&c->err, "--strict-log programs nothing without its per-device logs: give a folder you can write");
		cli_fail(c, STM32DFU_E_FILE_IO);
		return EXIT_CANTCREAT;
	}
	close(fd);
	unlink(probe);
	return 0;
}

int cli_cmd_write_fleet(struct cli_ctx *c, const struct img *img)
{
	const struct cli_args *a = &c->args;
	if (a->given[OPT_TRACE])
		return cli_usage_error(c, "--trace records one device: select one with -S or -p (not --all)");
	/* with --port, the fleet is the ports given, one board each (no USB is looked at) */
	if (a->nports && (a->nserials || a->npaths || a->given[OPT_DEVICE]))
		return cli_usage_error(c, "write --port P1 --port P2 ... takes the board on each port given: drop "
		                          "-S/-p/-d (they select USB devices), or drop --port");
	if (a->given[OPT_ALL] && (a->nserials || a->npaths))
		return cli_usage_error(c, "write --all takes every device: drop -S/-p, or drop --all");
	if (!a->given[OPT_FORCE] && !a->any_device_id && !img_suffix_matches(img, a->vid, a->pid)) {
		err_set(&c->err, STM32DFU_E_FILE_FORMAT, "%s is made for device %04x:%04x, these are %04x:%04x",
		        a->pos[0], img->suffix.vid, img->suffix.pid, a->vid, a->pid);
		err_hint(&c->err, "use --force if you are sure it fits these chips");
		return cli_fail(c, STM32DFU_E_FILE_FORMAT);
	}
	if (a->given[OPT_STRICT_LOG]) {
		int prc = probe_log_dir(c, a->value[OPT_LOG_DIR]);
		if (prc)
			return prc;
	}
	/* every port opens (and takes --reset-seq) before any board is written, as a -p that matches
	 * nothing stops a USB fleet before any chip is touched */
	if (a->nports) {
		int prc = ops_slots_check(a->ports, (size_t)a->nports, a->baud,
		                          a->given[OPT_RESET_SEQ] ? (a->value[OPT_RESET_SEQ] ? a->value[OPT_RESET_SEQ] : "")
		                                                  : NULL, &c->err);
		if (prc < 0)
			return cli_fail(c, prc);
	}
	struct ops_serialno sn;
	bool sn_on;
	int src = cli_serialno_setup(c, img, &sn, &sn_on);
	if (src == 0)
		src = cli_log_ready(c); /* before the threads: they only append to it */
	if (src)
		return src;
	struct ops_multi_opts mo;
	ops_multi_opts_init(&mo);
	mo.serialno = sn_on ? &sn : NULL;
	cli_open_opts(c, &mo.open);
	mo.open.trace_path = NULL;
	mo.open.selector = NULL;
	mo.open.match.path = NULL;
	mo.selectors = a->serials;
	mo.n_selectors = (size_t)a->nserials;
	mo.paths = a->paths;
	mo.n_paths = (size_t)a->npaths;
	mo.open.port = NULL;
	mo.ports = a->nports ? a->ports : NULL;
	mo.n_ports = (size_t)a->nports;
	mo.log_dir = a->value[OPT_LOG_DIR];
	mo.write.verify = !a->given[OPT_NO_VERIFY];
	mo.write.full = a->given[OPT_FULL];
	mo.write.leave = a->given[OPT_LEAVE];
	mo.write.otp_ok = a->given[OPT_OTP_PERMANENT];
	mo.write.set_range = a->vdd_set;
	mo.write.range = a->vdd_range;

	struct fleet_progress *fp = calloc(1, sizeof *fp);
	if (!fp)
		return cli_fail(c, STM32DFU_E_NO_MEMORY);
	pthread_mutex_init(&fp->mu, NULL);
	fp->out = c->errf;
	fp->tty = c->tty;
	fp->enabled = !a->given[OPT_QUIET] && !a->given[OPT_JSON];
	mo.progress = fleet_progress_cb;
	mo.progress_ctx = fp;

	struct ops_multi_result *r = NULL;
	size_t n = 0;
	bool logfail = false;
	int rc = ops_multi_write(&mo, img, &r, &n, &c->err);
	pthread_mutex_destroy(&fp->mu);
	free(fp);
	if (rc < 0)
		return cli_fail(c, rc);
	for (size_t i = 0; i < n; i++)
		if (!r[i].image_bytes)
			r[i].image_bytes = img_total_bytes(img); /* a device that failed before its write */
	/* one record per device written (or attempted) */
	for (size_t i = 0; i < n; i++) {
		struct store_record rec;
		cli_log_init(c, &rec, "write");
		cli_log_image(c, &rec, a->pos[0], img);
		if (sn_on)
			snprintf(rec.serial_counter, sizeof rec.serial_counter, "%s", sn.counter);
		ops_record_multi(&rec, &r[i]);
		if (cli_log_finish(c, &rec, 0))
			logfail = true;
	}
	if (a->given[OPT_JSON])
		print_json(c, r, n);
	else if (!a->given[OPT_QUIET])
		print_table(c, r, n);
	for (size_t i = 0; i < n; i++)
		if (r[i].uid_shared) {
			char u[40];
			uid_text(&r[i], u, sizeof u);
			fprintf(c->errf,
			        "stm32dfu: warning: %s has UID %s like another device of this run: a genuine UID is unique, "
			        "so one of them is a clone or reports a faked UID\n",
			        r[i].path, u);
		}
	/* a device log that could not be written is said (an error with --strict-log) */
	bool logdir_failed = false;
	for (size_t i = 0; i < n; i++)
		if (r[i].log_error[0]) {
			char u[40];
			uid_text(&r[i], u, sizeof u);
			fprintf(c->errf, "stm32dfu: %s: device UID %s (path %s): its log was not written: %s\n",
			        a->given[OPT_STRICT_LOG] ? "error" : "warning", u, r[i].path, r[i].log_error);
			logdir_failed = true;
		}
	/* the exit code of the first failed device; each failure named on stderr */
	int code = EXIT_OK;
	size_t failed = 0;
	for (size_t i = 0; i < n; i++) {
		if (!r[i].rc)
			continue;
		char u[40];
		uid_text(&r[i], u, sizeof u);
		fprintf(c->errf, "stm32dfu: device UID %s (path %s, serial %s) failed: %s\n", u, text_esc(0, r[i].path),
		        r[i].serial[0] ? text_esc(1, r[i].serial) : "(none)", text_esc(2, r[i].err.msg));
		if (r[i].err.hint[0])
			fprintf(c->errf, "hint: %s\n", text_esc(0, r[i].err.hint));
		if (code == EXIT_OK)
			code = cli_exit_code(r[i].rc);
		failed++;
	}
	if (!a->given[OPT_JSON] && !a->given[OPT_QUIET])
		fprintf(c->out, "%zu of %zu devices programmed%s\n", n - failed, n, a->given[OPT_NO_VERIFY] ? "" : " and verified");
	free(r);
	if (code == EXIT_OK && logdir_failed && a->given[OPT_STRICT_LOG])
		code = EXIT_CANTCREAT;
	return code == EXIT_OK && logfail ? EXIT_CANTCREAT : code;
}
