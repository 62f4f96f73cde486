/* The in-process emulator transport (see tp_sim.h). */
#include "usb/tp_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "sim/sim.h"
#include "usb/tp_trace.h"

struct tsim {
	struct sim_profile *profile;
	struct sim_device *dev;
	char state_path[1024]; /* empty: not persisted */
};

static int map_result(struct tp *tp, enum sim_result r, const struct usb_setup *s, unsigned timeout_ms)
{
	switch (r) {
	case SIM_STALL:
		return err_set(&tp->err, STM32DFU_E_STALL, "control %02x/%02x: stall", s->bmRequestType, s->bRequest);
	case SIM_NO_ANSWER:
		/* a real host waits out the timeout before giving up; so do we, on the device clock */
		clock_sleep_us(tp->clock, (uint64_t)timeout_ms * 1000u);
		return err_set(&tp->err, STM32DFU_E_TIMEOUT, "control %02x/%02x: timeout after %u ms", s->bmRequestType,
		               s->bRequest, timeout_ms);
	case SIM_IO_ERROR:
		return err_set(&tp->err, STM32DFU_E_USB_IO, "control %02x/%02x: protocol error (garbled packet)",
		               s->bmRequestType, s->bRequest);
	case SIM_DISCONNECTED:
		return err_set(&tp->err, STM32DFU_E_DISCONNECTED, "control %02x/%02x: device disconnected",
		               s->bmRequestType, s->bRequest);
	default:
		return err_set(&tp->err, STM32DFU_E_USB_IO, "control %02x/%02x: sim result %d", s->bmRequestType,
		               s->bRequest, (int)r);
	}
}

static int sim_tp_control(struct tp *tp, const struct usb_setup *s, uint8_t *data, unsigned timeout_ms)
{
	struct tsim *t = tp->impl;
	uint16_t actual = 0;
	enum sim_result r = sim_control(t->dev, s, data, &actual);
	/* the answer arrives after the transfer's bus time, and after the device held the request
	 * (busy_reply = hold): the same clock the virtual-USB path delivers by; a host that gives up
	 * first sees a timeout, as on a chip */
	if (r != SIM_NO_ANSWER && r != SIM_DISCONNECTED) {
		uint64_t now = clock_now_us(tp->clock), at = sim_answer_at_us(t->dev);
		if (at > now) {
			if (at - now > (uint64_t)timeout_ms * 1000u)
				r = SIM_NO_ANSWER; /* map_result waits the timeout out */
			else
				clock_sleep_us(tp->clock, at - now);
		}
	}
	if (r != SIM_OK)
		return map_result(tp, r, s, timeout_ms);
	if (s->bmRequestType & USB_DIR_IN)
		return actual <= s->wLength ? actual : s->wLength;
	return s->wLength;
}

static int sim_tp_set_alt(struct tp *tp, uint8_t interface, uint8_t alt)
{
	struct tsim *t = tp->impl;
	struct usb_setup s = {USB_RT_STD_OUT_INTERFACE, USB_REQ_SET_INTERFACE, alt, interface, 0};
	uint16_t actual = 0;
	enum sim_result r = sim_control(t->dev, &s, NULL, &actual);
	/* held like any request while a flash operation runs (busy_reply = hold); the OS gives up
	 * after its own 5 s (Linux USB_CTRL_SET_TIMEOUT), as the virtual-USB path does */
	if (r == SIM_OK) {
		uint64_t now = clock_now_us(tp->clock), at = sim_answer_at_us(t->dev);
		if (at > now && at - now > (uint64_t)TP_TIMEOUT_DEFAULT_MS * 1000u)
			r = SIM_NO_ANSWER;
		else if (at > now)
			clock_sleep_us(tp->clock, at - now);
	}
	return r == SIM_OK ? 0 : map_result(tp, r, &s, TP_TIMEOUT_DEFAULT_MS);
}

/* Waits (on the device clock) for a resetting device to come back, then re-reads its identity. */
static int sim_tp_reopen(struct tp *tp, unsigned timeout_ms)
{
	struct tsim *t = tp->impl;
	enum sim_link link = sim_link_state(t->dev);
	if (link == SIM_LINK_GONE)
		return err_set(&tp->err, STM32DFU_E_DISCONNECTED, "the device left (it does not come back)");
	if (link == SIM_LINK_RESETTING) {
		uint64_t now = clock_now_us(tp->clock), at = sim_reconnect_at_us(t->dev);
		if (at > now) {
			if (at - now > (uint64_t)timeout_ms * 1000u) {
				clock_sleep_us(tp->clock, (uint64_t)timeout_ms * 1000u);
				return err_set(&tp->err, STM32DFU_E_DISCONNECTED, "device did not come back within %u ms",
				               timeout_ms);
			}
			clock_sleep_us(tp->clock, at - now);
		}
		if (!sim_reconnect(t->dev))
			return err_set(&tp->err, STM32DFU_E_DISCONNECTED, "the device did not re-enumerate");
	}
	int keep = tp->info.dfu_interface;
	int r = tp_read_identity(tp);
	if (tp->info.dfu_interface < 0)
		tp->info.dfu_interface = keep;
	return r;
}

static void sim_tp_close(struct tp *tp)
{
	struct tsim *t = tp->impl;
	if (t->state_path[0] && t->dev) {
		char eb[256];
		/* nothing can report this failure any more; the next session would start fresh */
		(void)sim_state_save(t->dev, t->state_path, eb, sizeof eb);
	}
	if (t->dev)
		sim_device_free(t->dev);
	if (t->profile)
		sim_profile_free(t->profile);
	free(t);
	tp_free(tp);
}

static const struct tp_ops sim_tp_ops = {
	.name = "sim",
	.control = sim_tp_control,
	.set_alt = sim_tp_set_alt,
	.reset = NULL,
	.reopen = sim_tp_reopen,
	.close = sim_tp_close,
};

/* Splits a "state=FILE" key out of spec (the profile loader does not know it). */
static void split_state(const char *spec, char *rest, size_t rest_cap, char *state, size_t state_cap)
{
	size_t k = 0;
	state[0] = '\0';
	const char *p = spec;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (p != spec && len > 6 && strncmp(p, "state=", 6) == 0) {
			size_t sl = len - 6 < state_cap - 1 ? len - 6 : state_cap - 1;
			memcpy(state, p + 6, sl);
			state[sl] = '\0';
		} else if (k + len + 2 < rest_cap) {
			if (k)
				rest[k++] = ',';
			memcpy(rest + k, p, len);
			k += len;
		}
		p = end ? end + 1 : p + len;
	}
	rest[k] = '\0';
}

int tp_sim_open(const char *spec, const struct tp_sim_opts *opts, struct tp **out, struct err *e)
{
	*out = NULL;
	struct tp_sim_opts o = {0};
	if (opts)
		o = *opts;
	struct tsim *t = calloc(1, sizeof *t);
	struct tp *tp = t ? tp_alloc(&sim_tp_ops, t) : NULL;
	if (!tp) {
		free(t);
		return err_set(e, STM32DFU_E_NO_MEMORY, "sim: out of memory");
	}
	if (o.clock)
		tp->clock = o.clock;
	char rest[512], state[sizeof t->state_path], eb[256];
	split_state(spec, rest, sizeof rest, state, sizeof state);
	t->profile = sim_profile_load(rest, o.profile_dir, eb, sizeof eb);
	if (!t->profile) {
		sim_tp_close(tp);
		return err_set(e, STM32DFU_E_USAGE, "sim profile: %s", eb);
	}
	t->dev = sim_device_new(t->profile, tp->clock, eb, sizeof eb);
	if (!t->dev) {
		sim_tp_close(tp);
		return err_set(e, STM32DFU_E_USAGE, "sim device: %s", eb);
	}
	if (state[0])
		memcpy(t->state_path, state, sizeof state);
	else if (o.persist && sim_state_default_path(t->profile, t->state_path, sizeof t->state_path)) {
		char dir[sizeof t->state_path];
		int rc = file_state_dir("sim", dir, sizeof dir, e); /* apart from real chips' (ops/recdir.h) */
		if (rc < 0) {
			t->state_path[0] = '\0';
			sim_tp_close(tp);
			if (e)
				err_prefix(e, "sim state");
			return rc;
		}
	} else {
		t->state_path[0] = '\0';
	}
	if (t->state_path[0] && sim_state_load(t->dev, t->state_path, eb, sizeof eb) != 0) {
		t->state_path[0] = '\0'; /* do not overwrite a file we could not read */
		sim_tp_close(tp);
		return err_set(e, STM32DFU_E_FILE_FORMAT, "sim state: %s", eb);
	}
	if (sim_link_state(t->dev) == SIM_LINK_GONE) {
		/* what a real chip at level 2 shows: nothing on the bus */
		err_set(e, STM32DFU_E_NO_DEVICE, "sim: the emulated chip does not enumerate: its option bytes (state %s) "
		        "hold RDP level 2, which disables the bootloader for good", t->state_path);
		sim_tp_close(tp);
		return STM32DFU_E_NO_DEVICE;
	}
	snprintf(tp->info.path, sizeof tp->info.path, "sim");
	/* a host fault, not the chip's: the OS refusing us the device before any transfer, worded by
	 * the same tp_refused as a real refusal (tests of the message and exit code on each platform) */
	const char *refused = sim_profile_get(t->profile, "open_refused");
	if (refused) {
		enum tp_refusal why;
		int r = tp_refusal_parse(refused, &why) < 0
		            ? err_set(e, STM32DFU_E_USAGE, "sim profile: open_refused=%s: must be access, driver or busy",
		                      refused)
		            : tp_refused(e, why, "opening sim", "open_refused in the --sim spec");
		t->state_path[0] = '\0'; /* the chip was never reached: its state is not written either */
		sim_tp_close(tp);
		return r;
	}
	int r = tp_read_identity(tp);
	if (r < 0) {
		if (e)
			*e = tp->err;
		sim_tp_close(tp);
		return r;
	}
	*out = tp;
	return 0;
}

struct sim_device *tp_sim_device(struct tp *tp)
{
	while (tp && tp_is_trace(tp))
		tp = tp_trace_inner(tp);
	if (!tp || tp->ops != &sim_tp_ops)
		return NULL;
	return ((struct tsim *)tp->impl)->dev;
}

const char *tp_sim_state_path(struct tp *tp)
{
	while (tp && tp_is_trace(tp))
		tp = tp_trace_inner(tp);
	if (!tp || tp->ops != &sim_tp_ops)
		return NULL;
	return ((struct tsim *)tp->impl)->state_path;
}

void tp_sim_profile_names(const char *profile_dir, void (*fn)(const char *name, void *ctx), void *ctx)
{
	sim_profile_names(profile_dir, fn, ctx);
}
