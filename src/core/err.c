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

/*
 * token, the command line's words, the C API's words. A token may carry arguments after a space,
 * "{@read 0x1FFF7800 528}": %1..%9 put one in, %* all of them as given, %, all of them joined by
 * ", " (an argument list in the C API's words).
 */
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
	{"address", "-a ADDR", "the address option"},
	{"retries", "--retries N", "the retries option"},
	{"recovery-dir", "--recovery-dir DIR", "the recovery_dir option"},
	{"trace", "--trace", "the trace option"},
	{"sim", "--sim", "match.sim"},
	{"baud", "--baud %1", "the baud option set to %1"},
	{"sel", "-S", "match.serial"},
	{"port", "--port", "the port option"},
	{"port-eg", "--port %*", "the port option (\"%*\")"},
	{"reset-seq", "--reset-seq", "the reset_seq option"},
	{"reset-seq-eg", "--reset-seq %*", "the reset_seq option %*"},
	{"leave-reset", "leave --reset", "stm32dfu_leave_reset()"},
	{"leave-go", "'leave'", "stm32dfu_leave()"},
	{"sim-uart", "--sim=PROFILE,link=uart", "match.sim with link=uart"},
	{"xfer", "-t", "the transfer_size option"},
	{"poll-spec", "--poll spec", "STM32DFU_POLL_SPEC"},
	{"or-format", ", or say how to read it with --format (--format %1 reads it as its name says)", ""},
	{"list-ports", "'stm32dfu list --ports'", "the system's own list (Device Manager, /dev/serial/by-id)"},
	{"erase-all", "erase --all", "stm32dfu_erase_all()"},
	{"sel-serial", "-S SERIAL", "match.serial"},
	{"sel-path", "-p PATH", "match.path"},
	{"sel-uid", "-S <UID>", "match.serial (the UID)"},
	{"otp-permanent", "--i-understand-otp-is-permanent", "the otp_permanent option"},
	{"info", "'stm32dfu info'", "stm32dfu_info()"},
	{"info-port", "'stm32dfu info --port %*'", "stm32dfu_info() on port %*"},
	{"list", "'stm32dfu list'", "stm32dfu_list()"},
	{"list-ports-probe", "'stm32dfu list --ports --probe'", "stm32dfu_open_port() on each serial port"},
	{"ob-show", "'stm32dfu ob show'", "stm32dfu_ob_read()"},
	{"ob-set", "'stm32dfu ob set %*'", "stm32dfu_ob_set(%,)"},
	{"read", "'stm32dfu read %1 %2'", "stm32dfu_read() of %2 bytes at %1"},
	{"erase-sectors", "'stm32dfu erase --sectors %*'", "stm32dfu_erase_sectors() of sectors %*"},
	{"unprotect", "'stm32dfu unprotect --yes'", "stm32dfu_unprotect()"},
	{"leave-at", "'stm32dfu leave ADDR'", "stm32dfu_leave()"},
	{"doctor", "'stm32dfu doctor'", "stm32dfu_doctor()"},
	{"doctor-baud", "'stm32dfu doctor --baud N'", "stm32dfu_doctor() on a session opened at each baud"},
	{"doctor-hse", "'stm32dfu doctor --hse FREQ'", "stm32dfu_doctor() with the hse option"},
	{"recover", "'stm32dfu recover'", "stm32dfu_recover()"},
	{"confirm-rdp2", "--i-understand-rdp2-is-permanent", "STM32DFU_CONFIRM_RDP2"},
	{"confirm-rdp1", "--i-understand-rdp1-needs-mass-erase", "STM32DFU_CONFIRM_RDP1"},
	{"confirm-wrp-boot", "--i-understand-boot-sector-write-protect", "STM32DFU_CONFIRM_WRP_BOOT"},
	{"confirm-no-bootloader", "--i-understand-bootloader-unreachable", "STM32DFU_CONFIRM_NO_BOOTLOADER"},
	{"confirm-rdp0", "--i-understand-rdp0-erases-flash", "STM32DFU_CONFIRM_RDP0"},
};

/* Appends c to out (k its length), keeping room for the terminator. */
static void put(char *out, size_t cap, size_t *k, char c)
{
	if (*k + 1 < cap)
		out[(*k)++] = c;
}

/* Writes template tpl into out, its placeholders filled from args[0, alen) (space-separated). */
static void fill(const char *tpl, const char *args, size_t alen, char *out, size_t cap, size_t *k)
{
	for (; *tpl; tpl++) {
		if (tpl[0] != '%' || !tpl[1]) {
			put(out, cap, k, *tpl);
			continue;
		}
		char p = *++tpl;
		if (alen == 0 && *k > 0 && out[*k - 1] == ' ' && (p == '*' || p == ','))
			(*k)--; /* "'stm32dfu ob set %*'" with no argument: "'stm32dfu ob set'" */
		if (p == '*' || p == ',') {
			for (size_t i = 0; i < alen; i++) {
				if (args[i] == ' ' && p == ',')
					put(out, cap, k, ',');
				put(out, cap, k, args[i]);
			}
		} else if (p >= '1' && p <= '9') {
			/* the (p-'0')th space-separated argument */
			size_t i = 0;
			for (int n = p - '1'; n > 0 && i < alen; i++)
				if (args[i] == ' ')
					n--;
			for (; i < alen && args[i] != ' '; i++)
				put(out, cap, k, args[i]);
		} else {
			put(out, cap, k, '%');
			put(out, cap, k, p);
		}
	}
}

void err_words(const char *in, int cli, char *out, size_t cap)
{
	size_t k = 0;
	if (!cap)
		return;
	while (*in && k + 1 < cap) {
		if (in[0] == '{' && in[1] == '@') {
			const char *end = strchr(in + 2, '}');
			size_t nlen = end ? strcspn(in + 2, " }") : 0;
			const char *args = in + 2 + nlen + (in[2 + nlen] == ' ');
			size_t alen = end && args < end ? (size_t)(end - args) : 0;
			size_t i = 0;
			for (; end && i < sizeof words / sizeof words[0]; i++)
				if (strlen(words[i].token) == nlen && memcmp(words[i].token, in + 2, nlen) == 0)
					break;
			if (end && i < sizeof words / sizeof words[0]) {
				fill(cli ? words[i].cli : words[i].lib, args, alen, out, cap, &k);
				in = end + 1;
				continue;
			}
		}
		out[k++] = *in++;
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
