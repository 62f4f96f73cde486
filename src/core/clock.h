/* Time: a monotonic clock and a sleep, replaceable so tests run in virtual time. */
#ifndef CORE_CLOCK_H
#define CORE_CLOCK_H

#include <stdint.h>

struct clock {
	uint64_t (*now_us)(void *ctx);
	void (*sleep_us)(void *ctx, uint64_t us);
	void *ctx;
};

/* The real monotonic clock and nanosleep. */
const struct clock *clock_real(void);

/* The wall-clock time now in UTC as ISO 8601 to the second ("2026-11-29T18:13:12Z"; 21 bytes with
 * the NUL): the one stamp format of logs, notes and the database. */
#define CLOCK_UTC_STAMP_LEN 21
void clock_utc_stamp(char buf[CLOCK_UTC_STAMP_LEN]);

/* A fake clock for tests: sleeping advances time at once; slept_us counts all sleeps. */
struct clock_fake {
	struct clock clock;
	uint64_t now;
	uint64_t slept_us;
	unsigned sleeps;
};
void clock_fake_init(struct clock_fake *f);

static inline uint64_t clock_now_us(const struct clock *c)
{
	return c->now_us(c->ctx);
}
static inline void clock_sleep_us(const struct clock *c, uint64_t us)
{
	c->sleep_us(c->ctx, us);
}

#endif
