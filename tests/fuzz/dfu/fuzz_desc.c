/* Fuzz target: the configuration / DFU functional descriptor walk. */
#include <stddef.h>
#include <stdint.h>

#include "dfu/funcdesc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dfu_desc d;
	struct err e;
	if (dfu_desc_parse(data, size, &d, &e) == 0 && d.n_alts > DFU_MAX_ALTS)
		__builtin_trap();
	return 0;
}
