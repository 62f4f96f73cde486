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

#ifdef __cplusplus
}
#endif
#endif
