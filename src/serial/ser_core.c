/* The serial transport's shared parts (serial.h): allocation, the optional calls, opening by name. */
#include "serial/serial.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "serial/ser_int.h"

struct ser *ser_alloc(const struct ser_ops *ops, void *impl, const char *name)
{
	struct ser *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->ops = ops;
	s->impl = impl;
	s->clock = clock_real();
	s->cfg = ser_config_8e1(SER_BAUD_DEFAULT);
	snprintf(s->name, sizeof s->name, "%s", name ? name : "");
	err_clear(&s->err);
	return s;
}

void ser_free(struct ser *s)
{
	free(s);
}

int ser_set_lines(struct ser *s, int dtr, int rts)
{
	if (!s->ops->set_lines)
		return err_set(&s->err, STM32DFU_E_UNSUPPORTED, "%s: the %s port has no DTR/RTS lines", s->name,
		               s->ops->name);
	return s->ops->set_lines(s, dtr, rts);
}

void ser_close(struct ser *s)
{
	if (s)
		s->ops->close(s);
}

bool ser_is_pty(const char *path)
{
	return path && strncmp(path, "/dev/pts/", 9) == 0;
}

int ser_open(const char *name, unsigned baud, struct ser **out, struct err *e)
{
	*out = NULL;
	if (!name || !*name)
		return err_set(e, STM32DFU_E_USAGE, "no serial port named");
	if (baud == 0)
		baud = SER_BAUD_DEFAULT;
	if (ser_is_pty(name))
		return ser_tty_open(name, baud, out, e);
	int r = ser_sp_open(name, baud, out, e);
	/* without libserialport (a build without it), a path still opens through termios */
	if (r == STM32DFU_E_UNSUPPORTED && name[0] == '/')
		return ser_tty_open(name, baud, out, e);
	return r;
}

int ser_open_errno(struct err *e, const char *name, int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		err_set(e, STM32DFU_E_NO_DEVICE, "serial port %s: no such port", name);
		err_hint(e, "the ports this machine has: {@list-ports}");
		return STM32DFU_E_NO_DEVICE;
	case EACCES:
	case EPERM:
		err_set(e, STM32DFU_E_ACCESS, "serial port %s: permission denied", name);
		err_hint(e, "add yourself to the group that owns the port (Debian: sudo adduser $USER dialout), "
		            "then log in again");
		return STM32DFU_E_ACCESS;
	case EBUSY:
		err_set(e, STM32DFU_E_USB_IO, "serial port %s: busy (another program holds it)", name);
#ifdef _WIN32
		err_hint(e, "close the other program (a terminal such as PuTTY, STM32CubeProgrammer, another stm32dfu) and "
		            "try again");
#else
		err_hint(e, "close the other program (a terminal, ModemManager, another stm32dfu) and try again");
#endif
		return STM32DFU_E_USB_IO;
	default:
		return err_set(e, STM32DFU_E_USB_IO, "serial port %s: %s", name, strerror(errnum));
	}
}
