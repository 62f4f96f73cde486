/*
 * write into the memories besides flash (issue 15 item 4). Every segment of the image is placed in
 * the memory that holds it: by its address, or by its alt setting (--alt N, a DfuSe target). Flash
 * goes to the planned write (write.c), OTP to write_otp.c, and here:
 *   RAM: served by the ROM without being listed (AN2606 Table 5, protocol.md 2.3), in the SRAM
 *        region of the Cortex-M memory map; programmed and read back, never into the RAM the
 *        bootloader itself uses (AN3156 note, the family's boot_ram_end);
 *   option bytes: a whole raw block only (the ROM erases the block before it programs it,
 *        protocol.md 2.6), with the guards of `ob set` (chip/ob.h ob_guard) and its write (ops/ob.c).
 * A file with data in two memories is refused (except flash plus OTP bytes of a serial number,
 * o->otp_last). Every refusal names the memory and comes before anything is sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chip/ob.h"
#include "core/log.h"
#include "image/image.h"
#include "ops/ob.h"
#include "ops/ops.h"
#include "ops/write_int.h"

/* ARMv7-M B3.1: the SRAM region of the memory map, 0x20000000-0x3FFFFFFF */
#define SRAM_REGION_START 0x20000000u
#define SRAM_REGION_END 0x40000000ull
#define FLASH_WINDOW_END 0x10000000u

enum wm_kind { WM_FLASH, WM_OTP, WM_OB, WM_RAM, WM_OTHER, WM_N };

static const char *const kind_word[WM_N] = {"flash", "OTP", "option bytes", "RAM", "memory"};

struct wm_place {
	enum wm_kind kind;
	const struct layout_mem *alt;       /* NULL for RAM */
	const struct layout_region *rg;  /* the listed region holding the segment, NULL for RAM */
	const struct img_seg *seg;       /* the first segment placed there */
};

static enum wm_kind kind_of_alt(const struct ops_session *s, const struct layout_mem *a)
{
	if (!a->have_layout)
		return WM_OTHER;
	if (strstr(a->layout.name, "OTP"))
		return WM_OTP;
	if (strstr(a->layout.name, "Option"))
		return WM_OB;
	if (a == ops_flash_alt(s))
		return WM_FLASH;
	/* over USART the map lists the SRAM after the bootloader's own (target_an3155.c) */
	if (strcmp(a->layout.name, "SRAM") == 0)
		return WM_RAM;
	return WM_OTHER;
}

static const struct layout_region *region_of(const struct layout_mem *a, uint32_t addr)
{
	for (unsigned r = 0; a->have_layout && r < a->layout.n_regions; r++) {
		const struct layout_region *g = &a->layout.regions[r];
		if (addr >= g->start && (uint64_t)addr < (uint64_t)g->start + g->length)
			return g;
	}
	return NULL;
}

static const char *wr_memory_name(const struct layout_mem *a, int kind)
{
	return a && a->have_layout ? a->layout.name : kind_word[kind];
}

/* The map's RAM over USART (target_an3155.c lists the RAM the ROM serves as "SRAM"), or NULL. */
static const struct layout_mem *served_ram(struct ops_session *s)
{
	for (unsigned i = 0; i < s->map->n; i++)
		if (kind_of_alt(s, &s->map->mem[i]) == WM_RAM && s->map->mem[i].layout.n_regions)
			return &s->map->mem[i];
	return NULL;
}

/* what (e.g. "image data at 0x20000000") is in the SRAM region but outside the RAM the ROM serves
 * (rg, the USART map's SRAM; NULL: none): below it the bootloader's own RAM, above it past AN2606's
 * range; the ROM would NACK Write or Read Memory there (verb: "write", "read"; done: "written"...;
 * fix: what the hint tells to do, "load the data"). */
static int ram_refused(struct ops_session *s, const char *what, uint32_t addr, const struct layout_region *rg,
                       const char *verb, const char *done, const char *fix)
{
	ops_identify(s);
	const struct chip_family *fam = s->id.chip.family;
	const char *name = fam ? fam->name : "chip's";
	if (!rg) {
		err_set(&s->err, STM32DFU_E_RANGE, "%s is in RAM, and the memory map of the %s "
		        "bootloader has no RAM it serves (AN2606: none known, or all its own); nothing was %s",
		        what, name, done);
		err_hint(&s->err, "{@info} lists the memories this bootloader %ss", verb);
		return STM32DFU_E_RANGE;
	}
	uint64_t end = (uint64_t)rg->start + rg->length;
	if (addr < rg->start && rg->start > SRAM_REGION_START) {
		err_set(&s->err, STM32DFU_E_RANGE, "%s is in the RAM the %s bootloader uses itself "
		        "(0x%08X-0x%08X): its ROM refuses to %s there; nothing was %s", what, name,
		        SRAM_REGION_START, rg->start - 1, verb, done);
		err_hint(&s->err, "%s at 0x%08X or above (AN2606: the bootloader's own RAM)", fix, rg->start);
	} else {
		err_set(&s->err, STM32DFU_E_RANGE, "%s is outside the RAM the %s bootloader serves "
		        "(0x%08X-0x%08X): its ROM refuses to %s there; nothing was %s", what, name, rg->start,
		        (unsigned)(end - 1), verb, done);
		err_hint(&s->err, "%s inside 0x%08X-0x%08X ({@info} lists the memories)", fix, rg->start,
		         (unsigned)(end - 1));
	}
	return STM32DFU_E_RANGE;
}

int wr_uart_ram_refused(struct ops_session *s, const char *what, uint32_t addr, uint64_t end, const char *verb,
                        const char *done, const char *fix)
{
	if (!s->t || s->t->kind != TARGET_AN3155 || end <= SRAM_REGION_START || addr >= SRAM_REGION_END)
		return 0;
	const struct layout_mem *ram = served_ram(s);
	const struct layout_region *rg = ram ? &ram->layout.regions[0] : NULL;
	if (rg && addr >= rg->start && end <= (uint64_t)rg->start + rg->length)
		return 0;
	return ram_refused(s, what, addr, rg, verb, done, fix);
}

/* Where one segment goes; errors (to s->err) for an alt the device lacks, data outside the alt's
 * memory or running past its end, and addresses in no memory at all. */
static int place(struct ops_session *s, const struct img_seg *seg, struct wm_place *p)
{
	memset(p, 0, sizeof *p);
	p->seg = seg;
	uint64_t end = (uint64_t)seg->addr + seg->len;
	const struct layout_map *d = s->map;
	if (seg->alt != 0) {
		const struct layout_mem *a = NULL;
		for (unsigned i = 0; i < d->n && !a; i++)
			if (d->mem[i].alt == seg->alt)
				a = &d->mem[i];
		if (!a) {
			err_set(&s->err, STM32DFU_E_USAGE, "the file has data for alt setting %u; the device has %u (0 to %u)",
			        seg->alt, d->n, d->n ? d->n - 1 : 0);
			err_hint(&s->err, "{@info} lists the alt settings and their memories");
			return STM32DFU_E_USAGE;
		}
		p->alt = a;
		if (!(p->rg = region_of(a, seg->addr))) {
			err_set(&s->err, STM32DFU_E_RANGE, "image data at 0x%08X is not in %s (alt %u)", seg->addr,
			        wr_memory_name(a, WM_OTHER), a->alt);
			err_hint(&s->err, "give the address inside that memory with {@address} ({@info} shows where it is)");
			return STM32DFU_E_RANGE;
		}
	} else {
		for (unsigned i = 0; i < d->n && !p->rg; i++)
			if ((p->rg = region_of(&d->mem[i], seg->addr)))
				p->alt = &d->mem[i];
	}
	if (p->alt) {
		p->kind = kind_of_alt(s, p->alt);
		if (p->kind != WM_FLASH && end > (uint64_t)p->rg->start + p->rg->length)
			return err_set(&s->err, STM32DFU_E_RANGE, "image data at 0x%08X-0x%08X runs past the end of %s at 0x%08X",
			               seg->addr, (unsigned)(end - 1), wr_memory_name(p->alt, p->kind),
			               (unsigned)(p->rg->start + p->rg->length));
		return 0;
	}
	const struct layout_mem *fa = ops_flash_alt(s);
	uint32_t flash_start = fa && fa->have_layout && fa->layout.n_regions ? fa->layout.regions[0].start : 0x08000000u;
	if (seg->addr >= SRAM_REGION_START && seg->addr < SRAM_REGION_END) {
		const struct layout_mem *ram = served_ram(s);
		/* over USART the map lists the RAM the ROM serves: it NACKs the rest */
		if (ram || (s->t && s->t->kind == TARGET_AN3155)) {
			char what[40];
			snprintf(what, sizeof what, "image data at 0x%08X", seg->addr);
			return ram_refused(s, what, seg->addr, ram ? &ram->layout.regions[0] : NULL, "write", "written",
			                   "load the data");
		}
		p->kind = WM_RAM;
		if (end > SRAM_REGION_END)
			return err_set(&s->err, STM32DFU_E_RANGE, "image data at 0x%08X-0x%08X runs past the end of RAM "
			               "(the SRAM region ends at 0x3FFFFFFF)", seg->addr, (unsigned)(end - 1));
		return 0;
	}
	/* the code region's flash window (0x08000000-0x0FFFFFFF on every STM32): past the end of flash,
	 * the planned write says so with the flash size; system memory and the rest are no memory */
	if (seg->addr >= flash_start && seg->addr < FLASH_WINDOW_END) {
		p->kind = WM_FLASH;
		return 0;
	}
	err_set(&s->err, STM32DFU_E_RANGE, "image data at 0x%08X lies in no memory this device writes: not in flash, "
	        "RAM, OTP or option bytes", seg->addr);
	err_hint(&s->err, "{@info} lists the memories and their addresses; check the file's addresses or {@address}");
	return STM32DFU_E_RANGE;
}

int wr_program(struct ops_session *s, uint8_t alt, uint32_t addr, const uint8_t *data, size_t len, uint64_t *done,
               uint64_t total, struct ops_write_result *r)
{
	struct target *t = s->t;
	const size_t ts = s->t->max_transfer;
	/* -t: a block shorter than wTransferSize needs its own Set Address (the ROM numbers blocks in
	 * its own size), so each run is one block */
	const size_t bs = s->xfer_size && s->xfer_size < ts ? s->xfer_size : ts;
	int rc;
	r->transfer_size = (uint32_t)bs;
	if ((rc = t->ops->select(t, alt)) < 0) {
		s->err = t->err;
		return rc;
	}
	for (size_t off = 0; off < len;) {
		/* one pointer per run; a run holds at most TARGET_MAX_RUN_PIECES blocks */
		size_t run = len - off, cap = bs < ts ? bs : (size_t)TARGET_MAX_RUN_PIECES * ts;
		if (run > cap)
			run = cap;
		if (ops_canceled(s))
			return STM32DFU_E_CANCELED;
		if ((rc = t->ops->point(t, addr + (uint32_t)off, false)) < 0) {
			s->err = t->err;
			return err_prefix(&s->err, "setting the address 0x%08X", addr + (unsigned)off);
		}
		r->runs++;
		for (size_t k = 0; k < run; k += ts) {
			if (ops_canceled(s)) /* between two blocks, as the flash write (write.c) */
				return STM32DFU_E_CANCELED;
			size_t n = run - k < ts ? run - k : ts;
			bool not_sent;
			if ((rc = t->ops->dnload(t, addr + (uint32_t)(off + k), data + off + k, n, &not_sent)) < 0) {
				s->err = t->err;
				return err_prefix(&s->err, "block at 0x%08X (%u bytes)", addr + (unsigned)(off + k), (unsigned)n);
			}
			r->blocks++;
			r->bytes_programmed += n;
			*done += n;
			ops_report(s, OPS_PHASE_PROGRAM, *done, total, "B");
		}
		off += run;
	}
	return 0;
}

/* A RAM segment as the bootloader's own unit takes it (AN3155 Write Memory: whole words at a word
 * address, 3.6; DfuSe: any byte): a segment whose ends are not on a word is widened to the words
 * around it, the bytes it does not cover read from the chip first (read-modify-write), so they keep
 * what they hold. *out is the segment's data itself when nothing is to be widened. */
static int ram_words(struct ops_session *s, uint8_t alt, const struct img_seg *seg, uint32_t *lo, uint8_t **out,
                     size_t *len, bool *owned)
{
	uint32_t a = s->t->write_align ? s->t->write_align : 1;
	*lo = seg->addr / a * a;
	*len = (size_t)(((uint64_t)seg->addr + seg->len + a - 1) / a * a - *lo);
	*owned = *len != seg->len;
	if (!*owned) {
		*out = (uint8_t *)seg->data;
		return 0;
	}
	uint8_t *w = malloc(*len);
	if (!w)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	int rc = 0;
	uint32_t head = seg->addr - *lo, end = (uint32_t)(seg->addr + seg->len);
	/* read as sure as the link allows (over USART a second read must agree): what is read is
	 * written back into the chip */
	if (head && (rc = ops_read_mem_sure(s, alt, *lo, w, a, OPS_PHASE_READ)) < 0)
		err_prefix(&s->err, "reading the RAM word at 0x%08X around the data", *lo);
	uint32_t tail_at = end / a * a;
	if (rc == 0 && end % a && (tail_at != *lo || !head) &&
	    (rc = ops_read_mem_sure(s, alt, tail_at, w + (tail_at - *lo), a, OPS_PHASE_READ)) < 0)
		err_prefix(&s->err, "reading the RAM word at 0x%08X around the data", tail_at);
	if (rc < 0) {
		free(w);
		return rc;
	}
	memcpy(w + head, seg->data, seg->len);
	log_info("RAM 0x%08X-0x%08X: whole words 0x%08X-0x%08X written, the bytes around the data as read", seg->addr,
	         end - 1, *lo, (unsigned)(*lo + *len - 1));
	*out = w;
	return 0;
}

/* RAM: program every segment, then read each back. */
static int wr_ram(struct ops_session *s, const struct img *img, const struct ops_write_opts *o,
                  struct ops_write_result *r)
{
	ops_identify(s);
	const struct chip_family *fam = s->id.chip.family;
	for (size_t i = 0; i < img->n_segs; i++) {
		const struct img_seg *seg = &img->segs[i];
		if (fam && fam->boot_ram_end && seg->len && seg->addr < fam->boot_ram_end) {
			err_set(&s->err, STM32DFU_E_RANGE, "image data at 0x%08X is in the RAM the %s bootloader uses itself "
			        "(0x%08X-0x%08X): writing it would crash the bootloader; nothing was written",
			        seg->addr, fam->name, SRAM_REGION_START, fam->boot_ram_end - 1);
			err_hint(&s->err, "load the data at 0x%08X or above (AN3156: do not overwrite the bootloader's RAM)",
			         fam->boot_ram_end);
			return STM32DFU_E_RANGE;
		}
	}
	if (!fam || !fam->boot_ram_end)
		log_info("the RAM this bootloader uses itself is not known for %s: make sure the data stays clear of it",
		         fam ? fam->name : "this chip");
	const struct layout_mem *fa = ops_flash_alt(s);
	uint8_t alt = fa ? fa->alt : 0; /* the ROM serves RAM by its address, through the flash alt */
	uint64_t total = img_total_bytes(img), done = 0, t = clock_now_us(ops_clock(s));
	int rc = 0;
	for (size_t i = 0; i < img->n_segs && rc == 0; i++) {
		uint32_t lo = 0;
		uint8_t *w = NULL;
		size_t len = 0;
		bool owned = false;
		if ((rc = ram_words(s, alt, &img->segs[i], &lo, &w, &len, &owned)) < 0)
			break;
		total += len - img->segs[i].len;
		rc = wr_program(s, alt, lo, w, len, &done, total, r);
		if (owned)
			free(w);
	}
	if (rc < 0)
		err_prefix(&s->err, "writing RAM");
	r->program.us = clock_now_us(ops_clock(s)) - t;
	r->program.bytes = r->bytes_programmed;
	t = clock_now_us(ops_clock(s));
	for (size_t i = 0; i < img->n_segs && rc == 0 && o->verify; i++) {
		const struct img_seg *seg = &img->segs[i];
		uint8_t *back = malloc(seg->len ? seg->len : 1);
		if (!back)
			return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
		if (ops_canceled(s))
			rc = STM32DFU_E_CANCELED;
		else if ((rc = ops_read_mem(s, alt, seg->addr, back, seg->len, OPS_PHASE_VERIFY)) < 0)
			err_prefix(&s->err, "reading RAM back at 0x%08X", seg->addr);
		for (size_t k = 0; rc == 0 && k < seg->len; k++)
			if (back[k] != seg->data[k]) {
				r->mismatch = true;
				r->mismatch_addr = seg->addr + (uint32_t)k;
				r->expected = seg->data[k];
				r->actual = back[k];
				rc = err_set(&s->err, STM32DFU_E_VERIFY, "RAM at 0x%08X reads 0x%02X after writing 0x%02X",
				             r->mismatch_addr, r->actual, r->expected);
			}
		r->verify.bytes += seg->len;
		free(back);
	}
	r->verify.us = clock_now_us(ops_clock(s)) - t;
	r->verified = rc == 0 && o->verify;
	return rc;
}

/* Option bytes: one whole block, guarded as `ob set`, written by ops_ob_write (reset, read back). */
static int wr_ob(struct ops_session *s, const struct img *img, const struct wm_place *p, const struct ops_write_opts *o,
                 struct ops_write_result *r)
{
	uint8_t old[sizeof s->id.ob];
	size_t len = 0;
	int rc = ops_ob_read(s, old, sizeof old, &len);
	if (rc < 0)
		return err_prefix(&s->err, "reading the option bytes before writing them");
	const struct img_seg *seg = p->seg;
	/* a family whose table decodes two zones (G4) reads both: a file of the first zone alone is
	 * that zone's whole block */
	if (img->n_segs == 1 && seg->addr == s->id.ob_addr && s->id.ob2_len && seg->len == s->id.ob_len)
		len = s->id.ob_len;
	if (img->n_segs != 1 || seg->addr != s->id.ob_addr || seg->len != len) {
		uint32_t lo = img->segs[0].addr;
		const struct img_seg *last = &img->segs[img->n_segs - 1];
		err_set(&s->err, STM32DFU_E_RANGE, "the file has %llu bytes of option bytes at 0x%08X-0x%08X; the block is "
		        "%zu bytes at 0x%08X: a partial block is refused (the ROM erases the whole block, then programs it)",
		        (unsigned long long)img_total_bytes(img), lo, (unsigned)(last->addr + last->len - 1), len,
		        s->id.ob_addr);
		err_hint(&s->err, "read the whole block ({@read 0x%08X %zu}), change it and write all of "
		         "it back; {@ob-set FIELD=VALUE} changes single fields", s->id.ob_addr, len);
		return STM32DFU_E_RANGE;
	}
	const struct chip_family *fam = s->id.chip.family;
	if (!fam || !fam->ob) {
		err_set(&s->err, STM32DFU_E_UNSUPPORTED, "option bytes at 0x%08X: no decoder for %s, so the block cannot be "
		        "checked for irreversible values (RDP level 2, locked sectors); nothing was written",
		        s->id.ob_addr, fam ? fam->name : "this chip");
		return STM32DFU_E_UNSUPPORTED;
	}
	if ((rc = ob_write_supported(fam, &s->err)) < 0)
		return rc; /* the same rule as ob set: a decode-only family is never written raw either */
	struct ob_decoded dec;
	if ((rc = ob_decode(fam, seg->data, len, &dec, &s->err)) < 0)
		return err_prefix(&s->err, "option bytes at 0x%08X", s->id.ob_addr);
	for (size_t i = 0; i < dec.n_words; i++)
		if (dec.words[i].present && dec.words[i].has_cpl && !dec.words[i].ok) {
			err_set(&s->err, STM32DFU_E_FILE_FORMAT, "option bytes at 0x%08X: word %s at +0x%02X has a wrong "
			        "complement in the file (the chip would load defaults or flag an option-byte error); nothing "
			        "was written", s->id.ob_addr, dec.words[i].word->name, dec.words[i].word->offset);
			err_hint(&s->err, "{@ob-set FIELD=VALUE} writes every complement for you");
			return STM32DFU_E_FILE_FORMAT;
		}
	if ((rc = ob_guard(fam, old, seg->data, len, o->ob_confirm, NULL, &s->err)) < 0)
		return err_prefix(&s->err, "option bytes at 0x%08X", s->id.ob_addr);
	r->read.bytes = len;
	if (memcmp(old, seg->data, len) == 0) {
		r->verified = true; /* read just now: the chip holds the block already */
		return 0;
	}
	if (ops_canceled(s))
		return STM32DFU_E_CANCELED;
	uint64_t t = clock_now_us(ops_clock(s));
	struct ops_ob_write_result w;
	rc = ops_ob_write(s, seg->data, len, &w);
	r->program.us = clock_now_us(ops_clock(s)) - t;
	if (rc < 0)
		return rc;
	r->bytes_programmed = r->program.bytes = len;
	r->blocks = r->runs = 1;
	r->verify.bytes = w.verified ? len : 0;
	r->verified = w.verified;
	r->ob_protection_active = w.protection_active;
	r->ob_bootloader_gone = w.bootloader_gone;
	return 0;
}

static int leave_after(struct ops_session *s, const struct ops_write_opts *o, bool have, uint32_t at,
                       struct ops_write_result *r)
{
	if (!o->leave)
		return 0;
	int rc = ops_leave(s, o->have_leave_addr || have, o->have_leave_addr ? o->leave_addr : at, &r->leave);
	r->left = rc == 0;
	return rc;
}

/* Flash plus OTP bytes (a serial number in OTP): the OTP bytes are checked first, the flash is
 * written and verified, and only then the OTP is programmed and read back. */
static int flash_then_otp(struct ops_session *s, const struct img *img, const struct layout_mem *otp,
                          const struct ops_write_opts *o, struct ops_write_result *r)
{
	struct img *fl = img_new(), *ot = img_new();
	int rc = fl && ot ? 0 : err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < img->n_segs && rc == 0; i++) {
		const struct img_seg *g = &img->segs[i];
		struct wm_place p;
		if ((rc = place(s, g, &p)) == 0)
			rc = img_add(p.kind == WM_OTP ? ot : fl, g->alt, g->addr, g->data, g->len, &s->err);
	}
	struct ops_write_opts wo = *o;
	wo.leave = false;
	struct ops_write_result ro;
	memset(&ro, 0, sizeof ro);
	if (rc == 0)
		rc = wr_otp(s, ot, otp, &wo, &ro, true);
	if (rc == 0 && (rc = wr_flash(s, fl, &wo, r)) == 0 && (rc = wr_otp(s, ot, otp, &wo, &ro, false)) == 0) {
		r->bytes_programmed += ro.bytes_programmed;
		r->verify.bytes += ro.verify.bytes;
		r->verified = r->verified && ro.verified;
		rc = leave_after(s, o, img->n_segs > 0, img->n_segs ? img->segs[0].addr : 0, r);
	} else if (rc < 0 && ops_canceled(s)) {
		r->canceled = true;
	}
	img_free(fl);
	img_free(ot);
	return rc;
}

static int write_kind(struct ops_session *s, const struct img *img, const bool *has, const struct wm_place *first,
                      unsigned kinds, const struct ops_write_opts *o, struct ops_write_result *r);

int ops_write(struct ops_session *s, const struct img *img, const struct ops_write_opts *o, struct ops_write_result *r)
{
	err_clear(&s->err);
	memset(r, 0, sizeof *r);
	r->blocked_sector = -1;
	r->range_set = -1;
	struct wm_place first[WM_N];
	bool has[WM_N] = {false};
	unsigned kinds = 0;
	for (size_t i = 0; i < img->n_segs; i++) {
		struct wm_place p;
		if (img->segs[i].len == 0)
			continue;
		int rc = place(s, &img->segs[i], &p);
		if (rc < 0)
			return rc;
		if (!has[p.kind]) {
			has[p.kind] = true;
			first[p.kind] = p;
			kinds++;
		} else if (p.alt != first[p.kind].alt) {
			return err_set(&s->err, STM32DFU_E_USAGE, "the file has data in two alt settings (%u and %u) of %s",
			               first[p.kind].alt->alt, p.alt->alt, kind_word[p.kind]);
		}
	}
	if (has[WM_OTHER]) {
		const struct wm_place *p = &first[WM_OTHER];
		err_set(&s->err, STM32DFU_E_UNSUPPORTED, "image data at 0x%08X is for %s (alt %u): write programs flash, RAM, "
		        "OTP and option bytes", p->seg->addr, wr_memory_name(p->alt, WM_OTHER), p->alt->alt);
		if (strstr(wr_memory_name(p->alt, WM_OTHER), "Feature"))
			err_hint(&s->err, "the Device Feature (voltage range) is set with {@vdd}");
		else
			err_hint(&s->err, "{@info} lists the alt settings and their memories");
		return STM32DFU_E_UNSUPPORTED;
	}
	if (kinds > 1 && !(kinds == 2 && has[WM_FLASH] && has[WM_OTP] && o->otp_last)) {
		enum wm_kind a = WM_N, b = WM_N;
		for (int k = 0; k < WM_N; k++) {
			if (!has[k] || k == WM_OTP)
				continue;
			if (a == WM_N)
				a = (enum wm_kind)k;
			else if (b == WM_N)
				b = (enum wm_kind)k;
		}
		if (has[WM_OTP]) {
			err_set(&s->err, STM32DFU_E_USAGE, "the file has data both in %s and in other memory (%s at 0x%08X)",
			        wr_memory_name(first[WM_OTP].alt, WM_OTP), wr_memory_name(first[a].alt, a), first[a].seg->addr);
			err_hint(&s->err, "write the OTP bytes from a file of their own");
		} else {
			err_set(&s->err, STM32DFU_E_USAGE, "the file has data in %s at 0x%08X and in %s at 0x%08X",
			        wr_memory_name(first[a].alt, a), first[a].seg->addr, wr_memory_name(first[b].alt, b),
			        first[b].seg->addr);
			err_hint(&s->err, "write each memory from a file of its own");
		}
		return STM32DFU_E_USAGE;
	}
	/* where the application starts is decided from the file, before anything is written */
	struct ops_write_opts po = *o;
	enum ops_leave_rule rule = OPS_LEAVE_GIVEN;
	if (o->leave && !o->have_leave_addr && (has[WM_FLASH] || has[WM_RAM])) {
		int rc = ops_leave_pick(s, img, &po.leave_addr, &rule);
		if (rc < 0)
			return rc;
		po.have_leave_addr = true;
		log_info("leave: the application starts at 0x%08X (%s)", po.leave_addr, ops_leave_rule_name(rule));
	}
	int rc = write_kind(s, img, has, first, kinds, &po, r);
	if (r->leave.addr && rule != OPS_LEAVE_GIVEN)
		r->leave.rule = rule;
	return rc;
}

static int write_kind(struct ops_session *s, const struct img *img, const bool *has, const struct wm_place *first,
                      unsigned kinds, const struct ops_write_opts *o, struct ops_write_result *r)
{
	if (kinds == 0 || (kinds == 1 && has[WM_FLASH]))
		return wr_flash(s, img, o, r);
	if (has[WM_FLASH])
		return flash_then_otp(s, img, first[WM_OTP].alt, o, r);
	enum wm_kind k = has[WM_OTP] ? WM_OTP : has[WM_OB] ? WM_OB : WM_RAM;
	snprintf(r->memory, sizeof r->memory, "%s", k == WM_RAM ? "RAM" : wr_memory_name(first[k].alt, k));
	r->memory_addr = first[k].seg->addr;
	r->image_bytes = img_total_bytes(img);
	int rc = k == WM_OTP  ? wr_otp(s, img, first[k].alt, o, r, false)
	         : k == WM_OB ? wr_ob(s, img, &first[k], o, r)
	                      : wr_ram(s, img, o, r);
	if (rc == 0)
		/* RAM: its own vector table at the image's start; OTP and option bytes: the flash start */
		rc = leave_after(s, o, k == WM_RAM, r->memory_addr, r);
	if (rc < 0 && ops_canceled(s)) {
		r->canceled = true;
		rc = STM32DFU_E_CANCELED;
	}
	return rc;
}
