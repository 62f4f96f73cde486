/* Waiting for plug and unplug events (tp_watch.h), over libusb's hotplug API. */
#include "usb/tp_watch.h"

#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "usb/tp_libusb.h"

#define TP_WATCH_LEFT_MAX 64

struct tp_watch {
	libusb_context *ctx;
	libusb_hotplug_callback_handle cb;
	bool hotplug;
	int changed; /* set by the callback, inside libusb_handle_events */
	struct {
		char path[32];
		unsigned devnum;
	} left[TP_WATCH_LEFT_MAX]; /* departures not yet taken (the oldest dropped when full) */
	size_t nleft;
};

static int LIBUSB_CALL on_event(libusb_context *ctx, libusb_device *dev, libusb_hotplug_event ev, void *user)
{
	(void)ctx;
	struct tp_watch *w = user;
	w->changed = 1;
	if (ev == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT) {
		if (w->nleft == TP_WATCH_LEFT_MAX) {
			memmove(&w->left[0], &w->left[1], (TP_WATCH_LEFT_MAX - 1) * sizeof w->left[0]);
			w->nleft--;
		}
		uint8_t ports[8];
		int n = libusb_get_port_numbers(dev, ports, (int)sizeof ports);
		tp_format_path(libusb_get_bus_number(dev), ports, n > 0 ? n : 0, w->left[w->nleft].path,
		               sizeof w->left[w->nleft].path);
		w->left[w->nleft].devnum = libusb_get_device_address(dev);
		w->nleft++;
	}
	return 0; /* stay registered */
}

bool tp_watch_take_left(struct tp_watch *w, char path[32], unsigned *devnum)
{
	if (!w->nleft)
		return false;
	snprintf(path, 32, "%s", w->left[0].path);
	*devnum = w->left[0].devnum;
	memmove(&w->left[0], &w->left[1], (w->nleft - 1) * sizeof w->left[0]);
	w->nleft--;
	return true;
}

int tp_watch_new(struct tp_watch **out, bool *hotplug, struct err *e)
{
	struct tp_watch *w = calloc(1, sizeof *w);
	if (!w)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	int r = libusb_init(&w->ctx);
	if (r < 0) {
		free(w);
		return err_set(e, tp_libusb_map_error(r), "libusb: %s", libusb_error_name(r));
	}
	if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) &&
	    libusb_hotplug_register_callback(w->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
	                                     0, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
	                                     LIBUSB_HOTPLUG_MATCH_ANY, on_event, w, &w->cb) == LIBUSB_SUCCESS)
		w->hotplug = true;
	*hotplug = w->hotplug;
	*out = w;
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool tp_watch_wait(struct tp_watch *w, unsigned max_ms)
{
	if (!w->hotplug) {
		unsigned ms = max_ms < TP_WATCH_SCAN_MS ? max_ms : TP_WATCH_SCAN_MS;
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		return false;
	}
	long long end = now_ms() + max_ms;
	w->changed = 0;
	while (!w->changed) {
		long long left = end - now_ms();
		if (left <= 0)
			break;
		struct timeval tv = {0};
		tv.tv_sec = (time_t)(left / 1000);
		tv.tv_usec = (long)(left % 1000) * 1000;
		libusb_handle_events_timeout_completed(w->ctx, &tv, &w->changed);
	}
	return w->changed != 0;
}

void tp_watch_free(struct tp_watch *w)
{
	if (!w)
		return;
	if (w->hotplug)
		libusb_hotplug_deregister_callback(w->ctx, w->cb);
	libusb_exit(w->ctx);
	free(w);
}
