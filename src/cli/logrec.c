/* The programming log from the command line (logrec.h). */
#include "cli/logrec.h"
#include "core/os.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/image.h"
#include "ops/recdir.h"
#include "ops/serialno.h"
#include "stm32dfu/stm32dfu.h"

bool cli_log_wanted(const struct cli_ctx *c)
{
	const char *cmd = c->args.command;
	if (!cmd)
		return false;
	if (strcmp(cmd, "ob") == 0)
		return c->args.subcommand && strcmp(c->args.subcommand, "set") == 0 && !c->args.given[OPT_DRY_RUN];
	return strcmp(cmd, "write") == 0 || strcmp(cmd, "erase") == 0 || strcmp(cmd, "unprotect") == 0 ||
	       strcmp(cmd, "station") == 0 || strcmp(cmd, "recover") == 0;
}

bool cli_log_emulated(const struct cli_ctx *c)
{
	return c->args.given[OPT_SIM] || ops_usb_emulated();
}

int cli_log_url(struct cli_ctx *c, char *buf, size_t cap)
{
	/* emulated chips never reach a real chip's log or counters (ops/recdir.h): $STM32DFU_LOG and
	 * the default are the real chips'; a --log on a command that changes emulated chips is refused
	 * by cli_log_open (reading a log, here for `log`, changes nothing) */
	bool sim = cli_log_emulated(c);
	const char *url = c->args.value[OPT_LOG];
	char shown[512];
	if (url && *url && store_redact(url, shown, sizeof shown))
		/* argv is public: ps shows it to every user of the machine */
		fprintf(c->errf, "stm32dfu: warning: --log carries a password, which every user of this machine can read "
		                 "in the process list; give the URL in STM32DFU_LOG, and the password in PGPASSFILE "
		                 "(default ~/.pgpass, mode 0600) or a PGSERVICEFILE service, with sslmode=verify-full "
		                 "(docs/security.md)\n");
	if (!url || !*url)
		url = getenv(sim ? "STM32DFU_SIM_LOG" : "STM32DFU_LOG");
	if (url && *url) {
		snprintf(buf, cap, "%s", url);
		return 0;
	}
	int rc = store_default_url(sim ? "sim" : "", buf, cap, &c->err);
	return rc < 0 ? cli_fail(c, rc) : 0;
}

int cli_log_open(struct cli_ctx *c)
{
	if (c->args.given[OPT_STATION] && strlen(c->args.value[OPT_STATION]) >= sizeof c->station)
		return cli_usage_error(c, "--station %s: at most %zu characters (the log keeps no more)",
		                       c->args.value[OPT_STATION], sizeof c->station - 1);
	if (c->args.given[OPT_STATION])
		snprintf(c->station, sizeof c->station, "%s", c->args.value[OPT_STATION]);
	else if (!os_hostname(c->station, sizeof c->station))
		snprintf(c->station, sizeof c->station, "unknown");
	c->station[sizeof c->station - 1] = '\0';
	if (c->args.given[OPT_NO_LOG]) {
		if (c->args.given[OPT_LOG])
			return cli_usage_error(c, "--log and --no-log contradict each other");
		return 0;
	}
	bool emulated = cli_log_emulated(c);
	if (emulated && c->args.given[OPT_LOG]) {
		/* a URL typed by hand is as likely the production database as not: refused before any
		 * work, never silently redirected (a script would believe its records went there) */
		char shown[512];
		store_redact(c->args.value[OPT_LOG], shown, sizeof shown);
		err_set(&c->err, STM32DFU_E_USAGE,
		        "--log %s: this run's chips are emulated (%s), and emulated chips never write to a real chip's log "
		        "nor take numbers from its serial counters: nothing was done",
		        shown, c->args.given[OPT_SIM] ? "--sim" : "stm32dfu-sim");
		err_hint(&c->err, "emulated chips log to $STM32DFU_SIM_LOG, else $XDG_STATE_HOME/stm32dfu/sim/log.sqlite3; "
		                  "to send their records to another database (a test), set STM32DFU_SIM_LOG=URL");
		return cli_fail(c, STM32DFU_E_USAGE);
	}
	/* a malformed URL is bad input: said now; the log itself is opened by cli_log_ready */
	const char *url = c->args.value[OPT_LOG];
	if (!url || !*url)
		url = getenv(emulated ? "STM32DFU_SIM_LOG" : "STM32DFU_LOG");
	int rc = url && *url ? store_check_url(url, &c->err) : 0;
	if (rc < 0)
		return cli_log_open_failed(c, rc);
	c->log_wanted = true;
	return 0;
}

int cli_log_ready(struct cli_ctx *c)
{
	if (!c->log_wanted || c->log_tried)
		return 0;
	c->log_tried = true;
	bool emulated = cli_log_emulated(c);
	char url[512];
	int rc = cli_log_url(c, url, sizeof url);
	if (rc)
		return rc;
	/* a shared log that does not answer does not stop the work: its records are spooled */
	rc = store_open_spooling(url, &c->log, &c->log_down, &c->err);
	if (rc < 0) {
		if (!c->err.hint[0])
			err_hint(&c->err, "--no-log runs without the log");
		return cli_log_open_failed(c, rc);
	}
	if (emulated)
		store_set_emulated(c->log); /* ops/ checks it against each chip (ops_serialno_apply) */
	if (c->log_down) {
		fprintf(c->errf, "stm32dfu: %s\nstm32dfu: starting anyway: records are spooled locally and sent when it "
		                 "answers ('stm32dfu log --sync')\n", c->err.msg);
		err_clear(&c->err);
	}
	return 0;
}

int cli_log_open_failed(struct cli_ctx *c, int err)
{
	int code = cli_fail(c, err);
	/* a database that cannot be reached, written or read is a service unavailable (exit-codes.md),
	 * not a missing input file: nothing was done */
	return code == EXIT_USAGE || code == EXIT_SOFTWARE ? code : EXIT_UNAVAILABLE;
}

void cli_log_close(struct cli_ctx *c)
{
	store_close(c->log);
	c->log = NULL;
}

void cli_log_init(struct cli_ctx *c, struct store_record *r, const char *command)
{
	memset(r, 0, sizeof *r);
	snprintf(r->station, sizeof r->station, "%s", c->station);
	snprintf(r->version, sizeof r->version, "%s", STM32DFU_VERSION);
	snprintf(r->command, sizeof r->command, "%s", command);
	const char *op = c->args.given[OPT_OPERATOR] ? c->args.value[OPT_OPERATOR] : getenv("STM32DFU_OPERATOR");
	snprintf(r->operator_name, sizeof r->operator_name, "%s", op ? op : "");
}

void cli_log_write_report(struct store_record *r, const struct stm32dfu_write_report *w)
{
	r->sectors_erased = w->sectors_erased;
	r->sectors_skipped = w->sectors_skipped;
	r->verified = w->verified != 0;
	r->s_read = (double)w->read.us / 1e6;
	r->s_erase = (double)w->erase.us / 1e6;
	r->s_program = (double)w->program.us / 1e6;
	r->s_verify = (double)w->verify.us / 1e6;
}

void cli_log_image(struct cli_ctx *c, struct store_record *r, const char *path, const struct img *img)
{
	char *abs = os_abspath(path);
	snprintf(r->image_path, sizeof r->image_path, "%s", abs ? abs : path);
	free(abs);
	/* the hash of what was loaded (cli_load_image), never of the file as it is now */
	snprintf(r->image_sha256, sizeof r->image_sha256, "%s", c->image_sha256);
	r->image_bytes = img ? img_total_bytes(img) : 0;
}

int cli_log_finish(struct cli_ctx *c, struct store_record *r, int code)
{
	if (!c->log)
		return code;
	struct err e;
	err_clear(&e);
	if (store_append(c->log, r, &e) < 0) {
		fprintf(c->errf, "stm32dfu: the programming log lost this record: %s\n", e.msg);
		if (e.hint[0])
			fprintf(c->errf, "hint: %s\n", e.hint);
		return code ? code : EXIT_CANTCREAT;
	}
	if (store_spooling(c->log))
		fprintf(c->errf, "stm32dfu: the log database %s is unreachable: records are spooled locally and sent "
		                 "when it answers ('stm32dfu log --sync')\n",
		        store_url(c->log));
	return code;
}

uint64_t cli_log_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int cli_serialno_setup(struct cli_ctx *c, const struct img *img, struct ops_serialno *sn, bool *on)
{
	const struct cli_args *a = &c->args;
	memset(sn, 0, sizeof *sn);
	*on = a->given[OPT_SERIAL_NUMBER];
	if (!*on) {
		if (a->given[OPT_SERIAL_COUNTER] || a->given[OPT_SERIAL_START] || a->given[OPT_SERIAL_LEASE])
			return cli_usage_error(c, "--serial-counter, --serial-start and --serial-lease go with --serial-number "
			                          "ADDR[:FORMAT]");
		return 0;
	}
	int rc = ops_serialno_parse(a->value[OPT_SERIAL_NUMBER], sn, &c->err);
	if (rc < 0)
		return cli_usage_error(c, "%s", c->err.msg);
	sn->counter = a->given[OPT_SERIAL_COUNTER] ? a->value[OPT_SERIAL_COUNTER] : "default";
	if (!*sn->counter)
		return cli_usage_error(c, "--serial-counter needs a name");
	sn->start = 1;
	if (a->given[OPT_SERIAL_START]) {
		const char *v = a->value[OPT_SERIAL_START];
		char *end;
		errno = 0;
		unsigned long long n = strtoull(v, &end, 0);
		if (end == v || *end || errno || v[0] == '-')
			return cli_usage_error(c, "--serial-start %s: expected a number", v);
		if (n > STORE_SERIAL_MAX)
			return cli_usage_error(c, "--serial-start %s: the log keeps numbers up to %" PRIu64 " (SQL's signed "
			                          "64-bit integers)", v, (uint64_t)STORE_SERIAL_MAX);
		sn->start = n;
	}
	if (!ops_serialno_fits(sn, sn->start)) {
		err_set(&c->err, STM32DFU_E_RANGE, "--serial-start %" PRIu64 " does not fit --serial-number %s (%u %s bytes)",
		        sn->start, a->value[OPT_SERIAL_NUMBER], sn->width, sn->format == OPS_SN_ASCII ? "decimal" : "binary");
		err_hint(&c->err, "use a wider FORMAT (u64le, or ascii:N with more digits), or a smaller start");
		return cli_fail(c, STM32DFU_E_RANGE);
	}
	if ((rc = ops_serialno_check_image(sn, img, &c->err)) < 0)
		return cli_fail(c, rc);
	if ((rc = cli_log_ready(c))) /* the numbers come from it: before any device is opened */
		return rc;
	if (!c->log) {
		err_set(&c->err, STM32DFU_E_USAGE, "--serial-number takes numbers from the programming log, and --no-log turns it off");
		err_hint(&c->err, "drop --no-log (or give --log URL)");
		return cli_fail(c, STM32DFU_E_USAGE);
	}
	/* with a lease, the numbers held locally carry the line through the outage */
	if (c->log_down && !a->given[OPT_SERIAL_LEASE]) {
		err_set(&c->err, STM32DFU_E_LOG_UNREACHABLE, "--serial-number: the log database %s does not answer, and "
		        "numbers come from it alone (never from a spool): nothing was written", store_url(c->log));
		err_hint(&c->err, "start again once it answers, or run without --serial-number (records are spooled); "
		                  "station --serial-lease N keeps numbers for such outages");
		return cli_fail(c, STM32DFU_E_LOG_UNREACHABLE);
	}
	if (a->given[OPT_SERIAL_START] && !c->log_down) {
		/* a start applies to a counter's first use only: below the numbers already given it would be
		 * ignored without a word */
		bool exists = false;
		uint64_t next = 0;
		if ((rc = store_serial_counter(c->log, sn->counter, &exists, &next, &c->err)) < 0)
			return cli_fail(c, rc);
		if (exists && next < sn->start) {
			err_set(&c->err, STM32DFU_E_USAGE, "--serial-start %" PRIu64 ": counter '%s' is in use and its next number is "
			        "%" PRIu64 "; a start applies only to a counter's first use: nothing was written",
			        sn->start, sn->counter, next);
			err_hint(&c->err, "name a new series with --serial-counter NAME (it starts at --serial-start)");
			return cli_fail(c, STM32DFU_E_USAGE);
		}
	}
	sn->store = c->log;
	sn->otp_ok = a->given[OPT_OTP_PERMANENT];
	return 0;
}
