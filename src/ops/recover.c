/* Recovery on a bad link: retries, re-synchronisation, reconnection, smaller transfers. */
#include "ops/recover.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "target/an3155_link.h"
#include "target/dfuse_link.h"

/* the ROM's reads and writes accept 2..2048 bytes (AN3156 §4.1); below 64 (one full-speed
 * packet) a smaller transfer no longer dodges packet errors */
#define REC_MIN_CHUNK 64u
/* A clean read is one run: one Set Address, then blocks 2, 3, ... up to the 16-bit block number
 * (each Set Address costs a ~100 ms status poll on the ST ROM, protocol.md 2.7). Progress is
 * reported every REC_PROGRESS_STEP bytes within the run. */
#define REC_MAX_RUN_BLOCKS TARGET_MAX_RUN_PIECES
#define REC_PROGRESS_STEP (32u * 1024u)
/* how long a chip that reset itself (disconnect) gets to come back: AN2606 USB connection time
 * is about 230 ms; a hub and the OS add seconds */
#define REC_RECONNECT_MS 5000u

bool rec_retryable(int rc)
{
	switch (rc) {
	case STM32DFU_E_USB_IO:
	case STM32DFU_E_TIMEOUT:
	case STM32DFU_E_STALL:
	case STM32DFU_E_DISCONNECTED:
	case STM32DFU_E_DFU_STATUS: /* errVENDOR (protection) is STM32DFU_E_PROTECTED, not this */
	case STM32DFU_E_PROTOCOL:   /* a wrong state after a lost reply, or a short reply */
		return true;
	default:
		return false;
	}
}

bool rec_permanent(const struct ops_session *s, int rc)
{
	/* errTARGET: the chip does not serve that address (AN3156 §5.1); asking again gets the same */
	return rc == STM32DFU_E_RANGE || (rc == STM32DFU_E_DFU_STATUS && s->t && s->t->ops->refused_address(s->t));
}

bool rec_worth_retry(const struct ops_session *s, int rc)
{
	return rec_retryable(rc) && !rec_permanent(s, rc);
}

bool rec_busy_wedge(const struct ops_session *s, int rc)
{
	return rc == STM32DFU_E_TIMEOUT && s->t && s->t->ops->stayed_busy(s->t);
}

uint32_t rec_shrink(struct ops_session *s, uint32_t chunk, const char *what)
{
	/* half, on a whole number of full-speed packets (64 bytes, a multiple of every family's
	 * programming unit), never below one packet */
	uint32_t half = chunk / 2u / REC_MIN_CHUNK * REC_MIN_CHUNK;
	if (chunk <= REC_MIN_CHUNK || half < REC_MIN_CHUNK)
		return 0;
	s->counters.transfer_splits++;
	log_info("%s: %u-byte transfers from now on", what, (unsigned)half);
	return half;
}

unsigned rec_budget(const struct ops_session *s)
{
	/* A fixed part (a 1 MiB write at a 1 % failure rate needs about 60 retries) plus one retry per
	 * four transfers made: a marginal link that fails one exchange in five, split into small
	 * transfers, still gets through, while a dead link ends on the per-block limit in seconds. */
	unsigned r = s->opts.retries;
	if (r == 0)
		return 0;
	size_t made = s->tp ? target_usb_requests(s->tp) : 0;
	if (s->ser)
		made = target_an3155_writes(s->ser);
	return 64u + 128u * r + (unsigned)(made / 4u);
}

/* after this many retries of one cause in one session, say early what is going on (the budget may
 * allow many more, and a long write would otherwise be silent about it until the end) */
#define REC_WARN_AFTER 3
/* A chip that stayed in dfuDNBUSY past every poll this many times in a row, with no block moved or
 * command done in between, is not brought back by asking again: the operation ends. One that
 * recovers after each wedge clear (CLRSTATUS twice, H7 rev V past an address) goes on. Each such
 * retry costs a whole ceiling (5 s and more), and the link's budget (hundreds of retries) would
 * hold the tool for half an hour on a chip, or a device, that never ends its busy state
 * (tests/fuzz/host: hostile-busy-forever-*). */
#define REC_BUSY_MAX 3
/* ... and this many in a session, progress or not: a chip that wedges on every block would
 * otherwise cost a ceiling per block (1 MiB in 2048-byte blocks: 512 x 5 s, 43 minutes; the
 * campaign's seed 701 hit its 300 s limit so). At this bound a session waits at most about 40 s
 * in wedges; the real H7 rev V wedge is on erase, once per sector, cleared apart (clear_erase_wedge)
 * and not counted here. */
#define REC_BUSY_SESSION_MAX 8
/* A request that times out waited a whole timeout (5 s) for a device that NAKed it: a hung ROM, not
 * a packet lost on a flaky link (that is a CRC or PID error, USB_IO, within milliseconds). After this
 * many timeouts in a row without any progress in between, the operation ends; a device that never
 * answered GETSTATUS held each command for minutes (tests/fuzz/host, found-status-timeout-*). */
#define REC_SILENT_MAX 3

/* The bus reported the board gone (opts.departed): sets s->err. */
static bool departed(struct ops_session *s)
{
	if (!s->opts.departed || !*s->opts.departed)
		return false;
	err_set(&s->err, STM32DFU_E_DISCONNECTED, "the board was unplugged (the bus reported it gone)");
	err_hint(&s->err, "plug it back in: it is programmed again from the start");
	return true;
}

/* ops_reconnect, in short slices when the caller watches the bus, so that a board reported gone
 * fails at once instead of after the whole wait. */
static int reconnect_watching(struct ops_session *s, unsigned ms)
{
	if (!s->opts.departed)
		return ops_reconnect(s, ms);
	uint64_t end = clock_now_us(ops_clock(s)) + (uint64_t)ms * 1000u;
	for (;;) {
		if (departed(s))
			return STM32DFU_E_DISCONNECTED;
		uint64_t now = clock_now_us(ops_clock(s));
		unsigned slice = end > now + 200000u ? 200u : (unsigned)((end > now ? end - now : 0) / 1000u);
		int rc = ops_reconnect(s, slice ? slice : 1);
		if (rc == 0 || (rc != STM32DFU_E_DISCONNECTED && rc != STM32DFU_E_TIMEOUT) ||
		    clock_now_us(ops_clock(s)) >= end)
			return rc;
	}
}

/* Why a transfer is being repeated. Only the first is the link's doing (what doctor measures and a
 * cable, a hub or the HSE margin explain); the others are named for what they are. */
enum rec_cause {
	REC_LINK,     /* a CRC or PID error, a timeout, a STALL, a lost or short reply */
	REC_GONE,     /* the device left the bus: unplugged, pulled from a station, or it reset */
	REC_CHIP,     /* the chip answered with a DFU error status, or a rewritten sector still reads back
	               * wrong: the flash refused the step or does not keep it (a worn sector) */
	REC_BUSY,     /* the chip answered, but stays busy (dfuDNBUSY) past every poll. DfuSe only:
	               * AN3155 has no busy state to poll (target_an3155.c stayed_busy is always false);
	               * over USART a flash operation that does not end is an ACK that never comes, a
	               * timeout (REC_LINK), so the messages below may name the DfuSe state
	               * (tests/proto/test_ops_uartnoise.c test_no_dfuse_busy_over_usart) */
};

static enum rec_cause cause_of(const struct ops_session *s, int rc)
{
	if (rc == STM32DFU_E_DISCONNECTED)
		return REC_GONE;
	if (rc == STM32DFU_E_DFU_STATUS || rc == STM32DFU_E_VERIFY)
		return REC_CHIP;
	if (rec_busy_wedge(s, rc))
		return REC_BUSY;
	return REC_LINK;
}

static unsigned *cause_count(struct ops_session *s, enum rec_cause c)
{
	switch (c) {
	case REC_GONE: return &s->counters.departures;
	case REC_CHIP: return &s->counters.chip_errors;
	case REC_BUSY: return &s->counters.busy_stuck;
	case REC_LINK: break;
	}
	return &s->counters.link_faults;
}

static void warn_cause(const struct ops_session *s, enum rec_cause c, unsigned n)
{
	switch (c) {
	case REC_LINK:
		log_warn("the %s link is failing: %u transfers had to be repeated so far (the work goes on); "
		         "{@doctor} measures the link and names the likely cause", ops_dfuse(s) ? "USB" : "serial", n);
		break;
	case REC_GONE:
		if (ops_dfuse(s))
			log_warn("the device is gone from the bus (unplugged, pulled out, or it reset): not a link fault; "
			         "%u tries to find it again so far", n);
		else
			log_warn("the chip stopped answering on the serial port (unplugged, or it reset): not a line fault; "
			         "%u tries to find it again so far", n);
		break;
	case REC_CHIP:
		log_warn("the chip refused or did not keep %u steps (%s, or a sector that reads back "
		         "wrong after its rewrite: worn flash): not a link fault", n,
		         ops_dfuse(s) ? "a DFU error status" : "a NACK");
		break;
	case REC_BUSY:
		log_warn("the chip stayed busy (dfuDNBUSY) past every poll %u times: its flash operation does not "
		         "end; not a link fault", n);
		break;
	}
}

/* what to do when the retries run out, by the cause of the last failure */
static void give_up_hint(struct ops_session *s, enum rec_cause c, int rc)
{
	switch (c) {
	case REC_GONE:
		if (ops_dfuse(s))
			err_hint(&s->err, "the device left the bus and did not come back: check that it is plugged in (and "
			                  "BOOT0 high), then run the command again; this is not a USB link fault");
		else
			err_hint(&s->err, "the chip stopped answering on the serial port and did not come back: check its "
			                  "wiring and that BOOT0 is high ({@reset-seq} on a fixture), then run the command "
			                  "again; this is not a line fault");
		return;
	case REC_CHIP:
		err_hint(&s->err, "the chip itself refused the step (%s): a worn or protected sector, or a wrong "
		                  "address; {@ob-show} shows the protection", ops_dfuse(s) ? "a DFU error status" : "a NACK");
		return;
	case REC_BUSY:
		err_hint(&s->err, "the chip's flash operation never ended (dfuDNBUSY): power-cycle the board into the "
		                  "bootloader; if it recurs on one sector, the flash there is worn");
		return;
	case REC_LINK:
		break;
	}
	if (rc == STM32DFU_E_TIMEOUT && s->counters.resyncs == 0)
		err_hint(&s->err, "the bootloader stopped answering (a ROM hang, not a flaky link): power-cycle the board "
		                  "into the bootloader and run the command again");
	else if (ops_dfuse(s))
		err_hint(&s->err, "the USB link keeps failing: run {@doctor} for the likely cause (port, hub, "
		                  "crystal, temperature); {@retries} allows more tries");
	else
		err_hint(&s->err, "the serial line keeps failing: {@doctor} over the port finds the fastest rate that "
		                  "holds; a lower {@baud N} or a shorter cable helps; {@retries} allows more tries");
}

bool rec_spend(struct ops_session *s, int rc, const char *what)
{
	if (ops_canceled(s) || departed(s))
		return false; /* asked to stop, or the board is gone: no more tries */
	enum rec_cause c = cause_of(s, rc);
	if (s->counters.retries >= rec_budget(s)) {
		err_prefix(&s->err, "giving up after %u retries in this operation (last: %s)", s->counters.retries, what);
		give_up_hint(s, c, rc);
		return false;
	}
	if (rc == STM32DFU_E_TIMEOUT && ++s->silent_in_row > REC_SILENT_MAX) {
		err_prefix(&s->err, "giving up: the device answered none of the last %u requests in time (last: %s)",
		           s->silent_in_row, what);
		give_up_hint(s, c, rc);
		return false;
	}
	if (c == REC_BUSY && ++s->busy_in_row >= REC_BUSY_MAX) {
		err_prefix(&s->err, "giving up: the chip stayed busy past every poll %u times in a row without progress (last: %s)",
		           s->busy_in_row, what);
		give_up_hint(s, c, rc);
		return false;
	}
	if (c == REC_BUSY && s->counters.busy_stuck + 1 >= REC_BUSY_SESSION_MAX) {
		err_prefix(&s->err, "giving up: the chip stayed busy past every poll %u times in this session, each a whole "
		           "wait (last: %s)", s->counters.busy_stuck + 1, what);
		give_up_hint(s, c, rc);
		return false;
	}
	s->counters.retries++;
	unsigned *n = cause_count(s, c);
	(*n)++;
	log_info("retry %u: %s failed (%s: %s); re-synchronising", s->counters.retries, what, stm32dfu_errname(rc),
	         s->err.msg);
	if (*n >= REC_WARN_AFTER && !(s->counters.warned & (1u << c))) {
		s->counters.warned |= 1u << c;
		warn_cause(s, c, *n);
	}
	return true;
}

/* One attempt: the bootloader back where a request may start (DfuSe: dfuIDLE on alt). */
static int resync_once(struct ops_session *s, uint8_t alt, int cause)
{
	int rc;
	if (cause == STM32DFU_E_DISCONNECTED) {
		log_info("the device went away: finding it again by its UID");
		if ((rc = reconnect_watching(s, REC_RECONNECT_MS)) < 0)
			return rc;
	}
	if ((rc = s->t->ops->resync(s->t, alt, true)) < 0) {
		s->err = s->t->err;
		return rc;
	}
	s->counters.resyncs++;
	return 0;
}

int rec_resync(struct ops_session *s, uint8_t alt, int cause)
{
	int rc = cause;
	for (unsigned i = 0; i <= s->opts.retries; i++) {
		rc = resync_once(s, alt, rc == STM32DFU_E_DISCONNECTED ? rc : cause);
		if (rc == 0 || !rec_retryable(rc))
			return rc;
		cause = 0;
		if (!rec_spend(s, rc, "re-synchronising"))
			return rc;
	}
	return err_prefix(&s->err, "the device does not come back to dfuIDLE");
}

int rec_peek_state(struct ops_session *s, int *state)
{
	int rc = s->t->ops->peek(s->t, state);
	if (rc < 0) {
		s->err = s->t->err;
		return rc;
	}
	s->counters.resyncs++;
	return 0;
}

enum rec_cmd { REC_SET_ADDRESS, REC_ERASE };

static bool all_ff(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return false;
	return true;
}

/*
 * The H7 rev V erase wedge (protocol.md 2.7, betaflight PR #1861): the ROM erased the sector but
 * stays in dfuDNBUSY. Called only once the erase's ceiling has passed with the chip still busy.
 * CLRSTATUS until dfuIDLE (the first gives errUNKNOWN/dfuERROR, the second dfuIDLE), then the
 * sector is read: blank means the erase is done and is not repeated (CubeProgrammer takes it as
 * done without looking; we look). *blank says which.
 */
static int clear_erase_wedge(struct ops_session *s, uint8_t alt, uint32_t addr, uint32_t size, bool *blank)
{
	*blank = false;
	log_info("the erase at 0x%08X stays busy past its ceiling (the H7 rev V wedge): CLRSTATUS, "
	         "then a blank check", addr);
	int rc = s->t->ops->clear_busy(s->t);
	if (rc < 0) {
		s->err = s->t->err;
		return rc;
	}
	s->counters.wedges_cleared++;
	uint8_t *buf = malloc(size);
	if (!buf)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	rc = ops_read_mem(s, alt, addr, buf, size, -1);
	if (rc == 0)
		*blank = all_ff(buf, size);
	free(buf);
	return rc;
}

static int retry_cmd(struct ops_session *s, uint8_t alt, enum rec_cmd cmd, uint32_t addr, uint32_t size)
{
	unsigned fails = 0;
	for (;;) {
		int rc = cmd == REC_SET_ADDRESS ? s->t->ops->point(s->t, addr, false) : s->t->ops->erase_at(s->t, addr);
		if (rc == 0) {
			s->silent_in_row = 0;
			s->busy_in_row = 0;
			return 0;
		}
		s->err = s->t->err;
		if (cmd == REC_ERASE && size && rc == STM32DFU_E_TIMEOUT && s->t->ops->stayed_busy(s->t)) {
			bool blank;
			int wr = clear_erase_wedge(s, alt, addr, size, &blank);
			if (wr == 0 && blank)
				return 0;
			if (wr < 0)
				rc = wr;
			else
				log_info("the sector at 0x%08X is not blank after the wedge: erasing it again", addr);
		}
		const char *what = cmd == REC_SET_ADDRESS ? "set address" : "erase";
		if (!rec_worth_retry(s, rc) || ++fails > s->opts.retries)
			/* the target's message already names the command and its address */
			return fails > 1 ? err_prefix(&s->err, "after %u tries", fails) : rc;
		if (!rec_spend(s, rc, what))
			return rc;
		if ((rc = rec_resync(s, alt, rc)) < 0)
			return err_prefix(&s->err, "%s 0x%08X", what, addr);
	}
}

int rec_set_address(struct ops_session *s, uint8_t alt, uint32_t addr)
{
	return retry_cmd(s, alt, REC_SET_ADDRESS, addr, 0);
}

int rec_erase(struct ops_session *s, uint8_t alt, uint32_t addr, uint32_t size)
{
	return retry_cmd(s, alt, REC_ERASE, addr, size);
}

size_t rec_erase_batch(const struct ops_session *s, const struct plan_sector *secs, size_t n)
{
	size_t max = s->t && s->t->erase_batch > 1 ? s->t->erase_batch : 1, k = 1;
	uint64_t bytes = n ? secs[0].size : 0;
	while (k < n && k < max && bytes + secs[k].size <= REC_ERASE_BATCH_BYTES)
		bytes += secs[k++].size;
	return n ? k : 0;
}

int rec_erase_list(struct ops_session *s, uint8_t alt, const struct plan_sector *secs, size_t n)
{
	if (n == 1)
		return rec_erase(s, alt, secs[0].start, secs[0].size);
	unsigned *idx = malloc(n * sizeof *idx);
	if (!idx)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < n; i++)
		idx[i] = secs[i].index;
	unsigned fails = 0;
	int rc;
	for (;;) {
		if ((rc = s->t->ops->erase(s->t, idx, n)) == 0) {
			s->silent_in_row = 0;
			s->busy_in_row = 0;
			break;
		}
		s->err = s->t->err;
		if (!rec_worth_retry(s, rc) || ++fails > s->opts.retries) {
			if (fails > 1)
				err_prefix(&s->err, "after %u tries", fails);
			break;
		}
		if (!rec_spend(s, rc, "erase"))
			break;
		if ((rc = rec_resync(s, alt, rc)) < 0) {
			err_prefix(&s->err, "erase 0x%08X", secs[0].start);
			break;
		}
	}
	free(idx);
	return rc;
}

int rec_read(struct ops_session *s, uint8_t alt, uint32_t addr, uint8_t *buf, size_t len, int phase)
{
	struct target *t = s->t;
	int rc;
	const char *const upload = ops_dfuse(s) ? "UPLOAD" : "Read Memory"; /* the request, in the link's words */
	if ((uint64_t)addr + len > (uint64_t)UINT32_MAX + 1)
		return err_set(&s->err, STM32DFU_E_RANGE, "read 0x%08X + %zu runs past 4 GiB", addr, len);
	if ((rc = t->ops->select(t, alt)) < 0) {
		s->err = t->err;
		if ((rc = rec_resync(s, alt, rc)) < 0)
			return rc;
	}
	const uint32_t ts = s->t->max_transfer;
	const uint32_t cap = s->xfer_size && s->xfer_size < ts ? s->xfer_size : ts; /* -t */
	/* the read chooser (ops/xfersize.h): its cap follows -t and the device's size */
	if (!s->xa_read.cap)
		xfer_adapt_init(&s->xa_read, cap);
	else
		xfer_adapt_cap(&s->xa_read, cap);
	uint32_t last_chunk = 0;
	uint32_t piece_cap = 0; /* a piece that keeps failing is split below the chosen size (0: none) */
	size_t pos = 0;
	size_t slice_end = 0;  /* a new pointer is due when pos reaches it */
	size_t reported = 0;
	unsigned fails = 0;
	while (pos < len) {
		if (ops_canceled(s))
			return STM32DFU_E_CANCELED;
		uint64_t t0 = clock_now_us(ops_clock(s));
		uint32_t chunk = xfer_adapt_next(&s->xa_read);
		if (piece_cap && chunk > piece_cap)
			chunk = piece_cap;
		if (chunk != last_chunk)
			slice_end = pos; /* a new size: the ROM places blocks by its own wTransferSize, so a new pointer */
		last_chunk = chunk;
		uint32_t at = addr + (uint32_t)pos;
		size_t n = len - pos < chunk ? len - pos : chunk;
		const char *what = "read";
		if (pos >= slice_end) {
			/* full-size chunks: one pointer per run, blocks 2, 3, ...; smaller chunks: a pointer
			 * each, because the ROM places block k at ITS wTransferSize */
			size_t span = chunk == ts ? (size_t)REC_MAX_RUN_BLOCKS * ts : chunk;
			if ((rc = t->ops->point(t, at, true)) < 0) {
				what = "set address before a read";
				goto failed;
			}
			slice_end = pos + span;
		}
		if ((rc = t->ops->upload(t, at, buf + pos, n)) < 0) {
			what = upload;
			goto failed;
		}
		xfer_adapt_ok(&s->xa_read, (uint32_t)n, clock_now_us(ops_clock(s)) - t0);
		pos += n;
		fails = 0;
		s->silent_in_row = 0;
		s->busy_in_row = 0;
		piece_cap = 0;
		if (phase >= 0 && pos - reported >= REC_PROGRESS_STEP) {
			ops_report(s, (enum ops_phase)phase, s->progress_base + pos,
			           s->progress_total ? s->progress_total : len, "B");
			reported = pos;
		}
		if (pos == len) {
			/* the read's last frame: dfuUPLOAD-IDLE until the next request needs dfuIDLE */
			t->ops->abort(t, true);
		} else if (pos >= slice_end) {
			/* full frames leave dfuUPLOAD-IDLE (DFU11 §6.2): back to dfuIDLE */
			if ((rc = t->ops->abort(t, false)) < 0) {
				what = "ABORT after a read"; /* the data is in; the re-sync aborts */
				goto failed;
			}
		}
		continue;
	failed:
		s->err = t->err;
		/* at the smallest transfer there is no other strategy left: more tries, still within the
		 * operation's budget */
		unsigned limit = chunk <= REC_MIN_CHUNK ? 4u * s->opts.retries : s->opts.retries;
		if (!rec_worth_retry(s, rc) || ++fails > limit) {
			err_prefix(&s->err, "read 0x%08X (%zu bytes)%s", at, n, fails > 1 ? ", after retries" : "");
			/* leave the device usable for the next request: a refused read leaves dfuERROR */
			t->ops->resync(t, -1, false);
			return rc;
		}
		if (!rec_spend(s, rc, what))
			return rc;
		/* an UPLOAD lost on the link: a read changes nothing, so when the chip is where an UPLOAD
		 * may be asked (dfuIDLE, or dfuUPLOAD-IDLE when it sent the frame) the same block is asked
		 * again at the same pointer; else the long way (re-sync, a new pointer). A bootloader with
		 * no state to ask takes the long way. */
		int state = TARGET_ST_OTHER;
		bool again = false;
		if ((rc == STM32DFU_E_USB_IO || rc == STM32DFU_E_TIMEOUT) && what == upload) {
			int q = rec_peek_state(s, &state);
			again = q == 0 && (state == TARGET_ST_IDLE || state == TARGET_ST_UPLOAD_IDLE);
			if (q < 0 && q != STM32DFU_E_UNSUPPORTED &&
			    !rec_spend(s, q, "GETSTATE after a lost UPLOAD")) /* a lost GETSTATE is a retry too */
				return q;
		}
		if (!again && (rc = rec_resync(s, alt, rc)) < 0)
			return err_prefix(&s->err, "read 0x%08X", at);
		/* the loss at this length, with what the recovery cost: the chooser weighs both */
		xfer_adapt_fail(&s->xa_read, (uint32_t)n, clock_now_us(ops_clock(s)) - t0);
		uint32_t half;
		if (fails >= (s->opts.retries > 2 ? s->opts.retries : 2u) && (half = rec_shrink(s, (uint32_t)n, "a read keeps failing")) != 0) {
			piece_cap = half; /* one piece that keeps failing: split it, whatever the chooser says */
			fails = 0;        /* a shorter piece gets its own tries */
		}
		if (!again)
			slice_end = pos; /* start again at the failing block with a fresh Set Address */
	}
	if (phase >= 0 && reported != len)
		ops_report(s, (enum ops_phase)phase, len, len, "B");
	return 0;
}
