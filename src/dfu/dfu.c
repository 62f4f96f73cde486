/* DFU 1.1 requests, status and the wait rule (see dfu.h). */
#include "dfu/dfu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/rd.h"

static const char *const state_names[DFU_STATE_COUNT] = {
	"appIDLE", "appDETACH", "dfuIDLE", "dfuDNLOAD-SYNC", "dfuDNBUSY", "dfuDNLOAD-IDLE",
	"dfuMANIFEST-SYNC", "dfuMANIFEST", "dfuMANIFEST-WAIT-RESET", "dfuUPLOAD-IDLE", "dfuERROR",
};
static const char *const status_names[DFU_STATUS_COUNT] = {
	"OK", "errTARGET", "errFILE", "errWRITE", "errERASE", "errCHECK_ERASED", "errPROG", "errVERIFY",
	"errADDRESS", "errNOTDONE", "errFIRMWARE", "errVENDOR", "errUSBR", "errPOR", "errUNKNOWN", "errSTALLEDPKT",
};

const char *dfu_state_name(int state)
{
	return state >= 0 && state < DFU_STATE_COUNT ? state_names[state] : "unknown state";
}

const char *dfu_status_name(int status)
{
	return status >= 0 && status < DFU_STATUS_COUNT ? status_names[status] : "unknown status";
}

int dfu_status_parse(const uint8_t *p, size_t n, struct dfu_getstatus *out)
{
	if (n < DFU_STATUS_LEN)
		return STM32DFU_E_PROTOCOL;
	/* DFU11 §6.1.2: bStatus, bwPollTimeout (3 bytes LE), bState, iString */
	out->bStatus = p[0];
	out->bwPollTimeout = (uint32_t)p[1] | ((uint32_t)p[2] << 8) | ((uint32_t)p[3] << 16);
	out->bState = p[4];
	out->iString = p[5];
	return 0;
}

void dfu_limits_default(struct dfu_limits *l)
{
	l->control_ms = TP_TIMEOUT_DEFAULT_MS;
	l->command_ms = 5000;
	l->program_ms = 5000;
	l->erase_ms = 10000;
	l->mass_erase_ms = 60000;
	l->max_zero_polls = 100;
	l->max_status_stalls = 3;
}

/* Copies the transport's explanation into the session and prefixes the request name. */
static int tp_fail(struct dfu_dev *d, int r, const char *what)
{
	d->err = d->tp->err;
	if (!d->err.code || d->err.code != r) {
		err_set(&d->err, r, "%s", stm32dfu_strerror(r));
	}
	return err_prefix(&d->err, "%s", what);
}

static int class_out(struct dfu_dev *d, uint8_t req, uint16_t value, const uint8_t *data, uint16_t len,
                     const char *what);

/* The ABORT that dfu_abort_later() put off, before a request that needs dfuIDLE. */
static int settle(struct dfu_dev *d)
{
	if (!d->abort_due)
		return 0;
	return dfu_abort(d);
}

void dfu_abort_later(struct dfu_dev *d)
{
	d->abort_due = true;
}

static int class_out_t(struct dfu_dev *d, uint8_t req, uint16_t value, const uint8_t *data, uint16_t len,
                       unsigned timeout_ms, const char *what)
{
	if (req != DFU_ABORT) {
		int r = settle(d);
		if (r < 0)
			return r;
	}
	struct usb_setup s = {USB_RT_CLASS_OUT_INTERFACE, req, value, d->interface, len};
	d->stats.requests++;
	/* the transport takes a non-const buffer for both directions; OUT data is only read */
	int r = tp_control(d->tp, &s, (uint8_t *)(uintptr_t)data, timeout_ms);
	if (r < 0)
		return tp_fail(d, r, what);
	return 0;
}

static int class_out(struct dfu_dev *d, uint8_t req, uint16_t value, const uint8_t *data, uint16_t len,
                     const char *what)
{
	return class_out_t(d, req, value, data, len, d->limits.control_ms, what);
}

static int class_in(struct dfu_dev *d, uint8_t req, uint16_t value, uint8_t *buf, uint16_t len, unsigned timeout_ms,
                    const char *what)
{
	struct usb_setup s = {USB_RT_CLASS_IN_INTERFACE, req, value, d->interface, len};
	d->stats.requests++;
	int r = tp_control(d->tp, &s, buf, timeout_ms);
	if (r < 0)
		return tp_fail(d, r, what);
	return r;
}

int dfu_detach(struct dfu_dev *d, uint16_t timeout_ms)
{
	return class_out(d, DFU_DETACH, timeout_ms, NULL, 0, "DETACH");
}

int dfu_dnload(struct dfu_dev *d, uint16_t block, const uint8_t *data, uint16_t len)
{
	return class_out(d, DFU_DNLOAD, block, data, len, "DNLOAD");
}

int dfu_dnload_held(struct dfu_dev *d, uint16_t block, const uint8_t *data, uint16_t len, unsigned ceiling_ms)
{
	unsigned t = ceiling_ms > d->limits.control_ms ? ceiling_ms : d->limits.control_ms;
	return class_out_t(d, DFU_DNLOAD, block, data, len, t, "DNLOAD");
}

int dfu_upload(struct dfu_dev *d, uint16_t block, uint8_t *buf, uint16_t len)
{
	return class_in(d, DFU_UPLOAD, block, buf, len, d->limits.control_ms, "UPLOAD");
}

int dfu_clr_status(struct dfu_dev *d)
{
	d->stats.clrstatus++;
	return class_out(d, DFU_CLRSTATUS, 0, NULL, 0, "CLRSTATUS");
}

int dfu_abort(struct dfu_dev *d)
{
	d->abort_due = false;
	d->stats.aborts++;
	return class_out(d, DFU_ABORT, 0, NULL, 0, "ABORT");
}

int dfu_get_state(struct dfu_dev *d, uint8_t *state)
{
	uint8_t b = 0;
	/* GETSTATE changes nothing on the device, so when it is the first request the device is asked
	 * (a new session), it may wait for the first answer: a chip still doing an earlier host's flash
	 * work holds it until the work ends (struct tp, first_answer_ms) */
	struct usb_setup s = {USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATE, 0, d->interface, 1};
	d->stats.requests++;
	int r = tp_control_patient(d->tp, &s, &b, d->limits.control_ms);
	if (r < 0)
		return tp_fail(d, r, "GETSTATE");
	if (r < 1)
		return err_set(&d->err, STM32DFU_E_PROTOCOL, "GETSTATE: empty reply");
	*state = b;
	return 0;
}

static int get_status_timeout(struct dfu_dev *d, struct dfu_getstatus *out, unsigned timeout_ms)
{
	uint8_t buf[DFU_STATUS_LEN];
	d->stats.getstatus++;
	int r = class_in(d, DFU_GETSTATUS, 0, buf, sizeof buf, timeout_ms, "GETSTATUS");
	if (r < 0)
		return r;
	if (dfu_status_parse(buf, (size_t)r, out) < 0)
		return err_set(&d->err, STM32DFU_E_PROTOCOL, "GETSTATUS: %d-byte reply (want 6)", r);
	d->last = *out;
	d->have_last = true;
	return 0;
}

int dfu_get_status(struct dfu_dev *d, struct dfu_getstatus *out)
{
	return get_status_timeout(d, out, d->limits.control_ms);
}

int dfu_status_error(struct dfu_dev *d, const struct dfu_getstatus *st, const char *what)
{
	int code = STM32DFU_E_PROTOCOL;
	if (st->bState == dfuERROR || st->bStatus != DFU_STATUS_OK)
		code = st->bStatus == errVENDOR ? STM32DFU_E_PROTECTED : STM32DFU_E_DFU_STATUS;
	err_set(&d->err, code, "%s: device reports %s in %s", what, dfu_status_name(st->bStatus),
	        dfu_state_name(st->bState));
	if (st->bStatus == errVENDOR)
		err_hint(&d->err, "the ROM answers errVENDOR while read protection (RDP) is active (AN3156 §5.1)");
	else if (st->bStatus == errTARGET)
		err_hint(&d->err, "the address is outside what this memory accepts (AN3156 §5.1: errTARGET)");
	return code;
}

const char *dfu_poll_mode_name(enum dfu_poll_mode m)
{
	return m == DFU_POLL_SPEC ? "spec" : "auto";
}

/* The device showed it does not hold an early GETSTATUS: wait every poll from now on. */
static void poll_fall_back(struct dfu_dev *d, const char *why)
{
	if (d->poll_mode == DFU_POLL_SPEC)
		return;
	d->poll_mode = DFU_POLL_SPEC;
	d->poll_fallback = why;
	log_info("the device %s an early GETSTATUS: waiting bwPollTimeout from now on ({@poll-spec})",
	         strcmp(why, "stall") == 0 ? "STALLs" : "answers dfuDNBUSY to");
}

int dfu_wait_status(struct dfu_dev *d, unsigned ceiling_ms, struct dfu_getstatus *out)
{
	const struct clock *c = d->tp->clock;
	uint64_t t0 = clock_now_us(c), ceiling_us = (uint64_t)ceiling_ms * 1000u;
	unsigned zero_polls = 0, stalls = 0;
	uint32_t last_poll_ms = 0;
	bool seen_busy = false;
	bool early = false; /* this GETSTATUS goes out without waiting the poll */
	for (;;) {
		uint64_t elapsed = clock_now_us(c) - t0;
		/* a device may NAK GETSTATUS while it erases (F767 mass erase): let the transfer itself
		 * wait as long as the operation may take, never less than an ordinary request */
		uint64_t left_ms = elapsed < ceiling_us ? (ceiling_us - elapsed) / 1000u : 0;
		unsigned timeout = left_ms > d->limits.control_ms ? (unsigned)left_ms : d->limits.control_ms;
		struct dfu_getstatus st;
		if (early)
			d->stats.early_polls++;
		int r = get_status_timeout(d, &st, timeout);
		if (r == STM32DFU_E_STALL && early) {
			/* STM32L4: it STALLs a GETSTATUS while busy; wait the poll and ask again */
			poll_fall_back(d, "stall");
			early = false;
			d->stats.status_stalls_retried++;
			uint64_t us = (uint64_t)last_poll_ms * 1000u;
			if (us) {
				clock_sleep_us(c, us);
				d->stats.slept_us += us;
			}
			continue;
		}
		/* some L4 ROMs stall GETSTATUS while busy: wait the last timeout again (dfu-util dfuse.c,
		 * three times); a device already seen doing it is given the operation's whole ceiling */
		bool staller = d->poll_fallback && strcmp(d->poll_fallback, "stall") == 0;
		if (r == STM32DFU_E_STALL && seen_busy && (stalls < d->limits.max_status_stalls || staller) &&
		    clock_now_us(c) - t0 < ceiling_us) {
			stalls++;
			d->stats.status_stalls_retried++;
			uint64_t us = (uint64_t)(last_poll_ms ? last_poll_ms : 1) * 1000u;
			log_debug("GETSTATUS stalled while busy; retry %u after %llu us", stalls, (unsigned long long)us);
			clock_sleep_us(c, us);
			d->stats.slept_us += us;
			continue;
		}
		if (r < 0)
			return r;
		if (st.bState != dfuDNBUSY) {
			*out = st;
			return 0;
		}
		if (early) /* still busy when asked early: an asynchronous device */
			poll_fall_back(d, "busy");
		early = !seen_busy && d->poll_mode == DFU_POLL_AUTO;
		seen_busy = true;
		d->stats.busy_replies++;
		last_poll_ms = st.bwPollTimeout;
		if (st.bwPollTimeout == 0) {
			if (++zero_polls > d->limits.max_zero_polls)
				return err_set(&d->err, STM32DFU_E_TIMEOUT,
				               "GETSTATUS: device stuck in dfuDNBUSY (%u replies with bwPollTimeout 0)",
				               zero_polls);
		} else {
			zero_polls = 0;
		}
		uint64_t sleep_us = early ? 0 : (uint64_t)st.bwPollTimeout * 1000u;
		elapsed = clock_now_us(c) - t0;
		if (elapsed >= ceiling_us) {
			/* only now may the device be called wedged (the H7 rev V erase, protocol.md 2.7) */
			err_set(&d->err, STM32DFU_E_TIMEOUT,
			        "GETSTATUS: still dfuDNBUSY after %llu ms (limit %u ms)", (unsigned long long)(elapsed / 1000u),
			        ceiling_ms);
			err_hint(&d->err, "the device may be wedged; stm32dfu recovers it with CLRSTATUS at the next start");
			return STM32DFU_E_TIMEOUT;
		}
		if (elapsed + sleep_us > ceiling_us)
			sleep_us = ceiling_us - elapsed; /* the last question is asked at the ceiling */
		if (sleep_us) {
			clock_sleep_us(c, sleep_us);
			d->stats.slept_us += sleep_us;
		}
	}
}

static int dnload_wait(struct dfu_dev *d, uint16_t block, const uint8_t *data, uint16_t len, unsigned ceiling_ms,
                       bool held)
{
	int r = held ? dfu_dnload_held(d, block, data, len, ceiling_ms) : dfu_dnload(d, block, data, len);
	if (r < 0)
		return r;
	return dfu_dnload_finish(d, ceiling_ms);
}

int dfu_dnload_finish(struct dfu_dev *d, unsigned ceiling_ms)
{
	struct dfu_getstatus st;
	int r = dfu_wait_status(d, ceiling_ms, &st);
	if (r < 0)
		return r;
	if (st.bState == dfuDNLOAD_IDLE && st.bStatus == DFU_STATUS_OK)
		return 0;
	if (st.bState == dfuERROR || st.bStatus != DFU_STATUS_OK)
		return dfu_status_error(d, &st, "GETSTATUS");
	return err_set(&d->err, STM32DFU_E_PROTOCOL, "GETSTATUS: unexpected state %s after DNLOAD (want dfuDNLOAD-IDLE)",
	               dfu_state_name(st.bState));
}

int dfu_dnload_wait(struct dfu_dev *d, uint16_t block, const uint8_t *data, uint16_t len, unsigned ceiling_ms)
{
	return dnload_wait(d, block, data, len, ceiling_ms, false);
}

int dfu_dnload_wait_held(struct dfu_dev *d, uint16_t block, const uint8_t *data, uint16_t len, unsigned ceiling_ms)
{
	return dnload_wait(d, block, data, len, ceiling_ms, true);
}

int dfu_abort_to_idle(struct dfu_dev *d)
{
	int r = dfu_abort(d);
	if (r < 0)
		return r;
	struct dfu_getstatus st;
	r = dfu_get_status(d, &st);
	if (r < 0)
		return r;
	if (st.bState != dfuIDLE)
		return err_set(&d->err, STM32DFU_E_PROTOCOL, "ABORT: device in %s (%s), want dfuIDLE",
		               dfu_state_name(st.bState), dfu_status_name(st.bStatus));
	return 0;
}

int dfu_session_start(struct dfu_dev *d, struct dfu_getstatus *initial)
{
	struct dfu_getstatus st;
	/* GETSTATE first, never GETSTATUS: in dfuDNLOAD-SYNC a GETSTATUS executes the DfuSe command
	 * an interrupted session left pending (AN3156 §6: the command runs on the GETSTATUS that
	 * follows its DNLOAD), and that command may be a mass erase. ABORT drops it (DFU11 §6.1.4).
	 * In dfuMANIFEST-SYNC the pending thing is a leave another program asked for (AN3156 §5.5:
	 * the jump happens at the GETSTATUS): ABORT drops that too (DFU11 state diagram; ST-MW
	 * DFU_Abort accepts dfuMANIFEST-SYNC), so opening a session never starts the application. */
	uint8_t state = 0xFF;
	int r = dfu_get_state(d, &state);
	bool found_pending = false;
	if (r == 0 && state == dfuIDLE) {
		/* dfuIDLE carries status OK (only dfuERROR holds another): nothing more to ask */
		if (initial)
			*initial = (struct dfu_getstatus){DFU_STATUS_OK, 0, dfuIDLE, 0};
		d->last = (struct dfu_getstatus){DFU_STATUS_OK, 0, dfuIDLE, 0};
		return 0;
	}
	if (r == 0 && (state == dfuDNLOAD_SYNC || state == dfuDNLOAD_IDLE || state == dfuUPLOAD_IDLE ||
	               state == dfuMANIFEST_SYNC)) {
		log_debug("session start: found in %s, ABORT before anything else", dfu_state_name(state));
		if ((r = dfu_abort(d)) < 0)
			return err_prefix(&d->err, "session start: ABORT in %s", dfu_state_name(state));
		found_pending = true;
	} else if (r == STM32DFU_E_STALL) {
		/* a device that stalls GETSTATE is in dfuERROR now (DFU11 §6.1.2); the path below clears it */
		log_debug("session start: GETSTATE stalled");
	} else if (r < 0) {
		return err_prefix(&d->err, "session start");
	}
	r = dfu_get_status(d, &st);
	if (r == STM32DFU_E_STALL) {
		/* DFU11 §6.1.2 says a stalled request leaves dfuERROR, but ST-MW keeps the state: ask
		 * GETSTATE, and clear only in dfuERROR (a CLRSTATUS in dfuIDLE breaks a G4-class ROM's
		 * session, dfu-libusb #4; the C5 ROM STALLs it, betaflight PR #5348) */
		uint8_t now = 0xFF;
		if (dfu_get_state(d, &now) == 0 && now == dfuERROR && dfu_clr_status(d) < 0)
			return err_prefix(&d->err, "session start");
		r = dfu_get_status(d, &st);
	}
	if (r < 0)
		return err_prefix(&d->err, "session start");
	if (initial) {
		*initial = st;
		if (found_pending)
			initial->bState = state; /* the state it was found in, before the ABORT */
	}
	if (st.bState == dfuDNBUSY) {
		r = dfu_wait_status(d, d->limits.mass_erase_ms, &st);
		if (r < 0)
			return err_prefix(&d->err, "session start");
	}
	/* dfuERROR: CLRSTATUS; the H7 ROM may answer errUNKNOWN/dfuERROR to the first one and dfuIDLE
	 * to a second (betaflight PR #1861); a third try would only repeat that */
	for (int i = 0; i < 2 && st.bState == dfuERROR; i++) {
		log_debug("session start: %s in dfuERROR, CLRSTATUS", dfu_status_name(st.bStatus));
		r = dfu_clr_status(d);
		if (r < 0)
			return err_prefix(&d->err, "session start");
		r = dfu_get_status(d, &st);
		if (r < 0)
			return err_prefix(&d->err, "session start");
	}
	switch (st.bState) {
	case dfuIDLE:
		return 0;
	case dfuDNLOAD_IDLE:
	case dfuUPLOAD_IDLE:
	case dfuDNLOAD_SYNC:
	case dfuMANIFEST_SYNC:
		r = dfu_abort_to_idle(d);
		return r < 0 ? err_prefix(&d->err, "session start") : 0;
	case dfuERROR:
		dfu_status_error(d, &st, "CLRSTATUS");
		return err_prefix(&d->err, "session start");
	case appIDLE:
	case appDETACH:
		return err_set(&d->err, STM32DFU_E_UNSUPPORTED, "session start: the device is in run-time mode (%s)",
		               dfu_state_name(st.bState));
	default:
		err_set(&d->err, STM32DFU_E_PROTOCOL, "session start: device in %s", dfu_state_name(st.bState));
		err_hint(&d->err, "reset the chip (it is leaving DFU or wedged)");
		return STM32DFU_E_PROTOCOL;
	}
}

int dfu_set_alt(struct dfu_dev *d, uint8_t alt)
{
	int r = settle(d);
	if (r < 0)
		return r;
	r = tp_set_alt(d->tp, d->interface, alt);
	if (r < 0) {
		d->err = d->tp->err;
		return err_prefix(&d->err, "SET_INTERFACE alt %u", alt);
	}
	d->alt = alt;
	return 0;
}

_Static_assert(LAYOUT_MAP_MAX >= DFU_MAX_ALTS, "the map holds every alt setting the descriptor parser keeps");

int dfu_open(struct tp *tp, struct dfu_dev **out, struct err *e)
{
	*out = NULL;
	struct dfu_dev *d = calloc(1, sizeof *d);
	if (!d)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	d->tp = tp;
	d->alt = -1;
	dfu_limits_default(&d->limits);
	err_clear(&d->err);
	int r = dfu_desc_parse(tp->info.desc, tp->info.desc_len, &d->desc, e);
	if (r < 0) {
		free(d);
		return err_prefix(e, "descriptors");
	}
	d->interface = d->desc.alts[0].bInterfaceNumber;
	if (d->desc.have_func && d->desc.func.wTransferSize) {
		d->transfer_size = d->desc.func.wTransferSize;
	} else {
		/* no functional descriptor: the ST ROMs' value (AN3156 §4.1 allows up to 2048) */
		d->transfer_size = 2048;
		log_warn("no DFU functional descriptor; assuming wTransferSize %u", d->transfer_size);
	}
	/* fwupd dfu.quirk forces DfuSe for the ST ROM whatever bcdDFUVersion says */
	d->dfuse = (d->desc.have_func && d->desc.func.bcdDFUVersion == DFU_VERSION_DFUSE) ||
	           (tp->info.vid == STM32_ROM_VID && tp->info.pid == STM32_ROM_PID);
	for (unsigned i = 0; i < d->desc.n_alts; i++) {
		const struct dfu_alt_desc *ad = &d->desc.alts[i];
		if (ad->bInterfaceNumber != d->interface)
			continue;
		struct layout_mem *a = &d->map.mem[d->map.n++];
		a->alt = ad->bAlternateSetting;
		a->iInterface = ad->iInterface;
		if (tp_get_string(tp, ad->iInterface, a->name, sizeof a->name) < 0) {
			d->err = tp->err;
			r = err_prefix(&d->err, "alt %u name", a->alt);
			if (e)
				*e = d->err;
			free(d);
			return r;
		}
		if (tp->string_got < tp->string_announced) {
			/* the F42x ROM announces 166 bytes and sends 112 (community.st.com thread 27098):
			 * the memory map ends early, and nothing past it can be trusted to exist or not */
			a->name_cut = true;
			log_warn("alt %u: the device sent %u of the %u bytes of its name (a ROM bug seen on STM32F42x/F43x); "
			         "the memory map it gives is cut short: \"%s\"",
			         a->alt, tp->string_got, tp->string_announced, a->name);
		}
		if (a->name[0] == '@') {
			struct err le;
			err_clear(&le);
			a->have_layout = layout_parse(a->name, strlen(a->name), &a->layout, &le) == 0;
			if (!a->have_layout)
				{
				size_t k = strnlen(le.msg, sizeof a->layout_error - 1);
				memcpy(a->layout_error, le.msg, k);
				a->layout_error[k] = '\0';
			}
		}
	}
	*out = d;
	return 0;
}

void dfu_free(struct dfu_dev *d)
{
	free(d);
}
