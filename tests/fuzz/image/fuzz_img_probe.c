/* libFuzzer target: the extent probe's record scanner (src/image/probe.c). Byte 0 picks HEX or
 * S-record and byte 1 the piece size the text is fed in. Property: whenever the scan says it knows
 * the extent and the full parser reads the same text, every byte the parser holds lies inside the
 * scan's ranges, so a refusal from the probe is one the full parse would also have led to. */
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	enum img_format f = data[0] & 1 ? IMG_FMT_SREC : IMG_FMT_IHEX;
	size_t piece = (size_t)data[1] + 1;
	data += 2;
	size -= 2;
	struct img_extent x;
	memset(&x, 0, sizeof x);
	x.known = true;
	struct img_scan sc;
	img_scan_init(&sc, f, &x);
	for (size_t at = 0; at < size && !sc.done; at += piece)
		img_scan_feed(&sc, data + at, size - at < piece ? size - at : piece, false);
	if (!sc.done)
		img_scan_feed(&sc, NULL, 0, true);
	if (!x.known)
		return 0;
	for (size_t i = 1; i < x.n; i++)
		if (x.r[i - 1].alt > x.r[i].alt || (x.r[i - 1].alt == x.r[i].alt && x.r[i - 1].end >= x.r[i].lo))
			abort(); /* ranges sorted, disjoint, not adjacent */
	struct img_load_opts lo;
	img_load_opts_init(&lo);
	lo.format = f;
	struct img *img = NULL;
	if (img_parse(data, size, "fuzz", &lo, &img, NULL) != 0)
		return 0;
	for (size_t s = 0; s < img->n_segs; s++) {
		const struct img_seg *g = &img->segs[s];
		if (!g->len)
			continue;
		bool inside = false;
		for (size_t i = 0; i < x.n && !inside; i++)
			inside = x.r[i].alt == g->alt && g->addr >= x.r[i].lo && (uint64_t)g->addr + g->len <= x.r[i].end;
		if (!inside)
			abort();
	}
	img_free(img);
	return 0;
}
