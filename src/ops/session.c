#include "ops/session.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/text.h"
#include "ops/linknote.h"
#include "ops/recdir.h"
#include "ops/recover.h"
#include "ops/rescue.h"
#include "ops/session_uart.h"
#include "target/an3155_link.h"
#include "target/dfuse_link.h"
#include "sim/sim.h"

void ops_open_opts_init(struct ops_open_opts *o)
{
	memset(o, 0, sizeof *o);
	o->match.have_vid = o->match.have_pid = true;
	o->match.vid = STM32_ROM_VID;
	o->match.pid = STM32_ROM_PID;
	o->retries = 3;
	o->first_answer_ms = target_dfuse_mass_erase_ms();
}

void ops_set_progress(struct ops_session *s, ops_progress_fn fn, void *ctx)
{
	s->progress = fn;
	s->progress_ctx = ctx;
}

void ops_report(struct ops_session *s, enum ops_phase phase, uint64_t done, uint64_t total, const char *unit)
{
	if (!s->progress)
		return;
	uint64_t now = clock_now_us(ops_clock(s));
	if ((int)phase != s->progress_phase) {
		s->progress_phase = (int)phase;
		s->phase_t0_us = s->last_report_us ? s->last_report_us : s->t0_us;
	}
	s->last_report_us = now;
	struct ops_progress p = {phase, done, total, now - s->phase_t0_us, unit};
	s->progress(s->progress_ctx, &p);
}

const struct clock *ops_clock(const struct ops_session *s)
{
	if (s->tp)
		return s->tp->clock;
	return s->ser ? s->ser->clock : clock_real();
}

const struct target_link *ops_info(const struct ops_session *s)
{
	return &s->info;
}

void ops_info_refresh(struct ops_session *s)
{
	target_link_of(s->t, &s->info);
	if (s->uart_sim)
		snprintf(s->info.path, sizeof s->info.path, "sim-uart");
}

const char *ops_link_name(const struct ops_session *s)
{
	return s->link == OPS_LINK_UART ? "uart" : "usb";
}

const char *ops_port_name(const struct ops_session *s)
{
	if (s->link != OPS_LINK_UART)
		return "";
	if (s->uart_sim)
		return "sim-uart";
	return s->ser_raw ? s->ser_raw->name : s->ser ? s->ser->name : "";
}

/* Opens the raw transport: the emulator, or the one libusb device the options select (target/
 * asks each chip its UID for -S UID). */
static int open_transport(const struct ops_open_opts *o, const struct chip_selector *sel, struct tp **out,
                          struct err *e)
{
	struct target_usb_want w = {.match = o->match, .open_tp = o->open_tp, .open_tp_ctx = o->open_tp_ctx,
	                            .wait = {o->first_answer_ms, o->on_held, o->held_ctx}};
	if (o->sim_spec) {
		w.sim_spec = o->sim_spec[0] ? o->sim_spec : OPS_DEFAULT_SIM_PROFILE;
		w.sim = (struct tp_sim_opts){o->profile_dir, o->clock, o->sim_persist};
	}
	return target_usb_find(&w, sel, out, e);
}

/* The emulator is one device, and -d, -p and -S select it or not exactly as they would on USB
 * (a UID selector is checked once the session can read the UID). */
static int sim_selected(const struct ops_open_opts *o, const struct chip_selector *sel, const struct tp_info *in,
                        struct err *e)
{
	const struct target_usb_match *m = &o->match;
	if ((m->have_vid && m->vid != in->vid) || (m->have_pid && m->pid != in->pid))
		return err_set(e, STM32DFU_E_NO_DEVICE, "no DFU device matches -d %04x:%04x: the emulated device is %04x:%04x",
		               m->vid, m->pid, in->vid, in->pid);
	if (m->path && strcmp(m->path, in->path) != 0)
		return err_set(e, STM32DFU_E_NO_DEVICE, "no DFU device at path %s: the emulated device's path is %s", m->path,
		               in->path);
	if (sel && sel->kind == CHIP_SEL_USB_SERIAL && !chip_selector_matches(sel, in->serial, NULL))
		return err_set(e, STM32DFU_E_NO_DEVICE, "no DFU device matches {@sel} %s: the emulated device's serial is %s",
		               sel->serial, in->serial);
	return 0;
}

/*
 * -t: checked once the descriptors are read, before any memory is touched. The device takes at
 * most its wTransferSize per transfer (DFU11 §4.1.3; a longer DNLOAD or UPLOAD STALLs); a block
 * must hold whole programming units of the flash (the family's write_align; a unit split over
 * two blocks would be programmed twice, which ECC flash refuses). The family comes from the alt
 * settings' names (no I/O); with several candidates the largest unit counts.
 */
static int check_transfer_size(struct ops_session *s, struct err *e)
{
	unsigned t = s->opts.transfer_size, most = s->t->max_transfer;
	if (!t)
		return 0;
	if (t > most) {
		err_set(e, STM32DFU_E_USAGE, "{@xfer} %u: the device takes at most %u bytes per transfer (its wTransferSize)",
		        t, most);
		err_hint(e, "give {@xfer} %u or less, or leave {@xfer} out to use the device's own size", most);
		return STM32DFU_E_USAGE;
	}
	struct chip_evidence ev = {.has_vid = true, .vid = ops_info(s)->vid};
	for (unsigned a = 0; a < s->map->n && a < CHIP_MAX_ALTS; a++)
		ev.alt_names[ev.n_alts++] = s->map->mem[a].name;
	struct chip_identity ci;
	chip_identify(&ev, &ci);
	unsigned align = 8; /* not a chip we know: a double-word, the largest common unit */
	const char *what = "an unknown device's";
	if (ci.family) {
		align = ci.family->write_align ? ci.family->write_align : 1;
		what = ci.family->name;
		for (size_t i = 0; i < sizeof ci.alternatives / sizeof ci.alternatives[0] && ci.alternatives[i]; i++)
			if (ci.alternatives[i]->write_align > align)
				align = ci.alternatives[i]->write_align;
	}
	if (t % align) {
		unsigned down = t / align * align;
		err_set(e, STM32DFU_E_USAGE, "{@xfer} %u: not a whole number of %u-byte flash programming units (%s)", t,
		        align, what);
		err_hint(e, "give a multiple of %u, e.g. {@xfer} %u", align, down ? down : align);
		return STM32DFU_E_USAGE;
	}
	s->xfer_size = (uint16_t)t;
	return 0;
}

/* --poll auto asks a busy chip early only where that is safe: a family seen to STALL an early
 * GETSTATUS (F072, openmv #1508: pydfu's at-once second GETSTATUS; dfu-util, which waits, works)
 * gets every bwPollTimeout waited from the start. The family comes from the alt names (no I/O). */
static void choose_poll_mode(struct ops_session *s)
{
	if (s->opts.poll_spec)
		return;
	struct chip_evidence ev = {.has_vid = true, .vid = ops_info(s)->vid};
	for (unsigned a = 0; a < s->map->n && a < CHIP_MAX_ALTS; a++)
		ev.alt_names[ev.n_alts++] = s->map->mem[a].name;
	struct chip_identity ci;
	chip_identify(&ev, &ci);
	bool stalls = ci.family && (ci.family->quirks & CHIP_Q_EARLY_STATUS_STALLS);
	for (size_t i = 0; ci.family && i < sizeof ci.alternatives / sizeof ci.alternatives[0] && ci.alternatives[i]; i++)
		stalls = stalls || (ci.alternatives[i]->quirks & CHIP_Q_EARLY_STATUS_STALLS);
	if (!stalls || !target_dfuse_poll_wait_all(s->dfu))
		return;
	log_info("%s ROMs STALL a GETSTATUS sent before bwPollTimeout: every poll is waited", ci.family->name);
}

int ops_open(const struct ops_open_opts *o, struct ops_session **out, struct err *e)
{
	*out = NULL;
	struct chip_selector sel;
	bool have_sel = false;
	if (o->selector) {
		if (!chip_serial_parse_selector(o->selector, &sel))
			return err_set(e, STM32DFU_E_USAGE, "{@sel} '%s': expected a USB serial or a 24-digit UID", o->selector);
		have_sel = true;
	}
	struct ops_session *s = calloc(1, sizeof *s);
	if (!s)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	atomic_init(&s->cancel_req, 0);
	s->opts = *o;
	s->progress_phase = -1;
	err_clear(&s->err);
	char sim_rest[512];
	bool sim_uart = false;
	int rc;
	if (o->sim_spec && (rc = ops_sim_link(o->sim_spec, sim_rest, sizeof sim_rest, &sim_uart, NULL, 0, e)) < 0) {
		free(s);
		return rc;
	}
	if (o->reset_seq && !o->port && !sim_uart) {
		free(s);
		err_set(e, STM32DFU_E_USAGE, "{@reset-seq} drives a serial port's DTR and RTS: it needs {@port} (or "
		        "{@sim-uart})");
		return STM32DFU_E_USAGE;
	}
	if (o->reset_seq) {
		/* parsed before the port is opened: a wrong sequence sends nothing */
		s->seq = calloc(1, sizeof *s->seq);
		if (!s->seq) {
			free(s);
			return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
		}
		if ((rc = target_an3155_seq_parse(o->reset_seq, s->seq, e)) < 0) {
			free(s->seq);
			free(s);
			return rc;
		}
	}
	if (o->port || sim_uart) {
		if ((rc = ops_open_uart(s, o, sim_uart ? sim_rest : NULL, e)) < 0) {
			ops_close(s);
			return rc;
		}
		return ops_open_uart_rest(s, o, have_sel ? &sel : NULL, out, e);
	}
	struct tp *raw = NULL;
	struct ops_open_opts usb = *o;
	if (o->sim_spec)
		usb.sim_spec = sim_rest; /* without link=usb */
	rc = open_transport(&usb, have_sel ? &sel : NULL, &raw, e);
	if (rc < 0) {
		free(s);
		return rc;
	}
	if (o->sim_spec && (rc = sim_selected(o, have_sel ? &sel : NULL, &raw->info, e)) < 0) {
		target_usb_close(raw);
		free(s);
		return rc;
	}
	if ((rc = target_usb_traced(raw, &s->tp, e)) < 0) {
		free(s);
		return rc;
	}
	/* the session's own requests wait for a first answer only if the device has given none yet */
	s->tp->first_answer_ms = o->first_answer_ms;
	s->tp->on_held = o->on_held;
	s->tp->held_ctx = o->held_ctx;
	s->tp->answered = raw->answered;
	if (o->trace_path && (rc = target_usb_trace_file(s->tp, o->trace_path)) < 0) {
		err_set(e, rc, "{@trace} %s: cannot write the file", o->trace_path);
		ops_close(s);
		return rc;
	}
	s->t0_us = clock_now_us(ops_clock(s));
	if (o->rescue_dir) {
		snprintf(s->rescue_dir, sizeof s->rescue_dir, "%s", o->rescue_dir);
	} else {
		/* an emulated chip keeps its recovery files beside its state file; one that is not kept
		 * (tests, the library's throw-away sims) has nothing to recover into: no files */
		const char *state = target_usb_sim_state(raw);
		struct err de;
		char sim_dir[1024];
		/* chips behind virtual USB (stm32dfu-sim) keep theirs apart from real chips' (recdir.h) */
		if (!state && ops_usb_emulated() && ops_state_folder("sim/chip", sim_dir, sizeof sim_dir))
			state = sim_dir;
		err_clear(&de);
		if ((!state || state[0]) && rescue_dir(state, s->rescue_dir, sizeof s->rescue_dir, &de) < 0) {
			s->rescue_dir[0] = '\0';
			snprintf(s->rescue_why, sizeof s->rescue_why, "%.200s", de.msg);
		}
	}
	/* a bad link can lose any of the first requests (strings, GETSTATUS): try again, bounded */
	for (unsigned i = 0;; i++) {
		rc = target_dfuse_start(s->tp, o->poll_spec, &s->dfu, &s->initial, e);
		/* a device silent past the first-answer ceiling is hung, not busy: asking again only
		 * costs time (and nothing here resets it: a reset would cut a busy chip's erase short) */
		if (rc == 0 || i >= o->retries || !rec_retryable(rc) || rc == STM32DFU_E_DISCONNECTED ||
		    s->tp->first_answer_spent)
			break;
		log_info("retry %u: opening the device failed (%s); trying again", i + 1, stm32dfu_errname(rc));
		s->counters.retries++;
		target_dfuse_end(s->dfu, false);
		s->dfu = NULL;
	}
	if (rc < 0) {
		ops_close(s);
		return rc;
	}
	s->map = target_dfuse_map(s->dfu);
	uint64_t held_us = raw->held_us > s->tp->held_us ? raw->held_us : s->tp->held_us;
	s->first_answer_held_ms = (unsigned)(held_us / 1000u);
	if (s->first_answer_held_ms)
		log_info("the device answered after %u ms (it held the requests: most likely flash work an earlier "
		         "session started was still running)",
		         s->first_answer_held_ms);
	if ((rc = target_dfuse_new(s->dfu, &s->t, e)) < 0) {
		ops_close(s);
		return rc;
	}
	ops_info_refresh(s);
	if ((rc = check_transfer_size(s, e)) < 0) {
		ops_close(s);
		return rc;
	}
	choose_poll_mode(s);
	/* before the UID is read, any noted board with this serial counts (ops_identify narrows it) */
	s->link_marginal = ops_link_note_suspect(s);
	if (s->link_marginal)
		log_info("doctor judged the link of a board with this serial marginal: reads are confirmed by a second read");
	if (s->initial.error)
		log_info("the device was in dfuERROR (%s) and was cleared", target_dfuse_status_name(s->initial.bStatus));
	if (o->sim_spec && have_sel && sel.kind == CHIP_SEL_UID) {
		ops_identify(s);
		if (!chip_selector_matches(&sel, NULL, s->id.has_uid ? s->id.uid : NULL)) {
			bool read = s->id.has_uid;
			ops_close(s);
			err_set(e, STM32DFU_E_NO_DEVICE, "no DFU device has the UID given with {@sel} (the emulated chip's %s)",
			        read ? "differs" : "could not be read");
			err_hint(e, "{@list} shows each device's UID");
			return STM32DFU_E_NO_DEVICE;
		}
	}
	*out = s;
	return 0;
}

void ops_close(struct ops_session *s)
{
	if (!s)
		return;
	target_close(s->t);
	/* the ABORT a last request left due, unless a last read put it off (dfu-util's way) */
	target_dfuse_end(s->dfu, s->tp && !s->end_in_upload_idle);
	target_usb_close(s->tp);
	free(s->map_own);
	rescue_hold_close(s->rescue_hold);
	/* the emulated chip's state saved, the port closed */
	target_an3155_close(&(struct target_uart_link){.ser = s->ser, .bl = s->bl}, s->ser_raw, s->uart_state);
	free(s->seq);
	if (s->trace_open) {
		struct err te;
		err_clear(&te);
		if (file_out_commit(&s->trace_out, &te) < 0)
			log_warn("the trace file: %s", te.msg);
	}
	free(s);
}

const struct layout_mem *ops_flash_alt(const struct ops_session *s)
{
	const struct layout_mem *a = layout_map_find(s->map, "Internal Flash");
	if (a)
		return a;
	/* non-ST DfuSe devices: the first alt with a writable layout */
	for (unsigned i = 0; i < s->map->n; i++)
		if (s->map->mem[i].have_layout)
			return &s->map->mem[i];
	return NULL;
}

int ops_no_flash(struct ops_session *s)
{
	for (unsigned i = 0; i < s->map->n; i++) {
		const struct layout_mem *a = &s->map->mem[i];
		if (a->layout_error[0]) {
			err_set(&s->err, STM32DFU_E_PROTOCOL, "alt %u's memory layout \"%.200s\" is refused: %s", a->alt,
			        text_esc(0, a->name), a->layout_error);
			err_hint(&s->err, "the device describes a memory no STM32 has; stm32dfu does not write by it");
			return STM32DFU_E_PROTOCOL;
		}
	}
	return err_set(&s->err, STM32DFU_E_UNSUPPORTED, "the device names no flash memory in its alt settings");
}

bool ops_reads_confirmed(const struct ops_session *s)
{
	/* AN3155 Read Memory data carries no checksum, only each byte's parity (docs/usart.md) */
	return s->opts.confirm_reads || s->link_marginal || s->counters.retries > 0 || !ops_dfuse(s);
}

bool ops_link_faulted(const struct ops_session *s)
{
	struct target_link link = {0};
	if (s->t)
		target_link_of(s->t, &link);
	return s->opts.confirm_reads || s->link_marginal || s->counters.retries > 0 || link.faults > 0;
}

/* Over USART, where the ROM lists Get Checksum: the chip's CRC of the range against the CRC of
 * what was read, one command instead of a second read. true when they agree. */
static bool confirmed_by_checksum(struct ops_session *s, uint32_t addr, const uint8_t *buf, size_t len)
{
	if (ops_dfuse(s) || !(s->t->caps & TARGET_CAP_CHECKSUM) || !len || len % 4 || addr % 4 || len > UINT32_MAX)
		return false;
	uint32_t crc = 0;
	if (s->t->ops->checksum(s->t, addr, (uint32_t)len, &crc) < 0) {
		log_info("Get Checksum at 0x%08X failed (%s): confirming by a second read", addr, s->t->err.msg);
		return false;
	}
	s->counters.confirm_checksums++;
	if (crc == target_crc(buf, len))
		return true;
	log_info("the read at 0x%08X differs from the chip's checksum: reading it again", addr);
	return false;
}

int ops_read_mem(struct ops_session *s, uint8_t alt, uint32_t addr, uint8_t *buf, size_t len, int phase)
{
	/* the single read path: retries, re-syncs and smaller transfers live in recover.c */
	return rec_read(s, alt, addr, buf, len, phase);
}

int ops_read_mem_sure(struct ops_session *s, uint8_t alt, uint32_t addr, uint8_t *buf, size_t len, int phase)
{
	int rc = ops_read_mem(s, alt, addr, buf, len, phase);
	if (rc < 0 || !ops_reads_confirmed(s))
		return rc;
	if (confirmed_by_checksum(s, addr, buf, len))
		return 0;
	log_info("confirming the read at 0x%08X by a second read (%s)", addr,
	         s->opts.confirm_reads ? "every read confirmed on request"
	         : s->link_marginal   ? "doctor judged the link marginal"
	         : !ops_dfuse(s)      ? "USART Read Memory data has no checksum"
	                              : "the link failed in this session");
	char differ[80];
	snprintf(differ, sizeof differ, "read 0x%08X (%zu bytes): two reads differ", (unsigned)addr, len);
	return ops_read_again(s, alt, addr, buf, len, OPS_PHASE_CONFIRM, differ, "reading twice");
}

int ops_read_again(struct ops_session *s, uint8_t alt, uint32_t addr, uint8_t *buf, size_t len, int phase,
                   const char *differ, const char *activity)
{
	uint8_t *again = malloc(len ? len : 1);
	if (!again)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	int rc;
	/* after a disagreement, reads go on until two in a row agree */
	for (unsigned i = 0;; i++) {
		s->counters.confirm_reads++;
		if ((rc = ops_read_mem(s, alt, addr, again, len, phase)) < 0 || memcmp(again, buf, len) == 0)
			break;
		memcpy(buf, again, len);
		err_set(&s->err, STM32DFU_E_VERIFY, "%s", differ);
		if (i >= s->opts.retries || !rec_spend(s, STM32DFU_E_VERIFY, activity)) {
			err_hint(&s->err, "reads are unreliable on this link: run {@doctor}");
			rc = STM32DFU_E_VERIFY;
			break;
		}
	}
	free(again);
	return rc;
}

bool ops_canceled(struct ops_session *s)
{
	bool by_signal = s->opts.cancel && *s->opts.cancel;
	if (!by_signal && !atomic_load_explicit(&s->cancel_req, memory_order_relaxed))
		return false;
	if (s->err.code != STM32DFU_E_CANCELED)
		err_set(&s->err, STM32DFU_E_CANCELED, "stopped on request (%s) between two transfers",
		        by_signal ? "SIGINT or SIGTERM" : "a cancel call");
	return true;
}

void ops_cancel(struct ops_session *s)
{
	atomic_store_explicit(&s->cancel_req, 1, memory_order_relaxed);
}

void ops_cancel_reset(struct ops_session *s)
{
	atomic_store_explicit(&s->cancel_req, 0, memory_order_relaxed);
}

struct name_list {
	char **v;
	size_t n, cap;
	bool oom;
};

static void add_name(const char *name, void *ctx)
{
	struct name_list *l = ctx;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof *v);
		if (!v) {
			l->oom = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	char *copy = strdup(name);
	if (!copy) {
		l->oom = true;
		return;
	}
	l->v[l->n++] = copy;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ops_sim_profile_names(char ***out, size_t *n)
{
	struct name_list l = {0};
	sim_profile_names(NULL, add_name, &l);
	if (l.oom) {
		ops_free_names(l.v, l.n);
		return STM32DFU_E_NO_MEMORY;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof *l.v, cmp_names);
	*out = l.v;
	*n = l.n;
	return 0;
}

void ops_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
