#define _POSIX_C_SOURCE 200809L
#include "core/clock.h"
#include "core/os.h"

#include <errno.h>
#include <time.h>

static uint64_t real_now_us(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void real_sleep_us(void *ctx, uint64_t us)
{
	(void)ctx;
	struct timespec ts = {.tv_sec = (time_t)(us / 1000000u), .tv_nsec = (long)(us % 1000000u) * 1000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

void clock_utc_stamp(char buf[CLOCK_UTC_STAMP_LEN])
{
	time_t now = time(NULL);
	struct tm tm;
	if (!os_gmtime(now, &tm) || strftime(buf, CLOCK_UTC_STAMP_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
}

static const struct clock real_clock = {real_now_us, real_sleep_us, NULL};

const struct clock *clock_real(void)
{
	return &real_clock;
}

static uint64_t fake_now_us(void *ctx)
{
	return ((struct clock_fake *)ctx)->now;
}

static void fake_sleep_us(void *ctx, uint64_t us)
{
	struct clock_fake *f = ctx;
	f->now += us;
	f->slept_us += us;
	f->sleeps++;
}

void clock_fake_init(struct clock_fake *f)
{
	f->clock.now_us = fake_now_us;
	f->clock.sleep_us = fake_sleep_us;
	f->clock.ctx = f;
	f->now = 1000000; /* not zero, so "time 0" bugs show */
	f->slept_us = 0;
	f->sleeps = 0;
}
