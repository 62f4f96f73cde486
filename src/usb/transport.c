/* Transport helpers shared by every implementation: strings, descriptors, allocation. */
#include "usb/transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rd.h"

struct tp *tp_alloc(const struct tp_ops *ops, void *impl)
{
	struct tp *tp = calloc(1, sizeof *tp);
	if (!tp)
		return NULL;
	tp->ops = ops;
	tp->impl = impl;
	tp->clock = clock_real();
	tp->info.dfu_interface = -1;
	err_clear(&tp->err);
	return tp;
}

void tp_free(struct tp *tp)
{
	free(tp);
}

int tp_set_alt(struct tp *tp, uint8_t interface, uint8_t alt)
{
	return tp->ops->set_alt(tp, interface, alt);
}

int tp_reset(struct tp *tp)
{
	if (!tp->ops->reset)
		return err_set(&tp->err, STM32DFU_E_UNSUPPORTED, "%s transport cannot reset", tp->ops->name);
	return tp->ops->reset(tp);
}

int tp_reopen(struct tp *tp, unsigned timeout_ms)
{
	if (!tp->ops->reopen)
		return err_set(&tp->err, STM32DFU_E_UNSUPPORTED, "%s transport cannot reopen", tp->ops->name);
	return tp->ops->reopen(tp, timeout_ms);
}

void tp_close(struct tp *tp)
{
	if (tp)
		tp->ops->close(tp);
}

void tp_setup_format(const struct usb_setup *s, char *buf, size_t cap)
{
	snprintf(buf, cap, "%02x %02x %04x %04x %04x", s->bmRequestType, s->bRequest, s->wValue, s->wIndex,
	         s->wLength);
}

/* Appends one code point as UTF-8 if it fits entirely (so truncation never splits a character). */
static size_t utf8_put(char *out, size_t cap, size_t len, uint32_t cp)
{
	char tmp[4];
	size_t n;
	if (cp < 0x80) {
		tmp[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		tmp[0] = (char)(0xC0 | (cp >> 6));
		tmp[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		tmp[0] = (char)(0xE0 | (cp >> 12));
		tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		tmp[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		tmp[0] = (char)(0xF0 | (cp >> 18));
		tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		tmp[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	if (len + n + 1 > cap)
		return len;
	memcpy(out + len, tmp, n);
	return len + n;
}

int tp_string_decode(const uint8_t *p, size_t n, char *out, size_t cap)
{
	if (!out || cap == 0)
		return STM32DFU_E_INTERNAL;
	out[0] = '\0';
	if (!p || n < 2)
		return STM32DFU_E_PROTOCOL;
	size_t blen = p[0];
	if (p[1] != USB_DT_STRING || blen < 2)
		return STM32DFU_E_PROTOCOL;
	if (blen > n)
		blen = n; /* a short read: decode what arrived */
	size_t units = (blen - 2) / 2;
	size_t len = 0;
	for (size_t i = 0; i < units; i++) {
		uint32_t cu = get_le16(p + 2 + 2 * i);
		uint32_t cp = cu;
		if (cu >= 0xD800 && cu <= 0xDBFF) {
			/* a high surrogate must be followed by a low one (UTF-16, RFC 2781 §2.2) */
			if (i + 1 < units) {
				uint32_t lo = get_le16(p + 2 + 2 * (i + 1));
				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					cp = 0x10000 + ((cu - 0xD800) << 10) + (lo - 0xDC00);
					i++;
				} else {
					cp = '?';
				}
			} else {
				cp = '?';
			}
		} else if ((cu >= 0xDC00 && cu <= 0xDFFF) || cu == 0) {
			cp = '?';
		}
		size_t before = len;
		len = utf8_put(out, cap, len, cp);
		if (len == before)
			break; /* full */
	}
	out[len] = '\0';
	return (int)len;
}

/*
 * GET_DESCRIPTOR is idempotent, so a garbled or stalled one is simply asked again: on a marginal
 * link (protocol.md 4.4) short standard requests mostly pass, and a tool that gives up on the first
 * failed string never gets as far as saying what is wrong.
 */
#define TP_DESCRIPTOR_TRIES 4
static int control_idempotent(struct tp *tp, const struct usb_setup *s, uint8_t *buf)
{
	int r = 0;
	for (int i = 0; i < TP_DESCRIPTOR_TRIES; i++) {
		unsigned timeout = TP_TIMEOUT_DEFAULT_MS;
		if (tp->deadline_us) {
			uint64_t now = clock_now_us(tp->clock);
			if (now >= tp->deadline_us)
				return r < 0 ? r : err_set(&tp->err, STM32DFU_E_TIMEOUT, "no answer before the deadline");
			uint64_t left_ms = (tp->deadline_us - now + 999u) / 1000u;
			if (left_ms < timeout)
				timeout = (unsigned)left_ms;
		}
		r = tp_control_patient(tp, s, buf, timeout);
		if (r >= 0 || r == STM32DFU_E_DISCONNECTED || r == STM32DFU_E_ACCESS || tp->first_answer_spent)
			break;
	}
	return r;
}

/* GET_DESCRIPTOR(string index, en-US) into buf (255 bytes): the length read, or an error naming it. */
static int fetch_string(struct tp *tp, uint8_t index, uint8_t buf[255])
{
	struct usb_setup s = {USB_RT_STD_IN_DEVICE, USB_REQ_GET_DESCRIPTOR,
	                      (uint16_t)((USB_DT_STRING << 8) | index), TP_LANGID_EN_US, 255};
	int r = control_idempotent(tp, &s, buf);
	return r < 0 ? err_prefix(&tp->err, "string descriptor %u", index) : r;
}

int tp_control_patient(struct tp *tp, const struct usb_setup *s, uint8_t *data, unsigned timeout_ms)
{
	if (tp->answered || !tp->first_answer_ms || tp->first_answer_spent)
		return tp_control(tp, s, data, timeout_ms);
	const uint64_t t0 = clock_now_us(tp->clock), ceiling_us = (uint64_t)tp->first_answer_ms * 1000u;
	for (;;) {
		uint64_t waited = clock_now_us(tp->clock) - t0;
		unsigned t = timeout_ms;
		if (waited + (uint64_t)t * 1000u > ceiling_us)
			t = (unsigned)((ceiling_us - waited + 999u) / 1000u);
		int r = tp_control(tp, s, data, t ? t : 1);
		waited = clock_now_us(tp->clock) - t0;
		if (r != STM32DFU_E_TIMEOUT) {
			if (waited > (uint64_t)timeout_ms * 1000u)
				tp->held_us = waited;
			return r;
		}
		if (waited >= ceiling_us) {
			tp->first_answer_spent = true;
			err_set(&tp->err, STM32DFU_E_TIMEOUT,
			        "the device has answered nothing for %u s, longer than any flash operation it could still "
			        "be doing",
			        (unsigned)(waited / 1000000u));
			err_hint(&tp->err, "the bootloader is hung: power-cycle the board (reset with BOOT0 high)");
			return STM32DFU_E_TIMEOUT;
		}
		if (tp->on_held)
			tp->on_held(tp->held_ctx, (unsigned)(waited / 1000u), tp->first_answer_ms);
	}
}

int tp_get_string(struct tp *tp, uint8_t index, char *out, size_t cap)
{
	tp->string_got = tp->string_announced = 0;
	if (cap == 0)
		return STM32DFU_E_INTERNAL;
	out[0] = '\0';
	if (index == 0)
		return 0;
	uint8_t buf[255];
	int r = fetch_string(tp, index, buf);
	if (r < 0)
		return r;
	tp->string_got = (unsigned)r;
	tp->string_announced = r >= 1 ? buf[0] : 0;
	r = tp_string_decode(buf, (size_t)r, out, cap);
	if (r < 0)
		return err_set(&tp->err, r, "string descriptor %u: malformed", index);
	return r;
}

/* A string descriptor whose payload may be bytes, not UTF-16: printable ASCII is kept, anything
 * else becomes '?' (the only device known to do this sends ASCII digits and letters). A payload that
 * is plainly UTF-16LE ASCII (every second byte 0) is decoded as UTF-16, so a device without the
 * quirk still reads right. */
static int get_raw_string(struct tp *tp, uint8_t index, char *out, size_t cap)
{
	out[0] = '\0';
	if (index == 0 || cap == 0)
		return 0;
	uint8_t buf[255];
	int r = fetch_string(tp, index, buf);
	if (r < 0)
		return r;
	if (r < 2 || buf[1] != USB_DT_STRING || buf[0] < 2)
		return err_set(&tp->err, STM32DFU_E_PROTOCOL, "string descriptor %u: malformed", index);
	size_t n = (size_t)(buf[0] < r ? buf[0] : r) - 2, k = 0;
	bool utf16 = n >= 2 && n % 2 == 0;
	for (size_t i = 1; utf16 && i < n; i += 2)
		utf16 = buf[2 + i] == 0;
	if (utf16) {
		r = tp_string_decode(buf, n + 2, out, cap);
		return r < 0 ? err_set(&tp->err, r, "string descriptor %u: malformed", index) : r;
	}
	for (size_t i = 0; i < n && k + 1 < cap; i++)
		out[k++] = buf[2 + i] >= 0x20 && buf[2 + i] < 0x7F ? (char)buf[2 + i] : '?';
	out[k] = '\0';
	return (int)k;
}

int tp_find_dfu_interface(const uint8_t *config, size_t n)
{
	/* bounded walk of bLength/bDescriptorType (USB 2.0 §9.6.5); DFU is class 0xFE subclass 1 */
	size_t pos = 0;
	while (pos + 2 <= n) {
		size_t len = config[pos];
		if (len < 2 || len > n - pos)
			break;
		if (config[pos + 1] == USB_DT_INTERFACE && len >= 9 && config[pos + 5] == 0xFE &&
		    config[pos + 6] == 0x01)
			return config[pos + 2];
		pos += len;
	}
	return -1;
}

int tp_read_identity(struct tp *tp)
{
	struct tp_info *in = &tp->info;
	uint8_t *d = in->desc;
	struct usb_setup s = {USB_RT_STD_IN_DEVICE, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, 18};
	int r = control_idempotent(tp, &s, d);
	if (r < 0)
		return err_prefix(&tp->err, "device descriptor");
	if (r < 18 || d[1] != USB_DT_DEVICE)
		return err_set(&tp->err, STM32DFU_E_PROTOCOL, "device descriptor: short or wrong type (%d bytes)", r);
	/* USB 2.0 §9.6.1 Table 9-8 */
	in->bcd_device = get_le16(d + 12);
	in->vid = get_le16(d + 8);
	in->pid = get_le16(d + 10);

	/* the configuration: first its 9-byte header for wTotalLength, then all of it (§9.6.3) */
	uint8_t *c = d + 18;
	size_t room = TP_DESC_MAX - 18;
	s = (struct usb_setup){USB_RT_STD_IN_DEVICE, USB_REQ_GET_DESCRIPTOR, USB_DT_CONFIG << 8, 0, 9};
	r = control_idempotent(tp, &s, c);
	if (r < 0)
		return err_prefix(&tp->err, "configuration descriptor");
	if (r < 9 || c[1] != USB_DT_CONFIG)
		return err_set(&tp->err, STM32DFU_E_PROTOCOL, "configuration descriptor: short or wrong type");
	size_t total = get_le16(c + 2);
	if (total < 9)
		return err_set(&tp->err, STM32DFU_E_PROTOCOL, "configuration descriptor: wTotalLength %zu", total);
	if (total > room)
		total = room;
	s.wLength = (uint16_t)total;
	r = control_idempotent(tp, &s, c);
	if (r < 0)
		return err_prefix(&tp->err, "configuration descriptor");
	in->desc_len = 18 + (size_t)r;
	in->dfu_interface = tp_find_dfu_interface(c, (size_t)r);
	return tp_read_identity_strings(tp);
}

int tp_read_identity_strings(struct tp *tp)
{
	struct tp_info *in = &tp->info;
	const uint8_t *d = in->desc;
	if (in->desc_len < 18)
		return err_set(&tp->err, STM32DFU_E_INTERNAL, "identity strings before the device descriptor");
	uint8_t i_manufacturer = d[14], i_product = d[15], i_serial = d[16];
	/* identity strings are informative: a device that stalls them still works; one that answered
	 * nothing within first_answer_ms is silent, and asking it more only costs time */
	if (tp_get_string(tp, i_manufacturer, in->manufacturer, sizeof in->manufacturer) < 0)
		in->manufacturer[0] = '\0';
	if (tp->first_answer_spent)
		return STM32DFU_E_TIMEOUT;
	if (tp_get_string(tp, i_product, in->product, sizeof in->product) < 0)
		in->product[0] = '\0';
	if (in->vid == 0x28E9 && in->pid == 0x0189) {
		/* GD32VF103: the ROM sends the serial as raw UTF-8 bytes (fwupd's recording of one:
		 * 06 03 33 43 42 4A = "3CBJ"; dfu-util's QUIRK_UTF8_SERIAL for 28e9:0189) */
		if (get_raw_string(tp, i_serial, in->serial, sizeof in->serial) < 0)
			in->serial[0] = '\0';
	} else if (tp_get_string(tp, i_serial, in->serial, sizeof in->serial) < 0) {
		in->serial[0] = '\0';
	}
	err_clear(&tp->err);
	return 0;
}

/* The fix, per platform (README "Install", docs/platforms.md "Windows: the driver"). */
#if defined(_WIN32)
#define REFUSED_DRIVER_FIX "bind WinUSB to it (Zadig, or STM32CubeProgrammer's DFU driver)"
#define REFUSED_DRIVER_HINT                                                                                   \
	"Zadig: Options > List All Devices, pick STM32 BOOTLOADER, WinUSB, Replace Driver; or run "            \
	"STM32Bootloader.bat (as administrator) from STM32CubeProgrammer's Drivers\\DFU_Driver, also WinUSB. " \
	"ST's old DfuSe driver (STTub30) cannot serve libusb"
#define REFUSED_ACCESS_HINT                                                                                  \
	"WinUSB lets one program at a time open a device: close the other (STM32CubeProgrammer, dfu-util, a "  \
	"browser's WebUSB page); if none holds it, bind WinUSB to it with Zadig (see README-windows.txt)"
#define REFUSED_BUSY_HINT REFUSED_ACCESS_HINT
#elif defined(__APPLE__)
#define REFUSED_DRIVER_FIX "no driver should be needed on macOS: another program may hold it"
#define REFUSED_DRIVER_HINT                                                                                  \
	"macOS needs no driver or permission for DFU devices: another program (STM32CubeProgrammer, dfu-util, " \
	"a browser's WebUSB page) probably holds the device; quit it and try again"
#define REFUSED_ACCESS_HINT REFUSED_DRIVER_HINT
#define REFUSED_BUSY_HINT REFUSED_DRIVER_HINT
#else
#define REFUSED_DRIVER_FIX "its interface is bound to a kernel driver libusb cannot detach"
#define REFUSED_DRIVER_HINT "unplug the board and plug it back in; if it stays, 'lsusb -t' names the driver bound to it"
#define REFUSED_ACCESS_HINT                                                                              \
	"no permission: install the udev rule 60-stm32dfu.rules (README, Install: TAG+=\"uaccess\" for 0483:df11 " \
	"and every DFU interface), run 'udevadm control --reload-rules', then replug the board"
#define REFUSED_BUSY_HINT "another program (dfu-util, STM32CubeProgrammer, ModemManager) has the device open; close it and retry"
#endif

const char *tp_refusal_hint(enum tp_refusal why)
{
	return why == TP_REFUSED_DRIVER ? REFUSED_DRIVER_HINT
	       : why == TP_REFUSED_BUSY ? REFUSED_BUSY_HINT
	                                : REFUSED_ACCESS_HINT;
}

int tp_refused(struct err *e, enum tp_refusal why, const char *context, const char *detail)
{
	const char *d = detail ? detail : "refused by the OS";
	switch (why) {
	case TP_REFUSED_DRIVER:
		err_set(e, STM32DFU_E_ACCESS, "%s: bound to a driver libusb cannot use (%s): %s", context, d,
		        REFUSED_DRIVER_FIX);
		break;
	case TP_REFUSED_BUSY:
		err_set(e, STM32DFU_E_ACCESS, "%s: another program holds it (%s)", context, d);
		break;
	case TP_REFUSED_ACCESS:
	default:
		err_set(e, STM32DFU_E_ACCESS, "%s: access denied (%s)", context, d);
		break;
	}
	err_hint(e, "%s", tp_refusal_hint(why));
	return STM32DFU_E_ACCESS;
}

int tp_refusal_parse(const char *s, enum tp_refusal *why)
{
	static const struct {
		const char *name;
		enum tp_refusal why;
	} t[] = {{"access", TP_REFUSED_ACCESS}, {"driver", TP_REFUSED_DRIVER}, {"busy", TP_REFUSED_BUSY}};
	for (size_t i = 0; s && i < sizeof t / sizeof t[0]; i++)
		if (strcmp(s, t[i].name) == 0) {
			*why = t[i].why;
			return 0;
		}
	return -1;
}
