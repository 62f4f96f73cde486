/* A chip's memory map as data: lookups by address and by name (see layout.h). */
#include "chip/layout.h"

#include <string.h>

uint64_t layout_total_size(const struct layout *l)
{
	uint64_t t = 0;
	for (unsigned i = 0; i < l->n_regions; i++)
		t += l->regions[i].length;
	return t;
}

bool layout_sector_at(const struct layout *l, unsigned region, unsigned i, struct layout_sector *out)
{
	if (region >= l->n_regions)
		return false;
	const struct layout_region *r = &l->regions[region];
	uint64_t at = r->start;
	unsigned index = 0;
	for (unsigned g = 0; g < r->n_groups; g++) {
		const struct layout_group *gr = &r->groups[g];
		if (i - index < gr->count) {
			*out = (struct layout_sector){region, i, (uint32_t)(at + (uint64_t)(i - index) * gr->size), gr->size,
			                              gr->type};
			return true;
		}
		index += gr->count; /* count sums fit: the region fits 2^32 bytes of >= 1-byte sectors */
		at += (uint64_t)gr->count * gr->size;
	}
	return false;
}

bool layout_find(const struct layout *l, uint32_t addr, struct layout_sector *out)
{
	for (unsigned ri = 0; ri < l->n_regions; ri++) {
		const struct layout_region *r = &l->regions[ri];
		if (addr < r->start || (uint64_t)addr - r->start >= r->length)
			continue;
		uint64_t off = addr - r->start;
		unsigned index = 0;
		for (unsigned g = 0; g < r->n_groups; g++) {
			const struct layout_group *gr = &r->groups[g];
			uint64_t glen = (uint64_t)gr->count * gr->size;
			if (off < glen) {
				uint32_t k = (uint32_t)(off / gr->size);
				*out = (struct layout_sector){ri, index + k, (uint32_t)(addr - off % gr->size), gr->size,
				                              gr->type};
				return true;
			}
			off -= glen;
			index += gr->count;
		}
	}
	return false;
}

const struct layout_mem *layout_map_find(const struct layout_map *m, const char *prefix)
{
	size_t k = strlen(prefix);
	for (unsigned i = 0; i < m->n; i++)
		if (m->mem[i].have_layout && strncmp(m->mem[i].layout.name, prefix, k) == 0)
			return &m->mem[i];
	return NULL;
}
