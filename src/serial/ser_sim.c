/* The in-process emulator door (ser_sim.h). */
#include "serial/ser_sim.h"

#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "sim/sim_uart.h"

struct ssim {
	struct sim_uart *u;
	struct sim_profile *p; /* owned, with dev and u, when opened from a spec */
	struct sim_device *dev;
	uint64_t tx_free; /* when the host's transmitter is free again */
	uint32_t tx_ahead; /* sim_uart_byte_next */
};

static const struct ser_ops ssim_ops;

static int ssim_configure(struct ser *s, const struct ser_config *c)
{
	struct ssim *m = s->impl;
	/* the host port drops bytes with a parity error when it checks parity (as ser_tty/ser_sp set it) */
	sim_uart_set_host_line(m->u, c->baud, (char)c->parity, c->parity != SER_PARITY_NONE);
	return 0;
}

static int ssim_write(struct ser *s, const uint8_t *buf, size_t n, unsigned timeout_ms)
{
	(void)timeout_ms;
	struct ssim *m = s->impl;
	uint64_t now = clock_now_us(s->clock);
	uint64_t t = m->tx_free > now ? m->tx_free : now;
	if (now >= m->tx_free)
		m->tx_ahead = 0;
	for (size_t i = 0; i < n; i++) {
		t += sim_uart_byte_next(m->u, &m->tx_ahead); /* the exact rate, not 96 us a byte at 115200 */
		sim_uart_rx(m->u, buf[i], t);
	}
	m->tx_free = t;
	return (int)n;
}

static int ssim_read(struct ser *s, uint8_t *buf, size_t n, unsigned timeout_ms)
{
	struct ssim *m = s->impl;
	uint64_t now = clock_now_us(s->clock), deadline = now + (uint64_t)timeout_ms * 1000u;
	size_t got = 0;
	while (got < n) {
		uint8_t b;
		uint64_t at;
		if (!sim_uart_tx_peek(m->u, &b, &at) || at > deadline)
			break;
		if (at > now) {
			clock_sleep_us(s->clock, at - now);
			now = at;
		}
		buf[got++] = b;
		sim_uart_tx_pop(m->u);
	}
	if (got < n && deadline > now)
		clock_sleep_us(s->clock, deadline - now); /* a real port waits the timeout out */
	return (int)got;
}

static int ssim_flush(struct ser *s)
{
	struct ssim *m = s->impl;
	uint64_t now = clock_now_us(s->clock), at;
	uint8_t b;
	while (sim_uart_tx_peek(m->u, &b, &at) && at <= now)
		sim_uart_tx_pop(m->u);
	return 0;
}

static int ssim_lines(struct ser *s, int dtr, int rts)
{
	struct ssim *m = s->impl;
	sim_uart_set_lines(m->u, dtr, rts, clock_now_us(s->clock));
	return 0;
}

static void ssim_close(struct ser *s)
{
	struct ssim *m = s->impl;
	if (m->p) {
		sim_uart_free(m->u);
		sim_device_free(m->dev);
		sim_profile_free(m->p);
	}
	free(m);
	ser_free(s);
}

static const struct ser_ops ssim_ops = {
	"sim", ssim_configure, ssim_write, ssim_read, ssim_flush, ssim_lines, ssim_close,
};

int ser_sim_wrap(struct sim_uart *u, const struct clock *clock, struct ser **out, struct err *e)
{
	*out = NULL;
	struct ssim *m = calloc(1, sizeof *m);
	struct ser *s = m ? ser_alloc(&ssim_ops, m, "sim") : NULL;
	if (!s) {
		free(m);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	m->u = u;
	s->clock = clock;
	struct ser_config c = ser_config_8e1(SER_BAUD_DEFAULT);
	ser_configure(s, &c);
	/* opening a port asserts DTR and RTS (Linux does, as the tty layer raises them on open): a
	 * fixture wired for reset sees it (sim_uart_set_lines; unwired chips do not) */
	sim_uart_set_lines(u, 1, 1, clock_now_us(clock));
	*out = s;
	return 0;
}

int ser_sim_open(const char *spec, const char *profile_dir, const struct clock *clock, struct ser **out,
                 struct err *e)
{
	char eb[512];
	*out = NULL;
	struct sim_profile *p = sim_profile_load(spec, profile_dir, eb, sizeof eb);
	if (!p)
		return err_set(e, STM32DFU_E_USAGE, "emulator profile '%s': %s", spec, eb);
	struct sim_device *d = sim_device_new(p, clock, eb, sizeof eb);
	struct sim_uart *u = d ? sim_uart_new(d, p, eb, sizeof eb) : NULL;
	if (!u) {
		sim_device_free(d);
		sim_profile_free(p);
		return err_set(e, STM32DFU_E_USAGE, "emulator profile '%s': %s", spec, eb);
	}
	int r = ser_sim_wrap(u, clock, out, e);
	if (r < 0) {
		sim_uart_free(u);
		sim_device_free(d);
		sim_profile_free(p);
		return r;
	}
	struct ssim *m = (*out)->impl;
	m->p = p;
	m->dev = d;
	return 0;
}

struct sim_uart *ser_sim_uart(struct ser *s)
{
	return s && s->ops == &ssim_ops ? ((struct ssim *)s->impl)->u : NULL;
}
