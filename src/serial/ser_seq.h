/*
 * Reset sequences on a serial port's modem lines: DTR and RTS wired to a board's NRST and BOOT0,
 * so a fixture enters the ROM bootloader (and leaves it) without hands. The text form is
 * stm32flash's -i GPIO_string, for the modem lines (docs/usart.md "Reset sequences"):
 *
 *   SEQ      = [ENTRY][:[EXIT]]
 *   ENTRY    = step { ("&" | ",") step }     a step: "dtr", "-dtr", "rts", "-rts", or empty
 *
 * "dtr" asserts the line (the modem bit TIOCM_DTR set, as stm32flash sets it), "-dtr" deasserts
 * it; "&" goes on at once, "," waits 100 ms (an empty step between commas waits another 100 ms).
 * Signals joined by "&" are set in one call. Host GPIO numbers and "brk" (stm32flash's other
 * signals) are refused with a message: only DTR and RTS are driven here.
 */
#ifndef SERIAL_SER_SEQ_H
#define SERIAL_SER_SEQ_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "serial/serial.h"

#define SER_SEQ_MAX_STEPS 32
#define SER_SEQ_DELAY_MS 100u

/* One call to the lines (-1: unchanged), then a wait. */
struct ser_seq_step {
	int dtr, rts;
	unsigned delay_ms;
};

struct ser_seq {
	struct ser_seq_step steps[SER_SEQ_MAX_STEPS];
	size_t n;
};

struct ser_seq_pair {
	struct ser_seq entry, exit;
	bool has_exit;
};

/*
 * The default wiring (docs/usart.md): DTR drives NRST, RTS drives BOOT0, each asserted line holding
 * its pin at the active level (DTR asserted: NRST low, the chip held in reset; RTS asserted: BOOT0
 * high). Entry: BOOT0 high with the chip in reset, 100 ms, release reset, 100 ms for the ROM to
 * start. Exit: BOOT0 low with the chip in reset, 100 ms, release: the application runs.
 */
#define SER_SEQ_DEFAULT "rts&dtr,-dtr,:-rts&dtr,-dtr"

/* Parses text (NULL or "": the default); USAGE with the problem named in e. */
int ser_seq_parse(const char *text, struct ser_seq_pair *out, struct err *e);

/* Drives the steps on s (waits on s->clock). UNSUPPORTED when the port has no modem lines. */
int ser_seq_run(struct ser *s, const struct ser_seq *seq);

#endif
