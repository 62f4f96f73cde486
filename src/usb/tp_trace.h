/*
 * The trace decorator: wraps any transport and
 *   - records every transfer (setup, data, result, time) in memory and optionally as a readable
 *     text transcript (--trace FILE), one line per transfer:
 *       @1000123 OUT 21 01 0000 0000 0005 | 21 00 00 00 08 -> 5
 *       @1000180 IN  a1 03 0000 0000 0006 -> 6 | 00 48 00 00 04 00
 *       @1000190 SETALT 0 1 -> 0
 *   - replays such a transcript as a transport of its own (answers from the recording, fails
 *     on the first request that differs from it);
 *   - injects faults by rule (stall, timeout, disconnect, I/O error, a corrupted byte or a short
 *     reply) at the Nth transfer of a kind;
 *   - answers queries for tests (how many SET_ADDRESS commands, data blocks, GETSTATUS polls).
 */
#ifndef USB_TP_TRACE_H
#define USB_TP_TRACE_H

#include <stdio.h>

#include "usb/transport.h"

/* What a transfer is, in DFU/DfuSe terms (DFU11 Table 3.2, AN3156 §4-5). */
enum tp_req_class {
	TP_REQ_ANY = 0,
	TP_REQ_STANDARD,       /* any standard request (descriptors, SET_INTERFACE...) */
	TP_REQ_DETACH,
	TP_REQ_SET_ADDRESS,    /* DNLOAD wValue 0, 21 a0..a3 */
	TP_REQ_ERASE,          /* DNLOAD wValue 0, 41 a0..a3 */
	TP_REQ_MASS_ERASE,     /* DNLOAD wValue 0, 41 */
	TP_REQ_READ_UNPROTECT, /* DNLOAD wValue 0, 92 */
	TP_REQ_DNLOAD_CMD_OTHER,
	TP_REQ_DNLOAD_DATA,    /* DNLOAD wValue >= 2, wLength > 0 */
	TP_REQ_DNLOAD_ZERO,    /* DNLOAD wLength 0 (leave / manifestation) */
	TP_REQ_UPLOAD_GET,     /* UPLOAD wValue 0: Get Commands */
	TP_REQ_UPLOAD_DATA,    /* UPLOAD wValue >= 2 */
	TP_REQ_GETSTATUS,
	TP_REQ_CLRSTATUS,
	TP_REQ_GETSTATE,
	TP_REQ_ABORT,
	TP_REQ_SET_ALT,        /* set_alt() */
	TP_REQ_RESET,          /* reset() */
	TP_REQ_REOPEN,         /* reopen() */
	TP_REQ_COUNT
};
const char *tp_req_class_name(enum tp_req_class c);
/* Classifies a control transfer; data (wLength bytes, may be NULL) is needed for DfuSe commands. */
enum tp_req_class tp_classify(const struct usb_setup *s, const uint8_t *data);

/* One recorded transfer. */
struct tp_rec {
	enum tp_req_class cls;
	uint64_t t_us;           /* transport clock when the transfer was issued */
	uint64_t t_end_us;       /* transport clock when its answer (or failure) came */
	struct usb_setup setup;  /* for SET_ALT: wIndex = interface, wValue = alt */
	int result;              /* bytes transferred or a negative STM32DFU_E_* */
	uint8_t *data;           /* OUT: the bytes sent; IN: the bytes received */
	uint16_t data_len;
	bool injected;           /* the result came from a fault rule */
};

enum tp_fault_kind {
	TP_FAULT_STALL,
	TP_FAULT_TIMEOUT,
	TP_FAULT_DISCONNECT, /* this and every later transfer fail with DISCONNECTED */
	TP_FAULT_IO,
	TP_FAULT_CORRUPT,    /* IN data: byte `offset` is XORed with `xor_mask` (0 means 0xFF) */
	TP_FAULT_SHORT,      /* IN data: the reply is cut to `offset` bytes */
};

struct tp_fault {
	enum tp_fault_kind kind;
	enum tp_req_class match; /* which transfers count (TP_REQ_ANY: all) */
	unsigned nth;            /* fire at the nth matching transfer, 1-based (0 is taken as 1) */
	unsigned times;          /* fire on this many consecutive matches (0 is taken as 1) */
	bool deliver;            /* STALL/TIMEOUT/IO: the device still receives the request (it acted,
	                          * the host saw an error: the F767 mass-erase timeout case) */
	uint16_t offset;
	uint8_t xor_mask;
};

/* Wraps inner (taking ownership: closing the trace closes inner). NULL on allocation failure
 * (inner is then left open). */
struct tp *tp_trace_wrap(struct tp *inner);
/* Also writes every transfer as a text line to path (line-buffered, so a crash keeps it). */
int tp_trace_set_file(struct tp *trace, const char *path);
/* Writes the in-memory recording as a transcript. */
int tp_trace_write(const struct tp *trace, FILE *f);

/*
 * A transport that replays a transcript (text as written above, with the INFO/DESC header lines
 * tp_trace writes). Its clock is a fake one, so replays are instant. The replay is itself a trace:
 * the query API and fault rules work on it.
 */
int tp_trace_replay_text(const char *text, size_t len, struct tp **out, struct err *e);
int tp_trace_replay_file(const char *path, struct tp **out, struct err *e);

int tp_trace_add_fault(struct tp *trace, const struct tp_fault *f);
void tp_trace_clear_faults(struct tp *trace);

/* Queries. */
size_t tp_trace_count(const struct tp *trace, enum tp_req_class c);
const struct tp_rec *tp_trace_records(const struct tp *trace, size_t *n);
void tp_trace_forget(struct tp *trace); /* drops the recording so far (count one phase) */
struct tp *tp_trace_inner(struct tp *trace);
bool tp_is_trace(const struct tp *tp);

#endif
