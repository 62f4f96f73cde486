/* libFuzzer target: the srec reader of src/image, then the writers (see fuzz_image_common.h). */
#include "fuzz_image_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_one(data, size, IMG_FMT_SREC);
}
