#include "core/err.h"

#include <stdio.h>
#include <stdbool.h>
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

/* token, the command line's words, the C API's words */
static const struct {
	const char *token, *cli, *lib;
} words[] = {
	{"force", "--force", "the force option"},
	{"confirm-reads", "--confirm-reads", "the confirm_reads option"},
	{"vdd", "--vdd", "the vdd option"},
	{"alt", "--alt", "the alt option"},
	{"leave", "--leave", "the leave option"},
	{"no-verify", "--no-verify", "the no_verify option"},
	{"hse", "--hse", "the hse option"},
	{"sel-serial", "-S SERIAL", "match.serial"},
	{"sel-path", "-p PATH", "match.path"},
	{"sel-uid", "-S <UID>", "match.serial (the UID)"},
	{"otp-permanent", "--i-understand-otp-is-permanent", "the otp_permanent option"},
	{"info", "'stm32dfu info'", "stm32dfu_info()"},
	{"list", "'stm32dfu list'", "stm32dfu_list()"},
	{"ob-show", "'stm32dfu ob show'", "stm32dfu_ob_read()"},
	{"doctor", "'stm32dfu doctor'", "stm32dfu_doctor()"},
	{"recover", "'stm32dfu recover'", "stm32dfu_recover()"},
	{"confirm-rdp2", "--i-understand-rdp2-is-permanent", "STM32DFU_CONFIRM_RDP2"},
	{"confirm-rdp1", "--i-understand-rdp1-needs-mass-erase", "STM32DFU_CONFIRM_RDP1"},
	{"confirm-wrp-boot", "--i-understand-boot-sector-write-protect", "STM32DFU_CONFIRM_WRP_BOOT"},
	{"confirm-no-bootloader", "--i-understand-bootloader-unreachable", "STM32DFU_CONFIRM_NO_BOOTLOADER"},
	{"confirm-rdp0", "--i-understand-rdp0-erases-flash", "STM32DFU_CONFIRM_RDP0"},
};

void err_words(const char *in, int cli, char *out, size_t cap)
{
	size_t k = 0;
	if (!cap)
		return;
	while (*in && k + 1 < cap) {
		const char *rep = NULL;
		size_t skip = 0;
		if (in[0] == '{' && in[1] == '@') {
			const char *end = strchr(in + 2, '}');
			for (size_t i = 0; end && i < sizeof words / sizeof words[0]; i++)
				if (strlen(words[i].token) == (size_t)(end - in - 2) &&
				    memcmp(words[i].token, in + 2, (size_t)(end - in - 2)) == 0) {
					rep = cli ? words[i].cli : words[i].lib;
					skip = (size_t)(end - in) + 1;
				}
		}
		if (!rep) {
			out[k++] = *in++;
			continue;
		}
		for (; *rep && k + 1 < cap; rep++)
			out[k++] = *rep;
		in += skip;
	}
	out[k] = '\0';
}

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->msg[0] = e->lib_msg[0] = '\0';
	e->hint[0] = e->lib_hint[0] = '\0';
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	if (!e)
		return code;
	e->code = code;
	e->hint[0] = e->lib_hint[0] = '\0';
	char raw[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	err_words(raw, 1, e->msg, sizeof e->msg);
	err_words(raw, 0, e->lib_msg, sizeof e->lib_msg);
	return code;
}

/* Puts prefix and ": " before the text in buf (cap bytes), unless the text already starts so. */
static void join_prefix(char *buf, size_t cap, const char *prefix)
{
	size_t plen = strnlen(prefix, cap - 1);
	size_t mlen = strnlen(buf, cap - 1);
	/* two layers naming the same step say it once ("leave: leave: ..." reads as a stutter) */
	if (plen && mlen > plen + 1 && memcmp(buf, prefix, plen) == 0 && buf[plen] == ':' && buf[plen + 1] == ' ')
		return;
	if (plen + 2 >= cap)
		plen = cap - 3;
	if (plen + 2 + mlen >= cap)
		mlen = cap - 1 - plen - 2;
	memmove(buf + plen + 2, buf, mlen);
	memcpy(buf, prefix, plen);
	buf[plen] = ':';
	buf[plen + 1] = ' ';
	buf[plen + 2 + mlen] = '\0';
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	if (!e)
		return STM32DFU_E_INTERNAL;
	char raw[ERR_MSG_MAX], prefix[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	/* a text written into msg directly has no library rendering: the boundary then gives msg */
	bool lib_stale = !e->lib_msg[0] && e->msg[0];
	err_words(raw, 1, prefix, sizeof prefix);
	join_prefix(e->msg, sizeof e->msg, prefix);
	if (lib_stale)
		return e->code ? e->code : STM32DFU_E_INTERNAL;
	err_words(raw, 0, prefix, sizeof prefix);
	join_prefix(e->lib_msg, sizeof e->lib_msg, prefix);
	return e->code ? e->code : STM32DFU_E_INTERNAL;
}

void err_hint(struct err *e, const char *fmt, ...)
{
	if (!e)
		return;
	char raw[ERR_HINT_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	err_words(raw, 1, e->hint, sizeof e->hint);
	err_words(raw, 0, e->lib_hint, sizeof e->lib_hint);
}
