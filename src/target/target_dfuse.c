/*
 * DfuSe as a target (target.h) over dfu/: the alt settings are chosen by address here, so ops/
 * never names one. Regions come from the alt strings (dfu/layout.h parses them into the session's
 * map, chip/layout.h); the DfuSe ROM has no
 * write-protect, readout-protect or checksum command (AN3156 2.4: protection goes through the
 * option bytes), so those calls are UNSUPPORTED and ops/ writes the option bytes instead.
 * Reconnecting after a reset is usb/'s reopen and a new DFU session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfu/dfu.h"
#include "dfu/dfuse.h"
#include "dfu/proto.h"
#include "target/dfuse_link.h"
#include "target/target.h"
#include "core/clock.h"
#include "core/log.h"
#include "usb/transport.h"

struct td {
	struct dfu_dev *d;
	uint32_t base; /* the last Set Address Pointer: pieces are numbered from it */
};

static int fail_from(struct target *t, struct td *x, int r)
{
	t->err = x->d->err;
	return r;
}

/* The alt setting whose layout holds addr, or -1: the one named "Internal Flash" first, as
 * ops/ names the flash (a G0 ROM repeats the flash in every alt string). */
static int alt_of(const struct dfu_dev *d, uint32_t addr)
{
	struct layout_sector s;
	const struct layout_mem *f = layout_map_find(&d->map, "Internal Flash");
	if (f && f->have_layout && layout_find(&f->layout, addr, &s))
		return (int)(f - d->map.mem);
	for (unsigned i = 0; i < d->map.n; i++)
		if (d->map.mem[i].have_layout && layout_find(&d->map.mem[i].layout, addr, &s))
			return (int)i;
	return -1;
}

/* An address no alt string lists (the UID, the flash-size register, system memory) is read
 * through alt 0 with Set Address, as ops/identify.c reads them: the ROM serves it there. */
static int select_for(struct target *t, struct td *x, uint32_t addr)
{
	int a = alt_of(x->d, addr);
	if (a < 0 && x->d->map.n)
		a = 0;
	if (a < 0)
		return err_set(&t->err, STM32DFU_E_RANGE, "0x%08x: the bootloader lists no memory", addr);
	if (x->d->alt != x->d->map.mem[a].alt) {
		int r = dfu_set_alt(x->d, x->d->map.mem[a].alt);
		if (r < 0)
			return fail_from(t, x, r);
	}
	return 0;
}

static enum target_mem kind_of(const char *name, uint8_t type)
{
	if (strstr(name, "Option"))
		return TARGET_MEM_OB;
	if (strstr(name, "OTP"))
		return TARGET_MEM_OTP;
	if (strstr(name, "Feature"))
		return TARGET_MEM_FEATURE;
	if (strstr(name, "DATA") && !(type & DFUSE_MEM_ERASABLE) && (type & DFUSE_MEM_WRITABLE))
		return TARGET_MEM_EEPROM;
	if (type & DFUSE_MEM_ERASABLE)
		return TARGET_MEM_FLASH;
	return (type & DFUSE_MEM_WRITABLE) ? TARGET_MEM_RAM : TARGET_MEM_SYSTEM;
}

static int td_identity(struct target *t, struct target_identity *out)
{
	struct td *x = t->impl;
	memset(out, 0, sizeof *out);
	out->rdp_level = -1;
	out->usb_vid = x->d->tp->info.vid;
	out->usb_pid = x->d->tp->info.pid;
	snprintf(out->usb_serial, sizeof out->usb_serial, "%s", x->d->tp->info.serial);
	snprintf(out->bootloader, sizeof out->bootloader, "DfuSe");
	/* the device ID, UID and flash size come from chip/ identify (ops/identify.c today), which
	 * reads them through this target's read: the switch moves that call here */
	return 0;
}

static int td_regions(struct target *t, struct target_region *out, size_t cap, size_t *n)
{
	struct td *x = t->impl;
	*n = 0;
	for (int pass = 0; pass < 2; pass++) /* flash first */
		for (unsigned i = 0; i < x->d->map.n; i++) {
			const struct layout_mem *a = &x->d->map.mem[i];
			if (!a->have_layout)
				continue;
			for (unsigned r = 0; r < a->layout.n_regions; r++) {
				const struct layout_region *lr = &a->layout.regions[r];
				uint8_t type = lr->n_groups ? lr->groups[0].type : 0;
				enum target_mem k = kind_of(a->layout.name, type);
				if ((pass == 0) != (k == TARGET_MEM_FLASH))
					continue;
				bool dup = false;
				for (size_t j = 0; j < *n; j++)
					dup = dup || out[j].addr == lr->start;
				if (dup)
					continue; /* G0: every alt repeats the flash */
				if (*n == cap)
					return err_set(&t->err, STM32DFU_E_INTERNAL, "regions: more than %zu", cap);
				struct target_region *o = &out[(*n)++];
				memset(o, 0, sizeof *o);
				o->kind = k;
				o->addr = lr->start;
				o->size = (uint32_t)lr->length;
				for (unsigned g = 0; g < lr->n_groups && o->n_runs < TARGET_MAX_RUNS; g++)
					o->runs[o->n_runs++] = (struct target_run){lr->groups[g].count, lr->groups[g].size};
				o->readable = type & DFUSE_MEM_READABLE;
				o->writable = type & DFUSE_MEM_WRITABLE;
				o->erasable = type & DFUSE_MEM_ERASABLE;
				snprintf(o->name, sizeof o->name, "%s", a->layout.name);
			}
		}
	return 0;
}

static int td_read(struct target *t, uint32_t addr, uint8_t *buf, size_t len)
{
	struct td *x = t->impl;
	int r = select_for(t, x, addr);
	if (r == 0 && (r = dfuse_read(x->d, addr, buf, len)) < 0)
		return fail_from(t, x, r);
	return r;
}

static int td_write(struct target *t, uint32_t addr, const uint8_t *buf, size_t len)
{
	struct td *x = t->impl;
	int r = select_for(t, x, addr);
	if (r == 0 && (r = dfuse_write(x->d, addr, buf, len)) < 0)
		return fail_from(t, x, r);
	return r;
}

/* Sector i of the flash region (the first region td_regions gives). */
static int td_erase(struct target *t, const unsigned *sectors, size_t n)
{
	struct td *x = t->impl;
	struct target_region reg[TARGET_MAX_REGIONS];
	size_t nr;
	int r = td_regions(t, reg, TARGET_MAX_REGIONS, &nr);
	if (r < 0 || nr == 0 || reg[0].kind != TARGET_MEM_FLASH)
		return r < 0 ? r : err_set(&t->err, STM32DFU_E_UNSUPPORTED, "no erasable flash listed");
	for (size_t i = 0; i < n; i++) {
		uint32_t addr = reg[0].addr, idx = sectors[i];
		size_t k = 0;
		for (; k < reg[0].n_runs && idx >= reg[0].runs[k].count; k++) {
			addr += reg[0].runs[k].count * reg[0].runs[k].size;
			idx -= reg[0].runs[k].count;
		}
		if (k == reg[0].n_runs)
			return err_set(&t->err, STM32DFU_E_RANGE, "sector %u: the flash has fewer", sectors[i]);
		addr += idx * reg[0].runs[k].size;
		if ((r = select_for(t, x, addr)) < 0)
			return r;
		if ((r = dfuse_erase_page(x->d, addr)) < 0)
			return fail_from(t, x, r);
	}
	return 0;
}

static int td_select(struct target *t, unsigned m)
{
	struct td *x = t->impl;
	if (x->d->alt == (int)m)
		return 0;
	int r = dfu_set_alt(x->d, (uint8_t)m);
	return r < 0 ? fail_from(t, x, r) : 0;
}

/* ---- the pieces of ops/'s transfers ---- */

static int td_point(struct target *t, uint32_t addr, bool for_read)
{
	struct td *x = t->impl;
	/* before a read: an ABORT takes dfuDNLOAD-IDLE to dfuIDLE (DFU11 6.1.4); the UPLOAD that
	 * follows shows any other outcome, so no GETSTATUS is spent on checking it */
	int r = dfuse_set_address(x->d, addr);
	if (r == 0 && for_read)
		r = dfu_abort(x->d);
	if (r < 0)
		return fail_from(t, x, r);
	x->base = addr;
	return 0;
}

/* The ROM places block k at pointer + (k - 2) x its wTransferSize (protocol.md 2.2). */
static int block_of(struct target *t, struct td *x, uint32_t addr, size_t n, uint16_t *block)
{
	uint32_t ts = x->d->transfer_size;
	uint32_t off = addr - x->base;
	if (addr < x->base || !ts || off % ts || off / ts > 0xFFFFu - DFUSE_FIRST_DATA_BLOCK || n > ts)
		return err_set(&t->err, STM32DFU_E_INTERNAL,
		               "%zu bytes at 0x%08X are no DfuSe block after the pointer 0x%08X (transfer size %u)", n, addr,
		               x->base, ts);
	*block = (uint16_t)(DFUSE_FIRST_DATA_BLOCK + off / ts);
	return 0;
}

/* A STALLed UPLOAD: the status says why. A refusal (errVENDOR: protection; errTARGET: an address
 * the chip does not serve, AN3156 5.1) is an answer, not a link fault: errTARGET becomes RANGE. */
static int explain_stall(struct dfu_dev *d, int r)
{
	if (r != STM32DFU_E_STALL)
		return r;
	r = dfuse_upload_refusal(d);
	if (r == STM32DFU_E_DFU_STATUS && d->last.bStatus == errTARGET)
		d->err.code = r = STM32DFU_E_RANGE;
	return r;
}

static int td_upload(struct target *t, uint32_t addr, uint8_t *buf, size_t n)
{
	struct td *x = t->impl;
	uint16_t block;
	if (block_of(t, x, addr, n, &block) < 0)
		return t->err.code;
	int r = dfu_upload(x->d, block, buf, (uint16_t)n);
	if (r >= 0 && (size_t)r != n)
		r = err_set(&x->d->err, STM32DFU_E_PROTOCOL, "UPLOAD: %d bytes, want %zu", r, n);
	return r < 0 ? fail_from(t, x, explain_stall(x->d, r)) : 0;
}

static int td_dnload(struct target *t, uint32_t addr, const uint8_t *buf, size_t n, bool *not_sent)
{
	struct td *x = t->impl;
	uint16_t block;
	*not_sent = true;
	if (block_of(t, x, addr, n, &block) < 0)
		return t->err.code;
	/* the DNLOAD and its status polls apart: a failure of the DNLOAD itself comes before the
	 * chip could program anything */
	int r = dfu_dnload(x->d, block, buf, (uint16_t)n);
	if (r < 0)
		return fail_from(t, x, r);
	*not_sent = false;
	r = dfu_dnload_finish(x->d, x->d->limits.program_ms);
	return r < 0 ? fail_from(t, x, r) : 0;
}

static int td_abort(struct target *t, bool later)
{
	struct td *x = t->impl;
	if (later) {
		dfu_abort_later(x->d); /* dfuUPLOAD-IDLE until the next request needs dfuIDLE */
		return 0;
	}
	int r = dfu_abort(x->d);
	return r < 0 ? fail_from(t, x, r) : 0;
}

static int td_peek(struct target *t, int *state)
{
	struct td *x = t->impl;
	uint8_t st = 0xFF;
	int r = dfu_get_state(x->d, &st);
	if (r < 0)
		return fail_from(t, x, r);
	*state = st == dfuIDLE          ? TARGET_ST_IDLE
	         : st == dfuDNLOAD_IDLE ? TARGET_ST_DNLOAD_IDLE
	         : st == dfuDNLOAD_SYNC ? TARGET_ST_DNLOAD_SYNC
	         : st == dfuUPLOAD_IDLE ? TARGET_ST_UPLOAD_IDLE
	                                : TARGET_ST_OTHER;
	return 0;
}

static int td_resync(struct target *t, int m, bool quick)
{
	struct td *x = t->impl;
	struct dfu_dev *d = x->d;
	struct dfu_limits saved = d->limits;
	if (quick) /* a write never mass-erases: a busy chip gets one sector-erase time, not a minute */
		d->limits.mass_erase_ms = d->limits.erase_ms;
	int r = dfu_session_start(d, NULL);
	if (r < 0 && d->have_last && d->last.bState == dfuDNBUSY) {
		/* the H7 rev V wedge (protocol.md 2.7): busy forever; two CLRSTATUS bring it back */
		log_info("the chip stays in dfuDNBUSY: CLRSTATUS twice (the H7 busy wedge, protocol.md 2.7)");
		uint8_t now = 0xFF;
		dfu_clr_status(d);
		if (dfu_get_state(d, &now) == 0 && now == dfuERROR) /* never a CLRSTATUS outside dfuERROR */
			dfu_clr_status(d);
		r = dfu_session_start(d, NULL);
	}
	d->limits = saved;
	if (r < 0)
		return fail_from(t, x, r);
	/* SET_INTERFACE again even when unchanged: after a reset the ROM is back on alt 0 */
	if (m >= 0 && (r = dfu_set_alt(d, (uint8_t)m)) < 0)
		return fail_from(t, x, r);
	return 0;
}

static int td_erase_at(struct target *t, uint32_t addr)
{
	struct td *x = t->impl;
	int r = dfuse_erase_page(x->d, addr);
	return r < 0 ? fail_from(t, x, r) : 0;
}

/* CLRSTATUS until dfuIDLE: the first gives errUNKNOWN/dfuERROR, the second dfuIDLE. */
static int td_clear_busy(struct target *t)
{
	struct td *x = t->impl;
	struct dfu_dev *d = x->d;
	struct dfu_getstatus st = {0};
	int r = 0;
	for (int i = 0; i < 2; i++) {
		if ((r = dfu_clr_status(d)) < 0 || (r = dfu_get_status(d, &st)) < 0)
			return fail_from(t, x, r);
		if (st.bState == dfuIDLE)
			break;
	}
	if (st.bState != dfuIDLE) {
		t->err = d->err;
		return err_set(&t->err, STM32DFU_E_PROTOCOL, "the chip stays in %s after two CLRSTATUS",
		               dfu_state_name(st.bState));
	}
	return 0;
}

static bool td_stayed_busy(const struct target *t)
{
	const struct td *x = t->impl;
	return x->d->have_last && x->d->last.bState == dfuDNBUSY;
}

static bool td_refused_address(const struct target *t)
{
	const struct td *x = t->impl;
	return x->d->have_last && x->d->last.bStatus == errTARGET;
}

/* The flash's alt setting must be selected (td_select) first, as for an erase. */
static int td_erase_mass(struct target *t, int bank)
{
	struct td *x = t->impl;
	if (bank)
		return err_set(&t->err, STM32DFU_E_UNSUPPORTED, "DfuSe has no bank erase (AN3156 5.3)");
	int r = dfuse_mass_erase(x->d);
	return r < 0 ? fail_from(t, x, r) : 0;
}

static int td_unsupported(struct target *t, const char *what)
{
	return err_set(&t->err, STM32DFU_E_UNSUPPORTED, "the DfuSe bootloader has no %s command", what);
}

static int td_checksum(struct target *t, uint32_t addr, uint32_t len, uint32_t *crc)
{
	(void)addr;
	(void)len;
	(void)crc;
	return td_unsupported(t, "checksum");
}

/* Set Address and leave; the ROM jumps to the last address pointer (AN3156 5.5), so it is set
 * right before, with the alt setting the caller selected. 1: dfuMANIFEST seen. */
static int td_go(struct target *t, bool have_addr, uint32_t addr)
{
	struct td *x = t->impl;
	int r = dfuse_leave(x->d, have_addr, addr);
	return r < 0 ? fail_from(t, x, r) : r == DFUSE_LEFT;
}

/* USB re-enumeration, then a new DFU session rebuilt in place (the descriptors and alt strings
 * may differ after a reset, and callers hold pointers into the session's alt settings); what the
 * session learnt about polling and its limits hold for the same chip. */
static int td_reconnect(struct target *t, unsigned timeout_ms)
{
	struct td *x = t->impl;
	struct dfu_dev *d = x->d;
	err_clear(&t->err);
	int r = tp_reopen(d->tp, timeout_ms);
	if (r < 0) {
		t->err = d->tp->err;
		err_prefix(&t->err, "waiting %u ms for the chip to re-enumerate after its reset", timeout_ms);
		err_hint(&t->err, "unplug and replug the board (with BOOT0 high), then check with {@info}");
		return r;
	}
	struct dfu_dev *fresh = NULL;
	if ((r = dfu_open(d->tp, &fresh, &t->err)) < 0)
		return err_prefix(&t->err, "after the reset");
	struct dfu_limits limits = d->limits;
	fresh->poll_mode = d->poll_mode;
	fresh->poll_asked = d->poll_asked;
	fresh->poll_fallback = d->poll_fallback;
	*d = *fresh;
	dfu_free(fresh);
	d->limits = limits;
	if ((r = dfu_session_start(d, NULL)) < 0) {
		fail_from(t, x, r);
		return err_prefix(&t->err, "after the reset");
	}
	t->max_transfer = d->transfer_size;
	return 0;
}

static bool is_reset(int r)
{
	return r == STM32DFU_E_DISCONNECTED || r == STM32DFU_E_TIMEOUT || r == STM32DFU_E_USB_IO ||
	       r == STM32DFU_E_STALL;
}

/*
 * After the OB DNLOAD: the first GETSTATUS starts the write and says dfuDNBUSY; the ROM then
 * programs, reloads and resets, so the next GETSTATUS goes unanswered (AN3156 5.1). *reset tells
 * which; dfuDNLOAD-IDLE means this ROM took the block without a reset (loaded at the next one).
 */
static int ob_wait_reset(struct dfu_dev *d, bool *reset)
{
	struct dfu_getstatus st;
	*reset = false;
	int rc = dfu_get_status(d, &st);
	if (rc < 0) {
		if (!is_reset(rc) || rc == STM32DFU_E_STALL)
			return rc; /* nothing was started: a stall here is a refusal */
		*reset = true;
		return 0;
	}
	if (st.bState == dfuERROR || st.bStatus != DFU_STATUS_OK)
		return dfu_status_error(d, &st, "GETSTATUS after the option-byte write");
	if (st.bState != dfuDNBUSY && st.bState != dfuDNLOAD_IDLE)
		return dfu_status_error(d, &st, "GETSTATUS after the option-byte write");
	uint64_t t0 = clock_now_us(d->tp->clock), ceiling = (uint64_t)d->limits.erase_ms * 1000u;
	while (st.bState == dfuDNBUSY) {
		uint64_t us = (uint64_t)(st.bwPollTimeout ? st.bwPollTimeout : 1) * 1000u;
		clock_sleep_us(d->tp->clock, us);
		rc = dfu_get_status(d, &st);
		if (rc < 0) {
			if (!is_reset(rc))
				return rc;
			err_clear(&d->err);
			*reset = true;
			return 0;
		}
		if (st.bState == dfuERROR || st.bStatus != DFU_STATUS_OK)
			return dfu_status_error(d, &st, "GETSTATUS after the option-byte write");
		if (clock_now_us(d->tp->clock) - t0 > ceiling)
			return err_set(&d->err, STM32DFU_E_TIMEOUT, "the option-byte write still busy after %u ms",
			               d->limits.erase_ms);
	}
	return dfu_abort_to_idle(d);
}

/* One DNLOAD of the zone at its start (the ROM erases, programs and reloads it, AN3156 4.1). */
static int td_ob_write(struct target *t, uint32_t addr, const uint8_t *buf, size_t len, bool *reset)
{
	struct td *x = t->impl;
	*reset = false;
	int a = alt_of(x->d, addr);
	if (a < 0)
		return err_set(&t->err, STM32DFU_E_RANGE, "0x%08x: the bootloader lists no option bytes there", addr);
	if (len > x->d->transfer_size)
		return err_set(&t->err, STM32DFU_E_RANGE, "option bytes: %zu bytes in one DNLOAD of %u", len,
		               x->d->transfer_size);
	uint8_t *want = malloc(len ? len : 1);
	if (!want)
		return err_set(&t->err, STM32DFU_E_NO_MEMORY, "out of memory");
	memcpy(want, buf, len);
	int r;
	if ((r = dfu_set_alt(x->d, x->d->map.mem[a].alt)) < 0 || (r = dfuse_set_address(x->d, addr)) < 0 ||
	    (r = dfu_dnload(x->d, DFUSE_FIRST_DATA_BLOCK, want, (uint16_t)len)) < 0 || (r = ob_wait_reset(x->d, reset)) < 0)
		fail_from(t, x, r);
	free(want);
	return r < 0 ? r : 0;
}

static int td_write_protect(struct target *t, const unsigned *s, size_t n)
{
	(void)s;
	(void)n;
	return td_unsupported(t, "write protect (write the option bytes)");
}

static int td_write_unprotect(struct target *t)
{
	return td_unsupported(t, "write unprotect (write the option bytes)");
}

static int td_readout_protect(struct target *t)
{
	return td_unsupported(t, "readout protect (write the option bytes)");
}

/* Read Unprotect (AN3156 5.4): one GETSTATUS says dfuDNBUSY, then the mass erase and the reset. */
static int td_readout_unprotect(struct target *t)
{
	struct td *x = t->impl;
	int r = dfuse_read_unprotect(x->d);
	return r < 0 ? fail_from(t, x, r) : 0;
}

static void td_close(struct target *t)
{
	free(t->impl);
	free(t);
}

static void td_link(const struct target *t, struct target_link *out)
{
	const struct td *x = t->impl;
	target_usb_link(&x->d->tp->info, out);
}

static const struct target_ops td_ops = {
	.name = "dfuse",
	.identity = td_identity,
	.regions = td_regions,
	.read = td_read,
	.write = td_write,
	.erase = td_erase,
	.erase_mass = td_erase_mass,
	.checksum = td_checksum,
	.go = td_go,
	.ob_write = td_ob_write,
	.write_protect = td_write_protect,
	.write_unprotect = td_write_unprotect,
	.readout_protect = td_readout_protect,
	.readout_unprotect = td_readout_unprotect,
	.reconnect = td_reconnect,
	.select = td_select,
	.point = td_point,
	.upload = td_upload,
	.dnload = td_dnload,
	.abort = td_abort,
	.peek = td_peek,
	.resync = td_resync,
	.erase_at = td_erase_at,
	.clear_busy = td_clear_busy,
	.refused_address = td_refused_address,
	.stayed_busy = td_stayed_busy,
	.link = td_link,
	.close = td_close,
};

int target_dfuse_new(struct dfu_dev *d, struct target **out, struct err *e)
{
	*out = NULL;
	struct target *t = calloc(1, sizeof *t);
	struct td *x = calloc(1, sizeof *x);
	if (!t || !x) {
		free(t);
		free(x);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	x->d = d;
	t->ops = &td_ops;
	t->impl = x;
	t->kind = TARGET_DFUSE;
	t->max_transfer = d->transfer_size;
	t->write_align = 1; /* a DNLOAD takes any length: the flash's unit is the family's (ops/) */
	t->erase_batch = 1; /* DfuSe erases one sector per command (AN3156 5.3) */
	t->caps = TARGET_CAP_MASS_ERASE | TARGET_CAP_GO | TARGET_CAP_LEAVE_SEEN;
	err_clear(&t->err);
	*out = t;
	return 0;
}
