/*
 * The virtual-USB adapter: presents sim devices as usbdevfs devices on a umockdev testbed, so that
 * unmodified libusb programs (dfu-util, lsusb, our own stm32dfu) find and drive them as real
 * hardware. The only code of the project that touches GLib/umockdev; used only by stm32dfu-sim.
 * How and why it works: ../shared/reference/virtual-usb.md.
 *
 * Threads: umockdev serves every ioctl on its own worker thread; this module adds one timer thread
 * (unplug and re-plug jobs). Both take one mutex around the sim devices, so the caller must not
 * touch a device it has added until vusb_stop() has returned.
 */
#ifndef SIM_VUSB_H
#define SIM_VUSB_H

#include <stddef.h>
#include <stdint.h>

struct sim_device;
struct vusb;

/*
 * Every process that owns or uses the testbed must run under libumockdev-preload. If this one does
 * not, re-exec it (argv as given, through /proc/self/exe) with the preload library added to
 * LD_PRELOAD. Returns 0 when already under the preload; returns -1 with a message only on failure.
 */
int vusb_ensure_preload(char **argv, char *errbuf, size_t errlen);

/* A testbed with the root hub usb1 (bus 1). Sets UMOCKDEV_DIR in this process's environment, so
 * children spawned afterwards share it. */
struct vusb *vusb_new(char *errbuf, size_t errlen);

/* Plugs dev on the next root-hub port (1-1, 1-2, ...). The device stays the caller's and must
 * outlive the testbed. Returns the device index (0, 1, ...) or -1 with a message. */
int vusb_add(struct vusb *v, struct sim_device *dev, char *errbuf, size_t errlen);

/* Pulls device idx off the bus ms milliseconds from now; it does not come back. */
void vusb_unplug_after(struct vusb *v, int idx, unsigned ms);

/* Per-device counters of the adapter (the model's own are in sim_get_stats). */
struct vusb_dev_info {
	char port[16];           /* "1-1" */
	unsigned devnum;         /* current (or last) device number */
	unsigned plugs;          /* enumerations: 1 + re-plugs */
	uint64_t host_transfers; /* control transfers the host programs made (URBs, CONTROL, SET_INTERFACE) */
	uint64_t enum_transfers; /* transfers the adapter made to enumerate (strings, SET_CONFIGURATION) */
};
int vusb_count(const struct vusb *v);
void vusb_get_info(struct vusb *v, int idx, struct vusb_dev_info *out);

/* Stops serving: later ioctls fail with ENODEV, pending jobs are dropped, the timer thread ends.
 * Afterwards the caller may use its sim devices again without locking. */
void vusb_stop(struct vusb *v);
/* Stops if needed, then removes the testbed (and its temporary directory). */
void vusb_free(struct vusb *v);

#endif
