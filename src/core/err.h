/* Errors: one enum (public header), plus a context chain and a hint kept per session. */
#ifndef CORE_ERR_H
#define CORE_ERR_H

#include <stdarg.h>
#include <stddef.h>

#include "stm32dfu/stm32dfu.h"

#define ERR_MSG_MAX 512
#define ERR_HINT_MAX 256

#if defined(__MINGW32__)
/* mingw-w64 with __USE_MINGW_ANSI_STDIO (meson.build) formats as C99 does: %zu, %llu */
#define PRINTF_LIKE(f, a) __attribute__((format(gnu_printf, f, a)))
#elif defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/*
 * The detail of the last failure. Layers prepend what they were doing, so the message reads
 * outermost first: "write: sector 3 at 0x08018000: block 12: GETSTATUS: stall".
 */
struct err {
	int code;                 /* enum stm32dfu_err, 0 when clear */
	char msg[ERR_MSG_MAX];    /* the context chain */
	char hint[ERR_HINT_MAX];  /* what the user can do about it, or empty */
};

void err_clear(struct err *e);
/* Records a failure and returns code. e may be NULL (the code is still returned). */
int err_set(struct err *e, int code, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Prepends "<fmt>: " to the message; returns e->code (or STM32DFU_E_INTERNAL when e is NULL). */
int err_prefix(struct err *e, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Sets the hint line (replacing an earlier one). */
void err_hint(struct err *e, const char *fmt, ...) PRINTF_LIKE(2, 3);

#endif
