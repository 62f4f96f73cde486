/* libFuzzer target: format detection from content, then whichever reader it picks. */
#include "fuzz_image_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_one(data, size, img_detect(data, size, NULL));
}
