/*
 * libstm32dfu: option bytes. stm32dfu_ob_read_ex and stm32dfu_ob_set_ex carry what `stm32dfu ob
 * show` and `ob set` print (the CLI prints from these records alone); the 0.2 calls
 * stm32dfu_ob_read and stm32dfu_ob_set are the same code with the smaller records.
 */
#include <stdlib.h>
#include <string.h>

#include "chip/ob.h"
#include "lib/api_int.h"
#include "ops/ob.h"

/* the public confirmation bits are the chip layer's, so one guard serves the CLI and the API */
_Static_assert((unsigned)STM32DFU_CONFIRM_RDP2 == (unsigned)OB_CONFIRM_RDP2 &&
	               (unsigned)STM32DFU_CONFIRM_RDP1 == (unsigned)OB_CONFIRM_RDP1 &&
	               (unsigned)STM32DFU_CONFIRM_WRP_BOOT == (unsigned)OB_CONFIRM_WRP_BOOT &&
	               (unsigned)STM32DFU_CONFIRM_NO_BOOTLOADER == (unsigned)OB_CONFIRM_NO_BOOTLOADER &&
	               (unsigned)STM32DFU_CONFIRM_RDP0 == (unsigned)OB_CONFIRM_RDP_REGRESSION,
               "confirmation bits differ between the API and chip/ob.h");
_Static_assert(STM32DFU_OB_MAX_FIELDS >= OB_MAX_FIELDS && STM32DFU_OB_MAX_WORDS >= OB_MAX_WORDS &&
	               STM32DFU_OB_MAX_BYTES >= sizeof(((struct ops_identity *)0)->ob),
               "the public option-byte records are smaller than the decoder's");

const char *stm32dfu_confirm_flag(unsigned bit)
{
	switch (bit) {
	case STM32DFU_CONFIRM_RDP2:
	case STM32DFU_CONFIRM_RDP1:
	case STM32DFU_CONFIRM_WRP_BOOT:
	case STM32DFU_CONFIRM_NO_BOOTLOADER:
	case STM32DFU_CONFIRM_RDP0:
		return ob_confirm_flag(bit);
	default:
		return NULL;
	}
}

static uint32_t word_mask(unsigned bits)
{
	return bits >= 32 ? 0xFFFFFFFFu : (1u << bits) - 1u;
}

static void field_info(const struct ob_layout *l, const struct ob_field_value *v, struct stm32dfu_ob_field_info *f)
{
	const struct ob_field *def = v->field;
	api_copy(f->name, sizeof f->name, def->name);
	f->width = def->width;
	f->present = v->present;
	f->value = v->present ? v->value : 0;
	f->default_value = def->def;
	f->is_default = v->present && v->is_default;
	f->on_this_chip = !v->absent;
	api_copy(f->absent_why, sizeof f->absent_why, v->absent ? v->absent_why : "");
	api_copy(f->meaning, sizeof f->meaning, v->present ? v->meaning : "");
	api_copy(f->description, sizeof f->description, def->desc);
	f->danger = (int)def->danger;
	struct ob_named named[STM32DFU_OB_MAX_NAMED];
	f->n_named = (unsigned)ob_named_values(l, def, named, STM32DFU_OB_MAX_NAMED);
	for (unsigned i = 0; i < f->n_named; i++) {
		api_copy(f->named[i].word, sizeof f->named[i].word, named[i].word);
		f->named[i].value = named[i].value;
		api_copy(f->named[i].meaning, sizeof f->named[i].meaning, named[i].meaning);
	}
}

static void word_info(const struct ob_word_check *w, struct stm32dfu_ob_word *o)
{
	api_copy(o->name, sizeof o->name, w->word->name);
	o->offset = w->word->offset;
	o->bits = w->word->bits;
	o->present = w->present;
	o->value = w->present ? w->value : 0;
	o->has_complement = w->has_cpl;
	o->complement = w->present && w->has_cpl ? w->complement : 0;
	o->expected = w->present && w->has_cpl ? ~w->value & word_mask(w->word->bits) : 0;
	o->ok = w->ok;
}

/* The report of block (len bytes) as the session's chip holds it. Returns the decoder's result
 * (0, or why it could not decode, also in de); the report is filled either way. */
static int fill_report(const struct ops_session *ops, const uint8_t *block, size_t len, struct stm32dfu_ob_report *out,
                       struct err *de)
{
	memset(out, 0, sizeof *out);
	err_clear(de);
	const struct ops_identity *id = &ops->id;
	const struct chip_family *fam = id->chip.family;
	out->rdp_level = -1;
	api_copy(out->family, sizeof out->family, fam ? fam->id : "");
	api_copy(out->family_name, sizeof out->family_name, fam ? fam->name : "");
	out->address = id->ob_addr;
	out->alt = (unsigned)id->ob_alt;
	out->size = len < sizeof out->raw ? len : sizeof out->raw;
	memcpy(out->raw, block, out->size);
	if (!fam || !fam->ob) {
		api_copy(out->decode_error, sizeof out->decode_error, "the option-byte layout is not known");
		return err_set(de, STM32DFU_E_UNSUPPORTED, "no option-byte decoder for %s: only the raw block is known",
		               fam ? fam->name : "this chip");
	}
	struct ob_decoded *d = malloc(sizeof *d);
	if (!d)
		return err_set(de, STM32DFU_E_NO_MEMORY, "out of memory");
	int rc = ob_decode(fam, block, len, d, de);
	if (rc < 0) {
		api_copy(out->decode_error, sizeof out->decode_error, de->msg);
		free(d);
		return rc;
	}
	ob_mark_part(fam, id->chip.flash_size, d);
	const struct ob_layout *l = d->layout;
	out->decoded = 1;
	api_copy(out->layout, sizeof out->layout, l->id);
	out->writable = l->writable;
	out->short_block = d->short_block;
	out->rdp_level = d->rdp_level;
	api_copy(out->note, sizeof out->note, l->note ? l->note : "");
	out->complement_errors = d->complement_errors;
	out->n_fields = d->n_fields;
	for (size_t i = 0; i < d->n_fields; i++)
		field_info(l, &d->fields[i], &out->fields[i]);
	out->n_words = d->n_words;
	for (size_t i = 0; i < d->n_words; i++)
		word_info(&d->words[i], &out->words[i]);
	free(d);
	return 0;
}

int stm32dfu_ob_read_ex(struct stm32dfu_session *s, struct stm32dfu_ob_report *out)
{
	err_clear(&s->err);
	if (!out)
		return err_set(&s->err, STM32DFU_E_USAGE, "stm32dfu_ob_read_ex: no report to fill");
	memset(out, 0, sizeof *out);
	out->rdp_level = -1;
	size_t len = 0;
	int rc = ops_ob_read(s->ops, NULL, 0, &len);
	if (rc < 0)
		return api_fail_from_ops(s, rc);
	struct err de;
	rc = fill_report(s->ops, s->ops->id.ob, len, out, &de);
	return rc == STM32DFU_E_NO_MEMORY ? err_set(&s->err, rc, "out of memory") : 0;
}

/* The 0.2 record of a block: the report's fields, with the decoder's refusal as the error. */
static int convert_ob(struct stm32dfu_session *s, const uint8_t *block, size_t len, struct stm32dfu_option_bytes *out)
{
	struct stm32dfu_ob_report *r = malloc(sizeof *r);
	if (!r)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	int rc = fill_report(s->ops, block, len, r, &s->err);
	memset(out, 0, sizeof *out);
	out->address = r->address;
	out->len = r->size;
	memcpy(out->raw, r->raw, r->size);
	out->rdp_level = r->rdp_level;
	if (rc == 0) {
		api_copy(out->layout, sizeof out->layout, r->layout);
		out->complement_errors = r->complement_errors;
		out->n_fields = r->n_fields;
		for (size_t i = 0; i < r->n_fields; i++) {
			const struct stm32dfu_ob_field_info *v = &r->fields[i];
			struct stm32dfu_ob_field *f = &out->fields[i];
			api_copy(f->name, sizeof f->name, v->name);
			f->value = v->value;
			f->is_default = v->is_default;
			f->present = v->present;
			f->dangerous = v->danger;
			api_copy(f->meaning, sizeof f->meaning, v->meaning);
			api_copy(f->description, sizeof f->description, v->description);
		}
	}
	free(r);
	return rc;
}

int stm32dfu_ob_read(struct stm32dfu_session *s, struct stm32dfu_option_bytes *out)
{
	err_clear(&s->err);
	size_t len = 0;
	int rc = ops_ob_read(s->ops, NULL, 0, &len);
	if (rc < 0)
		return api_fail_from_ops(s, rc);
	return convert_ob(s, s->ops->id.ob, len, out);
}

static const struct ob_field_value *value_of(const struct ob_decoded *d, const struct ob_field *f)
{
	for (size_t i = 0; i < d->n_fields; i++)
		if (d->fields[i].field == f)
			return &d->fields[i];
	return NULL;
}

/* The changes old -> new, field by field, with both values in words. */
static int fill_changes(struct stm32dfu_session *s, const struct chip_family *fam, struct stm32dfu_ob_set_result *r)
{
	struct ob_diff df;
	ob_diff(fam, r->before, r->requested, r->size, &df);
	struct ob_decoded *a = malloc(2 * sizeof *a), *b = a + 1;
	if (!a)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	int rc = ob_decode(fam, r->before, r->size, a, &s->err);
	if (rc == 0)
		rc = ob_decode(fam, r->requested, r->size, b, &s->err);
	if (rc == 0) {
		r->n_changes = df.n;
		r->complements_repaired = df.complements_repaired;
		r->nothing_to_change = df.n == 0 && df.complements_repaired == 0;
		for (size_t i = 0; i < df.n; i++) {
			const struct ob_change *ch = &df.changes[i];
			const struct ob_field_value *x = value_of(a, ch->field), *y = value_of(b, ch->field);
			struct stm32dfu_ob_change *o = &r->changes[i];
			api_copy(o->field, sizeof o->field, ch->field->name);
			o->width = ch->field->width;
			o->old_value = ch->old_value;
			o->new_value = ch->new_value;
			api_copy(o->old_meaning, sizeof o->old_meaning, x ? x->meaning : "");
			api_copy(o->new_meaning, sizeof o->new_meaning, y ? y->meaning : "");
		}
	}
	free(a);
	return rc;
}

int stm32dfu_ob_set_ex(struct stm32dfu_session *s, const char *const *assignments, size_t n,
                       const struct stm32dfu_ob_set_options *options, struct stm32dfu_ob_set_result *result)
{
	err_clear(&s->err);
	s->ob_wp_command = 0;
	struct stm32dfu_ob_set_result *r = result ? result : malloc(sizeof *r);
	if (!r)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	memset(r, 0, sizeof *r);
	unsigned confirm = options ? options->confirm : 0;
	r->dry_run = options && options->dry_run;
	int rc = 0;
	if (!assignments || !n)
		rc = err_set(&s->err, STM32DFU_E_USAGE, "no FIELD=VALUE assignments given");
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (!assignments[i])
			rc = err_set(&s->err, STM32DFU_E_USAGE, "assignment %zu is NULL: expected FIELD=VALUE", i);
	size_t len = 0;
	if (rc == 0 && (rc = ops_ob_read(s->ops, r->before, sizeof r->before, &len)) < 0)
		rc = api_fail_from_ops(s, rc);
	const struct chip_family *fam = s->ops->id.chip.family;
	if (rc == 0) {
		r->size = len;
		api_copy(r->family, sizeof r->family, fam ? fam->id : "");
		if (!fam || !fam->ob) {
			rc = err_set(&s->err, STM32DFU_E_UNSUPPORTED, "no option-byte decoder for %s: cannot edit its fields",
			             fam ? fam->name : "this chip");
			err_hint(&s->err, "{@ob-show} prints the raw block");
		}
	}
	/* a field the part does not have (a WRP group past its flash, a bit of another family) is
	 * refused by name before any value is looked at */
	if (rc == 0 && (rc = ob_check_part(fam, s->ops->id.chip.flash_size, assignments, n, &s->err)) < 0)
		err_hint(&s->err, "{@ob-show} marks the fields this chip does not have with '-'");
	if (rc == 0)
		rc = ob_set(fam, r->before, len, assignments, n, r->requested, &s->err);
	if (rc == 0)
		rc = fill_changes(s, fam, r);
	if (rc == 0) {
		r->checked = 1;
		rc = ob_guard(fam, r->before, r->requested, len, confirm, &r->confirmations_required, &s->err);
		r->confirmations_missing = r->confirmations_required & ~confirm;
	}
	if (rc == 0 && !r->dry_run && !r->nothing_to_change) {
		struct ops_ob_write_result wr;
		memset(&wr, 0, sizeof wr);
		r->write_attempted = 1;
		rc = ops_ob_write(s->ops, r->requested, len, &wr);
		s->ob_wp_command = wr.wp_command;
		r->verified = wr.verified;
		r->protection_active = wr.protection_active;
		r->reset_seen = wr.reset_seen;
		r->bootloader_gone = wr.bootloader_gone;
		if (rc < 0)
			rc = api_fail_from_ops(s, rc);
		else if (!wr.verified && !wr.protection_active && !wr.bootloader_gone)
			rc = err_set(&s->err, STM32DFU_E_VERIFY, "the option bytes read back differ from those written");
		r->written = rc == 0;
		if (wr.verified) {
			r->has_after = 1;
			memcpy(r->after, s->ops->id.ob, len);
		}
	}
	if (r != result)
		free(r);
	return rc < 0 ? rc : 0;
}

int stm32dfu_ob_set(struct stm32dfu_session *s, const char *const *assignments, size_t n, unsigned confirm,
                    struct stm32dfu_option_bytes *after)
{
	struct stm32dfu_ob_set_options o = {.confirm = confirm};
	struct stm32dfu_ob_set_result *r = malloc(sizeof *r);
	if (!r)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	int rc = stm32dfu_ob_set_ex(s, assignments, n, &o, r);
	if (rc == 0 && after) {
		/* RDP now refusing reads: report what was written, which the refusal confirms */
		if (s->ops->id.read_protected)
			rc = convert_ob(s, r->requested, r->size, after);
		else
			rc = stm32dfu_ob_read(s, after);
	}
	free(r);
	return rc;
}
