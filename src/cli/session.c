#include "cli/session.h"

#include <inttypes.h>
#include <string.h>

#include "core/rd.h"

/* A device that answers nothing at first is usually finishing flash work (a mass erase) that an
 * earlier session started and did not see end: say so while waiting (stderr, not with -q). */
static void cli_held_note(void *ctx, unsigned waited_ms, unsigned ceiling_ms)
{
	struct cli_ctx *c = ctx;
	if (!c->args.given[OPT_QUIET])
		fprintf(c->errf, "waiting for the chip to finish flash work an earlier session started: no answer for %u s "
		        "(waiting up to %u s, the longest mass erase)\n", waited_ms / 1000u, ceiling_ms / 1000u);
}

void cli_session_options(struct cli_ctx *c, struct stm32dfu_match *m, struct stm32dfu_session_options *o)
{
	const struct cli_args *a = &c->args;
	memset(m, 0, sizeof *m);
	memset(o, 0, sizeof *o);
	o->size = sizeof *o;
	/* list shows every DFU device (class FE subclass 01), as dfu-util -l does; the other commands
	 * default to the ST ROM's 0483:df11 so that a DFU keyboard or radio is never picked by accident */
	bool list_all = a->command && strcmp(a->command, "list") == 0 && !a->given[OPT_DEVICE];
	o->any_id = a->any_device_id || list_all;
	m->vid = a->vid;
	m->pid = a->pid;
	m->path = a->value[OPT_PATH];
	m->serial = a->value[OPT_SERIAL];
	if (a->given[OPT_SIM]) {
		m->sim = a->value[OPT_SIM] ? a->value[OPT_SIM] : "";
		o->sim_persist = 1;
	}
	o->trace = a->value[OPT_TRACE];
	o->has_retries = 1;
	o->retries = a->retries;
	o->confirm_reads = a->given[OPT_CONFIRM_READS];
	o->cancel = &cli_stop_requested;
	o->poll = a->poll_spec ? STM32DFU_POLL_SPEC : STM32DFU_POLL_AUTO;
	o->transfer_size = a->transfer_size;
	o->on_held = cli_held_note;
	o->held_user = c;
	o->recovery_dir = a->value[OPT_RECOVERY_DIR];
	o->port = a->value[OPT_PORT];
	o->baud = a->baud;
	if (a->given[OPT_RESET_SEQ])
		o->reset_seq = a->value[OPT_RESET_SEQ] ? a->value[OPT_RESET_SEQ] : "";
}

void cli_open_opts(struct cli_ctx *c, struct ops_open_opts *o)
{
	struct stm32dfu_match m;
	struct stm32dfu_session_options so;
	cli_session_options(c, &m, &so);
	struct err e;
	err_clear(&e);
	api_session_opts(&m, &so, o, &e); /* the CLI's own options are always well formed */
}

void cli_json_poll(struct json *j, const struct ops_session *s)
{
	const struct dfu_dev *d = s->dfu;
	json_key(j, "poll");
	if (!ops_dfuse(s)) {
		json_null(j); /* AN3155 has no status polling: the ROM answers when the flash is done */
		return;
	}
	json_obj_begin(j);
	json_kstr(j, "mode", dfu_poll_mode_name(d->poll_mode));
	json_kstr(j, "asked", dfu_poll_mode_name(d->poll_asked));
	json_key(j, "fallback");
	if (d->poll_fallback)
		json_str(j, d->poll_fallback);
	else
		json_null(j);
	json_kuint(j, "early_polls", d->stats.early_polls);
	json_obj_end(j);
}

void cli_print_poll(struct cli_ctx *c, const struct ops_session *s)
{
	const struct dfu_dev *d = s->dfu;
	if (!c->args.verbose || !ops_dfuse(s))
		return;
	if (d->poll_fallback && strcmp(d->poll_fallback, "family") == 0)
		fprintf(c->out, "poll     spec (asked auto; this family's ROM STALLs a GETSTATUS sent before its "
		                "bwPollTimeout)\n");
	else if (d->poll_fallback)
		fprintf(c->out, "poll     spec (asked auto; the chip %s a GETSTATUS sent before its bwPollTimeout)\n",
		        strcmp(d->poll_fallback, "stall") == 0 ? "STALLed" : "answered dfuDNBUSY to");
	else if (d->poll_mode == DFU_POLL_AUTO)
		fprintf(c->out, "poll     auto (%" PRIu64 " early GETSTATUS answered when the flash was done)\n",
		        d->stats.early_polls);
	else
		fprintf(c->out, "poll     spec (every bwPollTimeout waited, --poll spec)\n");
}

void cli_take_last_error(struct cli_ctx *c, int rc)
{
	/* the failure in the command line's words (stm32dfu_last_error gives the library's) */
	c->err = *api_open_error();
	if (!c->err.msg[0])
		err_set(&c->err, rc, "%s", stm32dfu_strerror(rc));
	c->err.code = rc;
}

int cli_open_api(struct cli_ctx *c, struct stm32dfu_session **api, struct cli_progress *prog)
{
	struct stm32dfu_match m;
	struct stm32dfu_session_options o;
	cli_session_options(c, &m, &o);
	int rc = stm32dfu_open_session(&m, &o, api);
	if (rc < 0) {
		cli_take_last_error(c, rc);
		if (rc == STM32DFU_E_NO_DEVICE && !c->err.hint[0])
			err_hint(&c->err, "is the chip in DFU mode (BOOT0 high, USB connected)? 'stm32dfu list' shows "
			                  "what is attached; --sim uses the emulator");
		return cli_fail(c, rc);
	}
	(*api)->cli_words = 1;
	if (prog) {
		cli_progress_init(prog, c->errf, c->tty, !c->args.given[OPT_QUIET] && !c->args.given[OPT_JSON]);
		ops_set_progress(api_ops(*api), cli_progress_cb, prog);
	}
	return 0;
}

int cli_fail_api(struct cli_ctx *c, struct stm32dfu_session *api, int rc)
{
	c->err = api->err;
	if (!c->err.code)
		c->err.code = rc;
	int code = cli_fail(c, rc);
	/* the library reads no input file of its own: a file it cannot write (a recovery file before
	 * an erase, a trace) is an output that cannot be created */
	return rc == STM32DFU_E_FILE_IO ? EXIT_CANTCREAT : code;
}

void cli_uid_format(const uint8_t uid[12], char *buf, size_t cap)
{
	snprintf(buf, cap, "%08" PRIX32 " %08" PRIX32 " %08" PRIX32, get_le32(uid), get_le32(uid + 4), get_le32(uid + 8));
}

void cli_uid_machine(const char *text, char *buf, size_t cap)
{
	size_t k = 0;
	for (; *text && k + 1 < cap; text++)
		if (*text != ' ')
			buf[k++] = *text;
	if (cap)
		buf[k] = '\0';
}

void cli_size_text(char *buf, size_t cap, uint64_t bytes)
{
	if (bytes >= 1024u * 1024u && bytes % (1024u * 1024u) == 0)
		snprintf(buf, cap, "%" PRIu64 " MiB", bytes / (1024u * 1024u));
	else if (bytes >= 1024u && bytes % 1024u == 0)
		snprintf(buf, cap, "%" PRIu64 " KiB", bytes / 1024u);
	else
		snprintf(buf, cap, "%" PRIu64 " B", bytes);
}

int cli_parse_addr_len(struct cli_ctx *c, const char *what, uint32_t *addr, uint32_t *len)
{
	if (c->args.npos != 2)
		return cli_usage_error(c, "%s needs ADDR LEN, e.g. 0x08000000 64K", what);
	const char *why;
	if (!cli_parse_num(c->args.pos[0], addr, &why))
		return cli_usage_error(c, "%s: ADDR %s: %s; e.g. 0x08000000", what, c->args.pos[0], why);
	if (!cli_parse_num(c->args.pos[1], len, &why))
		return cli_usage_error(c, "%s: LEN %s: %s; e.g. 64K, 64KiB or 0x10000", what, c->args.pos[1], why);
	if (!*len)
		return cli_usage_error(c, "%s: LEN 0: not 0 bytes; give how many, e.g. 64K", what);
	return 0;
}

int cli_format_opt(struct cli_ctx *c, enum img_format *f)
{
	static const struct {
		const char *name;
		enum img_format f;
	} names[] = {{"bin", IMG_FMT_BIN}, {"raw", IMG_FMT_BIN},     {"hex", IMG_FMT_IHEX}, {"ihex", IMG_FMT_IHEX},
	             {"srec", IMG_FMT_SREC}, {"s19", IMG_FMT_SREC},  {"elf", IMG_FMT_ELF},  {"dfu", IMG_FMT_DFUSE},
	             {"dfuse", IMG_FMT_DFUSE}};
	const char *v = c->args.value[OPT_FORMAT];
	if (!c->args.given[OPT_FORMAT])
		return 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(v, names[i].name) == 0) {
			*f = names[i].f;
			return 0;
		}
	return cli_usage_error(c, "--format %s: expected bin, hex, srec, elf or dfu", v);
}
