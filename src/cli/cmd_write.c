/* write and verify: the image loaded, checked against the chip, written or compared through the public API */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_device.h"
#include "cli/commands.h"
#include "cli/fleet.h"
#include "cli/logrec.h"
#include "cli/session.h"
#include "image/probe.h"
#include "ops/record.h"

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
	/* the input is checked against the device: the log opens before the first change */
	if ((rc = cli_write_alt(c, api_ops(api), img)) || (rc = cli_log_ready(c))) {
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
	if (wo.leave && r.leave.address && !cli_quiet(c))
		cli_leave_warnings(c, &r.leave);
	if (!r.image_bytes)
		r.image_bytes = img_total_bytes(img); /* failed before the write began: the image was still read */
	if (cli_json_mode(c))
		cli_write_json(c, c->args.pos[0], &r, api, err, sn_on && err == 0 ? &number : NULL);
	else if (!cli_quiet(c) && err == 0)
		cli_write_summary_text(c, &r, api_ops(api));
	if (!cli_quiet(c) && err == 0 && sn_on)
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
	rec.s_total = cli_seconds(cli_log_now_us() - t0);
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
	if (cli_json_mode(c)) {
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
	} else if (!cli_quiet(c) && err == 0) {
		fprintf(c->out, "verify   %" PRIu64 " bytes in %.2f s: the chip holds %s\n", r.bytes, r.seconds,
		        c->args.pos[0]);
	}
	int code = err < 0 ? cli_fail_api(c, api, err) : EXIT_OK;
	img_free(img);
	stm32dfu_close(api);
	return code;
}

