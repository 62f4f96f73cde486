/* The write's recovery file (rescue.h): found, checked against the chip and applied; saved before
 * the first erase; deleted once the write completed. */
#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/rd.h"
#include "image/image.h"
#include "ops/write_int.h"

/* The chip's key: its UID; a device without one, its USB serial (or path), which other chips may
 * share (every F0 reports FFFFFFFEFFFF): *unique says which. */
static void chip_key(struct ops_session *s, char key[RESCUE_UID_CHARS + 1], bool *unique)
{
	*unique = s->id.has_uid;
	if (s->id.has_uid) {
		rescue_uid_text(s->id.uid, key);
		return;
	}
	const char *src = ops_info(s)->serial[0] ? ops_info(s)->serial : ops_info(s)->path;
	int n = snprintf(key, RESCUE_UID_CHARS + 1, "%s-%s", ops_info(s)->serial[0] ? "serial" : "path", src);
	for (int i = 0; i < n && i < RESCUE_UID_CHARS; i++) {
		char c = key[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-'))
			key[i] = '_';
	}
}

/* SHA-256 of every flash byte outside r's erased ranges (a chip without a UID: what tells it from
 * another with the same key). Adjacent sectors are read as one run. */
static int rest_sha256(struct ops_session *s, const struct rescue *r, uint8_t out[32])
{
	struct plan_sector *sec = NULL;
	size_t n = 0;
	uint32_t limit = 0;
	int rc = ops_flash_sectors(s, &sec, &n, &limit);
	if (rc < 0)
		return rc;
	const struct layout_mem *fa = ops_flash_alt(s);
	struct sha256_ctx c;
	sha256_init(&c);
	for (size_t i = 0; i < n && rc == 0;) {
		if (rescue_erases(r, sec[i].start, sec[i].size) || (limit && sec[i].start >= limit)) {
			i++;
			continue;
		}
		size_t j = i + 1;
		uint64_t span = sec[i].size;
		while (j < n && sec[j].start == (uint64_t)sec[i].start + span && !rescue_erases(r, sec[j].start, sec[j].size) &&
		       !(limit && sec[j].start >= limit))
			span += sec[j++].size;
		uint8_t *buf = malloc((size_t)span);
		if (!buf) {
			rc = err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
			break;
		}
		uint8_t hdr[8];
		put_le32(hdr, sec[i].start);
		put_le32(hdr + 4, (uint32_t)span);
		/* what tells two chips apart must not be a flipped bit: read until two reads agree */
		if ((rc = ops_read_mem(s, fa->alt, sec[i].start, buf, (size_t)span, -1)) == 0)
			rc = ops_read_again(s, fa->alt, sec[i].start, buf, (size_t)span, -1, "two reads of the flash differ",
			                    "reading the rest of the flash");
		if (rc == 0) {
			sha256_update(&c, sizeof hdr, hdr);
			sha256_update(&c, (size_t)span, buf);
		}
		free(buf);
		i = j;
	}
	free(sec);
	if (rc == 0)
		sha256_digest(&c, SHA256_DIGEST_SIZE, out);
	return rc;
}

/* Adds old's sectors to the plan (they are read, checked and rewritten with the write). */
static int plan_old(struct ops_session *s, struct write_plan *plan, const struct plan_sector *sectors, size_t n,
                    const struct rescue *old)
{
	for (size_t i = 0; i < old->n; i++) {
		const struct rescue_sector *rs = &old->sectors[i];
		const struct plan_sector *ps = NULL;
		for (size_t k = 0; k < n && !ps; k++)
			if (sectors[k].start == rs->start && sectors[k].size == rs->size)
				ps = &sectors[k];
		if (!ps) {
			err_set(&s->err, STM32DFU_E_FILE_FORMAT,
			        "write: the recovery file %s saves %u bytes at 0x%08X, which is not a sector of this chip; "
			        "nothing was written",
			        old->path, rs->size, rs->start);
			err_hint(&s->err, "it belongs to another chip with the same key: move it away to go on without it");
			return STM32DFU_E_FILE_FORMAT;
		}
		int rc = plan_add_sector(plan, ps, &s->err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* A key that is not unique (the F0s' USB serial): every board with it may have a file of its own.
 * The flash outside a file's erased sectors, hashed as the file saved it, tells whether this chip
 * can be the file's: when it differs, the file is another chip's (or this chip was written all
 * over since): it is left for that chip and this write goes on. When it matches, the file is
 * taken as this chip's and checked sector by sector as a unique key's is (wr_rescue_check). Two
 * files that match cannot be told apart: nothing is written. 1: no file is this chip's. */
static int pick_shared(struct ops_session *s, const char *key, struct rescue *old)
{
	char(*names)[RESCUE_NAME_CHARS + 1] = NULL;
	size_t nn = 0;
	int rc = rescue_list(s->rescue_dir, &names, &nn, &s->err);
	if (rc < 0)
		return err_prefix(&s->err, "write: nothing was written");
	bool have = false;
	for (size_t i = 0; i < nn && rc >= 0; i++) {
		char k[RESCUE_UID_CHARS + 1];
		if (!rescue_name_key(names[i], k) || strcmp(k, key) != 0)
			continue;
		struct rescue f;
		rc = rescue_load(s->rescue_dir, names[i], &f, &s->err);
		if (rc == 1) { /* gone since the listing: another run applied it */
			rc = 0;
			continue;
		}
		if (rc == RESCUE_IN_USE) { /* a write running now holds it: its chip is being written */
			log_warn("the recovery file %s is held by a write running now (another chip with this key, %s): "
			         "left for it", f.path, key);
			rc = 0;
			continue;
		}
		if (rc < 0) {
			err_prefix(&s->err, "write: nothing was written");
			break;
		}
		uint8_t now[32];
		if (!f.have_rest) { /* written as a unique key's: no way to tell the boards apart */
			rc = err_set(&s->err, STM32DFU_E_FILE_FORMAT,
			             "write: the recovery file %s has a key other chips share (%s) but no hash of the rest of "
			             "the flash; nothing was written", f.path, key);
			err_hint(&s->err, "write the board it came from with it ({@recover}), or move it away");
			rescue_free(&f);
			break;
		}
		if ((rc = rest_sha256(s, &f, now)) < 0) {
			err_prefix(&s->err, "write: checking the recovery file %s", f.path);
			rescue_free(&f);
			break;
		}
		if (memcmp(now, f.rest_sha256, 32) != 0) {
			log_warn("the recovery file %s is another chip's, left for it: its key (%s) is shared, and this chip's "
			         "flash outside the sectors it saved differs from that chip's; it is applied when the board "
			         "it came from is written or recovered", f.path, key);
			rescue_free(&f);
			continue;
		}
		if (have) {
			rc = err_set(&s->err, STM32DFU_E_FILE_FORMAT,
			             "write: two recovery files fit this chip (%s and %s: their key, %s, is shared, and the "
			             "flash outside their sectors is the same); which is this chip's cannot be told, so "
			             "nothing was written, both are kept", old->path, f.path, key);
			err_hint(&s->err, "move away the one that belongs to another board (ls -l shows when each was saved)");
			rescue_free(&f);
			break;
		}
		*old = f;
		have = true;
	}
	free(names);
	if (rc < 0) {
		if (have)
			rescue_free(old);
		return rc;
	}
	return have ? 0 : 1;
}

int wr_rescue_load(struct ops_session *s, struct write_plan *plan, const struct plan_sector *sectors, size_t n,
                   struct rescue *old, bool *have_old)
{
	*have_old = false;
	if (!s->rescue_dir[0])
		return 0;
	char key[RESCUE_UID_CHARS + 1];
	bool unique;
	chip_key(s, key, &unique);
	int rc;
	if (unique) {
		rc = rescue_load(s->rescue_dir, key, old, &s->err);
		if (rc == RESCUE_IN_USE) {
			err_set(&s->err, STM32DFU_E_FILE_IO, "write: the recovery file %s is held by another write running "
			        "now on this chip; nothing was written", old->path);
			err_hint(&s->err, "wait for that write to end (one chip, one write at a time)");
			return STM32DFU_E_FILE_IO;
		}
		if (rc < 0)
			return err_prefix(&s->err, "write: nothing was written");
	} else {
		rc = pick_shared(s, key, old);
		if (rc < 0)
			return rc;
	}
	if (rc == 1)
		return 0;
	if ((rc = plan_old(s, plan, sectors, n, old)) < 0) {
		rescue_free(old);
		return rc;
	}
	*have_old = true;
	return 0;
}

static int refuse(struct ops_session *s, const struct rescue *old, const char *what)
{
	err_set(&s->err, STM32DFU_E_FILE_FORMAT,
	        "write: the recovery file %s belongs to another chip or another time: %s; nothing was written, the "
	        "file is kept",
	        old->path, what);
	err_hint(&s->err, "%s", old->unique
	                            ? "the chip no longer holds what that write left: if its bytes are wanted, they are in "
	                              "the file; move it away to go on without it"
	                            : "the flash outside its sectors is this chip's, so it was taken as this chip's, but its "
	                              "sectors were written since (by another tool?), or it is a board with the same "
	                              "firmware (chips without a readable UID share the key: the F0s' USB serial "
	                              "FFFFFFFEFFFF): write the board it came from first ({@recover}), or move it "
	                              "away to go on without it");
	return STM32DFU_E_FILE_FORMAT;
}

int wr_rescue_unmatched(struct ops_session *s)
{
	if (s->id.has_uid || !(s->id.rdp_level >= 1 || s->id.read_protected) || !s->rescue_dir[0])
		return 0;
	char(*names)[RESCUE_NAME_CHARS + 1] = NULL;
	size_t n = 0;
	struct err le;
	err_clear(&le);
	if (rescue_list(s->rescue_dir, &names, &n, &le) < 0 || n == 0) {
		free(names);
		return 0;
	}
	free(names);
	/* under read protection the UID reads as refused: the chip cannot be keyed, its files cannot be
	 * matched or checked, and 'nothing to put back' would be false (campaign usart seed 2702
	 * session 238: a chip set to RDP 1 mid-write, the recover said 0 with its bytes not back) */
	err_set(&s->err, STM32DFU_E_PROTECTED,
	        "recover: the chip is read-protected: its UID cannot be read, so %s in %s can be matched to it or "
	        "checked against it; nothing was written",
	        n == 1 ? "no recovery file" : "none of the recovery files", s->rescue_dir);
	err_hint(&s->err, "the flash still holds its bytes, but only {@unprotect} makes it readable, and that erases "
	                  "all of it: then {@recover} puts back the bytes this chip's file kept (the rest of "
	                  "the flash is gone)");
	return STM32DFU_E_PROTECTED;
}

int wr_rescue_check(struct ops_session *s, const struct write_plan *plan, const struct rescue *old)
{
	for (size_t i = 0; i < old->n; i++) {
		const struct rescue_sector *rs = &old->sectors[i];
		const struct plan_touched *t = NULL;
		for (size_t k = 0; k < plan->n_touched && !t; k++)
			if (plan->touched[k].sector.start == rs->start)
				t = &plan->touched[k];
		if (!t || !t->current)
			return err_set(&s->err, STM32DFU_E_INTERNAL, "write: sector %u of the recovery file was not read", rs->index);
		uint32_t at;
		if (!rescue_consistent(old, rs, t->current, &at)) {
			char what[200];
			snprintf(what, sizeof what,
			         "sector %u at 0x%08X holds 0x%02X at 0x%08X, which is neither erased, the kept byte 0x%02X nor "
			         "a byte the write would have left",
			         rs->index, rs->start, t->current[at], rs->start + at, rs->data[at]);
			return refuse(s, old, what);
		}
	}
	/* a key that is not unique: the rest of the flash was found the file's when it was picked */
	log_info("the recovery file %s (%zu sectors saved by an unfinished write) matches the chip: restoring them",
	         old->path, old->n);
	return 0;
}

void wr_rescue_bases(struct write_plan *plan, const struct rescue *old)
{
	for (size_t i = 0; i < plan->n_touched; i++) {
		const struct rescue_sector *rs = rescue_find(old, plan->touched[i].sector.start);
		if (rs && rs->size == plan->touched[i].sector.size)
			plan->touched[i].base = rs->data;
	}
}

/* Whether errno e says the disk (or a quota, or a file-size limit) has no room. */
static bool no_room(int e)
{
#ifdef EDQUOT
	if (e == EDQUOT)
		return true;
#endif
	return e == ENOSPC || e == EFBIG;
}

int wr_rescue_save(struct ops_session *s, const struct write_plan *plan, const struct img *img,
                   const struct rescue *old, struct ops_write_result *r, struct rescue *live)
{
	if (!s->rescue_dir[0] && !s->rescue_why[0]) {
		log_info("no recovery file: the emulated chip is not kept after this session");
		return 0;
	}
	if (!s->rescue_dir[0]) {
		err_set(&s->err, STM32DFU_E_FILE_IO, "write: nothing was erased: %s", s->rescue_why);
		err_hint(&s->err, "the bytes outside the image must be on disk before an erase: give a folder with "
		                  "{@recovery-dir} or STM32DFU_RECOVERY_DIR (or set XDG_STATE_HOME or HOME)");
		return STM32DFU_E_FILE_IO;
	}
	struct rescue nr;
	memset(&nr, 0, sizeof nr);
	chip_key(s, nr.uid, &nr.unique);
	if (old) /* the file applied is saved again under its own name (another board's may be beside it) */
		snprintf(nr.path, sizeof nr.path, "%s", old->path);
	int rc = 0;
	/* what an unfinished write saved stays saved: the chip may not hold it now */
	for (size_t i = 0; old && i < old->n && rc == 0; i++) {
		const struct rescue_sector *rs = &old->sectors[i];
		for (unsigned k = 0; k < rs->n_targets && rc == 0; k++)
			rc = rescue_add(&nr, rs->index, rs->start, rs->size, rs->data, rs->targets + (size_t)k * rs->size, &s->err);
	}
	for (size_t i = 0; old && i < old->n_erased && rc == 0; i++)
		rc = rescue_add_erased(&nr, old->erased[i].start, old->erased[i].size, &s->err);
	/* a block the old write left unanswered may still hold anything until this write erases it */
	for (size_t i = 0; old && i < old->n_unsettled && rc == 0; i++)
		rc = rescue_add_unsettled(&nr, old->unsettled[i].start, old->unsettled[i].size, &s->err);
	for (size_t i = 0; i < plan->n_touched && rc == 0; i++) {
		const struct plan_touched *t = &plan->touched[i];
		if (t->action != PLAN_ERASE_PROGRAM)
			continue;
		rc = rescue_add_erased(&nr, t->sector.start, t->sector.size, &s->err);
		/* a sector of the old file gains this write's result as one more allowed target */
		bool saved = rescue_find(&nr, t->sector.start) != NULL;
		if (rc == 0 && (saved || t->image_bytes < t->sector.size))
			rc = rescue_add(&nr, t->sector.index, t->sector.start, t->sector.size, t->base ? t->base : t->current,
			                t->desired, &s->err);
	}
	if (rc == 0 && nr.n == 0) {
		rescue_free(&nr);
		return 0; /* every erased sector is the image's alone: nothing to keep */
	}
	if (rc == 0 && !nr.unique) {
		if ((rc = rest_sha256(s, &nr, nr.rest_sha256)) < 0)
			err_prefix(&s->err, "write: nothing was erased: reading the flash that tells this chip from others");
		nr.have_rest = true;
	}
	rescue_image_sha256(img, nr.image_sha256);
	nr.created = (int64_t)time(NULL);
	if (rc == 0 && (rc = rescue_save(s->rescue_dir, &nr, &s->err)) < 0) {
		err_prefix(&s->err, "write: nothing was erased");
		if (no_room(nr.save_errno)) {
			/* a full disk (or a file-size limit): the folder is fine, the room is not */
			size_t need = 0;
			for (size_t i = 0; i < nr.n; i++)
				need += (size_t)nr.sectors[i].size * (1u + nr.sectors[i].n_targets);
			err_hint(&s->err, "the bytes outside the image must be on disk before an erase: free about %zu KiB "
			                  "where %s is, or give another folder with {@recovery-dir} or STM32DFU_RECOVERY_DIR",
			         need / 1024 + 1, s->rescue_dir);
		} else {
			err_hint(&s->err, "the bytes outside the image must be on disk before an erase: make %s writable, or "
			                  "give another folder with {@recovery-dir} or STM32DFU_RECOVERY_DIR", s->rescue_dir);
		}
	}
	if (rc == 0) {
		snprintf(r->recovery_file, sizeof r->recovery_file, "%s", nr.path);
		log_info("saved %zu sectors to keep in %s", nr.n, nr.path);
		/* held until the write ends: no other write (another board with this key) takes it */
		rescue_hold_close(s->rescue_hold);
		s->rescue_hold = rescue_hold_take(&nr);
		*live = nr; /* kept for wr_rescue_unsettled */
		return 0;
	}
	rescue_free(&nr);
	return rc;
}

int wr_rescue_unsettled(struct ops_session *s, struct rescue *live, uint32_t addr, size_t n, struct err *e)
{
	/* only a saved sector's bytes are checked when the file is applied */
	bool saved = false;
	for (size_t i = 0; i < live->n && !saved; i++)
		saved = (uint64_t)addr < (uint64_t)live->sectors[i].start + live->sectors[i].size &&
		        (uint64_t)addr + n > live->sectors[i].start;
	if (!saved)
		return 0;
	size_t before = live->n_unsettled;
	int rc = rescue_add_unsettled(live, addr, (uint32_t)n, e);
	if (rc < 0 || live->n_unsettled == before)
		return rc; /* listed already */
	if ((rc = rescue_save(s->rescue_dir, live, e)) < 0)
		return err_prefix(e, "the block at 0x%08X got no answer and cannot be noted in the recovery file", addr);
	/* the file now in place is the one held */
	rescue_hold_close(s->rescue_hold);
	s->rescue_hold = rescue_hold_take(live);
	log_info("the block at 0x%08X (%zu bytes) got no answer: noted in %s as holding anything until its sector is "
	         "erased again", addr, n, live->path);
	return 0;
}

int wr_rescue_finish(struct ops_session *s, const struct rescue *old, struct ops_write_result *r)
{
	(void)s;
	const char *path = r->recovery_file[0] ? r->recovery_file : old ? old->path : NULL;
	if (!path)
		return 0;
	/* the write completed (verified or not): its file must never be applied again */
	struct rescue gone;
	memset(&gone, 0, sizeof gone);
	snprintf(gone.path, sizeof gone.path, "%s", path);
	struct err e;
	err_clear(&e);
	if (rescue_remove(&gone, &e) < 0) {
		/* a file that stays would be refused later (the chip no longer matches it), never applied */
		log_warn("%s", e.msg);
		return 0;
	}
	if (old) {
		snprintf(r->restored_from, sizeof r->restored_from, "%s", old->path);
		r->restored_sectors = (unsigned)old->n;
	}
	r->recovery_file[0] = '\0';
	return 0;
}

int wr_rescue_clear_done(struct ops_session *s, char *cleared, size_t cap)
{
	cleared[0] = '\0';
	if (!s->rescue_dir[0])
		return 0;
	char key[RESCUE_UID_CHARS + 1];
	bool unique;
	chip_key(s, key, &unique);
	/* a key that is not unique: the sectors may hold what its write left on another board (same
	 * firmware, same bytes there) while the file's own board is still unfinished; such a file ends
	 * only when a write applies it */
	if (!unique)
		return 0;
	struct rescue f;
	struct err e;
	err_clear(&e);
	int rc = rescue_load(s->rescue_dir, key, &f, &e);
	if (rc != 0)
		return 0; /* none, held by a write, or one a write will report */
	const struct layout_mem *fa = ops_flash_alt(s);
	bool done = fa != NULL;
	for (size_t i = 0; i < f.n && done; i++) {
		const struct rescue_sector *rs = &f.sectors[i];
		uint8_t *buf = malloc(rs->size);
		if (!buf || ops_read_mem(s, fa->alt, rs->start, buf, rs->size, -1) < 0) {
			free(buf);
			done = false;
			break;
		}
		/* the sector holds all of what a write would have left: that write completed here */
		bool whole = false;
		for (unsigned k = 0; k < rs->n_targets && !whole; k++)
			whole = memcmp(buf, rs->targets + (size_t)k * rs->size, rs->size) == 0;
		done = whole;
		free(buf);
	}
	err_clear(&s->err);
	if (done && rescue_remove(&f, &e) == 0) {
		snprintf(cleared, cap, "%s", f.path);
		log_info("the recovery file %s is no longer needed: every sector it saved holds what its write left", f.path);
	}
	rescue_free(&f);
	return 0;
}
