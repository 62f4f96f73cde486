/* Serial ports: the listing and the bootloader probe (ports.h). target/ because the probe speaks
 * AN3155 to a bootloader on a port no session holds, as the AN3155 target does on one it holds. */
#include "target/ports.h"

#include <stdlib.h>
#include <string.h>

#include "chip/chip.h"
#include "serial/ser_seq.h"
#include "uart/an3155.h"

/* A probe is a question, not a session: short waits, one retry (a silent port costs ~1 s). */
#define PROBE_BYTE_MS 400u
#define PROBE_RETRIES 1u
/* once the ROM answered 0x7F: room for one changed answer to GET or Get ID (asked until two in a
 * row agree: the changed one and the next differ, the two after it agree) */
#define PROBE_AGREE_RETRIES 2u

const char *target_probe_answer_name(enum target_probe_answer a)
{
	switch (a) {
	case TARGET_PROBE_ACK: return "ack";
	case TARGET_PROBE_NACK: return "nack";
	case TARGET_PROBE_NONE: return "none";
	case TARGET_PROBE_OTHER: return "other";
	default: return "failed";
	}
}

int target_list_ports(struct ser_port_info **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	size_t total = 0, cap = 16;
	for (int pass = 0; pass < 3; pass++) {
		struct ser_port_info *l = calloc(cap, sizeof *l);
		if (!l)
			return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
		int r = ser_list(l, cap, &total, e);
		if (r < 0) {
			free(l);
			return r;
		}
		if (total <= cap) {
			*out = l;
			*n = total;
			return 0;
		}
		free(l); /* more ports than room (some appeared meanwhile): again, with room for all */
		cap = total + 8;
	}
	return err_set(e, STM32DFU_E_USB_IO, "the list of serial ports kept changing while it was read");
}

static void probe(struct ser *s, struct target_port_probe *out)
{
	struct an3155 b;
	an3155_init(&b, s);
	b.to.sync_ms = b.to.byte_ms = PROBE_BYTE_MS;
	b.retries = PROBE_RETRIES;
	int r = an3155_sync(&b);
	if (b.sync_answer < 0) {
		if (r == STM32DFU_E_TIMEOUT) {
			out->answer = TARGET_PROBE_NONE;
		} else {
			out->answer = TARGET_PROBE_FAILED;
			out->error = b.err;
		}
		return;
	}
	if (b.sync_answer != AN3155_ACK && b.sync_answer != AN3155_NACK) {
		out->answer = TARGET_PROBE_OTHER;
		out->other = (uint8_t)b.sync_answer;
		out->error = b.err;
		return;
	}
	out->answer = b.sync_answer == AN3155_ACK ? TARGET_PROBE_ACK : TARGET_PROBE_NACK;
	b.retries = PROBE_AGREE_RETRIES;
	/* each step on its own: a ROM under read protection may answer GET and refuse Get ID. GET and
	 * Get ID are taken when two answers agree (two flipped bits pass the parity: 0x449 reads 0x451),
	 * so the probe cannot name another family or command set */
	if (an3155_get_agreed(&b) < 0) {
		out->error = b.err;
		return;
	}
	out->have_get = true;
	out->version = b.version;
	out->ncmds = b.ncmds;
	memcpy(out->cmds, b.cmds, b.ncmds);
	if (an3155_has(&b, AN3155_GET_VERSION)) {
		if (an3155_get_version(&b) < 0) {
			out->error = b.err;
			return;
		}
		out->have_version = true;
		out->option1 = b.option1;
		out->option2 = b.option2;
	}
	if (!an3155_has(&b, AN3155_GET_ID))
		return;
	if (an3155_get_id_agreed(&b) < 0) {
		out->error = b.err;
		return;
	}
	out->have_id = true;
	out->dev_id = b.pid;
	out->family = chip_family_by_dev_id(b.pid);
}

void target_probe_ser(struct ser *s, const struct ser_seq_pair *seq, struct target_port_probe *out)
{
	memset(out, 0, sizeof *out);
	err_clear(&out->error);
	out->baud = s->cfg.baud;
	if (seq) {
		if (ser_seq_run(s, &seq->entry) < 0) {
			out->answer = TARGET_PROBE_FAILED;
			out->error = s->err;
			if (out->error.code == STM32DFU_E_UNSUPPORTED)
				err_hint(&out->error, "--reset-seq needs a port with DTR and RTS (a USB serial adapter); a "
				                      "pseudo-terminal has none");
			return;
		}
		out->reset_seq = true;
	}
	probe(s, out);
	if (seq && seq->has_exit) {
		if (ser_seq_run(s, &seq->exit) < 0) {
			if (!out->error.code)
				out->error = s->err;
			return;
		}
		out->reset_exit = true;
	}
}

void target_probe_port(const char *name, unsigned baud, const struct ser_seq_pair *seq, struct target_port_probe *out)
{
	struct ser *s = NULL;
	struct err e;
	err_clear(&e);
	if (ser_open(name, baud, &s, &e) < 0) {
		memset(out, 0, sizeof *out);
		out->baud = baud ? baud : SER_BAUD_DEFAULT;
		out->answer = TARGET_PROBE_FAILED;
		out->error = e;
		return;
	}
	target_probe_ser(s, seq, out);
	ser_close(s);
}
