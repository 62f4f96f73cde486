/* The ROM's DFU state machine (every request in every state) and the DfuSe engine. */
#include "sim_test.h"

enum req { R_DETACH, R_DNLOAD, R_DNLOAD0, R_UPLOAD, R_GETSTATUS, R_CLRSTATUS, R_GETSTATE, R_ABORT, R_COUNT };
static const char *const req_names[R_COUNT] = {"DETACH", "DNLOAD", "DNLOAD0", "UPLOAD",
					       "GETSTATUS", "CLRSTATUS", "GETSTATE", "ABORT"};

struct cell {
	enum sim_result r;
	int next; /* state after */
};
#define OK(s) {SIM_OK, s}
#define ST(s) {SIM_STALL, s}
#define NA(s) {SIM_NO_ANSWER, s}

/* Expected reply and next state for each (state, request): protocol.md 1.3 with the ST-MW rules
 * (a request invalid in the state STALLs and leaves the state; CLRSTATUS outside dfuERROR gives
 * dfuERROR/errUNKNOWN). UPLOAD asks 16 bytes of Get Commands: a short reply ends in dfuIDLE. */
static const struct cell table[DFU_STATE_COUNT][R_COUNT] = {
	/*                 DETACH  DNLOAD  DNLOAD0 UPLOAD  GETSTAT CLRSTAT GETSTATE ABORT */
	[appIDLE] = {OK(0), ST(0), ST(0), ST(0), OK(0), ST(0), OK(0), ST(0)},
	[appDETACH] = {OK(1), ST(1), ST(1), ST(1), OK(1), ST(1), OK(1), ST(1)},
	[dfuIDLE] = {OK(2), OK(3), OK(6), OK(2), OK(2), OK(10), OK(2), OK(2)},
	[dfuDNLOAD_SYNC] = {OK(3), ST(3), ST(3), ST(3), OK(4), OK(10), OK(3), OK(2)},
	[dfuDNBUSY] = {ST(4), ST(4), ST(4), ST(4), OK(5), OK(10), OK(4), ST(4)},
	[dfuDNLOAD_IDLE] = {OK(5), OK(3), OK(6), ST(5), OK(5), OK(10), OK(5), OK(2)},
	[dfuMANIFEST_SYNC] = {OK(6), ST(6), ST(6), ST(6), OK(7), OK(10), OK(6), OK(2)},
	[dfuMANIFEST] = {NA(7), NA(7), NA(7), NA(7), NA(7), NA(7), NA(7), NA(7)},
	[dfuMANIFEST_WAIT_RESET] = {NA(8), NA(8), NA(8), NA(8), NA(8), NA(8), NA(8), NA(8)},
	[dfuUPLOAD_IDLE] = {OK(9), ST(9), ST(9), OK(2), OK(9), OK(10), OK(9), OK(2)},
	[dfuERROR] = {OK(10), ST(10), ST(10), ST(10), OK(10), OK(2), OK(10), ST(10)},
};

static enum sim_result do_req(struct simt *t, enum req r)
{
	static const uint8_t setaddr[5] = {0x21, 0x00, 0x00, 0x00, 0x08};
	switch (r) {
	case R_DETACH:
		return simt_req(t, USB_RT_CLASS_OUT_INTERFACE, DFU_DETACH, 255, 0, NULL);
	case R_DNLOAD:
		return simt_dnload(t, 0, setaddr, 5);
	case R_DNLOAD0:
		return simt_dnload(t, 2, NULL, 0);
	case R_UPLOAD:
		return simt_upload(t, 0, 16);
	case R_GETSTATUS:
		return simt_req(t, USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATUS, 0, 6, NULL);
	case R_CLRSTATUS:
		return simt_simple(t, DFU_CLRSTATUS);
	case R_GETSTATE:
		return simt_req(t, USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATE, 0, 1, NULL);
	default:
		return simt_simple(t, DFU_ABORT);
	}
}

static void test_state_machine_table(void **state)
{
	(void)state;
	for (int s = 0; s < DFU_STATE_COUNT; s++) {
		for (int r = 0; r < R_COUNT; r++) {
			struct simt *t = simt_new("f746,timing=0");
			sim_test_force_state(t->d, (enum dfu_state)s, s == dfuERROR ? errTARGET : DFU_STATUS_OK);
			enum sim_result got = do_req(t, (enum req)r);
			const struct cell *c = &table[s][r];
			if (got != c->r || (int)t->d->state != c->next)
				fail_msg("state %d, %s: got result %d state %d, want %d state %d", s, req_names[r], got,
					 t->d->state, c->r, c->next);
			if (got == SIM_OK && r == R_GETSTATUS) {
				assert_int_equal(t->actual, 6);
				assert_int_equal(t->buf[4], c->next);
			}
			if (got == SIM_OK && r == R_GETSTATE) {
				assert_int_equal(t->actual, 1);
				assert_int_equal(t->buf[0], s);
			}
			if (r == R_CLRSTATUS && got == SIM_OK)
				assert_int_equal(t->d->status, s == dfuERROR ? DFU_STATUS_OK : errUNKNOWN);
			/* after the dfuMANIFEST answer the chip leaves the bus */
			if (s == dfuMANIFEST_SYNC && r == R_GETSTATUS)
				assert_int_not_equal(sim_link_state(t->d), SIM_LINK_UP);
			simt_free(t);
		}
	}
}

static void test_start_state_and_bad_requests(void **state)
{
	(void)state;
	struct simt *t = simt_new("f0-32k,timing=0");
	uint8_t st;
	assert_int_equal(simt_status(t, &st, NULL), dfuERROR);
	assert_int_equal(st, errFIRMWARE);
	assert_int_equal(simt_simple(t, DFU_CLRSTATUS), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuIDLE);
	/* wrong direction, interface, unknown request, reserved block 1, oversize */
	assert_int_equal(simt_req(t, USB_RT_CLASS_OUT_INTERFACE, DFU_GETSTATUS, 0, 0, NULL), SIM_STALL);
	struct usb_setup s = {USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATE, 0, 1, 1};
	assert_int_equal(sim_control(t->d, &s, t->buf, &t->actual), SIM_STALL);
	assert_int_equal(simt_req(t, USB_RT_CLASS_OUT_INTERFACE, 7, 0, 0, NULL), SIM_STALL);
	uint8_t data[8] = {0};
	assert_int_equal(simt_dnload(t, 1, data, 8), SIM_STALL);
	assert_int_equal(simt_upload(t, 1, 8), SIM_STALL);
	assert_int_equal(simt_upload(t, 2, 4096), SIM_STALL);
	uint8_t unknown[2] = {0x55, 0};
	assert_int_equal(simt_dnload(t, 0, unknown, 2), SIM_STALL);
	uint8_t badlen[3] = {0x21, 0, 0};
	assert_int_equal(simt_dnload(t, 0, badlen, 3), SIM_STALL);
	assert_int_equal(t->d->state, dfuIDLE);
	simt_free(t);
}

static void test_get_commands(void **state)
{
	(void)state;
	struct simt *t = simt_new("f746,timing=0");
	assert_int_equal(simt_upload(t, 0, 4), SIM_OK);
	assert_int_equal(t->actual, 4);
	static const uint8_t want[4] = {0x00, 0x21, 0x41, 0x92};
	assert_memory_equal(t->buf, want, 4);
	assert_int_equal(t->d->state, dfuUPLOAD_IDLE); /* a full-length reply */
	assert_int_equal(simt_upload(t, 0, 64), SIM_OK);
	assert_int_equal(t->actual, 4);
	assert_int_equal(t->d->state, dfuIDLE); /* a short reply ends the upload */
	simt_free(t);
}

static void test_set_address(void **state)
{
	(void)state;
	struct simt *t = simt_new("f746,timing=0");
	uint8_t st;
	assert_int_equal(simt_set_address(t, 0x08020000, &st), dfuDNLOAD_IDLE);
	assert_int_equal(t->d->pointer, 0x08020000);
	/* an address no memory serves: DNBUSY, then dfuERROR/errTARGET (protocol.md 2.3) */
	assert_int_equal(simt_dnload(t, 0, (uint8_t[]){0x21, 0, 0, 0, 0}, 5), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuDNBUSY);
	assert_int_equal(simt_status(t, &st, NULL), dfuERROR);
	assert_int_equal(st, errTARGET);
	simt_free(t);
}

static void test_erase_and_program(void **state)
{
	(void)state;
	struct simt *t = simt_new("f746,timing=0");
	uint8_t st, buf[2048], rd[2048];
	memset(buf, 0x0F, sizeof(buf));
	assert_int_equal(simt_write(t, 0x08008000, buf, 2048, &st), dfuDNLOAD_IDLE);
	/* programming only clears bits: writing 0xF0 over 0x0F gives the AND, no error */
	memset(buf, 0xF0, sizeof(buf));
	assert_int_equal(simt_write(t, 0x08008000, buf, 2048, &st), dfuDNLOAD_IDLE);
	assert_true(sim_mem_read(t->d, 0x08008000, rd, 2048));
	for (int i = 0; i < 2048; i++)
		assert_int_equal(rd[i], 0x00);
	/* block addressing uses the device's own wTransferSize: block 3 = pointer + 2048 */
	memset(buf, 0x5A, 16);
	assert_int_equal(simt_set_address(t, 0x08010000, &st), dfuDNLOAD_IDLE);
	assert_int_equal(simt_run(t, 3, buf, 16, &st), dfuDNLOAD_IDLE);
	assert_true(sim_mem_read(t->d, 0x08010000 + 2048, rd, 16));
	assert_memory_equal(rd, buf, 16);
	/* sector erase: any address inside the sector erases the whole sector */
	assert_int_equal(simt_erase(t, 0x08008010, &st), dfuDNLOAD_IDLE);
	assert_true(sim_mem_read(t->d, 0x08008000, rd, 2048));
	for (int i = 0; i < 2048; i++)
		assert_int_equal(rd[i], 0xFF);
	assert_true(sim_mem_read(t->d, 0x08010800, rd, 1));
	assert_int_equal(rd[0], 0x5A); /* the other sector is kept */
	/* erase outside flash: errTARGET */
	assert_int_equal(simt_erase(t, 0x1FFF0000, &st), dfuERROR);
	assert_int_equal(st, errTARGET);
	simt_simple(t, DFU_CLRSTATUS);
	/* mass erase */
	assert_int_equal(simt_run(t, 0, (uint8_t[]){0x41}, 1, &st), dfuDNLOAD_IDLE);
	assert_true(sim_mem_read(t->d, 0x08010800, rd, 1));
	assert_int_equal(rd[0], 0xFF);
	/* a write to read-only memory or past the flash end: errTARGET */
	assert_int_equal(simt_write(t, 0x1FF0EDBE, buf, 1, &st), dfuERROR);
	assert_int_equal(st, errTARGET);
	simt_simple(t, DFU_CLRSTATUS);
	assert_int_equal(simt_write(t, 0x080FFF00, buf, 512, &st), dfuERROR);
	assert_int_equal(st, errTARGET);
	struct sim_stats stats;
	sim_get_stats(t->d, &stats);
	assert_int_equal(stats.mass_erases, 1);
	assert_true(stats.erases >= 1);
	assert_true(stats.bytes_programmed >= 4096);
	simt_free(t);
}

static void test_upload(void **state)
{
	(void)state;
	struct simt *t = simt_new("f746,timing=0");
	uint8_t st;
	assert_true(sim_mem_write(t->d, 0x08000000, (const uint8_t *)"\x11\x22\x33\x44", 4));
	assert_int_equal(simt_read(t, 0x08000000, 2048), SIM_OK);
	assert_int_equal(t->actual, 2048);
	assert_int_equal(t->buf[0], 0x11);
	assert_int_equal(t->d->state, dfuUPLOAD_IDLE);
	/* UID, flash size, bootloader ID */
	assert_int_equal(simt_read(t, 0x1FF0F420, 12), SIM_OK);
	assert_int_equal(t->buf[0], 0x36); /* UID0 0x00220036 little-endian */
	assert_int_equal(simt_read(t, 0x1FF0F442, 2), SIM_OK);
	assert_int_equal(t->buf[0] | t->buf[1] << 8, 1024);
	assert_int_equal(simt_read(t, 0x1FF0EDBE, 1), SIM_OK);
	assert_int_equal(t->buf[0], 0x90);
	/* OB: the 32-byte block, and a 44-byte read served with 0xFF past its end (UNCONFIRMED) */
	assert_int_equal(simt_read(t, 0x1FFF0000, 44), SIM_OK);
	assert_int_equal(t->actual, 44);
	assert_int_equal(t->buf[0], 0xFF);
	assert_int_equal(t->buf[1], 0xAA);
	assert_int_equal(t->buf[40], 0xFF);
	simt_free(t);
	/* AN3156 4.1 (ob_upload = exact, the F407 profile): only the block's exact size is served */
	t = simt_new("f407,timing=0");
	assert_int_equal(simt_read(t, 0x1FFFC000, 16), SIM_OK);
	assert_int_equal(t->actual, 16);
	assert_int_equal(t->buf[1], 0xAA);
	simt_simple(t, DFU_ABORT);
	assert_int_equal(simt_read(t, 0x1FFFC000, 32), SIM_STALL);
	assert_int_equal(simt_status(t, &st, NULL), dfuERROR);
	assert_int_equal(st, errTARGET);
	simt_simple(t, DFU_CLRSTATUS);
	assert_int_equal(simt_read(t, 0x1FFFC000, 8), SIM_STALL);
	simt_simple(t, DFU_CLRSTATUS);
	assert_int_equal(simt_read(t, 0x1FFFC008, 8), SIM_STALL); /* not from the block's start */
	simt_simple(t, DFU_CLRSTATUS);
	/* an unserved address: STALL, dfuERROR/errTARGET */
	simt_simple(t, DFU_ABORT);
	assert_int_equal(simt_set_address(t, 0x08000000, &st), dfuDNLOAD_IDLE);
	simt_simple(t, DFU_ABORT);
	assert_int_equal(simt_upload(t, 2 + 1024, 16), SIM_STALL); /* 0x08200000 */
	assert_int_equal(simt_status(t, &st, NULL), dfuERROR);
	assert_int_equal(st, errTARGET);
	simt_free(t);
}

static void test_hang_on_dbgmcu(void **state)
{
	(void)state;
	struct simt *t = simt_new("f746,timing=0");
	assert_int_equal(simt_read(t, 0xE0042000, 4), SIM_NO_ANSWER);
	assert_int_equal(simt_status(t, NULL, NULL), -1);
	assert_int_equal(simt_req(t, USB_RT_STD_IN_DEVICE, USB_REQ_GET_DESCRIPTOR, 0x0100, 18, NULL), SIM_NO_ANSWER);
	sim_power_cycle(t->d);
	assert_int_equal(simt_status(t, NULL, NULL), dfuIDLE);
	simt_free(t);
}

static void test_leave(void **state)
{
	(void)state;
	/* no application: the chip resets back into the bootloader */
	struct simt *t = simt_new("f746,timing=0");
	uint32_t poll = 0;
	assert_int_equal(simt_dnload(t, 0, NULL, 0), SIM_OK);
	assert_int_equal(simt_status(t, NULL, &poll), dfuMANIFEST);
	assert_int_equal(poll, 0);
	assert_int_equal(sim_link_state(t->d), SIM_LINK_RESETTING);
	assert_int_equal(simt_status(t, NULL, NULL), -1);
	assert_true(sim_reconnect(t->d));
	assert_int_equal(simt_status(t, NULL, NULL), dfuIDLE);
	/* a vector table with an MSP in RAM: the application runs, the device is gone */
	uint8_t st, vt[8] = {0x00, 0x00, 0x05, 0x20, 0x01, 0x02, 0x00, 0x08};
	assert_int_equal(simt_write(t, 0x08020000, vt, 8, &st), dfuDNLOAD_IDLE);
	assert_int_equal(simt_set_address(t, 0x08020000, &st), dfuDNLOAD_IDLE);
	assert_int_equal(simt_dnload(t, 2, NULL, 0), SIM_OK);
	assert_int_equal(simt_status(t, NULL, NULL), dfuMANIFEST);
	assert_int_equal(sim_link_state(t->d), SIM_LINK_GONE);
	assert_false(sim_reconnect(t->d));
	assert_int_equal(simt_status(t, NULL, NULL), -1);
	simt_free(t);
}

/* An option-byte write applies at reset: here nWRP bit 1 cleared protects sector 1. */
static void write_ob(struct simt *t, const uint8_t *ob, size_t n)
{
	uint8_t st;
	assert_int_equal(simt_set_address(t, t->d->mem[t->d->ob].base, &st), dfuDNLOAD_IDLE);
	assert_int_equal(simt_dnload(t, 2, ob, (uint16_t)n), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuDNBUSY);
	assert_int_equal(sim_link_state(t->d), SIM_LINK_RESETTING);
	assert_true(sim_reconnect_at_us(t->d) >= t->clk.now);
	assert_true(sim_reconnect(t->d));
}

static void test_wrp(void **state)
{
	(void)state;
	struct simt *t = simt_new("f746,timing=0");
	uint8_t st, ob[32], data[16], rd[16];
	memcpy(ob, t->d->obd.defaults, 32);
	ob[8] = 0xFD; /* nWRP: sector 1 protected */
	memset(data, 0x00, sizeof(data));
	assert_true(sim_mem_write(t->d, 0x08008000, (const uint8_t *)"\xAB", 1));
	write_ob(t, ob, 32);
	assert_true(sim_sector_protected(t->d, 1));
	/* writes and erases of sector 1 are ignored silently; sector 0 works */
	assert_int_equal(simt_write(t, 0x08008000, data, 16, &st), dfuDNLOAD_IDLE);
	assert_int_equal(st, DFU_STATUS_OK);
	assert_true(sim_mem_read(t->d, 0x08008000, rd, 2));
	assert_int_equal(rd[0], 0xAB);
	assert_int_equal(rd[1], 0xFF);
	assert_int_equal(simt_erase(t, 0x08008000, &st), dfuDNLOAD_IDLE);
	assert_true(sim_mem_read(t->d, 0x08008000, rd, 1));
	assert_int_equal(rd[0], 0xAB);
	assert_int_equal(simt_write(t, 0x08000000, data, 16, &st), dfuDNLOAD_IDLE);
	assert_true(sim_mem_read(t->d, 0x08000000, rd, 16));
	assert_memory_equal(rd, data, 16);
	/* a block across the boundary: its half in sector 0 is programmed, its half in sector 1 is not */
	assert_int_equal(simt_write(t, 0x08007FF8, data, 16, &st), dfuDNLOAD_IDLE);
	assert_true(sim_mem_read(t->d, 0x08007FF8, rd, 16));
	assert_memory_equal(rd, data, 8);
	assert_int_equal(rd[8], 0xAB);
	assert_int_equal(rd[9], 0xFF);
	/* mass erase is not performed with a protected sector */
	assert_int_equal(simt_run(t, 0, (uint8_t[]){0x41}, 1, &st), dfuDNLOAD_IDLE);
	assert_true(sim_mem_read(t->d, 0x08000000, rd, 1));
	assert_int_equal(rd[0], 0x00);
	/* an OB write at an address other than the OB start: errTARGET */
	assert_int_equal(simt_write(t, 0x1FFF0008, ob, 8, &st), dfuERROR);
	assert_int_equal(st, errTARGET);
	simt_free(t);
}

static void test_rdp1_and_unprotect(void **state)
{
	(void)state;
	struct simt *t = simt_new("f746,timing=0");
	uint8_t st, ob[32], data[4] = {1, 2, 3, 4};
	assert_int_equal(simt_write(t, 0x08000000, data, 4, &st), dfuDNLOAD_IDLE);
	memcpy(ob, t->d->obd.defaults, 32);
	ob[1] = 0x55;
	ob[3] = 0xAA;
	ob[8] = 0xFE; /* also protect sector 0: Read Unprotect still erases it */
	write_ob(t, ob, 32);
	assert_int_equal(sim_rdp_level(t->d), 1);
	/* reads, writes and erases: errVENDOR; set address and Get still work */
	assert_int_equal(simt_read(t, 0x08000000, 16), SIM_STALL);
	assert_int_equal(simt_status(t, &st, NULL), dfuERROR);
	assert_int_equal(st, errVENDOR);
	simt_simple(t, DFU_CLRSTATUS);
	assert_int_equal(simt_write(t, 0x08004000, data, 4, &st), dfuERROR);
	assert_int_equal(st, errVENDOR);
	simt_simple(t, DFU_CLRSTATUS);
	assert_int_equal(simt_erase(t, 0x08000000, &st), dfuERROR);
	assert_int_equal(st, errVENDOR);
	simt_simple(t, DFU_CLRSTATUS);
	assert_int_equal(simt_run(t, 0, (uint8_t[]){0x41}, 1, &st), dfuERROR);
	assert_int_equal(st, errVENDOR);
	simt_simple(t, DFU_CLRSTATUS);
	assert_int_equal(simt_read(t, 0x1FFF0000, 32), SIM_STALL); /* whatever the target */
	simt_simple(t, DFU_CLRSTATUS);
	assert_int_equal(simt_upload(t, 0, 4), SIM_OK);
	simt_simple(t, DFU_ABORT);
	/* Read Unprotect: DNBUSY, disconnect, mass erase, default OB, reset */
	assert_int_equal(simt_dnload(t, 0, (uint8_t[]){0x92}, 1), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuDNBUSY);
	assert_int_equal(sim_link_state(t->d), SIM_LINK_RESETTING);
	assert_true(sim_reconnect(t->d));
	assert_int_equal(sim_rdp_level(t->d), 0);
	assert_false(sim_sector_protected(t->d, 0));
	assert_int_equal(simt_read(t, 0x08000000, 4), SIM_OK);
	assert_int_equal(t->buf[0], 0xFF);
	assert_int_equal(simt_read(t, 0x1FFF0000, 32), SIM_OK);
	assert_memory_equal(t->buf, t->d->obd.defaults, 32);
	struct sim_stats stats;
	sim_get_stats(t->d, &stats);
	assert_int_equal(stats.resets, 2);
	simt_free(t);
}

/* RDP level 2 disables boot from system memory (PM0059 / RM0090 3.7.3, RM0440, AN2606): after the
 * option-byte launch the bootloader never runs again, so the chip does not come back on the bus,
 * not after a power cycle either (issue 22 item 3). */
static void test_rdp2_permanent(void **state)
{
	(void)state;
	struct simt *t = simt_new("f746,timing=0");
	uint8_t st, ob[32];
	memcpy(ob, t->d->obd.defaults, 32);
	ob[1] = 0xCC;
	ob[3] = 0x33;
	assert_int_equal(simt_set_address(t, t->d->mem[t->d->ob].base, &st), dfuDNLOAD_IDLE);
	assert_int_equal(simt_dnload(t, 2, ob, 32), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuDNBUSY);
	assert_int_equal(sim_link_state(t->d), SIM_LINK_RESETTING);
	assert_false(sim_reconnect(t->d));
	assert_int_equal(sim_link_state(t->d), SIM_LINK_GONE);
	assert_int_equal(sim_rdp_level(t->d), 2);
	sim_power_cycle(t->d);
	assert_int_equal(sim_link_state(t->d), SIM_LINK_GONE);
	assert_int_equal(sim_rdp_level(t->d), 2);
	simt_free(t);
}

static void test_timing(void **state)
{
	(void)state;
	struct simt *t = simt_new("f746,busy_reply=busy"); /* timing = 1 */
	uint8_t st, c[5] = {0x41, 0x00, 0x00, 0x00, 0x08};
	uint32_t poll = 0;
	assert_int_equal(simt_dnload(t, 0, c, 5), SIM_OK);
	assert_int_equal(simt_status(t, &st, &poll), dfuDNBUSY);
	assert_int_equal(poll, 100);
	/* 32 KB at x8 takes 400 ms (DS10916): polls before that see DNBUSY again */
	for (int i = 0; i < 3; i++) {
		simt_advance_ms(t, poll);
		assert_int_equal(simt_status(t, &st, &poll), dfuDNBUSY);
		assert_int_equal(poll, 100);
	}
	simt_advance_ms(t, poll);
	assert_int_equal(simt_status(t, &st, &poll), dfuDNLOAD_IDLE);
	assert_int_equal(poll, 0); /* F4 style: then 0 */
	/* program 2048 bytes: 104 ms reported, 2048 x 16 us real at x8 */
	uint8_t data[2048];
	memset(data, 0, sizeof(data));
	struct sim_stats s0, s1, s2;
	sim_get_stats(t->d, &s0);
	assert_int_equal(simt_write(t, 0x08000000, data, 2048, &st), dfuDNLOAD_IDLE);
	sim_get_stats(t->d, &s1);
	assert_int_equal(s1.busy_us - s0.busy_us, 2048 * 16);
	/* Device Feature range 3 (2.7-3.6 V) -> x32: a quarter of the time */
	assert_int_equal(simt_write(t, 0xFFFF0000, (uint8_t[]){3, 0xFF, 0xFF, 0xFF}, 4, &st), dfuDNLOAD_IDLE);
	assert_int_equal(sim_prog_width(t->d), 4);
	assert_int_equal(simt_write(t, 0x08000800, data, 2048, &st), dfuDNLOAD_IDLE);
	sim_get_stats(t->d, &s2);
	assert_int_equal(s2.busy_us - s1.busy_us, 2048 * 16 / 4);
	assert_int_equal(simt_write(t, 0xFFFF0000, (uint8_t[]){9}, 1, &st), dfuERROR);
	assert_int_equal(st, errTARGET);
	simt_free(t);
	/* a time scale keeps ratios: polls are halved too */
	t = simt_new("f746,timing=0.5");
	assert_int_equal(simt_dnload(t, 0, c, 5), SIM_OK);
	assert_int_equal(simt_status(t, &st, &poll), dfuDNBUSY);
	assert_int_equal(poll, 50);
	assert_int_equal(t->d->busy_until - t->clk.now, 200000);
	simt_free(t);
}

/* busy_reply: what an early GETSTATUS gets while a 400 ms sector erase runs (docs/rom-quirks.md) */
static void test_busy_reply(void **state)
{
	(void)state;
	uint8_t st, c[5] = {0x41, 0x00, 0x00, 0x00, 0x08};
	uint32_t poll = 0;
	uint64_t gs_bus = sim_bus_time_us(6);
	/* hold (F746 profile default): the second GETSTATUS is answered when the erase is done */
	struct simt *t = simt_new("f746");
	assert_int_equal(simt_dnload(t, 0, c, 5), SIM_OK);
	assert_int_equal(simt_status(t, &st, &poll), dfuDNBUSY);
	assert_int_equal(poll, 100);
	uint64_t done = t->d->busy_until;
	assert_int_equal(done - t->clk.now, 400000);
	assert_int_equal(simt_status(t, &st, &poll), dfuDNLOAD_IDLE);
	assert_int_equal(poll, 0);
	assert_int_equal(sim_answer_at_us(t->d), done + gs_bus);
	/* EP0 was blocked: a request sent before the held answer came waits its turn */
	assert_int_equal(simt_req(t, USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATE, 0, 1, NULL), SIM_OK);
	assert_int_equal(t->buf[0], dfuDNLOAD_IDLE);
	assert_true(sim_answer_at_us(t->d) >= done + sim_bus_time_us(1));
	simt_free(t);
	/* busy: dfuDNBUSY at once, with a fresh poll, until the erase is done */
	t = simt_new("f746,busy_reply=busy");
	assert_int_equal(simt_dnload(t, 0, c, 5), SIM_OK);
	assert_int_equal(simt_status(t, &st, &poll), dfuDNBUSY);
	assert_int_equal(simt_status(t, &st, &poll), dfuDNBUSY);
	assert_int_equal(poll, 100);
	assert_int_equal(sim_answer_at_us(t->d), t->clk.now + gs_bus);
	simt_advance_ms(t, 400);
	assert_int_equal(simt_status(t, &st, &poll), dfuDNLOAD_IDLE);
	simt_free(t);
	/* stall (STM32L4): the early GETSTATUS STALLs and the state is kept */
	t = simt_new("f746,busy_reply=stall");
	assert_int_equal(simt_dnload(t, 0, c, 5), SIM_OK);
	assert_int_equal(simt_status(t, &st, &poll), dfuDNBUSY);
	assert_int_equal(simt_req(t, USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATUS, 0, 6, NULL), SIM_STALL);
	assert_int_equal(t->d->state, dfuDNBUSY);
	simt_advance_ms(t, 400);
	assert_int_equal(simt_status(t, &st, &poll), dfuDNLOAD_IDLE);
	simt_free(t);
	/* a bad value is refused with the key's name */
	char err[256];
	struct sim_profile *p = sim_profile_load("f746,busy_reply=later", PROFILE_DIR, err, sizeof err);
	assert_non_null(p);
	struct clock_fake clk;
	clock_fake_init(&clk);
	assert_null(sim_device_new(p, &clk.clock, err, sizeof err));
	assert_non_null(strstr(err, "busy_reply"));
	sim_profile_free(p);
}

/* H7 rev V (betaflight PR #1861): the erase of a sector past the wedge address is done, but the
 * ROM stays in dfuDNBUSY; CLRSTATUS gives errUNKNOWN/dfuERROR, a second one dfuIDLE */
static void test_erase_wedge(void **state)
{
	(void)state;
	struct simt *t = simt_new("f746,erase_wedge=0x08040000");
	uint8_t st, rd[16];
	assert_true(sim_mem_write(t->d, 0x08040000, (const uint8_t *)"\0\0\0\0", 4));
	assert_true(sim_mem_write(t->d, 0x08000000, (const uint8_t *)"\0\0\0\0", 4));
	assert_int_equal(simt_erase(t, 0x08000000, &st), dfuDNLOAD_IDLE); /* below: normal */
	assert_int_equal(simt_dnload(t, 0, (uint8_t[]){0x41, 0x00, 0x00, 0x04, 0x08}, 5), SIM_OK);
	for (int i = 0; i < 20; i++) {
		uint32_t poll = 0;
		assert_int_equal(simt_status(t, &st, &poll), dfuDNBUSY);
		simt_advance_ms(t, 1000);
	}
	assert_true(sim_mem_read(t->d, 0x08040000, rd, 4)); /* erased all the same */
	assert_int_equal(rd[0], 0xFF);
	assert_int_equal(simt_simple(t, DFU_CLRSTATUS), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuERROR);
	assert_int_equal(st, errUNKNOWN);
	assert_int_equal(simt_simple(t, DFU_CLRSTATUS), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuIDLE);
	simt_free(t);
}

/* L43x: a data DNLOAD above max_dnload is taken, then its GETSTATUS STALLs (dfu-util "Error during
 * download get_status"); 1024 bytes work */
static void test_max_dnload(void **state)
{
	(void)state;
	struct simt *t = simt_new("f746,timing=0,max_dnload=1024");
	uint8_t st, data[2048];
	memset(data, 0x12, sizeof data);
	assert_int_equal(simt_set_address(t, 0x08000000, &st), dfuDNLOAD_IDLE);
	assert_int_equal(simt_dnload(t, 2, data, 2048), SIM_OK);
	assert_int_equal(simt_req(t, USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATUS, 0, 6, NULL), SIM_STALL);
	assert_int_equal(simt_status(t, &st, NULL), dfuERROR);
	assert_true(sim_mem_read(t->d, 0x08000000, data, 1));
	assert_int_equal(data[0], 0xFF); /* nothing written */
	assert_int_equal(simt_simple(t, DFU_CLRSTATUS), SIM_OK);
	memset(data, 0x12, sizeof data);
	assert_int_equal(simt_write(t, 0x08000000, data, 1024, &st), dfuDNLOAD_IDLE);
	assert_true(sim_mem_read(t->d, 0x080003FF, data, 1));
	assert_int_equal(data[0], 0x12);
	/* commands are short: never concerned */
	assert_int_equal(simt_erase(t, 0x08000000, &st), dfuDNLOAD_IDLE);
	simt_free(t);
}

static void test_bus_time(void **state)
{
	(void)state;
	assert_int_equal(sim_bus_time_us(0), (2 * 1000 + 18) / 19);
	assert_int_equal(sim_bus_time_us(6), (3 * 1000 + 18) / 19);
	assert_int_equal(sim_bus_time_us(2048), (34 * 1000 + 18) / 19);
	struct simt *t = simt_new("f746,timing=0");
	simt_status(t, NULL, NULL);
	struct sim_stats s;
	sim_get_stats(t->d, &s);
	assert_int_equal(s.control_transfers, 1);
	assert_int_equal(s.bus_us, 0); /* scaled by timing = 0 */
	assert_int_equal(s.bytes_in, 6);
	simt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_machine_table),
		cmocka_unit_test(test_start_state_and_bad_requests),
		cmocka_unit_test(test_get_commands),
		cmocka_unit_test(test_set_address),
		cmocka_unit_test(test_erase_and_program),
		cmocka_unit_test(test_upload),
		cmocka_unit_test(test_hang_on_dbgmcu),
		cmocka_unit_test(test_leave),
		cmocka_unit_test(test_wrp),
		cmocka_unit_test(test_rdp1_and_unprotect),
		cmocka_unit_test(test_rdp2_permanent),
		cmocka_unit_test(test_timing),
		cmocka_unit_test(test_bus_time),
		cmocka_unit_test(test_busy_reply),
		cmocka_unit_test(test_erase_wedge),
		cmocka_unit_test(test_max_dnload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
