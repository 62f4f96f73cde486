/*
 * DFU 1.1 (DFU11) host side: the class requests, GETSTATUS parsing, the wait rule, and the
 * session object. Talks to the device only through usb/transport.h. No printing, no exit; all
 * state lives in struct dfu_dev, so sessions in different threads are independent.
 *
 * The wait rule (DFU11 §6.1.2, AN3156 §5.1): after a DNLOAD the host sends GETSTATUS; while the
 * reply says dfuDNBUSY it sleeps exactly the bwPollTimeout of that reply and asks again. It never
 * sleeps after a reply that is not busy (even if it carries a nonzero bwPollTimeout, as the ST
 * ROM's dfuDNLOAD-IDLE replies do), and every wait is bounded by a per-operation ceiling (a page
 * program is milliseconds, a sector erase can take seconds, a mass erase tens of seconds) and by
 * a cap on consecutive busy replies with a zero timeout.
 *
 * Adaptive polling (DFU_POLL_AUTO, the default): the F2/F4/F7 ROMs run the flash operation inside
 * the USB interrupt and answer a GETSTATUS sent early when the work is done (protocol.md 2.7a).
 * So after the first dfuDNBUSY of an operation the next GETSTATUS goes out at once, with the rest
 * of the operation's ceiling as its transfer timeout. A device that answers it dfuDNBUSY again
 * (asynchronous) or STALLs it (STM32L4) has shown that it does not hold: the session falls back
 * to DFU_POLL_SPEC, the rule above, for good. After a STALL the host waits the poll and asks
 * again (the L4 keeps its state, as dfu-util's workaround relies on); what the status then says
 * is the operation's outcome, and any other failure goes to the caller's recovery, which reads
 * the block back. A busy reply is never taken for a wedge: a wedged device is only declared so
 * when the ceiling has passed (the caller then clears it, protocol.md 2.7).
 */
#ifndef DFU_DFU_H
#define DFU_DFU_H

#include <stdbool.h>
#include <stdint.h>

#include "chip/layout.h"
#include "dfu/funcdesc.h"
#include "dfu/layout.h"
#include "dfu/proto.h"
#include "usb/transport.h"

/* The GETSTATUS reply (DFU11 §6.1.2, 6 bytes). */
struct dfu_getstatus {
	uint8_t bStatus;
	uint32_t bwPollTimeout; /* ms, 24 bits */
	uint8_t bState;
	uint8_t iString;
};

/* "dfuDNBUSY", "errTARGET"; "?" style names for out-of-range values ("state 17"). */
const char *dfu_state_name(int state);
const char *dfu_status_name(int status);
/* Parses a 6-byte reply; STM32DFU_E_PROTOCOL if n < 6. */
int dfu_status_parse(const uint8_t *p, size_t n, struct dfu_getstatus *out);

/* How the host polls a busy device (see the top of this file). */
enum dfu_poll_mode {
	DFU_POLL_AUTO = 0, /* the next GETSTATUS at once after the first dfuDNBUSY of an operation */
	DFU_POLL_SPEC = 1, /* every bwPollTimeout waited (DFU11 §6.1.2) */
};
/* "auto", "spec". */
const char *dfu_poll_mode_name(enum dfu_poll_mode m);

/* Bounds on every wait, in ms. Defaults from dfu_limits_default(). */
struct dfu_limits {
	unsigned control_ms;        /* one ordinary control transfer (5000, as dfu-util) */
	unsigned command_ms;        /* a DfuSe command other than erase (set address): 5000 */
	unsigned program_ms;        /* one DNLOAD data block: 5000 */
	unsigned erase_ms;          /* one page/sector erase: 10000 (H743: ~0.9 s per 128 KiB sector) */
	unsigned mass_erase_ms;     /* 60000 (F405 datasheet: up to 32 s; dfu-util uses 35 s) */
	unsigned max_zero_polls;    /* consecutive dfuDNBUSY replies with bwPollTimeout 0 (dfu-util: 100) */
	unsigned max_status_stalls; /* GETSTATUS stalls tolerated while busy (some L4 ROMs; dfu-util: 3) */
};
void dfu_limits_default(struct dfu_limits *l);

/* Counters for diagnosis and the recovery logic built above this layer. */
struct dfu_counters {
	uint64_t requests;     /* DFU class requests sent */
	uint64_t getstatus;
	uint64_t busy_replies; /* GETSTATUS replies in dfuDNBUSY */
	uint64_t slept_us;     /* total sleep on bwPollTimeout */
	uint64_t clrstatus;
	uint64_t aborts;
	uint64_t status_stalls_retried;
	uint64_t early_polls;  /* GETSTATUS sent without waiting bwPollTimeout (DFU_POLL_AUTO) */
};

struct dfu_dev {
	struct tp *tp;            /* not owned */
	struct dfu_desc desc;
	uint8_t interface;
	uint16_t transfer_size;   /* wTransferSize: the device addresses blocks with it (AN3156 §4.1) */
	bool dfuse;               /* bcdDFUVersion 0x011A, or the ST ROM VID:PID (fwupd forces it) */
	int alt;                  /* current alternate setting, -1 before the first set */
	/* the alt settings as the session's memory map (chip/layout.h: each alt's string, parsed) */
	struct layout_map map;
	struct dfu_getstatus last;   /* the last GETSTATUS reply */
	bool have_last;
	struct dfu_limits limits;
	struct dfu_counters stats;
	enum dfu_poll_mode poll_mode; /* now: AUTO until the device showed it does not hold */
	enum dfu_poll_mode poll_asked;/* what the session was opened with */
	const char *poll_fallback;    /* why AUTO fell back to SPEC: NULL, "busy", "stall" or "family" */
	bool abort_due;           /* dfu_abort_later(): ABORT before the next request that needs dfuIDLE */
	struct err err;           /* the detail of the last failure */
};

/*
 * Builds a session over an opened transport: parses tp->info.desc (functional descriptor, alt
 * settings), reads each alt setting's string and parses it as a memory layout. Does not talk
 * DFU yet (see dfu_session_start). *out is heap-allocated; free with dfu_free (the tp stays open).
 */
int dfu_open(struct tp *tp, struct dfu_dev **out, struct err *e);
void dfu_free(struct dfu_dev *d);

/*
 * Brings the device to dfuIDLE whatever state the last session left it in (dfu-util main.c does
 * the same): GETSTATUS; dfuERROR -> CLRSTATUS (twice if the first leaves errUNKNOWN/dfuERROR, the
 * H7 behaviour: ST-MW moves a CLRSTATUS outside dfuERROR to dfuERROR); dfuDNLOAD-IDLE or
 * dfuUPLOAD-IDLE -> ABORT; dfuDNBUSY -> wait. It opens with GETSTATE, not GETSTATUS: in
 * dfuDNLOAD-SYNC, dfuDNLOAD-IDLE, dfuMANIFEST-SYNC or dfuUPLOAD-IDLE it sends ABORT first, so a
 * DfuSe command (or a leave) an interrupted session left pending is dropped, never executed. *initial (may be NULL) gets the
 * first status read (its bState: the state GETSTATE found).
 */
int dfu_session_start(struct dfu_dev *d, struct dfu_getstatus *initial);

/*
 * After the last UPLOAD of a read, the device waits in dfuUPLOAD-IDLE (DFU11 §6.2). Instead of an
 * ABORT now, the ABORT goes out before the next DNLOAD, CLRSTATUS, DETACH or SET_INTERFACE; a
 * session that ends here saves the transfer (the next session's start aborts, as dfu-util's does).
 */
void dfu_abort_later(struct dfu_dev *d);

/* SET_INTERFACE to an alternate setting of the DFU interface (DfuSe: selects the memory). */
int dfu_set_alt(struct dfu_dev *d, uint8_t alt);

/* The class requests, one transfer each (DFU11 §5, §6). */
int dfu_detach(struct dfu_dev *d, uint16_t timeout_ms);                                    /* §5.1 */
int dfu_dnload(struct dfu_dev *d, uint16_t block, const uint8_t *data, uint16_t len);      /* §6.1.1 */
int dfu_upload(struct dfu_dev *d, uint16_t block, uint8_t *buf, uint16_t len);             /* §6.2, bytes */
int dfu_get_status(struct dfu_dev *d, struct dfu_getstatus *out);                             /* §6.1.2 */
int dfu_clr_status(struct dfu_dev *d);                                                     /* §6.1.3 */
int dfu_get_state(struct dfu_dev *d, uint8_t *state);                                      /* §6.1.5 */
int dfu_abort(struct dfu_dev *d);                                                          /* §6.1.4 */

/*
 * The wait rule: GETSTATUS, and while dfuDNBUSY sleep bwPollTimeout and ask again, within
 * ceiling_ms. *out gets the first reply that is not busy (any state: the caller judges it).
 */
int dfu_wait_status(struct dfu_dev *d, unsigned ceiling_ms, struct dfu_getstatus *out);

/*
 * DNLOAD then the wait rule, then checks the outcome: dfuDNLOAD-IDLE with status OK is success;
 * dfuERROR gives STM32DFU_E_DFU_STATUS (errVENDOR: STM32DFU_E_PROTECTED, the ST ROM's answer under
 * read protection, AN3156 §5.1) naming status and state; any other state is STM32DFU_E_PROTOCOL.
 */
int dfu_dnload_wait(struct dfu_dev *d, uint16_t block, const uint8_t *data, uint16_t len, unsigned ceiling_ms);
/* The second half of dfu_dnload_wait, after a dfu_dnload that went out: the status polls (the
 * GETSTATUS that makes the ROM program the block) and the outcome. A caller that must know whether
 * a failure came before the chip could act on the block (the DNLOAD itself) or after it splits
 * the two. */
int dfu_dnload_finish(struct dfu_dev *d, unsigned ceiling_ms);

/*
 * A DNLOAD that may be held by the device until its work is done (the status stage NAKed: a ROM
 * doing a DfuSe command inside the request): its transfer timeout is ceiling_ms, the operation's
 * ceiling, never less than limits.control_ms. dfu_dnload_wait_held: the same DNLOAD, then the
 * wait rule and the outcome as dfu_dnload_wait.
 */
int dfu_dnload_held(struct dfu_dev *d, uint16_t block, const uint8_t *data, uint16_t len, unsigned ceiling_ms);
int dfu_dnload_wait_held(struct dfu_dev *d, uint16_t block, const uint8_t *data, uint16_t len, unsigned ceiling_ms);

/* ABORT, then GETSTATUS must say dfuIDLE (dfu-util dfu_abort_to_idle). */
int dfu_abort_to_idle(struct dfu_dev *d);

/* Turns a non-OK status into an error code with "<status> in <state>" in d->err. */
int dfu_status_error(struct dfu_dev *d, const struct dfu_getstatus *st, const char *what);

#endif
