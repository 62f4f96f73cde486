/*
 * list: every DFU device (class FE subclass 01), the state it was found in, its memories and identity,
 * as stm32dfu_list_ex records (printed from those alone).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/session.h"

static void json_alts(struct json *j, const struct stm32dfu_device *d)
{
	json_key(j, "alts");
	json_arr_begin(j);
	for (unsigned i = 0; i < d->n_alts; i++) {
		const struct stm32dfu_alt *a = &d->alts[i];
		json_obj_begin(j);
		json_kuint(j, "alt", a->alt);
		json_kstr(j, "name", a->has_layout ? a->name : a->raw);
		json_kstr(j, "layout", a->raw);
		json_key(j, "regions");
		json_arr_begin(j);
		for (unsigned r = 0; a->has_layout && r < a->n_regions; r++) {
			const struct stm32dfu_region *rg = &a->regions[r];
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

static void json_identity(struct json *j, const struct stm32dfu_listed *x)
{
	const struct stm32dfu_identity *id = &x->device.identity;
	json_key(j, "chip");
	if (id->family[0]) {
		json_obj_begin(j);
		json_kstr(j, "family", id->family);
		json_kstr(j, "name", id->chip);
		json_kstr(j, "confidence", id->confidence);
		json_kstr(j, "reason", id->reason);
		json_kuint(j, "flash_size", id->flash_size);
		json_kstr(j, "flash_size_source", x->flash_size_source);
		if (id->bootloader_version[0])
			json_kstr(j, "bootloader_version", id->bootloader_version);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	char u[40];
	cli_uid_format(id->uid, u, sizeof u);
	json_key(j, "uid");
	json_str(j, id->has_uid ? u : NULL);
	json_kstr(j, "serial_reported", x->device.serial);
	json_key(j, "serial_computed");
	json_str(j, id->serial_computed[0] ? id->serial_computed : NULL);
	json_kstr(j, "serial_verdict", id->serial_verdict);
	/* a device that could not be opened has no explanation (null), as the key has always shown it */
	json_kstr(j, "serial_explanation", x->device.opened ? id->serial_explanation : NULL);
	json_key(j, "rdp_level");
	if (id->rdp_level >= 0)
		json_int(j, id->rdp_level);
	else
		json_null(j);
}

static void json_device(struct json *j, const struct stm32dfu_listed *x)
{
	const struct stm32dfu_device *d = &x->device;
	json_obj_begin(j);
	json_kuint(j, "vid", d->vid);
	json_kuint(j, "pid", d->pid);
	json_kstr(j, "serial", d->serial);
	json_kstr(j, "path", d->path);
	json_kuint(j, "devnum", x->devnum);
	json_kuint(j, "bcd_device", d->bcd_device);
	json_kstr(j, "product", d->product);
	json_kbool(j, "opened", d->opened);
	json_key(j, "error"); /* always present, so scripts need not test for the key */
	json_str(j, d->opened ? NULL : d->error);
	json_key(j, "initial_state");
	json_str(j, d->opened ? x->found_state_name : NULL);
	json_key(j, "initial_status");
	json_str(j, d->opened ? x->found_status_name : NULL);
	json_kuint(j, "dfu_version", d->dfu_version);
	json_kuint(j, "transfer_size", d->transfer_size);
	json_kbool(j, "serial_shared", d->serial_shared);
	json_kbool(j, "uid_shared", x->uid_shared);
	json_kbool(j, "identity_read", x->identity_read);
	json_alts(j, d);
	json_identity(j, x);
	json_obj_end(j);
}

/* "found in dfuIDLE", or what opening changed (docs/list.md) */
static void print_found(FILE *o, const struct stm32dfu_listed *x)
{
	fprintf(o, "  state    found in %s", x->found_state_name);
	if (strcmp(x->found_action, "cleared") == 0)
		fprintf(o, " (%s), cleared to dfuIDLE", x->found_status_name);
	else if (strcmp(x->found_action, "waited") == 0)
		fprintf(o, ", waited for it to finish");
	else if (strcmp(x->found_action, "aborted") == 0)
		fprintf(o, ", aborted to dfuIDLE");
	fputc('\n', o);
}

static const char *verdict_word(const char *token)
{
	static const struct {
		const char *token, *word;
	} w[] = {{"match_hal", "matches the UID (HAL rule)"},
	         {"match_bytewise", "matches the UID (byte-wise rule)"},
	         {"known_quirk", "known ROM quirk"},
	         {"mismatch", "DOES NOT MATCH the UID"},
	         {"no_uid", "UID not read"}};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
		if (strcmp(token, w[i].token) == 0)
			return w[i].word;
	return "?";
}

static void print_identity(FILE *o, const struct stm32dfu_listed *x)
{
	const struct stm32dfu_identity *id = &x->device.identity;
	if (id->family[0])
		fprintf(o, "  chip     %s (%s: %s)\n", id->chip, id->confidence, id->reason);
	else
		fprintf(o, "  chip     unknown (%s)\n", id->reason);
	if (id->flash_size) {
		char sz[32];
		cli_size_text(sz, sizeof sz, id->flash_size);
		fprintf(o, "  flash    %s (%s)", sz,
		        strcmp(x->flash_size_source, "register") == 0 ? "flash-size register" : "layout string");
		if (x->layout_flash_size && x->layout_flash_size != id->flash_size) {
			char lz[32];
			cli_size_text(lz, sizeof lz, x->layout_flash_size);
			fprintf(o, "; the bootloader advertises %s", lz);
		}
		fputc('\n', o);
	}
	if (id->bootloader_version[0])
		fprintf(o, "  bootldr  %s (ID byte 0x%02X)\n", id->bootloader_version, id->bootloader_id);
	if (id->has_uid) {
		char u[40];
		cli_uid_format(id->uid, u, sizeof u);
		fprintf(o, "  UID      %s\n", u);
	}
	fprintf(o, "  serial   %s (USB)", x->device.serial[0] ? x->device.serial : "(none)");
	if (id->serial_computed[0])
		fprintf(o, ", computed from UID %s", id->serial_computed);
	fprintf(o, ": %s\n", verdict_word(id->serial_verdict));
	if (strcmp(id->serial_verdict, "match_hal") != 0 && id->serial_explanation[0])
		fprintf(o, "           %s\n", id->serial_explanation);
	if (id->rdp_level >= 0)
		fprintf(o, "  RDP      level %d%s\n", id->rdp_level,
		        id->rdp_level == 0   ? " (not protected)"
		        : id->rdp_level == 1 ? " (read-protected)"
		        : x->rdp_from_note   ? " (PERMANENT; written by stm32dfu ob set: the chip refuses reads, so the level "
		                               "itself cannot be read)"
		                             : " (PERMANENT)");
}

static void print_alts(FILE *o, const struct stm32dfu_listed *x)
{
	const struct stm32dfu_device *d = &x->device;
	for (unsigned i = 0; i < d->n_alts; i++) {
		const struct stm32dfu_alt *a = &d->alts[i];
		if (!a->has_layout) {
			fprintf(o, "  alt %u  \"%s\"%s%s\n", a->alt, a->raw, x->layout_error[i][0] ? ": " : "",
			        x->layout_error[i]);
			continue;
		}
		for (unsigned r = 0; r < a->n_regions; r++) {
			const struct stm32dfu_region *rg = &a->regions[r];
			char total[32], groups[160] = "";
			cli_size_text(total, sizeof total, rg->length);
			size_t used = 0;
			for (unsigned g = 0; g < rg->n_groups && used < sizeof groups; g++) {
				char sz[32];
				cli_size_text(sz, sizeof sz, rg->groups[g].size);
				int k = snprintf(groups + used, sizeof groups - used, "%s%" PRIu32 " x %s", g ? ", " : "",
				                 rg->groups[g].count, sz);
				if (k < 0)
					break;
				used += (size_t)k;
			}
			fprintf(o, "  alt %u  %-16s 0x%08" PRIX32 "  %-9s (%s)\n", a->alt, r ? "" : a->name, rg->start, total,
			        groups);
		}
		if (a->n_regions_total > a->n_regions)
			fprintf(o, "  alt %u  %u more regions (the library record holds %d)\n", a->alt,
			        a->n_regions_total - a->n_regions, STM32DFU_MAX_REGIONS);
	}
	if (d->n_alts_total > d->n_alts)
		fprintf(o, "  %u more alt settings (the library record holds %d)\n", d->n_alts_total - d->n_alts,
		        STM32DFU_MAX_ALTS);
}

static void print_device(struct cli_ctx *c, const struct stm32dfu_listed *x, bool first)
{
	FILE *o = c->out;
	const struct stm32dfu_device *d = &x->device;
	if (!d->opened) {
		fprintf(o, "%s[%04x:%04x] path %s\n  cannot open: %s\n", first ? "" : "\n", d->vid, d->pid, d->path,
		        d->error);
		return;
	}
	fprintf(o, "%s[%04x:%04x] %s  path %s  %s  DFU %x.%02x%s  transfer size %u\n", first ? "" : "\n", d->vid, d->pid,
	        d->product[0] ? d->product : "(no product string)", d->path, d->serial[0] ? d->serial : "(no serial)",
	        d->dfu_version >> 8, d->dfu_version & 0xFF, d->dfu_version == 0x011A ? " (DfuSe)" : "", d->transfer_size);
	print_found(o, x);
	if (x->identity_read)
		print_identity(o, x);
	else
		fprintf(o, "  chip     not an STM32 ROM bootloader (%s): no UID read\n", d->identity.reason);
	print_alts(o, x);
}

int cli_cmd_list(struct cli_ctx *c)
{
	if (c->args.npos)
		return cli_usage_error(c, "list takes no arguments");
	/* the CLI's open options (every VID:PID, the persistent emulator) are more than stm32dfu_match
	 * says, so the records come from the library's internal entry with them */
	struct ops_open_opts o;
	cli_open_opts(c, &o);
	struct stm32dfu_listed *l = NULL;
	size_t n = 0;
	int rc = api_list_ex_opts(&o, &l, &n, &c->err);
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
		const struct stm32dfu_device *d = &l[i].device;
		if (d->serial_shared)
			fprintf(c->errf,
			        "stm32dfu: warning: %s reports serial %s like another attached device; tell them apart "
			        "with -p %s or -S <UID>\n",
			        d->path, d->serial, d->path);
		if (l[i].uid_shared) {
			char u[40];
			cli_uid_format(d->identity.uid, u, sizeof u);
			fprintf(c->errf,
			        "stm32dfu: warning: %s has UID %s like another attached device: a genuine UID is unique, so "
			        "one of them is a clone or reports a faked UID; select it with -p %s\n",
			        d->path, u, d->path);
		}
	}
	stm32dfu_list_ex_free(l);
	return EXIT_OK;
}
