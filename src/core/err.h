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
	char msg[ERR_MSG_MAX];    /* the context chain, in the command line's words */
	char hint[ERR_HINT_MAX];  /* what the user can do about it, or empty (command line's words) */
	char lib_msg[ERR_MSG_MAX];   /* the same in the library's words (stm32dfu_last_error) */
	char lib_hint[ERR_HINT_MAX];
};

/*
 * Words each front end says its own way (issue 24 item 14). Messages and hints below the CLI name an
 * option or a command with a token, "{@force}", "{@info}"; err_set/err_hint/err_prefix render every
 * text twice: msg/hint in the command line's words ("--force", "'stm32dfu info'") and lib_msg/lib_hint
 * in the C API's ("the force option", "stm32dfu_info()"), which the Python package maps to its own.
 * The table is in err.c; an unknown token is kept as written.
 */
#define W_FORCE "{@force}"
#define W_CONFIRM_READS "{@confirm-reads}"
#define W_VDD "{@vdd}"
#define W_ALT "{@alt}"
#define W_LEAVE "{@leave}"
#define W_NO_VERIFY "{@no-verify}"
#define W_HSE "{@hse}"
#define W_SEL_SERIAL "{@sel-serial}"
#define W_SEL_PATH "{@sel-path}"
#define W_SEL_UID "{@sel-uid}"
#define W_OTP_PERMANENT "{@otp-permanent}"
#define W_INFO "{@info}"
#define W_LIST "{@list}"
#define W_OB_SHOW "{@ob-show}"
#define W_DOCTOR "{@doctor}"
#define W_RECOVER "{@recover}"
#define W_CONFIRM_RDP2 "{@confirm-rdp2}"
#define W_CONFIRM_RDP1 "{@confirm-rdp1}"
#define W_CONFIRM_WRP_BOOT "{@confirm-wrp-boot}"
#define W_CONFIRM_NO_BOOTLOADER "{@confirm-no-bootloader}"
#define W_CONFIRM_RDP0 "{@confirm-rdp0}"

/* Renders the tokens of in: cli true for the command line's words, false for the library's. */
void err_words(const char *in, int cli, char *out, size_t cap);

void err_clear(struct err *e);
/* Records a failure and returns code. e may be NULL (the code is still returned). */
int err_set(struct err *e, int code, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Prepends "<fmt>: " to the message; returns e->code (or STM32DFU_E_INTERNAL when e is NULL). */
int err_prefix(struct err *e, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Sets the hint line (replacing an earlier one). */
void err_hint(struct err *e, const char *fmt, ...) PRINTF_LIKE(2, 3);

#endif
