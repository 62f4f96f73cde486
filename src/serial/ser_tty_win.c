/* Windows has no termios and no pseudo-terminals: its COM ports open through libserialport
 * (ser_sp.c, built from Debian's source by scripts/windows-deps.sh) only. This stands in for
 * ser_tty.c there, for the paths ser_open would give termios. */
#include "serial/ser_int.h"

int ser_tty_open(const char *path, unsigned baud, struct ser **out, struct err *e)
{
	(void)baud;
	*out = NULL;
	return err_set(e, STM32DFU_E_UNSUPPORTED, "%s: on Windows a serial port is a COM port ({@port-eg COM3})", path);
}
