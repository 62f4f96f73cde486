/*
 * Internal to the virtual-USB adapter: its ports and plugs (vusb.c: plugging, the timer thread,
 * the public calls; vusb_io.c: the usbdevfs ioctls; vusb_sysfs.c: the udev/sysfs records that
 * describe a device to libusb and lsusb). GLib/umockdev types are fine here.
 */
#ifndef SIM_VUSB_INT_H
#define SIM_VUSB_INT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <umockdev.h>

#include "core/err.h"
#include "sim/vusb.h"

struct sim_device;

#define VUSB_PCI_PATH "/devices/pci0000:00/0000:00:14.0"

#define VUSB_MAX_PORTS 32
/* How often the timer thread looks for link changes the model makes on its own (a chip that
 * resets some time after its last answer). Cheap: one mutex and one state read per port. */
#define VUSB_LINK_POLL_MS 5

struct vusb_port;

/* One enumeration of a device: one devnum, one /dev node, one handler. Freed with the testbed,
 * because clients of an old plug may still send ioctls to it. */
struct vusb_plug {
	struct vusb_port *port;
	unsigned devnum;
	char devnode[32];
	UMockdevIoctlBase *handler;
	bool gone;     /* off the bus for its clients */
	bool detached; /* its ioctl handler taken off the testbed (vusb_free, or its node reused) */
	struct vusb_plug *next;
};

struct vusb_port {
	struct vusb *v;
	int index;
	struct sim_device *dev;
	char sysname[16];
	char syspath[96]; /* as umockdev names it: /sys/devices/... */
	struct vusb_plug *cur; /* NULL while off the bus */
	bool pulled;           /* unplugged for good (--unplug-after) */
	bool replug_pending;
	struct vusb_dev_info info;
};

struct vusb {
	UMockdevTestbed *tb;
	GMutex lock; /* guards everything below and every sim device */
	GMainContext *ctx;
	GMainLoop *loop;
	GThread *thread;
	struct vusb_port *ports[VUSB_MAX_PORTS];
	int nports;
	unsigned next_devnum;
	struct vusb_plug *plugs;
	bool stopped;
};


/* vusb.c: the adapter's error text, and jobs on its timer thread */
void vusb_seterr(char *errbuf, size_t errlen, const char *fmt, ...) PRINTF_LIKE(3, 4);
void vusb_schedule(struct vusb *v, unsigned ms, GSourceFunc fn, gpointer data);
/* the device left the bus: take its plug off the testbed (and bring it back if it only resets) */
gboolean vusb_job_leave_bus(gpointer data);

/* vusb_io.c: the usbdevfs ioctl handler of one plug, and the check that the model's link is up */
gboolean vusb_on_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer user);
void vusb_check_link(struct vusb_port *p);

/* The root hub usb1, parent of every port: without it libusb has no port numbers (no path=). */
bool vusb_sysfs_add_root_hub(UMockdevTestbed *tb, int nports, GError **err);

/* The udev record of one enumeration at devnum on port sysname ("1-1"): sysfs attributes as the
 * kernel formats them (drivers/usb/core/sysfs.c), udev properties as libusb and lsusb read them,
 * and the node holding the descriptors. Asks the model for its strings (counted in *count), so
 * the caller holds the device's lock. Returns a g_free()able string, or NULL if the model has no
 * descriptors. */
char *vusb_sysfs_record(struct sim_device *dev, const char *sysname, unsigned devnum, uint64_t *count);

#endif
