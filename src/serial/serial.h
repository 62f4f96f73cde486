/*
 * The serial transport: the one door between the AN3155 protocol code (uart/) and a byte stream
 * to a chip's USART bootloader. The USB side has usb/transport.h; this is its serial twin.
 *
 * Implementations:
 *   ser_sp.c    real ports through libserialport (enumeration with the adapter's USB identity,
 *               8E1, timeouts, DTR/RTS);
 *   ser_tty.c   a pseudo-terminal (stm32dfu-sim --uart) through termios: libserialport does not
 *               open /dev/pts/N (sp_get_port_by_name fails: it looks the port up in sysfs);
 *   ser_sim.c   the in-process emulator (sim/sim_uart.h), in virtual or real time;
 *   ser_trace.c a decorator over any of them: a byte transcript and fault injection.
 *
 * Every operation returns 0 (or a byte count) on success and a negative enum stm32dfu_err on
 * failure, with the sentence in s->err. One thread at a time per ser.
 */
#ifndef SERIAL_SERIAL_H
#define SERIAL_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/err.h"

/* The AN3155 line: 8 data bits, even parity, 1 stop bit (AN3155 "Communication safety"). */
#define SER_BAUD_DEFAULT 115200u

enum ser_parity { SER_PARITY_NONE = 'N', SER_PARITY_EVEN = 'E', SER_PARITY_ODD = 'O' };

struct ser_config {
	unsigned baud;
	enum ser_parity parity;
	uint8_t data_bits; /* 8 */
	uint8_t stop_bits; /* 1 or 2 */
};

/* The line as AN3155 wants it at this rate. */
static inline struct ser_config ser_config_8e1(unsigned baud)
{
	struct ser_config c = {baud, SER_PARITY_EVEN, 8, 1};
	return c;
}

/* Bits on the wire per byte: start + data + parity + stop (11 at 8E1). */
static inline unsigned ser_bits_per_byte(const struct ser_config *c)
{
	return 1u + c->data_bits + (c->parity != SER_PARITY_NONE ? 1u : 0u) + c->stop_bits;
}

/* Wire time of n bytes at the configured rate, in microseconds (rounded up). */
static inline uint64_t ser_wire_us(const struct ser_config *c, size_t n)
{
	if (!c->baud)
		return 0;
	uint64_t bits = (uint64_t)n * ser_bits_per_byte(c);
	return (bits * 1000000u + c->baud - 1) / c->baud;
}

struct ser;

struct ser_ops {
	const char *name; /* "serialport", "tty", "sim", "trace" */
	/* Sets rate and framing. */
	int (*configure)(struct ser *s, const struct ser_config *c);
	/* Sends all n bytes (or fails): returns n, TIMEOUT if the port did not take them in time. */
	int (*write)(struct ser *s, const uint8_t *buf, size_t n, unsigned timeout_ms);
	/* Waits up to timeout_ms for n bytes; returns how many came (0..n: fewer means the time ran
	 * out) or a negative error (USB_IO, DISCONNECTED). A byte the port marked with a parity or
	 * framing error is not delivered (the line is 8E1 for a reason: Read Memory data has no
	 * checksum, so parity is the only guard on it). */
	int (*read)(struct ser *s, uint8_t *buf, size_t n, unsigned timeout_ms);
	/* Discards bytes received and not yet read. */
	int (*flush_input)(struct ser *s);
	/* Modem lines: 1 asserted, 0 deasserted, -1 unchanged. Optional (NULL: not supported). */
	int (*set_lines)(struct ser *s, int dtr, int rts);
	void (*close)(struct ser *s);
};

struct ser {
	const struct ser_ops *ops;
	void *impl;
	const struct clock *clock; /* what the protocol code sleeps on (the device's for the emulator) */
	struct ser_config cfg;     /* as last configured */
	char name[256];            /* the port as the user named it */
	struct err err;
};

static inline int ser_configure(struct ser *s, const struct ser_config *c)
{
	int r = s->ops->configure(s, c);
	if (r == 0)
		s->cfg = *c;
	return r;
}
static inline int ser_write(struct ser *s, const uint8_t *buf, size_t n, unsigned timeout_ms)
{
	return s->ops->write(s, buf, n, timeout_ms);
}
static inline int ser_read(struct ser *s, uint8_t *buf, size_t n, unsigned timeout_ms)
{
	return s->ops->read(s, buf, n, timeout_ms);
}
static inline int ser_flush_input(struct ser *s)
{
	return s->ops->flush_input(s);
}
int ser_set_lines(struct ser *s, int dtr, int rts);
void ser_close(struct ser *s);

/* For implementations: a zeroed ser with the real clock and 115200 8E1 recorded. */
struct ser *ser_alloc(const struct ser_ops *ops, void *impl, const char *name);
void ser_free(struct ser *s);

/* ---- real ports ---- */

/* One port as the OS lists it, with the USB adapter's identity when it is one. */
struct ser_port_info {
	char name[256];         /* "/dev/ttyUSB0", "COM3" */
	char description[256];  /* libserialport's description ("CP2102 USB to UART Bridge Controller") */
	bool usb;
	uint16_t vid, pid;      /* when usb */
	char manufacturer[128];
	char product[128];
	char serial[128];
	char usb_path[32];      /* "1-1.4" when usb (bus-ports) */
};

/* Lists the serial ports (without opening any: no byte is sent). Fills up to cap, sets *total to
 * how many exist. Returns 0 or a negative error; STM32DFU_E_UNSUPPORTED without libserialport. */
int ser_list(struct ser_port_info *out, size_t cap, size_t *total, struct err *e);

/*
 * Opens a port by path or by a name ser_list gives, exclusively (TIOCEXCL: a second program gets
 * "busy"), at 8E1 with the given rate. A pseudo-terminal goes through termios. Errors:
 * NO_DEVICE (no such port), ACCESS (permission: the hint names the dialout group), USB_IO with
 * "busy" when another program holds it. On failure *out is NULL and e says why.
 */
int ser_open(const char *name, unsigned baud, struct ser **out, struct err *e);

/* True when path is a pseudo-terminal slave (/dev/pts/N). */
bool ser_is_pty(const char *path);

#endif
