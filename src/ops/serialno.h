/*
 * Serial numbers per board (--serial-number ADDR[:FORMAT]): taken from the log database in one
 * transaction (a board keeps the number it was given under a counter), written as bytes merged
 * into the image before planning, so they are planned, programmed and verified like the rest.
 */
#ifndef OPS_SERIALNO_H
#define OPS_SERIALNO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct img;
struct ops_session;
struct store;

enum ops_sn_format { OPS_SN_U32LE, OPS_SN_U64LE, OPS_SN_ASCII };

struct ops_serialno {
	uint32_t addr;
	enum ops_sn_format format;
	unsigned width;          /* bytes written */
	const char *counter;     /* --serial-counter (default "default") */
	uint64_t start;          /* --serial-start, used on the counter's first use (default 1) */
	struct store *store;     /* where numbers come from (the programming log) */
	bool otp_ok;             /* --i-understand-otp-is-permanent: ADDR may lie in OTP memory, where the
	                          * number is programmed after the flash is verified (ops_write_opts.otp_last) */
};

/* "0x0800C000", "0x0800C000:u64le", "0x0800C000:ascii:8" -> sn (counter, start, store left alone). */
int ops_serialno_parse(const char *spec, struct ops_serialno *sn, struct err *e);
/* Does v fit the format (u32le: < 2^32; ascii:N: < 10^N)? */
bool ops_serialno_fits(const struct ops_serialno *sn, uint64_t v);
/* The bytes of v in the format (sn->width of them). */
void ops_serialno_bytes(const struct ops_serialno *sn, uint64_t v, uint8_t *out);
/* Refuses an address the image already covers (its bytes would be overwritten). */
int ops_serialno_check_image(const struct ops_serialno *sn, const struct img *img, struct err *e);
/*
 * For the board of session s: checks the address lies in writable flash (or OTP, with otp_ok), takes the board's
 * number (by UID) and returns a copy of img with the number's bytes added. Nothing is written.
 * Errors go to s->err.
 */
int ops_serialno_apply(struct ops_session *s, const struct ops_serialno *sn, const struct img *img,
                       struct img **out, uint64_t *number);

#endif
