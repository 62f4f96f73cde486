/*
 * Real devices through libusb-1.0: enumeration of DFU interfaces (class 0xFE, subclass 1,
 * DFU11 §4.2.1), matching by VID:PID, serial and USB path, and the transport itself.
 * Each call uses its own libusb context, so sessions in different threads never share one.
 */
#ifndef USB_TP_LIBUSB_H
#define USB_TP_LIBUSB_H

#include "usb/transport.h"

/* Which devices to consider. Unset fields match anything. */
struct tp_match {
	bool have_vid, have_pid;
	uint16_t vid, pid;
	const char *serial; /* exact string descriptor */
	const char *path;   /* "1-1.4" */
	/* how long a device's first answer may take (a chip finishing an earlier host's mass erase),
	 * and whom to tell while it is awaited: struct tp, first_answer_ms. 0: no such wait */
	unsigned first_answer_ms;
	tp_held_fn on_held;
	void *held_ctx;
	/* list locations only (path, device number, IDs): nothing is opened, no string is read, so
	 * listing never waits on a device (the station's scan); serial is then not matched */
	bool locations_only;
};

/*
 * Lists the devices that have a DFU interface and match m (m may be NULL). *out is a malloc'd
 * array of *n entries (free with free()); info strings are read when the device can be opened,
 * and left empty otherwise (no permission): such entries have access_denied set.
 */
struct tp_listed {
	struct tp_info info;
	bool access_denied;
	bool identity_read;  /* info holds the descriptors and strings, read just now */
	bool silent;         /* answered nothing within the match's first_answer_ms */
	uint64_t held_us;    /* how long its first answer took, when it was late (struct tp) */
};
int tp_libusb_list(const struct tp_match *m, struct tp_listed **out, size_t *n, struct err *e);

/*
 * Opens the one device matching m and claims its DFU interface. NO_DEVICE when none matches,
 * AMBIGUOUS when several do (the message lists them), ACCESS with a udev hint when the OS refuses.
 */
int tp_libusb_open(const struct tp_match *m, struct tp **out, struct err *e);

/* Maps a libusb error code to STM32DFU_E_* (PIPE -> STALL, TIMEOUT, NO_DEVICE -> DISCONNECTED...). */
int tp_libusb_map_error(int libusb_error);
/* Whether a libusb error from opening or claiming is the OS refusing us the device, and which
 * refusal (usb/transport.h: tp_refused words it and names the fix). */
bool tp_libusb_refusal(int libusb_error, enum tp_refusal *why);

/* Formats "bus-port.port.port" (dfu-util's spelling). */
void tp_format_path(uint8_t bus, const uint8_t *ports, int n_ports, char *buf, size_t cap);

/* Orders USB paths as numbers per component ("1-1.10" after "1-1.9"), for tables. */
int tp_path_cmp(const char *a, const char *b);

#endif
