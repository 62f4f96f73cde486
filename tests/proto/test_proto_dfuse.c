/*
 * DfuSe operations against the in-process emulator, asserting the USB transcript (tp_trace):
 * one Set Address per contiguous run, consecutive block numbers of exactly wTransferSize bytes
 * (the last may be short), one GETSTATUS per DNLOAD plus one per busy reply, and sleeps that add
 * up to exactly the bwPollTimeouts of the busy replies (so no sleep after an idle reply).
 * Device time runs on a fake clock, so even the timed profiles finish at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/rd.h"
#include "dfu/dfuse.h"
#include "sim/sim.h"
#include "usb/tp_sim.h"
#include "usb/tp_trace.h"

struct fixture {
	struct clock_fake fake;
	struct tp *tp; /* the trace */
	struct dfu_dev *dev;
	struct sim_device *sim;
	struct dfu_getstatus initial;
	size_t start_requests, start_clrstatus; /* GETSTATUS, CLRSTATUS */ /* what the session start sent */
};

/* starts a new phase: forget the transcript, the sleeps and the session counters */
static void phase_reset(struct fixture *f)
{
	tp_trace_forget(f->tp);
	f->fake.slept_us = 0;
	f->fake.sleeps = 0;
	memset(&f->dev->stats, 0, sizeof f->dev->stats);
}

/* the tests of the spec wait rule poll as DFU11 says; the adaptive tests set DFU_POLL_AUTO */
static enum dfu_poll_mode fixture_poll = DFU_POLL_SPEC;

static struct fixture *open_fixture(const char *spec)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	clock_fake_init(&f->fake);
	struct tp_sim_opts o = {.profile_dir = PROFILE_DIR, .clock = &f->fake.clock};
	struct tp *sim;
	struct err e;
	err_clear(&e);
	if (tp_sim_open(spec, &o, &sim, &e) != 0)
		fail_msg("tp_sim_open(%s): %s", spec, e.msg);
	f->tp = tp_trace_wrap(sim);
	assert_non_null(f->tp);
	f->sim = tp_sim_device(f->tp);
	assert_non_null(f->sim);
	if (dfu_open(f->tp, &f->dev, &e) != 0)
		fail_msg("dfu_open: %s", e.msg);
	f->dev->poll_mode = fixture_poll;
	if (dfu_session_start(f->dev, &f->initial) != 0)
		fail_msg("session start: %s", f->dev->err.msg);
	if (dfu_set_alt(f->dev, 0) != 0)
		fail_msg("set alt: %s", f->dev->err.msg);
	f->start_requests = tp_trace_count(f->tp, TP_REQ_GETSTATUS);
	f->start_clrstatus = tp_trace_count(f->tp, TP_REQ_CLRSTATUS);
	phase_reset(f);
	return f;
}

static void close_fixture(struct fixture *f)
{
	dfu_free(f->dev);
	tp_close(f->tp);
	free(f);
}

/* the status record of a recorded GETSTATUS */
static struct dfu_getstatus rec_status(const struct tp_rec *r)
{
	struct dfu_getstatus st = {0};
	assert_int_equal(dfu_status_parse(r->data, r->data_len, &st), 0);
	return st;
}

/*
 * The invariants of the wait rule over a whole transcript: each DNLOAD is followed by GETSTATUS
 * polls until one is not busy; the host slept exactly the busy replies' bwPollTimeouts.
 */
static void check_waits(struct fixture *f)
{
	size_t n;
	const struct tp_rec *r = tp_trace_records(f->tp, &n);
	uint64_t busy_ms = 0;
	unsigned busy_nonzero = 0, dnloads = 0, polls = 0, busy = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].setup.bmRequestType == USB_RT_CLASS_OUT_INTERFACE && r[i].setup.bRequest == DFU_DNLOAD &&
		    r[i].setup.wLength > 0)
			dnloads++;
		if (r[i].cls != TP_REQ_GETSTATUS || r[i].result != 6)
			continue;
		polls++;
		struct dfu_getstatus st = rec_status(&r[i]);
		if (st.bState == dfuDNBUSY) {
			busy++;
			busy_ms += st.bwPollTimeout;
			busy_nonzero += st.bwPollTimeout != 0;
			/* after a busy reply the next request is the GETSTATUS that follows the sleep */
			assert_true(i + 1 < n);
			assert_int_equal(r[i + 1].cls, TP_REQ_GETSTATUS);
			assert_int_equal(r[i + 1].t_us - r[i].t_end_us, (uint64_t)st.bwPollTimeout * 1000u);
		} else if (i + 1 < n) {
			/* no sleep after a reply that is not busy */
			assert_int_equal(r[i + 1].t_us, r[i].t_end_us);
		}
	}
	/* the host's own sleeps are the polls; the rest of the clock is bus time and held answers */
	assert_int_equal(f->dev->stats.slept_us, busy_ms * 1000u);
	assert_true(f->fake.sleeps >= busy_nonzero);
	assert_int_equal(f->dev->stats.busy_replies, busy);
	(void)dnloads;
	(void)polls;
}

/* a run: one Set Address, then blocks 2, 3, ... of the class cls, all wTransferSize but the last */
static void check_run(struct fixture *f, enum tp_req_class cls, uint32_t addr, size_t len)
{
	size_t n;
	const struct tp_rec *r = tp_trace_records(f->tp, &n);
	const unsigned ts = f->dev->transfer_size;
	unsigned set_addr = 0, block = DFUSE_FIRST_DATA_BLOCK;
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].cls == TP_REQ_SET_ADDRESS) {
			set_addr++;
			assert_int_equal(get_le32(r[i].data + 1), addr);
			assert_int_equal(bytes, 0); /* before the first block */
		}
		if (r[i].cls != cls)
			continue;
		assert_int_equal(r[i].setup.wValue, block);
		size_t want = len - bytes < ts ? len - bytes : ts;
		assert_int_equal(r[i].setup.wLength, want);
		bytes += want;
		block++;
	}
	assert_int_equal(set_addr, 1);
	assert_int_equal(bytes, len);
	assert_int_equal(tp_trace_count(f->tp, cls), (len + ts - 1) / ts);
}

static void test_read_run(void **state)
{
	(void)state;
	struct fixture *f = open_fixture("f746,timing=0");
	enum { LEN = 10000 };
	static uint8_t pattern[LEN], got[LEN];
	for (size_t i = 0; i < LEN; i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	assert_true(sim_mem_write(f->sim, 0x08000100, pattern, LEN));
	if (dfuse_read(f->dev, 0x08000100, got, LEN) != 0)
		fail_msg("%s", f->dev->err.msg);
	assert_memory_equal(got, pattern, LEN);
	check_run(f, TP_REQ_UPLOAD_DATA, 0x08000100, LEN);
	/* Set Address, its GETSTATUS polls, ABORT + GETSTATUS, 5 UPLOADs, ABORT */
	assert_int_equal(tp_trace_count(f->tp, TP_REQ_ABORT), 2);
	check_waits(f);
	close_fixture(f);
}

static void test_erase_write_run(void **state)
{
	(void)state;
	struct fixture *f = open_fixture("f746,timing=0");
	enum { LEN = 5000 };
	static uint8_t data[LEN], got[LEN];
	for (size_t i = 0; i < LEN; i++)
		data[i] = (uint8_t)(i ^ 0x5A);
	if (dfuse_erase_page(f->dev, 0x08008000) != 0)
		fail_msg("%s", f->dev->err.msg);
	assert_int_equal(tp_trace_count(f->tp, TP_REQ_ERASE), 1);
	check_waits(f);
	phase_reset(f);
	if (dfuse_write(f->dev, 0x08008000, data, LEN) != 0)
		fail_msg("%s", f->dev->err.msg);
	assert_true(sim_mem_read(f->sim, 0x08008000, got, LEN));
	assert_memory_equal(got, data, LEN);
	check_run(f, TP_REQ_DNLOAD_DATA, 0x08008000, LEN);
	/* exactly one GETSTATUS per DNLOAD plus one per busy reply */
	assert_int_equal(tp_trace_count(f->tp, TP_REQ_GETSTATUS), 1 + 3 + f->dev->stats.busy_replies);
	check_waits(f);
	close_fixture(f);
}

/* the same with the device's timing on (virtual time): real bwPollTimeouts, real busy periods */
static void test_timed_write_and_erase(void **state)
{
	(void)state;
	struct fixture *f = open_fixture("f746");
	enum { LEN = 3 * 2048 + 8 };
	static uint8_t data[LEN], got[LEN];
	memset(data, 0xA5, LEN);
	if (dfuse_erase_page(f->dev, 0x08000000) != 0)
		fail_msg("%s", f->dev->err.msg);
	if (dfuse_write(f->dev, 0x08000000, data, LEN) != 0)
		fail_msg("%s", f->dev->err.msg);
	assert_true(sim_mem_read(f->sim, 0x08000000, got, LEN));
	assert_memory_equal(got, data, LEN);
	assert_true(f->dev->stats.busy_replies >= 1);
	check_waits(f);
	printf("# f746 erase 32K + write %d B: %llu GETSTATUS, %llu busy, slept %llu ms\n", LEN,
	       (unsigned long long)f->dev->stats.getstatus, (unsigned long long)f->dev->stats.busy_replies,
	       (unsigned long long)(f->fake.slept_us / 1000u));
	close_fixture(f);
}

static void test_mass_erase(void **state)
{
	(void)state;
	struct fixture *f = open_fixture("f746");
	uint8_t b = 0;
	assert_true(sim_mem_write(f->sim, 0x08010000, &b, 1));
	if (dfuse_mass_erase(f->dev) != 0)
		fail_msg("%s", f->dev->err.msg);
	assert_true(sim_mem_read(f->sim, 0x08010000, &b, 1));
	assert_int_equal(b, 0xFF);
	assert_int_equal(tp_trace_count(f->tp, TP_REQ_MASS_ERASE), 1);
	struct sim_stats st;
	sim_get_stats(f->sim, &st);
	assert_int_equal(st.mass_erases, 1);
	check_waits(f);
	printf("# f746 mass erase: %llu GETSTATUS, slept %llu ms\n", (unsigned long long)f->dev->stats.getstatus,
	       (unsigned long long)(f->fake.slept_us / 1000u));
	close_fixture(f);
}

static void test_leave(void **state)
{
	(void)state;
	struct fixture *f = open_fixture("f746,timing=0");
	int r = dfuse_leave(f->dev, true, 0x08000000);
	if (r < 0)
		fail_msg("%s", f->dev->err.msg);
	assert_true(r == DFUSE_LEFT || r == DFUSE_LEFT_PROBABLY);
	assert_int_equal(tp_trace_count(f->tp, TP_REQ_SET_ADDRESS), 1);
	assert_int_equal(tp_trace_count(f->tp, TP_REQ_DNLOAD_ZERO), 1);
	close_fixture(f);
}

/* the F0 ROM starts in dfuERROR/errFIRMWARE (sigrok capture): CLRSTATUS, then dfuIDLE; its erase
 * and download polls are the capture's 40 and 72 ms */
static void test_f0_session_start_and_polls(void **state)
{
	(void)state;
	struct fixture *f = open_fixture("f0-32k");
	assert_int_equal(f->initial.bState, dfuERROR);
	assert_int_equal(f->initial.bStatus, errFIRMWARE);
	assert_int_equal(f->start_clrstatus, 1);
	/* GETSTATUS (dfuERROR), CLRSTATUS, GETSTATUS (dfuIDLE): nothing more */
	assert_int_equal(f->start_requests, 2);
	assert_int_equal(f->dev->transfer_size, 2048);
	if (dfuse_erase_page(f->dev, 0x08000000) != 0)
		fail_msg("%s", f->dev->err.msg);
	size_t n;
	const struct tp_rec *r = tp_trace_records(f->tp, &n);
	struct dfu_getstatus st = rec_status(&r[1]);
	assert_int_equal(st.bState, dfuDNBUSY);
	assert_int_equal(st.bwPollTimeout, 40);
	check_waits(f);
	close_fixture(f);
}

/* an injected STALL on the second data block: the error names block and address, and the next
 * session start brings the device back to dfuIDLE */
static void test_fault_and_recovery(void **state)
{
	(void)state;
	struct fixture *f = open_fixture("f746,timing=0");
	static uint8_t data[3 * 2048];
	memset(data, 0x11, sizeof data);
	assert_int_equal(dfuse_erase_page(f->dev, 0x08000000), 0);
	struct tp_fault fault = {.kind = TP_FAULT_STALL, .match = TP_REQ_DNLOAD_DATA, .nth = 2};
	assert_int_equal(tp_trace_add_fault(f->tp, &fault), 0);
	assert_int_equal(dfuse_write(f->dev, 0x08000000, data, sizeof data), STM32DFU_E_STALL);
	assert_string_equal(f->dev->err.msg, "write block 3 at 0x08000800: DNLOAD: STALL (injected)");
	assert_int_equal(dfu_session_start(f->dev, NULL), 0);
	assert_int_equal(f->dev->last.bState, dfuIDLE);
	close_fixture(f);
}

/*
 * --poll auto against the three busy models (profile key busy_reply), in virtual time on the F746
 * profile: erase a 32 KiB sector, write 3 blocks and a tail, read back. Each transcript shows
 * what the host did; the data must be on the chip and read back equal.
 */
static struct fixture *auto_write(const char *spec, uint8_t *data, size_t len)
{
	fixture_poll = DFU_POLL_AUTO;
	struct fixture *f = open_fixture(spec);
	fixture_poll = DFU_POLL_SPEC;
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 13 + 1);
	if (dfuse_erase_page(f->dev, 0x08000000) != 0 || dfuse_write(f->dev, 0x08000000, data, len) != 0)
		fail_msg("%s: %s", spec, f->dev->err.msg);
	uint8_t *got = malloc(len);
	assert_non_null(got);
	if (dfuse_read(f->dev, 0x08000000, got, len) != 0)
		fail_msg("%s: read: %s", spec, f->dev->err.msg);
	assert_memory_equal(got, data, len);
	assert_true(sim_mem_read(f->sim, 0x08000000, got, len));
	assert_memory_equal(got, data, len);
	free(got);
	return f;
}

/* the GETSTATUS records that follow the k-th DNLOAD (command or data) */
static size_t after_dnload(const struct tp_rec *r, size_t n, unsigned k)
{
	unsigned seen = 0;
	for (size_t i = 0; i < n; i++)
		if (r[i].setup.bmRequestType == USB_RT_CLASS_OUT_INTERFACE && r[i].setup.bRequest == DFU_DNLOAD &&
		    seen++ == k)
			return i + 1;
	fail_msg("no DNLOAD %u in the transcript", k);
	return 0;
}

static void test_poll_auto_hold(void **state)
{
	(void)state;
	enum { LEN = 3 * 2048 + 100 };
	static uint8_t data[LEN];
	struct fixture *f = auto_write("f746,busy_reply=hold", data, LEN);
	size_t n;
	const struct tp_rec *r = tp_trace_records(f->tp, &n);
	/* every DNLOAD: GETSTATUS dfuDNBUSY, then at once a second GETSTATUS, held by the ROM until the
	 * flash operation ended, answering dfuDNLOAD-IDLE; nothing slept */
	for (unsigned k = 0; k < 7; k++) { /* erase, set address, 4 blocks, the read's set address */
		size_t i = after_dnload(r, n, k);
		assert_int_equal(r[i].cls, TP_REQ_GETSTATUS);
		assert_int_equal(rec_status(&r[i]).bState, dfuDNBUSY);
		assert_int_equal(r[i + 1].cls, TP_REQ_GETSTATUS);
		assert_int_equal(r[i + 1].t_us, r[i].t_end_us);
		assert_int_equal(rec_status(&r[i + 1]).bState, dfuDNLOAD_IDLE);
	}
	/* the erase's second GETSTATUS came back when the 400 ms erase (DS10916, x8) was over */
	size_t e = after_dnload(r, n, 0);
	assert_true(r[e + 1].t_end_us - r[e].t_end_us >= 400000 - 1000);
	assert_int_equal(f->dev->stats.slept_us, 0);
	assert_int_equal(f->dev->stats.early_polls, 7);
	assert_int_equal(f->dev->poll_mode, DFU_POLL_AUTO);
	printf("# hold: erase 32K + %d B in %llu ms of device time, %llu GETSTATUS\n", LEN,
	       (unsigned long long)(f->fake.now / 1000u), (unsigned long long)f->dev->stats.getstatus);
	close_fixture(f);
}

static void test_poll_auto_busy(void **state)
{
	(void)state;
	enum { LEN = 3 * 2048 + 100 };
	static uint8_t data[LEN];
	struct fixture *f = auto_write("f746,busy_reply=busy", data, LEN);
	size_t n;
	const struct tp_rec *r = tp_trace_records(f->tp, &n);
	/* the erase: dfuDNBUSY, an early GETSTATUS also dfuDNBUSY: asynchronous, the poll from now on */
	size_t i = after_dnload(r, n, 0);
	assert_int_equal(rec_status(&r[i]).bState, dfuDNBUSY);
	assert_int_equal(r[i + 1].t_us, r[i].t_end_us);
	assert_int_equal(rec_status(&r[i + 1]).bState, dfuDNBUSY);
	assert_int_equal(f->dev->poll_mode, DFU_POLL_SPEC);
	assert_string_equal(f->dev->poll_fallback, "busy");
	assert_int_equal(f->dev->stats.early_polls, 1);
	/* from the early reply on, every busy reply was waited exactly */
	for (size_t k = i + 1; k + 1 < n; k++)
		if (r[k].cls == TP_REQ_GETSTATUS && r[k].result == 6 && rec_status(&r[k]).bState == dfuDNBUSY)
			assert_int_equal(r[k + 1].t_us - r[k].t_end_us, (uint64_t)rec_status(&r[k]).bwPollTimeout * 1000u);
	close_fixture(f);
}

static void test_poll_auto_stall(void **state)
{
	(void)state;
	enum { LEN = 3 * 2048 + 100 };
	static uint8_t data[LEN];
	struct fixture *f = auto_write("f746,busy_reply=stall", data, LEN);
	size_t n;
	const struct tp_rec *r = tp_trace_records(f->tp, &n);
	/* the erase: dfuDNBUSY, the early GETSTATUS STALLs; the host waits the poll and asks again */
	size_t i = after_dnload(r, n, 0);
	uint32_t poll = rec_status(&r[i]).bwPollTimeout;
	assert_int_equal(rec_status(&r[i]).bState, dfuDNBUSY);
	assert_int_equal(r[i + 1].cls, TP_REQ_GETSTATUS);
	assert_int_equal(r[i + 1].result, STM32DFU_E_STALL);
	assert_int_equal(r[i + 1].t_us, r[i].t_end_us);
	assert_int_equal(r[i + 2].cls, TP_REQ_GETSTATUS);
	assert_int_equal(r[i + 2].t_us - r[i + 1].t_end_us, (uint64_t)poll * 1000u);
	assert_int_equal(f->dev->poll_mode, DFU_POLL_SPEC);
	assert_string_equal(f->dev->poll_fallback, "stall");
	/* after the fallback every GETSTATUS waits the last poll first (the erase takes 400 ms, four
	 * polls: the ROM keeps stalling until it is done) */
	for (size_t k = i + 2; k + 1 < n; k++)
		if (r[k].cls == TP_REQ_GETSTATUS && r[k].result == STM32DFU_E_STALL)
			assert_true(r[k + 1].t_us - r[k].t_end_us >= (uint64_t)poll * 1000u);
	assert_true(f->dev->stats.status_stalls_retried >= 1);
	close_fixture(f);
}

/* hold in-process: a host whose transfer timeout is shorter than the held answer sees a timeout
 * (as dfu-util on the F767 mass erase); the chip went on, and its next answer waits for EP0 */
static void test_hold_timeout_in_process(void **state)
{
	(void)state;
	fixture_poll = DFU_POLL_AUTO;
	struct fixture *f = open_fixture("f746,busy_reply=hold");
	fixture_poll = DFU_POLL_SPEC;
	uint8_t b = 0;
	assert_true(sim_mem_write(f->sim, 0x08000010, &b, 1));
	f->dev->limits.control_ms = 100;
	f->dev->limits.erase_ms = 150; /* the 32 KiB sector takes 400 ms (DS10916, x8) */
	uint64_t t0 = f->fake.now;
	assert_int_equal(dfuse_erase_page(f->dev, 0x08000000), STM32DFU_E_TIMEOUT);
	size_t n;
	const struct tp_rec *r = tp_trace_records(f->tp, &n);
	assert_int_equal(r[n - 1].cls, TP_REQ_GETSTATUS);
	assert_int_equal(r[n - 1].result, STM32DFU_E_TIMEOUT);
	/* it gave up at the erase's ceiling (its transfer timeout), before the erase was done */
	assert_true(r[n - 1].t_end_us - t0 >= 145000u && r[n - 1].t_end_us - t0 < 155000u);
	/* the next request is answered when the erase is over, with its outcome */
	f->dev->limits.control_ms = 5000;
	struct dfu_getstatus st;
	assert_int_equal(dfu_get_status(f->dev, &st), 0);
	assert_int_equal(st.bState, dfuDNLOAD_IDLE);
	assert_true(f->fake.now - t0 >= 400000);
	assert_true(sim_mem_read(f->sim, 0x08000010, &b, 1));
	assert_int_equal(b, 0xFF);
	close_fixture(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_run),
		cmocka_unit_test(test_erase_write_run),
		cmocka_unit_test(test_timed_write_and_erase),
		cmocka_unit_test(test_mass_erase),
		cmocka_unit_test(test_leave),
		cmocka_unit_test(test_f0_session_start_and_polls),
		cmocka_unit_test(test_fault_and_recovery),
		cmocka_unit_test(test_poll_auto_hold),
		cmocka_unit_test(test_poll_auto_busy),
		cmocka_unit_test(test_poll_auto_stall),
		cmocka_unit_test(test_hold_timeout_in_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
