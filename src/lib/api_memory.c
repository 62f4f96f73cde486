/*
 * libstm32dfu: the operations that touch memory: read, erase, write and verify from buffers,
 * leave (option bytes: api_ob.c). Each is one ops/ call plus the conversion of its result.
 */
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "lib/api_int.h"
#include "ops/ob.h"
#include "ops/ops.h"
#include "ops/vdd.h"

int stm32dfu_read_ex(struct stm32dfu_session *s, const struct stm32dfu_read_options *o, uint32_t addr, void *buf,
                     size_t len)
{
	err_clear(&s->err);
	if (!buf && len)
		return err_set(&s->err, STM32DFU_E_USAGE, "read: no buffer for %zu bytes", len);
	if (o && o->has_alt && o->alt > 255)
		return err_set(&s->err, STM32DFU_E_USAGE, "read: alt %u: expected 0 to 255", o->alt);
	int alt = o && o->has_alt ? (int)o->alt : -1;
	int rc = ops_read_check(s->ops, alt, addr, len, o && o->force);
	if (rc == 0)
		rc = ops_read(s->ops, alt, addr, buf, len, !(o && o->no_confirm));
	return rc < 0 ? api_fail_from_ops(s, rc) : 0;
}

int stm32dfu_read(struct stm32dfu_session *s, uint32_t addr, void *buf, size_t len)
{
	return stm32dfu_read_ex(s, NULL, addr, buf, len);
}

int stm32dfu_read_file(struct stm32dfu_session *s, uint32_t addr, size_t len, const char *path)
{
	err_clear(&s->err);
	if (img_format_from_name(path) == IMG_FMT_UNKNOWN)
		return err_set(&s->err, STM32DFU_E_USAGE, "%s: name the file .bin, .hex, .srec or .dfu", path);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory for %zu bytes", len);
	int rc = stm32dfu_read(s, addr, buf, len);
	struct img *img = NULL;
	if (rc == 0) {
		img = img_new();
		rc = img ? img_add(img, 0, addr, buf, len, &s->err) : err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	free(buf);
	if (rc == 0) {
		struct img_save_opts so;
		img_save_opts_init(&so);
		rc = img_save_file(path, img, &so, &s->err);
	}
	img_free(img);
	return rc;
}

int stm32dfu_erase_sectors(struct stm32dfu_session *s, const unsigned *sectors, size_t n)
{
	err_clear(&s->err);
	if (!sectors || !n)
		return err_set(&s->err, STM32DFU_E_USAGE, "erase: no sectors given");
	int rc = ops_erase_sectors(s->ops, sectors, n, NULL);
	return rc < 0 ? api_fail_from_ops(s, rc) : 0;
}

int stm32dfu_erase_range(struct stm32dfu_session *s, uint32_t addr, uint32_t len, unsigned *erased)
{
	err_clear(&s->err);
	unsigned count = 0;
	int rc = ops_erase_range(s->ops, addr, len, &count);
	if (erased)
		*erased = count;
	return rc < 0 ? api_fail_from_ops(s, rc) : 0;
}

int stm32dfu_erase_all(struct stm32dfu_session *s, int confirm)
{
	err_clear(&s->err);
	if (!confirm) {
		err_set(&s->err, STM32DFU_E_NEEDS_CONFIRMATION, "a mass erase clears the whole flash");
		err_hint(&s->err, "pass confirm = 1 to erase everything");
		return STM32DFU_E_NEEDS_CONFIRMATION;
	}
	int rc = ops_mass_erase(s->ops);
	return rc < 0 ? api_fail_from_ops(s, rc) : 0;
}

/* The erase itself, once the voltage range is set: the mode's ops call. */
static int erase_mode(struct stm32dfu_session *s, const struct stm32dfu_erase_options *o, struct stm32dfu_erase_result *r)
{
	switch (o->mode & ~STM32DFU_ERASE_BLANK_CHECK) {
	case STM32DFU_ERASE_ALL:
		return ops_mass_erase(s->ops);
	case STM32DFU_ERASE_SECTORS:
		return ops_erase_sectors(s->ops, o->sectors, o->n_sectors, &r->sectors_erased);
	default: {
		int rc = ops_erase_range(s->ops, o->address, o->length, &r->sectors_erased);
		if (rc == 0)
			rc = ops_erase_span(s->ops, o->address, o->length, &r->start, &r->end);
		return rc;
	}
	}
}

int stm32dfu_erase_ex(struct stm32dfu_session *s, const struct stm32dfu_erase_options *o, struct stm32dfu_erase_result *result)
{
	err_clear(&s->err);
	struct stm32dfu_erase_result r;
	memset(&r, 0, sizeof r);
	r.voltage_range = -1;
	if (result)
		*result = r;
	/* every argument checked before the first request */
	if (!o)
		return err_set(&s->err, STM32DFU_E_USAGE, "erase: no options given (mode, and what it erases)");
	int mode = o->mode & ~STM32DFU_ERASE_BLANK_CHECK;
	if (mode < STM32DFU_ERASE_SECTORS || mode > STM32DFU_ERASE_ALL)
		return err_set(&s->err, STM32DFU_E_USAGE,
		               "erase: mode %d: expected STM32DFU_ERASE_SECTORS, _RANGE or _ALL (with _BLANK_CHECK or not)",
		               o->mode);
	if (mode == STM32DFU_ERASE_SECTORS && (!o->sectors || !o->n_sectors))
		return err_set(&s->err, STM32DFU_E_USAGE, "erase: no sectors given");
	if (mode == STM32DFU_ERASE_RANGE && !o->length)
		return err_set(&s->err, STM32DFU_E_USAGE, "erase: the length is 0");
	if (mode == STM32DFU_ERASE_ALL && !o->confirm) {
		err_set(&s->err, STM32DFU_E_NEEDS_CONFIRMATION, "a mass erase clears the whole flash");
		err_hint(&s->err, "set confirm to erase everything");
		return STM32DFU_E_NEEDS_CONFIRMATION;
	}
	int range = -1;
	if (o->vdd != 0 && ops_vdd_range(o->vdd, &range, &s->err) < 0)
		return s->err.code;
	const struct clock *clk = ops_clock(s->ops);
	uint64_t t0 = clock_now_us(clk);
	int rc = 0;
	/* the erase time depends on the parallelism: set it first (refused on a chip without it) */
	if (range >= 0 && (rc = ops_vdd_check(s->ops)) == 0 && (rc = ops_vdd_apply(s->ops, range)) == 0)
		r.voltage_range = range;
	if (rc == 0) {
		s->ops->blank_check = (o->mode & STM32DFU_ERASE_BLANK_CHECK) != 0;
		rc = erase_mode(s, o, &r);
		s->ops->blank_check = false;
	}
	r.seconds = (double)(clock_now_us(clk) - t0) / 1e6;
	if (result)
		*result = r;
	return rc < 0 ? api_fail_from_ops(s, rc) : 0;
}

/* An image of one segment holding a copy of data at addr. */
static int buffer_image(struct stm32dfu_session *s, uint32_t addr, const void *data, size_t len, struct img **out)
{
	*out = NULL;
	if (!data || !len)
		return err_set(&s->err, STM32DFU_E_USAGE, "no data to write at 0x%08X", (unsigned)addr);
	if ((uint64_t)addr + len > 0x100000000ull)
		return err_set(&s->err, STM32DFU_E_RANGE, "0x%08X + %zu bytes runs past 4 GiB", (unsigned)addr, len);
	struct img *img = img_new();
	if (!img)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	int rc = img_add(img, 0, addr, data, len, &s->err);
	if (rc < 0) {
		img_free(img);
		return rc;
	}
	*out = img;
	return 0;
}

int stm32dfu_write_mem(struct stm32dfu_session *s, uint32_t addr, const void *data, size_t len,
                       const struct stm32dfu_write_options *options, struct stm32dfu_write_result *result)
{
	err_clear(&s->err);
	if (result)
		memset(result, 0, sizeof *result);
	struct img *img;
	int rc = buffer_image(s, addr, data, len, &img);
	if (rc < 0)
		return rc;
	rc = api_write_img(s, img, options, result);
	img_free(img);
	return rc;
}

int stm32dfu_verify_mem(struct stm32dfu_session *s, uint32_t addr, const void *data, size_t len)
{
	err_clear(&s->err);
	struct img *img;
	int rc = buffer_image(s, addr, data, len, &img);
	if (rc < 0)
		return rc;
	rc = api_verify_img(s, img, "the buffer");
	img_free(img);
	return rc;
}

void api_leave_result(const struct ops_leave_result *in, struct stm32dfu_leave_result *out)
{
	out->address = in->addr;
	out->vector_read = in->vector_read;
	out->sp = in->sp;
	out->reset = in->reset;
	out->sp_in_ram = in->sp_in_ram;
	out->reset_in_code = in->reset_in_code;
	out->reset_thumb = in->reset_thumb;
	out->vector_ok = ops_leave_vector_ok(in);
	out->confirmed = in->confirmed;
	out->gone = in->gone;
	out->rule = (int)in->rule;
}

int stm32dfu_leave_ex(struct stm32dfu_session *s, int has_addr, uint32_t addr, struct stm32dfu_leave_result *result)
{
	err_clear(&s->err);
	struct ops_leave_result r;
	memset(&r, 0, sizeof r);
	int rc = ops_leave(s->ops, has_addr != 0, addr, &r);
	if (result) {
		memset(result, 0, sizeof *result);
		api_leave_result(&r, result);
	}
	return rc < 0 ? api_fail_from_ops(s, rc) : 0;
}

int stm32dfu_leave(struct stm32dfu_session *s, int has_addr, uint32_t addr)
{
	return stm32dfu_leave_ex(s, has_addr, addr, NULL);
}

int stm32dfu_leave_reset(struct stm32dfu_session *s)
{
	err_clear(&s->err);
	int rc = ops_reset_exit(s->ops);
	return rc < 0 ? api_fail_from_ops(s, rc) : 0;
}

int stm32dfu_unprotect(struct stm32dfu_session *s, int confirm, struct stm32dfu_unprotect_result *result)
{
	err_clear(&s->err);
	if (result)
		memset(result, 0, sizeof *result);
	if (!confirm) {
		err_set(&s->err, STM32DFU_E_NEEDS_CONFIRMATION, "Read Unprotect mass-erases the flash");
		err_hint(&s->err, "it also resets the option bytes to their factory defaults; confirm to go ahead");
		return STM32DFU_E_NEEDS_CONFIRMATION;
	}
	struct ops_unprotect_result r;
	memset(&r, 0, sizeof r);
	r.rdp_before = r.rdp_after = -1;
	int rc = ops_unprotect(s->ops, &r);
	if (result) {
		result->rdp_before = r.rdp_before;
		result->rdp_after = r.rdp_after;
		result->flash_erased = r.flash_erased;
		result->ob_default = r.ob_default;
		result->checked_addr = r.checked_addr;
		result->checked_len = r.checked_len;
	}
	return rc < 0 ? api_fail_from_ops(s, rc) : 0;
}
