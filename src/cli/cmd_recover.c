/* recover: list the pending recovery files and put one chip's saved bytes back (ops/rescue.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/session.h"
#include "cli/logrec.h"
#include "ops/record.h"
#include "ops/rescue.h"
#include "core/os.h"

struct pending {
	char uid[RESCUE_NAME_CHARS + 1]; /* the file's name: its key, and an ID for a key that is not unique */
	struct rescue r; /* loaded, or sectors = NULL with err set when damaged */
	struct err err;
	int rc;
};

static void load_pending(const char *dir, struct pending **out, size_t *n, struct err *e)
{
	char(*uids)[RESCUE_NAME_CHARS + 1] = NULL;
	*out = NULL;
	*n = 0;
	if (rescue_list(dir, &uids, n, e) < 0 || *n == 0)
		return;
	struct pending *p = calloc(*n, sizeof *p);
	if (!p) {
		free(uids);
		*n = 0;
		return;
	}
	for (size_t i = 0; i < *n; i++) {
		memcpy(p[i].uid, uids[i], sizeof p[i].uid);
		err_clear(&p[i].err);
		p[i].rc = rescue_load(dir, uids[i], &p[i].r, &p[i].err);
		/* only shown here: the lock is the recovering write's to take (a second lock in this
		 * process would find the file held, by us) */
		rescue_hold_close(rescue_hold_take(&p[i].r));
	}
	free(uids);
	*out = p;
}

static void free_pending(struct pending *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rescue_free(&p[i].r);
	free(p);
}

static void sha_text(const uint8_t *d, char *out)
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void print_pending_text(FILE *o, const char *dir, const struct pending *p, size_t n)
{
	if (n == 0) {
		fprintf(o, "no pending recovery files in %s\n", dir);
		return;
	}
	fprintf(o, "pending recovery files in %s:\n", dir);
	for (size_t i = 0; i < n; i++) {
		if (p[i].rc != 0) {
			fprintf(o, "  %s  %s\n", p[i].uid,
			        p[i].rc == 1 ? "gone" : p[i].rc == RESCUE_IN_USE ? "held by a write running now" : p[i].err.msg);
			continue;
		}
		char when[32] = "?", sha[65];
		time_t t = (time_t)p[i].r.created;
		struct tm tm;
		if (os_gmtime(t, &tm))
			strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
		sha_text(p[i].r.image_sha256, sha);
		fprintf(o, "  UID %s  %zu sector%s  saved %s  image SHA-256 %.16s...\n", p[i].uid, p[i].r.n,
		        p[i].r.n == 1 ? "" : "s", when, sha);
	}
}

static void json_pending(struct json *j, const char *dir, const struct pending *p, size_t n)
{
	json_kstr(j, "folder", dir);
	json_key(j, "pending");
	json_arr_begin(j);
	for (size_t i = 0; i < n; i++) {
		json_obj_begin(j);
		char key[RESCUE_UID_CHARS + 1];
		json_kstr(j, "uid", rescue_name_key(p[i].uid, key) ? key : p[i].uid);
		json_kstr(j, "file", p[i].r.path);
		json_kbool(j, "readable", p[i].rc == 0);
		json_kuint(j, "sectors", p[i].rc == 0 ? p[i].r.n : 0);
		json_kint(j, "created", p[i].rc == 0 ? p[i].r.created : 0);
		char sha[65] = "";
		if (p[i].rc == 0)
			sha_text(p[i].r.image_sha256, sha);
		json_kstr(j, "image_sha256", sha);
		json_obj_end(j);
	}
	json_arr_end(j);
}

int cli_cmd_recover(struct cli_ctx *c)
{
	struct cli_args *a = &c->args;
	if (a->npos)
		return cli_usage_error(c, "recover takes no FILE: it applies the chip's own recovery file (--uid UID)");
	const char *uid = a->value[OPT_UID];
	if (uid) {
		struct chip_selector sel;
		if (!chip_serial_parse_selector(uid, &sel) || sel.kind != CHIP_SEL_UID)
			return cli_usage_error(c, "--uid %s: expected the chip's 24-digit UID, as 'stm32dfu recover' lists it "
			                          "(the form -S takes: -S UID selects the same chip)", uid);
		if (a->nserials)
			return cli_usage_error(c, "--uid selects the device: drop -S");
		a->serials[a->nserials++] = uid;
		a->value[OPT_SERIAL] = uid;
	}
	struct ops_session *s = NULL;
	struct cli_progress prog;
	struct ops_open_opts oo;
	cli_open_opts(c, &oo);
	int rc = ops_open(&oo, &s, &c->err);
	if (rc < 0) {
		/* no chip to apply to: still show what is pending (the default folder) */
		char dir[RESCUE_PATH_MAX];
		struct err de;
		if (!a->given[OPT_JSON] && !a->given[OPT_QUIET] && rescue_dir(NULL, dir, sizeof dir, &de) == 0) {
			struct pending *p;
			size_t n;
			load_pending(dir, &p, &n, &de);
			print_pending_text(c->out, dir, p, n);
			free_pending(p, n);
		}
		if (rc == STM32DFU_E_NO_DEVICE && !c->err.hint[0])
			err_hint(&c->err, "connect the chip in DFU mode to put its saved bytes back");
		return cli_fail(c, rc);
	}
	if ((rc = cli_log_ready(c))) { /* before anything is put back */
		ops_close(s);
		return rc;
	}
	struct stm32dfu_session *api;
	if (api_adopt(s, &api) < 0) {
		ops_close(s);
		err_set(&c->err, STM32DFU_E_NO_MEMORY, "out of memory");
		return cli_fail(c, STM32DFU_E_NO_MEMORY);
	}
	cli_progress_init(&prog, c->errf, c->tty, !a->given[OPT_QUIET] && !a->given[OPT_JSON]);
	ops_set_progress(s, cli_progress_cb, &prog);
	struct pending *p = NULL;
	size_t n = 0;
	struct err le;
	err_clear(&le);
	if (s->rescue_dir[0])
		load_pending(s->rescue_dir, &p, &n, &le);
	if (!a->given[OPT_JSON] && !a->given[OPT_QUIET])
		print_pending_text(c->out, s->rescue_dir[0] ? s->rescue_dir : "(none: the emulated chip is not kept)", p, n);
	struct stm32dfu_write_report r;
	int err = stm32dfu_recover(api, NULL, &r);
	cli_progress_done(&prog);
	bool none = err == 1;
	if (none)
		err = 0;
	if (a->given[OPT_JSON]) {
		struct json j;
		json_init(&j, c->out);
		json_obj_begin(&j);
		if (err) {
			c->err = api->err;
			cli_json_failure(c, &j, err);
		} else {
			json_kbool(&j, "ok", true);
		}
		json_pending(&j, s->rescue_dir, p, n);
		json_key(&j, "applied");
		if (err == 0 && r.restored_from[0])
			json_str(&j, r.restored_from);
		else
			json_null(&j);
		json_kuint(&j, "restored_sectors", r.restored_sectors);
		json_kbool(&j, "verified", r.verified);
		cli_json_sectors(&j, &r);
		json_obj_end(&j);
		json_end(&j);
	} else if (!a->given[OPT_QUIET] && none) {
		fprintf(c->out, "this chip has no recovery file: nothing to put back\n");
	} else if (!a->given[OPT_QUIET] && err == 0) {
		cli_write_summary_text(c, &r, s);
	}
	free_pending(p, n);
	int code = err < 0 ? cli_fail_api(c, api, err) : EXIT_OK;
	/* putting saved bytes back changes the chip: a record, as every such command keeps */
	if (!none) {
		struct store_record rec;
		cli_log_init(c, &rec, "recover");
		ops_record_board(&rec, s);
		ops_record_result(&rec, err, &c->err);
		cli_log_write_report(&rec, &r);
		rec.s_total = (double)(r.read.us + r.erase.us + r.program.us + r.verify.us) / 1e6;
		code = cli_log_finish(c, &rec, code);
	}
	stm32dfu_close(api);
	return code;
}
