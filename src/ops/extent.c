/*
 * A file's extent against the device's memory map, before the file is loaded (issue 24 item 13):
 * ops_check_extent refuses only what the write or verify would surely refuse later, data that no
 * memory of the device holds, and says so in the library's words.
 */
#include <inttypes.h>
#include <stdio.h>

#include "ops/ops.h"
#include "ops/session.h"
#include "image/probe.h"

/* The region of any alt setting that holds addr, with its alt's name; NULL if none. */
static const struct layout_region *region_of(const struct ops_session *s, uint32_t addr, const char **name)
{
	for (unsigned i = 0; i < s->map->n; i++) {
		const struct layout_mem *a = &s->map->mem[i];
		if (!a->have_layout)
			continue;
		for (unsigned r = 0; r < a->layout.n_regions; r++) {
			const struct layout_region *rg = &a->layout.regions[r];
			if (addr >= rg->start && (uint64_t)addr < (uint64_t)rg->start + rg->length) {
				*name = a->layout.name;
				return rg;
			}
		}
	}
	return NULL;
}

static void size_words(uint64_t n, char *buf, size_t cap)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(buf, cap, "%" PRIu64 " MiB", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, cap, "%" PRIu64 " KiB", n >> 10);
	else
		snprintf(buf, cap, "%" PRIu64 " bytes", n);
}

int ops_check_extent(struct ops_session *s, const struct img_extent *x, const char *what)
{
	if (!x || !x->known || !s->map)
		return 0;
	bool any_layout = false;
	for (unsigned i = 0; i < s->map->n; i++)
		any_layout |= s->map->mem[i].have_layout;
	if (!any_layout)
		return 0; /* no map to check against (a plain DFU device) */
	for (size_t i = 0; i < x->n; i++) {
		/* walk the range region by region: adjacent regions (flash then OTP) may share it */
		for (uint64_t a = x->r[i].lo; a < x->r[i].end;) {
			const char *name = "";
			const struct layout_region *rg = a <= UINT32_MAX ? region_of(s, (uint32_t)a, &name) : NULL;
			if (rg) {
				a = (uint64_t)rg->start + rg->length;
				continue;
			}
			/* RAM: the ROM serves it without listing it (ops_read_check, AN2606 Table 5) */
			if (a >= 0x20000000u && x->r[i].end <= 0x40000000u && ops_identify(s) == 0 && s->id.chip.family)
				break;
			char held[32], file_bytes[32];
			size_words(x->r[i].end - x->r[i].lo, held, sizeof held);
			size_words(x->file_size, file_bytes, sizeof file_bytes);
			const char *prev = "";
			const struct layout_region *before = a > x->r[i].lo ? region_of(s, (uint32_t)(a - 1), &prev) : NULL;
			if (before)
				err_set(&s->err, STM32DFU_E_RANGE, "%s: its data at 0x%08" PRIX32 "-0x%08" PRIX64 " (%s) runs past "
				        "the end of %s at 0x%08" PRIX64 "; the file was not loaded, nothing was written", what, x->r[i].lo, x->r[i].end - 1, held, prev,
				        (uint64_t)before->start + before->length);
			else
				err_set(&s->err, STM32DFU_E_RANGE, "%s: its data at 0x%08" PRIX64 "-0x%08" PRIX64 " is outside "
				        "the device's memory map; the file was not loaded, nothing was written", what, a, x->r[i].end - 1);
			if (x->format == IMG_FMT_BIN)
				err_hint(&s->err, "a raw binary (%s) is placed whole from its base address 0x%08" PRIX32 ": "
				         "check that this is the firmware for this chip and the base address it needs",
				         file_bytes, x->r[i].lo);
			else
				err_hint(&s->err, "the file's addresses are not this chip's: check that it is the firmware "
				         "built for this chip (its linker script's memory map)");
			return STM32DFU_E_RANGE;
		}
	}
	return 0;
}
