/* write, before the plan: what the chip holds in each touched sector (compared first over USART,
 * read back otherwise), and a second read of the bytes to keep before any erase. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "ops/write_int.h"
#include "image/image.h"
#include "ops/rdpnote.h"

/* Bytes of the image inside [start, start+size) (segments do not overlap). */
static uint64_t image_bytes_in(const struct img *img, uint32_t start, uint32_t size)
{
	uint64_t sum = 0, hi_sec = (uint64_t)start + size;
	for (size_t k = 0; k < img->n_segs; k++) {
		const struct img_seg *seg = &img->segs[k];
		uint64_t lo = seg->addr > start ? seg->addr : start;
		uint64_t hi = (uint64_t)seg->addr + seg->len < hi_sec ? (uint64_t)seg->addr + seg->len : hi_sec;
		if (seg->alt == 0 && lo < hi)
			sum += hi - lo;
	}
	return sum;
}

/* Whether the image's bytes in touched sector t differ from what the chip holds (the sector
 * will be erased). */
static bool image_differs(const struct img *img, const struct plan_touched *t)
{
	for (size_t k = 0; k < img->n_segs; k++) {
		const struct img_seg *seg = &img->segs[k];
		uint64_t lo = seg->addr > t->sector.start ? seg->addr : t->sector.start;
		uint64_t hi_seg = (uint64_t)seg->addr + seg->len, hi_sec = (uint64_t)t->sector.start + t->sector.size;
		uint64_t hi = hi_seg < hi_sec ? hi_seg : hi_sec;
		if (seg->alt == 0 && lo < hi &&
		    memcmp(seg->data + (lo - seg->addr), t->current + (lo - t->sector.start), (size_t)(hi - lo)) != 0)
			return true;
	}
	return false;
}

/*
 * A sector the image covers only partly keeps its other bytes through an erase by writing back
 * what was read, and the verify compares against that same copy: a bit flipped in that read (past
 * USB's CRC16) would be written back as "kept" and verified. So every such sector that will be
 * erased is read a second time before anything is erased, and the reads must agree (ops_read_again
 * reads on until two in a row do). One extra read of the partly covered sectors only: sectors the
 * image covers completely (the verify checks them) and sectors whose kept bytes come from a
 * recovery file pay nothing.
 */
int wr_confirm_kept(struct ops_session *s, struct write_plan *plan, uint8_t alt, const struct img *img, bool full,
                        struct ops_write_result *r)
{
	for (size_t i = 0; i < plan->n_touched; i++) {
		struct plan_touched *t = &plan->touched[i];
		/* a sector that looks equal is skipped unverified: on a link that has shown a fault its
		 * read is confirmed too (ops_link_faulted) */
		if (t->base || t->by_checksum || image_bytes_in(img, t->sector.start, t->sector.size) >= t->sector.size ||
		    (!full && !image_differs(img, t) && !ops_link_faulted(s)))
			continue;
		uint64_t t0 = wr_now_us(s);
		char differ[48];
		snprintf(differ, sizeof differ, "two reads of sector %u differ", t->sector.index);
		int rc = ops_read_again(s, alt, t->sector.start, t->current, t->sector.size, -1, differ,
		                        "confirming the bytes to keep");
		r->read.bytes += t->sector.size;
		r->read.us += wr_now_us(s) - t0;
		if (rc < 0)
			return err_prefix(&s->err, "write: nothing was erased: reading back sector %u", t->sector.index);
	}
	return 0;
}

int wr_read_touched(struct ops_session *s, struct write_plan *plan, uint8_t alt, const struct img *img,
                        bool compare, struct ops_write_result *r)
{
	uint64_t total = 0;
	uint64_t t0 = wr_now_us(s);
	if (ops_canceled(s))
		return STM32DFU_E_CANCELED;
	/* over USART, sectors are compared first (ops/compare.c: Get Checksum, or a read up to the first
	 * difference of a sector the image covers): one found equal, or to be replaced whole, is not
	 * read whole */
	uint64_t compared0 = s->counters.compare_read_bytes;
	bool differed = true; /* a write's first sector: a blank chip or other firmware, most often */
	/* one progress from the first compare to the last read back: the bytes of the sectors decided */
	uint64_t pdone = 0, ptotal = 0;
	for (size_t i = 0; i < plan->n_touched; i++)
		ptotal += plan->touched[i].current ? 0 : plan->touched[i].sector.size;
	for (size_t i = 0; compare && i < plan->n_touched; i++) {
		s->progress_base = pdone;
		s->progress_total = ptotal;
		int rc = ops_compare_touched(s, img, &plan->touched[i], &differed);
		s->progress_base = s->progress_total = 0;
		if (rc < 0)
			return err_prefix(&s->err, "write: comparing sector %u", plan->touched[i].sector.index);
		if (rc == 1) {
			pdone += plan->touched[i].sector.size;
			ops_report(s, OPS_PHASE_READ, pdone, ptotal, "B");
		}
	}
	total = s->counters.compare_read_bytes - compared0;
	for (size_t i = 0; i < plan->n_touched; i++)
		total += plan->touched[i].current ? 0 : plan->touched[i].sector.size;
	/* adjacent sectors are read as one run: each Set Address costs a status poll (~100 ms on the ROM) */
	for (size_t i = 0; i < plan->n_touched;) {
		if (plan->touched[i].current) {
			i++;
			continue;
		}
		size_t j = i + 1;
		uint64_t span = plan->touched[i].sector.size;
		while (j < plan->n_touched && !plan->touched[j].current &&
		       plan->touched[j].sector.start == (uint64_t)plan->touched[i].sector.start + span) {
			span += plan->touched[j].sector.size;
			j++;
		}
		uint8_t *buf = malloc((size_t)span);
		if (!buf)
			return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
		s->progress_base = pdone;
		s->progress_total = ptotal;
		int rc = ops_read_mem(s, alt, plan->touched[i].sector.start, buf, (size_t)span, OPS_PHASE_READ);
		s->progress_base = s->progress_total = 0;
		pdone += span;
		if (rc < 0) {
			free(buf);
			if (rc == STM32DFU_E_PROTECTED)
				err_hint(&s->err, "%s", ops_rdp_hint(s));
			return err_prefix(&s->err, "write: reading back sector %u", plan->touched[i].sector.index);
		}
		for (size_t k = i, off = 0; k < j; k++) {
			struct plan_touched *t = &plan->touched[k];
			t->current = malloc(t->sector.size);
			if (!t->current) {
				free(buf);
				return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
			}
			memcpy(t->current, buf + off, t->sector.size);
			off += t->sector.size;
		}
		free(buf);
		i = j;
	}
	r->read.bytes = total;
	r->read.us = wr_now_us(s) - t0;
	return 0;
}
