/*
 * doctor: measure the link, check the chip, and say in plain words what is wrong and what to do.
 * The evidence behind each finding is kept as numbers, for --json and for the user.
 */
#ifndef OPS_DOCTOR_H
#define OPS_DOCTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "ops/session.h"

struct ops_doctor_opts {
	unsigned count;       /* link-test transfers (default 200); over USART: commands per rate (default 60) */
	bool have_hse;
	double hse_hz;        /* the board's crystal or oscillator (--hse), 0 if unknown */
};

#define DOCTOR_SIZES 3
struct ops_link_size {
	uint16_t size;        /* bytes per UPLOAD */
	unsigned attempts;
	unsigned failures;    /* errors, timeouts, stalls */
	unsigned corrupt;     /* answered, but the data differed from the reference read */
	uint64_t lat_min_us, lat_median_us, lat_max_us;
};

/* Over USART: one rate of the sweep (doctor --port). */
#define DOCTOR_UART_RATES 6
struct ops_uart_rate {
	unsigned baud;
	bool tried;           /* false: why_not says why */
	char why_not[160];
	bool synced;          /* the ROM answered 0x7F at this rate (after a reset, with --reset-seq) */
	unsigned commands;    /* commands sent (GET, Get ID, a 256-byte Read Memory in turn) */
	unsigned nacks, timeouts, errors; /* NACKed, unanswered (or cut short), answered with garbage */
	unsigned corrupt;     /* a read answered with data other than the reference read */
	bool holds;           /* synced, and every command of the full count came back right */
};

enum doctor_severity { DOCTOR_OK = 0, DOCTOR_NOTE = 1, DOCTOR_WARN = 2, DOCTOR_BAD = 3 };

#define DOCTOR_MAX_FINDINGS 8
struct ops_doctor_finding {
	enum doctor_severity severity;
	char id[24];          /* stable token for scripts: "usb_clock", "serial", "rdp", "wrp", ... */
	char text[512];       /* what we found, with the numbers */
	char advice[512];     /* what to do about it */
};

struct ops_doctor_report {
	struct ops_link_size link[DOCTOR_SIZES];
	unsigned transfers, failures;
	bool link_bad;
	bool link_marginal;   /* link_bad, or a thin HSE margin: later sessions confirm their reads */
	bool link_noted;      /* that verdict was remembered for the board (ops/linknote.h) */
	/* the HSE-detection margin (protocol.md 4.2-4.3) */
	bool have_hse;
	double hse_hz;
	bool hse_remembered;                 /* hse_hz is the one an earlier doctor --hse gave (linknote.h) */
	double safe_lo_pct, safe_hi_pct;     /* HSI error band in which the ROM detects hse_hz right */
	double misdetect_usb_error_pct;      /* USB clock error when detected 1 MHz low */
	bool have_sim_clock;                 /* the emulator says what its ROM detected */
	double sim_hsi_error_pct, sim_detected_hz, sim_usb_error_ppm;
	size_t n_findings;
	struct ops_doctor_finding findings[DOCTOR_MAX_FINDINGS];
	enum doctor_severity worst;
	/* over USART (the USB fields above stay zero: no USB finding is made) */
	bool uart;
	bool uart_swept;              /* rates other than the session's were measured (a reset between rates) */
	unsigned uart_per_rate;       /* commands per rate */
	bool uart_reads;              /* Read Memory in the mix: false under read protection (refused) */
	unsigned uart_session_baud;   /* the rate the session was opened at (--baud) */
	unsigned uart_family_max_baud; /* the fastest rate this family's ROM is known to follow */
	unsigned uart_recommended_baud; /* the fastest rate that holds, 0 when none */
	size_t n_rates;
	struct ops_uart_rate rates[DOCTOR_UART_RATES];
};

int ops_doctor(struct ops_session *s, const struct ops_doctor_opts *o, struct ops_doctor_report *r);

#endif
