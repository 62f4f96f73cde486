#include "ops/list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/dfuse_link.h"

static void fill_from_session(struct ops_listed *l, struct ops_session *s)
{
	l->info = *ops_info(s);
	l->opened = true;
	target_dfuse_describe(s->dfu, &l->dfu_version, &l->n_alts_dropped);
	l->transfer_size = s->t->max_transfer;
	l->n_alts = s->map->n;
	memcpy(l->alts, s->map->mem, sizeof l->alts);
	l->found = s->initial;
	ops_identify(s);
	l->id = s->id;
	l->identity_tried = s->id.chip.family != NULL;
}

static int listed_cmp(const void *a, const void *b)
{
	return target_usb_path_cmp(((const struct ops_listed *)a)->info.path, ((const struct ops_listed *)b)->info.path);
}

static void mark_shared(struct ops_listed *l, size_t k)
{
	for (size_t i = 0; i < k; i++)
		for (size_t j = 0; j < k; j++) {
			if (i == j)
				continue;
			if (l[i].info.serial[0] && strcmp(l[i].info.serial, l[j].info.serial) == 0)
				l[i].serial_shared = true;
			if (l[i].id.has_uid && l[j].id.has_uid && memcmp(l[i].id.uid, l[j].id.uid, sizeof l[i].id.uid) == 0)
				l[i].uid_shared = true;
		}
}

int ops_list(const struct ops_open_opts *o, struct ops_listed **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	if (o->sim_spec || o->open_tp) {
		struct ops_listed *l = calloc(1, sizeof *l);
		if (!l)
			return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
		struct ops_session *s;
		int rc = ops_open(o, &s, e);
		if (rc == STM32DFU_E_NO_DEVICE) {
			/* -d, -p or -S name another device: the emulator is not listed, as USB would not list it */
			free(l);
			err_clear(e);
			return 0;
		}
		if (rc < 0) {
			free(l);
			return rc;
		}
		fill_from_session(l, s);
		ops_close(s);
		*out = l;
		*n = 1;
		return 0;
	}
	/* the strings are a device's first answers: a chip finishing an earlier host's erase holds them */
	struct target_usb_wait w = {o->first_answer_ms, o->on_held, o->held_ctx};
	struct tp_listed *found = NULL;
	size_t nf = 0;
	int rc = target_usb_list(&o->match, &w, false, &found, &nf, e);
	if (rc < 0)
		return rc;
	struct ops_listed *l = calloc(nf ? nf : 1, sizeof *l);
	if (!l) {
		free(found);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	size_t k = 0;
	for (size_t i = 0; i < nf; i++) {
		struct ops_open_opts one = *o;
		one.match.path = found[i].info.path;
		one.selector = NULL;
		struct ops_session *s = NULL;
		struct err oe;
		err_clear(&oe);
		target_usb_link(&found[i].info, &l[k].info);
		if (ops_open(&one, &s, &oe) == 0) {
			fill_from_session(&l[k], s);
			ops_close(s);
		} else {
			snprintf(l[k].error, sizeof l[k].error, "%s", oe.msg);
		}
		/* -S filters after the identity is known, so it can be a serial or a UID */
		if (o->selector) {
			struct chip_selector sel;
			if (!chip_serial_parse_selector(o->selector, &sel) ||
			    !chip_selector_matches(&sel, l[k].info.serial, l[k].id.has_uid ? l[k].id.uid : NULL))
				continue;
		}
		k++;
	}
	free(found);
	qsort(l, k, sizeof *l, listed_cmp);
	mark_shared(l, k);
	*out = l;
	*n = k;
	return 0;
}
