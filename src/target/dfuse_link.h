/*
 * The DfuSe link below the memory operations (target_dfuse.c): finding and opening a USB DFU
 * device (by VID:PID, path, USB serial, or by asking each chip its UID for -S UID), starting and
 * ending its DFU session, and the raw exchanges doctor measures the link with. ops/ decides when
 * (its retry budget, its selectors, its report); the requests are made here, so ops/ names no
 * dfu/ or usb/ call.
 */
#ifndef TARGET_DFUSE_LINK_H
#define TARGET_DFUSE_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "chip/serial.h"
#include "core/err.h"
#include "dfu/dfu.h"
#include "target/target.h"
#include "usb/tp_libusb.h"
#include "usb/tp_sim.h"
#include "usb/tp_watch.h"
#include "usb/transport.h"

/* Which USB devices (-d VID:PID, -p PATH; the serial goes through a chip_selector). */
struct target_usb_match {
	bool have_vid, have_pid;
	uint16_t vid, pid;
	const char *path;           /* "1-1.4"; NULL: any */
};

/* How long a device's first answer may be waited for (a chip finishing an earlier host's mass
 * erase holds it), and whom to tell while it is: struct tp, first_answer_ms. 0: no such wait. */
struct target_usb_wait {
	unsigned first_answer_ms;
	tp_held_fn on_held;
	void *held_ctx;
};

/* Which USB device a session wants. */
struct target_usb_want {
	struct target_usb_match match; /* the serial comes from sel */
	struct target_usb_wait wait;
	const char *sim_spec;       /* non-NULL: the in-process emulator with this profile spec */
	struct tp_sim_opts sim;
	/* the tests' and fuzzers' seam: every open takes this one device (the caller owns nothing
	 * after: the session closes it); NULL: libusb or the emulator */
	int (*open_tp)(void *ctx, struct tp **out, struct err *e);
	void *open_tp_ctx;
};

/*
 * Opens the raw transport: the seam's, the emulator, or the one libusb device w selects. With a
 * UID selector each candidate is opened and its chip asked (the family from the alt names, the
 * UID read at the family's address); a device that cannot be asked is named in the error, since
 * it is no proof that no device has the UID.
 */
int target_usb_find(const struct target_usb_want *w, const struct chip_selector *sel, struct tp **out,
                    struct err *e);

/* The session's transport: raw (owned from here, closed on failure) wrapped in the trace
 * decorator, which every session has (docs/architecture.md: counts, history; --trace adds a file). */
int target_usb_traced(struct tp *raw, struct tp **out, struct err *e);
/* --trace FILE: the transcript also written there. 0 or the negative error. */
int target_usb_trace_file(struct tp *traced, const char *path);
/* A USB device's identity as the link record gives it (struct target_link: kind DfuSe, nothing
 * the connection gave yet). */
void target_usb_link(const struct tp_info *in, struct target_link *out);

/* Closes a transport (NULL: nothing). */
void target_usb_close(struct tp *tp);

/* The DFU devices on the USB bus that match m (tp_libusb_list: *out malloc'd; w may be NULL: no
 * first-answer wait; locations_only: bus path, device number and IDs only, nothing opened, as the
 * station's scan needs), and their order by bus path (tp_path_cmp: "1-1.2" before "1-1.10"). */
int target_usb_list(const struct target_usb_match *m, const struct target_usb_wait *w, bool locations_only,
                    struct tp_listed **out, size_t *n, struct err *e);
int target_usb_path_cmp(const char *a, const char *b);
/* Boards arriving at and leaving the USB bus (the station's): usb/tp_watch.h's hotplug where libusb
 * has it, else a scan every TARGET_USB_SCAN_MS. wait: true when something changed within max_ms;
 * left: the next departed device's path and number. */
#define TARGET_USB_SCAN_MS TP_WATCH_SCAN_MS
int target_usb_watch_new(struct tp_watch **out, bool *hotplug, struct err *e);
bool target_usb_watch_wait(struct tp_watch *w, unsigned max_ms);
bool target_usb_watch_left(struct tp_watch *w, char path[32], unsigned *devnum);
void target_usb_watch_free(struct tp_watch *w);

/* Requests made on a traced transport so far (0 when tp is not traced). */
size_t target_usb_requests(struct tp *tp);

/* The emulated device behind tp (doctor asks its model for the clocks it was given), or NULL. */
struct sim_device *target_usb_sim_device(struct tp *tp);
/* The emulator behind tp keeps its chip in this state file; NULL when it is not an emulator or
 * keeps nothing. */
const char *target_usb_sim_state(struct tp *tp);

/* The state a DFU session found the device in, before its start cleared or aborted anything
 * (list, info and the device record show it), as the spec names it. */
struct target_dfuse_found {
	uint8_t bState, bStatus;
	bool error; /* bState was dfuERROR: the start cleared it (CLRSTATUS) */
};

/*
 * Opens the DFU session on tp (not owned): the descriptors, the poll mode (--poll spec, or auto),
 * then GETSTATE and, as needed, CLRSTATUS or ABORT back to dfuIDLE; *found is the state the device
 * was found in. On failure *e says why and *d may hold the half-open session: the caller ends it
 * with target_dfuse_end(*d, false) before trying again.
 */
int target_dfuse_start(struct tp *tp, bool poll_spec, struct dfu_dev **d, struct target_dfuse_found *found,
                       struct err *e);

/* --poll auto's fallback, when ops/ knows the family STALLs a GETSTATUS sent early: every
 * bwPollTimeout is waited from now on (the session's poll fallback says "family"). false when the
 * session already waited every one (--poll spec). */
bool target_dfuse_poll_wait_all(struct dfu_dev *d);

/* What list and the device record show of the DFU interface: bcdDFUVersion (0 without a functional
 * descriptor) and the alt settings the descriptor had past the map's room (counted, not kept). */
void target_dfuse_describe(const struct dfu_dev *d, uint16_t *dfu_version, unsigned *alts_dropped);

/* Ends the session: with send_abort, the ABORT a last request left due (the device left in
 * dfuIDLE; a failure changes nothing done), then frees it. NULL: nothing. */
void target_dfuse_end(struct dfu_dev *d, bool send_abort);

/* The session's memory map: the alt settings, each string parsed (chip/layout.h). It lives in
 * the DFU session, which a reconnect rebuilds in place, so the pointer stays good until
 * target_dfuse_end. */
struct layout_map *target_dfuse_map(struct dfu_dev *d);

/* The DFU status's name, as the spec spells it ("errTARGET"), for messages. */
const char *target_dfuse_status_name(uint8_t status);

/* The default request ceilings (dfu/'s): the first answer a session waits for is a mass erase's. */
unsigned target_dfuse_mass_erase_ms(void);

/* doctor's link test, raw UPLOADs with no retry below them so that every failure counts:
 * ready puts the device where an UPLOAD of block 2 reads addr (the state re-read, memory alt
 * selected when >= 0, the pointer set, dfuIDLE); upload reads n bytes there (n, or a negative
 * error); done leaves the session as a new one finds it. */
int target_dfuse_link_ready(struct dfu_dev *d, int alt, uint32_t addr);
int target_dfuse_link_upload(struct dfu_dev *d, uint8_t *buf, uint16_t n);
void target_dfuse_link_done(struct dfu_dev *d);

#endif
