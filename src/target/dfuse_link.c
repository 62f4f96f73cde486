/* The DfuSe link below the memory operations (dfuse_link.h). */
#include "target/dfuse_link.h"

#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "chip/chip.h"
#include "dfu/dfuse.h"
#include "target/target.h"
#include "usb/tp_trace.h"

/* usb/'s match from target/'s terms. */
static struct tp_match usb_match(const struct target_usb_match *m, const struct target_usb_wait *w, bool locations_only)
{
	struct tp_match tm = {.have_vid = m->have_vid, .have_pid = m->have_pid, .vid = m->vid, .pid = m->pid,
	                      .path = m->path, .locations_only = locations_only};
	if (w) {
		tm.first_answer_ms = w->first_answer_ms;
		tm.on_held = w->on_held;
		tm.held_ctx = w->held_ctx;
	}
	return tm;
}

int target_usb_find(const struct target_usb_want *w, const struct chip_selector *sel, struct tp **out,
                    struct err *e)
{
	if (w->open_tp)
		return w->open_tp(w->open_tp_ctx, out, e);
	if (w->sim_spec)
		return tp_sim_open(w->sim_spec, &w->sim, out, e);
	struct tp_match m = usb_match(&w->match, &w->wait, false);
	if (sel && sel->kind == CHIP_SEL_USB_SERIAL)
		m.serial = sel->serial;
	if (!sel || sel->kind == CHIP_SEL_USB_SERIAL)
		return tp_libusb_open(&m, out, e);
	/* a UID: open each candidate and ask the chip itself */
	struct tp_listed *list = NULL;
	size_t n = 0;
	int rc = tp_libusb_list(&m, &list, &n, e);
	if (rc < 0)
		return rc;
	/* a device that cannot be asked is not proof that no device has the UID: say so */
	struct err unasked;
	err_clear(&unasked);
	unsigned n_unasked = 0;
	for (size_t i = 0; i < n; i++) {
		struct tp_match one = m;
		one.path = list[i].info.path;
		struct tp *tp = NULL;
		struct err oe;
		err_clear(&oe);
		if (tp_libusb_open(&one, &tp, &oe) < 0) {
			n_unasked++;
			unasked = oe;
			err_prefix(&unasked, "%s", one.path);
			continue;
		}
		struct dfu_dev *d = NULL;
		bool match = false, asked = false;
		if (dfu_open(tp, &d, &oe) == 0 && dfu_session_start(d, NULL) == 0) {
			struct chip_evidence ev = {.has_vid = true, .vid = tp->info.vid};
			for (unsigned a = 0; a < d->map.n && a < CHIP_MAX_ALTS; a++)
				ev.alt_names[ev.n_alts++] = d->map.mem[a].name;
			struct chip_identity ci;
			chip_identify(&ev, &ci);
			uint8_t uid[12];
			if (ci.family && dfu_set_alt(d, 0) == 0 && dfuse_read(d, ci.family->uid_addr, uid, sizeof uid) == 0) {
				match = chip_selector_matches(sel, NULL, uid);
				asked = true;
			} else if (!ci.family) {
				asked = true; /* not a chip we know: it has no UID to match */
			} else {
				oe = d->err;
			}
		} else if (d) {
			oe = d->err;
		}
		if (!asked) {
			n_unasked++;
			unasked = oe;
			err_prefix(&unasked, "%s", one.path);
		}
		dfu_free(d);
		if (match) {
			free(list);
			*out = tp;
			return 0;
		}
		tp_close(tp);
	}
	free(list);
	if (n_unasked) {
		int code = unasked.code ? unasked.code : STM32DFU_E_USB_IO;
		err_set(e, code, "no DFU device answered with the UID given with -S; %u of %zu could not be asked (%s)",
		        n_unasked, n, unasked.msg);
		err_hint(e, "{@list} shows each device's UID and why one cannot be opened");
		return code;
	}
	err_set(e, STM32DFU_E_NO_DEVICE, "no DFU device has the UID given with -S");
	err_hint(e, "{@list} shows each device's UID");
	return STM32DFU_E_NO_DEVICE;
}

int target_usb_traced(struct tp *raw, struct tp **out, struct err *e)
{
	*out = tp_trace_wrap(raw);
	if (!*out) {
		tp_close(raw);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	return 0;
}

int target_usb_trace_file(struct tp *traced, const char *path)
{
	return tp_trace_set_file(traced, path);
}

void target_usb_close(struct tp *tp)
{
	if (tp)
		tp_close(tp);
}

int target_usb_list(const struct target_usb_match *m, const struct target_usb_wait *w, bool locations_only,
                    struct tp_listed **out, size_t *n, struct err *e)
{
	struct tp_match tm = usb_match(m, w, locations_only);
	return tp_libusb_list(&tm, out, n, e);
}

int target_usb_path_cmp(const char *a, const char *b)
{
	return tp_path_cmp(a, b);
}

int target_usb_watch_new(struct tp_watch **out, bool *hotplug, struct err *e)
{
	return tp_watch_new(out, hotplug, e);
}

bool target_usb_watch_wait(struct tp_watch *w, unsigned max_ms)
{
	return tp_watch_wait(w, max_ms);
}

bool target_usb_watch_left(struct tp_watch *w, char path[32], unsigned *devnum)
{
	return tp_watch_take_left(w, path, devnum);
}

void target_usb_watch_free(struct tp_watch *w)
{
	tp_watch_free(w);
}

size_t target_usb_requests(struct tp *tp)
{
	return tp && tp_is_trace(tp) ? tp_trace_count(tp, TP_REQ_ANY) : 0;
}

struct sim_device *target_usb_sim_device(struct tp *tp)
{
	return tp_sim_device(tp);
}

const char *target_usb_sim_state(struct tp *tp)
{
	return tp_sim_state_path(tp);
}

int target_dfuse_start(struct tp *tp, bool poll_spec, struct dfu_dev **d, struct target_dfuse_found *found,
                       struct err *e)
{
	struct dfu_getstatus st = {0};
	int rc = dfu_open(tp, d, e);
	if (rc == 0) {
		(*d)->poll_mode = (*d)->poll_asked = poll_spec ? DFU_POLL_SPEC : DFU_POLL_AUTO;
		rc = dfu_session_start(*d, &st);
		if (rc < 0 && e && (*d)->err.code)
			*e = (*d)->err;
	}
	*found = (struct target_dfuse_found){st.bState, st.bStatus, st.bState == dfuERROR};
	return rc;
}

bool target_dfuse_poll_wait_all(struct dfu_dev *d)
{
	if (d->poll_mode != DFU_POLL_AUTO)
		return false;
	d->poll_mode = DFU_POLL_SPEC;
	d->poll_fallback = "family";
	return true;
}

void target_dfuse_describe(const struct dfu_dev *d, uint16_t *dfu_version, unsigned *alts_dropped)
{
	*dfu_version = d->desc.have_func ? d->desc.func.bcdDFUVersion : 0;
	*alts_dropped = d->desc.n_alts_dropped;
}

void target_dfuse_end(struct dfu_dev *d, bool send_abort)
{
	if (d && send_abort && d->abort_due)
		dfu_abort(d); /* leave the device in dfuIDLE; a failure here changes nothing done */
	dfu_free(d);
}

_Static_assert(TARGET_STRING_MAX == TP_STRING_MAX &&
                   sizeof ((struct tp_info *)0)->path == sizeof ((struct target_link *)0)->path,
               "the link record holds the device's strings and path whole");

void target_usb_link(const struct tp_info *in, struct target_link *out)
{
	memset(out, 0, sizeof *out);
	out->kind = TARGET_DFUSE;
	out->vid = in->vid;
	out->pid = in->pid;
	out->bcd_device = in->bcd_device;
	out->busnum = in->busnum;
	out->devnum = in->devnum;
	memcpy(out->path, in->path, sizeof out->path);
	memcpy(out->manufacturer, in->manufacturer, sizeof out->manufacturer);
	memcpy(out->product, in->product, sizeof out->product);
	memcpy(out->serial, in->serial, sizeof out->serial);
	out->dfu_interface = in->dfu_interface;
}

struct layout_map *target_dfuse_map(struct dfu_dev *d)
{
	return &d->map;
}

const char *target_dfuse_status_name(uint8_t status)
{
	return dfu_status_name(status);
}

unsigned target_dfuse_mass_erase_ms(void)
{
	struct dfu_limits l;
	dfu_limits_default(&l);
	return l.mass_erase_ms;
}

int target_dfuse_link_ready(struct dfu_dev *d, int alt, uint32_t addr)
{
	if (alt >= 0 && d->alt != alt)
		dfu_set_alt(d, (uint8_t)alt); /* a failure shows in what follows */
	if (dfu_session_start(d, NULL) < 0)
		return -1;
	if (dfuse_set_address(d, addr) < 0 || dfu_abort_to_idle(d) < 0)
		return -1;
	return 0;
}

int target_dfuse_link_upload(struct dfu_dev *d, uint8_t *buf, uint16_t n)
{
	return dfu_upload(d, DFUSE_FIRST_DATA_BLOCK, buf, n);
}

void target_dfuse_link_done(struct dfu_dev *d)
{
	dfu_session_start(d, NULL);
}
