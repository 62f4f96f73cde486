/* stm32dfu-sim --uart: the pseudo-terminal server (pty.h). */
#define _GNU_SOURCE
#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "core/clock.h"
#include "sim/sim_uart.h"

#define PTY_MAX 32

int simtool_pty_open(struct simtool_pty *p, struct sim_uart *u, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	p->u = u;
	p->master = p->slave = -1;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, p->path, sizeof p->path) != 0) {
		snprintf(err, errlen, "pseudo-terminal: %s", strerror(errno));
		if (m >= 0)
			close(m);
		return -1;
	}
	int s = open(p->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0) {
		snprintf(err, errlen, "%s: %s", p->path, strerror(errno));
		close(m);
		return -1;
	}
	struct termios t;
	if (tcgetattr(s, &t) == 0) {
		cfmakeraw(&t);
		t.c_cflag |= PARENB | CLOCAL | CREAD;
		cfsetispeed(&t, B115200);
		cfsetospeed(&t, B115200);
		tcsetattr(s, TCSANOW, &t);
	}
	p->master = m;
	p->slave = s;
	return 0;
}

void simtool_pty_close(struct simtool_pty *p)
{
	if (p->master >= 0)
		close(p->master);
	if (p->slave >= 0)
		close(p->slave);
	p->master = p->slave = -1;
}

static unsigned baud_of(speed_t s)
{
	static const struct {
		speed_t sp;
		unsigned baud;
	} t[] = {
		{B1200, 1200},     {B2400, 2400},     {B4800, 4800},       {B9600, 9600},
		{B19200, 19200},   {B38400, 38400},   {B57600, 57600},     {B115200, 115200},
		{B230400, 230400}, {B460800, 460800}, {B500000, 500000},   {B576000, 576000},
		{B921600, 921600}, {B1000000, 1000000}, {B1152000, 1152000}, {B1500000, 1500000},
		{B2000000, 2000000}, {B3000000, 3000000},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i].sp == s)
			return t[i].baud;
	return 0;
}

/* The program's settings of its side: Linux answers TCGETS on the master with the slave's termios
 * (tty_mode_ioctl uses the linked tty), so the rate and INPCK are what the program set. Parity is
 * not: the pty driver clears PARENB on every tcsetattr (pty_set_termios forces CS8, no parity), so
 * a terminal cannot say it is at 8E1. The host is taken to be at 8E1; wrong framing is modelled in
 * process only (serial/ser_sim.c), and parity-checked hosts by their INPCK flag. */
static void sync_line(struct simtool_pty *p)
{
	struct termios t;
	if (tcgetattr(p->master, &t) != 0)
		return;
	sim_uart_set_host_line(p->u, baud_of(cfgetospeed(&t)), 'E', (t.c_iflag & INPCK) && (t.c_iflag & IGNPAR));
}

struct simtool_ptyserver {
	struct simtool_pty *p;
	int n;
	int wake[2];
	atomic_int stop;
	pthread_t th;
};

/*
 * The program at the other end keeps real-time deadlines meant for a ROM that answers in
 * microseconds (stm32flash 0.7: VTIME 0.5 s for every byte awaited, and its "1 s" block-write
 * timeout counted in whole seconds of time(), so as short as 0.5 s). A thread of normal priority
 * on a loaded machine, or under `nice` as test suites run, can wait longer than that for a CPU:
 * stm32flash -w then fails "Failed to read ACK byte" although the model answered in time. This
 * thread sleeps in poll() between bytes, so it asks for the lowest real-time round-robin priority
 * where the system allows it, else for a lower nice value; if neither is allowed it runs as it is.
 */
static void serve_priority(void)
{
	struct sched_param sp = {.sched_priority = sched_get_priority_min(SCHED_RR)};
	if (pthread_setschedparam(pthread_self(), SCHED_RR, &sp) == 0)
		return;
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), -10);
}

static void *serve(void *arg)
{
	struct simtool_ptyserver *s = arg;
	serve_priority();
	const struct clock *c = clock_real();
	struct pollfd fds[PTY_MAX + 1];
	while (!s->stop) {
		uint64_t now = clock_now_us(c), next = now + 200000;
		for (int i = 0; i < s->n; i++) {
			struct simtool_pty *p = &s->p[i];
			uint8_t b;
			uint64_t at;
			/* what is complete on the wire goes out, in one write; the rest decides how long
			 * to sleep */
			uint8_t out[512];
			size_t nout = 0;
			while (nout < sizeof out && sim_uart_tx_peek_at(p->u, nout, &b, &at) && at <= now)
				out[nout++] = b;
			ssize_t w = nout ? write(p->master, out, nout) : 0;
			for (ssize_t k = 0; k < w; k++) /* a full terminal buffer takes the rest next round */
				sim_uart_tx_pop(p->u);
			if (sim_uart_tx_peek(p->u, &b, &at) && at < next)
				next = at > now ? at : now + 1000;
			fds[i] = (struct pollfd){p->master, POLLIN, 0};
		}
		fds[s->n] = (struct pollfd){s->wake[0], POLLIN, 0};
		int ms = (int)((next - now + 999) / 1000);
		if (poll(fds, (nfds_t)s->n + 1, ms) < 0 && errno != EINTR)
			break;
		now = clock_now_us(c);
		for (int i = 0; i < s->n; i++) {
			if (!(fds[i].revents & POLLIN))
				continue;
			struct simtool_pty *p = &s->p[i];
			uint8_t buf[512];
			ssize_t r = read(p->master, buf, sizeof buf);
			if (r <= 0)
				continue;
			sync_line(p);
			for (ssize_t k = 0; k < r; k++) {
				if (now >= p->rx_free_us)
					p->rx_ahead = 0;
				uint64_t t = (p->rx_free_us > now ? p->rx_free_us : now) + sim_uart_byte_next(p->u, &p->rx_ahead);
				p->rx_free_us = t;
				sim_uart_rx(p->u, buf[k], t);
			}
		}
	}
	return NULL;
}

struct simtool_ptyserver *simtool_pty_serve(struct simtool_pty *p, int n)
{
	if (n > PTY_MAX)
		return NULL;
	struct simtool_ptyserver *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->p = p;
	s->n = n;
	if (pipe2(s->wake, O_CLOEXEC) < 0) {
		free(s);
		return NULL;
	}
	if (pthread_create(&s->th, NULL, serve, s) != 0) {
		close(s->wake[0]);
		close(s->wake[1]);
		free(s);
		return NULL;
	}
	return s;
}

void simtool_pty_stop(struct simtool_ptyserver *s)
{
	if (!s)
		return;
	s->stop = 1;
	(void)!write(s->wake[1], "x", 1);
	pthread_join(s->th, NULL);
	close(s->wake[0]);
	close(s->wake[1]);
	free(s);
}
