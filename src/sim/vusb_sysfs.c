/*
 * The sysfs/udev side of the virtual-USB adapter: what libusb and lsusb read before they open a
 * device (see vusb_int.h, and ../shared/reference/virtual-usb.md "What the testbed needs").
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "sim/sim.h"
#include "sim/vusb_int.h"

#define VUSB_DESC_CAP 1024

/* Upper case: umockdev rejects a lower-case N: (node contents) value as malformed. */
static void vusb_hex(GString *s, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(s, "%02X", b[i]);
}

/* A string descriptor as sysfs shows it (ASCII; what is not printable becomes '?', and a
 * backslash too, since umockdev un-escapes A: values). Counts as an enumeration transfer. */
static void vusb_get_string(struct sim_device *dev, uint64_t *count, uint8_t idx, char *out, size_t cap)
{
	uint8_t buf[255];
	uint16_t actual = 0;
	struct usb_setup s = {USB_RT_STD_IN_DEVICE, USB_REQ_GET_DESCRIPTOR,
	                      (uint16_t)((USB_DT_STRING << 8) | idx), 0x0409, sizeof buf};
	size_t n = 0;
	out[0] = '\0';
	if (!idx)
		return;
	(*count)++;
	if (sim_control(dev, &s, buf, &actual) != SIM_OK || actual < 2)
		return;
	size_t len = buf[0] < actual ? buf[0] : actual;
	for (size_t i = 2; i + 1 < len && n + 1 < cap; i += 2) {
		unsigned ch = buf[i] | (unsigned)buf[i + 1] << 8;
		out[n++] = (ch >= 0x20 && ch < 0x7f && ch != '\\') ? (char)ch : '?';
	}
	out[n] = '\0';
}

static void vusb_attr(GString *s, const char *name, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* One A: line. The value gets its trailing newline as real sysfs has (pitfall 2). */
static void vusb_attr(GString *s, const char *name, const char *fmt, ...)
{
	va_list ap;
	g_string_append_printf(s, "A: %s=", name);
	va_start(ap, fmt);
	g_string_append_vprintf(s, fmt, ap);
	va_end(ap);
	g_string_append(s, "\\n\n");
}

bool vusb_sysfs_add_root_hub(UMockdevTestbed *tb, int nports, GError **err)
{
	static const uint8_t desc[] = {
		0x12, 0x01, 0x00, 0x02, 0x09, 0x00, 0x01, 0x40, 0x6b, 0x1d, 0x02, 0x00, 0x15, 0x05,
		0x03, 0x02, 0x01, 0x01, /* device: hub, 1d6b:0002, bcdDevice 5.15 */
		0x09, 0x02, 0x19, 0x00, 0x01, 0x01, 0x00, 0xe0, 0x00, /* configuration */
		0x09, 0x04, 0x00, 0x00, 0x01, 0x09, 0x00, 0x00, 0x00, /* interface: hub */
		0x07, 0x05, 0x81, 0x03, 0x04, 0x00, 0x0c, /* interrupt endpoint */
	};
	GString *s = g_string_new("P: " VUSB_PCI_PATH "/usb1\nN: bus/usb/001/001=");
	vusb_hex(s, desc, sizeof desc);
	g_string_append(s, "\nE: DEVNAME=/dev/bus/usb/001/001\nE: DEVTYPE=usb_device\nE: SUBSYSTEM=usb\n"
	                   "E: DRIVER=usb\nE: BUSNUM=001\nE: DEVNUM=001\nE: MAJOR=189\nE: MINOR=0\n"
	                   "E: PRODUCT=1d6b/2/515\nE: TYPE=9/0/1\n");
	vusb_attr(s, "busnum", "1");
	vusb_attr(s, "devnum", "1");
	vusb_attr(s, "devpath", "0");
	vusb_attr(s, "speed", "480");
	vusb_attr(s, "version", " 2.00");
	vusb_attr(s, "idVendor", "1d6b");
	vusb_attr(s, "idProduct", "0002");
	vusb_attr(s, "bcdDevice", "0515");
	vusb_attr(s, "bDeviceClass", "09");
	vusb_attr(s, "bDeviceSubClass", "00");
	vusb_attr(s, "bDeviceProtocol", "01");
	vusb_attr(s, "bMaxPacketSize0", "64");
	vusb_attr(s, "bNumConfigurations", "1");
	vusb_attr(s, "bNumInterfaces", " 1");
	vusb_attr(s, "bConfigurationValue", "1");
	vusb_attr(s, "bmAttributes", "e0");
	vusb_attr(s, "bMaxPower", "0mA");
	vusb_attr(s, "maxchild", "%d", nports);
	vusb_attr(s, "manufacturer", "Linux xhci-hcd");
	vusb_attr(s, "product", "xHCI Host Controller");
	vusb_attr(s, "serial", "0000:00:14.0");
	vusb_attr(s, "authorized", "1");
	vusb_attr(s, "removable", "unknown");
	vusb_attr(s, "dev", "189:0");
	g_string_append(s, "H: descriptors=");
	vusb_hex(s, desc, sizeof desc);
	g_string_append(s, "\n\n");
	gboolean ok = umockdev_testbed_add_from_string(tb, s->str, err);
	if (!ok)
		log_debug("vusb: rejected record:\n%s", s->str);
	g_string_free(s, TRUE);
	return ok;
}

char *vusb_sysfs_record(struct sim_device *dev, const char *sysname, unsigned devnum, uint64_t *count)
{
	uint8_t d[VUSB_DESC_CAP];
	size_t n = sim_descriptors(dev, d, sizeof d);
	char manu[128], prod[128], serial[128];
	if (n < 18 + 9)
		return NULL;
	const uint8_t *c = d + 18;
	unsigned bcdusb = d[2] | (unsigned)d[3] << 8, vid = d[8] | (unsigned)d[9] << 8;
	unsigned pid = d[10] | (unsigned)d[11] << 8, rel = d[12] | (unsigned)d[13] << 8;
	unsigned minor = devnum - 1; /* bus 1: (busnum - 1) * 128 + devnum - 1 */

	vusb_get_string(dev, count, d[14], manu, sizeof manu);
	vusb_get_string(dev, count, d[15], prod, sizeof prod);
	vusb_get_string(dev, count, d[16], serial, sizeof serial);

	GString *s = g_string_new(NULL);
	g_string_append_printf(s, "P: " VUSB_PCI_PATH "/usb1/%s\nN: bus/usb/001/%03u=", sysname, devnum);
	vusb_hex(s, d, n);
	g_string_append_printf(s,
	                       "\nE: DEVNAME=/dev/bus/usb/001/%03u\nE: DEVTYPE=usb_device\nE: SUBSYSTEM=usb\n"
	                       "E: DRIVER=usb\nE: BUSNUM=001\nE: DEVNUM=%03u\nE: MAJOR=189\nE: MINOR=%u\n"
	                       "E: PRODUCT=%x/%x/%x\nE: TYPE=%u/%u/%u\n",
	                       devnum, devnum, minor, vid, pid, rel, d[4], d[5], d[6]);
	vusb_attr(s, "busnum", "1");
	vusb_attr(s, "devnum", "%u", devnum);
	vusb_attr(s, "devpath", "%s", sysname + 2);
	vusb_attr(s, "speed", "12");
	vusb_attr(s, "version", "%2x.%02x", bcdusb >> 8, bcdusb & 0xff);
	vusb_attr(s, "idVendor", "%04x", vid);
	vusb_attr(s, "idProduct", "%04x", pid);
	vusb_attr(s, "bcdDevice", "%04x", rel);
	vusb_attr(s, "bDeviceClass", "%02x", d[4]);
	vusb_attr(s, "bDeviceSubClass", "%02x", d[5]);
	vusb_attr(s, "bDeviceProtocol", "%02x", d[6]);
	vusb_attr(s, "bMaxPacketSize0", "%u", d[7]);
	vusb_attr(s, "bNumConfigurations", "%u", d[17]);
	vusb_attr(s, "bNumInterfaces", "%2u", c[4]);
	vusb_attr(s, "bConfigurationValue", "%u", c[5]);
	vusb_attr(s, "bmAttributes", "%2x", c[7]);
	vusb_attr(s, "bMaxPower", "%umA", c[8] * 2u);
	if (manu[0])
		vusb_attr(s, "manufacturer", "%s", manu);
	if (prod[0])
		vusb_attr(s, "product", "%s", prod);
	if (serial[0])
		vusb_attr(s, "serial", "%s", serial);
	vusb_attr(s, "maxchild", "0");
	vusb_attr(s, "authorized", "1");
	vusb_attr(s, "avoid_reset_port", "0");
	vusb_attr(s, "removable", "removable");
	vusb_attr(s, "quirks", "0x0");
	vusb_attr(s, "urbnum", "0");
	vusb_attr(s, "rx_lanes", "1");
	vusb_attr(s, "tx_lanes", "1");
	vusb_attr(s, "ltm_capable", "no");
	vusb_attr(s, "dev", "189:%u", minor);
	g_string_append(s, "H: descriptors=");
	vusb_hex(s, d, n);
	g_string_append(s, "\n\n");
	return g_string_free(s, FALSE);
}

