/* stm32dfu doctor: the link test, the chip checks, and a diagnosis in plain words. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "ops/session.h"
#include "serial/serial.h"

static const char *severity_word(int s)
{
	static const char *const w[] = {"ok", "note", "warning", "problem"};
	return s >= 0 && s < 4 ? w[s] : "?";
}

static void doctor_text(struct cli_ctx *c, const struct ops_session *s, const struct stm32dfu_device_rec *d,
                        const struct stm32dfu_doctor_report *r)
{
	FILE *o = c->out;
	fprintf(o, "device   [%04x:%04x] %s  path %s  serial %s\n", ops_info(s)->vid, ops_info(s)->pid,
	        text_esc(0, ops_info(s)->product), text_esc(1, ops_info(s)->path), text_esc(2, ops_info(s)->serial));
	cli_print_identity(o, d);
	fprintf(o, "\nlink test: %u uploads\n", r->transfers);
	fprintf(o, "    size  attempts  failed  corrupt  latency min/median/max (ms)\n");
	for (int k = 0; k < STM32DFU_DOCTOR_SIZES; k++) {
		const struct stm32dfu_link_size *l = &r->link[k];
		fprintf(o, "  %6u  %8u  %6u  %7u  %.2f / %.2f / %.2f\n", l->size, l->attempts, l->failures, l->corrupt,
		        (double)l->lat_min_us / 1e3, (double)l->lat_median_us / 1e3, (double)l->lat_max_us / 1e3);
	}
	if (r->hse_hz > 0) {
		fprintf(o, "\nHSE      %.3f MHz: the ROM detects it right while HSI error is within %.2f..%+.2f %%\n",
		        r->hse_hz / 1e6, r->safe_lo_pct, r->safe_hi_pct);
		if (r->emulated_clock)
			fprintf(o, "         emulated HSI error %+.2f %%: the ROM detects %.3f MHz, USB clock %+.0f ppm\n",
			        r->emulated_hsi_error_pct, r->emulated_detected_hz / 1e6, r->emulated_usb_error_ppm);
	}
	fprintf(o, "\ndiagnosis\n");
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct stm32dfu_finding *f = &r->findings[i];
		fprintf(o, "  [%s] %s\n", severity_word(f->severity), f->text);
		if (f->advice[0])
			fprintf(o, "         what to do: %s\n", f->advice);
	}
	if (r->link_marginal && r->link_noted && r->link_bad)
		fprintf(o, "\nremembered: reads of this board are confirmed by a second read until doctor finds its link "
		           "healthy\n");
	else if (r->link_marginal && r->link_noted)
		fprintf(o, "\nremembered: reads of this board are confirmed by a second read while its %.0f MHz crystal "
		           "leaves the ROM a thin margin (a later doctor judges it again; 'doctor --hse FREQ' names "
		           "another crystal)\n", r->hse_hz / 1e6);
}

/* The start of both documents: the verdict as ok/error, the device and the chip. */
static void json_doctor_begin(struct cli_ctx *c, struct json *j, const struct ops_session *s,
                              const struct stm32dfu_device_rec *d, const struct stm32dfu_doctor_report *r)
{
	json_init(j, c->out);
	json_obj_begin(j);
	if (r->link_bad)
		cli_json_failure(c, j, STM32DFU_E_USB_IO);
	else
		json_kbool(j, "ok", true);
	json_kstr(j, "path", ops_info(s)->path);
	cli_json_identity(j, d);
}

/* The end of both documents: the findings, the verdict, and the document closed. */
static void json_findings_verdict(struct json *j, const struct stm32dfu_doctor_report *r)
{
	json_key(j, "findings");
	json_arr_begin(j);
	for (size_t i = 0; i < r->n_findings; i++) {
		json_obj_begin(j);
		json_kstr(j, "id", r->findings[i].id);
		json_kstr(j, "severity", severity_word(r->findings[i].severity));
		json_kstr(j, "text", r->findings[i].text);
		json_kstr(j, "advice", r->findings[i].advice);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_kstr(j, "verdict", r->link_bad ? "link_bad" : r->worst >= 2 /* warning */ ? "warnings" : "healthy");
	json_obj_end(j);
	json_end(j);
}

static void doctor_json(struct cli_ctx *c, const struct ops_session *s, const struct stm32dfu_device_rec *d,
                        const struct stm32dfu_doctor_report *r)
{
	struct json j;
	json_doctor_begin(c, &j, s, d, r);
	json_key(&j, "link");
	json_obj_begin(&j);
	json_kuint(&j, "transfers", r->transfers);
	json_kuint(&j, "failures", r->failures);
	json_kbool(&j, "bad", r->link_bad);
	json_kbool(&j, "marginal", r->link_marginal);
	json_key(&j, "marginal_reason");
	if (r->link_bad)
		json_str(&j, "link_errors");
	else if (r->link_marginal)
		json_str(&j, "thin_hse_margin");
	else
		json_null(&j);
	json_kbool(&j, "remembered", r->link_noted);
	json_key(&j, "by_size");
	json_arr_begin(&j);
	for (int k = 0; k < STM32DFU_DOCTOR_SIZES; k++) {
		const struct stm32dfu_link_size *l = &r->link[k];
		json_obj_begin(&j);
		json_kuint(&j, "size", l->size);
		json_kuint(&j, "attempts", l->attempts);
		json_kuint(&j, "failures", l->failures);
		json_kuint(&j, "corrupt", l->corrupt);
		json_kdouble(&j, "latency_min_ms", (double)l->lat_min_us / 1e3);
		json_kdouble(&j, "latency_median_ms", (double)l->lat_median_us / 1e3);
		json_kdouble(&j, "latency_max_ms", (double)l->lat_max_us / 1e3);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_key(&j, "hse");
	if (r->hse_hz > 0) {
		json_obj_begin(&j);
		json_kdouble(&j, "crystal_hz", r->hse_hz);
		json_kdouble(&j, "safe_hsi_error_min_pct", r->safe_lo_pct);
		json_kdouble(&j, "safe_hsi_error_max_pct", r->safe_hi_pct);
		json_kdouble(&j, "misdetect_usb_error_pct", r->misdetect_usb_error_pct);
		if (r->emulated_clock) {
			json_kdouble(&j, "emulated_hsi_error_pct", r->emulated_hsi_error_pct);
			json_kdouble(&j, "detected_hz", r->emulated_detected_hz);
			json_kdouble(&j, "usb_error_ppm", r->emulated_usb_error_ppm);
		}
		json_obj_end(&j);
	} else {
		json_null(&j);
	}
	json_key(&j, "uart"); /* the USART rate test (doctor_uart_json) */
	json_null(&j);
	json_findings_verdict(&j, r);
}

/* ---- over USART: the rates ---- */

static void doctor_uart_text(struct cli_ctx *c, const struct ops_session *s, const struct stm32dfu_device_rec *d,
                             const struct stm32dfu_doctor_report *r, const struct stm32dfu_doctor_uart *u)
{
	FILE *o = c->out;
	fprintf(o, "device   USART bootloader on %s  (opened at %u baud)\n", text_esc(0, ops_port_name(s)),
	        u->session_baud);
	cli_print_identity(o, d);
	fprintf(o, "\nlink test over USART: %u commands per rate (%s), each sent once\n", u->per_rate,
	        u->reads ? "GET, Get ID, a 256-byte Read Memory in turn"
	                 : "GET and Get ID in turn: read protection refuses Read Memory");
	fprintf(o, "     baud  0x7F  commands  NACK  timeout  other  corrupt  verdict\n");
	for (size_t i = 0; i < u->n_rates; i++) {
		const struct stm32dfu_uart_rate *x = &u->rates[i];
		if (!x->tried) {
			fprintf(o, "  %7u  -     -                                         not tried: %s\n", x->baud, x->why_not);
			continue;
		}
		fprintf(o, "  %7u  %-4s  %8u  %4u  %7u  %5u  %7u  %s\n", x->baud, x->synced ? "ACK" : "none", x->commands,
		        x->nacks, x->timeouts, x->errors, x->corrupt, x->holds ? "holds" : "refused");
	}
	if (u->recommended_baud)
		fprintf(o, "\nrecommended: --baud %u (the fastest rate that holds)\n", u->recommended_baud);
	else
		fprintf(o, "\nrecommended: none (no rate tried holds)\n");
	fprintf(o, "\ndiagnosis\n");
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct stm32dfu_finding *f = &r->findings[i];
		fprintf(o, "  [%s] %s\n", severity_word(f->severity), f->text);
		if (f->advice[0])
			fprintf(o, "         what to do: %s\n", f->advice);
	}
}

static double pct(unsigned n, unsigned of)
{
	return of ? 100.0 * n / of : 0.0;
}

static void doctor_uart_json(struct cli_ctx *c, const struct ops_session *s, const struct stm32dfu_device_rec *d,
                             const struct stm32dfu_doctor_report *r, const struct stm32dfu_doctor_uart *u)
{
	struct json j;
	json_doctor_begin(c, &j, s, d, r);
	json_key(&j, "link");
	json_obj_begin(&j);
	json_kuint(&j, "transfers", r->transfers);
	json_kuint(&j, "failures", r->failures);
	json_kbool(&j, "bad", r->link_bad);
	json_kbool(&j, "marginal", false);
	json_key(&j, "marginal_reason");
	json_null(&j);
	json_kbool(&j, "remembered", false);
	json_key(&j, "by_size");
	json_arr_begin(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	json_key(&j, "hse");
	json_null(&j);
	json_key(&j, "uart");
	json_obj_begin(&j);
	json_kstr(&j, "port", ops_port_name(s));
	json_kuint(&j, "session_baud", u->session_baud);
	json_kuint(&j, "family_max_baud", u->family_max_baud);
	json_kuint(&j, "per_rate", u->per_rate);
	json_kbool(&j, "swept", u->swept);
	json_kbool(&j, "reads", u->reads);
	json_key(&j, "recommended_baud");
	if (u->recommended_baud)
		json_uint(&j, u->recommended_baud);
	else
		json_null(&j);
	json_key(&j, "rates");
	json_arr_begin(&j);
	for (size_t i = 0; i < u->n_rates; i++) {
		const struct stm32dfu_uart_rate *x = &u->rates[i];
		json_obj_begin(&j);
		json_kuint(&j, "baud", x->baud);
		json_kbool(&j, "tried", x->tried);
		json_key(&j, "why_not");
		if (x->tried)
			json_null(&j);
		else
			json_str(&j, x->why_not);
		json_kbool(&j, "synced", x->synced);
		json_kuint(&j, "commands", x->commands);
		json_kuint(&j, "nacks", x->nacks);
		json_kuint(&j, "timeouts", x->timeouts);
		json_kuint(&j, "errors", x->errors);
		json_kuint(&j, "corrupt", x->corrupt);
		json_kdouble(&j, "nack_pct", pct(x->nacks, x->commands));
		json_kdouble(&j, "timeout_pct", pct(x->timeouts, x->commands));
		json_kbool(&j, "holds", x->holds);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_findings_verdict(&j, r);
}

static int doctor_uart(struct cli_ctx *c, struct stm32dfu_session *api, struct cli_progress *prog)
{
	unsigned count = 0;
	if (c->args.given[OPT_COUNT]) {
		uint32_t n;
		if (!cli_parse_u32(c->args.value[OPT_COUNT], &n) || n < 3 || n > 100000) {
			stm32dfu_close(api);
			return cli_usage_error(c, "--count %s: expected 3 to 100000", c->args.value[OPT_COUNT]);
		}
		count = n;
	}
	if (c->args.given[OPT_HSE]) {
		stm32dfu_close(api);
		return cli_usage_error(c, "--hse judges the ROM's USB clock: over USART the bootloader needs no crystal "
		                          "(leave --hse out, or run doctor on the USB link)");
	}
	struct stm32dfu_doctor_report *r = malloc(sizeof *r);
	struct stm32dfu_doctor_uart *u = malloc(sizeof *u);
	struct stm32dfu_device_rec *d = NULL;
	int rc = STM32DFU_E_NO_MEMORY;
	if (r && u)
		rc = stm32dfu_doctor_uart(api, count, r, u);
	cli_progress_done(prog);
	if (rc == 0 && !(d = cli_device_rec(api, true)))
		rc = STM32DFU_E_NO_MEMORY;
	if (rc < 0) {
		rc = rc == STM32DFU_E_NO_MEMORY && (!r || !u || !d) ? cli_fail(c, rc) : cli_fail_api(c, api, rc);
		free(r);
		free(u);
		free(d);
		stm32dfu_close(api);
		return rc;
	}
	if (r->link_bad) {
		err_set(&c->err, STM32DFU_E_USB_IO, "doctor: no rate holds over the serial link: %u of %u commands failed",
		        r->failures, r->transfers);
		for (size_t i = 0; i < r->n_findings && !c->err.hint[0]; i++)
			if (r->findings[i].advice[0])
				err_hint(&c->err, "%s", r->findings[i].advice);
	}
	if (c->args.given[OPT_JSON])
		doctor_uart_json(c, api_ops(api), d, r, u);
	else
		doctor_uart_text(c, api_ops(api), d, r, u);
	bool bad = r->link_bad;
	free(d);
	free(r);
	free(u);
	stm32dfu_close(api);
	return bad ? EXIT_IOERR : EXIT_OK;
}

int cli_cmd_doctor(struct cli_ctx *c)
{
	if (c->args.npos)
		return cli_usage_error(c, "doctor takes no arguments");
	unsigned count = 200;
	double hse_hz = 0;
	if (c->args.given[OPT_COUNT]) {
		uint32_t n;
		if (!cli_parse_u32(c->args.value[OPT_COUNT], &n) || n < 3 || n > 100000)
			return cli_usage_error(c, "--count %s: expected 3 to 100000", c->args.value[OPT_COUNT]);
		count = n;
	}
	if (c->args.given[OPT_HSE]) {
		char *end;
		double hz = strtod(c->args.value[OPT_HSE], &end);
		if (*end == 'M' || *end == 'm') {
			hz *= 1e6;
			end++;
			if (strcmp(end, "Hz") == 0 || strcmp(end, "hz") == 0)
				end += 2;
		} else if (*end == '\0' && hz > 0 && hz < 1000) {
			return cli_usage_error(c, "--hse %s: no unit: %s Hz is no crystal; give Hz (--hse %s000000) or MHz "
			                          "with M (--hse %sM)", c->args.value[OPT_HSE], c->args.value[OPT_HSE],
			                       c->args.value[OPT_HSE], c->args.value[OPT_HSE]);
		}
		if (*end || !(hz >= 4e6 && hz <= 26e6) || fmod(hz, 1e6) != 0)
			return cli_usage_error(c, "--hse %s: the F7 ROM accepts crystals of whole MHz from 4 to 26 MHz "
			                          "(AN2606), e.g. --hse 25000000 or --hse 25M", c->args.value[OPT_HSE]);
		hse_hz = hz;
	}
	struct stm32dfu_session *api;
	struct cli_progress prog;
	int rc = cli_open_api(c, &api, &prog);
	if (rc) {
		/* no DFU device: a board whose USB does not enumerate (the ROM's HSE detection, docs/usart.md)
		 * still has its USART bootloader */
		if (c->err.code == STM32DFU_E_NO_DEVICE)
			fprintf(c->errf, "note: a board in its bootloader whose USB does not enumerate can still be reached "
			                 "through the ROM's USART bootloader, which needs no crystal: USART1, TX PA9 and "
			                 "RX PA10 on every family profiled here (AN2606; docs/usart.md lists the others); "
			                 "wire a 3.3 V USB serial adapter, keep BOOT0 high, reset the board, then run: "
			                 "stm32dfu list --ports --probe\n");
		return rc;
	}
	if (api_ops(api)->link == OPS_LINK_UART)
		return doctor_uart(c, api, &prog);
	struct stm32dfu_doctor_report *r = malloc(sizeof *r);
	if (!r) {
		stm32dfu_close(api);
		return cli_fail(c, STM32DFU_E_NO_MEMORY);
	}
	rc = stm32dfu_doctor(api, count, hse_hz, r);
	cli_progress_done(&prog);
	if (rc < 0) {
		rc = cli_fail_api(c, api, rc);
		free(r);
		stm32dfu_close(api);
		return rc;
	}
	if (r->link_bad) {
		err_set(&c->err, STM32DFU_E_USB_IO, "doctor: the USB link is bad: %u of %u transfers failed", r->failures,
		        r->transfers);
		for (size_t i = 0; i < r->n_findings && !c->err.hint[0]; i++)
			if (r->findings[i].advice[0])
				err_hint(&c->err, "%s", r->findings[i].advice);
	}
	struct stm32dfu_device_rec *d = cli_device_rec(api, true);
	if (!d) {
		free(r);
		stm32dfu_close(api);
		return cli_fail(c, STM32DFU_E_NO_MEMORY);
	}
	if (c->args.given[OPT_JSON])
		doctor_json(c, api_ops(api), d, r);
	else
		doctor_text(c, api_ops(api), d, r);
	bool bad = r->link_bad;
	free(d);
	free(r);
	stm32dfu_close(api);
	return bad ? EXIT_IOERR : EXIT_OK;
}
