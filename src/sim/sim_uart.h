/*
 * The AN3155 USART front end of the chip model: the same sim_device (memories, sectors, WRP, RDP,
 * option bytes, UID, timing) as the DfuSe ROM in rom.c, reached through the USART bootloader's
 * byte protocol instead of USB control transfers. It includes no host header: it models the chip.
 *
 * The line is modelled per byte: a byte takes ser bits / baud on the wire (11 bits at 8E1), the
 * ROM's answer is sent when the command (and its flash work, timed from the profile) is done, and
 * the ROM's transmitter sends one byte after another. Time is the device clock in microseconds.
 *
 * Profile keys (docs/profiles.md "USART bootloader"): uart_device_id (required), uart_version,
 * uart_commands, uart_gv_options, uart_max_baud, uart_mode, uart_mass_erase, uart_banks,
 * uart_t_reset, uart_nrst, uart_boot0 (the fixture's DTR/RTS wiring), and the faults uart_noise,
 * uart_noise_above, uart_noise_at, uart_noise_tx_at, uart_drop, uart_drop_at, uart_reset_at (the chip
 * resets), uart_gone_at (it stops answering for good).
 */
#ifndef SIM_SIM_UART_H
#define SIM_SIM_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/sim.h"

struct sim_uart;

/* A front end for d (which must outlive it), configured from p's uart_* keys. NULL and a
 * sentence in errbuf when a key is wrong or uart_device_id is missing. */
struct sim_uart *sim_uart_new(struct sim_device *d, const struct sim_profile *p, char *errbuf, size_t errlen);
void sim_uart_free(struct sim_uart *u);

/* The host's line settings (what its port is set to): rate, parity ('N', 'E', 'O'), and whether
 * the host's port drops bytes with a parity error (INPCK|IGNPAR) rather than delivering them. */
void sim_uart_set_host_line(struct sim_uart *u, unsigned baud, char parity, bool host_checks_parity);

/* Wire time of one byte at the host's rate, microseconds rounded up (unscaled: the line is not the
 * chip). */
uint64_t sim_uart_byte_us(const struct sim_uart *u);

/* The whole microseconds the next of a run of back-to-back bytes takes at the host's rate: 95 or
 * 96 at 115200, so that the run takes its exact time (11 bits / 115200 = 95.486 us a byte: a whole
 * 96 every byte made the line 0.54 % slower than a real one) and each byte still ends no earlier
 * than on the real line. *ahead: how far the run's end runs ahead of the exact time, in units of
 * 1/baud us; 0 at the start of a run (a byte that starts after the line was idle). */
uint64_t sim_uart_byte_next(const struct sim_uart *u, uint32_t *ahead);

/* The exact wire time of n bytes at the host's last rate, microseconds (rounded up). */
uint64_t sim_uart_wire_us(const struct sim_uart *u, uint64_t n);

/* A byte from the host, complete on the wire at at_us. Bytes must come in time order. */
void sim_uart_rx(struct sim_uart *u, uint8_t byte, uint64_t at_us);

/* The ROM's next byte towards the host and when it is complete on the wire. false: none queued.
 * A byte the line lost (a fault, or a parity error the host's port drops) is never shown. */
bool sim_uart_tx_peek(struct sim_uart *u, uint8_t *byte, uint64_t *at_us);
/* The i-th byte waiting (0 is the one tx_peek gives). */
bool sim_uart_tx_peek_at(struct sim_uart *u, size_t i, uint8_t *byte, uint64_t *at_us);
void sim_uart_tx_pop(struct sim_uart *u);

/* The chip's reset pin (NRST) pulsed, or power cycled: the ROM starts again and waits for 0x7F. */
void sim_uart_reset(struct sim_uart *u, uint64_t at_us);

/* The host's modem lines (1 asserted, 0 deasserted, -1 unchanged) at at_us, through the fixture's
 * wiring (uart_nrst, uart_boot0): NRST held while its line is active, BOOT0 sampled when NRST is
 * released (high: the ROM's USART bootloader; low: the application, which is silent here). */
void sim_uart_set_lines(struct sim_uart *u, int dtr, int rts, uint64_t at_us);

struct sim_uart_stats {
	uint64_t bytes_in, bytes_out; /* bytes the ROM received / sent */
	uint64_t acks, nacks;
	uint64_t syncs;               /* 0x7F autobaud locks */
	uint64_t resets;              /* after WP/UW/RP/RU and option-byte writes, Go to no code */
	uint64_t faults;              /* bytes flipped or dropped by fault injection */
	uint64_t dropped;             /* bytes the ROM lost (parity error, busy, wrong rate) */
};
void sim_uart_get_stats(const struct sim_uart *u, struct sim_uart_stats *out);

/* For tests that count from a point of a session: the byte `after` bytes from now (1: the next)
 * gets `bits` (1 or 2) flipped bits, a byte the host sends (to_rom) or one the ROM sends. mask
 * chooses the two bits (0: at random), as uart_noise2_mask. The profile's _at keys, set later. */
void sim_uart_fault_next(struct sim_uart *u, bool to_rom, int bits, uint64_t after, uint8_t mask);

/* The same for the line's other faults, the Nth host byte from now (1: the next) as the profile's
 * uart_drop_at (lost), uart_reset_at (the chip resets) or uart_gone_at (nothing more in or out). */
enum sim_uart_line { SIM_UART_DROP, SIM_UART_RESET, SIM_UART_GONE };
void sim_uart_line_next(struct sim_uart *u, enum sim_uart_line ev, uint64_t after);

/* The device behind it (for state files and tests). */
struct sim_device *sim_uart_device(struct sim_uart *u);

#endif
