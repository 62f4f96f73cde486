/*
 * list --ports [--probe]: the serial ports for the USART way in (docs/usart.md), with the USB
 * adapter's identity as libserialport gives it. Listing opens nothing; --probe sends 0x7F to the
 * ports shown (all listed, or those named with --port) and reports what answered.
 */
#include <stdlib.h>
#include <string.h>

#include "chip/chip.h"
#include "cli/commands.h"
#include "cli/json.h"
#include "core/text.h"
#include "target/ports.h"
#include "serial/ser_seq.h"
#include "uart/an3155.h"

struct shown {
	struct ser_port_info info;
	bool listed; /* the OS listed it (a named pseudo-terminal is not: libserialport skips /dev/pts) */
	bool named;  /* given with --port */
	bool probed;
	struct target_port_probe probe;
};

static int parse_baud(struct cli_ctx *c, unsigned *baud)
{
	*baud = SER_BAUD_DEFAULT;
	if (!c->args.given[OPT_BAUD])
		return 0;
	uint32_t v;
	/* AN3155 2: the ROM follows 1200 baud up; the fastest depends on the part (docs/usart.md) */
	if (!cli_parse_u32(c->args.value[OPT_BAUD], &v) || v < 1200 || v > 4000000)
		return cli_usage_error(c, "--baud %s: expected a rate in bits per second from 1200 to 4000000, such as "
		                          "115200", c->args.value[OPT_BAUD]);
	*baud = v;
	return 0;
}

static void json_port(struct json *j, const struct shown *p)
{
	const struct ser_port_info *i = &p->info;
	json_obj_begin(j);
	json_kstr(j, "name", i->name);
	json_kbool(j, "listed", p->listed);
	json_kstr(j, "description", i->description);
	json_kbool(j, "usb", i->usb);
	json_key(j, "vid");
	i->usb ? json_uint(j, i->vid) : json_null(j);
	json_key(j, "pid");
	i->usb ? json_uint(j, i->pid) : json_null(j);
	json_kstr(j, "manufacturer", i->manufacturer);
	json_kstr(j, "product", i->product);
	json_kstr(j, "serial", i->serial);
	json_kstr(j, "usb_path", i->usb_path);
	json_key(j, "probe");
	if (!p->probed) {
		json_null(j);
		json_obj_end(j);
		return;
	}
	const struct target_port_probe *r = &p->probe;
	json_obj_begin(j);
	json_kuint(j, "baud", r->baud);
	json_kstr(j, "answer", target_probe_answer_name(r->answer));
	json_kbool(j, "reset_seq", r->reset_seq);
	json_kbool(j, "reset_exit", r->reset_exit);
	json_key(j, "byte");
	r->answer == TARGET_PROBE_OTHER ? json_uint(j, r->other) : json_null(j);
	char v[8];
	an3155_version_text(r->version, v, sizeof v);
	json_key(j, "bootloader_version");
	r->have_get ? json_str(j, v) : json_null(j);
	json_key(j, "commands");
	if (r->have_get) {
		json_arr_begin(j);
		for (size_t k = 0; k < r->ncmds; k++)
			json_uint(j, r->cmds[k]);
		json_arr_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "option_bytes");
	if (r->have_version) {
		json_arr_begin(j);
		json_uint(j, r->option1);
		json_uint(j, r->option2);
		json_arr_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "device_id");
	r->have_id ? json_uint(j, r->dev_id) : json_null(j);
	json_key(j, "family");
	json_str(j, r->family ? r->family->id : NULL);
	json_key(j, "family_name");
	json_str(j, r->family ? r->family->name : NULL);
	json_key(j, "error");
	json_str(j, r->error.code ? stm32dfu_errname(r->error.code) : NULL);
	json_key(j, "message");
	json_str(j, r->error.code ? r->error.msg : NULL);
	json_key(j, "hint");
	json_str(j, r->error.code && r->error.hint[0] ? r->error.hint : NULL);
	json_obj_end(j);
	json_obj_end(j);
}

static void text_probe(FILE *o, const struct target_port_probe *r)
{
	if (r->reset_seq)
		fprintf(o, "  reset    entry sequence driven on DTR/RTS%s\n",
		        r->reset_exit ? "; after the probe, the exit sequence" : "");
	fprintf(o, "  probe    %u 8E1: ", r->baud);
	switch (r->answer) {
	case TARGET_PROBE_ACK:
	case TARGET_PROBE_NACK:
		fprintf(o, "%s", r->answer == TARGET_PROBE_ACK ? "ACK (bootloader locked to this rate)"
		                                            : "NACK (a bootloader already synchronised)");
		break;
	case TARGET_PROBE_NONE:
		fprintf(o, "no answer\n");
		return;
	case TARGET_PROBE_OTHER:
		fprintf(o, "0x%02x: not an STM32 bootloader answer\n", r->other);
		if (r->error.hint[0])
			fprintf(o, "           %s\n", text_esc(0, r->error.hint));
		return;
	default:
		fprintf(o, "cannot probe: %s\n", text_esc(0, r->error.msg));
		if (r->error.hint[0])
			fprintf(o, "           hint: %s\n", text_esc(0, r->error.hint));
		return;
	}
	fputc('\n', o);
	if (r->have_get) {
		char v[8];
		an3155_version_text(r->version, v, sizeof v);
		fprintf(o, "  bootloader AN3155 %s, commands", v);
		for (size_t k = 0; k < r->ncmds; k++)
			fprintf(o, " %02x", r->cmds[k]);
		if (r->have_version)
			fprintf(o, "; option bytes %02x %02x", r->option1, r->option2);
		fputc('\n', o);
	}
	if (r->have_id)
		fprintf(o, "  chip     device ID 0x%03x: %s\n", r->dev_id,
		        r->family ? r->family->name : "not in the family table");
	if (r->error.code)
		fprintf(o, "  stopped  %s\n", text_esc(0, r->error.msg));
}

static void text_port(FILE *o, const struct shown *p, bool first)
{
	const struct ser_port_info *i = &p->info;
	fprintf(o, "%s%s", first ? "" : "\n", text_esc(0, i->name));
	if (i->usb)
		fprintf(o, "  [%04x:%04x] %s  serial %s%s%s%s  usb %s", i->vid, i->pid,
		        i->product[0] ? text_esc(1, i->product) : "(no product string)",
		        i->serial[0] ? text_esc(2, i->serial) : "(none)", i->manufacturer[0] ? "  (" : "",
		        text_esc(3, i->manufacturer), i->manufacturer[0] ? ")" : "", i->usb_path[0] ? i->usb_path : "?");
	else if (p->listed)
		fprintf(o, "  %s", i->description[0] ? text_esc(1, i->description) : "(not a USB adapter)");
	else
		fprintf(o, "  (not listed by the system: a pseudo-terminal or a path given with --port)");
	fputc('\n', o);
	if (p->probed)
		text_probe(o, &p->probe);
}

int cli_list_ports(struct cli_ctx *c)
{
	if (c->args.npos)
		return cli_usage_error(c, "list takes no arguments");
	unsigned baud;
	if (parse_baud(c, &baud))
		return EXIT_USAGE;
	bool probe = c->args.given[OPT_PROBE];
	if (c->args.given[OPT_BAUD] && !probe)
		return cli_usage_error(c, "--baud is the rate --probe uses: give --probe too (listing sends nothing)");
	struct ser_seq_pair seq;
	if (c->args.given[OPT_RESET_SEQ]) {
		if (!probe)
			return cli_usage_error(c, "--reset-seq moves DTR/RTS, which a listing never does: give --probe too");
		struct err pe;
		err_clear(&pe);
		if (ser_seq_parse(c->args.value[OPT_RESET_SEQ], &seq, &pe) < 0)
			return cli_usage_error(c, "%s%s%s", pe.msg, pe.hint[0] ? "; " : "", pe.hint);
	}
	struct ser_port_info *l = NULL;
	size_t n = 0;
	struct err e;
	err_clear(&e);
	int rc = target_list_ports(&l, &n, &e);
	/* without libserialport nothing is listed, but named ports can still be probed (termios) */
	if (rc < 0 && !(rc == STM32DFU_E_UNSUPPORTED && c->args.nports)) {
		c->err = e;
		return cli_fail(c, rc);
	}
	size_t ns = c->args.nports ? (size_t)c->args.nports : n;
	struct shown *s = calloc(ns ? ns : 1, sizeof *s);
	if (!s) {
		free(l);
		err_set(&c->err, STM32DFU_E_NO_MEMORY, "out of memory");
		return cli_fail(c, STM32DFU_E_NO_MEMORY);
	}
	for (size_t k = 0; k < ns; k++) {
		if (!c->args.nports) {
			s[k].info = l[k];
			s[k].listed = true;
			continue;
		}
		s[k].named = true;
		snprintf(s[k].info.name, sizeof s[k].info.name, "%s", c->args.ports[k]);
		for (size_t m = 0; m < n; m++)
			if (strcmp(l[m].name, c->args.ports[k]) == 0) {
				s[k].info = l[m];
				s[k].listed = true;
			}
	}
	free(l);
	int worst = 0;
	for (size_t k = 0; probe && k < ns; k++) {
		target_probe_port(s[k].info.name, baud, c->args.given[OPT_RESET_SEQ] ? &seq : NULL, &s[k].probe);
		s[k].probed = true;
		/* a port the user named and that could not be probed is a failure of this command; one of
		 * all the ports listed (busy with another program) is reported and the rest go on */
		if (s[k].named && s[k].probe.answer == TARGET_PROBE_FAILED && !worst) {
			worst = s[k].probe.error.code ? s[k].probe.error.code : STM32DFU_E_USB_IO;
			c->err = s[k].probe.error;
		}
	}
	if (c->args.given[OPT_JSON]) {
		struct json j;
		json_init(&j, c->out);
		json_arr_begin(&j);
		for (size_t k = 0; k < ns; k++)
			json_port(&j, &s[k]);
		json_arr_end(&j);
		json_end(&j);
	} else {
		if (ns == 0)
			fprintf(c->out, "no serial port found (pseudo-terminals are not listed: name one with --port)\n");
		for (size_t k = 0; k < ns; k++)
			text_port(c->out, &s[k], k == 0);
	}
	free(s);
	return worst ? cli_fail(c, worst) : EXIT_OK;
}
