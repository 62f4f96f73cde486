/*
 * libstm32dfu: the public API (include/stm32dfu/stm32dfu.h) as a thin layer over ops/. It adds no
 * state of its own but the per-thread error of a failed open, so sessions stay independent.
 */
#include "lib/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chip/chip.h"
#include "core/rd.h"
#include "image/image.h"
#include "image/probe.h"
#include "ops/ops.h"

/* why a thread-local: a failed open or list has no session to hold its error, and threads open in
 * parallel */
static _Thread_local struct err open_err;

int api_fail_nosession(const struct err *e, int rc)
{
	open_err = *e;
	if (!open_err.code)
		err_set(&open_err, rc, "%s", stm32dfu_strerror(rc));
	return rc;
}

void api_copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

const char *stm32dfu_version(void)
{
	return STM32DFU_LIB_VERSION;
}

int stm32dfu_open(const struct stm32dfu_match *match, struct stm32dfu_session **out)
{
	return stm32dfu_open_ex(match, NULL, out);
}

int stm32dfu_open_ex(const struct stm32dfu_match *match, const struct stm32dfu_open_options *options,
                     struct stm32dfu_session **out)
{
	struct stm32dfu_session_options so;
	memset(&so, 0, sizeof so);
	so.size = sizeof so;
	if (options) {
		so.has_retries = options->has_retries;
		so.retries = options->retries;
		so.trace = options->trace;
	}
	return stm32dfu_open_session(match, &so, out);
}

void api_clear_nosession(void)
{
	err_clear(&open_err);
}

int api_adopt(struct ops_session *ops, struct stm32dfu_session **out)
{
	*out = calloc(1, sizeof **out);
	if (!*out)
		return STM32DFU_E_NO_MEMORY;
	(*out)->ops = ops;
	err_clear(&(*out)->err);
	return 0;
}

struct ops_session *api_ops(struct stm32dfu_session *s)
{
	return s->ops;
}

void stm32dfu_close(struct stm32dfu_session *s)
{
	if (!s)
		return;
	ops_close(s->ops);
	free(s);
}

const struct err *api_open_error(void)
{
	return &open_err;
}

struct stm32dfu_error stm32dfu_last_error(const struct stm32dfu_session *s)
{
	const struct err *e = s ? &s->err : &open_err;
	/* the library's words; a text some layer wrote into msg directly has only that rendering */
	struct stm32dfu_error r = {e->code, e->lib_msg[0] || !e->msg[0] ? e->lib_msg : e->msg,
	                           e->lib_hint[0] || !e->hint[0] ? e->lib_hint : e->hint};
	return r;
}

const char *stm32dfu_uid(struct stm32dfu_session *s)
{
	ops_identify(s->ops);
	if (s->ops->id.has_uid) {
		const uint8_t *u = s->ops->id.uid;
		snprintf(s->uid, sizeof s->uid, "%08X %08X %08X", (unsigned)get_le32(u), (unsigned)get_le32(u + 4),
		         (unsigned)get_le32(u + 8));
	} else {
		s->uid[0] = '\0';
	}
	return s->uid;
}

static void on_progress(void *ctx, const struct ops_progress *p)
{
	struct stm32dfu_session *s = ctx;
	/* the link test is a CLI diagnostic, not part of a write or verify */
	if (s->progress && (p->phase <= OPS_PHASE_VERIFY || p->phase == OPS_PHASE_CONFIRM))
		s->progress(s->progress_user,
		            p->phase == OPS_PHASE_CONFIRM ? STM32DFU_PHASE_READ : (enum stm32dfu_phase)p->phase, p->done,
		            p->total);
}

void stm32dfu_cancel(struct stm32dfu_session *s)
{
	if (s)
		ops_cancel(s->ops);
}

void stm32dfu_cancel_reset(struct stm32dfu_session *s)
{
	if (s)
		ops_cancel_reset(s->ops);
}

void stm32dfu_set_progress(struct stm32dfu_session *s, stm32dfu_progress_fn fn, void *user)
{
	s->progress = fn;
	s->progress_user = user;
	ops_set_progress(s->ops, fn ? on_progress : NULL, fn ? s : NULL);
}

int api_fail_from_ops(struct stm32dfu_session *s, int rc)
{
	s->err = s->ops->err;
	if (!s->err.code)
		err_set(&s->err, rc, "%s", stm32dfu_strerror(rc));
	return rc;
}

int api_load(struct stm32dfu_session *s, const char *path, const struct stm32dfu_file_options *o, struct img **img)
{
	struct img_load_opts lo;
	img_load_opts_init(&lo);
	lo.has_base = true;
	lo.base = o && o->has_address ? o->address : 0x08000000; /* a raw .bin goes to the start of flash */
	/* a file whose data no memory of the device holds is refused before it is read whole */
	struct img_extent x;
	img_probe_file(path, &lo, &x);
	int rc = x.file_size >= IMG_PROBE_MIN_SIZE ? ops_check_extent(s->ops, &x, path) : 0;
	if (rc < 0)
		return api_fail_from_ops(s, rc);
	rc = img_load_file(path, &lo, img, &s->err);
	if (rc < 0)
		return rc;
	if ((*img)->n_segs == 0) {
		img_free(*img);
		return err_set(&s->err, STM32DFU_E_FILE_FORMAT, "%s holds no data", path);
	}
	const struct target_link *ti = ops_info(s->ops);
	if (!(o && o->force) && !img_suffix_matches(*img, ti->vid, ti->pid)) {
		err_set(&s->err, STM32DFU_E_FILE_FORMAT, "%s is made for device %04x:%04x, this one is %04x:%04x", path,
		        (*img)->suffix.vid, (*img)->suffix.pid, ti->vid, ti->pid);
		err_hint(&s->err, "set force if you are sure it fits this chip");
		img_free(*img);
		return STM32DFU_E_FILE_FORMAT;
	}
	return 0;
}

int api_write_img(struct stm32dfu_session *s, const struct img *img, const struct stm32dfu_write_options *options,
                  struct stm32dfu_write_result *result)
{
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	if (options) {
		wo.verify = !options->no_verify;
		wo.full = options->full != 0;
		wo.leave = options->leave != 0;
	}
	struct ops_write_result r;
	memset(&r, 0, sizeof r);
	int rc = ops_write(s->ops, img, &wo, &r);
	if (result) {
		result->image_bytes = r.image_bytes;
		result->bytes_programmed = r.bytes_programmed;
		result->sectors_erased = r.sectors_erased;
		result->sectors_skipped = r.sectors_skipped;
		result->verified = r.verified;
		result->retries = s->ops->counters.retries;
		result->seconds = (double)(r.read.us + r.erase.us + r.program.us + r.verify.us) / 1e6;
	}
	return rc < 0 ? api_fail_from_ops(s, rc) : 0;
}

int api_verify_img(struct stm32dfu_session *s, const struct img *img, const char *what)
{
	struct ops_verify_result r;
	int rc = ops_verify(s->ops, img, &r);
	if (rc < 0)
		return api_fail_from_ops(s, rc);
	if (!r.match)
		return err_set(&s->err, STM32DFU_E_VERIFY, "%s: %llu bytes differ, the first at 0x%08X", what,
		               (unsigned long long)r.mismatches, (unsigned)r.first_addr);
	return 0;
}

/* The file part of the 0.2 write options. */
static const struct stm32dfu_file_options *file_opts(const struct stm32dfu_write_options *o, struct stm32dfu_file_options *fo)
{
	if (!o)
		return NULL;
	*fo = (struct stm32dfu_file_options){o->has_address, o->address, o->force};
	return fo;
}

int stm32dfu_write_file(struct stm32dfu_session *s, const char *path, const struct stm32dfu_write_options *options,
                        struct stm32dfu_write_result *result)
{
	struct stm32dfu_file_options fo;
	err_clear(&s->err);
	if (result)
		memset(result, 0, sizeof *result);
	struct img *img;
	int rc = api_load(s, path, file_opts(options, &fo), &img);
	if (rc < 0)
		return rc;
	rc = api_write_img(s, img, options, result);
	img_free(img);
	return rc;
}

int stm32dfu_verify_file(struct stm32dfu_session *s, const char *path, const struct stm32dfu_write_options *options)
{
	struct stm32dfu_file_options fo;
	err_clear(&s->err);
	struct img *img;
	int rc = api_load(s, path, file_opts(options, &fo), &img);
	if (rc < 0)
		return rc;
	rc = api_verify_img(s, img, path);
	img_free(img);
	return rc;
}
