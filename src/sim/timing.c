/*
 * The timing model. Device busy times come from the profile's datasheet values (t_prog_us,
 * t_erase, t_mass_erase), chosen by the program parallelism; the bwPollTimeout the ROM reports is
 * a separate per-profile number, as on real parts. The profile's `timing` scale multiplies both
 * (1 real, 0 instant), so ratios hold while tests run fast.
 */
#include <math.h>

#include "sim/sim_int.h"

static int width_index(int width)
{
	return width >= 8 ? 3 : width >= 4 ? 2 : width >= 2 ? 1 : 0;
}

uint64_t sim_scaled_us(const struct sim_device *d, double ms)
{
	double us = ms * 1000.0 * d->t.scale;
	if (!(us > 0))
		return 0;
	return us > 1e15 ? (uint64_t)1e15 : (uint64_t)(us + 0.5);
}

uint32_t sim_scaled_poll(const struct sim_device *d, uint32_t ms)
{
	double v = (double)ms * d->t.scale;
	if (d->f.poll_lie > 0)
		v *= d->f.poll_lie;
	if (!(v > 0))
		return 0;
	return v > 0xFFFFFF ? 0xFFFFFF : (uint32_t)(v + 0.5);
}

/* The erase time of the table row whose size matches; without a row, 12.5 ms per KiB (the F7
 * 32 KiB x8 typical, DS10916), so a profile of only alt strings still takes plausible time. */
double sim_erase_ms(const struct sim_device *d, uint32_t sector_size)
{
	int w = width_index(sim_prog_width(d));
	for (int i = 0; i < d->t.n_erase; i++)
		if (d->t.erase_size[i] == sector_size)
			return d->t.erase_ms[i][w];
	return (double)sector_size / 1024.0 * 12.5;
}

double sim_mass_erase_ms(const struct sim_device *d)
{
	return d->t.mass_erase_ms[width_index(sim_prog_width(d))];
}

/* One program operation writes prog-width bytes in t_prog_us (DS10916/DS8626: 16 us typical for a
 * byte at x8, a half-word at x16, a word at x32). */
double sim_program_ms(const struct sim_device *d, uint32_t len)
{
	int w = sim_prog_width(d);
	double ops = ceil((double)len / (double)w);
	return ops * d->t.t_prog_us / 1000.0;
}

/*
 * Full-speed bus time of one control transfer: SETUP, ceil(len / 64) data packets, STATUS. Each
 * transaction is charged one slot of the 19 max-size (64-byte) transactions that fit a 1 ms
 * full-speed frame (USB 2.0 Table 5-10, bulk/control at 64 bytes: 19 per frame, 1216 B/frame).
 * DERIVED model: host controllers schedule control transfers less tightly, so this is a lower
 * bound, which is what the stats are for.
 */
uint64_t sim_bus_time_us(uint16_t len)
{
	uint64_t trans = 2 + ((uint64_t)len + 63) / 64;
	return (trans * 1000 + 18) / 19;
}
