/* info and leave (write and verify: cmd_write.c; erase: cmd_erase.c) */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "cli/cmd_device.h"
#include "cli/commands.h"
#include "cli/session.h"

int cli_cmd_info(struct cli_ctx *c)
{
	if (c->args.npos)
		return cli_usage_error(c, "info takes no arguments");
	struct stm32dfu_session *api;
	int rc = cli_open_api(c, &api, NULL);
	if (rc)
		return rc;
	/* the device and its identity, through the public record; the option bytes from the session */
	struct stm32dfu_device_rec *d = cli_device_rec(api, true);
	if (!d) {
		stm32dfu_close(api);
		err_set(&c->err, STM32DFU_E_NO_MEMORY, "out of memory");
		return cli_fail(c, STM32DFU_E_NO_MEMORY);
	}
	struct ops_session *s = api_ops(api);
	struct target_link link;
	target_link_of(s->t, &link);
	if (cli_json_mode(c)) {
		struct json j;
		json_init(&j, c->out);
		json_obj_begin(&j);
		json_kstr(&j, "link", ops_link_name(s));
		if (s->link == OPS_LINK_UART) {
			json_kstr(&j, "port", ops_port_name(s));
			json_kuint(&j, "baud", link.baud);
			json_kuint(&j, "device_id", link.dev_id);
			json_kstr(&j, "protocol", link.version_text);
		}
		json_kuint(&j, "vid", d->vid);
		json_kuint(&j, "pid", d->pid);
		json_kstr(&j, "path", d->path);
		json_kstr(&j, "product", d->product);
		json_kuint(&j, "bcd_device", d->bcd_device);
		json_kuint(&j, "transfer_size", d->transfer_size);
		json_kstr(&j, "initial_state", d->found_state_name);
		json_kstr(&j, "initial_status", d->found_status_name);
		cli_json_identity(&j, d);
		cli_json_ob_summary(&j, &s->id);
		cli_json_alts(&j, d);
		json_obj_end(&j);
		json_end(&j);
	} else {
		if (s->link == OPS_LINK_UART) {
			fprintf(c->out, "USART bootloader on %s at %u baud, 8E1  (AN3155 protocol %s, device ID 0x%03X)\n",
			        text_esc(0, link.port), link.baud, link.version_text, link.dev_id);
		} else {
			fprintf(c->out, "[%04x:%04x] %s  path %s  bcdDevice %04x  transfer size %u\n", d->vid, d->pid,
			        text_esc(0, d->product), text_esc(1, d->path), d->bcd_device, d->transfer_size);
		}
		cli_print_identity(c->out, d);
		cli_print_ob_summary(c->out, &s->id);
		if (d->found_state == dfuERROR)
			fprintf(c->out, "  state    found in dfuERROR (%s), cleared\n", d->found_status_name);
		cli_print_alts(c->out, d);
	}
	free(d);
	stm32dfu_close(api);
	return EXIT_OK;
}

int cli_cmd_leave(struct cli_ctx *c)
{
	uint32_t addr = 0;
	bool have = false;
	if (c->args.npos > 1 || (c->args.npos == 1 && !cli_parse_u32(c->args.pos[0], &addr)))
		return cli_usage_error(c, "leave takes an optional ADDR (where the vector table is)");
	have = c->args.npos == 1;
	struct stm32dfu_session *api;
	int rc = cli_open_api(c, &api, NULL);
	if (rc)
		return rc;
	if (c->args.given[OPT_RESET]) {
		/* the fixture's way out: no Go, a real reset with BOOT0 released */
		if (have) {
			stm32dfu_close(api);
			return cli_usage_error(c, "leave --reset starts the application from reset: it takes no ADDR");
		}
		int err = stm32dfu_leave_reset(api);
		if (err == 0 && cli_json_mode(c)) {
			struct json j;
			json_init(&j, c->out);
			json_obj_begin(&j);
			json_kbool(&j, "left", true);
			json_kstr(&j, "by", "reset");
			json_kbool(&j, "confirmed", false);
			json_obj_end(&j);
			json_end(&j);
		} else if (err == 0 && !cli_quiet(c)) {
			fprintf(c->out, "left by reset: the exit sequence released BOOT0 and pulsed NRST (a serial link cannot "
			                "show whether the application runs)\n");
		}
		int code = err < 0 ? cli_fail_api(c, api, err) : EXIT_OK;
		stm32dfu_close(api);
		return code;
	}
	struct stm32dfu_leave_result l;
	int err = stm32dfu_leave_ex(api, have, addr, &l);
	if (!cli_quiet(c))
		cli_leave_warnings(c, &l);
	if (err == 0) {
		if (cli_json_mode(c)) {
			struct json j;
			json_init(&j, c->out);
			json_obj_begin(&j);
			json_kbool(&j, "left", true);
			cli_leave_json(&j, &l);
			json_obj_end(&j);
			json_end(&j);
		} else if (!cli_quiet(c)) {
			cli_leave_text(c->out, &l);
		}
	}
	int code = err < 0 ? cli_fail_api(c, api, err) : EXIT_OK;
	stm32dfu_close(api);
	return code;
}

