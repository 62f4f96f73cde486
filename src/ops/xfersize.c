/* The transfer size chosen from the measured loss and costs (see xfersize.h). */
#include "ops/xfersize.h"

#include <math.h>
#include <string.h>

#define XFER_UNIT 64u /* one full-speed packet: a multiple of every family's program unit */
/* Each attempt weighs this much less than the one after it: about the last 50 attempts speak,
 * enough to measure a loss of a few per cent, few enough to follow a link that changes. */
#define XFER_DECAY 0.98
/* The SETUP and STATUS stages of a transfer and its status polls, in full packets' worth of
 * exposure: short packets fail far less often than long ones (the clock error accumulates over
 * the packet's bits). */
#define XFER_SMALL 0.25
/* Full-speed bus time of one byte at best (USB 2.0: 19 x 64-byte transactions a 1 ms frame), the
 * per-byte time assumed until two sizes have been measured. */
#define XFER_BUS_US_PER_BYTE (1000.0 / 1216.0)
/* A new size is taken only when it is expected to cost this much less (no flapping on noise). */
#define XFER_HYSTERESIS 0.96

void xfer_adapt_init(struct xfer_adapt *a, uint32_t cap)
{
	memset(a, 0, sizeof *a);
	a->cap = cap ? cap : 1;
	a->cur = a->cap;
}

void xfer_adapt_cap(struct xfer_adapt *a, uint32_t max)
{
	if (max && max < a->cap)
		a->cap = max;
	if (a->cur > a->cap)
		a->cur = a->cap;
}

static double packets(uint32_t len)
{
	return ceil((double)len / XFER_UNIT) + XFER_SMALL;
}

double xfer_adapt_loss(const struct xfer_adapt *a)
{
	return a->exposure > 0 ? fmin(a->fails / a->exposure, 0.999) : 0.0;
}

static void decay(struct xfer_adapt *a)
{
	a->exposure *= XFER_DECAY;
	a->fails *= XFER_DECAY;
	a->sw *= XFER_DECAY;
	a->sl *= XFER_DECAY;
	a->st *= XFER_DECAY;
	a->sll *= XFER_DECAY;
	a->slt *= XFER_DECAY;
	a->fw *= XFER_DECAY;
	a->ft *= XFER_DECAY;
	a->fl *= XFER_DECAY;
}

/* A (fixed us per successful attempt) and B (us per byte) from the successful attempts: a line
 * through their times when lengths differ enough, else the bus's per-byte time and the mean. */
static void fixed_and_per_byte(const struct xfer_adapt *a, double *fixed, double *per_byte)
{
	*fixed = 0;
	*per_byte = XFER_BUS_US_PER_BYTE;
	if (a->sw <= 0)
		return;
	double ml = a->sl / a->sw, mt = a->st / a->sw;
	double var = a->sll / a->sw - ml * ml;
	if (var > (double)(XFER_UNIT * XFER_UNIT) / 4.0) {
		double b = (a->slt / a->sw - ml * mt) / var;
		if (b > XFER_BUS_US_PER_BYTE)
			*per_byte = b;
	}
	*fixed = fmax(mt - *per_byte * ml, 0.0);
}

double xfer_adapt_cost(const struct xfer_adapt *a, uint32_t len)
{
	double q = xfer_adapt_loss(a);
	double p = 1.0 - pow(1.0 - q, packets(len));
	if (p >= 0.999)
		return INFINITY;
	double fixed, per_byte;
	fixed_and_per_byte(a, &fixed, &per_byte);
	/* a failure costs what was measured, more for a longer transfer by its bytes sent and read
	 * back at bus speed */
	double r = 0;
	if (a->fw > 0)
		r = fmax(a->ft / a->fw + 2.0 * XFER_BUS_US_PER_BYTE * ((double)len - a->fl / a->fw), 0.0);
	return (fixed + p / (1.0 - p) * r) / (double)len + per_byte;
}

uint32_t xfer_adapt_next(struct xfer_adapt *a)
{
	uint32_t n = a->cur;
	if (!a->smallest || n < a->smallest)
		a->smallest = n;
	if (n > a->largest)
		a->largest = n;
	return n;
}

/* The size that is expected to cost least per byte now. */
static void choose(struct xfer_adapt *a)
{
	if (a->cap <= XFER_UNIT) {
		a->cur = a->cap;
		return;
	}
	uint32_t best = a->cur;
	double best_cost = xfer_adapt_cost(a, a->cur) * XFER_HYSTERESIS;
	for (uint32_t len = XFER_UNIT;; len += XFER_UNIT) {
		if (len > a->cap)
			len = a->cap;
		double c = xfer_adapt_cost(a, len);
		if (c < best_cost) {
			best = len;
			best_cost = c;
		}
		if (len == a->cap)
			break;
	}
	a->cur = best;
}

void xfer_adapt_ok(struct xfer_adapt *a, uint32_t len, uint64_t us)
{
	if (!len)
		return;
	decay(a);
	a->attempts++;
	a->exposure += packets(len);
	double l = (double)len, t = (double)us;
	a->sw += 1;
	a->sl += l;
	a->st += t;
	a->sll += l * l;
	a->slt += l * t;
	choose(a);
}

void xfer_adapt_fail(struct xfer_adapt *a, uint32_t len, uint64_t us)
{
	if (!len)
		return;
	decay(a);
	a->attempts++;
	a->failures++;
	/* the transfer broke at one of its packets: on average half way */
	a->exposure += (packets(len) + 1.0) / 2.0;
	a->fails += 1;
	a->fw += 1;
	a->ft += (double)us;
	a->fl += (double)len;
	choose(a);
}
