/* ob show, ob set, unprotect's sibling summary for info: option bytes, decoded and guarded. */
#include <inttypes.h>
#include <string.h>

#include "chip/ob.h"
#include "cli/commands.h"
#include "cli/logrec.h"
#include "cli/session.h"
#include "ops/record.h"
#include "ops/ob.h"

static bool json_mode(const struct cli_ctx *c)
{
	return c->args.given[OPT_JSON];
}

static void hex_text(char *buf, size_t cap, const uint8_t *p, size_t n)
{
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && k + 3 < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "%02x", p[i]);
}

/* Raw block, 16 bytes a line, for families without a decoder. */
static void print_raw(FILE *o, uint32_t addr, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i += 16) {
		fprintf(o, "  0x%08" PRIX32 " ", addr + (uint32_t)i);
		for (size_t k = i; k < n && k < i + 16; k++)
			fprintf(o, " %02x", b[k]);
		fputc('\n', o);
	}
}

/* A field value with as many hex digits as the field is wide (BOOT_ADD0 = 0x0080). */
static void fmt_value(char *buf, size_t cap, const struct ob_field *f, uint32_t v)
{
	int digits = f->width >= 4 ? (f->width + 3) / 4 : 1;
	snprintf(buf, cap, "0x%0*" PRIX32, digits, v);
}

static uint32_t cpl_mask(const struct ob_word *w)
{
	return w->bits >= 32 ? 0xFFFFFFFFu : (1u << w->bits) - 1u;
}

static void print_decoded(FILE *o, FILE *errf, const struct ob_decoded *d)
{
	fprintf(o, "  %-2s%-12s %-10s %s\n", "", "field", "value", "meaning");
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct ob_field_value *fv = &d->fields[i];
		const struct ob_field *f = fv->field;
		if (!fv->present) {
			fprintf(o, "  %-2s%-12s %-10s (not in the block read)\n", "", f->name, "-");
			continue;
		}
		char val[16], def[16];
		fmt_value(val, sizeof val, f, fv->value);
		fmt_value(def, sizeof def, f, f->def);
		if (fv->absent) { /* marked by ob_mark_part: not offered to `ob set` */
			fprintf(o, "  %-2s%-12s %-10s (not on this chip: %s)\n", "-", f->name, val, fv->absent_why);
			continue;
		}
		fprintf(o, "  %-2s%-12s %-10s %s", fv->is_default ? "" : "*", f->name, val, fv->meaning);
		if (!fv->is_default)
			fprintf(o, "  (default %s)", def);
		fputc('\n', o);
	}
	fprintf(o, "  (* = not the factory default; - = the field does not exist on this chip)\n");
	/* what ob set accepts besides raw numbers */
	bool header = false;
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct ob_field *f = d->fields[i].field;
		char words[200];
		size_t pos = 0;
		words[0] = '\0';
		if (f->kind == OB_K_RDP)
			pos = (size_t)snprintf(words, sizeof words, "level0, level1, level2");
		for (const struct ob_value_name *n = f->values; n && n->meaning && pos < sizeof words; n++) {
			char w[32];
			const char *word = ob_value_word(n, w, sizeof w);
			if (word)
				pos += (size_t)snprintf(words + pos, sizeof words - pos, "%s%s", pos ? ", " : "", word);
		}
		if (!words[0] || d->fields[i].absent)
			continue;
		if (!header)
			fprintf(o, "  named values for 'ob set FIELD=WORD' (a number is always the raw field value):\n");
		header = true;
		fprintf(o, "    %-12s %s\n", f->name, words);
	}
	for (size_t i = 0; i < d->n_words; i++) {
		const struct ob_word_check *w = &d->words[i];
		if (!w->present || !w->has_cpl || w->ok)
			continue;
		/* a wrong complement means the chip loads defaults or raises an option-byte error: say it */
		fprintf(o, "  COMPLEMENT MISMATCH in %s at +0x%02X: value 0x%" PRIX32 ", complement 0x%" PRIX32
		           " (should be 0x%" PRIX32 ")\n",
		        w->word->name, w->word->offset, w->value, w->complement, ~w->value & cpl_mask(w->word));
	}
	if (d->complement_errors)
		fprintf(errf, "stm32dfu: warning: %u option-byte word%s with a wrong complement: the chip may ignore "
		              "them; 'stm32dfu ob set' rewrites every complement\n",
		        d->complement_errors, d->complement_errors == 1 ? "" : "s");
	if (d->short_block)
		fprintf(o, "  the block read is shorter than the layout: some fields are absent\n");
}

static void json_fields(struct json *j, const struct ob_decoded *d)
{
	json_key(j, "fields");
	json_arr_begin(j);
	for (size_t i = 0; i < d->n_fields; i++) {
		const struct ob_field_value *fv = &d->fields[i];
		json_obj_begin(j);
		json_kstr(j, "name", fv->field->name);
		json_kbool(j, "present", fv->present);
		json_key(j, "value");
		if (fv->present)
			json_uint(j, fv->value);
		else
			json_null(j);
		json_kuint(j, "default", fv->field->def);
		json_kbool(j, "is_default", fv->present && fv->is_default);
		json_kstr(j, "meaning", fv->present ? fv->meaning : "");
		json_kstr(j, "description", fv->field->desc);
		json_kbool(j, "on_this_chip", !fv->absent);
		json_key(j, "named_values"); /* the words ob set accepts for this field */
		json_arr_begin(j);
		if (fv->field->kind == OB_K_RDP) {
			json_str(j, "level0");
			json_str(j, "level1");
			json_str(j, "level2");
		}
		for (const struct ob_value_name *n = fv->field->values; n && n->meaning; n++) {
			char w[32];
			const char *word = ob_value_word(n, w, sizeof w);
			if (word)
				json_str(j, word);
		}
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "complement_checks");
	json_arr_begin(j);
	for (size_t i = 0; i < d->n_words; i++) {
		const struct ob_word_check *w = &d->words[i];
		if (!w->present)
			continue;
		json_obj_begin(j);
		json_kstr(j, "word", w->word->name);
		json_kuint(j, "offset", w->word->offset);
		json_kuint(j, "value", w->value);
		json_kbool(j, "has_complement", w->has_cpl);
		if (w->has_cpl)
			json_kuint(j, "complement", w->complement);
		json_kbool(j, "ok", w->ok);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_kuint(j, "complement_errors", d->complement_errors);
}

/* Option-byte lines for `info`: the fields that decide protection and boot. */
static bool summary_field(const struct ob_field *f)
{
	return f->kind == OB_K_RDP || f->kind == OB_K_NWRP || f->kind == OB_K_BOOT_ADDR_F7 ||
	       f->kind == OB_K_BOOT_ADDR_H7 || f->kind == OB_K_NBOOT0 || f->kind == OB_K_NBOOT1 ||
	       f->kind == OB_K_WRP_START || f->kind == OB_K_WRP_END || strcmp(f->name, "BOR_LEV") == 0;
}

void cli_print_ob_summary(FILE *o, const struct ops_identity *id)
{
	const struct chip_family *fam = id->chip.family;
	struct ob_decoded d;
	if (!id->has_ob) {
		if (id->read_protected)
			fprintf(o, "  OB       not readable (read protection)\n");
		return;
	}
	if (!fam || !fam->ob || ob_decode(fam, id->ob, id->ob_len, &d, NULL) != 0) {
		fprintf(o, "  OB       %zu bytes at 0x%08" PRIX32 " (no decoder for this family: 'stm32dfu ob show' "
		           "prints them raw)\n", id->ob_len, id->ob_addr);
		return;
	}
	ob_mark_part(fam, id->chip.flash_size, &d);
	bool first = true;
	for (size_t i = 0; i < d.n_fields; i++) {
		const struct ob_field_value *fv = &d.fields[i];
		if (!fv->present || fv->absent || !summary_field(fv->field))
			continue;
		char val[16];
		fmt_value(val, sizeof val, fv->field, fv->value);
		fprintf(o, "  %-8s %-10s %-8s %s%s\n", first ? "OB" : "", fv->field->name, val, fv->meaning,
		        fv->is_default ? "" : " (not default)");
		first = false;
	}
	if (d.complement_errors)
		fprintf(o, "           %u option-byte word(s) with a WRONG COMPLEMENT ('stm32dfu ob show')\n",
		        d.complement_errors);
}

void cli_json_ob_summary(struct json *j, const struct ops_identity *id)
{
	const struct chip_family *fam = id->chip.family;
	struct ob_decoded d;
	json_key(j, "option_bytes");
	if (!id->has_ob) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_khex32(j, "address", id->ob_addr);
	json_kuint(j, "size", id->ob_len);
	char raw[2 * sizeof id->ob + 1];
	hex_text(raw, sizeof raw, id->ob, id->ob_len);
	json_kstr(j, "raw", raw);
	bool ok = fam && fam->ob && ob_decode(fam, id->ob, id->ob_len, &d, NULL) == 0;
	json_kbool(j, "decoded", ok);
	if (ok) {
		json_key(j, "fields");
		json_obj_begin(j);
		for (size_t i = 0; i < d.n_fields; i++)
			if (d.fields[i].present)
				json_kuint(j, d.fields[i].field->name, d.fields[i].value);
		json_obj_end(j);
		json_kuint(j, "complement_errors", d.complement_errors);
	}
	json_obj_end(j);
}

static int ob_show(struct cli_ctx *c, struct ops_session *s)
{
	size_t len = 0;
	int rc = ops_ob_read(s, NULL, 0, &len);
	if (rc < 0)
		return cli_fail_session(c, s, rc);
	const struct ops_identity *id = &s->id;
	const struct chip_family *fam = id->chip.family;
	struct ob_decoded d;
	struct err de;
	err_clear(&de);
	bool decoded = fam && fam->ob && ob_decode(fam, id->ob, len, &d, &de) == 0;
	if (decoded)
		ob_mark_part(fam, id->chip.flash_size, &d);
	if (json_mode(c)) {
		struct json j;
		json_init(&j, c->out);
		json_obj_begin(&j);
		json_kstr(&j, "family", fam ? fam->id : "");
		json_kstr(&j, "layout", decoded ? d.layout->id : "");
		json_khex32(&j, "address", id->ob_addr);
		json_kuint(&j, "alt", (unsigned)id->ob_alt);
		json_kuint(&j, "size", len);
		char raw[2 * sizeof id->ob + 1];
		hex_text(raw, sizeof raw, id->ob, len);
		json_kstr(&j, "raw", raw);
		json_kbool(&j, "decoded", decoded);
		if (decoded) {
			json_key(&j, "rdp_level");
			if (d.rdp_level >= 0)
				json_int(&j, d.rdp_level);
			else
				json_null(&j);
			json_kbool(&j, "short_block", d.short_block);
			json_fields(&j, &d);
		}
		json_obj_end(&j);
		json_end(&j);
		if (decoded && d.complement_errors)
			fprintf(c->errf, "stm32dfu: warning: %u option-byte word(s) with a wrong complement\n",
			        d.complement_errors);
		return EXIT_OK;
	}
	FILE *o = c->out;
	fprintf(o, "option bytes  %s  %zu bytes at 0x%08" PRIX32 " (alt %d)\n",
	        decoded ? d.layout->id : fam ? fam->id : "unknown chip", len, id->ob_addr, id->ob_alt);
	if (!decoded) {
		fprintf(o, "  no decoder for %s: %s; the raw block:\n", fam ? fam->name : "this chip",
		        de.msg[0] ? de.msg : "the option-byte layout is not known");
		print_raw(o, id->ob_addr, id->ob, len);
		return EXIT_OK;
	}
	print_decoded(o, c->errf, &d);
	if (d.rdp_level >= 0)
		fprintf(o, "  RDP level %d%s\n", d.rdp_level,
		        d.rdp_level == 0 ? " (not protected)" : d.rdp_level == 1 ? " (read-protected)" : " (PERMANENT)");
	if (d.layout->note)
		fprintf(o, "  note: %s\n", d.layout->note);
	return EXIT_OK;
}

static const struct ob_field_value *value_of(const struct ob_decoded *d, const struct ob_field *f)
{
	for (size_t i = 0; i < d->n_fields; i++)
		if (d->fields[i].field == f)
			return &d->fields[i];
	return NULL;
}

static void json_change_list(struct json *j, const struct ob_diff *df, const struct ob_decoded *a,
                             const struct ob_decoded *b)
{
	json_key(j, "changes");
	json_arr_begin(j);
	for (size_t i = 0; i < df->n; i++) {
		const struct ob_change *ch = &df->changes[i];
		const struct ob_field_value *x = value_of(a, ch->field), *y = value_of(b, ch->field);
		json_obj_begin(j);
		json_kstr(j, "field", ch->field->name);
		json_kuint(j, "old", ch->old_value);
		json_kuint(j, "new", ch->new_value);
		json_kstr(j, "old_meaning", x ? x->meaning : "");
		json_kstr(j, "new_meaning", y ? y->meaning : "");
		json_obj_end(j);
	}
	json_arr_end(j);
}

static int ob_set_cmd(struct cli_ctx *c, struct ops_session *s)
{
	if (c->args.npos < 1)
		return cli_usage_error(c, "ob set needs FIELD=VALUE..., e.g. ob set BOR_LEV=off ('ob show' lists the fields)");
	size_t len = 0;
	uint8_t old[sizeof s->id.ob], nb[sizeof s->id.ob];
	int rc = ops_ob_read(s, old, sizeof old, &len);
	if (rc < 0)
		return cli_fail_session(c, s, rc);
	const struct chip_family *fam = s->id.chip.family;
	if (!fam || !fam->ob) {
		err_set(&c->err, STM32DFU_E_UNSUPPORTED, "no option-byte decoder for %s: cannot edit its fields",
		        fam ? fam->name : "this chip");
		err_hint(&c->err, "'stm32dfu ob show' prints the raw block");
		return cli_fail(c, STM32DFU_E_UNSUPPORTED);
	}
	if ((rc = ob_check_part(fam, s->id.chip.flash_size, (const char *const *)c->args.pos, (size_t)c->args.npos,
	                        &c->err)) < 0) {
		err_hint(&c->err, "'stm32dfu ob show' marks the fields this chip does not have with '-'");
		return cli_fail(c, rc);
	}
	if ((rc = ob_set(fam, old, len, (const char *const *)c->args.pos, (size_t)c->args.npos, nb, &c->err)) < 0)
		return cli_fail(c, rc);
	struct ob_diff df;
	ob_diff(fam, old, nb, len, &df);
	struct ob_decoded a, b;
	if (ob_decode(fam, old, len, &a, &c->err) < 0 || ob_decode(fam, nb, len, &b, &c->err) < 0)
		return cli_fail(c, c->err.code);
	unsigned required = 0;
	struct err ge;
	err_clear(&ge);
	int grc = ob_guard(fam, old, nb, len, cli_ob_confirm_flags(c), &required, &ge);
	bool dry = c->args.given[OPT_DRY_RUN];
	bool nothing = df.n == 0 && df.complements_repaired == 0;
	struct ops_ob_write_result wr = {0};
	int werr = 0;
	struct store_record rec;
	bool logged = grc == 0 && !dry && !nothing;
	uint64_t t0 = cli_log_now_us();
	if (logged)
		werr = ops_ob_write(s, nb, len, &wr);
	if (logged) {
		cli_log_init(c, &rec, "ob set");
		ops_record_board(&rec, s);
		ops_record_result(&rec, werr, &s->err);
		rec.s_total = (double)(cli_log_now_us() - t0) / 1e6;
	}
	if (json_mode(c)) {
		struct json j;
		json_init(&j, c->out);
		json_obj_begin(&j);
		json_kstr(&j, "family", fam->id);
		json_change_list(&j, &df, &a, &b);
		json_kuint(&j, "complements_repaired", df.complements_repaired);
		json_key(&j, "confirmations_required");
		json_arr_begin(&j);
		for (unsigned bit = 1; bit && bit <= OB_CONFIRM_RDP_REGRESSION; bit <<= 1)
			if (required & bit)
				json_str(&j, ob_confirm_flag(bit));
		json_arr_end(&j);
		json_kbool(&j, "dry_run", dry);
		json_kbool(&j, "written", grc == 0 && !dry && !nothing && werr == 0);
		json_kbool(&j, "verified", wr.verified);
		json_kbool(&j, "protection_active", wr.protection_active);
		if (grc || werr) {
			c->err = grc ? ge : s->err;
			cli_json_failure(c, &j, grc ? grc : werr);
		} else {
			json_kbool(&j, "ok", true);
		}
		json_obj_end(&j);
		json_end(&j);
	} else if (!c->args.given[OPT_QUIET]) {
		FILE *o = c->out;
		for (size_t i = 0; i < df.n; i++) {
			const struct ob_change *ch = &df.changes[i];
			const struct ob_field_value *x = value_of(&a, ch->field), *y = value_of(&b, ch->field);
			char ov[16], nv[16];
			fmt_value(ov, sizeof ov, ch->field, ch->old_value);
			fmt_value(nv, sizeof nv, ch->field, ch->new_value);
			fprintf(o, "  %-12s %s (%s) -> %s (%s)\n", ch->field->name, ov, x ? x->meaning : "?", nv,
			        y ? y->meaning : "?");
		}
		if (df.complements_repaired)
			fprintf(o, "  %u word complement%s repaired\n", df.complements_repaired,
			        df.complements_repaired == 1 ? "" : "s");
		if (nothing)
			fprintf(o, "nothing to change: the chip already holds these values\n");
		else if (grc == 0 && dry)
			fprintf(o, "dry run: the checks pass; nothing written\n");
		else if (grc == 0 && werr == 0 && wr.protection_active)
			fprintf(o, "option bytes written; read protection is now active (the chip refuses reads, which "
			           "confirms it)\n");
		else if (grc == 0 && werr == 0)
			fprintf(o, "option bytes written and verified%s\n", wr.reset_seen ? " (the chip reset and came back)" : "");
	}
	if (grc) {
		c->err = ge;
		return cli_fail(c, grc);
	}
	int code = werr ? cli_fail_session(c, s, werr) : EXIT_OK;
	return logged ? cli_log_finish(c, &rec, code) : code;
}

int cli_cmd_ob(struct cli_ctx *c)
{
	const char *sub = c->args.subcommand;
	bool show = sub && strcmp(sub, "show") == 0, set = sub && strcmp(sub, "set") == 0;
	if (!show && !set)
		return cli_usage_error(c, "ob needs 'show' or 'set FIELD=VALUE...'");
	if (show && c->args.npos)
		return cli_usage_error(c, "ob show takes no arguments");
	if (show && c->args.given[OPT_DRY_RUN])
		return cli_usage_error(c, "--dry-run goes with 'ob set'");
	struct ops_session *s;
	int rc = cli_open(c, &s, NULL);
	if (rc)
		return rc;
	rc = show ? ob_show(c, s) : ob_set_cmd(c, s);
	ops_close(s);
	return rc;
}
