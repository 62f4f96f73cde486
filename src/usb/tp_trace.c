/* The trace decorator: record, replay, inject faults (see tp_trace.h). */
#include "usb/tp_trace.h"

#include "core/file.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/rd.h"

#define TRACE_MAX_FAULTS 16

struct fault_rule {
	struct tp_fault f;
	unsigned seen;  /* matching transfers so far */
	unsigned fired;
};

struct trace {
	struct tp *inner;      /* NULL for a replay */
	FILE *file;            /* out.f while a --trace file is being written */
	struct file_out out;   /* renamed into place when the session closes */
	struct tp_rec *recs;
	size_t n, cap;
	struct fault_rule faults[TRACE_MAX_FAULTS];
	unsigned n_faults;
	bool disconnected;     /* a DISCONNECT fault fired */
	/* replay */
	struct tp_rec *script;
	size_t script_n, script_pos;
	struct clock_fake fake;
};

static const char *const class_names[TP_REQ_COUNT] = {
	"any", "standard", "DETACH", "SET_ADDRESS", "ERASE", "MASS_ERASE", "READ_UNPROTECT",
	"DNLOAD_CMD", "DNLOAD_DATA", "DNLOAD_ZERO", "UPLOAD_GET", "UPLOAD_DATA", "GETSTATUS",
	"CLRSTATUS", "GETSTATE", "ABORT", "SET_ALT", "RESET", "REOPEN",
};

const char *tp_req_class_name(enum tp_req_class c)
{
	return (unsigned)c < TP_REQ_COUNT ? class_names[c] : "?";
}

enum tp_req_class tp_classify(const struct usb_setup *s, const uint8_t *data)
{
	if ((s->bmRequestType & 0x60) != 0x20)
		return TP_REQ_STANDARD;
	switch (s->bRequest) {
	case DFU_DETACH: return TP_REQ_DETACH;
	case DFU_DNLOAD:
		if (s->wLength == 0)
			return TP_REQ_DNLOAD_ZERO;
		if (s->wValue >= DFUSE_FIRST_DATA_BLOCK)
			return TP_REQ_DNLOAD_DATA;
		if (s->wValue == 0 && data) {
			/* DfuSe command encoding, AN3156 §5.2-5.4 */
			if (data[0] == DFUSE_CMD_SET_ADDRESS && s->wLength == 5)
				return TP_REQ_SET_ADDRESS;
			if (data[0] == DFUSE_CMD_ERASE && s->wLength == 5)
				return TP_REQ_ERASE;
			if (data[0] == DFUSE_CMD_ERASE && s->wLength == 1)
				return TP_REQ_MASS_ERASE;
			if (data[0] == DFUSE_CMD_READ_UNPROTECT && s->wLength == 1)
				return TP_REQ_READ_UNPROTECT;
		}
		return TP_REQ_DNLOAD_CMD_OTHER;
	case DFU_UPLOAD: return s->wValue == 0 ? TP_REQ_UPLOAD_GET : TP_REQ_UPLOAD_DATA;
	case DFU_GETSTATUS: return TP_REQ_GETSTATUS;
	case DFU_CLRSTATUS: return TP_REQ_CLRSTATUS;
	case DFU_GETSTATE: return TP_REQ_GETSTATE;
	case DFU_ABORT: return TP_REQ_ABORT;
	default: return TP_REQ_STANDARD;
	}
}

static const char *result_name(int r)
{
	const char *n = stm32dfu_errname(r);
	return strncmp(n, "STM32DFU_E_", 11) == 0 ? n + 11 : n;
}

static void rec_print(const struct tp_rec *r, FILE *f)
{
	char setup[32];
	tp_setup_format(&r->setup, setup, sizeof setup);
	fprintf(f, "@%llu ", (unsigned long long)r->t_us);
	if (r->cls == TP_REQ_SET_ALT)
		fprintf(f, "SETALT %x %x", r->setup.wIndex, r->setup.wValue);
	else if (r->cls == TP_REQ_RESET)
		fputs("RESET", f);
	else if (r->cls == TP_REQ_REOPEN)
		fputs("REOPEN", f);
	else if (r->setup.bmRequestType & USB_DIR_IN)
		fprintf(f, "IN  %s", setup);
	else {
		fprintf(f, "OUT %s", setup);
		if (r->data_len) {
			fputs(" |", f);
			for (unsigned i = 0; i < r->data_len; i++)
				fprintf(f, " %02x", r->data[i]);
		}
	}
	if (r->result >= 0)
		fprintf(f, " -> %d", r->result);
	else
		fprintf(f, " -> %s", result_name(r->result));
	if ((r->setup.bmRequestType & USB_DIR_IN) && r->cls < TP_REQ_SET_ALT && r->data_len) {
		fputs(" |", f);
		for (unsigned i = 0; i < r->data_len; i++)
			fprintf(f, " %02x", r->data[i]);
	}
	if (r->injected)
		fputs(" # injected", f);
	fputc('\n', f);
}

static int rec_append(struct tp *tp, struct trace *t, const struct tp_rec *r)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct tp_rec *n = realloc(t->recs, cap * sizeof *n);
		if (!n)
			return err_set(&tp->err, STM32DFU_E_NO_MEMORY, "trace: out of memory");
		t->recs = n;
		t->cap = cap;
	}
	struct tp_rec *dst = &t->recs[t->n];
	*dst = *r;
	dst->data = NULL;
	if (r->data_len) {
		dst->data = malloc(r->data_len);
		if (!dst->data)
			return err_set(&tp->err, STM32DFU_E_NO_MEMORY, "trace: out of memory");
		memcpy(dst->data, r->data, r->data_len);
	}
	t->n++;
	if (t->file) {
		/* live: a run killed or hung leaves its transcript so far in the temporary file */
		rec_print(dst, t->file);
		fflush(t->file);
	}
	return 0;
}

/* The fault rule that fires for this transfer, if any (each rule counts its own matches). */
static struct fault_rule *fault_match(struct trace *t, enum tp_req_class cls)
{
	struct fault_rule *hit = NULL;
	for (unsigned i = 0; i < t->n_faults; i++) {
		struct fault_rule *fr = &t->faults[i];
		if (fr->f.match != TP_REQ_ANY && fr->f.match != cls)
			continue;
		fr->seen++;
		unsigned nth = fr->f.nth ? fr->f.nth : 1, times = fr->f.times ? fr->f.times : 1;
		if (!hit && fr->seen >= nth && fr->fired < times) {
			fr->fired++;
			hit = fr;
		}
	}
	return hit;
}

static int fault_code(enum tp_fault_kind k)
{
	switch (k) {
	case TP_FAULT_STALL: return STM32DFU_E_STALL;
	case TP_FAULT_TIMEOUT: return STM32DFU_E_TIMEOUT;
	case TP_FAULT_DISCONNECT: return STM32DFU_E_DISCONNECTED;
	default: return STM32DFU_E_USB_IO;
	}
}

/* The replay's answer to one request: the next recorded one, which must be the same request. */
static int replay_next(struct tp *tp, struct trace *t, enum tp_req_class cls, const struct usb_setup *s,
                       uint8_t *data)
{
	if (t->script_pos >= t->script_n)
		return err_set(&tp->err, STM32DFU_E_PROTOCOL, "replay: transfer %zu (%s) past the end of the transcript",
		               t->script_pos + 1, tp_req_class_name(cls));
	const struct tp_rec *r = &t->script[t->script_pos];
	bool same = r->cls == cls && memcmp(&r->setup, s, sizeof *s) == 0;
	if (same && cls < TP_REQ_SET_ALT && !(s->bmRequestType & USB_DIR_IN))
		same = r->data_len == s->wLength && (!s->wLength || memcmp(r->data, data, s->wLength) == 0);
	if (!same) {
		char want[32], got[32];
		tp_setup_format(&r->setup, want, sizeof want);
		tp_setup_format(s, got, sizeof got);
		return err_set(&tp->err, STM32DFU_E_PROTOCOL, "replay: transfer %zu differs: recorded %s [%s], got %s [%s]",
		               t->script_pos + 1, tp_req_class_name(r->cls), want, tp_req_class_name(cls), got);
	}
	t->script_pos++;
	t->fake.now = r->t_us > t->fake.now ? r->t_us : t->fake.now;
	if (r->result >= 0 && (s->bmRequestType & USB_DIR_IN) && cls < TP_REQ_SET_ALT) {
		uint16_t n = r->data_len < s->wLength ? r->data_len : s->wLength;
		if (n)
			memcpy(data, r->data, n);
		return n;
	}
	if (r->result < 0)
		err_set(&tp->err, r->result, "replay: recorded %s", result_name(r->result));
	return r->result;
}

/* Runs one operation through faults, the inner transport (or the script) and the recording. */
static int trace_do(struct tp *tp, enum tp_req_class cls, const struct usb_setup *s, uint8_t *data,
                    unsigned timeout_ms)
{
	struct trace *t = tp->impl;
	struct tp_rec rec = {.cls = cls, .t_us = clock_now_us(tp->clock), .setup = *s};
	struct fault_rule *fr = t->disconnected ? NULL : fault_match(t, cls);
	int r;
	bool deliver = !t->disconnected && (!fr || fr->f.kind == TP_FAULT_CORRUPT || fr->f.kind == TP_FAULT_SHORT ||
	                                     fr->f.deliver);
	if (t->disconnected) {
		r = err_set(&tp->err, STM32DFU_E_DISCONNECTED, "device disconnected (injected)");
		rec.injected = true;
	} else if (!deliver) {
		r = 0;
	} else if (t->inner) {
		struct tp *in = t->inner;
		switch (cls) {
		case TP_REQ_SET_ALT: r = in->ops->set_alt(in, (uint8_t)s->wIndex, (uint8_t)s->wValue); break;
		case TP_REQ_RESET: r = tp_reset(in); break;
		case TP_REQ_REOPEN:
			r = tp_reopen(in, timeout_ms);
			if (r >= 0)
				tp->info = in->info;
			break;
		default: r = tp_control(in, s, data, timeout_ms); break;
		}
		if (r < 0)
			tp->err = in->err;
	} else {
		r = replay_next(tp, t, cls, s, data);
		if (r == STM32DFU_E_TIMEOUT)
			clock_sleep_us(tp->clock, (uint64_t)timeout_ms * 1000u); /* a recorded timeout takes its time */
	}
	if (fr) {
		rec.injected = true;
		if (fr->f.kind == TP_FAULT_CORRUPT && r > (int)fr->f.offset && (s->bmRequestType & USB_DIR_IN))
			data[fr->f.offset] ^= fr->f.xor_mask ? fr->f.xor_mask : 0xFF;
		else if (fr->f.kind == TP_FAULT_SHORT && r > (int)fr->f.offset)
			r = fr->f.offset;
		else if (fr->f.kind != TP_FAULT_CORRUPT && fr->f.kind != TP_FAULT_SHORT) {
			r = err_set(&tp->err, fault_code(fr->f.kind), "%s (injected)", result_name(fault_code(fr->f.kind)));
			if (fr->f.kind == TP_FAULT_DISCONNECT)
				t->disconnected = true;
			if (fr->f.kind == TP_FAULT_TIMEOUT)
				clock_sleep_us(tp->clock, (uint64_t)timeout_ms * 1000u); /* a timeout takes its time */
		}
	}
	rec.result = r;
	rec.t_end_us = clock_now_us(tp->clock);
	if (cls < TP_REQ_SET_ALT) {
		if (!(s->bmRequestType & USB_DIR_IN)) {
			rec.data = data;
			rec.data_len = s->wLength;
		} else if (r > 0) {
			rec.data = data;
			rec.data_len = (uint16_t)r;
		}
	}
	int ar = rec_append(tp, t, &rec);
	return ar < 0 ? ar : r;
}

static int trace_control(struct tp *tp, const struct usb_setup *s, uint8_t *data, unsigned timeout_ms)
{
	return trace_do(tp, tp_classify(s, data), s, data, timeout_ms);
}

static int trace_set_alt(struct tp *tp, uint8_t interface, uint8_t alt)
{
	struct usb_setup s = {USB_RT_STD_OUT_INTERFACE, USB_REQ_SET_INTERFACE, alt, interface, 0};
	return trace_do(tp, TP_REQ_SET_ALT, &s, NULL, TP_TIMEOUT_DEFAULT_MS);
}

static int trace_reset(struct tp *tp)
{
	struct usb_setup s = {0};
	return trace_do(tp, TP_REQ_RESET, &s, NULL, TP_TIMEOUT_DEFAULT_MS);
}

static int trace_reopen(struct tp *tp, unsigned timeout_ms)
{
	struct usb_setup s = {0};
	return trace_do(tp, TP_REQ_REOPEN, &s, NULL, timeout_ms);
}

static void recs_free(struct tp_rec *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].data);
	free(r);
}

static void trace_close(struct tp *tp)
{
	struct trace *t = tp->impl;
	if (t->file) {
		struct err e;
		err_clear(&e);
		if (file_out_commit(&t->out, &e) < 0)
			log_warn("trace: %s", e.msg);
	}
	recs_free(t->recs, t->n);
	recs_free(t->script, t->script_n);
	tp_close(t->inner);
	free(t);
	tp_free(tp);
}

static const struct tp_ops trace_ops = {
	.name = "trace",
	.control = trace_control,
	.set_alt = trace_set_alt,
	.reset = trace_reset,
	.reopen = trace_reopen,
	.close = trace_close,
};

bool tp_is_trace(const struct tp *tp)
{
	return tp && tp->ops == &trace_ops;
}

struct tp *tp_trace_wrap(struct tp *inner)
{
	struct trace *t = calloc(1, sizeof *t);
	struct tp *tp = t ? tp_alloc(&trace_ops, t) : NULL;
	if (!tp) {
		free(t);
		return NULL;
	}
	t->inner = inner;
	if (inner) {
		tp->info = inner->info;
		tp->clock = inner->clock;
	}
	return tp;
}

static void write_header(const struct tp_info *in, FILE *f)
{
	fprintf(f, "# stm32dfu transcript v1\nINFO %04x %04x %04x %d\n", in->vid, in->pid, in->bcd_device,
	        in->dfu_interface);
	fprintf(f, "MANUFACTURER %s\nPRODUCT %s\nSERIAL %s\nDESC", in->manufacturer, in->product, in->serial);
	for (size_t i = 0; i < in->desc_len; i++)
		fprintf(f, " %02x", in->desc[i]);
	fputc('\n', f);
}

int tp_trace_set_file(struct tp *tp, const char *path)
{
	struct trace *t = tp->impl;
	if (t->file) {
		file_out_abort(&t->out);
		t->file = NULL;
	}
	/* written live to path.tmp-XXXXXX beside path (flushed after every record), renamed to path when
	 * the session closes: path is complete or as it was, and a run killed or hung leaves what it
	 * did so far in the temporary file, where a bug report finds it */
	int rc = file_out_open(&t->out, path, 0666, &tp->err);
	if (rc < 0)
		return rc;
	FILE *f = t->out.f;
	t->file = f;
	write_header(&tp->info, f);
	fflush(f);
	return 0;
}

int tp_trace_write(const struct tp *tp, FILE *f)
{
	const struct trace *t = tp->impl;
	write_header(&tp->info, f);
	for (size_t i = 0; i < t->n; i++)
		rec_print(&t->recs[i], f);
	return ferror(f) ? STM32DFU_E_FILE_IO : 0;
}

int tp_trace_add_fault(struct tp *tp, const struct tp_fault *f)
{
	struct trace *t = tp->impl;
	if (t->n_faults >= TRACE_MAX_FAULTS)
		return err_set(&tp->err, STM32DFU_E_USAGE, "trace: at most %d fault rules", TRACE_MAX_FAULTS);
	t->faults[t->n_faults++] = (struct fault_rule){.f = *f};
	return 0;
}

void tp_trace_clear_faults(struct tp *tp)
{
	struct trace *t = tp->impl;
	t->n_faults = 0;
	t->disconnected = false;
}

size_t tp_trace_count(const struct tp *tp, enum tp_req_class c)
{
	const struct trace *t = tp->impl;
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++)
		if (c == TP_REQ_ANY || t->recs[i].cls == c)
			k++;
	return k;
}

const struct tp_rec *tp_trace_records(const struct tp *tp, size_t *n)
{
	const struct trace *t = tp->impl;
	*n = t->n;
	return t->recs;
}

void tp_trace_forget(struct tp *tp)
{
	struct trace *t = tp->impl;
	recs_free(t->recs, t->n);
	t->recs = NULL;
	t->n = t->cap = 0;
}

struct tp *tp_trace_inner(struct tp *tp)
{
	return ((struct trace *)tp->impl)->inner;
}

/* ---- transcript parsing (replay) ---- */

struct line {
	const char *p;
	size_t n, pos;
};

static void skip_sp(struct line *l)
{
	while (l->pos < l->n && (l->p[l->pos] == ' ' || l->p[l->pos] == '\t'))
		l->pos++;
}

/* A hexadecimal token of at most max_digits; false if none. */
static bool hex_tok(struct line *l, unsigned max_digits, uint32_t *v)
{
	skip_sp(l);
	uint32_t x = 0;
	unsigned d = 0;
	while (l->pos < l->n && d < max_digits) {
		char c = l->p[l->pos];
		unsigned h;
		if (c >= '0' && c <= '9')
			h = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			h = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			h = (unsigned)(c - 'A' + 10);
		else
			break;
		x = x * 16 + h;
		d++;
		l->pos++;
	}
	*v = x;
	return d > 0;
}

static bool dec_tok(struct line *l, uint64_t *v)
{
	skip_sp(l);
	uint64_t x = 0;
	unsigned d = 0;
	while (l->pos < l->n && l->p[l->pos] >= '0' && l->p[l->pos] <= '9' && d < 19) {
		x = x * 10 + (uint64_t)(l->p[l->pos] - '0');
		d++;
		l->pos++;
	}
	*v = x;
	return d > 0;
}

static bool word(struct line *l, const char *w)
{
	skip_sp(l);
	size_t k = strlen(w);
	if (l->n - l->pos < k || memcmp(l->p + l->pos, w, k) != 0)
		return false;
	l->pos += k;
	return true;
}

/* " | xx xx ..." into buf; returns the count (0 when there is no bar). */
static size_t hex_bytes(struct line *l, uint8_t *buf, size_t cap)
{
	if (!word(l, "|"))
		return 0;
	size_t k = 0;
	uint32_t v;
	size_t save = l->pos;
	while (k < cap && hex_tok(l, 2, &v)) {
		buf[k++] = (uint8_t)v;
		save = l->pos;
	}
	l->pos = save;
	return k;
}

static bool result_tok(struct line *l, int *r)
{
	if (!word(l, "->"))
		return false;
	skip_sp(l);
	uint64_t v;
	size_t save = l->pos;
	if (dec_tok(l, &v) && v <= 0xFFFF) {
		*r = (int)v;
		return true;
	}
	l->pos = save;
	for (int c = -1; c > -STM32DFU_ERR_COUNT; c--) {
		const char *name = result_name(c);
		size_t k = strlen(name);
		if (l->n - l->pos >= k && memcmp(l->p + l->pos, name, k) == 0) {
			l->pos += k;
			*r = c;
			return true;
		}
	}
	return false;
}

static void copy_rest(struct line *l, char *out, size_t cap)
{
	if (l->pos < l->n && l->p[l->pos] == ' ')
		l->pos++;
	size_t k = l->n - l->pos < cap - 1 ? l->n - l->pos : cap - 1;
	memcpy(out, l->p + l->pos, k);
	out[k] = '\0';
}

/* One transcript line into rec (data points into scratch). Returns 1 for a record, 0 for a header
 * or blank line, -1 when malformed. */
static int parse_line(struct line *l, struct tp_info *info, struct tp_rec *rec, uint8_t *scratch)
{
	uint32_t v[5];
	uint64_t t = 0;
	skip_sp(l);
	if (l->pos == l->n || l->p[l->pos] == '#')
		return 0;
	if (word(l, "INFO")) {
		uint64_t iface;
		if (!hex_tok(l, 4, &v[0]) || !hex_tok(l, 4, &v[1]) || !hex_tok(l, 4, &v[2]))
			return -1;
		info->vid = (uint16_t)v[0];
		info->pid = (uint16_t)v[1];
		info->bcd_device = (uint16_t)v[2];
		skip_sp(l);
		bool neg = word(l, "-");
		info->dfu_interface = dec_tok(l, &iface) && iface < 256 ? (neg ? -(int)iface : (int)iface) : -1;
		return 0;
	}
	if (word(l, "MANUFACTURER")) {
		copy_rest(l, info->manufacturer, sizeof info->manufacturer);
		return 0;
	}
	if (word(l, "PRODUCT")) {
		copy_rest(l, info->product, sizeof info->product);
		return 0;
	}
	if (word(l, "SERIAL")) {
		copy_rest(l, info->serial, sizeof info->serial);
		return 0;
	}
	if (word(l, "DESC")) {
		info->desc_len = 0;
		uint32_t b;
		while (info->desc_len < TP_DESC_MAX && hex_tok(l, 2, &b))
			info->desc[info->desc_len++] = (uint8_t)b;
		return 0;
	}
	if (word(l, "@") && !dec_tok(l, &t))
		return -1;
	*rec = (struct tp_rec){.t_us = t};
	bool in = false;
	if (word(l, "SETALT")) {
		if (!hex_tok(l, 4, &v[0]) || !hex_tok(l, 4, &v[1]))
			return -1;
		rec->cls = TP_REQ_SET_ALT;
		rec->setup = (struct usb_setup){USB_RT_STD_OUT_INTERFACE, USB_REQ_SET_INTERFACE, (uint16_t)v[1],
		                                (uint16_t)v[0], 0};
	} else if (word(l, "RESET")) {
		rec->cls = TP_REQ_RESET;
	} else if (word(l, "REOPEN")) {
		rec->cls = TP_REQ_REOPEN;
	} else if ((in = word(l, "IN")) || word(l, "OUT")) {
		if (!hex_tok(l, 2, &v[0]) || !hex_tok(l, 2, &v[1]) || !hex_tok(l, 4, &v[2]) || !hex_tok(l, 4, &v[3]) ||
		    !hex_tok(l, 4, &v[4]))
			return -1;
		rec->setup = (struct usb_setup){(uint8_t)v[0], (uint8_t)v[1], (uint16_t)v[2], (uint16_t)v[3],
		                                (uint16_t)v[4]};
		if (!in) {
			rec->data_len = (uint16_t)hex_bytes(l, scratch, 0xFFFF);
			if (rec->data_len != rec->setup.wLength)
				return -1;
			rec->data = scratch;
		}
		rec->cls = tp_classify(&rec->setup, scratch);
	} else {
		return -1;
	}
	if (!result_tok(l, &rec->result))
		return -1;
	if (in) {
		rec->data_len = (uint16_t)hex_bytes(l, scratch, rec->setup.wLength);
		rec->data = scratch;
		if (rec->result >= 0 && rec->data_len != rec->result)
			return -1;
	}
	return 1;
}

int tp_trace_replay_text(const char *text, size_t len, struct tp **out, struct err *e)
{
	*out = NULL;
	struct tp *tp = tp_trace_wrap(NULL);
	uint8_t *scratch = malloc(0x10000);
	if (!tp || !scratch) {
		free(scratch);
		tp_close(tp);
		return err_set(e, STM32DFU_E_NO_MEMORY, "replay: out of memory");
	}
	struct trace *t = tp->impl;
	clock_fake_init(&t->fake);
	tp->clock = &t->fake.clock;
	/* parse into the recording, then move it to the script */
	size_t pos = 0, lineno = 0;
	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		lineno++;
		struct line l = {text + pos, end - pos, 0};
		if (l.n && l.p[l.n - 1] == '\r')
			l.n--;
		struct tp_rec rec;
		int r = parse_line(&l, &tp->info, &rec, scratch);
		if (r < 0 || (r > 0 && rec_append(tp, t, &rec) < 0)) {
			free(scratch);
			tp_close(tp);
			return err_set(e, STM32DFU_E_FILE_FORMAT, "replay: transcript line %zu is malformed", lineno);
		}
		pos = end + 1;
	}
	free(scratch);
	t->script = t->recs;
	t->script_n = t->n;
	t->recs = NULL;
	t->n = t->cap = 0;
	*out = tp;
	return 0;
}

int tp_trace_replay_file(const char *path, struct tp **out, struct err *e)
{
	uint8_t *buf;
	size_t len;
	int r = file_read_all(path, &buf, &len, e);
	if (r < 0)
		return err_prefix(e, "replay");
	r = tp_trace_replay_text((const char *)buf, len, out, e);
	free(buf);
	return r;
}
