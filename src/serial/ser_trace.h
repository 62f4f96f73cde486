/*
 * The trace decorator over any serial transport (the idea of usb/tp_trace.c for bytes):
 *   - records every byte each way, grouped into lines by direction, with the time of the first
 *     byte of the line, e.g.  "@1000 > 7f" / "@1087 < 79" / "@1090 > 00 ff"; written to a FILE
 *     as it goes (--trace) and kept in memory for tests;
 *   - counts bytes, writes and reads;
 *   - injects faults by rule: a flipped bit or a dropped byte at the Nth byte written, a dropped
 *     byte at the Nth byte read.
 */
#ifndef SERIAL_SER_TRACE_H
#define SERIAL_SER_TRACE_H

#include <stdio.h>

#include "serial/serial.h"

struct ser_trace_rules {
	uint64_t tx_flip_at; /* flip bit 0 of the Nth byte written (1-based; 0: never) */
	uint64_t tx_drop_at; /* the Nth byte written never reaches the line */
	uint64_t rx_drop_at; /* the Nth byte read is lost */
};

struct ser_trace_counts {
	uint64_t bytes_out, bytes_in, writes, reads, short_reads, faults;
};

/* Wraps inner (owned: closing the trace closes it). log may be NULL. */
struct ser *ser_trace_wrap(struct ser *inner, FILE *log, const struct ser_trace_rules *rules);
void ser_trace_counts(struct ser *s, struct ser_trace_counts *out);
/* The transcript so far, without times: one line per run of bytes in one direction
 * ("> 7f\n< 79\n"). Returns its length (it may be cut at cap-1). */
size_t ser_trace_text(struct ser *s, char *buf, size_t cap);
/* Forgets the transcript (counts are kept). */
void ser_trace_clear(struct ser *s);

#endif
