/*
 * stm32dfu: program STM32 chips through the ST ROM bootloader over USB DFU (DfuSe).
 *
 * The one public header of libstm32dfu. Errors are negative values of enum stm32dfu_err;
 * every function that can fail returns one (0 or a positive count on success).
 */
#ifndef STM32DFU_H
#define STM32DFU_H

#ifdef __cplusplus
extern "C" {
#endif

#include <stddef.h>
#include <stdint.h>

/* One error enum for the whole library. Stable numbers: the CLI maps them to exit codes. */
enum stm32dfu_err {
	STM32DFU_OK = 0,
	STM32DFU_E_USAGE = -1,              /* bad argument or option */
	STM32DFU_E_NO_DEVICE = -2,          /* no matching device */
	STM32DFU_E_AMBIGUOUS = -3,          /* more than one matching device */
	STM32DFU_E_ACCESS = -4,             /* permission denied opening the device */
	STM32DFU_E_USB_IO = -5,             /* USB transfer failed */
	STM32DFU_E_TIMEOUT = -6,            /* a transfer or a wait timed out */
	STM32DFU_E_STALL = -7,              /* the device stalled a request */
	STM32DFU_E_DISCONNECTED = -8,       /* the device went away */
	STM32DFU_E_DFU_STATUS = -9,         /* the device reported an errXXX status */
	STM32DFU_E_PROTOCOL = -10,          /* unexpected DFU state or malformed reply */
	STM32DFU_E_FILE_IO = -11,           /* cannot read or write a file */
	STM32DFU_E_FILE_FORMAT = -12,       /* a file is malformed */
	STM32DFU_E_RANGE = -13,             /* address outside the memory map, or not writable */
	STM32DFU_E_PROTECTED = -14,         /* read or write protection prevents the operation */
	STM32DFU_E_VERIFY = -15,            /* read-back differs from what was written */
	STM32DFU_E_NEEDS_CONFIRMATION = -16,/* a risky step needs an explicit flag */
	STM32DFU_E_NO_MEMORY = -17,         /* allocation failed */
	STM32DFU_E_INTERNAL = -18,          /* a bug in stm32dfu */
	STM32DFU_E_UNSUPPORTED = -19,       /* the device or file does not support this */
};
#define STM32DFU_ERR_COUNT 20

/* A short English sentence for an error code ("the device stalled a request"). */
const char *stm32dfu_strerror(int err);
/* The symbol for an error code ("STM32DFU_E_STALL"). */
const char *stm32dfu_errname(int err);

/* ---- sessions ----------------------------------------------------------------------------
 * One session is one device. Sessions are independent: N devices may be driven from N threads,
 * one session per thread (nothing is shared but the log level). A session is not itself
 * thread-safe: use it from one thread at a time.
 */
struct stm32dfu_session;

/* Which device to open. Zero-initialise, then set what you need. */
struct stm32dfu_match {
	uint16_t vid, pid;    /* 0: the ST ROM bootloader, 0483:df11 */
	const char *serial;   /* the USB serial string, or the chip's 96-bit UID as 24 hex digits; NULL: any */
	const char *path;     /* the USB port path as `stm32dfu list` shows it ("1-1.4"); NULL: any */
	const char *sim;      /* non-NULL: the built-in emulator instead of USB, e.g. "f746,timing=0" */
};

/* Opens the one matching device and starts a DFU session. When several devices match, fails with
 * STM32DFU_E_AMBIGUOUS (give a serial, UID or path). On failure *out is NULL and
 * stm32dfu_last_error(NULL) describes the failure (per thread). */
int stm32dfu_open(const struct stm32dfu_match *match, struct stm32dfu_session **out);
void stm32dfu_close(struct stm32dfu_session *s);

/* The detail of the last failure of a session (or, with NULL, of this thread's last failed
 * stm32dfu_open): code, a one-line message, and a hint (possibly "") saying what to try. */
struct stm32dfu_error {
	int code;
	const char *message;
	const char *hint;
};
struct stm32dfu_error stm32dfu_last_error(const struct stm32dfu_session *s);

/* The chip's 96-bit unique ID as "XXXXXXXX XXXXXXXX XXXXXXXX" (empty if it could not be read). */
const char *stm32dfu_uid(struct stm32dfu_session *s);

/* ---- progress ---- */
enum stm32dfu_phase {
	STM32DFU_PHASE_READ = 0,    /* reading back what the chip holds (to skip unchanged sectors) */
	STM32DFU_PHASE_ERASE = 1,   /* done/total count sectors */
	STM32DFU_PHASE_PROGRAM = 2,
	STM32DFU_PHASE_VERIFY = 3,
};
/* Called from the thread running the operation, often (every transfer): keep it quick. */
typedef void (*stm32dfu_progress_fn)(void *user, enum stm32dfu_phase phase, uint64_t done, uint64_t total);
void stm32dfu_set_progress(struct stm32dfu_session *s, stm32dfu_progress_fn fn, void *user);

/* ---- write and verify ---- */
struct stm32dfu_write_options {
	int no_verify;        /* skip the read-back (the write is then not proven) */
	int full;             /* erase and program every touched sector, even unchanged ones */
	int leave;            /* leave DFU and start the application when done */
	int force;            /* accept a .dfu file whose suffix names another device */
	int has_address;      /* load a raw .bin at address instead of the start of flash */
	uint32_t address;
};

struct stm32dfu_write_result {
	uint64_t image_bytes;
	uint64_t bytes_programmed;
	unsigned sectors_erased;
	unsigned sectors_skipped;  /* unchanged sectors left alone */
	int verified;
	unsigned retries;
	double seconds;
};

/* Writes a .bin/.hex/.srec/.elf/.dfu file: only the sectors that differ, then a read-back check.
 * options and result may be NULL. */
int stm32dfu_write_file(struct stm32dfu_session *s, const char *path, const struct stm32dfu_write_options *options,
                        struct stm32dfu_write_result *result);

/* Checks the chip holds the file's contents: 0, or STM32DFU_E_VERIFY. options: has_address,
 * address and force are used; may be NULL. */
int stm32dfu_verify_file(struct stm32dfu_session *s, const char *path, const struct stm32dfu_write_options *options);

#ifdef __cplusplus
}
#endif
#endif
