/*
 * Descriptors, strings and the standard requests. Layout as the F4 ROM shows it
 * (data/lsusb/rust-dfu_lsusb_F4-512K_...): one configuration, one interface with one alternate
 * setting per memory (class FE/01/02, no endpoints, iInterface 4..), the DFU functional descriptor
 * once, after the last alternate setting.
 */
#include <string.h>

#include "core/rd.h"
#include "core/utf8.h"
#include "sim/sim_int.h"

size_t sim_device_desc(const struct sim_device *d, uint8_t *b, size_t cap)
{
	if (cap < 18)
		return 0;
	b[0] = 18;
	b[1] = USB_DT_DEVICE;
	put_le16(b + 2, d->bcd_usb);
	b[4] = b[5] = b[6] = 0;
	b[7] = 64; /* bMaxPacketSize0 */
	put_le16(b + 8, d->vid);
	put_le16(b + 10, d->pid);
	put_le16(b + 12, d->bcd_device);
	b[14] = 1; /* iManufacturer */
	b[15] = 2; /* iProduct */
	b[16] = 3; /* iSerialNumber */
	b[17] = 1; /* bNumConfigurations */
	return 18;
}

size_t sim_config_desc(const struct sim_device *d, uint8_t *b, size_t cap)
{
	size_t total = 9 + 9 * (size_t)d->nalts + DFU_FUNC_DESC_LEN;
	if (cap < total)
		return 0;
	b[0] = 9;
	b[1] = USB_DT_CONFIG;
	put_le16(b + 2, (uint16_t)total);
	b[4] = 1; /* bNumInterfaces */
	b[5] = 1; /* bConfigurationValue */
	b[6] = 0;
	b[7] = d->config_attributes;
	b[8] = d->max_power_2ma;
	uint8_t *p = b + 9;
	for (int i = 0; i < d->nalts; i++, p += 9) {
		p[0] = 9;
		p[1] = USB_DT_INTERFACE;
		p[2] = 0;
		p[3] = (uint8_t)i;
		p[4] = 0;
		p[5] = 0xFE;
		p[6] = 0x01;
		p[7] = 0x02;
		p[8] = (uint8_t)(4 + i);
	}
	p[0] = DFU_FUNC_DESC_LEN;
	p[1] = USB_DT_DFU_FUNCTIONAL;
	p[2] = d->dfu_attributes;
	put_le16(p + 3, d->detach_timeout);
	put_le16(p + 5, d->transfer_size);
	put_le16(p + 7, d->dfu_version);
	return total;
}

size_t sim_descriptors(const struct sim_device *d, uint8_t *buf, size_t cap)
{
	size_t n = sim_device_desc(d, buf, cap);
	if (n == 0)
		return 0;
	size_t m = sim_config_desc(d, buf + n, cap - n);
	return m ? n + m : 0;
}

/* Strings are UTF-8 in the profile; UTF-16LE on the wire. */
size_t sim_string_desc(const struct sim_device *d, uint8_t index, uint8_t *b, size_t cap)
{
	const char *s;
	if (index == 0) {
		if (cap < 4)
			return 0;
		b[0] = 4;
		b[1] = USB_DT_STRING;
		put_le16(b + 2, 0x0409);
		return 4;
	}
	if (index == 1)
		s = d->manufacturer;
	else if (index == 2)
		s = d->product;
	else if (index == 3)
		s = d->serial;
	else if (index >= 4 && index - 4 < d->nalts)
		s = d->alts[index - 4];
	else
		return 0;
	size_t n = strlen(s);
	if (index == 3 && d->serial_utf8) { /* raw bytes, as the GD32VF103 ROM sends them */
		if (n > 253 || cap < 2 + n)
			return 0;
		b[0] = (uint8_t)(2 + n);
		b[1] = USB_DT_STRING;
		memcpy(b + 2, s, n);
		return 2 + n;
	}
	/* UTF-8 in the profile, UTF-16LE on the wire (a code point past U+FFFF as a surrogate pair); a
	 * byte that is not UTF-8 is sent as the code point of the same value (Latin-1) */
	size_t units = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (len == 0) {
			cp = (unsigned char)s[i];
			len = 1;
		}
		i += len;
		size_t need = cp >= 0x10000 ? 2 : 1;
		if (units + need > 126 || cap < 2 + 2 * (units + need))
			return 0;
		if (need == 2) {
			put_le16(b + 2 + 2 * units++, (uint16_t)(0xD800 + ((cp - 0x10000) >> 10)));
			cp = 0xDC00 + ((cp - 0x10000) & 0x3FF);
		}
		put_le16(b + 2 + 2 * units++, (uint16_t)cp);
	}
	b[0] = (uint8_t)(2 + 2 * units);
	b[1] = USB_DT_STRING;
	return 2 + 2 * units;
}

static enum sim_result reply(const uint8_t *src, size_t n, const struct usb_setup *s, uint8_t *data,
			     uint16_t *actual)
{
	size_t k = n < s->wLength ? n : s->wLength;
	if (k)
		memcpy(data, src, k);
	*actual = (uint16_t)k;
	return SIM_OK;
}

static enum sim_result get_descriptor(struct sim_device *d, const struct usb_setup *s, uint8_t *data,
				      uint16_t *actual)
{
	uint8_t buf[2 + 2 * 126 + 9 * SIM_MAX_ALTS + 64];
	size_t n = 0;
	uint8_t type = (uint8_t)(s->wValue >> 8), index = (uint8_t)s->wValue;
	switch (type) {
	case USB_DT_DEVICE:
		n = sim_device_desc(d, buf, sizeof(buf));
		break;
	case USB_DT_CONFIG:
		n = index == 0 ? sim_config_desc(d, buf, sizeof(buf)) : 0;
		break;
	case USB_DT_STRING:
		n = sim_string_desc(d, index, buf, sizeof(buf));
		/* F42x (community.st.com 27098): bLength says 166, 112 bytes come */
		if (d->t.string_cut_index && index == d->t.string_cut_index && n > d->t.string_cut_bytes)
			n = d->t.string_cut_bytes;
		break;
	case USB_DT_DFU_FUNCTIONAL: { /* dfu-util's last resort (dfu_util.c); ST-MW answers it */
		uint8_t cfg[sizeof(buf)];
		size_t c = sim_config_desc(d, cfg, sizeof(cfg));
		if (c >= DFU_FUNC_DESC_LEN) {
			memcpy(buf, cfg + c - DFU_FUNC_DESC_LEN, DFU_FUNC_DESC_LEN);
			n = DFU_FUNC_DESC_LEN;
		}
		break;
	}
	default: /* device qualifier, other speed...: the F0 capture shows STALL */
		break;
	}
	if (n == 0)
		return SIM_STALL;
	return reply(buf, n, s, data, actual);
}

enum sim_result sim_std_request(struct sim_device *d, const struct usb_setup *s, uint8_t *data,
				uint16_t *actual)
{
	uint8_t recipient = s->bmRequestType & 0x1F;
	bool in = (s->bmRequestType & USB_DIR_IN) != 0;
	uint8_t two[2] = {0, 0};
	switch (s->bRequest) {
	case USB_REQ_GET_DESCRIPTOR:
		return in ? get_descriptor(d, s, data, actual) : SIM_STALL;
	case USB_REQ_GET_STATUS:
		if (!in)
			return SIM_STALL;
		if (recipient == 0)
			two[0] = (d->config_attributes & 0x40) ? 1 : 0; /* self-powered */
		return reply(two, 2, s, data, actual);
	case USB_REQ_SET_ADDRESS:
	case USB_REQ_CLEAR_FEATURE:
	case USB_REQ_SET_FEATURE:
		return in ? SIM_STALL : SIM_OK;
	case USB_REQ_GET_CONFIGURATION:
		return in ? reply(&d->config, 1, s, data, actual) : SIM_STALL;
	case USB_REQ_SET_CONFIGURATION:
		if (in || s->wValue > 1)
			return SIM_STALL;
		d->config = (uint8_t)s->wValue;
		return SIM_OK;
	case USB_REQ_GET_INTERFACE:
		if (!in || s->wIndex != 0)
			return SIM_STALL;
		two[0] = (uint8_t)d->alt;
		return reply(two, 1, s, data, actual);
	case USB_REQ_SET_INTERFACE:
		if (in || s->wIndex != 0 || s->wValue >= d->nalts)
			return SIM_STALL;
		d->alt = s->wValue; /* ST-MW: only the alternate setting changes, not the DFU state */
		return SIM_OK;
	default:
		return SIM_STALL;
	}
}
