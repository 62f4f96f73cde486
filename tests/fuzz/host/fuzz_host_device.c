/*
 * Fuzz target: the whole host against a hostile USB device (issue 26 item 4).
 *
 * The fuzzer plays the device. Every control transfer, SET_INTERFACE and re-enumeration of the
 * session reaches the rules the input holds; a rule answers it (any bytes, short or long), STALLs
 * it, lets it time out, fails it, unplugs the device, or lets the emulator of a real ROM answer and
 * then cuts or corrupts that answer. A transfer no rule claims is answered by the emulator, so an
 * input of a few rules reaches the deep paths (a write's kept bytes, its recovery file, verify)
 * with the rest of the device behaving. The transport is handed to the real host code through
 * ops_open_opts.open_tp (the transports' seam); what runs is what `stm32dfu` runs:
 *   list (ops_list), then one session through the public API: info (identify), device record,
 *   read, write (keeping the sector's other bytes in a recovery file), verify, ob show.
 *
 * Nothing may crash, read or write out of bounds, leak, hang or allocate without bound. A hang
 * is caught here too (the fake clock makes every wait instant): more than HOST_MAX_TRANSFERS
 * transfers or HOST_MAX_DEVICE_TIME of device time for one input traps. libFuzzer's
 * -malloc_limit_mb (corpus/host_device.options) traps an unbounded allocation.
 *
 * Input: byte 0 chooses the emulated ROM, byte 1 the session's options; then rules, each
 *   class (1) key (1) nth (1) action (1) len (2, LE) data (len)
 * class: what the rule matches (enum cls); key: the string index (STRING) or alt (SET_ALT), else
 * ignored; nth: 0 every matching transfer, 1..127 only the nth, 128..255 every one from the
 * (nth - 127)th on. The first rule that matches a transfer decides it. See make_seeds.py.
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "lib/api_int.h"
#include "ops/list.h"
#include "ops/session.h"
#include "usb/tp_sim.h"
#include "usb/tp_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef HOST_MAX_TRANSFERS
#define HOST_MAX_TRANSFERS 1000000u
#endif
#define HOST_MAX_DEVICE_TIME (15ull * 60u * 1000000u) /* 15 minutes of device time for list + a session */
#define HOST_MAX_RULES 64

enum cls {
	C_DEVICE = 0, /* GET_DESCRIPTOR device */
	C_CONFIG,     /* GET_DESCRIPTOR configuration */
	C_STRING,     /* GET_DESCRIPTOR string, key = index */
	C_STD_OTHER,  /* any other standard request */
	C_GETSTATUS,
	C_GETSTATE,
	C_UPLOAD_GET, /* UPLOAD block 0: DfuSe Get Commands */
	C_UPLOAD,     /* UPLOAD data blocks */
	C_DNLOAD_CMD, /* DNLOAD block 0: DfuSe commands */
	C_DNLOAD,     /* DNLOAD data blocks */
	C_DNLOAD_ZERO,
	C_CLRSTATUS,
	C_ABORT,
	C_OTHER_CLASS, /* DETACH, unknown class requests */
	C_SET_ALT,     /* key = alt */
	C_REOPEN,
	C_ANY,         /* every transfer (not SET_ALT, REOPEN) */
	C_COUNT
};

enum action {
	A_REPLY = 0,   /* IN: these bytes (longer than asked: an overflow, as libusb reports it);
	                * OUT: acknowledged, the device does not act */
	A_STALL,
	A_TIMEOUT,
	A_IO,
	A_DISCONNECT,  /* this and every later transfer: the device is gone */
	A_PATCH,       /* the emulator answers; data[0] = offset, the rest is XORed in from there */
	A_SHORT,       /* the emulator answers; cut to data[0] bytes */
	A_ACT_STALL,   /* the emulator acts; the host sees a STALL */
	A_ACT_TIMEOUT, /* the emulator acts; the host sees a timeout */
	A_COUNT
};

struct rule {
	uint8_t cls, key, nth, action;
	const uint8_t *data;
	uint16_t len;
};

struct host {
	struct clock_fake clk;
	struct tp *inner; /* the emulator: one chip for the whole input */
	struct rule rules[HOST_MAX_RULES];
	unsigned n_rules;
	uint32_t seen[C_COUNT][256];
	uint64_t transfers;
	bool gone;
};

static const char *const profiles[] = {"f746", "f0-32k", "l43x", "g474", "h743", "f407", "f401", "l0-192k"};

static bool rule_fires(struct host *h, const struct rule *r, uint32_t count)
{
	(void)h;
	if (r->nth == 0)
		return true;
	if (r->nth < 128)
		return count == r->nth;
	return count >= (uint32_t)r->nth - 127u;
}

/* Counts the transfer and returns the first rule that claims it, or NULL. */
static const struct rule *match(struct host *h, enum cls c, uint8_t key)
{
	uint32_t n = ++h->seen[c][key];
	uint32_t any = ++h->seen[C_ANY][0];
	for (unsigned i = 0; i < h->n_rules; i++) {
		const struct rule *r = &h->rules[i];
		if (r->cls == c && (r->key == key || (c != C_STRING && c != C_SET_ALT)) && rule_fires(h, r, n))
			return r;
		if (r->cls == C_ANY && c != C_SET_ALT && c != C_REOPEN && rule_fires(h, r, any))
			return r;
	}
	return NULL;
}

static enum cls classify(const struct usb_setup *s, const uint8_t *data, uint8_t *key)
{
	*key = 0;
	if ((s->bmRequestType & 0x60) == 0 && s->bRequest == USB_REQ_GET_DESCRIPTOR) {
		switch (s->wValue >> 8) {
		case USB_DT_DEVICE: return C_DEVICE;
		case USB_DT_CONFIG: return C_CONFIG;
		case USB_DT_STRING: *key = (uint8_t)s->wValue; return C_STRING;
		default: return C_STD_OTHER;
		}
	}
	switch (tp_classify(s, data)) {
	case TP_REQ_STANDARD: return C_STD_OTHER;
	case TP_REQ_SET_ADDRESS:
	case TP_REQ_ERASE:
	case TP_REQ_MASS_ERASE:
	case TP_REQ_READ_UNPROTECT:
	case TP_REQ_DNLOAD_CMD_OTHER: return C_DNLOAD_CMD;
	case TP_REQ_DNLOAD_DATA: return C_DNLOAD;
	case TP_REQ_DNLOAD_ZERO: return C_DNLOAD_ZERO;
	case TP_REQ_UPLOAD_GET: return C_UPLOAD_GET;
	case TP_REQ_UPLOAD_DATA: return C_UPLOAD;
	case TP_REQ_GETSTATUS: return C_GETSTATUS;
	case TP_REQ_CLRSTATUS: return C_CLRSTATUS;
	case TP_REQ_GETSTATE: return C_GETSTATE;
	case TP_REQ_ABORT: return C_ABORT;
	default: return C_OTHER_CLASS;
	}
}

/* The host must give up on a hostile device: a hang here is a finding, not a slow input. */
static void budget(struct tp *tp, struct host *h)
{
	if (++h->transfers > HOST_MAX_TRANSFERS) {
		fprintf(stderr, "host_device: the host sent more than %u transfers to one device (hang)\n",
		        HOST_MAX_TRANSFERS);
		abort();
	}
	if (clock_now_us(tp->clock) > HOST_MAX_DEVICE_TIME) {
		fprintf(stderr, "host_device: the host waited more than 15 minutes of device time (hang)\n");
		abort();
	}
}

static int fail(struct tp *tp, int code, const char *what)
{
	return err_set(&tp->err, code, "hostile device: %s", what);
}

/* The failures a rule can choose, with the wait a real host would spend. */
static int rule_failure(struct tp *tp, struct host *h, uint8_t action, unsigned timeout_ms)
{
	switch (action) {
	case A_STALL:
	case A_ACT_STALL: return fail(tp, STM32DFU_E_STALL, "stall");
	case A_TIMEOUT:
	case A_ACT_TIMEOUT:
		clock_sleep_us(tp->clock, (uint64_t)timeout_ms * 1000u);
		return fail(tp, STM32DFU_E_TIMEOUT, "timeout");
	case A_IO: return fail(tp, STM32DFU_E_USB_IO, "I/O error");
	default:
		h->gone = true;
		return fail(tp, STM32DFU_E_DISCONNECTED, "unplugged");
	}
}

static int pass(struct tp *tp, struct host *h, const struct usb_setup *s, uint8_t *data, unsigned timeout_ms)
{
	int r = h->inner->ops->control(h->inner, s, data, timeout_ms);
	if (r < 0)
		tp->err = h->inner->err;
	return r;
}

static int h_control(struct tp *tp, const struct usb_setup *s, uint8_t *data, unsigned timeout_ms)
{
	struct host *h = tp->impl;
	budget(tp, h);
	if (h->gone)
		return fail(tp, STM32DFU_E_DISCONNECTED, "gone");
	uint8_t key;
	enum cls c = classify(s, data, &key);
	const struct rule *r = match(h, c, key);
	if (!r)
		return pass(tp, h, s, data, timeout_ms);
	bool in = s->bmRequestType & USB_DIR_IN;
	int n;
	switch (r->action % A_COUNT) {
	case A_REPLY:
		if (!in)
			return s->wLength;
		if (r->len > s->wLength) /* the device sent more than asked: libusb's OVERFLOW */
			return fail(tp, STM32DFU_E_USB_IO, "overflow");
		if (r->len)
			memcpy(data, r->data, r->len);
		return r->len;
	case A_PATCH:
		n = pass(tp, h, s, data, timeout_ms);
		if (n > 0 && in && r->len > 1)
			for (size_t i = 1; i < r->len && r->data[0] + i - 1 < (size_t)n; i++)
				data[r->data[0] + i - 1] ^= r->data[i];
		return n;
	case A_SHORT:
		n = pass(tp, h, s, data, timeout_ms);
		if (n > 0 && in && r->len && r->data[0] < n)
			n = r->data[0];
		return n;
	case A_ACT_STALL:
	case A_ACT_TIMEOUT:
		n = pass(tp, h, s, data, timeout_ms);
		if (n < 0)
			return n;
		return rule_failure(tp, h, r->action % A_COUNT, timeout_ms);
	default:
		return rule_failure(tp, h, r->action % A_COUNT, timeout_ms);
	}
}

static int h_set_alt(struct tp *tp, uint8_t interface, uint8_t alt)
{
	struct host *h = tp->impl;
	budget(tp, h);
	if (h->gone)
		return fail(tp, STM32DFU_E_DISCONNECTED, "gone");
	const struct rule *r = match(h, C_SET_ALT, alt);
	if (!r || r->action % A_COUNT == A_PATCH || r->action % A_COUNT == A_SHORT) {
		int rc = tp_set_alt(h->inner, interface, alt);
		if (rc < 0)
			tp->err = h->inner->err;
		return rc;
	}
	if (r->action % A_COUNT == A_REPLY)
		return 0; /* acknowledged, not done: the device stays on its alt */
	if (r->action % A_COUNT == A_ACT_STALL || r->action % A_COUNT == A_ACT_TIMEOUT)
		(void)tp_set_alt(h->inner, interface, alt);
	return rule_failure(tp, h, r->action % A_COUNT, TP_TIMEOUT_DEFAULT_MS);
}

static int h_reopen(struct tp *tp, unsigned timeout_ms)
{
	struct host *h = tp->impl;
	budget(tp, h);
	const struct rule *r = match(h, C_REOPEN, 0);
	if (r && r->action % A_COUNT != A_REPLY) {
		clock_sleep_us(tp->clock, (uint64_t)timeout_ms * 1000u);
		h->gone = true;
		return fail(tp, STM32DFU_E_DISCONNECTED, "did not come back");
	}
	h->gone = false; /* a device that was unplugged may be back (A_REPLY: it is) */
	int rc = tp_reopen(h->inner, timeout_ms);
	if (rc < 0) {
		tp->err = h->inner->err;
		return rc;
	}
	int keep = tp->info.dfu_interface;
	rc = tp_read_identity(tp); /* through the rules: the device may come back as another */
	if (tp->info.dfu_interface < 0)
		tp->info.dfu_interface = keep;
	return rc;
}

static void h_close(struct tp *tp)
{
	tp_free(tp); /* the chip (h->inner) lives for the whole input */
}

static const struct tp_ops hostile_ops = {"hostile", h_control, h_set_alt, NULL, h_reopen, h_close};

static int open_hostile(void *ctx, struct tp **out, struct err *e)
{
	struct host *h = ctx;
	*out = NULL;
	struct tp *tp = tp_alloc(&hostile_ops, h);
	if (!tp)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	tp->clock = &h->clk.clock;
	snprintf(tp->info.path, sizeof tp->info.path, "1-1");
	int rc = tp_read_identity(tp);
	if (rc < 0) {
		if (e)
			*e = tp->err;
		tp_free(tp);
		return rc;
	}
	*out = tp;
	return 0;
}

static void no_log(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	if (ctx)
		fprintf(stderr, "log: %s\n", msg);
}

static char rescue_dir[256];

/* Recovery files of one input must not reach the next (a kept file would be applied there). */
static void clean_rescue_dir(void)
{
	DIR *d = opendir(rescue_dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[512];
		snprintf(p, sizeof p, "%s/%s", rescue_dir, de->d_name);
		unlink(p);
	}
	closedir(d);
}

static char root_dir[64];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* what the sessions left in the state folder goes with the process */
static void remove_root(void)
{
	if (root_dir[0])
		(void)nftw(root_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static bool setup_once(void)
{
	static int done;
	if (done)
		return done > 0;
	done = -1;
	/* the session reads and writes the state folder (link notes, recovery files): never the user's */
	/* tmpfs when there is one: each write fsyncs its recovery file */
	struct stat shm;
	snprintf(root_dir, sizeof root_dir, "%s/fuzz-host.XXXXXX", stat("/dev/shm", &shm) == 0 && S_ISDIR(shm.st_mode) ? "/dev/shm" : "/tmp");
	if (!mkdtemp(root_dir))
		return false;
	atexit(remove_root);
	char state[128];
	snprintf(state, sizeof state, "%s/state", root_dir);
	snprintf(rescue_dir, sizeof rescue_dir, "%s/rescue", root_dir);
	if (mkdir(state, 0700) != 0 || mkdir(rescue_dir, 0700) != 0 || setenv("XDG_STATE_HOME", state, 1) != 0)
		return false;
	unsetenv("STM32DFU_EMULATED");
	log_set_level(LOG_DEBUG); /* every message is formatted, with the device's strings in it */
	log_set_sink(no_log, getenv("HOST_DEVICE_STATS") ? "" : NULL);
	done = 1;
	return true;
}

static size_t parse_rules(struct host *h, const uint8_t *p, size_t n)
{
	size_t at = 0;
	while (h->n_rules < HOST_MAX_RULES && n - at >= 6) {
		struct rule *r = &h->rules[h->n_rules++];
		r->cls = p[at] % C_COUNT;
		r->key = p[at + 1];
		r->nth = p[at + 2];
		r->action = p[at + 3];
		size_t len = (size_t)p[at + 4] | ((size_t)p[at + 5] << 8);
		at += 6;
		if (len > n - at)
			len = n - at;
		r->data = p + at;
		r->len = (uint16_t)len;
		at += len;
	}
	return at;
}

/* HOST_DEVICE_STATS: the device time each step took, for finding why an input is slow */
static void mark(struct host *h, const char *step)
{
	static uint64_t last;
	if (!getenv("HOST_DEVICE_STATS"))
		return;
	uint64_t now = clock_now_us(&h->clk.clock);
	if (now < last)
		last = 0;
	fprintf(stderr, "host_device: %-8s %9.3f s\n", step, (double)(now - last) / 1e6);
	last = now;
}

static void session(struct host *h, const struct ops_open_opts *o, uint8_t flags)
{
	struct ops_session *os = NULL;
	struct err e;
	err_clear(&e);
	int rc = ops_open(o, &os, &e);
	mark(h, "open");
	if (rc < 0)
		return;
	struct stm32dfu_session *s = NULL;
	if (api_adopt(os, &s) < 0) {
		ops_close(os);
		return;
	}
	struct stm32dfu_identity id;
	(void)stm32dfu_info(s, &id); mark(h, "info");
	struct stm32dfu_device dev;
	(void)stm32dfu_device_info(s, &dev);
	struct stm32dfu_device_rec rec;
	(void)stm32dfu_device_record(s, &rec);
	uint8_t buf[600];
	(void)stm32dfu_read(s, 0x08000000, buf, sizeof buf); mark(h, "read");

	/* 1 KiB inside the first sector: the rest of the sector is kept (read back, saved, rewritten) */
	static uint8_t image[1024];
	for (size_t i = 0; i < sizeof image; i++)
		image[i] = (uint8_t)(i * 7u + flags);
	struct stm32dfu_segment seg = {0x08000000u + (flags & 4 ? 0x400u : 0x40u), 0, image, sizeof image};
	struct stm32dfu_write_ex_options wo = {0};
	wo.full = flags & 1;
	wo.no_verify = (flags & 2) != 0;
	struct stm32dfu_write_report *wr = malloc(sizeof *wr);
	if (wr) {
		(void)stm32dfu_write_ex(s, &seg, 1, &wo, wr); mark(h, "write");
		free(wr);
	}
	struct stm32dfu_verify_report vr;
	(void)stm32dfu_verify_ex(s, &seg, 1, &vr); mark(h, "verify");
	struct stm32dfu_ob_report *ob = malloc(sizeof *ob);
	if (ob) {
		(void)stm32dfu_ob_read_ex(s, ob); mark(h, "ob show");
		free(ob);
	}
	stm32dfu_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || !setup_once())
		return 0;
	struct host *h = calloc(1, sizeof *h);
	if (!h)
		return 0;
	clock_fake_init(&h->clk);
	parse_rules(h, data + 2, size - 2);
	uint8_t flags = data[1];
	char spec[64];
	snprintf(spec, sizeof spec, "%s", profiles[data[0] % (sizeof profiles / sizeof profiles[0])]);
	struct tp_sim_opts so = {PROFILE_DIR, &h->clk.clock, false};
	struct err e;
	err_clear(&e);
	if (tp_sim_open(spec, &so, &h->inner, &e) < 0) {
		fprintf(stderr, "host_device: the emulator did not open: %s\n", e.msg);
		abort();
	}
	struct ops_open_opts o;
	ops_open_opts_init(&o);
	o.clock = &h->clk.clock;
	o.open_tp = open_hostile;
	o.open_tp_ctx = h;
	o.rescue_dir = rescue_dir;
	o.confirm_reads = (flags & 8) != 0;
	o.poll_spec = (flags & 16) != 0;
	o.transfer_size = flags & 32 ? 1024 : 0;

	struct ops_listed *l = NULL;
	size_t n = 0;
	if (ops_list(&o, &l, &n, &e) == 0)
		free(l);
	mark(h, "list");
	session(h, &o, flags);

	if (getenv("HOST_DEVICE_STATS")) /* what one input cost: for finding why an input is slow */
		fprintf(stderr, "host_device: %llu transfers, %.3f s of device time\n", (unsigned long long)h->transfers,
		        (double)clock_now_us(&h->clk.clock) / 1e6);
	tp_close(h->inner);
	free(h);
	clean_rescue_dir();
	return 0;
}
