/* Reset sequences on DTR/RTS (ser_seq.h). */
#include "serial/ser_seq.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* One sequence: text[0..len). */
static int parse_one(const char *text, size_t len, const char *whole, struct ser_seq *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	struct ser_seq_step cur = {-1, -1, 0};
	bool have = false;
	size_t i = 0;
	while (i <= len) {
		size_t j = i;
		while (j < len && text[j] != '&' && text[j] != ',')
			j++;
		char word[16];
		size_t wl = j - i;
		if (wl >= sizeof word)
			wl = sizeof word - 1;
		memcpy(word, text + i, wl);
		word[wl] = '\0';
		bool neg = word[0] == '-';
		const char *sig = neg ? word + 1 : word;
		if (!strcmp(sig, "dtr") || !strcmp(sig, "rts")) {
			int *line = sig[0] == 'd' ? &cur.dtr : &cur.rts;
			*line = neg ? 0 : 1;
			have = true;
		} else if (!strcmp(sig, "brk")) {
			return err_set(e, STM32DFU_E_USAGE, "{@reset-seq} %s: brk (a break on TX) is not driven here, only dtr and rts",
			               whole);
		} else if (word[0]) {
			err_set(e, STM32DFU_E_USAGE, "{@reset-seq} %s: '%s' is not a signal", whole, word);
			if (isdigit((unsigned char)sig[0]))
				err_hint(e, "host GPIO numbers (stm32flash -i 4,-3,3) are not driven here: wire NRST and BOOT0 to "
				            "the adapter's DTR and RTS");
			else
				err_hint(e, "signals are dtr, -dtr, rts, -rts; '&' joins, ',' waits 100 ms (docs/usart.md)");
			return STM32DFU_E_USAGE;
		}
		char delim = j < len ? text[j] : '\0';
		if (delim == ',' || delim == '\0') {
			if (have || delim == ',') {
				if (out->n == SER_SEQ_MAX_STEPS)
					return err_set(e, STM32DFU_E_USAGE, "{@reset-seq} %s: more than %d steps", whole,
					               SER_SEQ_MAX_STEPS);
				cur.delay_ms = delim == ',' ? SER_SEQ_DELAY_MS : 0;
				/* a wait alone (",,") adds to the step before it */
				if (!have && out->n)
					out->steps[out->n - 1].delay_ms += cur.delay_ms;
				else
					out->steps[out->n++] = cur;
			}
			cur = (struct ser_seq_step){-1, -1, 0};
			have = false;
		}
		i = j + 1;
	}
	return 0;
}

int ser_seq_parse(const char *text, struct ser_seq_pair *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (!text || !*text)
		text = SER_SEQ_DEFAULT;
	const char *colon = strchr(text, ':');
	if (colon && strchr(colon + 1, ':'))
		return err_set(e, STM32DFU_E_USAGE, "{@reset-seq} %s: one ':' at most (ENTRY:EXIT)", text);
	size_t elen = colon ? (size_t)(colon - text) : strlen(text);
	int r = parse_one(text, elen, text, &out->entry, e);
	if (r == 0 && colon) {
		out->has_exit = true;
		r = parse_one(colon + 1, strlen(colon + 1), text, &out->exit, e);
	}
	return r;
}

int ser_seq_run(struct ser *s, const struct ser_seq *seq)
{
	for (size_t i = 0; i < seq->n; i++) {
		const struct ser_seq_step *st = &seq->steps[i];
		if (st->dtr >= 0 || st->rts >= 0) {
			int r = ser_set_lines(s, st->dtr, st->rts);
			if (r < 0)
				return err_prefix(&s->err, "reset sequence");
		}
		if (st->delay_ms)
			clock_sleep_us(s->clock, (uint64_t)st->delay_ms * 1000u);
	}
	return 0;
}
