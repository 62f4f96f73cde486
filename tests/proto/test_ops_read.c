/*
 * Read once (issue 13): USB's CRC16 protects every packet, so a read and the read-back of a partly
 * covered sector before a write are made once; a second, confirming read is made only after a link
 * fault in the session, when doctor judged the link marginal (remembered per board), or with
 * --confirm-reads. The transcript's UPLOAD count is the evidence: wTransferSize is 2048 on the F746
 * profile, so 64 KiB is 32 uploads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../state_dir.h"
#include "core/clock.h"
#include "image/image.h"
#include "ops/linknote.h"
#include "ops/ops.h"
#include "sim/sim.h"
#include "usb/tp_sim.h"
#include "usb/tp_trace.h"
#include "harness.h"

#define KIB 1024u
#define BLOCKS(n) ((n) / 2048u)

static struct clock_fake fake;

static struct ops_session *open_sim(const char *spec, bool confirm_reads)
{
	struct ops_open_opts o = harness_opts(spec, &fake);
	o.confirm_reads = confirm_reads;
	return harness_open(&o);
}

/* Reads 64 KiB at 0x08010000 (which holds a pattern put in through the emulator's back door) and
 * returns the number of data UPLOADs it took. */
static size_t read_64k(struct ops_session *s, bool may_confirm)
{
	struct sim_device *d = tp_sim_device(s->tp);
	uint8_t *want = malloc(64 * KIB), *got = malloc(64 * KIB);
	for (uint32_t i = 0; i < 64 * KIB; i++)
		want[i] = (uint8_t)(i * 13 + 5);
	assert_true(sim_mem_write(d, 0x08010000, want, 64 * KIB));
	tp_trace_forget(s->tp);
	assert_int_equal(ops_read(s, -1, 0x08010000, got, 64 * KIB, may_confirm), 0);
	assert_memory_equal(got, want, 64 * KIB);
	free(want);
	free(got);
	return tp_trace_count(s->tp, TP_REQ_UPLOAD_DATA);
}

static void test_read_once_by_default(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0", false);
	assert_false(s->link_marginal);
	assert_int_equal(read_64k(s, true), BLOCKS(64 * KIB));
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_SET_ADDRESS), 1);
	assert_int_equal(s->counters.confirm_reads, 0);
	ops_close(s);
}

static void test_confirm_reads_reads_twice(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0", true);
	assert_int_equal(read_64k(s, true), 2 * BLOCKS(64 * KIB));
	assert_int_equal(s->counters.confirm_reads, 1);
	/* --no-verify (may_confirm false) wins: one read */
	assert_int_equal(read_64k(s, false), BLOCKS(64 * KIB));
	ops_close(s);
}

/* A STALL in the middle of the read is a link fault: the read is retried, then confirmed. */
static void test_link_fault_makes_reads_confirmed(void **state)
{
	(void)state;
	struct ops_session *s = open_sim("f746,timing=0", false);
	struct sim_stats st;
	sim_get_stats(tp_sim_device(s->tp), &st);
	uint64_t before = st.control_transfers;
	ops_close(s);
	/* the same open again, then the 10th transfer of the read STALLs */
	char spec[64];
	snprintf(spec, sizeof spec, "f746,timing=0,stall_at=%llu", (unsigned long long)before + 10);
	s = open_sim(spec, false);
	size_t ups = read_64k(s, true);
	assert_true(s->counters.retries > 0);
	assert_int_equal(s->counters.confirm_reads, 1);
	assert_true(ups >= 2 * BLOCKS(64 * KIB));
	ops_close(s);
}

/* doctor's verdict is remembered for the board, by its UID, apart from real chips' (the state
 * folder's sim/): the next session of that board confirms its reads; a board with the same USB
 * serial and another UID confirms only its identity reads; a healthy verdict removes the note. */
static void test_marginal_doctor_verdict_is_remembered(void **state)
{
	(void)state;
	/* the same USB serial as the F746 profile's (the F4 rule on its UID), another UID */
	static const char other[] = "f746,timing=0,uid=004700353436510D31383138,serial=335437663436";
	struct ops_session *s = open_sim("f746,timing=0", false);
	assert_int_equal(ops_identify(s), 0);
	assert_string_equal(s->tp->info.serial, "335437663436");
	struct err e;
	err_clear(&e);
	struct ops_link_note n = {.reason = OPS_LINK_ERRORS};
	assert_int_equal(ops_link_note_record(s, &n, &e), 0);
	char path[512];
	assert_true(ops_link_note_path(s, path, sizeof path));
	assert_non_null(strstr(path, "/ops-read/stm32dfu/sim/link/002200363436510D33323730"));
	assert_int_equal(access(path, R_OK), 0);
	ops_close(s);

	s = open_sim(other, false);
	assert_true(s->link_marginal); /* a noted board has this serial: the identity reads are confirmed */
	assert_int_equal(ops_identify(s), 0);
	assert_false(s->link_marginal); /* but this board is not the noted one */
	assert_int_equal(read_64k(s, true), BLOCKS(64 * KIB));
	ops_close(s);

	s = open_sim("f746,timing=0", false);
	assert_true(s->link_marginal);
	assert_int_equal(ops_identify(s), 0);
	assert_true(s->link_marginal);
	assert_int_equal(read_64k(s, true), 2 * BLOCKS(64 * KIB));
	n.reason = OPS_LINK_HEALTHY;
	assert_int_equal(ops_link_note_record(s, &n, &e), 0);
	assert_int_not_equal(access(path, F_OK), 0);
	ops_close(s);

	s = open_sim("f746,timing=0", false);
	assert_false(s->link_marginal);
	assert_int_equal(read_64k(s, true), BLOCKS(64 * KIB));
	ops_close(s);
}

/* A write's read-back of a sector: a sector it covers only partly and will erase is read twice
 * before the erase (issue 21 item 5: the kept bytes are written back and verified against that
 * copy), with or without --confirm-reads; one it covers completely, or need not erase, once. */
static void partial_write(bool confirm_reads, uint32_t len, uint8_t fill, size_t want_uploads_before_erase)
{
	struct ops_session *s = open_sim("f746,timing=0", confirm_reads);
	uint8_t *data = malloc(len);
	memset(data, fill, len);
	struct img *img = img_new();
	assert_int_equal(img_add(img, 0, len >= 32 * KIB ? 0x08000000 : 0x08000100, data, len, NULL), 0);
	free(data);
	struct ops_write_opts wo;
	ops_write_opts_init(&wo);
	wo.verify = false;
	struct ops_write_result r;
	assert_int_equal(ops_identify(s), 0); /* its reads are not the write's */
	tp_trace_forget(s->tp);
	assert_int_equal(ops_write(s, img, &wo, &r), 0);
	assert_int_equal(r.sectors_touched, 1);
	assert_int_equal(tp_trace_count(s->tp, TP_REQ_UPLOAD_DATA), want_uploads_before_erase);
	img_free(img);
	ops_close(s);
}

/* A flip past CRC16 in an identity read (the virtual-USB campaign found it: a UID read with one bit
 * flipped named the recovery file after another chip, and the next write did not find it). Under
 * --confirm-reads the UID and the option bytes are read until two reads agree; without it, the same
 * fault does reach the identity, which shows the test can fail. */
static void test_identity_reads_confirmed(void **state)
{
	(void)state;
	static const uint8_t uid[12] = {0x36, 0x00, 0x22, 0x00, 0x0D, 0x51, 0x36, 0x34, 0x30, 0x37, 0x32, 0x33};
	struct ops_session *s = open_sim("f746,timing=0", false);
	assert_int_equal(ops_identify(s), 0);
	assert_true(s->id.has_uid && s->id.has_ob);
	assert_memory_equal(s->id.uid, uid, 12);
	uint8_t ob[sizeof s->id.ob];
	size_t ob_len = s->id.ob_len;
	memcpy(ob, s->id.ob, ob_len);
	ops_close(s);
	unsigned wrong_once = 0;
	for (unsigned n = 1; n <= 4; n++) { /* the identity's uploads: UID, flash size, bootloader ID, OB */
		char spec[64];
		snprintf(spec, sizeof spec, "f746,timing=0,seed=%u,corrupt_upload_at=%u", n, n);
		s = open_sim(spec, false);
		assert_int_equal(ops_identify(s), 0);
		wrong_once += memcmp(s->id.uid, uid, 12) != 0 || s->id.ob_len != ob_len || memcmp(s->id.ob, ob, ob_len) != 0;
		ops_close(s);
		s = open_sim(spec, true);
		assert_int_equal(ops_identify(s), 0);
		assert_true(s->id.has_uid && s->id.has_ob);
		assert_memory_equal(s->id.uid, uid, 12);
		assert_int_equal(s->id.ob_len, ob_len);
		assert_memory_equal(s->id.ob, ob, ob_len);
		assert_true(s->counters.confirm_reads >= 4);
		ops_close(s);
	}
	assert_true(wrong_once >= 2); /* the UID's and the option bytes' uploads were hit */
}

static void test_partial_sector_read_twice_before_erase(void **state)
{
	(void)state;
	/* + 2: without a verify the erased sector's first and last blocks are read back */
	partial_write(false, 100, 0x5A, 2 * BLOCKS(32 * KIB) + 2);
	partial_write(true, 100, 0x5A, 2 * BLOCKS(32 * KIB) + 2);
	/* the whole sector: nothing to keep, one read */
	partial_write(false, 32 * KIB, 0x5A, BLOCKS(32 * KIB) + 2);
	/* a part that already holds the image (the emulated chip is blank): no erase, one read */
	partial_write(false, 100, 0xFF, BLOCKS(32 * KIB));
}

int main(void)
{
	test_own_state_dir("ops-read");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_once_by_default),
		cmocka_unit_test(test_confirm_reads_reads_twice),
		cmocka_unit_test(test_link_fault_makes_reads_confirmed),
		cmocka_unit_test(test_marginal_doctor_verdict_is_remembered),
		cmocka_unit_test(test_identity_reads_confirmed),
		cmocka_unit_test(test_partial_sector_read_twice_before_erase),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
