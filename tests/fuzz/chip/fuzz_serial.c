/*
 * Fuzz: serial verdict and -S selector parsing over arbitrary strings.
 * Input: byte 0 picks the family (or none), bytes 1..12 are the UID, the rest is the serial string.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chip/serial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[128];
	uint8_t uid[12] = {0};
	if (size < 1)
		return 0;
	size_t n = chip_family_count();
	const struct chip_family *fam = data[0] % (n + 1) == n ? NULL : &chip_families[data[0] % (n + 1)];
	bool has_uid = size >= 13;
	if (has_uid)
		memcpy(uid, data + 1, 12);
	size_t off = has_uid ? 13 : 1;
	size_t sl = size - off < sizeof(s) - 1 ? size - off : sizeof(s) - 1;
	memcpy(s, data + off, sl);
	s[sl] = 0;
	struct chip_serial_result r;
	chip_serial_check(fam, s, has_uid ? uid : NULL, &r);
	struct chip_selector sel;
	if (chip_serial_parse_selector(s, &sel))
		(void)chip_selector_matches(&sel, s, has_uid ? uid : NULL);
	struct chip_alt_info info;
	(void)chip_parse_alt(s, &info);
	struct chip_evidence ev = {.alt_names = {s}, .n_alts = 1, .usb_serial = s};
	struct chip_identity id;
	(void)chip_identify(&ev, &id);
	return 0;
}
