/* Fuzz target: the USB string descriptor (UTF-16LE) decoder. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "usb/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[TP_STRING_MAX], small[5];
	int r = tp_string_decode(data, size, out, sizeof out);
	if (r >= 0 && (size_t)r != strlen(out))
		__builtin_trap();
	r = tp_string_decode(data, size, small, sizeof small);
	if (r >= (int)sizeof small)
		__builtin_trap();
	return 0;
}
