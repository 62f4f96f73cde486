/*
 * The ROM's USB serial number: compute it from the UID per family rule, and explain a reported serial
 * (protocol.md §5). Also decides whether a -S selector is a USB serial or a UID.
 */
#ifndef CHIP_SERIAL_H
#define CHIP_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chip/chip.h"

/* The forms one UID yields. uid is 12 bytes as read from memory (three little-endian words). */
struct chip_serials {
	bool hal_valid;        /* false when UID0+UID2 == 0 (the HAL then keeps its default string) */
	char hal[13];          /* hex8(UID0+UID2) + hex4(UID1>>16), or UID2>>16 under the F3 rule */
	char bytewise[13];     /* libopencm3 form: byte sums truncated to 8 bits */
	char bytewise_mp[16];  /* MicroPython form: a byte sum above 0xFF prints 3 digits */
	char f76x[13];         /* the F76x ROM form: HAL with the low byte of UID0+UID2 plus 0x0A */
};

/* Computes every form under the family's rule (fam NULL: the HAL rule). */
void chip_serial_compute(const struct chip_family *fam, const uint8_t uid[12], struct chip_serials *out);

/* Reads three words "002d0030 3334510b 32313533" (UID0 UID1 UID2, as printed) into memory order. */
bool chip_uid_from_words(uint32_t w0, uint32_t w1, uint32_t w2, uint8_t uid[12]);

enum chip_serial_verdict {
	CHIP_SERIAL_MATCH_HAL,       /* the serial is the HAL 32-bit form of the UID */
	CHIP_SERIAL_MATCH_BYTEWISE,  /* it matches the byte-wise (MicroPython/libopencm3) form only */
	CHIP_SERIAL_KNOWN_QUIRK,     /* a known ROM quirk explains it */
	CHIP_SERIAL_MISMATCH,        /* unexplained */
	CHIP_SERIAL_NO_UID,          /* no UID to check against (and no constant quirk) */
	CHIP_SERIAL_NO_USB_SERIAL,   /* reached over USART (AN3155): there is no USB serial to check */
};

enum chip_serial_quirk {
	CHIP_SQ_NONE,
	CHIP_SQ_FXSTM32,       /* constant STM32FxSTM32 (F72x, some F446) */
	CHIP_SQ_CONST_STM32,   /* constant STM32 (F105/F107) */
	CHIP_SQ_F0_FFFF,       /* constant FFFFFFFEFFFF (F0) */
	CHIP_SQ_F76X_PLUS_0A,  /* F76x: low byte of UID0+UID2 plus 0x0A */
	CHIP_SQ_H7_NOT_UID,    /* H7: not derived from the UID */
	CHIP_SQ_F7_00000008,   /* 00000008FFFF on some F7/H7 units */
	CHIP_SQ_RANDOM,        /* L496: changes each power cycle */
};

struct chip_serial_result {
	enum chip_serial_verdict verdict;
	enum chip_serial_quirk quirk;
	const char *explanation;    /* one sentence (static), never NULL */
	bool has_computed;
	struct chip_serials computed;
};

/*
 * Explains usb_serial (NULL = none) for fam (NULL = unknown family) given uid (NULL = not read).
 * Always fills out; returns its verdict.
 */
enum chip_serial_verdict chip_serial_check(const struct chip_family *fam, const char *usb_serial,
					   const uint8_t *uid, struct chip_serial_result *out);
const char *chip_serial_verdict_name(enum chip_serial_verdict v);
/* The stable token scripts see ("match_hal", "known_quirk", ...), as --json and the C API give it. */
const char *chip_serial_verdict_token(enum chip_serial_verdict v);

/* What a -S argument names. */
enum chip_selector_kind { CHIP_SEL_USB_SERIAL, CHIP_SEL_UID };
struct chip_selector {
	enum chip_selector_kind kind;
	char serial[64];      /* CHIP_SEL_USB_SERIAL: the string as given */
	uint8_t uid[12];      /* CHIP_SEL_UID: memory order */
};
/*
 * A string of exactly 24 hex digits (spaces, ':' and '-' allowed between them, as in
 * "002d0030 3334510b 32313533") is a UID, read as three words UID0 UID1 UID2; anything else of 1..63
 * characters is a USB serial. Returns false for an empty or too long string.
 */
bool chip_serial_parse_selector(const char *s, struct chip_selector *out);
/* Does a device with this USB serial (and UID, NULL if not read) match sel? (serials: case-insensitive) */
bool chip_selector_matches(const struct chip_selector *sel, const char *usb_serial, const uint8_t *uid);

#endif
