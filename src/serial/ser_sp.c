/*
 * Real serial ports through libserialport: enumeration with the USB adapter's identity, 8E1,
 * blocking reads and writes with timeouts, DTR/RTS. Parity errors: libserialport has no switch
 * for INPCK, so on POSIX the port's termios gets INPCK|IGNPAR through its handle (a byte with a
 * parity error is dropped, never delivered as data).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "serial/ser_int.h"

#ifdef HAVE_LIBSERIALPORT
#include <libserialport.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>
#endif

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

int ser_list(struct ser_port_info *out, size_t cap, size_t *total, struct err *e)
{
	struct sp_port **ports = NULL;
	*total = 0;
	if (sp_list_ports(&ports) != SP_OK)
		return err_set(e, STM32DFU_E_USB_IO, "listing serial ports: %s", sp_last_error_message());
	size_t n = 0;
	for (; ports[n]; n++) {
		if (n >= cap)
			continue;
		struct ser_port_info *o = &out[n];
		memset(o, 0, sizeof *o);
		copy(o->name, sizeof o->name, sp_get_port_name(ports[n]));
		copy(o->description, sizeof o->description, sp_get_port_description(ports[n]));
		if (sp_get_port_transport(ports[n]) == SP_TRANSPORT_USB) {
			int vid = 0, pid = 0, bus = 0, addr = 0;
			o->usb = true;
			if (sp_get_port_usb_vid_pid(ports[n], &vid, &pid) == SP_OK) {
				o->vid = (uint16_t)vid;
				o->pid = (uint16_t)pid;
			}
			if (sp_get_port_usb_bus_address(ports[n], &bus, &addr) == SP_OK)
				snprintf(o->usb_path, sizeof o->usb_path, "%d-%d", bus, addr);
			copy(o->manufacturer, sizeof o->manufacturer, sp_get_port_usb_manufacturer(ports[n]));
			copy(o->product, sizeof o->product, sp_get_port_usb_product(ports[n]));
			copy(o->serial, sizeof o->serial, sp_get_port_usb_serial(ports[n]));
		}
	}
	*total = n;
	sp_free_port_list(ports);
	return 0;
}

struct sp {
	struct sp_port *port;
};

/* libserialport's last error as an errno: on Windows it is GetLastError(), whose codes are not
 * errno's (ERROR_ACCESS_DENIED is 5, EIO) */
static int last_errno(void)
{
	int code = sp_last_error_code();
#ifdef _WIN32
	switch (code) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_NAME: return ENOENT;
	/* a COM port opens exclusively (CreateFile without sharing): held by another program */
	case ERROR_ACCESS_DENIED:
	case ERROR_SHARING_VIOLATION:
	case ERROR_BUSY: return EBUSY;
	case ERROR_DEVICE_NOT_CONNECTED:
	case ERROR_DEV_NOT_EXIST:
	case ERROR_GEN_FAILURE:
	case ERROR_OPERATION_ABORTED: return ENODEV;
	case 0: return 0;
	default: return EIO;
	}
#else
	return code;
#endif
}

static int sp_fail(struct ser *s, const char *what)
{
	int en = last_errno();
	char *m = sp_last_error_message();
	int r = err_set(&s->err, en == EIO || en == ENXIO || en == ENODEV ? STM32DFU_E_DISCONNECTED : STM32DFU_E_USB_IO,
	                "%s: %s: %s", s->name, what, m ? m : "failed");
	sp_free_error_message(m);
	return r;
}

static int sp_configure(struct ser *s, const struct ser_config *c)
{
	struct sp *p = s->impl;
	enum sp_parity par = c->parity == SER_PARITY_EVEN ? SP_PARITY_EVEN
	                     : c->parity == SER_PARITY_ODD ? SP_PARITY_ODD
	                                                   : SP_PARITY_NONE;
	if (sp_set_baudrate(p->port, (int)c->baud) != SP_OK)
		return sp_fail(s, "setting the baud rate");
	if (sp_set_bits(p->port, c->data_bits) != SP_OK || sp_set_parity(p->port, par) != SP_OK ||
	    sp_set_stopbits(p->port, c->stop_bits) != SP_OK ||
	    sp_set_flowcontrol(p->port, SP_FLOWCONTROL_NONE) != SP_OK)
		return sp_fail(s, "setting 8E1");
#ifndef _WIN32
	int fd = -1;
	if (sp_get_port_handle(p->port, &fd) == SP_OK && fd >= 0) {
		struct termios t;
		if (tcgetattr(fd, &t) == 0) {
			t.c_iflag &= ~(tcflag_t)(INPCK | IGNPAR | PARMRK);
			if (par != SP_PARITY_NONE)
				t.c_iflag |= INPCK | IGNPAR;
			(void)tcsetattr(fd, TCSANOW, &t);
		}
	}
#endif
	/* Windows: a byte with a parity error is delivered as received (the DCB cannot drop it, and
	 * libserialport's read clears the error flags): docs/platforms.md says so */
	return 0;
}

static int sp_write_(struct ser *s, const uint8_t *buf, size_t n, unsigned timeout_ms)
{
	struct sp *p = s->impl;
	enum sp_return r = sp_blocking_write(p->port, buf, n, timeout_ms);
	if (r < 0)
		return sp_fail(s, "write");
	if ((size_t)r < n)
		return err_set(&s->err, STM32DFU_E_TIMEOUT, "%s: write: %d of %zu bytes taken in %u ms", s->name, (int)r, n,
		               timeout_ms);
	return (int)n;
}

#ifdef _WIN32
/*
 * Windows: libserialport reads with an overlapped ReadFile under COMMTIMEOUTS, which on Windows
 * completes a read that runs out of time successfully with the bytes that came. wine (8.0,
 * Debian 12) completes it as failed instead, ERROR_TIMEOUT (1460), and the count of bytes that did
 * come is lost with it; stm32dfu then took an unanswered 0x7F for a broken port and never sent
 * the second 0x7F of the re-sync, leaving the ROM holding the first as a command byte (successive
 * sessions on one COM port failed and succeeded in turn: docs/platforms.md). So: what has arrived
 * is taken without waiting (the input queue's count, then a read of exactly that), and the wait
 * for more asks for one byte, which either comes or does not: nothing is lost either way, and
 * ERROR_TIMEOUT then means the time ran out.
 */
static int sp_read_(struct ser *s, uint8_t *buf, size_t n, unsigned timeout_ms)
{
	struct sp *p = s->impl;
	ULONGLONG deadline = GetTickCount64() + timeout_ms;
	size_t got = 0;
	while (got < n) {
		enum sp_return r = sp_input_waiting(p->port);
		if (r < 0)
			return sp_fail(s, "read");
		if (r > 0) {
			r = sp_nonblocking_read(p->port, buf + got, (size_t)r < n - got ? (size_t)r : n - got);
			if (r < 0)
				return sp_fail(s, "read");
			got += (size_t)r;
			continue;
		}
		ULONGLONG now = GetTickCount64();
		if (now >= deadline)
			break;
		/* timeout 0 means "forever" to libserialport: never ask that */
		r = sp_blocking_read(p->port, buf + got, 1, (unsigned)(deadline - now));
		if (r < 0 && sp_last_error_code() == ERROR_TIMEOUT)
			break;
		if (r < 0)
			return sp_fail(s, "read");
		if (r == 0)
			break;
		got++;
	}
	return (int)got;
}
#else
static int sp_read_(struct ser *s, uint8_t *buf, size_t n, unsigned timeout_ms)
{
	struct sp *p = s->impl;
	/* timeout 0 means "forever" to libserialport: never ask that */
	enum sp_return r = sp_blocking_read(p->port, buf, n, timeout_ms ? timeout_ms : 1);
	if (r < 0)
		return sp_fail(s, "read");
	return (int)r;
}
#endif

static int sp_flush_(struct ser *s)
{
	struct sp *p = s->impl;
	return sp_flush(p->port, SP_BUF_INPUT) == SP_OK ? 0 : sp_fail(s, "flush");
}

static int sp_lines(struct ser *s, int dtr, int rts)
{
	struct sp *p = s->impl;
	if (dtr >= 0 && sp_set_dtr(p->port, dtr ? SP_DTR_ON : SP_DTR_OFF) != SP_OK)
		return sp_fail(s, "DTR");
	if (rts >= 0 && sp_set_rts(p->port, rts ? SP_RTS_ON : SP_RTS_OFF) != SP_OK)
		return sp_fail(s, "RTS");
	return 0;
}

static void sp_close_(struct ser *s)
{
	struct sp *p = s->impl;
	if (p->port) {
		sp_close(p->port);
		sp_free_port(p->port);
	}
	free(p);
	ser_free(s);
}

static const struct ser_ops sp_ops = {
	"serialport", sp_configure, sp_write_, sp_read_, sp_flush_, sp_lines, sp_close_,
};

int ser_sp_open(const char *name, unsigned baud, struct ser **out, struct err *e)
{
	struct sp_port *port = NULL;
	if (sp_get_port_by_name(name, &port) != SP_OK)
		return ser_open_errno(e, name, ENOENT);
	if (sp_open(port, SP_MODE_READ_WRITE) != SP_OK) {
		int en = last_errno();
		sp_free_port(port);
		return ser_open_errno(e, name, en ? en : EIO);
	}
#ifndef _WIN32
	/* Windows needs no lock: CreateFile without sharing already turns a second opener away */
	int fd = -1;
	if (sp_get_port_handle(port, &fd) == SP_OK && fd >= 0 &&
	    ((ioctl(fd, TIOCEXCL) < 0 && errno != ENOTTY) || flock(fd, LOCK_EX | LOCK_NB) < 0)) {
		int en = errno == EWOULDBLOCK ? EBUSY : errno;
		sp_close(port);
		sp_free_port(port);
		return ser_open_errno(e, name, en);
	}
#endif
	struct sp *p = malloc(sizeof *p);
	struct ser *s = p ? ser_alloc(&sp_ops, p, name) : NULL;
	if (!s) {
		free(p);
		sp_close(port);
		sp_free_port(port);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	p->port = port;
	struct ser_config c = ser_config_8e1(baud);
	int r = ser_configure(s, &c);
	if (r < 0) {
		if (e)
			*e = s->err;
		sp_close_(s);
		return r;
	}
	*out = s;
	return 0;
}

#else /* no libserialport */

int ser_list(struct ser_port_info *out, size_t cap, size_t *total, struct err *e)
{
	(void)out;
	(void)cap;
	*total = 0;
	return err_set(e, STM32DFU_E_UNSUPPORTED, "this build has no libserialport: serial ports cannot be listed");
}

int ser_sp_open(const char *name, unsigned baud, struct ser **out, struct err *e)
{
	(void)name;
	(void)baud;
	*out = NULL;
	return err_set(e, STM32DFU_E_UNSUPPORTED, "this build has no libserialport");
}

#endif
