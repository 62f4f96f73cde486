/*
 * stm32dfu log: the programming log, filtered (--uid, --image, --failed, --since), as text, JSON
 * or CSV; --sync sends what the spool holds to the shared database.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "cli/commands.h"
#include "cli/json.h"
#include "cli/logrec.h"

/* The record as JSON: one object (docs/json.md "log"); station's --json lines use it too. */
void cli_json_record(struct json *j, const struct store_record *r)
{
	json_obj_begin(j);
	json_kstr(j, "record_id", r->record_id);
	json_kstr(j, "time", r->time);
	json_kstr(j, "station", r->station);
	json_kstr(j, "version", r->version);
	json_kstr(j, "command", r->command);
	json_kstr(j, "uid", r->uid);
	json_kstr(j, "chip", r->chip);
	json_kstr(j, "usb_serial", r->usb_serial);
	json_kstr(j, "image", r->image_path);
	json_kstr(j, "image_sha256", r->image_sha256);
	json_kuint(j, "image_bytes", r->image_bytes);
	json_kuint(j, "sectors_erased", r->sectors_erased);
	json_kuint(j, "sectors_skipped", r->sectors_skipped);
	json_key(j, "serial_number");
	if (r->serial_counter[0])
		json_uint(j, r->serial_number);
	else
		json_null(j);
	json_kstr(j, "serial_counter", r->serial_counter);
	json_kbool(j, "ok", r->ok);
	json_kstr(j, "error", r->error);
	json_kstr(j, "message", r->message);
	json_key(j, "seconds");
	json_obj_begin(j);
	json_kdouble(j, "read", r->s_read);
	json_kdouble(j, "erase", r->s_erase);
	json_kdouble(j, "program", r->s_program);
	json_kdouble(j, "verify", r->s_verify);
	json_kdouble(j, "total", r->s_total);
	json_obj_end(j);
	json_kstr(j, "usb_path", r->usb_path);
	json_kstr(j, "started_at", r->started_at);
	json_kdouble(j, "duration_s", r->s_total);
	json_kuint(j, "retries", r->retries);
	json_kbool(j, "verified", r->verified);
	json_kstr(j, "tool_version", r->version);
	json_kstr(j, "bootloader_version", r->bootloader_version);
	json_kstr(j, "operator", r->operator_name);
	json_key(j, "link");
	if (r->link[0])
		json_str(j, r->link);
	else
		json_null(j);
	json_kstr(j, "port", r->port);
	json_obj_end(j);
}

/* A field that starts with = + - @ tab or CR is a formula to a spreadsheet (a device-chosen serial
 * "=cmd|' /C calc'!A0"): it is quoted with a leading ' (OWASP's advice), which shows as text. */
static void csv_field(FILE *o, const char *s, bool last)
{
	bool formula = s[0] && strchr("=+-@\t\r", s[0]) != NULL;
	bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
	if (quote) {
		fputc('"', o);
		if (formula)
			fputc('\'', o);
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				fputc('"', o);
			fputc(*p, o);
		}
		fputc('"', o);
	} else {
		fputs(s, o);
	}
	fputs(last ? "\r\n" : ",", o);
}

static void print_csv(FILE *o, const struct store_record *r, size_t n)
{
	static const char *const head[] = {"time", "station", "version", "command", "uid", "chip", "usb_serial",
	                                   "image", "image_sha256", "image_bytes", "sectors_erased", "sectors_skipped",
	                                   "serial_counter", "serial_number", "ok", "error", "message", "s_read",
	                                   "s_erase", "s_program", "s_verify", "s_total", "record_id", "usb_path",
	                                   "started_at", "duration_s", "retries", "verified", "tool_version",
	                                   "bootloader_version", "operator", "link", "port"};
	const size_t nh = sizeof head / sizeof *head;
	for (size_t i = 0; i < nh; i++)
		csv_field(o, head[i], i + 1 == nh);
	for (size_t k = 0; k < n; k++) {
		const struct store_record *x = &r[k];
		char num[8][32];
		snprintf(num[0], 32, "%" PRIu64, x->image_bytes);
		snprintf(num[1], 32, "%u", x->sectors_erased);
		snprintf(num[2], 32, "%u", x->sectors_skipped);
		if (x->serial_counter[0])
			snprintf(num[3], 32, "%" PRIu64, x->serial_number);
		else
			num[3][0] = '\0';
		const char *f1[] = {x->time, x->station, x->version, x->command, x->uid, x->chip, x->usb_serial,
		                    x->image_path, x->image_sha256, num[0], num[1], num[2], x->serial_counter, num[3],
		                    x->ok ? "1" : "0", x->error, x->message};
		for (size_t i = 0; i < sizeof f1 / sizeof *f1; i++)
			csv_field(o, f1[i], false);
		const double secs[] = {x->s_read, x->s_erase, x->s_program, x->s_verify, x->s_total};
		for (int i = 0; i < 5; i++) {
			char s[32];
			snprintf(s, sizeof s, "%.3f", secs[i]);
			csv_field(o, s, false);
		}
		csv_field(o, x->record_id, false);
		char extra[3][32];
		snprintf(extra[0], 32, "%.3f", x->s_total);
		snprintf(extra[1], 32, "%u", x->retries);
		const char *f2[] = {x->usb_path, x->started_at, extra[0], extra[1], x->verified ? "1" : "0", x->version,
		                    x->bootloader_version, x->operator_name, x->link, x->port};
		for (size_t i = 0; i < sizeof f2 / sizeof *f2; i++)
			csv_field(o, f2[i], i + 1 == sizeof f2 / sizeof *f2);
	}
}

static void print_text(FILE *o, const struct store_record *r, size_t n)
{
	if (n == 0) {
		fprintf(o, "no records\n");
		return;
	}
	for (size_t k = 0; k < n; k++) {
		const struct store_record *x = &r[k];
		const char *file = strrchr(x->image_path, '/');
		/* records hold device strings and names from other stations: escaped for the terminal */
		fprintf(o, "%s  %-10s %-9s ", text_esc(0, x->time), text_esc(1, x->station), text_esc(2, x->command));
		fprintf(o, "%-24s %-12s %-6s", x->uid[0] ? text_esc(0, x->uid) : "-",
		        x->usb_serial[0] ? text_esc(1, x->usb_serial) : "-", x->ok ? "ok" : "FAILED");
		if (x->image_path[0])
			fprintf(o, "  %s (%.12s)", text_esc(0, file ? file + 1 : x->image_path), text_esc(1, x->image_sha256));
		if (!strcmp(x->command, "write") || !strcmp(x->command, "station"))
			fprintf(o, "  %u erased, %u unchanged", x->sectors_erased, x->sectors_skipped);
		if (x->serial_counter[0])
			fprintf(o, "  serial number %" PRIu64 " (%s)", x->serial_number, text_esc(0, x->serial_counter));
		if (!strcmp(x->link, "uart"))
			fprintf(o, "  over USART %s", text_esc(0, x->port));
		fprintf(o, "  %.2f s\n", x->s_total);
		if (!x->ok)
			fprintf(o, "    %s: %s\n", text_esc(0, x->error), text_esc(1, x->message));
	}
}

static int do_sync(struct cli_ctx *c, struct store *st)
{
	size_t sent = 0, left = 0;
	struct err e;
	err_clear(&e);
	int rc = store_sync(st, &sent, &left, &e);
	if (c->args.given[OPT_JSON]) {
		struct json j;
		json_init(&j, c->out);
		json_obj_begin(&j);
		json_kuint(&j, "sent", sent);
		json_kuint(&j, "left", left);
		json_obj_end(&j);
		json_end(&j);
	} else if (!c->args.given[OPT_QUIET]) {
		fprintf(c->out, "%zu spooled record%s sent to %s, %zu left\n", sent, sent == 1 ? "" : "s", store_url(st),
		        left);
	}
	if (rc < 0 || left) {
		c->err = e;
		if (!c->err.code)
			err_set(&c->err, STM32DFU_E_UNSUPPORTED, "%zu records are still spooled", left);
		return cli_fail(c, rc < 0 ? rc : STM32DFU_E_UNSUPPORTED);
	}
	return EXIT_OK;
}

int cli_cmd_log(struct cli_ctx *c)
{
	const struct cli_args *a = &c->args;
	if (a->npos)
		return cli_usage_error(c, "log takes no arguments (filters are options: --uid, --image, --failed, --since)");
	if (a->given[OPT_JSON] && a->given[OPT_CSV])
		return cli_usage_error(c, "--json and --csv: pick one");
	if (a->nserials || a->npaths || a->given[OPT_TRACE])
		return cli_usage_error(c, "log reads the programming log, not a device: -S/--serial, -p and --trace do not "
		                          "apply (boards by serial number: --serial-range FIRST-LAST; by UID: --uid)");
	struct store_filter f = {0};
	char uid[25], since[32], sha[65];
	if (a->given[OPT_UID]) {
		if (!store_uid_normalise(a->value[OPT_UID], uid))
			return cli_usage_error(c, "--uid %s: expected the 96-bit UID as 24 hex digits", a->value[OPT_UID]);
		f.uid = uid;
	}
	if (a->given[OPT_SINCE]) {
		if (!store_parse_since(a->value[OPT_SINCE], since, sizeof since))
			return cli_usage_error(c, "--since %s: expected a UTC date, 2026-11-29 or 2026-11-29T12:00",
			                       a->value[OPT_SINCE]);
		f.since = since;
	}
	if (a->given[OPT_IMAGE]) {
		const char *v = a->value[OPT_IMAGE];
		size_t n = strlen(v), k = 0;
		while (k < n && isxdigit((unsigned char)v[k]))
			k++;
		if (n == 64 && k == 64) {
			for (size_t i = 0; i < 64; i++)
				sha[i] = (char)tolower((unsigned char)v[i]);
			sha[64] = '\0';
		} else if (store_sha256_file(v, sha, NULL, &c->err) < 0) {
			err_hint(&c->err, "--image takes a firmware file or its SHA-256 (64 hex digits)");
			return cli_fail(c, STM32DFU_E_FILE_IO);
		}
		f.sha256 = sha;
	}
	f.failed_only = a->given[OPT_FAILED];
	f.collisions = a->given[OPT_COLLISIONS];
	if (a->given[OPT_SERIAL_RANGE]) {
		const char *v = a->value[OPT_SERIAL_RANGE];
		char *end;
		errno = 0;
		unsigned long long lo = strtoull(v, &end, 10), hi = lo;
		bool ok = end != v && isdigit((unsigned char)v[0]) && errno == 0;
		if (ok && *end == '-') {
			const char *h = end + 1;
			hi = strtoull(h, &end, 10);
			ok = end != h && isdigit((unsigned char)h[0]) && errno == 0;
		}
		if (!ok || *end || hi < lo)
			return cli_usage_error(c, "--serial-range %s: expected FIRST-LAST (decimal, FIRST <= LAST) or one number", v);
		f.has_serial_range = true;
		f.serial_first = lo;
		f.serial_last = hi;
	}
	char url[512];
	int rc = cli_log_url(c, url, sizeof url);
	if (rc)
		return rc;
	struct store *st;
	if ((rc = store_open(url, &st, &c->err)) < 0)
		return cli_log_open_failed(c, rc);
	if (a->given[OPT_SYNC]) {
		rc = do_sync(c, st);
		store_close(st);
		return rc;
	}
	struct store_record *r = NULL;
	size_t n = 0;
	rc = store_query(st, &f, &r, &n, &c->err);
	bool spooled = store_spooling(st);
	store_close(st);
	if (rc < 0)
		return cli_fail(c, rc);
	if (a->given[OPT_JSON]) {
		struct json j;
		json_init(&j, c->out);
		json_arr_begin(&j);
		for (size_t k = 0; k < n; k++)
			cli_json_record(&j, &r[k]);
		json_arr_end(&j);
		json_end(&j);
	} else if (a->given[OPT_CSV]) {
		print_csv(c->out, r, n);
	} else {
		print_text(c->out, r, n);
	}
	if (spooled)
		fprintf(c->errf, "stm32dfu: records wait in the local spool: 'stm32dfu log --sync' sends them\n");
	free(r);
	return EXIT_OK;
}
