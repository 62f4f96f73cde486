/*
 * Typical flash times the host uses to show progress of an operation it cannot watch (a mass
 * erase answers "busy" until it is over). Datasheet typical values at the parallelism the ROM
 * uses by default: one byte at a time (x8, voltage range 0 in the Device Feature byte, AN2606
 * "Device Feature"). A shown time, never a timeout.
 */
#include <string.h>

#include "chip/chip.h"

static const struct {
	const char *family;
	unsigned mass_erase_ms;
	const char *source;
} erase_times[] = {
	{"F0", 40, "DS10360 (STM32F042) Flash memory characteristics: tME 20..40 ms"},
	{"F40x", 16000, "DS8626 (STM32F405/407) Flash memory programming: tME x8 16 s typical"},
	{"F74x", 16000, "DS10916 (STM32F745/746) Flash memory programming: tME x8 16 s typical"},
};

unsigned chip_mass_erase_typ_ms(const struct chip_family *f)
{
	if (!f)
		return 0;
	for (size_t i = 0; i < sizeof erase_times / sizeof erase_times[0]; i++)
		if (strcmp(erase_times[i].family, f->id) == 0)
			return erase_times[i].mass_erase_ms;
	return 0;
}
