/* The write's recovery file (rescue.h): found and applied, saved before the first erase, deleted
 * once the chip is verified to hold what it saved. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "image/image.h"
#include "ops/write_int.h"

/* The chip's key: its UID; a device without one, its USB serial (or path). */
static void chip_key(struct ops_session *s, char key[RESCUE_UID_CHARS + 1])
{
	if (s->id.has_uid) {
		rescue_uid_text(s->id.uid, key);
		return;
	}
	const char *src = s->tp->info.serial[0] ? s->tp->info.serial : s->tp->info.path;
	int n = snprintf(key, RESCUE_UID_CHARS + 1, "%s-%s", s->tp->info.serial[0] ? "serial" : "path", src);
	for (int i = 0; i < n && i < RESCUE_UID_CHARS; i++) {
		char c = key[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-'))
			key[i] = '_';
	}
}

int wr_rescue_load(struct ops_session *s, struct write_plan *plan, const struct plan_sector *sectors, size_t n,
                   struct rescue *old, bool *have_old)
{
	*have_old = false;
	if (!s->rescue_dir[0])
		return 0;
	char key[RESCUE_UID_CHARS + 1];
	chip_key(s, key);
	int rc = rescue_load(s->rescue_dir, key, old, &s->err);
	if (rc == 1)
		return 0;
	if (rc < 0)
		return err_prefix(&s->err, "write");
	for (size_t i = 0; i < old->n; i++) {
		const struct rescue_sector *rs = &old->sectors[i];
		const struct plan_sector *ps = NULL;
		for (size_t k = 0; k < n && !ps; k++)
			if (sectors[k].start == rs->start && sectors[k].size == rs->size)
				ps = &sectors[k];
		if (!ps) {
			err_set(&s->err, STM32DFU_E_FILE_FORMAT,
			        "write: the recovery file %s saves %u bytes at 0x%08X, which is not a sector of this chip",
			        old->path, rs->size, rs->start);
			err_hint(&s->err, "it belongs to another chip with the same key: move it away to go on without it");
			rescue_free(old);
			return STM32DFU_E_FILE_FORMAT;
		}
		if ((rc = plan_add_sector(plan, ps, &s->err)) < 0) {
			rescue_free(old);
			return rc;
		}
	}
	*have_old = true;
	log_info("found the recovery file %s (%zu sectors saved by an unfinished write): restoring them", old->path,
	         old->n);
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

int wr_rescue_save(struct ops_session *s, const struct write_plan *plan, const struct img *img,
                   const struct rescue *old, struct ops_write_result *r)
{
	if (!s->rescue_dir[0]) {
		log_info("no recovery file: the emulated chip is not kept after this session");
		return 0;
	}
	struct rescue nr;
	memset(&nr, 0, sizeof nr);
	chip_key(s, nr.uid);
	int rc = 0;
	/* what an unfinished write saved stays saved: the chip may not hold it now */
	for (size_t i = 0; old && i < old->n && rc == 0; i++)
		rc = rescue_add(&nr, old->sectors[i].index, old->sectors[i].start, old->sectors[i].size, old->sectors[i].data,
		                &s->err);
	for (size_t i = 0; i < plan->n_touched && rc == 0; i++) {
		const struct plan_touched *t = &plan->touched[i];
		if (t->action != PLAN_ERASE_PROGRAM || t->image_bytes >= t->sector.size || rescue_find(&nr, t->sector.start))
			continue;
		rc = rescue_add(&nr, t->sector.index, t->sector.start, t->sector.size, t->current, &s->err);
	}
	rescue_image_sha256(img, nr.image_sha256);
	nr.created = (int64_t)time(NULL);
	if (rc == 0 && (rc = rescue_save(s->rescue_dir, &nr, &s->err)) < 0) {
		err_prefix(&s->err, "write: nothing was erased");
		err_hint(&s->err, "the bytes outside the image must be saved before an erase: make %s writable, or set "
		                  "XDG_STATE_HOME to a folder that is", s->rescue_dir);
	}
	if (rc == 0) {
		snprintf(r->recovery_file, sizeof r->recovery_file, "%s", nr.path);
		log_info("saved %zu sectors to keep in %s", nr.n, nr.path);
	}
	rescue_free(&nr);
	return rc;
}

int wr_rescue_finish(struct ops_session *s, const struct rescue *old, bool verified, struct ops_write_result *r)
{
	const char *path = r->recovery_file[0] ? r->recovery_file : old ? old->path : NULL;
	if (!path)
		return 0;
	if (!verified) {
		/* not proven: the saved bytes may still be needed */
		if (!r->recovery_file[0])
			snprintf(r->recovery_file, sizeof r->recovery_file, "%s", path);
		log_warn("the recovery file %s is kept: without a verify the chip is not proven to hold its bytes", path);
		return 0;
	}
	struct rescue gone;
	memset(&gone, 0, sizeof gone);
	snprintf(gone.path, sizeof gone.path, "%s", path);
	struct err e;
	err_clear(&e);
	if (rescue_remove(&gone, &e) < 0) {
		log_warn("%s", e.msg);
		return 0;
	}
	if (old) {
		snprintf(r->restored_from, sizeof r->restored_from, "%s", old->path);
		r->restored_sectors = (unsigned)old->n;
	}
	r->recovery_file[0] = '\0';
	(void)s;
	return 0;
}
