/*
 * Internal to the virtual-USB adapter (vusb.c): the udev/sysfs records that describe a device to
 * libusb and lsusb. Split from vusb.c to keep files small; GLib/umockdev types are fine here.
 */
#ifndef SIM_VUSB_INT_H
#define SIM_VUSB_INT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <umockdev.h>

struct sim_device;

#define VUSB_PCI_PATH "/devices/pci0000:00/0000:00:14.0"

/* The root hub usb1, parent of every port: without it libusb has no port numbers (no path=). */
bool vusb_sysfs_add_root_hub(UMockdevTestbed *tb, int nports, GError **err);

/* The udev record of one enumeration at devnum on port sysname ("1-1"): sysfs attributes as the
 * kernel formats them (drivers/usb/core/sysfs.c), udev properties as libusb and lsusb read them,
 * and the node holding the descriptors. Asks the model for its strings (counted in *count), so
 * the caller holds the device's lock. Returns a g_free()able string, or NULL if the model has no
 * descriptors. */
char *vusb_sysfs_record(struct sim_device *dev, const char *sysname, unsigned devnum, uint64_t *count);

#endif
