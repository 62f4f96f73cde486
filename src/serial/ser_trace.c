/* The serial trace decorator (ser_trace.h). */
#include "serial/ser_trace.h"

#include <stdlib.h>
#include <string.h>

struct strace {
	struct ser *in;
	FILE *log;
	struct ser_trace_rules r;
	struct ser_trace_counts c;
	char *text; /* the transcript without times */
	size_t len, cap;
	int dir;    /* direction of the current line: '>' host to chip, '<' chip to host, 0 none */
};

static const struct ser_ops strace_ops;

static void put(struct strace *t, const char *s)
{
	size_t n = strlen(s);
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		while (cap < t->len + n + 1)
			cap *= 2;
		char *p = realloc(t->text, cap);
		if (!p)
			return;
		t->text = p;
		t->cap = cap;
	}
	memcpy(t->text + t->len, s, n + 1);
	t->len += n;
}

static void record(struct ser *s, int dir, const uint8_t *b, size_t n)
{
	struct strace *t = s->impl;
	char w[8];
	for (size_t i = 0; i < n; i++) {
		if (dir != t->dir) {
			if (t->dir) {
				put(t, "\n");
				if (t->log)
					fputc('\n', t->log);
			}
			snprintf(w, sizeof w, "%c", dir);
			put(t, w);
			if (t->log)
				fprintf(t->log, "@%llu %c", (unsigned long long)clock_now_us(s->clock), dir);
			t->dir = dir;
		}
		snprintf(w, sizeof w, " %02x", b[i]);
		put(t, w);
		if (t->log)
			fputs(w, t->log);
	}
	if (t->log)
		fflush(t->log);
}

static int strace_configure(struct ser *s, const struct ser_config *c)
{
	struct strace *t = s->impl;
	int r = ser_configure(t->in, c);
	if (r < 0)
		s->err = t->in->err;
	return r;
}

static int strace_write(struct ser *s, const uint8_t *buf, size_t n, unsigned timeout_ms)
{
	struct strace *t = s->impl;
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = ++t->c.bytes_out;
		if (k == t->r.tx_drop_at) {
			t->c.faults++;
			continue;
		}
		copy[m] = buf[i];
		if (k == t->r.tx_flip_at) {
			copy[m] ^= 1;
			t->c.faults++;
		}
		m++;
	}
	t->c.writes++;
	record(s, '>', buf, n);
	int r = m ? ser_write(t->in, copy, m, timeout_ms) : 0;
	free(copy);
	if (r < 0) {
		s->err = t->in->err;
		return r;
	}
	return (int)n;
}

static int strace_read(struct ser *s, uint8_t *buf, size_t n, unsigned timeout_ms)
{
	struct strace *t = s->impl;
	int r = ser_read(t->in, buf, n, timeout_ms);
	if (r < 0) {
		s->err = t->in->err;
		return r;
	}
	size_t got = (size_t)r;
	for (size_t i = 0; i < got; i++) {
		if (++t->c.bytes_in == t->r.rx_drop_at) {
			t->c.faults++;
			memmove(buf + i, buf + i + 1, got - i - 1);
			got--;
			i--;
		}
	}
	t->c.reads++;
	if (got < n)
		t->c.short_reads++;
	record(s, '<', buf, got);
	return (int)got;
}

static int strace_flush(struct ser *s)
{
	struct strace *t = s->impl;
	return ser_flush_input(t->in);
}

static int strace_lines(struct ser *s, int dtr, int rts)
{
	struct strace *t = s->impl;
	int r = ser_set_lines(t->in, dtr, rts);
	if (r < 0)
		s->err = t->in->err;
	return r;
}

static void strace_close(struct ser *s)
{
	struct strace *t = s->impl;
	if (t->log && t->dir)
		fputc('\n', t->log);
	ser_close(t->in);
	free(t->text);
	free(t);
	ser_free(s);
}

static const struct ser_ops strace_ops = {
	"trace", strace_configure, strace_write, strace_read, strace_flush, strace_lines, strace_close,
};

struct ser *ser_trace_wrap(struct ser *inner, FILE *log, const struct ser_trace_rules *rules)
{
	struct strace *t = calloc(1, sizeof *t);
	struct ser *s = t ? ser_alloc(&strace_ops, t, inner->name) : NULL;
	if (!s) {
		free(t);
		return NULL;
	}
	t->in = inner;
	t->log = log;
	if (rules)
		t->r = *rules;
	s->clock = inner->clock;
	s->cfg = inner->cfg;
	return s;
}

void ser_trace_counts(struct ser *s, struct ser_trace_counts *out)
{
	*out = ((struct strace *)s->impl)->c;
}

size_t ser_trace_text(struct ser *s, char *buf, size_t cap)
{
	struct strace *t = s->impl;
	if (!cap)
		return 0;
	size_t n = t->len < cap - 1 ? t->len : cap - 1;
	if (t->text)
		memcpy(buf, t->text, n);
	buf[n] = '\0';
	return n;
}

void ser_trace_clear(struct ser *s)
{
	struct strace *t = s->impl;
	t->len = 0;
	t->dir = 0;
	if (t->text)
		t->text[0] = '\0';
}
