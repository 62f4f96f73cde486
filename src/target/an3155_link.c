/* The AN3155 link below the memory operations (an3155_link.h). */
#include "target/an3155_link.h"

#include <stdlib.h>

#include "core/log.h"
#include "serial/ser_sim.h"
#include "serial/ser_trace.h"
#include "sim/sim_uart.h"
#include "target/target.h"

int target_an3155_port(const char *port, unsigned baud, const char *sim_spec, const char *profile_dir,
                       const struct clock *clock, const char *sim_state, struct ser **raw, bool *state_refused,
                       struct err *e)
{
	*raw = NULL;
	*state_refused = false;
	if (!baud)
		baud = SER_BAUD_DEFAULT;
	if (port)
		return ser_open(port, baud, raw, e);
	int rc = ser_sim_open(sim_spec, profile_dir, clock, raw, e);
	char eb[256];
	if (rc == 0 && sim_state && sim_state[0] &&
	    sim_state_load(sim_uart_device(ser_sim_uart(*raw)), sim_state, eb, sizeof eb) != 0) {
		*state_refused = true; /* never overwrite a file that could not be read */
		ser_close(*raw);
		*raw = NULL;
		return err_set(e, STM32DFU_E_USAGE, "{@sim}: %s", eb);
	}
	if (rc == 0) {
		struct ser_config c = ser_config_8e1(baud);
		if ((rc = ser_configure(*raw, &c)) < 0) {
			*e = (*raw)->err;
			ser_close(*raw);
			*raw = NULL;
		}
	}
	return rc;
}

void target_an3155_port_close(struct ser *raw)
{
	ser_close(raw);
}

int target_an3155_connect(struct ser *raw, FILE *log, unsigned retries, const struct ser_seq *entry,
                          const char *where, unsigned baud, struct target_uart_link *link, struct err *e)
{
	link->ser = ser_trace_wrap(raw, log, NULL);
	if (!link->ser) {
		ser_close(raw);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	link->bl = calloc(1, sizeof *link->bl);
	if (!link->bl)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	an3155_init(link->bl, link->ser);
	if (retries)
		link->bl->retries = retries;
	int rc;
	if (entry && (rc = ser_seq_run(link->ser, entry)) < 0) {
		*e = link->ser->err;
		if (rc == STM32DFU_E_UNSUPPORTED)
			err_hint(e, "{@reset-seq} needs a port with DTR and RTS (a USB serial adapter); a pseudo-terminal "
			            "has none: reset the board into its bootloader by hand and leave {@reset-seq} out");
		return err_prefix(e, "%s", where);
	}
	if ((rc = an3155_connect(link->bl)) < 0) {
		*e = link->bl->err;
		if (entry && rc == STM32DFU_E_TIMEOUT && !link->bl->synced)
			/* the lines were driven and still no ROM: the wiring is not the sequence's */
			err_hint(e, "no answer to 0x7F at %u baud after the reset sequence: is the fixture wired as it "
			            "drives (default DTR to NRST, RTS to BOOT0)? else {@reset-seq-eg ENTRY:EXIT}; TX and RX "
			            "crossed?",
			         baud);
		return err_prefix(e, "%s at %u baud", where, baud);
	}
	return target_an3155_new(link->bl, &link->t, e);
}

void target_an3155_close(struct target_uart_link *link, struct ser *raw, const char *sim_state)
{
	if (link->ser && sim_state && sim_state[0]) {
		char eb[256];
		struct sim_uart *u = ser_sim_uart(raw);
		if (u && sim_state_save(sim_uart_device(u), sim_state, eb, sizeof eb) != 0)
			log_warn("the emulated chip's state file: %s", eb);
	}
	if (link->ser)
		ser_close(link->ser);
	free(link->bl);
	link->ser = NULL;
	link->bl = NULL;
}

size_t target_an3155_writes(struct ser *traced)
{
	struct ser_trace_counts c;
	ser_trace_counts(traced, &c);
	return (size_t)c.writes;
}

int target_an3155_seq_parse(const char *text, struct ser_seq_pair *out, struct err *e)
{
	return ser_seq_parse(text, out, e);
}

int target_an3155_seq(struct ser *ser, const struct ser_seq *seq, struct err *e)
{
	int rc = ser_seq_run(ser, seq);
	if (rc < 0)
		*e = ser->err;
	return rc;
}

void target_an3155_forget_sync(struct an3155 *b)
{
	b->synced = false;
}

int target_an3155_restart(struct ser *ser, const struct ser_seq *entry, struct an3155 *b, unsigned baud)
{
	struct ser_config c = ser_config_8e1(baud);
	if (ser_configure(ser, &c) < 0)
		return ser->err.code;
	if (ser_seq_run(ser, entry) < 0)
		return ser->err.code;
	return an3155_sync(b);
}

int target_an3155_read(struct an3155 *b, uint32_t addr, uint8_t *buf, size_t n)
{
	return an3155_read(b, addr, buf, n);
}

enum target_uart_outcome target_an3155_try(struct an3155 *b, enum target_uart_try kind, uint32_t addr,
                                           uint8_t buf[AN3155_MAX_BLOCK])
{
	unsigned keep = b->retries;
	b->retries = 0;
	struct an3155_stats before = b->stats;
	int rc = kind == TARGET_UART_TRY_GET ? an3155_get(b)
	         : kind == TARGET_UART_TRY_ID ? an3155_get_id(b)
	                                      : an3155_read(b, addr, buf, AN3155_MAX_BLOCK);
	b->retries = keep;
	if (rc == 0)
		return TARGET_UART_OK;
	if (b->stats.nacks > before.nacks)
		return TARGET_UART_NACK;
	if (b->stats.timeouts > before.timeouts)
		return TARGET_UART_TIMEOUT;
	return TARGET_UART_ERROR;
}

int target_an3155_try_resync(struct an3155 *b)
{
	unsigned keep = b->retries;
	b->retries = 0;
	int rc = an3155_resync(b);
	b->retries = keep;
	return rc;
}
