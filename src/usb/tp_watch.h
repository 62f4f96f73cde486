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
/* Returns after a plug or unplug event, or after at most max_ms (TP_WATCH_SCAN_MS without hotplug). */
void tp_watch_wait(struct tp_watch *w, unsigned max_ms);
void tp_watch_free(struct tp_watch *w);

#endif
