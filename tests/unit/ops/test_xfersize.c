/*
 * The transfer-size chooser (src/ops/xfersize.c, issue 22 item 9) fed with outcomes drawn from a
 * link model, not with our own numbers: each 64-byte packet fails with probability q (the
 * f746-report link loses 12 % of full packets: doctor's 4.5 % at 16 bytes and 42 % at 256), a
 * successful attempt costs a fixed overhead plus a time per byte, a failure a fixed recovery. The
 * size it settles on must be the one that carries the most bytes per second under that model
 * (computed here by brute force), and it must come back up when the losses stop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "ops/xfersize.h"

struct link {
	double q;                /* loss per 64-byte packet */
	double fixed_us, per_byte_us, fail_us;
	uint64_t rng;
};

static double rnd(struct link *l)
{
	l->rng = l->rng * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(l->rng >> 11) / 9007199254740992.0;
}

/* One attempt of len bytes on the model link; true when it got through. */
static bool attempt(struct xfer_adapt *a, struct link *l, uint32_t len)
{
	unsigned packets = (len + 63) / 64;
	for (unsigned i = 0; i < packets; i++)
		if (rnd(l) < l->q) {
			xfer_adapt_fail(a, len, (uint64_t)(l->fail_us + 0.5));
			return false;
		}
	xfer_adapt_ok(a, len, (uint64_t)(l->fixed_us + l->per_byte_us * len + 0.5));
	return true;
}

/* The model's expected time per byte of size len: brute force over the same formula a reader of
 * the link would write down, independent of the chooser's estimates. */
static double model_cost(const struct link *l, uint32_t len)
{
	double ok = pow(1.0 - l->q, ceil(len / 64.0));
	return (l->fixed_us + l->per_byte_us * len + (1.0 - ok) / ok * l->fail_us) / len;
}

static uint32_t run(struct xfer_adapt *a, struct link *l, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		attempt(a, l, xfer_adapt_next(a));
	return xfer_adapt_next(a);
}

/* The f746-report link: the chooser leaves 2048 (98 % lost) and settles where the model says the
 * bytes per second are highest (within 15 % of the best cost), far above the 64 bytes a
 * halve-on-failure rule settles on */
static void test_settles_near_the_best_size(void **state)
{
	(void)state;
	struct link l = {.q = 0.12, .fixed_us = 900, .per_byte_us = 17, .fail_us = 700, .rng = 7};
	struct xfer_adapt a;
	xfer_adapt_init(&a, 2048);
	assert_int_equal(xfer_adapt_next(&a), 2048);
	uint32_t best = 64;
	for (uint32_t len = 64; len <= 2048; len += 64)
		if (model_cost(&l, len) < model_cost(&l, best))
			best = len;
	assert_true(best > 64 && best < 2048); /* the model has an inside optimum: the test means something */
	/* the last 500 of 3000 attempts: their mean cost per byte under the model */
	run(&a, &l, 2500);
	double sum = 0;
	for (int i = 0; i < 500; i++) {
		uint32_t n = xfer_adapt_next(&a);
		sum += model_cost(&l, n);
		attempt(&a, &l, n);
	}
	double mean = sum / 500;
	print_message("best %u (%.2f us/B), chooser's mean %.2f us/B, loss estimate %.3f\n", best,
	              model_cost(&l, best), mean, xfer_adapt_loss(&a));
	assert_true(mean <= 1.15 * model_cost(&l, best));
	assert_true(mean < 0.8 * model_cost(&l, 64));
	assert_true(fabs(xfer_adapt_loss(&a) - l.q) < 0.05);
}

/* The link heals (the board warmed up, another port): the size grows back to the cap; it gets
 * worse again: the size comes down */
static void test_grows_back_and_shrinks_again(void **state)
{
	(void)state;
	struct link l = {.q = 0.12, .fixed_us = 900, .per_byte_us = 17, .fail_us = 700, .rng = 11};
	struct xfer_adapt a;
	xfer_adapt_init(&a, 2048);
	uint32_t marginal = run(&a, &l, 1500);
	assert_true(marginal < 1024);
	l.q = 0;
	assert_int_equal(run(&a, &l, 400), 2048);
	l.q = 0.12;
	assert_true(run(&a, &l, 1500) < 1024);
}

/* A clean link never leaves the cap; -t (the cap) is never exceeded; a refusal lowers it for good */
static void test_cap_and_clean_link(void **state)
{
	(void)state;
	struct link l = {.q = 0, .fixed_us = 900, .per_byte_us = 17, .fail_us = 700, .rng = 3};
	struct xfer_adapt a;
	xfer_adapt_init(&a, 1024);
	for (int i = 0; i < 300; i++) {
		uint32_t n = xfer_adapt_next(&a);
		assert_int_equal(n, 1024);
		attempt(&a, &l, n);
	}
	xfer_adapt_cap(&a, 512);
	l.q = 0.01;
	for (int i = 0; i < 300; i++) {
		uint32_t n = xfer_adapt_next(&a);
		assert_true(n <= 512 && n >= 64 && n % 64 == 0);
		attempt(&a, &l, n);
	}
	/* -t 64: nothing else is ever chosen */
	xfer_adapt_init(&a, 64);
	l.q = 0.3;
	for (int i = 0; i < 200; i++) {
		assert_int_equal(xfer_adapt_next(&a), 64);
		attempt(&a, &l, 64);
	}
	assert_int_equal(a.attempts, 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settles_near_the_best_size),
		cmocka_unit_test(test_grows_back_and_shrinks_again),
		cmocka_unit_test(test_cap_and_clean_link),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
