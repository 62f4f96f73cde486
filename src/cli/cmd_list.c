/*
 * list: every DFU device (class FE subclass 01), the state it was found in, its memories and identity,
 * as stm32dfu_list_records records (printed from those alone).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "cli/commands.h"
#include "cli/session.h"

static void json_device(struct json *j, const struct stm32dfu_device_rec *d)
{
	json_obj_begin(j);
	json_kuint(j, "vid", d->vid);
	json_kuint(j, "pid", d->pid);
	json_kstr(j, "serial", d->serial);
	json_kstr(j, "path", d->path);
	json_kuint(j, "devnum", d->devnum);
	json_kuint(j, "bcd_device", d->bcd_device);
	json_kstr(j, "product", d->product);
	json_kbool(j, "opened", d->opened);
	json_key(j, "error"); /* always present, so scripts need not test for the key */
	json_str(j, d->opened ? NULL : d->error);
	json_key(j, "initial_state");
	json_str(j, d->opened ? d->found_state_name : NULL);
	json_key(j, "initial_status");
	json_str(j, d->opened ? d->found_status_name : NULL);
	json_kuint(j, "dfu_version", d->dfu_version);
	json_kuint(j, "transfer_size", d->transfer_size);
	json_kbool(j, "serial_shared", d->serial_shared);
	json_kbool(j, "uid_shared", d->uid_shared);
	json_kbool(j, "identity_read", d->identity_read);
	cli_json_alts(j, d);
	cli_json_identity(j, d);
	json_obj_end(j);
}

/* "found in dfuIDLE", or what opening changed (docs/list.md) */
static void print_found(FILE *o, const struct stm32dfu_device_rec *d)
{
	fprintf(o, "  state    found in %s", d->found_state_name);
	if (strcmp(d->found_action, "cleared") == 0)
		fprintf(o, " (%s), cleared to dfuIDLE", d->found_status_name);
	else if (strcmp(d->found_action, "waited") == 0)
		fprintf(o, ", waited for it to finish");
	else if (strcmp(d->found_action, "aborted") == 0)
		fprintf(o, ", aborted to dfuIDLE");
	fputc('\n', o);
}

static void print_device(struct cli_ctx *c, const struct stm32dfu_device_rec *d, bool first)
{
	FILE *o = c->out;
	if (!d->opened) {
		fprintf(o, "%s[%04x:%04x] path %s\n  cannot open: %s\n", first ? "" : "\n", d->vid, d->pid, text_esc(0, d->path),
		        text_esc(1, d->error));
		return;
	}
	fprintf(o, "%s[%04x:%04x] %s  path %s  %s  DFU %x.%02x%s  transfer size %u\n", first ? "" : "\n", d->vid, d->pid,
	        d->product[0] ? text_esc(0, d->product) : "(no product string)", text_esc(1, d->path),
	        d->serial[0] ? text_esc(2, d->serial) : "(no serial)",
	        d->dfu_version >> 8, d->dfu_version & 0xFF, d->dfu_version == 0x011A ? " (DfuSe)" : "", d->transfer_size);
	print_found(o, d);
	if (d->identity_read)
		cli_print_identity(o, d);
	else
		fprintf(o, "  chip     not an STM32 ROM bootloader (%s): no UID read\n", d->identity.reason);
	cli_print_alts(o, d);
}

static int no_device(struct cli_ctx *c)
{
	const struct cli_args *a = &c->args;
	bool narrowed = a->given[OPT_DEVICE] || a->given[OPT_PATH] || a->given[OPT_SERIAL];
	err_set(&c->err, STM32DFU_E_NO_DEVICE, narrowed ? "no DFU device matches the -d/-p/-S given" : "no DFU device found");
	err_hint(&c->err, "is the chip in its bootloader (BOOT0 high at reset) with its USB plugged in?%s",
	         narrowed ? " 'stm32dfu list' alone shows every DFU device" : "");
	return cli_fail(c, STM32DFU_E_NO_DEVICE);
}

int cli_cmd_list(struct cli_ctx *c)
{
	if (c->args.given[OPT_PORTS] || c->args.given[OPT_PROBE] || c->args.given[OPT_PORT] || c->args.given[OPT_BAUD] ||
	    c->args.given[OPT_RESET_SEQ])
		return cli_list_ports(c);
	if (c->args.npos)
		return cli_usage_error(c, "list takes no arguments");
	struct stm32dfu_match m;
	struct stm32dfu_session_options so;
	cli_session_options(c, &m, &so);
	struct stm32dfu_device_rec *l = NULL;
	size_t n = 0;
	int rc = stm32dfu_list_records(&m, &so, &l, &n);
	if (rc < 0) {
		cli_take_last_error(c, rc);
		return cli_fail(c, rc);
	}
	if (n == 0) {
		/* none found is an answer a script must not mistake for a board: exit 69 on every platform,
		 * and with --json the failure document every failure prints (docs/json.md) */
		stm32dfu_list_records_free(l);
		return no_device(c);
	}
	if (c->args.given[OPT_JSON]) {
		struct json j;
		json_init(&j, c->out);
		json_arr_begin(&j);
		for (size_t i = 0; i < n; i++)
			json_device(&j, &l[i]);
		json_arr_end(&j);
		json_end(&j);
	} else {
		for (size_t i = 0; i < n; i++)
			print_device(c, &l[i], i == 0);
	}
	for (size_t i = 0; i < n; i++) {
		const struct stm32dfu_device_rec *d = &l[i];
		if (d->serial_shared)
			fprintf(c->errf,
			        "stm32dfu: warning: %s reports serial %s like another attached device; tell them apart "
			        "with -p %s or -S <UID>\n",
			        d->path, d->serial, d->path);
		if (d->uid_shared)
			fprintf(c->errf,
			        "stm32dfu: warning: %s has UID %s like another attached device: a genuine UID is unique, so "
			        "one of them is a clone or reports a faked UID; select it with -p %s\n",
			        d->path, d->identity.uid_text, d->path);
	}
	stm32dfu_list_records_free(l);
	return EXIT_OK;
}
