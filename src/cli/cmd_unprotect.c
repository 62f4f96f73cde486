/* unprotect: Read Unprotect (AN3156 §5.4), which mass-erases the flash and lowers RDP to 0. */
#include <inttypes.h>

#include "cli/commands.h"
#include "cli/logrec.h"
#include "cli/session.h"
#include "ops/record.h"

int cli_cmd_unprotect(struct cli_ctx *c)
{
	if (c->args.npos)
		return cli_usage_error(c, "unprotect takes no arguments");
	if (!c->args.given[OPT_YES]) {
		err_set(&c->err, STM32DFU_E_NEEDS_CONFIRMATION, "Read Unprotect mass-erases the flash: add --yes");
		err_hint(&c->err, "it also resets the option bytes to their factory defaults");
		return cli_fail(c, STM32DFU_E_NEEDS_CONFIRMATION);
	}
	struct stm32dfu_session *api;
	int rc = cli_open_api(c, &api, NULL);
	if (rc)
		return rc;
	if ((rc = cli_log_ready(c))) {
		stm32dfu_close(api);
		return rc;
	}
	struct stm32dfu_unprotect_result r;
	uint64_t t0 = cli_log_now_us();
	int err = stm32dfu_unprotect(api, 1, &r);
	uint64_t us = cli_log_now_us() - t0;
	if (c->args.given[OPT_JSON]) {
		struct json j;
		json_init(&j, c->out);
		json_obj_begin(&j);
		if (err) {
			c->err = api->err;
			cli_json_failure(c, &j, err);
		} else {
			json_kbool(&j, "ok", true);
		}
		json_key(&j, "rdp_before");
		if (r.rdp_before >= 0)
			json_int(&j, r.rdp_before);
		else
			json_null(&j);
		json_key(&j, "rdp_after");
		if (r.rdp_after >= 0)
			json_int(&j, r.rdp_after);
		else
			json_null(&j);
		json_kbool(&j, "flash_erased", r.flash_erased);
		json_khex32(&j, "checked_address", r.checked_addr);
		json_kuint(&j, "checked_bytes", r.checked_len);
		json_kbool(&j, "option_bytes_default", r.ob_default);
		json_kuint(&j, "reconnects", api_ops(api)->counters.reconnects);
		json_obj_end(&j);
		json_end(&j);
	} else if (err == 0 && !c->args.given[OPT_QUIET]) {
		FILE *o = c->out;
		if (r.rdp_before >= 0)
			fprintf(o, "read unprotect: RDP level %d -> level %d; the chip reset and came back\n", r.rdp_before,
			        r.rdp_after);
		else
			fprintf(o, "read unprotect: RDP now level %d; the chip reset and came back\n", r.rdp_after);
		if (r.flash_erased)
			fprintf(o, "flash erased (the first sector, %" PRIu32 " bytes at 0x%08" PRIX32 ", reads all 0xFF)\n",
			        r.checked_len, r.checked_addr);
		else
			fprintf(o, "flash NOT erased (the first sector at 0x%08" PRIX32 " holds data)%s\n", r.checked_addr,
			        r.rdp_before == 0 ? ": the chip was not protected, so the ROM kept it" : "");
		fprintf(o, "option bytes %s\n", r.ob_default ? "back to factory defaults" : "differ from the factory defaults");
	}
	int code = err < 0 ? cli_fail_api(c, api, err) : EXIT_OK;
	struct store_record rec;
	cli_log_init(c, &rec, "unprotect");
	ops_record_board(&rec, api_ops(api));
	ops_record_result(&rec, err, &c->err);
	rec.s_total = (double)us / 1e6;
	code = cli_log_finish(c, &rec, code);
	stm32dfu_close(api);
	return code;
}
