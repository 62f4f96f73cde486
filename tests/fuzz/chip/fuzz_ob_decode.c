/*
 * Fuzz: option-byte decode, set and guard over arbitrary bytes for every family with a layout.
 * Input: byte 0 picks the family, the rest is the block.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chip/ob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t n = chip_family_count();
	const struct chip_family *fam = &chip_families[data[0] % n];
	const uint8_t *block = data + 1;
	size_t len = size - 1;
	struct ob_decoded d;
	if (ob_decode(fam, block, len, &d, NULL) != 0 || !fam->ob->writable || len > 512)
		return 0;
	uint8_t out[512];
	static const char *const assigns[] = {"RDP=level1", "nWRP0=0", "BOOT_ADD1=flash", "BOR_LEV=off"};
	for (size_t i = 0; i < sizeof(assigns) / sizeof(assigns[0]); i++) {
		if (ob_set(fam, block, len, &assigns[i], 1, out, NULL) == 0) {
			struct ob_diff diff;
			unsigned req;
			ob_diff(fam, block, out, len, &diff);
			(void)ob_guard(fam, block, out, len, 0, &req, NULL);
		}
	}
	return 0;
}
