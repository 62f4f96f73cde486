/*
 * The field reports of data/field/ (issue 22), each reproduced by the profile of its chip: what the
 * ROM did in a user's hands, asserted at the request level on a fake clock.
 */
#include "sim_test.h"

static const uint8_t vector[8] = {0x00, 0x18, 0x00, 0x20, 0x01, 0x01, 0x00, 0x08}; /* MSP, reset | 1 */

/* F072 (openmv #1508): a GETSTATUS sent at once after the busy reply to a data DNLOAD is STALLed;
 * waiting bwPollTimeout (dfu-util) works */
static void test_f072_early_getstatus_stalls(void **state)
{
	(void)state;
	struct simt *t = simt_new("f0-32k");
	uint8_t st;
	uint32_t poll;
	uint8_t block[1024];
	memset(block, 0x5A, sizeof block);
	simt_simple(t, DFU_CLRSTATUS); /* the ROM starts in dfuERROR */
	assert_int_equal(simt_set_address(t, 0x08000000, &st), dfuDNLOAD_IDLE);
	assert_int_equal(simt_dnload(t, 2, block, sizeof block), SIM_OK);
	assert_int_equal(simt_status(t, &st, &poll), dfuDNBUSY);
	assert_int_equal(poll, 72);
	assert_int_equal(simt_req(t, USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATUS, 0, 6, NULL), SIM_STALL);
	assert_int_equal(t->d->state, dfuERROR);
	assert_int_equal(t->d->status, errSTALLEDPKT);
	simt_free(t);
	/* the same block, the poll waited: dfuDNLOAD-IDLE and the bytes are there */
	t = simt_new("f0-32k");
	simt_simple(t, DFU_CLRSTATUS);
	assert_int_equal(simt_write(t, 0x08000000, block, sizeof block, &st), dfuDNLOAD_IDLE);
	uint8_t back[1024];
	assert_true(sim_mem_read(t->d, 0x08000000, back, sizeof back));
	assert_memory_equal(back, block, sizeof back);
	simt_free(t);
}

/* G4 (G431 web-stm32-updater #3, G4-class dfu-util -v log): wTransferSize 1024, a 2048-byte DNLOAD
 * STALLs, 1024 works; CLRSTATUS in dfuIDLE leaves the ROM in dfuERROR, where a DNLOAD STALLs */
static void test_g4_transfer_size_and_clrstatus(void **state)
{
	(void)state;
	struct simt *t = simt_new("g474");
	uint8_t st;
	assert_int_equal(t->d->transfer_size, 1024);
	uint8_t cfg[256];
	size_t n = sim_config_desc(t->d, cfg, sizeof cfg);
	assert_true(n >= 9);
	assert_int_equal(cfg[n - 9 + 5] | cfg[n - 9 + 6] << 8, 1024); /* the functional descriptor */
	static uint8_t big[2048];
	memset(big, 0x11, sizeof big);
	assert_int_equal(simt_set_address(t, 0x08000000, &st), dfuDNLOAD_IDLE);
	assert_int_equal(simt_dnload(t, 2, big, 2048), SIM_STALL);
	assert_int_equal(simt_run(t, 2, big, 1024, &st), dfuDNLOAD_IDLE);
	simt_simple(t, DFU_ABORT);
	struct sim_stats ss;
	sim_get_stats(t->d, &ss);
	assert_int_equal(ss.clrstatus_not_error, 0);
	assert_int_equal(simt_simple(t, DFU_CLRSTATUS), SIM_OK);
	assert_int_equal(t->d->state, dfuERROR);
	sim_get_stats(t->d, &ss);
	assert_int_equal(ss.clrstatus_not_error, 1);
	uint8_t c[5] = {DFUSE_CMD_SET_ADDRESS, 0x00, 0x00, 0x00, 0x08};
	assert_int_equal(simt_dnload(t, 0, c, 5), SIM_STALL);
	simt_free(t);
}

/* H743 (CubeProgrammer log): the FIRST GETSTATUS after an erase comes back when the erase is done
 * (0.9 s for a 128 KiB sector), saying dfuDNBUSY; the next one at once says dfuDNLOAD-IDLE */
static void test_h743_first_status_held(void **state)
{
	(void)state;
	struct simt *t = simt_new("h743");
	uint8_t st;
	uint32_t poll;
	uint8_t c[5] = {DFUSE_CMD_ERASE, 0x00, 0x00, 0x02, 0x08};
	assert_int_equal(simt_dnload(t, 0, c, 5), SIM_OK);
	uint64_t asked = t->clk.now;
	assert_int_equal(simt_status(t, &st, &poll), dfuDNBUSY);
	uint64_t answered = sim_answer_at_us(t->d);
	assert_true(answered >= asked + 900000);
	assert_true(answered < asked + 910000);
	t->clk.now = answered;
	assert_int_equal(simt_status(t, &st, &poll), dfuDNLOAD_IDLE);
	assert_true(sim_answer_at_us(t->d) - answered < 2000); /* 1-2 ms in the log */
	simt_free(t);
	/* the F4 class holds the second one instead: its first answer is at once */
	t = simt_new("f407");
	uint8_t e[5] = {DFUSE_CMD_ERASE, 0x00, 0x00, 0x00, 0x08};
	assert_int_equal(simt_dnload(t, 0, e, 5), SIM_OK);
	asked = t->clk.now;
	assert_int_equal(simt_status(t, &st, &poll), dfuDNBUSY);
	assert_true(sim_answer_at_us(t->d) - asked < 1000);
	simt_free(t);
}

/* F42x (community.st.com 27098): the flash string's descriptor says bLength 166, 112 bytes come;
 * the F40x sends its string whole */
static void test_f42x_string_cut(void **state)
{
	(void)state;
	struct simt *t = simt_new("f429");
	assert_int_equal(simt_req(t, 0x80, 6 /* GET_DESCRIPTOR */, 0x0304, 255, NULL), SIM_OK);
	assert_int_equal(t->actual, 112);
	assert_int_equal(t->buf[0], 166);
	assert_int_equal(t->buf[1], 3);
	/* what came is the first bank's map: 55 characters, ending "07*128Kg" */
	char got[64];
	for (int i = 0; i < 55; i++)
		got[i] = (char)t->buf[2 + 2 * i];
	got[55] = '\0';
	assert_string_equal(got, "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg");
	/* the other strings are whole */
	assert_int_equal(simt_req(t, 0x80, 6, 0x0305, 255, NULL), SIM_OK);
	assert_int_equal(t->actual, t->buf[0]);
	simt_free(t);
	t = simt_new("f407");
	assert_int_equal(simt_req(t, 0x80, 6, 0x0304, 255, NULL), SIM_OK);
	assert_int_equal(t->actual, t->buf[0]);
	simt_free(t);
}

/* C071 (LibUsbDfu #13): after a download, a zero-length DNLOAD without a Set Address right before
 * it ends in dfuERROR; with one (CubeProgrammer, dfu-util :leave) the chip leaves */
static void test_c071_leave_needs_set_address(void **state)
{
	(void)state;
	struct simt *t = simt_new("c071");
	uint8_t st;
	uint8_t block[1024];
	memset(block, 0xFF, sizeof block);
	memcpy(block, vector, sizeof vector);
	assert_int_equal(simt_write(t, 0x08000000, block, sizeof block, &st), dfuDNLOAD_IDLE);
	assert_int_equal(simt_dnload(t, 2, NULL, 0), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuERROR);
	assert_int_equal(sim_link_state(t->d), SIM_LINK_UP);
	/* cleared, then Set Address and the leave: it goes */
	simt_simple(t, DFU_CLRSTATUS);
	assert_int_equal(simt_set_address(t, 0x08000000, &st), dfuDNLOAD_IDLE);
	assert_int_equal(simt_dnload(t, 2, NULL, 0), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuMANIFEST);
	assert_int_equal(sim_link_state(t->d), SIM_LINK_GONE);
	simt_free(t);
	/* an F4 leaves without one (the pointer of the last download) */
	t = simt_new("f407");
	memcpy(block, vector, sizeof vector);
	assert_int_equal(simt_write(t, 0x08000000, block, sizeof block, &st), dfuDNLOAD_IDLE);
	assert_int_equal(simt_dnload(t, 2, NULL, 0), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuMANIFEST);
	simt_free(t);
}

/* AT32F415 (flashfloppy #584): READ_UNPROTECT's GETSTATUS says dfuDNLOAD-IDLE, and the chip still
 * resets (the unprotect took effect); an ST profile says dfuDNBUSY */
static void test_at32_unprotect_answers_idle(void **state)
{
	(void)state;
	struct simt *t = simt_new("at32f415");
	uint8_t st, c[1] = {DFUSE_CMD_READ_UNPROTECT};
	assert_int_equal(t->d->vid, 0x2E3C);
	assert_int_equal(simt_dnload(t, 0, c, 1), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuDNLOAD_IDLE);
	assert_int_equal(st, 0);
	assert_int_equal(sim_link_state(t->d), SIM_LINK_RESETTING);
	simt_free(t);
	t = simt_new("f407");
	assert_int_equal(simt_dnload(t, 0, c, 1), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuDNBUSY);
	simt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_f072_early_getstatus_stalls),
		cmocka_unit_test(test_g4_transfer_size_and_clrstatus),
		cmocka_unit_test(test_h743_first_status_held),
		cmocka_unit_test(test_f42x_string_cut),
		cmocka_unit_test(test_c071_leave_needs_set_address),
		cmocka_unit_test(test_at32_unprotect_answers_idle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
