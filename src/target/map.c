/* Any target's memory map as chip/layout.h's types, from its regions (target.h). */
#include <stdio.h>
#include <string.h>

#include "target/target.h"

/* One region as a memory: its groups straight from the runs, and its description in UM0424's
 * notation ("@Internal Flash /0x08000000/04*016Kg,01*064Kg,..."), which is what a DfuSe ROM
 * shows for it and what info and list print. */
static int one(const struct target_region *r, unsigned num, struct layout_mem *m, struct err *e)
{
	memset(m, 0, sizeof *m);
	m->alt = (uint8_t)num;
	uint8_t type = (uint8_t)((r->readable ? LAYOUT_READABLE : 0) | (r->erasable ? LAYOUT_ERASABLE : 0) |
	                         (r->writable ? LAYOUT_WRITABLE : 0));
	if (!type)
		type = LAYOUT_READABLE; /* the notation's lowest letter, 'a' */
	struct layout *l = &m->layout;
	struct layout_region *lr = &l->regions[0];
	if (!r->n_runs || r->n_runs > LAYOUT_MAX_GROUPS)
		return err_set(e, STM32DFU_E_INTERNAL, "the memory map of %s: %zu sector runs", r->name, r->n_runs);
	lr->start = r->addr;
	int k = snprintf(m->name, sizeof m->name, "@%s /0x%08X/", r->name, (unsigned)r->addr);
	for (size_t i = 0; i < r->n_runs; i++) {
		uint32_t count = r->runs[i].count, size = r->runs[i].size;
		if (!count || !size)
			return err_set(e, STM32DFU_E_INTERNAL, "the memory map of %s: an empty sector run", r->name);
		lr->groups[lr->n_groups++] = (struct layout_group){count, size, type};
		lr->length += (uint64_t)count * size;
		bool kib = size % 1024u == 0;
		if (k > 0 && (size_t)k < sizeof m->name)
			k += snprintf(m->name + k, sizeof m->name - (size_t)k, "%s%u*%u%c%c", i ? "," : "", (unsigned)count,
			              (unsigned)(kib ? size / 1024u : size), kib ? 'K' : 'B', 'a' + type - 1);
	}
	if (k <= 0 || (size_t)k >= sizeof m->name || lr->start + lr->length > (uint64_t)UINT32_MAX + 1)
		return err_set(e, STM32DFU_E_INTERNAL, "the memory map of %s does not fit", r->name);
	l->n_regions = 1;
	/* a second zone (one run, the same access): "/0x1FFFF800/01*048 e" as the DfuSe string has it */
	if (r->size2) {
		struct layout_region *l2 = &l->regions[1];
		l2->start = r->addr2;
		l2->groups[0] = (struct layout_group){1, r->size2, type};
		l2->n_groups = 1;
		l2->length = r->size2;
		l->n_regions = 2;
		bool kib = r->size2 % 1024u == 0;
		if (k > 0 && (size_t)k < sizeof m->name)
			k += snprintf(m->name + k, sizeof m->name - (size_t)k, "/0x%08X/1*%u%c%c", (unsigned)r->addr2,
			              (unsigned)(kib ? r->size2 / 1024u : r->size2), kib ? 'K' : 'B', 'a' + type - 1);
		if (k <= 0 || (size_t)k >= sizeof m->name || l2->start + l2->length > (uint64_t)UINT32_MAX + 1)
			return err_set(e, STM32DFU_E_INTERNAL, "the memory map of %s does not fit", r->name);
	}
	snprintf(l->name, sizeof l->name, "%s", r->name);
	m->have_layout = true;
	return 0;
}

int target_map_build(struct target *t, struct layout_map *out, struct err *e)
{
	struct target_region reg[TARGET_MAX_REGIONS];
	size_t n = 0;
	int rc = t->ops->regions(t, reg, TARGET_MAX_REGIONS, &n);
	if (rc < 0) {
		*e = t->err;
		return rc;
	}
	if (n > LAYOUT_MAP_MAX)
		return err_set(e, STM32DFU_E_INTERNAL, "the memory map: %zu memories", n);
	out->n = 0; /* made again in place: callers keep their pointer to the session's map */
	for (size_t i = 0; i < n; i++) {
		if ((rc = one(&reg[i], (unsigned)i, &out->mem[i], e)) < 0)
			return rc;
		out->n = (unsigned)i + 1;
	}
	return 0;
}
