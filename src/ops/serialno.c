#include "ops/serialno.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "ops/ops.h"
#include "chip/layout.h"
#include "ops/record.h"
#include "ops/recdir.h"
#include "store/store.h"

int ops_serialno_parse(const char *spec, struct ops_serialno *sn, struct err *e)
{
	char *end;
	errno = 0;
	unsigned long long a = strtoull(spec, &end, 0);
	if (end == spec || errno || a > UINT32_MAX || spec[0] == '-')
		return err_set(e, STM32DFU_E_USAGE, "--serial-number %s: expected ADDR[:FORMAT], e.g. 0x0800C000:u32le", spec);
	sn->addr = (uint32_t)a;
	sn->format = OPS_SN_U32LE;
	sn->width = 4;
	if (*end == '\0' || strcmp(end, ":u32le") == 0)
		return 0;
	if (strcmp(end, ":u64le") == 0) {
		sn->format = OPS_SN_U64LE;
		sn->width = 8;
		return 0;
	}
	if (strncmp(end, ":ascii:", 7) == 0) {
		char *e2;
		unsigned long n = strtoul(end + 7, &e2, 10);
		if (e2 != end + 7 && *e2 == '\0' && n >= 1 && n <= 20) {
			sn->format = OPS_SN_ASCII;
			sn->width = (unsigned)n;
			return 0;
		}
	}
	return err_set(e, STM32DFU_E_USAGE, "--serial-number %s: FORMAT is u32le, u64le or ascii:N (N digits, 1 to 20)",
	               spec);
}

bool ops_serialno_fits(const struct ops_serialno *sn, uint64_t v)
{
	if (sn->format == OPS_SN_U32LE)
		return v <= UINT32_MAX;
	if (sn->format == OPS_SN_U64LE || sn->width >= 20)
		return true;
	uint64_t lim = 1;
	for (unsigned i = 0; i < sn->width; i++)
		lim *= 10;
	return v < lim;
}

void ops_serialno_bytes(const struct ops_serialno *sn, uint64_t v, uint8_t *out)
{
	if (sn->format == OPS_SN_ASCII) {
		for (unsigned i = sn->width; i-- > 0; v /= 10)
			out[i] = (uint8_t)('0' + v % 10);
		return;
	}
	for (unsigned i = 0; i < sn->width; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

int ops_serialno_check_image(const struct ops_serialno *sn, const struct img *img, struct err *e)
{
	for (size_t i = 0; i < img->n_segs; i++) {
		const struct img_seg *g = &img->segs[i];
		uint64_t lo = g->addr, hi = (uint64_t)g->addr + g->len;
		if (g->alt == 0 && sn->addr < hi && (uint64_t)sn->addr + sn->width > lo) {
			err_set(e, STM32DFU_E_RANGE,
			        "--serial-number 0x%08" PRIX32 " (%u bytes) lies inside the image (0x%08" PRIX32 "..0x%08" PRIX64
			        "): it would overwrite the firmware",
			        sn->addr, sn->width, g->addr, hi - 1);
			err_hint(e, "put the serial number in flash the image leaves free (a reserved word or sector)");
			return STM32DFU_E_RANGE;
		}
	}
	return 0;
}

/* The OTP memory the device lists that holds the whole number, or NULL. */
static const struct layout_mem *otp_holding(const struct ops_session *s, const struct ops_serialno *sn)
{
	for (unsigned i = 0; i < s->map->n; i++) {
		const struct layout_mem *a = &s->map->mem[i];
		if (!a->have_layout || !strstr(a->layout.name, "OTP"))
			continue;
		for (unsigned r = 0; r < a->layout.n_regions; r++) {
			const struct layout_region *g = &a->layout.regions[r];
			if (sn->addr >= g->start && (uint64_t)sn->addr + sn->width <= (uint64_t)g->start + g->length)
				return a;
		}
	}
	return NULL;
}

/* The address must fall inside the flash alt's sectors (the memory write programs), or inside
 * OTP memory when --i-understand-otp-is-permanent was given (sn->otp_ok). */
static int check_device(struct ops_session *s, const struct ops_serialno *sn)
{
	const struct layout_mem *otp = otp_holding(s, sn);
	if (otp && !sn->otp_ok) {
		err_set(&s->err, STM32DFU_E_NEEDS_CONFIRMATION,
		        "--serial-number 0x%08" PRIX32 " is in %s: each board's number would be programmed there once and "
		        "for good; nothing was written", sn->addr, otp->layout.name);
		err_hint(&s->err, "add {@otp-permanent} if the number belongs in OTP");
		return STM32DFU_E_NEEDS_CONFIRMATION;
	}
	if (otp)
		return 0;

	struct plan_sector *sec = NULL;
	size_t n = 0;
	uint32_t limit = 0;
	int rc = ops_flash_sectors(s, &sec, &n, &limit);
	if (rc < 0)
		return rc;
	bool inside = false;
	for (size_t i = 0; i < n && !inside; i++)
		inside = sn->addr >= sec[i].start && (uint64_t)sn->addr + sn->width <= (uint64_t)sec[i].start + sec[i].size;
	free(sec);
	if (inside)
		return 0;
	err_set(&s->err, STM32DFU_E_RANGE,
	        "--serial-number 0x%08" PRIX32 " (%u bytes) is outside this chip's writable flash and OTP: nothing was "
	        "written",
	        sn->addr, sn->width);
	err_hint(&s->err, "{@info} shows the memory map; the number must lie in one flash sector or in OTP");
	return STM32DFU_E_RANGE;
}

int ops_serialno_apply(struct ops_session *s, const struct ops_serialno *sn, const struct img *img,
                       struct img **out, uint64_t *number)
{
	*out = NULL;
	int rc = check_device(s, sn);
	if (rc < 0)
		return rc;
	ops_identify(s);
	if (!s->id.has_uid) {
		err_set(&s->err, STM32DFU_E_UNSUPPORTED, "no serial number: this chip's UID could not be read (the board's key)");
		return STM32DFU_E_UNSUPPORTED;
	}
	if (!sn->store) {
		err_set(&s->err, STM32DFU_E_USAGE, "serial numbers come from the programming log, which is off (--no-log)");
		return STM32DFU_E_USAGE;
	}
	/* the log was chosen for this run's chips (cli_log_open); a program on ops/ must not mix them
	 * either: an emulated chip's number never advances a real counter, nor the other way round */
	bool emulated = ops_session_emulated(s);
	if (emulated != store_emulated(sn->store)) {
		err_set(&s->err, STM32DFU_E_USAGE, "no serial number: this chip is %s, and the log %s is %s: nothing was written",
		        emulated ? "emulated" : "real", store_url(sn->store),
		        store_emulated(sn->store) ? "the emulated chips' own" : "a real chip's log");
		err_hint(&s->err, emulated ? "emulated chips take their numbers from their own log (STM32DFU_SIM_LOG; "
		                             "store_set_emulated)"
		                           : "a real chip's number comes from the real log ($STM32DFU_LOG or --log)");
		return STM32DFU_E_USAGE;
	}
	char uid[25];
	ops_record_uid(uid, s->id.uid);
	bool fresh;
	struct err e;
	err_clear(&e);
	if ((rc = store_serial_number(sn->store, sn->counter, uid, sn->start, number, &fresh, &e)) < 0) {
		s->err = e;
		return rc;
	}
	if (!ops_serialno_fits(sn, *number)) {
		err_set(&s->err, STM32DFU_E_RANGE, "serial number %" PRIu64 " of counter '%s' does not fit %u %s bytes: "
		        "nothing was written", *number, sn->counter, sn->width, sn->format == OPS_SN_ASCII ? "decimal" : "binary");
		err_hint(&s->err, "use a wider FORMAT, or another --serial-counter");
		return STM32DFU_E_RANGE;
	}
	struct img *c = img_new();
	if (!c)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < img->n_segs && rc == 0; i++)
		rc = img_add(c, img->segs[i].alt, img->segs[i].addr, img->segs[i].data, img->segs[i].len, &s->err);
	uint8_t bytes[20];
	ops_serialno_bytes(sn, *number, bytes);
	if (rc == 0)
		rc = img_add(c, 0, sn->addr, bytes, sn->width, &s->err);
	if (rc < 0) {
		img_free(c);
		return rc;
	}
	c->suffix = img->suffix;
	*out = c;
	return 0;
}
