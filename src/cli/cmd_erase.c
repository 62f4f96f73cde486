/* erase: sectors, everything, or exactly a range of bytes (the rest of its sectors kept) */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_device.h"
#include "cli/commands.h"
#include "cli/logrec.h"
#include "cli/session.h"
#include "ops/vdd.h"
#include "ops/record.h"

/* "0-3,5" -> sector numbers */
static int parse_sector_list(struct cli_ctx *c, const char *s, unsigned *out, size_t cap, size_t *n)
{
	*n = 0;
	const char *p = s;
	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;
		if (end == p)
			return cli_usage_error(c, "--sectors %s: expected numbers and ranges like 0-3,5", s);
		p = end;
		if (*p == '-') {
			b = strtoul(p + 1, &end, 10);
			if (end == p + 1 || b < a)
				return cli_usage_error(c, "--sectors %s: a range must read low-high", s);
			p = end;
		}
		for (unsigned long k = a; k <= b; k++) {
			if (k > 65535)
				return cli_usage_error(c, "--sectors %s: too many sectors", s);
			bool seen = false; /* "0-3,2" erases sector 2 once */
			for (size_t i = 0; i < *n && !seen; i++)
				seen = out[i] == k;
			if (seen)
				continue;
			if (*n >= cap)
				return cli_usage_error(c, "--sectors %s: too many sectors", s);
			out[(*n)++] = (unsigned)k;
		}
		if (*p == ',')
			p++;
		else if (*p)
			return cli_usage_error(c, "--sectors %s: expected ',' at '%s'", s, p);
	}
	return *n ? 0 : cli_usage_error(c, "--sectors needs a list");
}

/* erase ADDR LEN: exactly those bytes; the rest of the sectors it touches is kept (read back,
 * recovery file, erase, program back, verify: the write's way, stm32dfu_erase_bytes) */
static int erase_bytes(struct cli_ctx *c, struct stm32dfu_session *api, uint32_t addr, uint32_t len,
                       struct cli_progress *prog)
{
	struct ops_session *s = api_ops(api);
	struct stm32dfu_write_report r;
	memset(&r, 0, sizeof r);
	r.blocked_sector = r.voltage_range = -1;
	uint64_t t0 = cli_log_now_us();
	int err = stm32dfu_erase_bytes(api, addr, len, c->args.vdd_set ? c->args.vdd_volts : 0, &r);
	cli_progress_done(prog);
	uint32_t last = (uint32_t)((uint64_t)addr + len - 1);
	if (cli_json_mode(c)) {
		struct json j;
		json_init(&j, c->out);
		json_obj_begin(&j);
		if (err < 0) {
			c->err = api->err;
			cli_json_failure(c, &j, err);
		} else {
			json_kbool(&j, "ok", true);
		}
		json_kbool(&j, "mass_erase", false);
		json_kuint(&j, "sectors", r.sectors_erased);
		json_key(&j, "voltage_range");
		if (r.voltage_range >= 0)
			json_int(&j, r.voltage_range);
		else
			json_null(&j);
		json_khex32(&j, "start", addr);
		json_khex32(&j, "end", last);
		json_kuint(&j, "bytes", len);
		json_kuint(&j, "preserved_bytes", r.preserved_bytes);
		json_kbool(&j, "verified", err == 0 && r.verified);
		json_kdouble(&j, "seconds", cli_seconds(r.read.us + r.erase.us + r.program.us + r.verify.us));
		cli_json_poll(&j, s);
		cli_json_sectors_as(&j, "sector_states", &r); /* "sectors" is the count, as for --sectors */
		cli_json_path_or_null(&j, "recovery_file", r.recovery_file);
		json_kbool(&j, "canceled", r.canceled);
		json_obj_end(&j);
		json_end(&j);
	} else if (!cli_quiet(c) && err == 0) {
		if (r.voltage_range >= 0)
			fprintf(c->out, "flash    voltage range %d (%s) set for --vdd\n", r.voltage_range,
			        ops_vdd_range_text(r.voltage_range));
		if (r.sectors_erased == 0)
			fprintf(c->out, "erase    0x%08" PRIX32 "-0x%08" PRIX32 " (%" PRIu32 " bytes) was blank already "
			        "(read back): nothing erased\n", addr, last, len);
		else
			fprintf(c->out, "erase    0x%08" PRIX32 "-0x%08" PRIX32 " (%" PRIu32 " bytes) in %.2f s: %u sector%s "
			        "erased; the rest of %s kept (%" PRIu64 " bytes that were not blank written back)\n",
			        addr, last, len, cli_seconds(r.read.us + r.erase.us + r.program.us + r.verify.us),
			        r.sectors_erased, r.sectors_erased == 1 ? "" : "s", r.sectors_erased == 1 ? "it" : "them",
			        r.preserved_bytes);
		fprintf(c->out, "verify   %" PRIu64 " bytes in %.2f s: OK\n", r.verify.bytes, cli_seconds(r.verify.us));
		cli_print_poll(c, s);
	}
	int code = err < 0 ? cli_fail_api(c, api, err) : EXIT_OK;
	struct store_record rec;
	cli_log_init(c, &rec, "erase");
	ops_record_board(&rec, s);
	ops_record_result(&rec, err, &c->err);
	cli_log_write_report(&rec, &r);
	rec.s_total = cli_seconds(cli_log_now_us() - t0);
	code = cli_log_finish(c, &rec, code);
	stm32dfu_close(api);
	return code;
}

int cli_cmd_erase(struct cli_ctx *c)
{
	int modes = c->args.given[OPT_ALL] + c->args.given[OPT_SECTORS] + (c->args.npos > 0);
	if (modes != 1)
		return cli_usage_error(c, "erase needs exactly one of --all, ADDR LEN, or --sectors LIST");
	uint32_t addr = 0, len = 0;
	unsigned list[1024];
	size_t n = 0;
	if (c->args.npos && cli_parse_addr_len(c, "erase", &addr, &len))
		return EXIT_USAGE;
	if (c->args.given[OPT_SECTORS] && parse_sector_list(c, c->args.value[OPT_SECTORS], list, 1024, &n))
		return EXIT_USAGE;
	if (c->args.given[OPT_ALL] && !c->args.given[OPT_YES]) {
		err_set(&c->err, STM32DFU_E_NEEDS_CONFIRMATION, "erase --all erases the whole flash");
		err_hint(&c->err, "add --yes to confirm");
		return cli_fail(c, STM32DFU_E_NEEDS_CONFIRMATION);
	}
	struct stm32dfu_session *api;
	struct cli_progress prog;
	int rc = cli_open_api(c, &api, &prog);
	if (rc)
		return rc;
	if ((rc = cli_log_ready(c))) {
		stm32dfu_close(api);
		return rc;
	}
	struct ops_session *s = api_ops(api);
	if (c->log)
		ops_identify(s); /* the record names the board by its UID */
	if (c->args.npos)
		return erase_bytes(c, api, addr, len, &prog);
	struct stm32dfu_erase_options eo = {.address = addr, .length = len, .sectors = list, .n_sectors = n,
	                                    .confirm = 1, .vdd = c->args.vdd_set ? c->args.vdd_volts : 0};
	eo.mode = c->args.given[OPT_ALL] ? STM32DFU_ERASE_ALL : n ? STM32DFU_ERASE_SECTORS : STM32DFU_ERASE_RANGE;
	if (c->args.given[OPT_BLANK_CHECK])
		eo.mode |= STM32DFU_ERASE_BLANK_CHECK;
	struct stm32dfu_erase_result r;
	int err = stm32dfu_erase_ex(api, &eo, &r);
	cli_progress_done(&prog);
	if (err == 0) {
		if (cli_json_mode(c)) {
			struct json j;
			json_init(&j, c->out);
			json_obj_begin(&j);
			json_kbool(&j, "mass_erase", c->args.given[OPT_ALL]);
			json_kuint(&j, "sectors", r.sectors_erased);
			json_key(&j, "voltage_range");
			if (r.voltage_range >= 0)
				json_int(&j, r.voltage_range);
			else
				json_null(&j);
			json_kdouble(&j, "seconds", r.seconds);
			cli_json_poll(&j, s);
			json_obj_end(&j);
			json_end(&j);
		} else if (!cli_quiet(c)) {
			if (r.voltage_range >= 0)
				fprintf(c->out, "flash    voltage range %d (%s) set for --vdd\n", r.voltage_range,
				        ops_vdd_range_text(r.voltage_range));
			if (c->args.given[OPT_ALL])
				fprintf(c->out, "erase    whole flash in %.2f s\n", r.seconds);
			else
				fprintf(c->out, "erase    %u sector%s in %.2f s\n", r.sectors_erased,
				        r.sectors_erased == 1 ? "" : "s", r.seconds);
			cli_print_poll(c, s);
		}
	}
	int code = err < 0 ? cli_fail_api(c, api, err) : EXIT_OK;
	struct store_record rec;
	cli_log_init(c, &rec, "erase");
	ops_record_board(&rec, s);
	ops_record_result(&rec, err, &c->err);
	rec.sectors_erased = r.sectors_erased;
	rec.s_erase = rec.s_total = r.seconds;
	code = cli_log_finish(c, &rec, code);
	stm32dfu_close(api);
	return code;
}

