/*
 * Waiting for the bus to change (a board plugged in or pulled out): libusb hotplug events where
 * the platform has them, else a plain 250 ms period. The caller rescans (tp_libusb_list) after
 * each wait; the watcher only says when it is worth it.
 */
#ifndef USB_TP_WATCH_H
#define USB_TP_WATCH_H

#include <stdbool.h>

#include "core/err.h"

#define TP_WATCH_SCAN_MS 250

struct tp_watch;

/* *hotplug tells whether events drive the waits (else the 250 ms scan). */
int tp_watch_new(struct tp_watch **out, bool *hotplug, struct err *e);
/* Returns after a plug or unplug event (true), or after at most max_ms (TP_WATCH_SCAN_MS without
 * hotplug; false: nothing is known to have changed, and without hotplug that is never known). */
bool tp_watch_wait(struct tp_watch *w, unsigned max_ms);
void tp_watch_free(struct tp_watch *w);
/* The next device the bus reported gone since the last call (hotplug only): its port path and
 * device number. The event itself says so; a listing made on it may still show the device. */
bool tp_watch_take_left(struct tp_watch *w, char path[32], unsigned *devnum);

#endif
