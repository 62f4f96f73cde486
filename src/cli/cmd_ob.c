/* ob show, ob set, unprotect's sibling summary for info: option bytes, decoded and guarded. */
#include <inttypes.h>
#include <stdlib.h>
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
static void fmt_width(char *buf, size_t cap, unsigned width, uint32_t v)
{
	int digits = width >= 4 ? (int)(width + 3) / 4 : 1;
	snprintf(buf, cap, "0x%0*" PRIX32, digits, v);
}

static void fmt_value(char *buf, size_t cap, const struct ob_field *f, uint32_t v)
{
	fmt_width(buf, cap, f->width, v);
}

static void print_decoded(FILE *o, FILE *errf, const struct stm32dfu_ob_report *r)
{
	/* the name column as wide as the longest name (SWAP_BANK_OPT, RAM_PARITY_CHECK) */
	int nw = 12;
	for (size_t i = 0; i < r->n_fields; i++)
		if ((int)strlen(r->fields[i].name) > nw)
			nw = (int)strlen(r->fields[i].name);
	fprintf(o, "  %-2s%-*s %-10s %s\n", "", nw, "field", "value", "meaning");
	for (size_t i = 0; i < r->n_fields; i++) {
		const struct stm32dfu_ob_field_info *f = &r->fields[i];
		if (!f->present) {
			fprintf(o, "  %-2s%-*s %-10s (not in the block read)\n", "", nw, f->name, "-");
			continue;
		}
		char val[16], def[16];
		fmt_width(val, sizeof val, f->width, f->value);
		fmt_width(def, sizeof def, f->width, f->default_value);
		if (!f->on_this_chip) { /* not offered to `ob set` */
			fprintf(o, "  %-2s%-*s %-10s (not on this chip: %s)\n", "-", nw, f->name, val, f->absent_why);
			continue;
		}
		fprintf(o, "  %-2s%-*s %-10s %s", f->is_default ? "" : "*", nw, f->name, val, f->meaning);
		if (!f->is_default)
			fprintf(o, "  (default %s)", def);
		fputc('\n', o);
	}
	fprintf(o, "  (* = not the factory default; - = the field does not exist on this chip)\n");
	/* what ob set accepts besides raw numbers */
	bool header = false;
	for (size_t i = 0; i < r->n_fields; i++) {
		const struct stm32dfu_ob_field_info *f = &r->fields[i];
		if (!f->n_named || !f->on_this_chip)
			continue;
		if (!header)
			fprintf(o, "  named values for 'ob set FIELD=WORD' (a number is always the raw field value):\n");
		header = true;
		fprintf(o, "    %-*s ", nw, f->name);
		for (unsigned k = 0; k < f->n_named; k++)
			fprintf(o, "%s%s", k ? ", " : "", f->named[k].word);
		fputc('\n', o);
	}
	for (size_t i = 0; i < r->n_words; i++) {
		const struct stm32dfu_ob_word *w = &r->words[i];
		if (!w->present || !w->has_complement || w->ok)
			continue;
		/* a wrong complement means the chip loads defaults or raises an option-byte error: say it */
		fprintf(o, "  COMPLEMENT MISMATCH in %s at +0x%02X: value 0x%" PRIX32 ", complement 0x%" PRIX32
		           " (should be 0x%" PRIX32 ")\n",
		        w->name, w->offset, w->value, w->complement, w->expected);
	}
	if (r->complement_errors)
		fprintf(errf, "stm32dfu: warning: %u option-byte word%s with a wrong complement: the chip may ignore "
		              "them; 'stm32dfu ob set' rewrites every complement\n",
		        r->complement_errors, r->complement_errors == 1 ? "" : "s");
	if (r->short_block)
		fprintf(o, "  the block read is shorter than the layout: some fields are absent\n");
}

static void json_fields(struct json *j, const struct stm32dfu_ob_report *r)
{
	json_key(j, "fields");
	json_arr_begin(j);
	for (size_t i = 0; i < r->n_fields; i++) {
		const struct stm32dfu_ob_field_info *f = &r->fields[i];
		json_obj_begin(j);
		json_kstr(j, "name", f->name);
		json_kbool(j, "present", f->present);
		json_key(j, "value");
		if (f->present)
			json_uint(j, f->value);
		else
			json_null(j);
		json_kuint(j, "default", f->default_value);
		json_kbool(j, "is_default", f->is_default);
		json_kstr(j, "meaning", f->meaning);
		json_kstr(j, "description", f->description);
		json_kbool(j, "on_this_chip", f->on_this_chip);
		json_key(j, "named_values"); /* the words ob set accepts for this field */
		json_arr_begin(j);
		for (unsigned k = 0; k < f->n_named; k++)
			json_str(j, f->named[k].word);
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "complement_checks");
	json_arr_begin(j);
	for (size_t i = 0; i < r->n_words; i++) {
		const struct stm32dfu_ob_word *w = &r->words[i];
		if (!w->present)
			continue;
		json_obj_begin(j);
		json_kstr(j, "word", w->name);
		json_kuint(j, "offset", w->offset);
		json_kuint(j, "value", w->value);
		json_kbool(j, "has_complement", w->has_complement);
		if (w->has_complement)
			json_kuint(j, "complement", w->complement);
		json_kbool(j, "ok", w->ok);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_kuint(j, "complement_errors", r->complement_errors);
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

static int out_of_memory(struct cli_ctx *c)
{
	err_set(&c->err, STM32DFU_E_NO_MEMORY, "out of memory");
	return cli_fail(c, STM32DFU_E_NO_MEMORY);
}

static void ob_show_json(struct cli_ctx *c, const struct stm32dfu_ob_report *r)
{
	struct json j;
	json_init(&j, c->out);
	json_obj_begin(&j);
	json_kstr(&j, "family", r->family);
	json_kstr(&j, "layout", r->layout);
	json_khex32(&j, "address", r->address);
	json_kuint(&j, "alt", r->alt);
	json_kuint(&j, "size", r->size);
	char raw[2 * sizeof r->raw + 1];
	hex_text(raw, sizeof raw, r->raw, r->size);
	json_kstr(&j, "raw", raw);
	json_kbool(&j, "decoded", r->decoded);
	if (r->decoded) {
		json_key(&j, "rdp_level");
		if (r->rdp_level >= 0)
			json_int(&j, r->rdp_level);
		else
			json_null(&j);
		json_kbool(&j, "short_block", r->short_block);
		json_fields(&j, r);
	}
	json_obj_end(&j);
	json_end(&j);
	if (r->decoded && r->complement_errors)
		fprintf(c->errf, "stm32dfu: warning: %u option-byte word(s) with a wrong complement\n", r->complement_errors);
}

static int ob_show(struct cli_ctx *c, struct stm32dfu_session *api)
{
	struct stm32dfu_ob_report *r = malloc(sizeof *r);
	if (!r)
		return out_of_memory(c);
	int rc = stm32dfu_ob_read_ex(api, r);
	if (rc < 0) {
		free(r);
		return cli_fail_api(c, api, rc);
	}
	if (json_mode(c)) {
		ob_show_json(c, r);
		free(r);
		return EXIT_OK;
	}
	FILE *o = c->out;
	fprintf(o, "option bytes  %s  %zu bytes at 0x%08" PRIX32 " (alt %u)\n",
	        r->decoded ? r->layout : r->family[0] ? r->family : "unknown chip", r->size, r->address, r->alt);
	if (!r->decoded) {
		fprintf(o, "  no decoder for %s: %s; the raw block:\n", r->family_name[0] ? r->family_name : "this chip",
		        r->decode_error);
		print_raw(o, r->address, r->raw, r->size);
	} else {
		print_decoded(o, c->errf, r);
		if (r->rdp_level >= 0)
			fprintf(o, "  RDP level %d%s\n", r->rdp_level,
			        r->rdp_level == 0 ? " (not protected)" : r->rdp_level == 1 ? " (read-protected)" : " (PERMANENT)");
		if (r->note[0])
			fprintf(o, "  note: %s\n", r->note);
	}
	free(r);
	return EXIT_OK;
}

/* How the change was written: the block, or AN3155's Write Protect / Write Unprotect (docs/usart.md);
 * NULL when nothing was sent. */
static const char *ob_method(const struct stm32dfu_session *api, const struct stm32dfu_ob_set_result *r)
{
	if (!r->write_attempted)
		return NULL;
	return api->ob_wp_command == 0x63 ? "write_protect" : api->ob_wp_command == 0x73 ? "write_unprotect" : "block";
}

static const char *ob_method_text(const struct stm32dfu_session *api)
{
	return api->ob_wp_command == 0x63   ? "by the ROM's Write Protect command (0x63)"
	       : api->ob_wp_command == 0x73 ? "by the ROM's Write Unprotect command (0x73)"
	                                    : "by a write of the option-byte block";
}

static void ob_set_json(struct cli_ctx *c, struct stm32dfu_session *api, const struct stm32dfu_ob_set_result *r, int rc)
{
	struct json j;
	json_init(&j, c->out);
	json_obj_begin(&j);
	json_kstr(&j, "family", r->family);
	json_key(&j, "changes");
	json_arr_begin(&j);
	for (size_t i = 0; i < r->n_changes; i++) {
		const struct stm32dfu_ob_change *ch = &r->changes[i];
		json_obj_begin(&j);
		json_kstr(&j, "field", ch->field);
		json_kuint(&j, "old", ch->old_value);
		json_kuint(&j, "new", ch->new_value);
		json_kstr(&j, "old_meaning", ch->old_meaning);
		json_kstr(&j, "new_meaning", ch->new_meaning);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_kuint(&j, "complements_repaired", r->complements_repaired);
	json_key(&j, "confirmations_required");
	json_arr_begin(&j);
	for (unsigned bit = 1; bit && bit <= STM32DFU_CONFIRM_RDP0; bit <<= 1)
		if (r->confirmations_required & bit)
			json_str(&j, stm32dfu_confirm_flag(bit));
	json_arr_end(&j);
	json_kbool(&j, "dry_run", r->dry_run);
	json_kbool(&j, "written", r->written);
	json_key(&j, "method");
	json_str(&j, ob_method(api, r));
	json_kbool(&j, "verified", r->verified);
	json_kbool(&j, "protection_active", r->protection_active);
	json_kbool(&j, "bootloader_gone", r->bootloader_gone);
	if (rc) {
		c->err = api->err;
		cli_json_failure(c, &j, rc);
	} else {
		json_kbool(&j, "ok", true);
	}
	json_obj_end(&j);
	json_end(&j);
}

static void ob_set_text(struct cli_ctx *c, const struct stm32dfu_session *api, const struct stm32dfu_ob_set_result *r,
                        int rc)
{
	FILE *o = c->out;
	for (size_t i = 0; i < r->n_changes; i++) {
		const struct stm32dfu_ob_change *ch = &r->changes[i];
		char ov[16], nv[16];
		fmt_width(ov, sizeof ov, ch->width, ch->old_value);
		fmt_width(nv, sizeof nv, ch->width, ch->new_value);
		fprintf(o, "  %-12s %s (%s) -> %s (%s)\n", ch->field, ov, ch->old_meaning, nv, ch->new_meaning);
	}
	if (r->complements_repaired)
		fprintf(o, "  %u word complement%s repaired\n", r->complements_repaired, r->complements_repaired == 1 ? "" : "s");
	if (r->nothing_to_change)
		fprintf(o, "nothing to change: the chip already holds these values\n");
	else if (rc == 0 && r->dry_run)
		fprintf(o, "dry run: the checks pass; nothing written\n");
	else if (r->written && r->bootloader_gone)
		fprintf(o, "%s\n", cli_rdp2_gone_text);
	else if (r->written && r->protection_active)
		fprintf(o, "option bytes written %s; read protection is now active (the chip refuses reads, which "
		           "confirms it)\n", ob_method_text(api));
	else if (r->written)
		fprintf(o, "option bytes written and verified, %s%s\n", ob_method_text(api),
		        r->reset_seen ? " (the chip reset and came back)" : "");
}

static int ob_set_cmd(struct cli_ctx *c, struct stm32dfu_session *api)
{
	if (c->args.npos < 1)
		return cli_usage_error(c, "ob set needs FIELD=VALUE..., e.g. ob set BOR_LEV=off ('ob show' lists the fields)");
	struct stm32dfu_ob_set_result *r = malloc(sizeof *r);
	if (!r)
		return out_of_memory(c);
	/* the log opens before the write (the field checks run in the same call) */
	int lr = cli_log_ready(c);
	if (lr) {
		free(r);
		return lr;
	}
	struct stm32dfu_ob_set_options so = {.confirm = cli_ob_confirm_flags(c), .dry_run = c->args.given[OPT_DRY_RUN]};
	uint64_t t0 = cli_log_now_us();
	int rc = stm32dfu_ob_set_ex(api, (const char *const *)c->args.pos, (size_t)c->args.npos, &so, r);
	if (!r->checked) { /* refused before the changes were known: the error alone */
		free(r);
		return cli_fail_api(c, api, rc);
	}
	struct store_record rec;
	if (r->write_attempted) {
		cli_log_init(c, &rec, "ob set");
		ops_record_board(&rec, api_ops(api));
		ops_record_result(&rec, rc, &api->err);
		rec.s_total = (double)(cli_log_now_us() - t0) / 1e6;
	}
	if (json_mode(c))
		ob_set_json(c, api, r, rc);
	else if (!c->args.given[OPT_QUIET])
		ob_set_text(c, api, r, rc);
	bool logged = r->write_attempted;
	free(r);
	int code = rc ? cli_fail_api(c, api, rc) : EXIT_OK;
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
	struct stm32dfu_session *api;
	int rc = cli_open_api(c, &api, NULL);
	if (rc)
		return rc;
	rc = show ? ob_show(c, api) : ob_set_cmd(c, api);
	stm32dfu_close(api);
	return rc;
}
