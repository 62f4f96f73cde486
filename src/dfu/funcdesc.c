/* DFU functional descriptor and alt-setting walk (see funcdesc.h). */
#include "dfu/funcdesc.h"

#include <string.h>

#include "core/rd.h"
#include "dfu/proto.h"

int dfu_desc_parse(const uint8_t *p, size_t n, struct dfu_desc *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (!p || n < 2)
		return err_set(e, STM32DFU_E_PROTOCOL, "descriptors: %zu bytes is too short", n);
	size_t pos = 0;
	/* a leading device descriptor (USB 2.0 §9.6.1) */
	if (p[1] == USB_DT_DEVICE) {
		if (p[0] < 18 || p[0] > n)
			return err_set(e, STM32DFU_E_PROTOCOL, "device descriptor: bLength %u", p[0]);
		out->bMaxPacketSize0 = p[7];
		pos = p[0];
	}
	if (n - pos < 9 || p[pos + 1] != USB_DT_CONFIG || p[pos] < 9)
		return err_set(e, STM32DFU_E_PROTOCOL, "configuration descriptor missing at offset %zu", pos);
	/* wTotalLength bounds the walk (USB 2.0 §9.6.3); a device may claim more than it sent */
	size_t total = get_le16(p + pos + 2);
	size_t end = total < n - pos ? pos + total : n;
	bool in_dfu = false;
	while (pos < end) {
		if (end - pos < 2)
			return err_set(e, STM32DFU_E_PROTOCOL, "descriptor at offset %zu: truncated header", pos);
		size_t len = p[pos];
		uint8_t type = p[pos + 1];
		if (len < 2)
			return err_set(e, STM32DFU_E_PROTOCOL, "descriptor at offset %zu: bLength %zu", pos, len);
		if (len > end - pos)
			return err_set(e, STM32DFU_E_PROTOCOL,
			               "descriptor at offset %zu: bLength %zu runs past the end (%zu bytes)", pos, len, end);
		const uint8_t *d = p + pos;
		if (type == USB_DT_INTERFACE) {
			if (len < 9)
				return err_set(e, STM32DFU_E_PROTOCOL, "interface descriptor at offset %zu: bLength %zu",
				               pos, len);
			/* DFU11 §4.2.3: bInterfaceClass 0xFE, bInterfaceSubClass 0x01 */
			in_dfu = d[5] == 0xFE && d[6] == 0x01;
			if (in_dfu && out->n_alts < DFU_MAX_ALTS)
				out->alts[out->n_alts++] = (struct dfu_alt_desc){d[2], d[3], d[7], d[8]};
			else if (in_dfu)
				out->n_alts_dropped++; /* outside input: a device may list up to 255 */
		} else if (type == USB_DT_DFU_FUNCTIONAL && in_dfu && !out->have_func) {
			/* DFU11 §4.1.3 Table 4.2; DFU 1.0 devices send 7 bytes without bcdDFUVersion */
			if (len != 7 && len < 9)
				return err_set(e, STM32DFU_E_PROTOCOL, "DFU functional descriptor: bLength %zu (want 7 or 9)",
				               len);
			out->have_func = true;
			out->func.bLength = (uint8_t)len;
			out->func.bmAttributes = d[2];
			out->func.wDetachTimeOut = get_le16(d + 3);
			out->func.wTransferSize = get_le16(d + 5);
			out->func.bcdDFUVersion = len >= 9 ? get_le16(d + 7) : 0x0100;
		}
		pos += len;
	}
	if (out->n_alts == 0)
		return err_set(e, STM32DFU_E_PROTOCOL, "no DFU interface (class FE subclass 01)");
	return 0;
}
