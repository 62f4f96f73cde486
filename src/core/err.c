#include "core/err.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	const char *text;
} err_table[STM32DFU_ERR_COUNT] = {
	{"STM32DFU_OK", "success"},
	{"STM32DFU_E_USAGE", "invalid argument"},
	{"STM32DFU_E_NO_DEVICE", "no matching device"},
	{"STM32DFU_E_AMBIGUOUS", "more than one matching device"},
	{"STM32DFU_E_ACCESS", "permission denied"},
	{"STM32DFU_E_USB_IO", "USB transfer failed"},
	{"STM32DFU_E_TIMEOUT", "timed out"},
	{"STM32DFU_E_STALL", "the device stalled a request"},
	{"STM32DFU_E_DISCONNECTED", "the device disconnected"},
	{"STM32DFU_E_DFU_STATUS", "the device reported an error status"},
	{"STM32DFU_E_PROTOCOL", "unexpected reply from the device"},
	{"STM32DFU_E_FILE_IO", "file input/output error"},
	{"STM32DFU_E_FILE_FORMAT", "malformed file"},
	{"STM32DFU_E_RANGE", "address outside the memory map"},
	{"STM32DFU_E_PROTECTED", "blocked by read or write protection"},
	{"STM32DFU_E_VERIFY", "verification failed"},
	{"STM32DFU_E_NEEDS_CONFIRMATION", "needs an explicit confirmation flag"},
	{"STM32DFU_E_NO_MEMORY", "out of memory"},
	{"STM32DFU_E_INTERNAL", "internal error"},
	{"STM32DFU_E_UNSUPPORTED", "not supported"},
	{"STM32DFU_E_CANCELED", "stopped on request"},
	{"STM32DFU_E_NOT_STARTED", "the application did not start"},
	{"STM32DFU_E_LOG_UNREACHABLE", "the log database does not answer"},
};

static int err_index(int err)
{
	if (err > 0 || err <= -STM32DFU_ERR_COUNT)
		return -1;
	return -err;
}

const char *stm32dfu_strerror(int err)
{
	int i = err_index(err);
	return i < 0 ? "unknown error" : err_table[i].text;
}

const char *stm32dfu_errname(int err)
{
	int i = err_index(err);
	return i < 0 ? "STM32DFU_E_UNKNOWN" : err_table[i].name;
}

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->msg[0] = '\0';
	e->hint[0] = '\0';
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	if (!e)
		return code;
	e->code = code;
	e->hint[0] = '\0';
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return code;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	if (!e)
		return STM32DFU_E_INTERNAL;
	char prefix[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	/* join by hand: snprintf("%s: %s") of two full buffers trips -Wformat-truncation */
	size_t plen = strnlen(prefix, sizeof prefix - 1);
	size_t mlen = strnlen(e->msg, sizeof e->msg - 1);
	/* two layers naming the same step say it once ("leave: leave: ..." reads as a stutter) */
	if (plen && mlen > plen + 1 && memcmp(e->msg, prefix, plen) == 0 && e->msg[plen] == ':' && e->msg[plen + 1] == ' ')
		return e->code ? e->code : STM32DFU_E_INTERNAL;
	if (plen + 2 >= sizeof e->msg)
		plen = sizeof e->msg - 3;
	if (plen + 2 + mlen >= sizeof e->msg)
		mlen = sizeof e->msg - 1 - plen - 2;
	memmove(e->msg + plen + 2, e->msg, mlen);
	memcpy(e->msg, prefix, plen);
	e->msg[plen] = ':';
	e->msg[plen + 1] = ' ';
	e->msg[plen + 2 + mlen] = '\0';
	return e->code ? e->code : STM32DFU_E_INTERNAL;
}

void err_hint(struct err *e, const char *fmt, ...)
{
	if (!e)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->hint, sizeof e->hint, fmt, ap);
	va_end(ap);
}
