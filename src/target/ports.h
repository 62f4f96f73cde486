/*
 * Serial ports for the USART way in (docs/usart.md): the ports the OS lists, with the adapter's
 * identity, and a probe that asks a port whether an STM32 ROM bootloader answers on it.
 *
 * Listing never opens a port (no byte sent, no modem line moved). Probing opens the port at 8E1,
 * may first drive DTR/RTS through a reset sequence (serial/ser_seq.h) so the board starts in its
 * bootloader, sends 0x7F and, when the ROM answers, GET, Get Version and Get ID; then the sequence's
 * exit part, if it has one, starts the application again. Nothing here prints.
 */
#ifndef TARGET_PORTS_H
#define TARGET_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "serial/serial.h"

struct chip_family;
struct ser_seq_pair;

enum target_probe_answer {
	TARGET_PROBE_ACK,     /* 0x79: the ROM locked its rate to ours */
	TARGET_PROBE_NACK,    /* 0x1F: a ROM already synchronised (it took 0x7F as a command byte) */
	TARGET_PROBE_NONE,    /* silence: no bootloader, BOOT0 low, RX/TX crossed wrong, or another rate */
	TARGET_PROBE_OTHER,   /* some other byte (an echo, an application) */
	TARGET_PROBE_FAILED,  /* the port could not be opened or driven (error says why) */
};

struct target_port_probe {
	unsigned baud;
	enum target_probe_answer answer;
	uint8_t other;                /* the byte that answered, for TARGET_PROBE_OTHER */
	bool reset_seq;               /* the entry sequence was driven before 0x7F */
	bool reset_exit;              /* and the exit sequence after the probe */
	struct err error;             /* FAILED, or why a later step did not answer ("" otherwise) */
	/* when the ROM answered */
	bool have_get;
	uint8_t version;              /* protocol version, 0x31 = 3.1 */
	uint8_t cmds[32];
	size_t ncmds;
	bool have_version;
	uint8_t option1, option2;     /* Get Version's two option bytes */
	bool have_id;
	uint16_t dev_id;              /* Get ID */
	const struct chip_family *family; /* chip/'s row for dev_id, or NULL */
};

/* "ack", "nack", "none", "other", "failed" */
const char *target_probe_answer_name(enum target_probe_answer a);

/* The ports the OS lists (serial.h ser_list), all of them: *out is malloc'ed (free it). */
int target_list_ports(struct ser_port_info **out, size_t *n, struct err *e);

/* Probes an opened port (not closed here). seq: NULL, or the DTR/RTS sequences (entry before, exit
 * after; a port without modem lines is TARGET_PROBE_FAILED, UNSUPPORTED, before any byte is sent). */
void target_probe_ser(struct ser *s, const struct ser_seq_pair *seq, struct target_port_probe *out);

/* Opens name at baud (exclusively), probes it, closes it. An open failure is TARGET_PROBE_FAILED
 * with the sentence and hint in out->error (busy, no permission: the dialout group). */
void target_probe_port(const char *name, unsigned baud, const struct ser_seq_pair *seq, struct target_port_probe *out);

#endif
