/* What a write (or a recovery file applied) and a leave did: the text summary and the JSON document. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_device.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "ops/vdd.h"

/* Warns (before the outcome) when the vector table at the jump address does not look runnable. */
void cli_leave_warnings(struct cli_ctx *c, const struct stm32dfu_leave_result *l)
{
	if (!l->vector_read) {
		fprintf(c->errf, "stm32dfu: warning: could not read the vector table at 0x%08" PRIX32 " before leaving\n",
		        l->address);
		return;
	}
	if (!l->sp_in_ram)
		fprintf(c->errf, "stm32dfu: warning: the initial stack pointer at 0x%08" PRIX32 " is 0x%08" PRIX32
		        ", not in RAM: no runnable vector table there\n", l->address, l->sp);
	if (!l->reset_in_code || !l->reset_thumb)
		fprintf(c->errf, "stm32dfu: warning: the reset vector at 0x%08" PRIX32 " is 0x%08" PRIX32 ", %s\n",
		        l->address + 4u, l->reset,
		        !l->reset_in_code ? "not in flash" : "without the Thumb bit (bit 0) a Cortex-M needs");
}

/* Why the jump went there, in words and as docs/json.md names it. */
static const char *const leave_rule_text[] = {
	"the address given", "the start of the flash", "the vector table whose reset vector is the file's entry point",
	"the file's lowest vector table (the file names no entry point, or none matches one)",
};
static const char *const leave_rule_json[] = {"given", "flash-start", "entry", "vector-table"};

static unsigned leave_rule(const struct stm32dfu_leave_result *l)
{
	return l->rule >= 0 && l->rule <= STM32DFU_LEAVE_FIRST_TABLE ? (unsigned)l->rule : 0;
}

void cli_leave_text(FILE *o, const struct stm32dfu_leave_result *l)
{
	if (!l->gone) /* over USART: Go acknowledged; nothing is sent after it, so nothing more is known */
		fprintf(o, "left the bootloader: jumped to 0x%08" PRIX32 " (%s); the ROM acknowledged the Go command (the "
		        "serial link cannot show whether the application runs)\n", l->address, leave_rule_text[leave_rule(l)]);
	else
		fprintf(o, "left DFU: jumped to 0x%08" PRIX32 " (%s); the device left the bus and the bootloader did not "
		        "come back (the application runs)\n", l->address, leave_rule_text[leave_rule(l)]);
}

void cli_leave_json(struct json *j, const struct stm32dfu_leave_result *l)
{
	json_khex32(j, "address", l->address);
	json_kstr(j, "rule", leave_rule_json[leave_rule(l)]);
	json_kbool(j, "vector_ok", l->vector_ok);
	json_key(j, "sp");
	if (l->vector_read)
		json_hex32(j, l->sp);
	else
		json_null(j);
	json_key(j, "reset");
	if (l->vector_read)
		json_hex32(j, l->reset);
	else
		json_null(j);
	json_kbool(j, "confirmed", l->confirmed);
	json_kbool(j, "gone", l->gone);
}


/* "0-3 new, 4 old, 6-9 new": runs of one state over consecutive sector numbers, so the 256 pages of
 * a page flash fit the line (the report keeps the first STM32DFU_MAX_SECTOR_REPORTS) */
static void sector_list_text(char *buf, size_t cap, const struct stm32dfu_write_report *r)
{
	size_t len = 0;
	unsigned n = r->n_sectors < STM32DFU_MAX_SECTOR_REPORTS ? r->n_sectors : STM32DFU_MAX_SECTOR_REPORTS;
	buf[0] = '\0';
	for (unsigned i = 0; i < n;) {
		unsigned j = i + 1;
		while (j < n && r->sectors[j].state == r->sectors[i].state && r->sectors[j].index == r->sectors[j - 1].index + 1)
			j++;
		const char *st = ops_sector_state_name((enum ops_sector_state)r->sectors[i].state);
		char run[48];
		if (j - i == 1)
			snprintf(run, sizeof run, "%s%u %s", i ? ", " : "", r->sectors[i].index, st);
		else
			snprintf(run, sizeof run, "%s%u-%u %s", i ? ", " : "", r->sectors[i].index, r->sectors[j - 1].index, st);
		if (len + strlen(run) + 32 >= cap) {
			snprintf(buf + len, cap - len, ", ... (%u sectors)", r->n_sectors);
			return;
		}
		len += (size_t)snprintf(buf + len, cap - len, "%s", run);
		i = j;
	}
	if (r->n_sectors > n)
		snprintf(buf + len, cap - len, ", ... (the first %u of %u sectors)", n, r->n_sectors);
}

void cli_write_summary_text(struct cli_ctx *c, const struct stm32dfu_write_report *r, const struct ops_session *s)
{
	FILE *o = c->out;
	if (r->restored_from[0])
		fprintf(o, "restored %u sector%s saved by an unfinished write (%s, now deleted)\n", r->restored_sectors,
		        r->restored_sectors == 1 ? "" : "s", r->restored_from);
	if (r->memory[0]) { /* RAM, OTP, option bytes: no sectors, no erase */
		cli_write_memory_text(c, r);
		if (r->left)
			cli_leave_text(o, &r->leave);
		cli_print_poll(c, s);
		return;
	}
	fprintf(o, "read     %" PRIu64 " bytes of %u sector%s in %.2f s\n", r->read.bytes, r->sectors_touched,
	        r->sectors_touched == 1 ? "" : "s", cli_seconds(r->read.us));
	if (r->voltage_range >= 0)
		fprintf(o, "flash    voltage range %d (%s) set for --vdd\n", r->voltage_range,
		        ops_vdd_range_text(r->voltage_range));
	else if (c->args.vdd_set)
		fprintf(o, "flash    voltage range left as it was: nothing to erase\n");
	fprintf(o, "erase    %u sector%s (%" PRIu64 " bytes) in %.2f s, %u unchanged skipped\n", r->sectors_erased,
	        r->sectors_erased == 1 ? "" : "s", r->erase.bytes, cli_seconds(r->erase.us), r->sectors_skipped);
	fprintf(o, "program  %" PRIu64 " bytes in %u block%s of %u bytes, %u run%s, in %.2f s", r->bytes_programmed,
	        r->blocks, r->blocks == 1 ? "" : "s", (unsigned)r->transfer_size, r->runs, r->runs == 1 ? "" : "s",
	        cli_seconds(r->program.us));
	if (r->program.us)
		fprintf(o, " (%.1f KiB/s)", (double)r->bytes_programmed / 1024.0 / cli_seconds(r->program.us));
	fputc('\n', o);
	if (r->preserved_bytes)
		fprintf(o, "         %" PRIu64 " bytes outside the image in erased sectors were kept\n", r->preserved_bytes);
	if (r->verified && r->sectors_erased == 0 && r->bytes_programmed == 0)
		fprintf(o, "verify   nothing written: the chip already holds the image (compared: read back, or by the ROM's CRC)\n");
	else if (r->verified)
		fprintf(o, "verify   %" PRIu64 " bytes in %.2f s: OK\n", r->verify.bytes, cli_seconds(r->verify.us));
	else
		fprintf(o, "verify   skipped (--no-verify): the write is NOT proven\n");
	if (r->link.retries)
		fprintf(o, "retries  %u (%u re-syncs, %u reconnects, %u sectors rewritten, %u transfer splits)\n",
		        r->link.retries, r->link.resyncs, r->link.reconnects, r->link.rewrites, r->link.transfer_splits);
	char list[600];
	sector_list_text(list, sizeof list, r);
	if (r->n_sectors)
		fprintf(o, "sectors  %s\n", list);
	if (r->recovery_file[0])
		fprintf(o, "         the recovery file %s is kept: without a verify the saved bytes are not proven back\n",
		        r->recovery_file);
	if (r->left)
		cli_leave_text(o, &r->leave);
	cli_print_poll(c, s);
}

void cli_json_sectors(struct json *j, const struct stm32dfu_write_report *r)
{
	cli_json_sectors_as(j, "sectors", r);
}

void cli_json_sectors_as(struct json *j, const char *key, const struct stm32dfu_write_report *r)
{
	json_key(j, key);
	json_arr_begin(j);
	for (unsigned i = 0; i < r->n_sectors && i < STM32DFU_MAX_SECTOR_REPORTS; i++) {
		json_obj_begin(j);
		json_kuint(j, "index", r->sectors[i].index);
		json_khex32(j, "address", r->sectors[i].address);
		json_kuint(j, "size", r->sectors[i].size);
		json_kstr(j, "state", ops_sector_state_name((enum ops_sector_state)r->sectors[i].state));
		json_obj_end(j);
	}
	json_arr_end(j);
}

void cli_json_path_or_null(struct json *j, const char *key, const char *path)
{
	json_key(j, key);
	if (path[0])
		json_str(j, path);
	else
		json_null(j);
}

void cli_write_json(struct cli_ctx *c, const char *file, const struct stm32dfu_write_report *r,
                    struct stm32dfu_session *api, int rc, const uint64_t *serial_number)
{
	struct json j;
	json_init(&j, c->out);
	json_obj_begin(&j);
	json_kstr(&j, "file", file);
	/* which way the board was reached, as the log's record says it */
	const struct ops_session *os = api_ops(api);
	json_kstr(&j, "link", ops_link_name(os));
	if (os->link == OPS_LINK_UART)
		json_kstr(&j, "port", ops_port_name(os));
	if (rc) {
		c->err = api->err;
		cli_json_failure(c, &j, rc);
	} else {
		json_kbool(&j, "ok", true);
	}
	json_kuint(&j, "image_bytes", r->image_bytes);
	json_kuint(&j, "sectors_touched", r->sectors_touched);
	json_kuint(&j, "sectors_erased", r->sectors_erased);
	json_kuint(&j, "sectors_skipped", r->sectors_skipped);
	json_kuint(&j, "bytes_programmed", r->bytes_programmed);
	json_kuint(&j, "blocks", r->blocks);
	json_kuint(&j, "transfer_size", r->transfer_size);
	json_kuint(&j, "runs", r->runs);
	json_kuint(&j, "preserved_bytes", r->preserved_bytes);
	json_kbool(&j, "verified", r->verified);
	json_kbool(&j, "left", r->left);
	json_key(&j, "memory"); /* null: flash */
	if (r->memory[0])
		json_str(&j, r->memory);
	else
		json_null(&j);
	if (serial_number)
		json_kuint(&j, "serial_number", *serial_number);
	json_key(&j, "voltage_range");
	if (r->voltage_range >= 0)
		json_int(&j, r->voltage_range);
	else
		json_null(&j);
	if (r->leave.address || r->left) {
		json_key(&j, "leave");
		json_obj_begin(&j);
		cli_leave_json(&j, &r->leave);
		json_obj_end(&j);
	}
	json_key(&j, "seconds");
	json_obj_begin(&j);
	json_kdouble(&j, "read", cli_seconds(r->read.us));
	json_kdouble(&j, "erase", cli_seconds(r->erase.us));
	json_kdouble(&j, "program", cli_seconds(r->program.us));
	json_kdouble(&j, "verify", cli_seconds(r->verify.us));
	json_obj_end(&j);
	json_kuint(&j, "retries", r->link.retries);
	json_key(&j, "recovery");
	json_obj_begin(&j);
	json_kuint(&j, "retries", r->link.retries);
	json_kuint(&j, "resyncs", r->link.resyncs);
	json_kuint(&j, "reconnects", r->link.reconnects);
	json_kuint(&j, "rewrites", r->link.rewrites);
	json_kuint(&j, "transfer_splits", r->link.transfer_splits);
	json_obj_end(&j);
	cli_json_poll(&j, api_ops(api));
	cli_json_sectors(&j, r);
	cli_json_path_or_null(&j, "recovery_file", r->recovery_file);
	cli_json_path_or_null(&j, "restored_from", r->restored_from);
	json_kuint(&j, "restored_sectors", r->restored_sectors);
	json_kbool(&j, "canceled", r->canceled);
	if (r->mismatch)
		json_khex32(&j, "mismatch_address", r->mismatch_address);
	if (r->mismatch || r->blocked_sector >= 0) {
		json_key(&j, "blocked_sector");
		if (r->blocked_sector >= 0)
			json_int(&j, r->blocked_sector);
		else
			json_null(&j);
	}
	json_obj_end(&j);
	json_end(&j);
}

