#include "ops/plan.h"

#include <stdlib.h>
#include <string.h>

#include "image/image.h"

void plan_free(struct write_plan *plan)
{
	for (size_t i = 0; i < plan->n_touched; i++) {
		free(plan->touched[i].current);
		free(plan->touched[i].desired);
	}
	free(plan->touched);
	free(plan->runs);
	memset(plan, 0, sizeof *plan);
}

static const struct plan_sector *sector_of(const struct plan_sector *s, size_t n, uint32_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (addr >= s[i].start && (uint64_t)addr < (uint64_t)s[i].start + s[i].size)
			return &s[i];
	return NULL;
}

int plan_touch(struct write_plan *plan, const struct img *img, uint8_t alt, const struct plan_sector *sectors,
               size_t n_sectors, uint32_t limit_end, struct err *e)
{
	memset(plan, 0, sizeof *plan);
	bool *mark = calloc(n_sectors ? n_sectors : 1, sizeof *mark);
	if (!mark)
		return err_set(e, STM32DFU_E_NO_MEMORY, "plan: out of memory");
	for (size_t i = 0; i < img->n_segs; i++) {
		const struct img_seg *seg = &img->segs[i];
		if (seg->alt != alt || seg->len == 0)
			continue;
		uint64_t end = (uint64_t)seg->addr + seg->len;
		if (limit_end && end > limit_end) {
			free(mark);
			err_set(e, STM32DFU_E_RANGE, "image data at 0x%08X-0x%08X runs past the end of flash at 0x%08X",
			        seg->addr, (unsigned)(end - 1), limit_end);
			err_hint(e, "the chip's flash-size register says it has %u KiB; check the file's addresses",
			         (unsigned)((limit_end - (sectors ? sectors[0].start : 0)) / 1024u));
			return e ? e->code : STM32DFU_E_RANGE;
		}
		/* walk sector by sector: each step moves to the next sector's start */
		for (uint64_t a = seg->addr; a < end;) {
			const struct plan_sector *s = sector_of(sectors, n_sectors, (uint32_t)a);
			if (!s) {
				free(mark);
				err_set(e, STM32DFU_E_RANGE, "image data at 0x%08X is outside the device's flash", (unsigned)a);
				err_hint(e, "a raw .bin needs the right base address (-a 0x08000000)");
				return e ? e->code : STM32DFU_E_RANGE;
			}
			mark[s - sectors] = true;
			a = (uint64_t)s->start + s->size;
		}
	}
	size_t count = 0;
	for (size_t i = 0; i < n_sectors; i++)
		count += mark[i];
	plan->touched = calloc(count ? count : 1, sizeof *plan->touched);
	if (!plan->touched) {
		free(mark);
		return err_set(e, STM32DFU_E_NO_MEMORY, "plan: out of memory");
	}
	/* address order, whatever order the layout listed them in */
	for (size_t k = 0; k < count; k++) {
		size_t best = n_sectors;
		for (size_t i = 0; i < n_sectors; i++)
			if (mark[i] && (best == n_sectors || sectors[i].start < sectors[best].start))
				best = i;
		mark[best] = false;
		plan->touched[k].sector = sectors[best];
	}
	plan->n_touched = count;
	free(mark);
	return 0;
}

int plan_add_sector(struct write_plan *plan, const struct plan_sector *sector, struct err *e)
{
	size_t k = 0;
	while (k < plan->n_touched && plan->touched[k].sector.start < sector->start)
		k++;
	if (k < plan->n_touched && plan->touched[k].sector.start == sector->start)
		return 0;
	struct plan_touched *v = realloc(plan->touched, (plan->n_touched + 1) * sizeof *v);
	if (!v)
		return err_set(e, STM32DFU_E_NO_MEMORY, "plan: out of memory");
	plan->touched = v;
	memmove(v + k + 1, v + k, (plan->n_touched - k) * sizeof *v);
	memset(&v[k], 0, sizeof v[k]);
	v[k].sector = *sector;
	plan->n_touched++;
	return 0;
}

static int add_run(struct write_plan *plan, uint32_t addr, uint32_t len, struct err *e)
{
	/* a block that follows the previous one extends its run: one Set Address for the whole run.
	 * Only full blocks can be followed, so a trimmed block always ends its run. */
	if (plan->n_runs && plan->runs[plan->n_runs - 1].addr + plan->runs[plan->n_runs - 1].len == addr &&
	    plan->runs[plan->n_runs - 1].len % plan->transfer_size == 0) {
		plan->runs[plan->n_runs - 1].len += len;
		return 0;
	}
	if (plan->n_runs == plan->cap_runs) {
		size_t cap = plan->cap_runs ? plan->cap_runs * 2 : 16;
		struct plan_run *r = realloc(plan->runs, cap * sizeof *r);
		if (!r)
			return err_set(e, STM32DFU_E_NO_MEMORY, "plan: out of memory");
		plan->runs = r;
		plan->cap_runs = cap;
	}
	plan->runs[plan->n_runs++] = (struct plan_run){addr, len};
	return 0;
}

static uint32_t count_programmed(const uint8_t *p, size_t n)
{
	uint32_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += p[i] != 0xFF;
	return c;
}

static bool all_blank(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return false;
	return true;
}

/* The touched sector holding addr, or NULL (touched sectors are in address order: binary search). */
static const struct plan_touched *touched_at(const struct write_plan *plan, uint32_t addr)
{
	size_t lo = 0, hi = plan->n_touched;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct plan_touched *t = &plan->touched[mid];
		if (addr < t->sector.start)
			hi = mid;
		else if (addr - t->sector.start >= t->sector.size)
			lo = mid + 1;
		else
			return t;
	}
	return NULL;
}

const uint8_t *plan_desired_at(const struct write_plan *plan, uint32_t addr)
{
	const struct plan_touched *t = touched_at(plan, addr);
	return t ? t->desired + (addr - t->sector.start) : NULL;
}

void plan_desired_copy(const struct write_plan *plan, uint32_t addr, uint32_t n, uint8_t *out)
{
	while (n) {
		const struct plan_touched *t = touched_at(plan, addr);
		if (!t) { /* not reachable for ranges built from touched sectors; stay safe */
			memset(out, 0xFF, n);
			return;
		}
		uint32_t off = addr - t->sector.start;
		uint32_t m = t->sector.size - off < n ? t->sector.size - off : n;
		memcpy(out, t->desired + off, m);
		out += m;
		addr += m;
		n -= m;
	}
}

/* Chunks an erased range [start, start+len) into blocks and adds the non-blank ones as runs. */
static int plan_range(struct write_plan *plan, uint32_t start, uint32_t len, uint8_t *chunk, struct err *e)
{
	for (uint32_t off = 0; off < len; off += plan->transfer_size) {
		uint32_t n = len - off < plan->transfer_size ? len - off : plan->transfer_size;
		plan_desired_copy(plan, start + off, n, chunk);
		if (all_blank(chunk, n))
			continue;
		/* the last chunk of a run may be short: drop its trailing erased bytes (kept aligned) */
		bool next_blank = true;
		if (off + n < len) {
			uint32_t n2 = len - off - n < plan->transfer_size ? len - off - n : plan->transfer_size;
			uint8_t *tmp = chunk + plan->transfer_size; /* caller gave room for two chunks */
			plan_desired_copy(plan, start + off + n, n2, tmp);
			next_blank = all_blank(tmp, n2);
		}
		uint32_t used = n;
		if (next_blank) {
			while (used > 0 && chunk[used - 1] == 0xFF)
				used--;
			used = (used + plan->align - 1) / plan->align * plan->align;
			if (used > n)
				used = n;
		}
		int rc = add_run(plan, start + off, used, e);
		if (rc)
			return rc;
		plan->bytes_to_program += used;
		plan->blocks++;
	}
	return 0;
}

int plan_build(struct write_plan *plan, const struct img *img, uint8_t alt, uint32_t transfer_size, uint32_t align,
               bool full, struct err *e)
{
	if (transfer_size == 0 || align == 0 || transfer_size % align)
		return err_set(e, STM32DFU_E_INTERNAL, "plan: transfer size %u is not a multiple of alignment %u",
		               transfer_size, align);
	plan->transfer_size = transfer_size;
	plan->align = align;
	for (size_t i = 0; i < plan->n_touched; i++) {
		struct plan_touched *t = &plan->touched[i];
		if (!t->current)
			return err_set(e, STM32DFU_E_INTERNAL, "plan: sector %u was not read back", t->sector.index);
		t->desired = malloc(t->sector.size);
		if (!t->desired)
			return err_set(e, STM32DFU_E_NO_MEMORY, "plan: out of memory");
		const uint8_t *old = t->base ? t->base : t->current;
		memcpy(t->desired, old, t->sector.size);
		uint32_t image_bytes = 0, programmed_in_image = 0;
		for (size_t k = 0; k < img->n_segs; k++) {
			const struct img_seg *seg = &img->segs[k];
			if (seg->alt != alt)
				continue;
			uint64_t lo = seg->addr > t->sector.start ? seg->addr : t->sector.start;
			uint64_t hi_seg = (uint64_t)seg->addr + seg->len;
			uint64_t hi_sec = (uint64_t)t->sector.start + t->sector.size;
			uint64_t hi = hi_seg < hi_sec ? hi_seg : hi_sec;
			if (lo >= hi)
				continue;
			programmed_in_image += count_programmed(old + (lo - t->sector.start), (size_t)(hi - lo));
			memcpy(t->desired + (lo - t->sector.start), seg->data + (lo - seg->addr), (size_t)(hi - lo));
			image_bytes += (uint32_t)(hi - lo);
		}
		t->image_bytes = image_bytes;
		bool same = t->by_checksum ? t->by_checksum > 0 : memcmp(t->desired, t->current, t->sector.size) == 0;
		t->action = (same && !full) ? PLAN_SKIP : PLAN_ERASE_PROGRAM;
		if (t->action == PLAN_SKIP) {
			plan->sectors_skipped++;
			continue;
		}
		plan->sectors_to_erase++;
		/* bytes outside the image that hold data: the erase would lose them, so they are rewritten */
		/* (segments do not overlap: the old bytes' programmed ones minus those under the image) */
		uint32_t preserved = count_programmed(old, t->sector.size) - programmed_in_image;
		t->preserved_bytes = preserved;
	}
	uint8_t *chunk = malloc(2u * transfer_size);
	if (!chunk)
		return err_set(e, STM32DFU_E_NO_MEMORY, "plan: out of memory");
	/* erased sectors that touch form contiguous ranges; blocks are aligned to each range's start */
	int rc = 0;
	for (size_t i = 0; i < plan->n_touched && !rc;) {
		if (plan->touched[i].action != PLAN_ERASE_PROGRAM) {
			i++;
			continue;
		}
		uint32_t start = plan->touched[i].sector.start;
		uint64_t end = (uint64_t)start + plan->touched[i].sector.size;
		size_t j = i + 1;
		while (j < plan->n_touched && plan->touched[j].action == PLAN_ERASE_PROGRAM &&
		       plan->touched[j].sector.start == end) {
			end += plan->touched[j].sector.size;
			j++;
		}
		rc = plan_range(plan, start, (uint32_t)(end - start), chunk, e);
		i = j;
	}
	free(chunk);
	return rc;
}

bool plan_mass_erase_pays(struct write_plan *plan, const struct plan_sector *flash, size_t n,
                          const unsigned *sector_ms, unsigned mass_ms)
{
	plan->mass_erase = false;
	if (n == 0 || mass_ms == 0 || plan->sectors_to_erase != n)
		return false;
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		const struct plan_touched *t = touched_at(plan, flash[i].start);
		/* every sector of the flash erased, none keeping a byte outside the image */
		if (!t || t->sector.start != flash[i].start || t->action != PLAN_ERASE_PROGRAM || t->preserved_bytes)
			return false;
		if (sector_ms[i] == 0)
			return false;
		sum += sector_ms[i];
	}
	plan->mass_erase = mass_ms < sum;
	return plan->mass_erase;
}
