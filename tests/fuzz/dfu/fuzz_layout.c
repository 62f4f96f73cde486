/* Fuzz target: the DfuSe memory-layout string parser (untrusted device strings). */
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "dfu/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct layout l;
	struct err e;
	log_set_level(LOG_ERROR);
	if (layout_parse((const char *)data, size, &l, &e) == 0) {
		/* the helpers must agree with what was parsed */
		struct layout_sector s;
		uint64_t total = layout_total_size(&l);
		(void)total;
		for (unsigned r = 0; r < l.n_regions; r++) {
			if (layout_find(&l, l.regions[r].start, &s) && s.start > l.regions[r].start)
				__builtin_trap();
			(void)layout_sector_at(&l, r, 0, &s);
			uint64_t last = l.regions[r].start + l.regions[r].length - 1;
			if (!layout_find(&l, (uint32_t)last, &s))
				__builtin_trap();
		}
	}
	return 0;
}
