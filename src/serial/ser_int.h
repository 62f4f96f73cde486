/* Internals of serial/: the doors ser_open chooses between. */
#ifndef SERIAL_SER_INT_H
#define SERIAL_SER_INT_H

#include <stdio.h>

#include "serial/serial.h"

/* termios (ser_tty.c): pseudo-terminals, and any path when libserialport is absent. */
int ser_tty_open(const char *path, unsigned baud, struct ser **out, struct err *e);
/* libserialport (ser_sp.c); STM32DFU_E_UNSUPPORTED in a build without it. */
int ser_sp_open(const char *name, unsigned baud, struct ser **out, struct err *e);
/* Maps an errno from opening a port to our error, with the hint a person can act on. */
int ser_open_errno(struct err *e, const char *name, int errnum);

#endif
