/* info, write, verify, erase, leave */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "cli/commands.h"
#include "cli/fleet.h"
#include "cli/logrec.h"
#include "cli/session.h"
#include "serial/serial.h"
#include "uart/an3155.h"
#include "ops/vdd.h"
#include "core/file.h"
#include "core/log.h"
#include "image/image.h"
#include "image/probe.h"
#include "ops/record.h"
#include "ops/serialno.h"

static bool json_mode(const struct cli_ctx *c)
{
	return c->args.given[OPT_JSON];
}

static bool quiet(const struct cli_ctx *c)
{
	return c->args.given[OPT_QUIET] || json_mode(c);
}

static double seconds(uint64_t us)
{
	return (double)us / 1e6;
}

int cli_cmd_info(struct cli_ctx *c)
{
	if (c->args.npos)
		return cli_usage_error(c, "info takes no arguments");
	struct stm32dfu_session *api;
	int rc = cli_open_api(c, &api, NULL);
	if (rc)
		return rc;
	/* the device and its identity, through the public record; the option bytes from the session */
	struct stm32dfu_device_rec *d = cli_device_rec(api, true);
	if (!d) {
		stm32dfu_close(api);
		err_set(&c->err, STM32DFU_E_NO_MEMORY, "out of memory");
		return cli_fail(c, STM32DFU_E_NO_MEMORY);
	}
	struct ops_session *s = api_ops(api);
	if (json_mode(c)) {
		struct json j;
		json_init(&j, c->out);
		json_obj_begin(&j);
		json_kstr(&j, "link", ops_link_name(s));
		if (s->link == OPS_LINK_UART) {
			json_kstr(&j, "port", ops_port_name(s));
			json_kuint(&j, "baud", s->ser->cfg.baud);
			json_kuint(&j, "device_id", s->bl->pid);
			char v[8];
			an3155_version_text(s->bl->version, v, sizeof v);
			json_kstr(&j, "protocol", v);
		}
		json_kuint(&j, "vid", d->vid);
		json_kuint(&j, "pid", d->pid);
		json_kstr(&j, "path", d->path);
		json_kstr(&j, "product", d->product);
		json_kuint(&j, "bcd_device", d->bcd_device);
		json_kuint(&j, "transfer_size", d->transfer_size);
		json_kstr(&j, "initial_state", d->found_state_name);
		json_kstr(&j, "initial_status", d->found_status_name);
		cli_json_identity(&j, d);
		cli_json_ob_summary(&j, &s->id);
		cli_json_alts(&j, d);
		json_obj_end(&j);
		json_end(&j);
	} else {
		if (s->link == OPS_LINK_UART) {
			char v[8];
			an3155_version_text(s->bl->version, v, sizeof v);
			fprintf(c->out, "USART bootloader on %s at %u baud, 8E1  (AN3155 protocol %s, device ID 0x%03X)\n",
			        text_esc(0, s->ser->name), s->ser->cfg.baud, v, s->bl->pid);
		} else {
			fprintf(c->out, "[%04x:%04x] %s  path %s  bcdDevice %04x  transfer size %u\n", d->vid, d->pid,
			        text_esc(0, d->product), text_esc(1, d->path), d->bcd_device, d->transfer_size);
		}
		cli_print_identity(c->out, d);
		cli_print_ob_summary(c->out, &s->id);
		if (d->found_state == dfuERROR)
			fprintf(c->out, "  state    found in dfuERROR (%s), cleared\n", d->found_status_name);
		cli_print_alts(c->out, d);
	}
	free(d);
	stm32dfu_close(api);
	return EXIT_OK;
}

/* The load options write/verify use for FILE: -a, --format; 0 or the usage exit code. */
static int image_opts(struct cli_ctx *c, struct img_load_opts *lo)
{
	if (c->args.npos != 1)
		return cli_usage_error(c, "%s needs one FILE", c->args.command);
	img_load_opts_init(lo);
	if (cli_format_opt(c, &lo->format))
		return EXIT_USAGE;
	if (c->args.given[OPT_ADDRESS]) {
		lo->has_base = true;
		lo->base = c->args.address;
		lo->base_is_explicit = true;
	} else {
		/* a raw binary goes to the start of flash, as dfu-util -s 0x08000000 does */
		lo->has_base = true;
		lo->base = 0x08000000;
	}
	return 0;
}

/* Loads the image for write/verify, checking the .dfu suffix against the device unless --force. */
int cli_load_image(struct cli_ctx *c, struct img **img)
{
	struct img_load_opts lo;
	int urc = image_opts(c, &lo);
	if (urc)
		return urc;
	/* read once: the image and the log's hash come from the same bytes */
	uint8_t *buf;
	size_t len;
	int rc = file_read_all_max(c->args.pos[0], IMG_FILE_MAX, &buf, &len, &c->err);
	if (rc == 0) {
		rc = img_parse(buf, len, c->args.pos[0], &lo, img, &c->err);
		store_sha256_buf(buf, len, c->image_sha256);
		free(buf);
	}
	if (rc < 0)
		return cli_fail(c, rc);
	if ((*img)->n_segs == 0) {
		img_free(*img);
		err_set(&c->err, STM32DFU_E_FILE_FORMAT, "%s holds no data", c->args.pos[0]);
		return cli_fail(c, STM32DFU_E_FILE_FORMAT);
	}
	return 0;
}

static int check_suffix(struct cli_ctx *c, struct ops_session *s, const struct img *img)
{
	if (c->args.given[OPT_FORCE] || img_suffix_matches(img, ops_info(s)->vid, ops_info(s)->pid))
		return 0;
	err_set(&c->err, STM32DFU_E_FILE_FORMAT, "%s is made for device %04x:%04x, this one is %04x:%04x",
	        c->args.pos[0], img->suffix.vid, img->suffix.pid, ops_info(s)->vid, ops_info(s)->pid);
	err_hint(&c->err, "use --force if you are sure it fits this chip");
	return cli_fail(c, STM32DFU_E_FILE_FORMAT);
}

/* Warns (before the outcome) when the vector table at the jump address does not look runnable. */
static void leave_warnings(struct cli_ctx *c, const struct stm32dfu_leave_result *l)
{
	if (!l->vector_read) {
		fprintf(c->errf, "stm32dfu: warning: could not read the vector table at 0x%08" PRIX32 " before leaving\n",
		        l->address);
		return;
	}
	if (!l->sp_in_ram)
		fprintf(c->errf, "stm32dfu: warning: the initial stack pointer at 0x%08" PRIX32 " is 0x%08" PRIX32
		        ", not in RAM: no runnable vector table there\n", l->address, l->sp);
	if (!l->reset_in_code || !l->reset_thumb)
		fprintf(c->errf, "stm32dfu: warning: the reset vector at 0x%08" PRIX32 " is 0x%08" PRIX32 ", %s\n",
		        l->address + 4u, l->reset,
		        !l->reset_in_code ? "not in flash" : "without the Thumb bit (bit 0) a Cortex-M needs");
}

/* Why the jump went there, in words and as docs/json.md names it. */
static const char *const leave_rule_text[] = {
	"the address given", "the start of the flash", "the vector table whose reset vector is the file's entry point",
	"the file's lowest vector table (the file names no entry point, or none matches one)",
};
static const char *const leave_rule_json[] = {"given", "flash-start", "entry", "vector-table"};

static unsigned leave_rule(const struct stm32dfu_leave_result *l)
{
	return l->rule >= 0 && l->rule <= STM32DFU_LEAVE_FIRST_TABLE ? (unsigned)l->rule : 0;
}

static void leave_text(FILE *o, const struct stm32dfu_leave_result *l)
{
	if (!l->gone) /* over USART: Go acknowledged; nothing is sent after it, so nothing more is known */
		fprintf(o, "left the bootloader: jumped to 0x%08" PRIX32 " (%s); the ROM acknowledged the Go command (the "
		        "serial link cannot show whether the application runs)\n", l->address, leave_rule_text[leave_rule(l)]);
	else
		fprintf(o, "left DFU: jumped to 0x%08" PRIX32 " (%s); the device left the bus and the bootloader did not "
		        "come back (the application runs)\n", l->address, leave_rule_text[leave_rule(l)]);
}

static void leave_json(struct json *j, const struct stm32dfu_leave_result *l)
{
	json_khex32(j, "address", l->address);
	json_kstr(j, "rule", leave_rule_json[leave_rule(l)]);
	json_kbool(j, "vector_ok", l->vector_ok);
	json_key(j, "sp");
	if (l->vector_read)
		json_hex32(j, l->sp);
	else
		json_null(j);
	json_key(j, "reset");
	if (l->vector_read)
		json_hex32(j, l->reset);
	else
		json_null(j);
	json_kbool(j, "confirmed", l->confirmed);
	json_kbool(j, "gone", l->gone);
}


/* "0 new, 1 new, 2 old" (the first 32 sectors) */
static void sector_list_text(char *buf, size_t cap, const struct stm32dfu_write_report *r)
{
	size_t len = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < r->n_sectors && i < STM32DFU_MAX_SECTOR_REPORTS && len + 24 < cap; i++) {
		if (i == 32) {
			snprintf(buf + len, cap - len, ", ... (%u sectors)", r->n_sectors);
			return;
		}
		int n = snprintf(buf + len, cap - len, "%s%u %s", i ? ", " : "", r->sectors[i].index,
		                 ops_sector_state_name((enum ops_sector_state)r->sectors[i].state));
		if (n < 0)
			return;
		len += (size_t)n;
	}
}

void cli_write_summary_text(struct cli_ctx *c, const struct stm32dfu_write_report *r, const struct ops_session *s)
{
	FILE *o = c->out;
	if (r->restored_from[0])
		fprintf(o, "restored %u sector%s saved by an unfinished write (%s, now deleted)\n", r->restored_sectors,
		        r->restored_sectors == 1 ? "" : "s", r->restored_from);
	if (r->memory[0]) { /* RAM, OTP, option bytes: no sectors, no erase */
		cli_write_memory_text(c, r);
		if (r->left)
			leave_text(o, &r->leave);
		cli_print_poll(c, s);
		return;
	}
	fprintf(o, "read     %" PRIu64 " bytes of %u sector%s in %.2f s\n", r->read.bytes, r->sectors_touched,
	        r->sectors_touched == 1 ? "" : "s", seconds(r->read.us));
	if (r->voltage_range >= 0)
		fprintf(o, "flash    voltage range %d (%s) set for --vdd\n", r->voltage_range,
		        ops_vdd_range_text(r->voltage_range));
	else if (c->args.vdd_set)
		fprintf(o, "flash    voltage range left as it was: nothing to erase\n");
	fprintf(o, "erase    %u sector%s (%" PRIu64 " bytes) in %.2f s, %u unchanged skipped\n", r->sectors_erased,
	        r->sectors_erased == 1 ? "" : "s", r->erase.bytes, seconds(r->erase.us), r->sectors_skipped);
	fprintf(o, "program  %" PRIu64 " bytes in %u block%s of %u bytes, %u run%s, in %.2f s", r->bytes_programmed,
	        r->blocks, r->blocks == 1 ? "" : "s", (unsigned)r->transfer_size, r->runs, r->runs == 1 ? "" : "s",
	        seconds(r->program.us));
	if (r->program.us)
		fprintf(o, " (%.1f KiB/s)", (double)r->bytes_programmed / 1024.0 / seconds(r->program.us));
	fputc('\n', o);
	if (r->preserved_bytes)
		fprintf(o, "         %" PRIu64 " bytes outside the image in erased sectors were kept\n", r->preserved_bytes);
	if (r->verified && r->sectors_erased == 0 && r->bytes_programmed == 0)
		fprintf(o, "verify   nothing written: the chip already holds the image (compared: read back, or by the ROM's CRC)\n");
	else if (r->verified)
		fprintf(o, "verify   %" PRIu64 " bytes in %.2f s: OK\n", r->verify.bytes, seconds(r->verify.us));
	else
		fprintf(o, "verify   skipped (--no-verify): the write is NOT proven\n");
	if (r->link.retries)
		fprintf(o, "retries  %u (%u re-syncs, %u reconnects, %u sectors rewritten, %u transfer splits)\n",
		        r->link.retries, r->link.resyncs, r->link.reconnects, r->link.rewrites, r->link.transfer_splits);
	char list[600];
	sector_list_text(list, sizeof list, r);
	if (r->n_sectors)
		fprintf(o, "sectors  %s\n", list);
	if (r->recovery_file[0])
		fprintf(o, "         the recovery file %s is kept: without a verify the saved bytes are not proven back\n",
		        r->recovery_file);
	if (r->left)
		leave_text(o, &r->leave);
	cli_print_poll(c, s);
}

void cli_json_sectors(struct json *j, const struct stm32dfu_write_report *r)
{
	cli_json_sectors_as(j, "sectors", r);
}

void cli_json_sectors_as(struct json *j, const char *key, const struct stm32dfu_write_report *r)
{
	json_key(j, key);
	json_arr_begin(j);
	for (unsigned i = 0; i < r->n_sectors && i < STM32DFU_MAX_SECTOR_REPORTS; i++) {
		json_obj_begin(j);
		json_kuint(j, "index", r->sectors[i].index);
		json_khex32(j, "address", r->sectors[i].address);
		json_kuint(j, "size", r->sectors[i].size);
		json_kstr(j, "state", ops_sector_state_name((enum ops_sector_state)r->sectors[i].state));
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void json_path_or_null(struct json *j, const char *key, const char *path)
{
	json_key(j, key);
	if (path[0])
		json_str(j, path);
	else
		json_null(j);
}

void cli_write_json(struct cli_ctx *c, const char *file, const struct stm32dfu_write_report *r,
                    struct stm32dfu_session *api, int rc, const uint64_t *serial_number)
{
	struct json j;
	json_init(&j, c->out);
	json_obj_begin(&j);
	json_kstr(&j, "file", file);
	/* which way the board was reached, as the log's record says it */
	const struct ops_session *os = api_ops(api);
	json_kstr(&j, "link", ops_link_name(os));
	if (os->link == OPS_LINK_UART)
		json_kstr(&j, "port", ops_port_name(os));
	if (rc) {
		c->err = api->err;
		cli_json_failure(c, &j, rc);
	} else {
		json_kbool(&j, "ok", true);
	}
	json_kuint(&j, "image_bytes", r->image_bytes);
	json_kuint(&j, "sectors_touched", r->sectors_touched);
	json_kuint(&j, "sectors_erased", r->sectors_erased);
	json_kuint(&j, "sectors_skipped", r->sectors_skipped);
	json_kuint(&j, "bytes_programmed", r->bytes_programmed);
	json_kuint(&j, "blocks", r->blocks);
	json_kuint(&j, "transfer_size", r->transfer_size);
	json_kuint(&j, "runs", r->runs);
	json_kuint(&j, "preserved_bytes", r->preserved_bytes);
	json_kbool(&j, "verified", r->verified);
	json_kbool(&j, "left", r->left);
	json_key(&j, "memory"); /* null: flash */
	if (r->memory[0])
		json_str(&j, r->memory);
	else
		json_null(&j);
	if (serial_number)
		json_kuint(&j, "serial_number", *serial_number);
	json_key(&j, "voltage_range");
	if (r->voltage_range >= 0)
		json_int(&j, r->voltage_range);
	else
		json_null(&j);
	if (r->leave.address || r->left) {
		json_key(&j, "leave");
		json_obj_begin(&j);
		leave_json(&j, &r->leave);
		json_obj_end(&j);
	}
	json_key(&j, "seconds");
	json_obj_begin(&j);
	json_kdouble(&j, "read", seconds(r->read.us));
	json_kdouble(&j, "erase", seconds(r->erase.us));
	json_kdouble(&j, "program", seconds(r->program.us));
	json_kdouble(&j, "verify", seconds(r->verify.us));
	json_obj_end(&j);
	json_kuint(&j, "retries", r->link.retries);
	json_key(&j, "recovery");
	json_obj_begin(&j);
	json_kuint(&j, "retries", r->link.retries);
	json_kuint(&j, "resyncs", r->link.resyncs);
	json_kuint(&j, "reconnects", r->link.reconnects);
	json_kuint(&j, "rewrites", r->link.rewrites);
	json_kuint(&j, "transfer_splits", r->link.transfer_splits);
	json_obj_end(&j);
	cli_json_poll(&j, api_ops(api));
	cli_json_sectors(&j, r);
	json_path_or_null(&j, "recovery_file", r->recovery_file);
	json_path_or_null(&j, "restored_from", r->restored_from);
	json_kuint(&j, "restored_sectors", r->restored_sectors);
	json_kbool(&j, "canceled", r->canceled);
	if (r->mismatch)
		json_khex32(&j, "mismatch_address", r->mismatch_address);
	if (r->mismatch || r->blocked_sector >= 0) {
		json_key(&j, "blocked_sector");
		if (r->blocked_sector >= 0)
			json_int(&j, r->blocked_sector);
		else
			json_null(&j);
	}
	json_obj_end(&j);
	json_end(&j);
}

/* The image's segments as the public API takes them (pointing into img, which must outlive them). */
static int segments_of(const struct img *img, struct stm32dfu_segment **out, struct err *e)
{
	*out = calloc(img->n_segs ? img->n_segs : 1, sizeof **out);
	if (!*out)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory for %zu segments", img->n_segs);
	for (size_t i = 0; i < img->n_segs; i++)
		(*out)[i] = (struct stm32dfu_segment){img->segs[i].addr, img->segs[i].alt, img->segs[i].data, img->segs[i].len};
	return 0;
}

/* Opens the session for a loaded image and checks the image's suffix against the device: what
 * write and verify share. On failure img is freed and the exit code returned (printed). */
static int open_for_image(struct cli_ctx *c, struct img *img, struct stm32dfu_session **api, struct cli_progress *prog)
{
	int rc = cli_open_api(c, api, prog);
	if (rc == 0 && (rc = check_suffix(c, api_ops(*api), img)))
		stm32dfu_close(*api);
	if (rc)
		img_free(img);
	return rc;
}

/*
 * Loads FILE for write/verify and opens the device, refusing a file whose data cannot fit the device
 * before the file is read whole (issue 24 item 13): for a file of IMG_PROBE_MIN_SIZE or more whose
 * data's extent the probe (image/probe.h) finds from the headers or a streamed scan, the device is
 * opened first and the extent checked against its memory map; a smaller file, or one the probe
 * cannot read cheaply, is loaded first, as before, so its parse error still comes before the device
 * is touched. On failure nothing stays open.
 */
static int load_and_open(struct cli_ctx *c, struct img **img, struct stm32dfu_session **api, struct cli_progress *prog)
{
	struct img_load_opts lo;
	int rc = image_opts(c, &lo);
	if (rc)
		return rc;
	struct img_extent x;
	img_probe_file(c->args.pos[0], &lo, &x);
	if (!x.known || x.file_size < IMG_PROBE_MIN_SIZE) {
		if ((rc = cli_load_image(c, img)))
			return rc;
		return open_for_image(c, *img, api, prog);
	}
	if ((rc = cli_open_api(c, api, prog)))
		return rc;
	int err = ops_check_extent(api_ops(*api), &x, c->args.pos[0]);
	if (err < 0) {
		(*api)->err = api_ops(*api)->err;
		rc = cli_fail_api(c, *api, err);
		stm32dfu_close(*api);
		return rc;
	}
	if ((rc = cli_load_image(c, img))) {
		stm32dfu_close(*api);
		return rc;
	}
	if ((rc = check_suffix(c, api_ops(*api), *img))) {
		img_free(*img);
		stm32dfu_close(*api);
	}
	return rc;
}

int cli_cmd_write(struct cli_ctx *c)
{
	struct img *img;
	int rc;
	if (cli_fleet_wanted(c)) {
		if ((rc = cli_load_image(c, &img)))
			return rc;
		rc = cli_cmd_write_fleet(c, img);
		img_free(img);
		return rc;
	}
	struct stm32dfu_session *api;
	struct cli_progress prog;
	struct ops_serialno sn;
	bool sn_on;
	const bool *g = c->args.given;
	if (g[OPT_SERIAL_NUMBER] || g[OPT_SERIAL_COUNTER] || g[OPT_SERIAL_START]) {
		/* the serial-number options are checked against the image before the device is opened */
		if ((rc = cli_load_image(c, &img)))
			return rc;
		if ((rc = cli_serialno_setup(c, img, &sn, &sn_on))) {
			img_free(img);
			return rc;
		}
		if ((rc = open_for_image(c, img, &api, &prog)))
			return rc;
	} else {
		if ((rc = load_and_open(c, &img, &api, &prog)))
			return rc;
		if ((rc = cli_serialno_setup(c, img, &sn, &sn_on))) {
			img_free(img);
			stm32dfu_close(api);
			return rc;
		}
	}
	if ((rc = cli_write_alt(c, api_ops(api), img))) {
		img_free(img);
		stm32dfu_close(api);
		return rc;
	}
	struct stm32dfu_write_ex_options wo = {.no_verify = c->args.given[OPT_NO_VERIFY], .full = c->args.given[OPT_FULL],
	                                       .leave = c->args.given[OPT_LEAVE],
	                                       .vdd = c->args.vdd_set ? c->args.vdd_volts : 0,
	                                       .otp_permanent = c->args.given[OPT_OTP_PERMANENT],
	                                       .otp_after_flash = sn_on, /* a serial number in OTP goes after the verified flash */
	                                       .ob_confirm = cli_ob_confirm_flags(c),
	                                       .has_entry = img->has_entry,
	                                       .entry = img->entry};
	struct stm32dfu_write_report r;
	memset(&r, 0, sizeof r);
	r.blocked_sector = r.voltage_range = -1; /* a failure before the write set nothing */
	uint64_t t0 = cli_log_now_us();
	struct img *board = NULL;
	uint64_t number = 0;
	int err = 0;
	/* the number comes from the programming log, which the library does not link: the CLI merges
	 * it into a copy of the image, which the library then plans, programs and verifies */
	if (sn_on && (err = ops_serialno_apply(api_ops(api), &sn, img, &board, &number)) < 0)
		api->err = api_ops(api)->err;
	const struct img *what = board ? board : img;
	struct stm32dfu_segment *segs = NULL;
	if (err == 0)
		err = segments_of(what, &segs, &api->err);
	if (err == 0)
		err = stm32dfu_write_ex(api, segs, what->n_segs, &wo, &r);
	free(segs);
	img_free(board);
	cli_progress_done(&prog);
	if (wo.leave && r.leave.address && !quiet(c))
		leave_warnings(c, &r.leave);
	if (!r.image_bytes)
		r.image_bytes = img_total_bytes(img); /* failed before the write began: the image was still read */
	if (json_mode(c))
		cli_write_json(c, c->args.pos[0], &r, api, err, sn_on && err == 0 ? &number : NULL);
	else if (!quiet(c) && err == 0)
		cli_write_summary_text(c, &r, api_ops(api));
	if (!quiet(c) && err == 0 && sn_on)
		fprintf(c->out, "serial   %" PRIu64 " (counter '%s') at 0x%08" PRIX32 ", written and %s\n", number, sn.counter,
		        sn.addr, r.verified ? "verified" : "NOT verified");
	int code = err < 0 ? cli_fail_api(c, api, err) : EXIT_OK;
	struct store_record rec;
	cli_log_init(c, &rec, "write");
	cli_log_image(c, &rec, c->args.pos[0], img);
	ops_record_board(&rec, api_ops(api));
	cli_log_write_report(&rec, &r);
	ops_record_result(&rec, err, &api->err);
	if (sn_on && (err == 0 || number)) {
		snprintf(rec.serial_counter, sizeof rec.serial_counter, "%s", sn.counter);
		rec.serial_number = number;
	}
	rec.s_total = seconds(cli_log_now_us() - t0);
	code = cli_log_finish(c, &rec, code);
	img_free(img);
	stm32dfu_close(api);
	return code;
}

int cli_cmd_verify(struct cli_ctx *c)
{
	struct img *img;
	struct stm32dfu_session *api;
	struct cli_progress prog;
	int rc = load_and_open(c, &img, &api, &prog);
	if (rc)
		return rc;
	struct stm32dfu_segment *segs;
	struct stm32dfu_verify_report r;
	memset(&r, 0, sizeof r);
	int err = segments_of(img, &segs, &api->err);
	if (err == 0)
		err = stm32dfu_verify_ex(api, segs, img->n_segs, &r);
	free(segs);
	cli_progress_done(&prog);
	if (json_mode(c)) {
		struct json j;
		json_init(&j, c->out);
		json_obj_begin(&j);
		json_kstr(&j, "file", c->args.pos[0]);
		if (err) {
			c->err = api->err;
			cli_json_failure(c, &j, err);
		} else {
			json_kbool(&j, "ok", true);
		}
		json_kbool(&j, "match", r.match);
		json_kuint(&j, "bytes", r.bytes);
		json_kuint(&j, "mismatches", r.mismatches);
		if (r.mismatches)
			json_khex32(&j, "first_mismatch", r.first_mismatch);
		json_kdouble(&j, "seconds", r.seconds);
		json_obj_end(&j);
		json_end(&j);
	} else if (!quiet(c) && err == 0) {
		fprintf(c->out, "verify   %" PRIu64 " bytes in %.2f s: the chip holds %s\n", r.bytes, r.seconds,
		        c->args.pos[0]);
	}
	int code = err < 0 ? cli_fail_api(c, api, err) : EXIT_OK;
	img_free(img);
	stm32dfu_close(api);
	return code;
}

/* "0-3,5" -> sector numbers */
static int parse_sector_list(struct cli_ctx *c, const char *s, unsigned *out, size_t cap, size_t *n)
{
	*n = 0;
	const char *p = s;
	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;
		if (end == p)
			return cli_usage_error(c, "--sectors %s: expected numbers and ranges like 0-3,5", s);
		p = end;
		if (*p == '-') {
			b = strtoul(p + 1, &end, 10);
			if (end == p + 1 || b < a)
				return cli_usage_error(c, "--sectors %s: a range must read low-high", s);
			p = end;
		}
		for (unsigned long k = a; k <= b; k++) {
			if (k > 65535)
				return cli_usage_error(c, "--sectors %s: too many sectors", s);
			bool seen = false; /* "0-3,2" erases sector 2 once */
			for (size_t i = 0; i < *n && !seen; i++)
				seen = out[i] == k;
			if (seen)
				continue;
			if (*n >= cap)
				return cli_usage_error(c, "--sectors %s: too many sectors", s);
			out[(*n)++] = (unsigned)k;
		}
		if (*p == ',')
			p++;
		else if (*p)
			return cli_usage_error(c, "--sectors %s: expected ',' at '%s'", s, p);
	}
	return *n ? 0 : cli_usage_error(c, "--sectors needs a list");
}

/* erase ADDR LEN: exactly those bytes; the rest of the sectors it touches is kept (read back,
 * recovery file, erase, program back, verify: the write's way, stm32dfu_erase_bytes) */
static int erase_bytes(struct cli_ctx *c, struct stm32dfu_session *api, uint32_t addr, uint32_t len,
                       struct cli_progress *prog)
{
	struct ops_session *s = api_ops(api);
	struct stm32dfu_write_report r;
	memset(&r, 0, sizeof r);
	r.blocked_sector = r.voltage_range = -1;
	uint64_t t0 = cli_log_now_us();
	int err = stm32dfu_erase_bytes(api, addr, len, c->args.vdd_set ? c->args.vdd_volts : 0, &r);
	cli_progress_done(prog);
	uint32_t last = (uint32_t)((uint64_t)addr + len - 1);
	if (json_mode(c)) {
		struct json j;
		json_init(&j, c->out);
		json_obj_begin(&j);
		if (err < 0) {
			c->err = api->err;
			cli_json_failure(c, &j, err);
		} else {
			json_kbool(&j, "ok", true);
		}
		json_kbool(&j, "mass_erase", false);
		json_kuint(&j, "sectors", r.sectors_erased);
		json_key(&j, "voltage_range");
		if (r.voltage_range >= 0)
			json_int(&j, r.voltage_range);
		else
			json_null(&j);
		json_khex32(&j, "start", addr);
		json_khex32(&j, "end", last);
		json_kuint(&j, "bytes", len);
		json_kuint(&j, "preserved_bytes", r.preserved_bytes);
		json_kbool(&j, "verified", err == 0 && r.verified);
		json_kdouble(&j, "seconds", seconds(r.read.us + r.erase.us + r.program.us + r.verify.us));
		cli_json_poll(&j, s);
		cli_json_sectors_as(&j, "sector_states", &r); /* "sectors" is the count, as for --sectors */
		json_path_or_null(&j, "recovery_file", r.recovery_file);
		json_kbool(&j, "canceled", r.canceled);
		json_obj_end(&j);
		json_end(&j);
	} else if (!quiet(c) && err == 0) {
		if (r.voltage_range >= 0)
			fprintf(c->out, "flash    voltage range %d (%s) set for --vdd\n", r.voltage_range,
			        ops_vdd_range_text(r.voltage_range));
		if (r.sectors_erased == 0)
			fprintf(c->out, "erase    0x%08" PRIX32 "-0x%08" PRIX32 " (%" PRIu32 " bytes) was blank already "
			        "(read back): nothing erased\n", addr, last, len);
		else
			fprintf(c->out, "erase    0x%08" PRIX32 "-0x%08" PRIX32 " (%" PRIu32 " bytes) in %.2f s: %u sector%s "
			        "erased; the rest of %s kept (%" PRIu64 " bytes that were not blank written back)\n",
			        addr, last, len, seconds(r.read.us + r.erase.us + r.program.us + r.verify.us),
			        r.sectors_erased, r.sectors_erased == 1 ? "" : "s", r.sectors_erased == 1 ? "it" : "them",
			        r.preserved_bytes);
		fprintf(c->out, "verify   %" PRIu64 " bytes in %.2f s: OK\n", r.verify.bytes, seconds(r.verify.us));
		cli_print_poll(c, s);
	}
	int code = err < 0 ? cli_fail_api(c, api, err) : EXIT_OK;
	struct store_record rec;
	cli_log_init(c, &rec, "erase");
	ops_record_board(&rec, s);
	ops_record_result(&rec, err, &c->err);
	cli_log_write_report(&rec, &r);
	rec.s_total = seconds(cli_log_now_us() - t0);
	code = cli_log_finish(c, &rec, code);
	stm32dfu_close(api);
	return code;
}

int cli_cmd_erase(struct cli_ctx *c)
{
	int modes = c->args.given[OPT_ALL] + c->args.given[OPT_SECTORS] + (c->args.npos > 0);
	if (modes != 1)
		return cli_usage_error(c, "erase needs exactly one of --all, ADDR LEN, or --sectors LIST");
	uint32_t addr = 0, len = 0;
	unsigned list[1024];
	size_t n = 0;
	if (c->args.npos && cli_parse_addr_len(c, "erase", &addr, &len))
		return EXIT_USAGE;
	if (c->args.given[OPT_SECTORS] && parse_sector_list(c, c->args.value[OPT_SECTORS], list, 1024, &n))
		return EXIT_USAGE;
	if (c->args.given[OPT_ALL] && !c->args.given[OPT_YES]) {
		err_set(&c->err, STM32DFU_E_NEEDS_CONFIRMATION, "erase --all erases the whole flash");
		err_hint(&c->err, "add --yes to confirm");
		return cli_fail(c, STM32DFU_E_NEEDS_CONFIRMATION);
	}
	struct stm32dfu_session *api;
	struct cli_progress prog;
	int rc = cli_open_api(c, &api, &prog);
	if (rc)
		return rc;
	struct ops_session *s = api_ops(api);
	if (c->log)
		ops_identify(s); /* the record names the board by its UID */
	if (c->args.npos)
		return erase_bytes(c, api, addr, len, &prog);
	struct stm32dfu_erase_options eo = {.address = addr, .length = len, .sectors = list, .n_sectors = n,
	                                    .confirm = 1, .vdd = c->args.vdd_set ? c->args.vdd_volts : 0};
	eo.mode = c->args.given[OPT_ALL] ? STM32DFU_ERASE_ALL : n ? STM32DFU_ERASE_SECTORS : STM32DFU_ERASE_RANGE;
	if (c->args.given[OPT_BLANK_CHECK])
		eo.mode |= STM32DFU_ERASE_BLANK_CHECK;
	struct stm32dfu_erase_result r;
	int err = stm32dfu_erase_ex(api, &eo, &r);
	cli_progress_done(&prog);
	if (err == 0) {
		if (json_mode(c)) {
			struct json j;
			json_init(&j, c->out);
			json_obj_begin(&j);
			json_kbool(&j, "mass_erase", c->args.given[OPT_ALL]);
			json_kuint(&j, "sectors", r.sectors_erased);
			json_key(&j, "voltage_range");
			if (r.voltage_range >= 0)
				json_int(&j, r.voltage_range);
			else
				json_null(&j);
			json_kdouble(&j, "seconds", r.seconds);
			cli_json_poll(&j, s);
			json_obj_end(&j);
			json_end(&j);
		} else if (!quiet(c)) {
			if (r.voltage_range >= 0)
				fprintf(c->out, "flash    voltage range %d (%s) set for --vdd\n", r.voltage_range,
				        ops_vdd_range_text(r.voltage_range));
			if (c->args.given[OPT_ALL])
				fprintf(c->out, "erase    whole flash in %.2f s\n", r.seconds);
			else
				fprintf(c->out, "erase    %u sector%s in %.2f s\n", r.sectors_erased,
				        r.sectors_erased == 1 ? "" : "s", r.seconds);
			cli_print_poll(c, s);
		}
	}
	int code = err < 0 ? cli_fail_api(c, api, err) : EXIT_OK;
	struct store_record rec;
	cli_log_init(c, &rec, "erase");
	ops_record_board(&rec, s);
	ops_record_result(&rec, err, &c->err);
	rec.sectors_erased = r.sectors_erased;
	rec.s_erase = rec.s_total = r.seconds;
	code = cli_log_finish(c, &rec, code);
	stm32dfu_close(api);
	return code;
}

int cli_cmd_leave(struct cli_ctx *c)
{
	uint32_t addr = 0;
	bool have = false;
	if (c->args.npos > 1 || (c->args.npos == 1 && !cli_parse_u32(c->args.pos[0], &addr)))
		return cli_usage_error(c, "leave takes an optional ADDR (where the vector table is)");
	have = c->args.npos == 1;
	struct stm32dfu_session *api;
	int rc = cli_open_api(c, &api, NULL);
	if (rc)
		return rc;
	if (c->args.given[OPT_RESET]) {
		/* the fixture's way out: no Go, a real reset with BOOT0 released */
		if (have) {
			stm32dfu_close(api);
			return cli_usage_error(c, "leave --reset starts the application from reset: it takes no ADDR");
		}
		int err = stm32dfu_leave_reset(api);
		if (err == 0 && json_mode(c)) {
			struct json j;
			json_init(&j, c->out);
			json_obj_begin(&j);
			json_kbool(&j, "left", true);
			json_kstr(&j, "by", "reset");
			json_kbool(&j, "confirmed", false);
			json_obj_end(&j);
			json_end(&j);
		} else if (err == 0 && !quiet(c)) {
			fprintf(c->out, "left by reset: the exit sequence released BOOT0 and pulsed NRST (a serial link cannot "
			                "show whether the application runs)\n");
		}
		int code = err < 0 ? cli_fail_api(c, api, err) : EXIT_OK;
		stm32dfu_close(api);
		return code;
	}
	struct stm32dfu_leave_result l;
	int err = stm32dfu_leave_ex(api, have, addr, &l);
	if (!quiet(c))
		leave_warnings(c, &l);
	if (err == 0) {
		if (json_mode(c)) {
			struct json j;
			json_init(&j, c->out);
			json_obj_begin(&j);
			json_kbool(&j, "left", true);
			leave_json(&j, &l);
			json_obj_end(&j);
			json_end(&j);
		} else if (!quiet(c)) {
			leave_text(c->out, &l);
		}
	}
	int code = err < 0 ? cli_fail_api(c, api, err) : EXIT_OK;
	stm32dfu_close(api);
	return code;
}
