/*
 * The transport: the one door between the protocol code (dfu/) and a device.
 *
 * A struct tp is a small vtable (in the spirit of libusb's usbi_os_backend) plus what we learnt
 * about the device when it was opened. Three implementations exist:
 *   tp_libusb.c  real devices through libusb-1.0 (enumeration, match by VID:PID, serial, path);
 *   tp_sim.c     the in-process emulator (sim/), in virtual or real time;
 *   tp_trace.c   a decorator over any transport: records a transcript, replays one, and
 *                injects faults (tests, bug reports, --trace FILE).
 *
 * Every operation returns 0 (or a byte count) on success and a negative enum stm32dfu_err on
 * failure; the sentence that explains the failure is left in tp->err. A transport is used by one
 * thread at a time (one session); different transports are independent.
 */
#ifndef USB_TRANSPORT_H
#define USB_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/err.h"
#include "dfu/proto.h"

/* Control-transfer timeout for ordinary requests (dfu-util uses the same 5 s, DFU_TIMEOUT). */
#define TP_TIMEOUT_DEFAULT_MS 5000u
/* Raw descriptors kept per device: device descriptor (18 bytes) then the configuration. */
#define TP_DESC_MAX 1024u
/* Room for any string descriptor decoded: bLength <= 255 holds 126 UTF-16 units, each at most
 * 3 bytes of UTF-8 (a surrogate pair is 2 units for 4 bytes), plus the NUL: nothing is cut. */
#define TP_STRING_MAX 384u

/* What is known about an opened (or enumerated) device. Strings are UTF-8, NUL-terminated. */
struct tp_info {
	uint16_t vid, pid, bcd_device;
	uint8_t busnum, devnum;
	char path[32];           /* bus-port.port..., as dfu-util prints it ("1-1.4"); "sim" for the emulator */
	char manufacturer[TP_STRING_MAX];
	char product[TP_STRING_MAX];
	char serial[TP_STRING_MAX];
	int dfu_interface;       /* bInterfaceNumber of the DFU interface, -1 when unknown */
	uint8_t desc[TP_DESC_MAX]; /* device descriptor followed by the full configuration descriptor */
	size_t desc_len;
};

struct tp;

/* Told while a device's first answer is waited for (see struct tp, first_answer_ms): how long it
 * has been silent so far and the ceiling, in ms. Called from the thread doing the transfer. */
typedef void (*tp_held_fn)(void *ctx, unsigned waited_ms, unsigned ceiling_ms);

/*
 * The operations. All but close may fail; all are called with the tp they belong to.
 */
struct tp_ops {
	const char *name; /* "libusb", "sim", "trace" */

	/*
	 * One control transfer on endpoint 0. setup->bmRequestType bit 7 gives the direction;
	 * data holds setup->wLength bytes (the host's bytes for OUT, room for the reply for IN).
	 * Returns the number of bytes transferred (an IN reply may be short) or a negative
	 * STM32DFU_E_*: STALL (the device stalled the request), TIMEOUT (no answer within
	 * timeout_ms), DISCONNECTED (the device is gone), USB_IO (anything else).
	 */
	int (*control)(struct tp *tp, const struct usb_setup *setup, uint8_t *data, unsigned timeout_ms);

	/* SET_INTERFACE (USB 2.0 §9.4.10): select an alternate setting of an interface. */
	int (*set_alt)(struct tp *tp, uint8_t interface, uint8_t alt);

	/* A USB port reset. May make the device re-enumerate (then call reopen). Optional (NULL). */
	int (*reset)(struct tp *tp);

	/*
	 * Find the same device again after it re-enumerated (a reset, read-unprotect, an option-byte
	 * write), waiting up to timeout_ms, and refresh tp->info. DISCONNECTED if it did not come back.
	 * Optional (NULL: not supported).
	 */
	int (*reopen)(struct tp *tp, unsigned timeout_ms);

	/* Releases everything; tp itself is freed too. */
	void (*close)(struct tp *tp);
};

struct tp {
	const struct tp_ops *ops;
	void *impl;
	struct tp_info info;
	/*
	 * The time source the protocol code sleeps on. For the emulator it is the clock that drives
	 * the device, so a host sleep lets device time pass (the fake clock makes tests instant).
	 */
	const struct clock *clock;
	struct err err; /* detail of the last failure */
	/* 0, or a time on clock after which descriptor requests are not started and whose remaining
	 * time bounds their timeout (finding a device again after a reset: a silent device must not
	 * cost the full 5 s timeout four times per descriptor) */
	uint64_t deadline_us;
	/* A chip still doing flash work that an earlier host started (that host killed, asleep)
	 * holds every request until the work ends: the F2/F4/F7 ROM erases inside its USB interrupt
	 * (protocol.md 2.7a), and a mass erase takes tens of seconds. So until the device has
	 * answered once on this tp, tp_control_patient asks a timed-out request again until
	 * first_answer_ms (0: no such wait) has passed, telling on_held each time. */
	unsigned first_answer_ms;
	tp_held_fn on_held;
	void *held_ctx;
	bool answered;           /* the device answered a request here (anything but a timeout) */
	bool first_answer_spent; /* first_answer_ms passed without any answer: silent, not busy */
	uint64_t held_us;        /* how long the first answer was waited for, when it was late */
	/* the last tp_get_string: bytes received and the bLength the device announced (an F42x ROM
	 * sends 112 of 166, community.st.com thread 27098); cut when got < announced */
	unsigned string_got, string_announced;
};

/* Thin wrappers, so callers never reach into ops. */
static inline int tp_control(struct tp *tp, const struct usb_setup *setup, uint8_t *data,
                             unsigned timeout_ms)
{
	int r = tp->ops->control(tp, setup, data, timeout_ms);
	if (r != STM32DFU_E_TIMEOUT)
		tp->answered = true;
	return r;
}

/* tp_control for an idempotent request that may be the first the device answers: see struct tp,
 * first_answer_ms. Each try has timeout_ms; the last ends at the ceiling. After the device has
 * answered (or the ceiling was spent), exactly tp_control. */
int tp_control_patient(struct tp *tp, const struct usb_setup *setup, uint8_t *data, unsigned timeout_ms);
int tp_set_alt(struct tp *tp, uint8_t interface, uint8_t alt);
int tp_reset(struct tp *tp);
int tp_reopen(struct tp *tp, unsigned timeout_ms);
void tp_close(struct tp *tp);

/* Helpers for implementations: allocate a tp (zeroed, err clear, clock real); free one. */
struct tp *tp_alloc(const struct tp_ops *ops, void *impl);
void tp_free(struct tp *tp);

/*
 * String descriptors (USB 2.0 §9.6.7). tp_get_string fetches string index with GET_DESCRIPTOR
 * through control() (langid 0x0409, US English, as every ST ROM offers) and decodes it into out
 * as UTF-8. Index 0 gives an empty string. Returns the UTF-8 length or a negative error.
 */
#define TP_LANGID_EN_US 0x0409
int tp_get_string(struct tp *tp, uint8_t index, char *out, size_t cap);

/*
 * Decodes a raw string descriptor (bLength, bDescriptorType 3, UTF-16LE code units) into UTF-8.
 * The bytes come from a device and are untrusted: bLength is bounded by n, odd lengths drop the
 * last byte, surrogate pairs are combined, unpaired surrogates and NUL become '?', and the output
 * is truncated on a character boundary to fit cap-1 bytes. Returns the UTF-8 length, or
 * STM32DFU_E_PROTOCOL when the header is malformed.
 */
int tp_string_decode(const uint8_t *p, size_t n, char *out, size_t cap);

/*
 * Reads the device descriptor and the whole configuration descriptor (index 0) through
 * control() into tp->info.desc, and fills vid/pid/bcd_device and the three identity strings.
 * Used by the emulator and replay transports; libusb enumeration fills info its own way.
 */
int tp_read_identity(struct tp *tp);

/* Only the three identity strings, for a tp_info whose desc already holds the device descriptor
 * (libusb: the OS's cached copy, which costs no control transfer). */
int tp_read_identity_strings(struct tp *tp);

/* bInterfaceNumber of the first DFU interface (class 0xFE, subclass 1) in a configuration
 * descriptor, or -1. */
int tp_find_dfu_interface(const uint8_t *config, size_t n);

/* Formats a setup packet as "a1 03 0000 0000 0006" (buf at least 24 bytes). */
void tp_setup_format(const struct usb_setup *s, char *buf, size_t cap);

/*
 * Why the OS would not let us open a device, whatever the transport: the one place that words the
 * error and names the fix for this platform (Linux: the udev rule; Windows: WinUSB through Zadig or
 * ST's own WinUSB-based driver; docs/platforms.md cites the facts). All three are
 * STM32DFU_E_ACCESS (exit 77): the device is there, the OS's setup keeps us from it.
 */
enum tp_refusal {
	TP_REFUSED_ACCESS, /* no permission (libusb ACCESS) */
	TP_REFUSED_DRIVER, /* bound to a driver libusb cannot use (libusb NOT_SUPPORTED: Windows) */
	TP_REFUSED_BUSY,   /* another program holds it (libusb BUSY) */
};
/* Sets e to "CONTEXT: ... (DETAIL)" with the hint, returns STM32DFU_E_ACCESS. context: "opening
 * 1-4"; detail: the library's own word ("LIBUSB_ERROR_NOT_SUPPORTED"), or NULL. */
int tp_refused(struct err *e, enum tp_refusal why, const char *context, const char *detail);
/* The fix alone, for this platform. */
const char *tp_refusal_hint(enum tp_refusal why);
/* The token a --sim spec's open_refused= takes ("access", "driver", "busy"): 0 and *why, or -1. */
int tp_refusal_parse(const char *s, enum tp_refusal *why);

#endif
