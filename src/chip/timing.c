/*
 * Typical flash erase times per family, from the datasheets' "Flash memory programming" (or
 * "characteristics") tables, at the parallelism the erase runs with: x8 (one byte at a time,
 * voltage range 0 in the Device Feature byte, the ROM's default: AN2606 "Device Feature"), x16 or
 * x32. Two uses: progress of an operation the host cannot watch (a mass erase answers "busy" until
 * it is over), and the write's choice between one mass erase and the sectors one by one (ops/
 * write.c). Typical values, never timeouts. A family without a row has no figures: never a mass
 * erase chosen for speed there.
 */
#include <string.h>

#include "chip/chip.h"

/* One erase's typical time at x8, x16, x32 (ms); page flashes have one width: the same thrice. */
struct erase_row {
	uint32_t size; /* sector/page bytes; 0: a page of any size the family has */
	unsigned ms[3];
};

static const struct {
	const char *family;
	struct erase_row sectors[4];
	unsigned mass_ms[3];
	const char *source;
} erase_times[] = {
	{"F0", {{0, {40, 40, 40}}}, {40, 40, 40},
	 "DS10360 (STM32F042) Flash memory characteristics: tERASE page 20..40 ms, tME 20..40 ms (the maxima, "
	 "as profiles/f0-32k.profile)"},
	{"F40x", {{16384, {400, 300, 250}}, {65536, {1200, 700, 550}}, {131072, {2000, 1100, 1000}}},
	 {16000, 11000, 8000},
	 "DS8626 (STM32F405/407) Flash memory programming, typical: 16 KB 400/300/250 ms, 64 KB 1200/700/550 ms, "
	 "128 KB 2000/1100/1000 ms, tME 16/11/8 s (x8/x16/x32)"},
	/* the same figures for the 2 MiB die (both banks); DS9405's table is the F40x one: DERIVED,
	 * and an ST forum answer gives the F429 2 MB's mass/bank erase as 8-32 s (x32 typical to x8
	 * maximum), which fits */
	{"F42x", {{16384, {400, 300, 250}}, {65536, {1200, 700, 550}}, {131072, {2000, 1100, 1000}}},
	 {16000, 11000, 8000},
	 "DS9405 (STM32F427/429) Flash memory programming, as DS8626 (DERIVED; community.st.com "
	 "'how to tell when a full flash erase is complete': F429 2 MB mass/bank erase 8-32 s)"},
	{"F74x", {{32768, {400, 250, 200}}, {131072, {1100, 800, 550}}, {262144, {2000, 1500, 1000}}},
	 {16000, 11000, 8000},
	 "DS10916 (STM32F745/746) Flash memory programming, typical: 32 KB 400/250/200 ms, 128 KB "
	 "1100/800/550 ms, 256 KB 2000/1500/1000 ms, tME 16/11/8 s"},
	/* page flashes, 64-bit programming: the erase width does not change */
	{"G0", {{2048, {22, 22, 22}}}, {22, 22, 22},
	 "DS13560 (STM32G0C1) Flash memory characteristics, typical: page erase 22 ms, mass erase 22.1 ms "
	 "(UNCONFIRMED, as profiles/g0c1.profile)"},
	{"G4", {{2048, {22, 22, 22}}}, {22, 22, 22},
	 "DS12288 (STM32G474) Flash memory characteristics, typical: page erase 22 ms, mass erase 22.1 ms "
	 "(UNCONFIRMED, as profiles/g474.profile)"},
	{"L4", {{2048, {22, 22, 22}}}, {22, 22, 22},
	 "DS11449 (STM32L433) Flash memory characteristics, typical: page erase 22 ms, mass erase 22.1 ms "
	 "(UNCONFIRMED, as profiles/l43x.profile)"},
};

static int row_of(const struct chip_family *f)
{
	if (!f || !f->id)
		return -1;
	for (size_t i = 0; i < sizeof erase_times / sizeof erase_times[0]; i++)
		if (strcmp(erase_times[i].family, f->id) == 0)
			return (int)i;
	return -1;
}

static int column(unsigned width)
{
	return width >= 4 ? 2 : width >= 2 ? 1 : 0;
}

unsigned chip_mass_erase_typ_ms(const struct chip_family *f)
{
	return chip_mass_erase_ms_at(f, 1);
}

unsigned chip_mass_erase_ms_at(const struct chip_family *f, unsigned width)
{
	int r = row_of(f);
	return r < 0 ? 0 : erase_times[r].mass_ms[column(width)];
}

unsigned chip_sector_erase_ms_at(const struct chip_family *f, uint32_t size, unsigned width)
{
	int r = row_of(f);
	if (r < 0 || size == 0)
		return 0;
	for (size_t i = 0; i < sizeof erase_times[r].sectors / sizeof erase_times[r].sectors[0]; i++) {
		const struct erase_row *e = &erase_times[r].sectors[i];
		if (e->ms[0] && (e->size == size || e->size == 0))
			return e->ms[column(width)];
	}
	return 0;
}

const char *chip_erase_times_source(const struct chip_family *f)
{
	int r = row_of(f);
	return r < 0 ? NULL : erase_times[r].source;
}
