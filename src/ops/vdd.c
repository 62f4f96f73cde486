/* --vdd: the Device Feature voltage range (vdd.h). */
#include "ops/vdd.h"

#include <string.h>

#include "core/log.h"
#include "ops/session.h"

int ops_vdd_range(double volts, int *range, struct err *e)
{
	/* AN2606 "Device Feature" ranges; a supply at a range's lower bound belongs to that range */
	if (!(volts >= 1.8 && volts <= 3.6))
		return err_set(e, STM32DFU_E_USAGE,
		               "{@vdd} %g: the ROM's voltage ranges cover 1.8 to 3.6 V (AN2606); give the board's supply "
		               "voltage, or leave {@vdd} out to keep the ROM's default (x8)", volts);
	*range = volts >= 2.7 ? 3 : volts >= 2.4 ? 2 : volts >= 2.1 ? 1 : 0;
	return 0;
}

unsigned ops_vdd_unit(int range)
{
	/* RM0090 Table 7 / RM0385 "Program/erase parallelism": x8, x16, x16, x32 */
	static const unsigned unit[] = {1, 2, 2, 4};
	return range >= 0 && range <= 3 ? unit[range] : 1;
}

const char *ops_vdd_range_text(int range)
{
	static const char *const text[] = {"1.8-2.1 V, x8", "2.1-2.4 V, x16", "2.4-2.7 V, x16", "2.7-3.6 V, x32"};
	return range >= 0 && range <= 3 ? text[range] : "unknown";
}

static const struct layout_mem *feature_alt(const struct ops_session *s)
{
	const struct layout_mem *a = layout_map_find(s->map, "Device Feature");
	if (!a || a->layout.n_regions == 0 || a->layout.regions[0].start != OPS_VDD_ADDR ||
	    a->layout.regions[0].length < 4)
		return NULL;
	return a;
}

int ops_vdd_check(struct ops_session *s)
{
	if (!feature_alt(s)) { /* said before any transfer */
		err_set(&s->err, STM32DFU_E_UNSUPPORTED,
		        "{@vdd}: this device has no Device Feature memory (an alt setting \"Device Feature\" at 0x%08X), "
		        "so its flash parallelism cannot be set", OPS_VDD_ADDR);
		err_hint(&s->err, "leave {@vdd} out: only F2, F4 and F7 ROMs offer it (AN2606); {@list} shows the "
		                  "device's memories");
		return STM32DFU_E_UNSUPPORTED;
	}
	/* the voltage range sets the flash's parallelism (PSIZE) of the F2, F4 and F7 only; an L4, G4,
	 * U5 or WB ROM may list a Device Feature memory, but its flash programs double words at any
	 * supply (RM0394 3.3.7, RM0440 3.3.7): a range written there changes nothing */
	if (!s->have_identity)
		ops_identify(s);
	const struct chip_family *fam = s->have_identity ? s->id.chip.family : NULL;
	if (fam && fam->id && strchr("LGUW", fam->id[0])) {
		err_set(&s->err, STM32DFU_E_UNSUPPORTED,
		        "{@vdd}: the %s programs its flash the same way at any supply voltage: there is no voltage "
		        "range to set", fam->name);
		err_hint(&s->err, "leave {@vdd} out: only the F2, F4 and F7 program by voltage range (AN2606)");
		return STM32DFU_E_UNSUPPORTED;
	}
	return 0;
}

int ops_vdd_apply(struct ops_session *s, int range)
{
	const struct layout_mem *a = feature_alt(s);
	if (!a)
		return ops_vdd_check(s);
	if (range < 0 || range > 3)
		return err_set(&s->err, STM32DFU_E_INTERNAL, "{@vdd}: voltage range %d", range);
	const uint8_t want[4] = {(uint8_t)range, 0xFF, 0xFF, 0xFF}; /* bytes 1-3 reserved: 0xFF */
	uint8_t got[4];
	int rc;
	/* the target selects the memory by its address (DfuSe: the Device Feature alt setting) */
	if ((rc = target_write(s->t, OPS_VDD_ADDR, want, sizeof want)) < 0 ||
	    (rc = target_read(s->t, OPS_VDD_ADDR, got, sizeof got)) < 0) {
		s->err = s->t->err;
		return err_prefix(&s->err, "{@vdd}: setting the voltage range %d (%s)", range, ops_vdd_range_text(range));
	}
	if (got[0] != want[0])
		return err_set(&s->err, STM32DFU_E_VERIFY,
		               "{@vdd}: the chip did not take voltage range %d (it reads back %u)", range, got[0]);
	log_info("voltage range %d (%s) set through the Device Feature memory", range, ops_vdd_range_text(range));
	return 0;
}
