/*
 * The termios door: a pseudo-terminal (stm32dfu-sim --uart), which libserialport does not open,
 * and any path in a build without libserialport. 8E1 with INPCK|IGNPAR, so a byte that arrives
 * with a parity error is dropped, never passed on as data.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "serial/ser_int.h"

struct tty {
	int fd;
};

static speed_t speed_of(unsigned baud)
{
	static const struct {
		unsigned baud;
		speed_t sp;
	} t[] = {
		{1200, B1200},     {2400, B2400},     {4800, B4800},     {9600, B9600},
		{19200, B19200},   {38400, B38400},   {57600, B57600},   {115200, B115200},
		{230400, B230400}, {460800, B460800}, {500000, B500000}, {576000, B576000},
		{921600, B921600}, {1000000, B1000000}, {1152000, B1152000}, {1500000, B1500000},
		{2000000, B2000000}, {3000000, B3000000},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i].baud == baud)
			return t[i].sp;
	return 0;
}

static int tty_configure(struct ser *s, const struct ser_config *c)
{
	struct tty *t = s->impl;
	struct termios tio;
	speed_t sp = speed_of(c->baud);
	if (!sp)
		return err_set(&s->err, STM32DFU_E_USAGE, "%s: %u baud is not a rate this port offers", s->name, c->baud);
	if (tcgetattr(t->fd, &tio) < 0)
		return err_set(&s->err, STM32DFU_E_USB_IO, "%s: tcgetattr: %s", s->name, strerror(errno));
	cfmakeraw(&tio);
	tio.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
	tio.c_cflag |= CS8 | CLOCAL | CREAD;
	if (c->stop_bits == 2)
		tio.c_cflag |= CSTOPB;
	tio.c_iflag &= ~(tcflag_t)(INPCK | IGNPAR | PARMRK | IXON | IXOFF);
	if (c->parity != SER_PARITY_NONE) {
		/* a pseudo-terminal holds no parity (Linux pty_set_termios clears PARENB, and glibc's
		 * tcsetattr then says EINVAL): there the emulator takes the bytes as 8E1 */
		if (!ser_is_pty(s->name))
			tio.c_cflag |= PARENB | (c->parity == SER_PARITY_ODD ? PARODD : 0);
		tio.c_iflag |= INPCK | IGNPAR;
	}
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	cfsetispeed(&tio, sp);
	cfsetospeed(&tio, sp);
	if (tcsetattr(t->fd, TCSANOW, &tio) < 0)
		return err_set(&s->err, STM32DFU_E_USB_IO, "%s: tcsetattr: %s", s->name, strerror(errno));
	return 0;
}

static int tty_wait(struct ser *s, short ev, uint64_t deadline)
{
	struct tty *t = s->impl;
	for (;;) {
		uint64_t now = clock_now_us(s->clock);
		int ms = now >= deadline ? 0 : (int)((deadline - now + 999) / 1000);
		struct pollfd p = {t->fd, ev, 0};
		int r = poll(&p, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set(&s->err, STM32DFU_E_USB_IO, "%s: poll: %s", s->name, strerror(errno));
		if (r == 0)
			return 0;
		if (p.revents & (POLLERR | POLLNVAL))
			return err_set(&s->err, STM32DFU_E_DISCONNECTED, "%s: the port went away", s->name);
		return 1; /* readable/writable, or hung up: read/write tells */
	}
}

static int tty_write(struct ser *s, const uint8_t *buf, size_t n, unsigned timeout_ms)
{
	struct tty *t = s->impl;
	uint64_t deadline = clock_now_us(s->clock) + (uint64_t)timeout_ms * 1000u;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(t->fd, buf + done, n - done);
		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return err_set(&s->err, errno == EIO ? STM32DFU_E_DISCONNECTED : STM32DFU_E_USB_IO, "%s: write: %s",
			               s->name, strerror(errno));
		int r = tty_wait(s, POLLOUT, deadline);
		if (r < 0)
			return r;
		if (r == 0)
			return err_set(&s->err, STM32DFU_E_TIMEOUT, "%s: write: %zu of %zu bytes taken in %u ms", s->name,
			               done, n, timeout_ms);
	}
	return (int)n;
}

static int tty_read(struct ser *s, uint8_t *buf, size_t n, unsigned timeout_ms)
{
	struct tty *t = s->impl;
	uint64_t deadline = clock_now_us(s->clock) + (uint64_t)timeout_ms * 1000u;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(t->fd, buf + got, n - got);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return err_set(&s->err, errno == EIO ? STM32DFU_E_DISCONNECTED : STM32DFU_E_USB_IO, "%s: read: %s",
			               s->name, strerror(errno));
		int w = tty_wait(s, POLLIN, deadline);
		if (w < 0)
			return w;
		if (w == 0)
			break;
	}
	return (int)got;
}

static int tty_flush(struct ser *s)
{
	struct tty *t = s->impl;
	return tcflush(t->fd, TCIFLUSH) < 0 ? err_set(&s->err, STM32DFU_E_USB_IO, "%s: tcflush: %s", s->name,
	                                              strerror(errno))
	                                    : 0;
}

static int tty_lines(struct ser *s, int dtr, int rts)
{
	struct tty *t = s->impl;
	int bits;
	if (ioctl(t->fd, TIOCMGET, &bits) < 0)
		return err_set(&s->err, STM32DFU_E_UNSUPPORTED, "%s: no modem lines (%s)", s->name, strerror(errno));
	if (dtr >= 0)
		bits = dtr ? bits | TIOCM_DTR : bits & ~TIOCM_DTR;
	if (rts >= 0)
		bits = rts ? bits | TIOCM_RTS : bits & ~TIOCM_RTS;
	if (ioctl(t->fd, TIOCMSET, &bits) < 0)
		return err_set(&s->err, STM32DFU_E_USB_IO, "%s: TIOCMSET: %s", s->name, strerror(errno));
	return 0;
}

static void tty_close(struct ser *s)
{
	struct tty *t = s->impl;
	if (t->fd >= 0) {
		ioctl(t->fd, TIOCNXCL);
		close(t->fd);
	}
	free(t);
	ser_free(s);
}

static const struct ser_ops tty_ops = {
	"tty", tty_configure, tty_write, tty_read, tty_flush, tty_lines, tty_close,
};

int ser_tty_open(const char *path, unsigned baud, struct ser **out, struct err *e)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return ser_open_errno(e, path, errno);
	/* TIOCEXCL turns away other openers (but not root); the lock turns away another stm32dfu or
	 * any program that locks as we do, root or not */
	if ((ioctl(fd, TIOCEXCL) < 0 && errno != ENOTTY) || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int en = errno == EWOULDBLOCK ? EBUSY : errno;
		close(fd);
		return ser_open_errno(e, path, en);
	}
	struct tty *t = malloc(sizeof *t);
	struct ser *s = t ? ser_alloc(&tty_ops, t, path) : NULL;
	if (!s) {
		free(t);
		close(fd);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	t->fd = fd;
	struct ser_config c = ser_config_8e1(baud);
	int r = ser_configure(s, &c);
	if (r < 0) {
		if (e)
			*e = s->err;
		tty_close(s);
		return r;
	}
	*out = s;
	return 0;
}
