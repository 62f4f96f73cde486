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

void cli_open_opts(struct cli_ctx *c, struct ops_open_opts *o)
{
	ops_open_opts_init(o);
	const struct cli_args *a = &c->args;
	/* list shows every DFU device (class FE subclass 01), as dfu-util -l does; the other commands
	 * default to the ST ROM's 0483:df11 so that a DFU keyboard or radio is never picked by accident */
	bool list_all = a->command && strcmp(a->command, "list") == 0 && !a->given[OPT_DEVICE];
	if (a->any_device_id || list_all) {
		o->match.have_vid = o->match.have_pid = false;
	} else {
		o->match.vid = a->vid;
		o->match.pid = a->pid;
	}
	o->match.path = a->value[OPT_PATH];
	o->selector = a->value[OPT_SERIAL];
	if (a->given[OPT_SIM]) {
		o->sim_spec = a->value[OPT_SIM] ? a->value[OPT_SIM] : "";
		o->sim_persist = true;
	}
	o->trace_path = a->value[OPT_TRACE];
	o->retries = a->retries;
	o->confirm_reads = a->given[OPT_CONFIRM_READS];
	o->cancel = &cli_stop_requested;
	o->poll_spec = a->poll_spec;
	o->transfer_size = a->transfer_size;
	o->on_held = cli_held_note;
	o->held_ctx = c;
}

void cli_json_poll(struct json *j, const struct ops_session *s)
{
	const struct dfu_dev *d = s->dfu;
	json_key(j, "poll");
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
	if (!c->args.verbose)
		return;
	if (d->poll_fallback)
		fprintf(c->out, "poll     spec (asked auto; the chip %s a GETSTATUS sent before its bwPollTimeout)\n",
		        strcmp(d->poll_fallback, "stall") == 0 ? "STALLed" : "answered dfuDNBUSY to");
	else if (d->poll_mode == DFU_POLL_AUTO)
		fprintf(c->out, "poll     auto (%" PRIu64 " early GETSTATUS answered when the flash was done)\n",
		        d->stats.early_polls);
	else
		fprintf(c->out, "poll     spec (every bwPollTimeout waited, --poll spec)\n");
}

int cli_open(struct cli_ctx *c, struct ops_session **s, struct cli_progress *prog)
{
	struct ops_open_opts o;
	cli_open_opts(c, &o);
	int rc = ops_open(&o, s, &c->err);
	if (rc < 0) {
		if (rc == STM32DFU_E_NO_DEVICE && !c->err.hint[0])
			err_hint(&c->err, "is the chip in DFU mode (BOOT0 high, USB connected)? 'stm32dfu list' shows "
			                  "what is attached; --sim uses the emulator");
		return cli_fail(c, rc);
	}
	if (prog) {
		cli_progress_init(prog, c->errf, c->tty, !c->args.given[OPT_QUIET] && !c->args.given[OPT_JSON]);
		ops_set_progress(*s, cli_progress_cb, prog);
	}
	return 0;
}

int cli_fail_session(struct cli_ctx *c, struct ops_session *s, int rc)
{
	c->err = s->err;
	if (!c->err.code)
		c->err.code = rc;
	return cli_fail(c, rc);
}

int cli_open_api(struct cli_ctx *c, struct stm32dfu_session **api, struct cli_progress *prog)
{
	struct ops_session *s;
	int rc = cli_open(c, &s, prog);
	if (rc)
		return rc;
	if (api_adopt(s, api) < 0) {
		ops_close(s);
		err_set(&c->err, STM32DFU_E_NO_MEMORY, "out of memory");
		return cli_fail(c, STM32DFU_E_NO_MEMORY);
	}
	return 0;
}

int cli_fail_api(struct cli_ctx *c, struct stm32dfu_session *api, int rc)
{
	c->err = api->err;
	if (!c->err.code)
		c->err.code = rc;
	return cli_fail(c, rc);
}

void cli_uid_format(const uint8_t uid[12], char *buf, size_t cap)
{
	snprintf(buf, cap, "%08" PRIX32 " %08" PRIX32 " %08" PRIX32, get_le32(uid), get_le32(uid + 4), get_le32(uid + 8));
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

static void groups_text(char *buf, size_t cap, const struct layout_region *r)
{
	size_t used = 0;
	buf[0] = '\0';
	for (unsigned g = 0; g < r->n_groups && used < cap; g++) {
		char sz[32];
		cli_size_text(sz, sizeof sz, r->groups[g].size);
		int n = snprintf(buf + used, cap - used, "%s%" PRIu32 " x %s", g ? ", " : "", r->groups[g].count, sz);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

void cli_print_alts_text(FILE *o, const struct dfu_alt *alts, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct dfu_alt *a = &alts[i];
		if (!a->have_layout) {
			fprintf(o, "  alt %u  \"%s\"%s%s\n", a->alt, a->name, a->layout_error[0] ? ": " : "", a->layout_error);
			continue;
		}
		for (unsigned r = 0; r < a->layout.n_regions; r++) {
			const struct layout_region *rg = &a->layout.regions[r];
			char total[32], groups[160];
			cli_size_text(total, sizeof total, rg->length);
			groups_text(groups, sizeof groups, rg);
			fprintf(o, "  alt %u  %-16s 0x%08" PRIX32 "  %-9s (%s)\n", a->alt, r ? "" : a->layout.name, rg->start,
			        total, groups);
		}
	}
}

void cli_json_alts(struct json *j, const struct dfu_alt *alts, unsigned n)
{
	json_key(j, "alts");
	json_arr_begin(j);
	for (unsigned i = 0; i < n; i++) {
		const struct dfu_alt *a = &alts[i];
		json_obj_begin(j);
		json_kuint(j, "alt", a->alt);
		json_kstr(j, "name", a->have_layout ? a->layout.name : a->name);
		json_kstr(j, "layout", a->name);
		json_key(j, "regions");
		json_arr_begin(j);
		for (unsigned r = 0; a->have_layout && r < a->layout.n_regions; r++) {
			const struct layout_region *rg = &a->layout.regions[r];
			uint64_t sectors = 0;
			for (unsigned g = 0; g < rg->n_groups; g++)
				sectors += rg->groups[g].count;
			json_obj_begin(j);
			json_khex32(j, "start", rg->start);
			json_kuint(j, "size", rg->length);
			json_kuint(j, "sectors", sectors);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static const char *verdict_word(enum chip_serial_verdict v)
{
	switch (v) {
	case CHIP_SERIAL_MATCH_HAL: return "matches the UID (HAL rule)";
	case CHIP_SERIAL_MATCH_BYTEWISE: return "matches the UID (byte-wise rule)";
	case CHIP_SERIAL_KNOWN_QUIRK: return "known ROM quirk";
	case CHIP_SERIAL_MISMATCH: return "DOES NOT MATCH the UID";
	case CHIP_SERIAL_NO_UID: return "UID not read";
	}
	return "?";
}

void cli_print_identity_text(FILE *o, const char *usb_serial, const struct ops_identity *id)
{
	const struct chip_identity *ci = &id->chip;
	if (ci->family)
		fprintf(o, "  chip     %s (%s: %s)\n", ci->family->name, chip_confidence_name(ci->confidence), ci->reason);
	else
		fprintf(o, "  chip     unknown (%s)\n", ci->reason);
	if (ci->flash_size) {
		char sz[32];
		cli_size_text(sz, sizeof sz, ci->flash_size);
		fprintf(o, "  flash    %s (%s)", sz,
		        ci->flash_size_source == CHIP_SIZE_REGISTER ? "flash-size register" : "layout string");
		if (ci->layout_flash_size && ci->layout_flash_size != ci->flash_size) {
			char lz[32];
			cli_size_text(lz, sizeof lz, ci->layout_flash_size);
			fprintf(o, "; the bootloader advertises %s", lz);
		}
		fputc('\n', o);
	}
	if (ci->has_bootloader_version)
		fprintf(o, "  bootldr  %s (ID byte 0x%02X)\n", ci->bootloader_version, id->bootloader_id);
	if (id->has_uid) {
		char u[40];
		cli_uid_format(id->uid, u, sizeof u);
		fprintf(o, "  UID      %s\n", u);
	}
	const struct chip_serial_result *sr = &id->serial;
	fprintf(o, "  serial   %s (USB)", usb_serial && usb_serial[0] ? usb_serial : "(none)");
	if (sr->has_computed && sr->computed.hal_valid)
		fprintf(o, ", computed from UID %s", sr->computed.hal);
	fprintf(o, ": %s\n", verdict_word(sr->verdict));
	if (sr->verdict != CHIP_SERIAL_MATCH_HAL && sr->explanation && sr->explanation[0])
		fprintf(o, "           %s\n", sr->explanation);
	if (id->rdp_level >= 0)
		fprintf(o, "  RDP      level %d%s\n", id->rdp_level,
		        id->rdp_level == 0   ? " (not protected)"
		        : id->rdp_level == 1 ? " (read-protected)"
		        : id->rdp_from_note  ? " (PERMANENT; written by stm32dfu ob set: the chip refuses reads, so the level "
		                               "itself cannot be read)"
		                             : " (PERMANENT)");
}

void cli_json_identity(struct json *j, const char *usb_serial, const struct ops_identity *id)
{
	const struct chip_identity *ci = &id->chip;
	json_key(j, "chip");
	if (ci->family) {
		json_obj_begin(j);
		json_kstr(j, "family", ci->family->id);
		json_kstr(j, "name", ci->family->name);
		json_kstr(j, "confidence", chip_confidence_name(ci->confidence));
		json_kstr(j, "reason", ci->reason);
		json_kuint(j, "flash_size", ci->flash_size);
		json_kstr(j, "flash_size_source",
		          ci->flash_size_source == CHIP_SIZE_REGISTER ? "register"
		          : ci->flash_size_source == CHIP_SIZE_LAYOUT ? "layout" : "unknown");
		if (ci->has_bootloader_version)
			json_kstr(j, "bootloader_version", ci->bootloader_version);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	char u[40] = "";
	if (id->has_uid)
		cli_uid_format(id->uid, u, sizeof u);
	json_key(j, "uid");
	if (id->has_uid)
		json_str(j, u);
	else
		json_null(j);
	json_kstr(j, "serial_reported", usb_serial);
	json_key(j, "serial_computed");
	if (id->serial.has_computed && id->serial.computed.hal_valid)
		json_str(j, id->serial.computed.hal);
	else
		json_null(j);
	json_kstr(j, "serial_verdict", chip_serial_verdict_token(id->serial.verdict));
	json_kstr(j, "serial_explanation", id->serial.explanation);
	json_key(j, "rdp_level");
	if (id->rdp_level >= 0)
		json_int(j, id->rdp_level);
	else
		json_null(j);
}

int cli_parse_addr_len(struct cli_ctx *c, const char *what, uint32_t *addr, uint32_t *len)
{
	if (c->args.npos != 2 || !cli_parse_u32(c->args.pos[0], addr) || !cli_parse_u32(c->args.pos[1], len) || !*len)
		return cli_usage_error(c, "%s needs ADDR LEN, e.g. 0x08000000 64K", what);
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
