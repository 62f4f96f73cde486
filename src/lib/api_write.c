/*
 * libstm32dfu: write, verify and recover with their whole reports (the 0.3 calls). An image is
 * given as segments; each call builds the internal image from them and converts the ops/ result
 * into the public fixed-size report field by field.
 */
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "lib/api_int.h"
#include "ops/ops.h"
#include "ops/vdd.h"

_Static_assert(STM32DFU_MAX_SECTOR_REPORTS == OPS_MAX_SECTOR_REPORTS, "sector report counts differ");
_Static_assert(STM32DFU_PATH_MAX == RESCUE_PATH_MAX, "recovery path sizes differ");
_Static_assert((int)STM32DFU_SECTOR_OLD == (int)OPS_SECTOR_OLD && (int)STM32DFU_SECTOR_ERASED == (int)OPS_SECTOR_ERASED &&
	               (int)STM32DFU_SECTOR_NEW == (int)OPS_SECTOR_NEW &&
	               (int)STM32DFU_SECTOR_PARTIAL == (int)OPS_SECTOR_PARTIAL,
               "sector states differ between the API and ops/ops.h");

static struct stm32dfu_phase_time phase(const struct ops_phase_time *p)
{
	struct stm32dfu_phase_time t = {p->bytes, p->us};
	return t;
}

void api_link_counters(const struct ops_session *s, struct stm32dfu_link_counters *out)
{
	out->retries = s->counters.retries;
	out->resyncs = s->counters.resyncs;
	out->reconnects = s->counters.reconnects;
	out->rewrites = s->counters.rewrites;
	out->transfer_splits = s->counters.transfer_splits;
}

void api_write_report(const struct ops_session *s, const struct ops_write_result *in, struct stm32dfu_write_report *out)
{
	memset(out, 0, sizeof *out);
	out->image_bytes = in->image_bytes;
	out->bytes_programmed = in->bytes_programmed;
	out->preserved_bytes = in->preserved_bytes;
	out->sectors_touched = in->sectors_touched;
	out->sectors_erased = in->sectors_erased;
	out->sectors_skipped = in->sectors_skipped;
	out->runs = in->runs;
	out->blocks = in->blocks;
	out->transfer_size = in->transfer_size;
	out->verified = in->verified;
	out->otp = in->otp;
	api_copy(out->memory, sizeof out->memory, in->memory);
	out->memory_address = in->memory_addr;
	out->ob_protection_active = in->ob_protection_active;
	out->ob_bootloader_gone = in->ob_bootloader_gone;
	out->canceled = in->canceled;
	out->voltage_range = in->range_set;
	out->read = phase(&in->read);
	out->erase = phase(&in->erase);
	out->program = phase(&in->program);
	out->verify = phase(&in->verify);
	out->mismatch = in->mismatch;
	out->mismatch_address = in->mismatch_addr;
	out->expected = in->expected;
	out->actual = in->actual;
	out->blocked_sector = in->blocked_sector;
	out->left = in->left;
	api_leave_result(&in->leave, &out->leave);
	api_link_counters(s, &out->link);
	out->n_sectors = in->n_sectors;
	for (unsigned i = 0; i < in->n_sectors && i < STM32DFU_MAX_SECTOR_REPORTS; i++) {
		const struct ops_sector_report *r = &in->sectors[i];
		out->sectors[i] = (struct stm32dfu_sector_report){r->index, r->start, r->size, (int)r->state};
	}
	api_copy(out->recovery_file, sizeof out->recovery_file, in->recovery_file);
	api_copy(out->restored_from, sizeof out->restored_from, in->restored_from);
	out->restored_sectors = in->restored_sectors;
}

int api_image(struct stm32dfu_session *s, const struct stm32dfu_segment *segs, size_t n, struct img **out)
{
	*out = NULL;
	if (!segs || !n)
		return err_set(&s->err, STM32DFU_E_USAGE, "no segments given");
	for (size_t i = 0; i < n; i++) {
		if (!segs[i].data || !segs[i].len)
			return err_set(&s->err, STM32DFU_E_USAGE, "segment %zu at 0x%08X holds no data", i,
			               (unsigned)segs[i].address);
		if (segs[i].alt > 255)
			return err_set(&s->err, STM32DFU_E_USAGE, "segment %zu: alt %u: expected 0 to 255", i, segs[i].alt);
		if ((uint64_t)segs[i].address + segs[i].len > 0x100000000ull)
			return err_set(&s->err, STM32DFU_E_RANGE, "segment %zu: 0x%08X + %zu bytes runs past 4 GiB", i,
			               (unsigned)segs[i].address, segs[i].len);
	}
	struct img *img = img_new();
	if (!img)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int rc = img_add(img, (uint8_t)segs[i].alt, segs[i].address, segs[i].data, segs[i].len, &s->err);
		if (rc < 0) {
			img_free(img);
			return rc;
		}
	}
	*out = img;
	return 0;
}

static int write_opts(struct stm32dfu_session *s, const struct stm32dfu_write_ex_options *o, struct ops_write_opts *wo)
{
	ops_write_opts_init(wo);
	if (!o)
		return 0;
	wo->verify = !o->no_verify;
	wo->full = o->full != 0;
	wo->leave = o->leave != 0;
	wo->have_leave_addr = o->has_leave_address != 0;
	wo->leave_addr = o->leave_address;
	wo->otp_ok = o->otp_permanent != 0;
	wo->otp_last = o->otp_after_flash != 0;
	wo->ob_confirm = o->ob_confirm;
	if (o->vdd != 0) {
		if (ops_vdd_range(o->vdd, &wo->range, &s->err) < 0)
			return s->err.code;
		wo->set_range = true;
	}
	return 0;
}

/* The image from segments (path NULL) or from a file: what the _ex and _file_ex calls share. */
static int image_of(struct stm32dfu_session *s, const struct stm32dfu_segment *segs, size_t n, const char *path,
                    const struct stm32dfu_file_options *fo, struct img **img)
{
	if (!path)
		return api_image(s, segs, n, img);
	int rc = api_load(s, path, fo, img);
	if (rc < 0 && !s->err.code)
		err_set(&s->err, rc, "%s: %s", path, stm32dfu_strerror(rc));
	return rc;
}

static int write_any(struct stm32dfu_session *s, const struct stm32dfu_segment *segs, size_t n, const char *path,
                     const struct stm32dfu_file_options *fo, const struct stm32dfu_write_ex_options *options,
                     struct stm32dfu_write_report *report)
{
	err_clear(&s->err);
	struct ops_write_result r;
	memset(&r, 0, sizeof r);
	r.blocked_sector = r.range_set = -1;
	struct ops_write_opts wo;
	struct img *img = NULL;
	int rc = write_opts(s, options, &wo);
	if (rc == 0)
		rc = image_of(s, segs, n, path, fo, &img);
	if (rc == 0 && options && options->has_entry) {
		img->has_entry = true;
		img->entry = options->entry;
	}
	if (rc == 0) {
		rc = ops_write(s->ops, img, &wo, &r);
		img_free(img);
		if (rc < 0)
			api_fail_from_ops(s, rc);
	}
	if (report)
		api_write_report(s->ops, &r, report);
	return rc < 0 ? rc : 0;
}

int stm32dfu_write_ex(struct stm32dfu_session *s, const struct stm32dfu_segment *segments, size_t n,
                      const struct stm32dfu_write_ex_options *options, struct stm32dfu_write_report *report)
{
	return write_any(s, segments, n, NULL, NULL, options, report);
}

int stm32dfu_write_file_ex(struct stm32dfu_session *s, const char *path, const struct stm32dfu_file_options *file_options,
                           const struct stm32dfu_write_ex_options *options, struct stm32dfu_write_report *report)
{
	if (!path) {
		err_set(&s->err, STM32DFU_E_USAGE, "write: no file given");
		if (report)
			api_write_report(s->ops, &(struct ops_write_result){.blocked_sector = -1, .range_set = -1}, report);
		return STM32DFU_E_USAGE;
	}
	return write_any(s, NULL, 0, path, file_options, options, report);
}

static int verify_any(struct stm32dfu_session *s, const struct stm32dfu_segment *segs, size_t n, const char *path,
                      const struct stm32dfu_file_options *fo, struct stm32dfu_verify_report *report)
{
	err_clear(&s->err);
	struct ops_verify_result r;
	memset(&r, 0, sizeof r);
	struct img *img = NULL;
	int rc = image_of(s, segs, n, path, fo, &img);
	if (rc == 0) {
		rc = ops_verify(s->ops, img, &r);
		img_free(img);
		if (rc < 0)
			api_fail_from_ops(s, rc);
	}
	if (report) {
		memset(report, 0, sizeof *report);
		report->bytes = r.bytes;
		report->match = rc == 0 && r.match;
		report->mismatches = r.mismatches;
		report->first_mismatch = r.first_addr;
		report->expected = r.expected;
		report->actual = r.actual;
		report->seconds = (double)r.us / 1e6;
	}
	return rc < 0 ? rc : 0;
}

int stm32dfu_verify_ex(struct stm32dfu_session *s, const struct stm32dfu_segment *segments, size_t n,
                       struct stm32dfu_verify_report *report)
{
	return verify_any(s, segments, n, NULL, NULL, report);
}

int stm32dfu_verify_file_ex(struct stm32dfu_session *s, const char *path, const struct stm32dfu_file_options *file_options,
                            struct stm32dfu_verify_report *report)
{
	if (!path) {
		if (report)
			memset(report, 0, sizeof *report);
		return err_set(&s->err, STM32DFU_E_USAGE, "verify: no file given");
	}
	return verify_any(s, NULL, 0, path, file_options, report);
}

int stm32dfu_recover(struct stm32dfu_session *s, const struct stm32dfu_write_ex_options *options,
                     struct stm32dfu_write_report *report)
{
	err_clear(&s->err);
	struct ops_write_result r;
	memset(&r, 0, sizeof r);
	r.blocked_sector = r.range_set = -1;
	struct ops_write_opts wo;
	int rc = write_opts(s, options, &wo);
	if (rc == 0) {
		rc = ops_recover_apply(s->ops, &wo, &r);
		if (rc < 0)
			api_fail_from_ops(s, rc);
	}
	if (report)
		api_write_report(s->ops, &r, report);
	return rc;
}

int stm32dfu_erase_bytes(struct stm32dfu_session *s, uint32_t address, uint32_t length, double vdd,
                         struct stm32dfu_write_report *report)
{
	err_clear(&s->err);
	uint32_t first;
	uint64_t end;
	int rc = 0;
	err_clear(&s->ops->err);
	if (!length)
		rc = err_set(&s->ops->err, STM32DFU_E_USAGE, "erase: the length is 0");
	else if ((uint64_t)address + length > 0x100000000ull)
		rc = err_set(&s->ops->err, STM32DFU_E_RANGE, "erase: 0x%08X + %u bytes runs past 4 GiB", (unsigned)address,
		             (unsigned)length);
	else
		rc = ops_erase_span(s->ops, address, length, &first, &end); /* flash only, checked first */
	if (rc < 0) {
		if (report)
			api_write_report(s->ops, &(struct ops_write_result){.blocked_sector = -1, .range_set = -1}, report);
		return api_fail_from_ops(s, rc);
	}
	/* an image of erased bytes over exactly the range: the write planner keeps the rest of each
	 * sector it touches (read back, recovery file, erase, program back, verify), and skips a
	 * sector whose range is blank already */
	uint8_t *blank = malloc(length);
	if (!blank)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory for %u bytes", (unsigned)length);
	memset(blank, 0xFF, length);
	struct stm32dfu_segment seg = {address, 0, blank, length};
	struct stm32dfu_write_ex_options wo = {.vdd = vdd};
	rc = write_any(s, &seg, 1, NULL, NULL, &wo, report);
	free(blank);
	return rc;
}
