/* The libusb-1.0 transport (see tp_libusb.h). */
#include "usb/tp_libusb.h"

#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

struct lu {
	libusb_context *ctx;
	libusb_device_handle *h;
	int claimed; /* interface number, or -1 */
	bool gone;   /* a transfer said LIBUSB_ERROR_NO_DEVICE: libusb 1.0.26 (Debian 12) must not be asked to
	              * set an alt on it: it unlocks the handle's lock it never took, and libusb_close then
	              * aborts on an assertion (libusb#1199, fixed in 1.0.27) */
};

int tp_libusb_map_error(int e)
{
	switch (e) {
	case LIBUSB_ERROR_PIPE: return STM32DFU_E_STALL;
	case LIBUSB_ERROR_TIMEOUT: return STM32DFU_E_TIMEOUT;
	case LIBUSB_ERROR_NO_DEVICE: return STM32DFU_E_DISCONNECTED;
	case LIBUSB_ERROR_ACCESS: return STM32DFU_E_ACCESS;
	case LIBUSB_ERROR_NOT_FOUND: return STM32DFU_E_NO_DEVICE;
	case LIBUSB_ERROR_NO_MEM: return STM32DFU_E_NO_MEMORY;
	case LIBUSB_ERROR_NOT_SUPPORTED: return STM32DFU_E_UNSUPPORTED;
	case LIBUSB_ERROR_BUSY: return STM32DFU_E_ACCESS;
	default: return STM32DFU_E_USB_IO;
	}
}

bool tp_libusb_refusal(int libusb_error, enum tp_refusal *why)
{
	switch (libusb_error) {
	case LIBUSB_ERROR_ACCESS: *why = TP_REFUSED_ACCESS; return true;
	/* Windows: libusb opens only what WinUSB, libusbK or libusb0 serves; any other driver gives
	 * this at open ("unsupported API call for 'open' (unrecognized device driver)") */
	case LIBUSB_ERROR_NOT_SUPPORTED: *why = TP_REFUSED_DRIVER; return true;
	case LIBUSB_ERROR_BUSY: *why = TP_REFUSED_BUSY; return true;
	default: return false;
	}
}

/* An open or claim that failed: a refusal names the fix; anything else keeps libusb's word. */
static int open_failed(struct err *e, int r, const char *context)
{
	enum tp_refusal why;
	if (tp_libusb_refusal(r, &why))
		return tp_refused(e, why, context, libusb_error_name(r));
	return err_set(e, tp_libusb_map_error(r), "%s: %s", context, libusb_error_name(r));
}

void tp_format_path(uint8_t bus, const uint8_t *ports, int n_ports, char *buf, size_t cap)
{
	int k = snprintf(buf, cap, "%u-", bus);
	for (int i = 0; i < n_ports && k > 0 && (size_t)k < cap; i++)
		k += snprintf(buf + k, cap - (size_t)k, i ? ".%u" : "%u", ports[i]);
}

int tp_path_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
			char *ea, *eb;
			unsigned long x = strtoul(a, &ea, 10), y = strtoul(b, &eb, 10);
			if (x != y)
				return x < y ? -1 : 1;
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int lu_control(struct tp *tp, const struct usb_setup *s, uint8_t *data, unsigned timeout_ms)
{
	struct lu *u = tp->impl;
	if (!u->h) /* a failed reopen left no handle: the device is gone, not a crash */
		return err_set(&tp->err, STM32DFU_E_DISCONNECTED, "the device is gone (it did not come back)");
	int r = libusb_control_transfer(u->h, s->bmRequestType, s->bRequest, s->wValue, s->wIndex, data, s->wLength,
	                                timeout_ms);
	if (r < 0) {
		u->gone |= r == LIBUSB_ERROR_NO_DEVICE;
		return err_set(&tp->err, tp_libusb_map_error(r), "control %02x/%02x: %s", s->bmRequestType, s->bRequest,
		               libusb_error_name(r));
	}
	return r;
}

static int lu_set_alt(struct tp *tp, uint8_t interface, uint8_t alt)
{
	struct lu *u = tp->impl;
	if (!u->h || u->gone) /* a failed reopen left no handle, or a transfer saw it leave */
		return err_set(&tp->err, STM32DFU_E_DISCONNECTED, "the device is gone (it did not come back)");
	int r = libusb_set_interface_alt_setting(u->h, interface, alt);
	if (r < 0)
		return err_set(&tp->err, tp_libusb_map_error(r), "set alt %u: %s", alt, libusb_error_name(r));
	return 0;
}

static int lu_reset(struct tp *tp)
{
	struct lu *u = tp->impl;
	if (!u->h) /* a failed reopen left no handle: the device is gone, not a crash */
		return err_set(&tp->err, STM32DFU_E_DISCONNECTED, "the device is gone (it did not come back)");
	int r = libusb_reset_device(u->h);
	/* NOT_FOUND means the device re-enumerated: the caller must reopen */
	if (r < 0 && r != LIBUSB_ERROR_NOT_FOUND)
		return err_set(&tp->err, tp_libusb_map_error(r), "reset: %s", libusb_error_name(r));
	return 0;
}

static void lu_release(struct lu *u)
{
	if (u->h) {
		if (u->claimed >= 0)
			libusb_release_interface(u->h, u->claimed);
		libusb_close(u->h);
	}
	u->h = NULL;
	u->claimed = -1;
	u->gone = false;
}

static void lu_close(struct tp *tp)
{
	struct lu *u = tp->impl;
	lu_release(u);
	if (u->ctx)
		libusb_exit(u->ctx);
	free(u);
	tp_free(tp);
}

/* The DFU interface number of a device, or -1 (class 0xFE subclass 1, DFU11 §4.2.1). */
static int dfu_interface_of(libusb_device *dev)
{
	struct libusb_config_descriptor *cfg;
	if (libusb_get_active_config_descriptor(dev, &cfg) != 0 && libusb_get_config_descriptor(dev, 0, &cfg) != 0)
		return -1;
	int found = -1;
	for (int i = 0; i < cfg->bNumInterfaces && found < 0; i++)
		for (int a = 0; a < cfg->interface[i].num_altsetting; a++) {
			const struct libusb_interface_descriptor *d = &cfg->interface[i].altsetting[a];
			if (d->bInterfaceClass == 0xFE && d->bInterfaceSubClass == 0x01) {
				found = d->bInterfaceNumber;
				break;
			}
		}
	libusb_free_config_descriptor(cfg);
	return found;
}

/* Appends n bytes to the descriptor buffer; false when it would not fit. */
static bool put(struct tp_info *in, const uint8_t *b, size_t n)
{
	if (n > TP_DESC_MAX - in->desc_len)
		return false;
	if (n == 0)
		return true; /* libusb gives extra == NULL when there are none: memcpy must not see it */
	memcpy(in->desc + in->desc_len, b, n);
	in->desc_len += n;
	return true;
}

/*
 * The device and configuration descriptors as the OS cached them at enumeration (libusb reads
 * them without a control transfer), rebuilt in wire order: configuration, its extra descriptors,
 * then each interface setting followed by its extra descriptors (the DFU functional descriptor)
 * and its endpoints (USB 2.0 9.6). A copy whose length differs from wTotalLength is not used:
 * the caller reads the descriptors from the device instead.
 */
static bool cached_descriptors(libusb_device *dev, struct tp_info *in)
{
	struct libusb_device_descriptor dd;
	struct libusb_config_descriptor *cfg;
	if (libusb_get_device_descriptor(dev, &dd) != 0)
		return false;
	if (libusb_get_active_config_descriptor(dev, &cfg) != 0 && libusb_get_config_descriptor(dev, 0, &cfg) != 0)
		return false;
	in->desc_len = 0;
	const uint8_t dev_desc[18] = {18, 0x01, (uint8_t)dd.bcdUSB, (uint8_t)(dd.bcdUSB >> 8), dd.bDeviceClass,
	                              dd.bDeviceSubClass, dd.bDeviceProtocol, dd.bMaxPacketSize0, (uint8_t)dd.idVendor,
	                              (uint8_t)(dd.idVendor >> 8), (uint8_t)dd.idProduct, (uint8_t)(dd.idProduct >> 8),
	                              (uint8_t)dd.bcdDevice, (uint8_t)(dd.bcdDevice >> 8), dd.iManufacturer, dd.iProduct,
	                              dd.iSerialNumber, dd.bNumConfigurations};
	const uint8_t cfg_desc[9] = {9, 0x02, (uint8_t)cfg->wTotalLength, (uint8_t)(cfg->wTotalLength >> 8),
	                             cfg->bNumInterfaces, cfg->bConfigurationValue, cfg->iConfiguration,
	                             cfg->bmAttributes, cfg->MaxPower};
	bool ok = put(in, dev_desc, 18) && put(in, cfg_desc, 9) && put(in, cfg->extra, (size_t)cfg->extra_length);
	for (int i = 0; ok && i < cfg->bNumInterfaces; i++)
		for (int a = 0; ok && a < cfg->interface[i].num_altsetting; a++) {
			const struct libusb_interface_descriptor *d = &cfg->interface[i].altsetting[a];
			const uint8_t id[9] = {9, 0x04, d->bInterfaceNumber, d->bAlternateSetting, d->bNumEndpoints,
			                       d->bInterfaceClass, d->bInterfaceSubClass, d->bInterfaceProtocol, d->iInterface};
			ok = put(in, id, 9) && put(in, d->extra, (size_t)d->extra_length);
			for (int k = 0; ok && k < d->bNumEndpoints; k++) {
				const struct libusb_endpoint_descriptor *ep = &d->endpoint[k];
				const uint8_t ed[9] = {ep->bLength, 0x05, ep->bEndpointAddress, ep->bmAttributes,
				                       (uint8_t)ep->wMaxPacketSize, (uint8_t)(ep->wMaxPacketSize >> 8),
				                       ep->bInterval, ep->bRefresh, ep->bSynchAddress};
				ok = ep->bLength >= 7 && ep->bLength <= 9 && put(in, ed, ep->bLength) &&
				     put(in, ep->extra, (size_t)ep->extra_length);
			}
		}
	ok = ok && in->desc_len == 18u + cfg->wTotalLength;
	libusb_free_config_descriptor(cfg);
	if (!ok) {
		in->desc_len = 0;
		return false;
	}
	in->vid = dd.idVendor;
	in->pid = dd.idProduct;
	in->bcd_device = dd.bcdDevice;
	in->dfu_interface = tp_find_dfu_interface(in->desc + 18, in->desc_len - 18);
	return true;
}

static void fill_location(libusb_device *dev, struct tp_info *in)
{
	uint8_t ports[8];
	int n = libusb_get_port_numbers(dev, ports, (int)sizeof ports);
	in->busnum = libusb_get_bus_number(dev);
	in->devnum = libusb_get_device_address(dev);
	tp_format_path(in->busnum, ports, n > 0 ? n : 0, in->path, sizeof in->path);
}

static const struct tp_ops lu_ops;

static bool matches(const struct tp_match *m, const struct tp_info *in, bool strings_known)
{
	if (!m)
		return true;
	if ((m->have_vid && m->vid != in->vid) || (m->have_pid && m->pid != in->pid))
		return false;
	if (m->path && strcmp(m->path, in->path) != 0)
		return false;
	if (m->serial && strings_known && strcmp(m->serial, in->serial) != 0)
		return false;
	return true;
}

/* Walks ctx's devices with a DFU interface; for each match calls fn. Returns the number matched. */
typedef int (*visit_fn)(libusb_device *dev, struct tp_listed *entry, void *arg);
/* Devices that matched by ID and path but could not be opened to read their serial: with a
 * serial to match they are left out (they cannot be said to match it), and counted. */
struct visit_skipped {
	int n;
	int first_error; /* libusb's word for the first one */
	char what[160];
};
static int visit(libusb_context *ctx, const struct tp_match *m, visit_fn fn, void *arg, struct err *e,
                 struct visit_skipped *skipped, uint64_t deadline_us)
{
	libusb_device **list;
	ssize_t n = libusb_get_device_list(ctx, &list);
	if (n < 0)
		return err_set(e, tp_libusb_map_error((int)n), "listing USB devices: %s", libusb_error_name((int)n));
	int count = 0;
	for (ssize_t i = 0; i < n; i++) {
		struct libusb_device_descriptor dd;
		if (libusb_get_device_descriptor(list[i], &dd) != 0)
			continue;
		int iface = dfu_interface_of(list[i]);
		if (iface < 0)
			continue;
		struct tp_listed entry;
		memset(&entry, 0, sizeof entry);
		entry.info.vid = dd.idVendor;
		entry.info.pid = dd.idProduct;
		entry.info.bcd_device = dd.bcdDevice;
		entry.info.dfu_interface = iface;
		fill_location(list[i], &entry.info);
		if (!matches(m, &entry.info, false))
			continue;
		if (m && m->locations_only) {
			count++;
			if (fn && fn(list[i], &entry, arg) < 0)
				break;
			continue;
		}
		/* read the strings (and raw descriptors) through our own decoder */
		libusb_device_handle *h;
		int r = libusb_open(list[i], &h);
		if (r == 0) {
			struct lu u = {ctx, h, -1};
			struct tp tmp = {.ops = &lu_ops, .impl = &u, .clock = clock_real(), .deadline_us = deadline_us};
			tmp.info = entry.info;
			if (m) {
				tmp.first_answer_ms = m->first_answer_ms;
				tmp.on_held = m->on_held;
				tmp.held_ctx = m->held_ctx;
			}
			/* the OS's copy of the descriptors costs no transfer; only the strings are asked */
			if ((cached_descriptors(list[i], &tmp.info) ? tp_read_identity_strings(&tmp)
			                                             : tp_read_identity(&tmp)) == 0) {
				entry.info = tmp.info;
				entry.info.dfu_interface = iface;
				entry.identity_read = true;
			}
			entry.silent = tmp.first_answer_spent;
			entry.held_us = tmp.held_us;
			libusb_close(h);
		} else {
			entry.access_denied = true;
		}
		if (entry.access_denied && m && m->serial) {
			if (skipped) {
				size_t used = strlen(skipped->what);
				snprintf(skipped->what + used, sizeof skipped->what - used, "%s%s (%s)", used ? ", " : "",
				         entry.info.path, libusb_error_name(r));
				if (!skipped->n++)
					skipped->first_error = r;
			}
			continue;
		}
		if (!matches(m, &entry.info, !entry.access_denied))
			continue;
		count++;
		if (fn && fn(list[i], &entry, arg) < 0)
			break;
	}
	libusb_free_device_list(list, 1);
	return count;
}

struct collect {
	struct tp_listed *v;
	size_t n, cap;
	bool oom;
};

static int collect_fn(libusb_device *dev, struct tp_listed *entry, void *arg)
{
	(void)dev;
	struct collect *c = arg;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct tp_listed *v = realloc(c->v, cap * sizeof *v);
		if (!v) {
			c->oom = true;
			return -1;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = *entry;
	return 0;
}

int tp_libusb_list(const struct tp_match *m, struct tp_listed **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	libusb_context *ctx;
	int r = libusb_init(&ctx);
	if (r < 0)
		return err_set(e, tp_libusb_map_error(r), "libusb init: %s", libusb_error_name(r));
	struct collect c = {0};
	r = visit(ctx, m, collect_fn, &c, e, NULL, 0);
	libusb_exit(ctx);
	if (c.oom) {
		free(c.v);
		return err_set(e, STM32DFU_E_NO_MEMORY, "listing USB devices: out of memory");
	}
	if (r < 0) {
		free(c.v);
		return r;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

/* Opens dev into u and tp: claims the DFU interface (detaching a kernel driver if one is bound).
 * The identity is read unless the listing that found dev has just read it (have_identity): each
 * string costs a control transfer, and a read's whole budget is about 525 of them. */
static int open_dev(libusb_device *dev, struct tp *tp, bool have_identity, struct err *e)
{
	struct lu *u = tp->impl;
	int r = libusb_open(dev, &u->h);
	if (r < 0) {
		char context[64];
		snprintf(context, sizeof context, "opening %s", tp->info.path);
		return open_failed(e, r, context);
	}
	int iface = tp->info.dfu_interface >= 0 ? tp->info.dfu_interface : 0;
	libusb_set_auto_detach_kernel_driver(u->h, 1);
	r = libusb_claim_interface(u->h, iface);
	if (r < 0) {
		char context[80];
		snprintf(context, sizeof context, "claiming interface %d of %s", iface, tp->info.path);
		int code = open_failed(e, r, context);
		lu_release(u);
		return code;
	}
	u->claimed = iface;
	if (have_identity)
		return 0;
	int keep_iface = tp->info.dfu_interface;
	r = tp_read_identity(tp);
	tp->info.dfu_interface = keep_iface;
	if (r < 0) {
		if (e)
			*e = tp->err;
		lu_release(u);
		return r;
	}
	return 0;
}

struct pick {
	libusb_device *dev;
	struct tp_listed first;
	char names[256];
	size_t len;
};

static int pick_fn(libusb_device *dev, struct tp_listed *entry, void *arg)
{
	struct pick *p = arg;
	if (!p->dev) {
		p->dev = libusb_ref_device(dev);
		p->first = *entry;
	}
	if (p->len < sizeof p->names - 1) {
		int k = snprintf(p->names + p->len, sizeof p->names - p->len, "%s%04x:%04x at %s serial %s",
		                 p->len ? "; " : "", entry->info.vid, entry->info.pid, entry->info.path,
		                 entry->info.serial[0] ? entry->info.serial : "?");
		if (k > 0)
			p->len += (size_t)k;
	}
	return 0;
}

int tp_libusb_open(const struct tp_match *m, struct tp **out, struct err *e)
{
	*out = NULL;
	struct lu *u = calloc(1, sizeof *u);
	struct tp *tp = u ? tp_alloc(&lu_ops, u) : NULL;
	if (!tp) {
		free(u);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	u->claimed = -1;
	int r = libusb_init(&u->ctx);
	if (r < 0) {
		lu_close(tp);
		return err_set(e, tp_libusb_map_error(r), "libusb init: %s", libusb_error_name(r));
	}
	struct pick p = {0};
	struct visit_skipped skipped = {0};
	r = visit(u->ctx, m, pick_fn, &p, e, &skipped, 0);
	if (r <= 0 || r > 1) {
		if (p.dev)
			libusb_unref_device(p.dev);
		lu_close(tp);
		if (r == 0 && skipped.n) {
			r = err_set(e, STM32DFU_E_ACCESS,
			            "no DFU device that could be opened has serial %s; %d could not be opened to read theirs: %s",
			            m->serial, skipped.n, skipped.what);
			enum tp_refusal why;
			err_hint(e, "%s", tp_refusal_hint(tp_libusb_refusal(skipped.first_error, &why) ? why : TP_REFUSED_ACCESS));
		} else if (r == 0) {
			r = err_set(e, STM32DFU_E_NO_DEVICE, "no DFU device matches");
			err_hint(e, "is the chip in bootloader mode (BOOT0 high, then reset)? {@list} shows what is seen");
		} else if (r > 1) {
			r = err_set(e, STM32DFU_E_AMBIGUOUS, "%d DFU devices match: %s", r, p.names);
			err_hint(e, "pick one with {@sel-serial} or {@sel-path}");
		}
		return r;
	}
	if (p.first.silent) {
		/* a chip busy with flash work answers within the ceiling; this one did not answer at all */
		libusb_unref_device(p.dev);
		lu_close(tp);
		r = err_set(e, STM32DFU_E_TIMEOUT, "the device at %s answered nothing for %u s, longer than any flash "
		            "operation it could still be doing", p.first.info.path, m->first_answer_ms / 1000u);
		err_hint(e, "the bootloader is hung: power-cycle the board (reset with BOOT0 high)");
		return r;
	}
	tp->info = p.first.info;
	tp->held_us = p.first.held_us;
	tp->answered = p.first.identity_read;
	if (m) {
		tp->first_answer_ms = m->first_answer_ms;
		tp->on_held = m->on_held;
		tp->held_ctx = m->held_ctx;
	}
	r = open_dev(p.dev, tp, p.first.identity_read, e);
	libusb_unref_device(p.dev);
	if (r < 0) {
		lu_close(tp);
		return r;
	}
	*out = tp;
	return 0;
}

/* Whether the enumeration at bus/devnum is still listed (no open: it may be half gone). */
static bool still_listed(libusb_context *ctx, uint8_t bus, uint8_t devnum)
{
	libusb_device **list;
	ssize_t n = libusb_get_device_list(ctx, &list);
	if (n < 0)
		return false;
	bool found = false;
	for (ssize_t i = 0; i < n && !found; i++)
		found = libusb_get_bus_number(list[i]) == bus && libusb_get_device_address(list[i]) == devnum;
	libusb_free_device_list(list, 1);
	return found;
}

/* After a re-enumeration the device comes back at the same port path (and, for a ROM, the same
 * VID:PID) with a new device number: first wait for the old enumeration to leave the bus (a chip
 * that has not reset yet is still listed, and must not be mistaken for its return), then poll for
 * the new one every 100 ms, all within timeout_ms. TIMEOUT when the old one never went away,
 * DISCONNECTED when nothing came back. */
static int lu_reopen(struct tp *tp, unsigned timeout_ms)
{
	struct lu *u = tp->impl;
	lu_release(u);
	char path[sizeof tp->info.path];
	memcpy(path, tp->info.path, sizeof path);
	const uint8_t bus = tp->info.busnum, old = tp->info.devnum;
	struct tp_match m = {.path = path};
	uint64_t deadline = clock_now_us(tp->clock) + (uint64_t)timeout_ms * 1000u;
	int last = 0;
	struct err last_err;
	err_clear(&last_err);
	bool left = false;
	for (;;) {
		if (!left)
			left = !still_listed(u->ctx, bus, old);
		if (left) {
			struct pick p = {0};
			struct err e;
			err_clear(&e);
			/* the deadline bounds each attempt too: a device that enumerated but does not answer
			 * its descriptor requests must not hold every attempt for the full transfer timeouts */
			int r = visit(u->ctx, &m, pick_fn, &p, &e, NULL, deadline);
			if (r == 1) {
				tp->info = p.first.info;
				tp->deadline_us = deadline;
				r = open_dev(p.dev, tp, p.first.identity_read, &tp->err);
				tp->deadline_us = 0;
				libusb_unref_device(p.dev);
				/* ACCESS is retried: udev applies the permissions some time after the device appears */
				if (r == 0)
					return 0;
				last = r;
				last_err = tp->err;
			} else if (p.dev) {
				libusb_unref_device(p.dev);
			}
		}
		if (clock_now_us(tp->clock) >= deadline) {
			if (!left)
				return err_set(&tp->err, STM32DFU_E_TIMEOUT,
				               "the device at %s (device number %u) is still on the bus after %u ms", path,
				               old, timeout_ms);
			if (last == STM32DFU_E_ACCESS) {
				tp->err = last_err;
				return err_prefix(&tp->err, "device at %s came back but stayed refused for %u ms", path, timeout_ms);
			}
			return err_set(&tp->err, STM32DFU_E_DISCONNECTED, "device at %s did not come back within %u ms",
			               path, timeout_ms);
		}
		clock_sleep_us(tp->clock, left ? 100000 : 20000);
	}
}

static const struct tp_ops lu_ops = {
	.name = "libusb",
	.control = lu_control,
	.set_alt = lu_set_alt,
	.reset = lu_reset,
	.reopen = lu_reopen,
	.close = lu_close,
};
