/*
 * The transfer size chosen from the link's measured loss (issue 22 item 9), one chooser for reads
 * and one for writes. On a marginal USB clock each 64-byte packet fails with some probability q
 * (the error grows with the packet's length, so every full packet carries the same risk:
 * protocol.md 4.3-4.4), and a transfer of k packets gets through with (1 - q)^k. What a size costs
 * per byte delivered is then
 *
 *     E(L) = (A + p(L) / (1 - p(L)) * R(L)) / L  (+ a per-byte time that is the same for every L)
 *
 * A: the fixed time of one successful attempt (the Set Address a short block needs, the status
 * polls), R: what a failure costs (the failed transfer, the re-sync, the read-back that learns what
 * the chip did). q, A and R are all measured in the session, recent attempts weighing more, so the
 * size follows the link both ways: it shrinks when losses rise and grows back when they fall. The
 * chooser only sets lengths: every attempt is still a whole transfer with all its checks.
 */
#ifndef OPS_XFERSIZE_H
#define OPS_XFERSIZE_H

#include <stdbool.h>
#include <stdint.h>

struct xfer_adapt {
	uint32_t cap;      /* the longest allowed (-t or wTransferSize, less after the chip refused) */
	uint32_t cur;      /* the size in use */
	/* decayed sums: packets exposed and transfers failed (the loss estimate) */
	double exposure, fails;
	/* decayed least-squares sums of successful attempts' time against their length: A and the
	 * per-byte time */
	double sw, sl, st, sll, slt;
	/* decayed failure costs and their lengths */
	double fw, ft, fl;
	uint64_t attempts, failures; /* every attempt and every failure (never decayed) */
	uint32_t smallest, largest;  /* the sizes used (for the report) */
};

/* Starts with the longest size (a clean link is the usual case). */
void xfer_adapt_init(struct xfer_adapt *a, uint32_t cap);
/* The device refuses transfers longer than max (a STALLed long block): never more again. */
void xfer_adapt_cap(struct xfer_adapt *a, uint32_t max);
/* The size of the next transfer. */
uint32_t xfer_adapt_next(struct xfer_adapt *a);
/* One attempt of len bytes that got through, and how long it took (us). */
void xfer_adapt_ok(struct xfer_adapt *a, uint32_t len, uint64_t us);
/* One that failed, and what it cost (us), its recovery included. */
void xfer_adapt_fail(struct xfer_adapt *a, uint32_t len, uint64_t us);
/* The per-packet loss the chooser believes now (0..1), for logs and tests. */
double xfer_adapt_loss(const struct xfer_adapt *a);
/* The expected cost per byte (us) of size len from what has been measured (tests, logs). */
double xfer_adapt_cost(const struct xfer_adapt *a, uint32_t len);

#endif
