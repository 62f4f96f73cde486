/* list: every DFU device (class FE subclass 01), the state it was found in, its memories and identity. */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/session.h"

static void json_device(struct json *j, const struct ops_listed *d)
{
	json_obj_begin(j);
	json_kuint(j, "vid", d->info.vid);
	json_kuint(j, "pid", d->info.pid);
	json_kstr(j, "serial", d->info.serial);
	json_kstr(j, "path", d->info.path);
	json_kuint(j, "devnum", d->info.devnum);
	json_kuint(j, "bcd_device", d->info.bcd_device);
	json_kstr(j, "product", d->info.product);
	json_kbool(j, "opened", d->opened);
	json_key(j, "error"); /* always present, so scripts need not test for the key */
	if (d->opened)
		json_null(j);
	else
		json_str(j, d->error);
	json_key(j, "initial_state");
	if (d->opened)
		json_str(j, dfu_state_name(d->found.bState));
	else
		json_null(j);
	json_key(j, "initial_status");
	if (d->opened)
		json_str(j, dfu_status_name(d->found.bStatus));
	else
		json_null(j);
	json_kuint(j, "dfu_version", d->dfu_version);
	json_kuint(j, "transfer_size", d->transfer_size);
	json_kbool(j, "serial_shared", d->serial_shared);
	json_kbool(j, "uid_shared", d->uid_shared);
	json_kbool(j, "identity_read", d->identity_tried);
	cli_json_alts(j, d->alts, d->n_alts);
	cli_json_identity(j, d->info.serial, &d->id);
	json_obj_end(j);
}

/* "found in dfuIDLE", or what opening changed (docs/list.md) */
static void print_found(FILE *o, const struct dfu_getstatus *st)
{
	fprintf(o, "  state    found in %s", dfu_state_name(st->bState));
	switch (st->bState) {
	case dfuIDLE: break;
	case dfuERROR: fprintf(o, " (%s), cleared to dfuIDLE", dfu_status_name(st->bStatus)); break;
	case dfuDNBUSY: fprintf(o, ", waited for it to finish"); break;
	default: fprintf(o, ", aborted to dfuIDLE"); break;
	}
	fputc('\n', o);
}

static void print_device(struct cli_ctx *c, const struct ops_listed *d, bool first)
{
	FILE *o = c->out;
	if (!d->opened) {
		fprintf(o, "%s[%04x:%04x] path %s\n  cannot open: %s\n", first ? "" : "\n", d->info.vid, d->info.pid,
		        d->info.path, d->error);
		return;
	}
	fprintf(o, "%s[%04x:%04x] %s  path %s  %s  DFU %x.%02x%s  transfer size %u\n", first ? "" : "\n", d->info.vid,
	        d->info.pid, d->info.product[0] ? d->info.product : "(no product string)", d->info.path,
	        d->info.serial[0] ? d->info.serial : "(no serial)", d->dfu_version >> 8, d->dfu_version & 0xFF,
	        d->dfu_version == 0x011A ? " (DfuSe)" : "", d->transfer_size);
	print_found(o, &d->found);
	if (d->identity_tried)
		cli_print_identity_text(o, d->info.serial, &d->id);
	else
		fprintf(o, "  chip     not an STM32 ROM bootloader (%s): no UID read\n", d->id.chip.reason);
	cli_print_alts_text(o, d->alts, d->n_alts);
}

int cli_cmd_list(struct cli_ctx *c)
{
	if (c->args.npos)
		return cli_usage_error(c, "list takes no arguments");
	struct ops_open_opts o;
	cli_open_opts(c, &o);
	struct ops_listed *l = NULL;
	size_t n = 0;
	int rc = ops_list(&o, &l, &n, &c->err);
	if (rc < 0)
		return cli_fail(c, rc);
	if (c->args.given[OPT_JSON]) {
		struct json j;
		json_init(&j, c->out);
		json_arr_begin(&j);
		for (size_t i = 0; i < n; i++)
			json_device(&j, &l[i]);
		json_arr_end(&j);
		json_end(&j);
	} else {
		if (n == 0)
			fprintf(c->out, "no DFU device found\n");
		for (size_t i = 0; i < n; i++)
			print_device(c, &l[i], i == 0);
	}
	for (size_t i = 0; i < n; i++) {
		if (l[i].serial_shared)
			fprintf(c->errf,
			        "stm32dfu: warning: %s reports serial %s like another attached device; tell them apart "
			        "with -p %s or -S <UID>\n",
			        l[i].info.path, l[i].info.serial, l[i].info.path);
		if (l[i].uid_shared) {
			char u[40];
			cli_uid_format(l[i].id.uid, u, sizeof u);
			fprintf(c->errf,
			        "stm32dfu: warning: %s has UID %s like another attached device: a genuine UID is unique, so "
			        "one of them is a clone or reports a faked UID; select it with -p %s\n",
			        l[i].info.path, u, l[i].info.path);
		}
	}
	free(l);
	return EXIT_OK;
}
