/*
 * The family profiles' ROM behaviours that dfu-util -l cannot show (tests/peer checks the listings):
 * descriptor bytes against published recordings, data EEPROM, split UID, start states, the H750's
 * overstated layout. Facts come from ../shared/data or the public sources named in each profile.
 */
#include "core/rd.h"
#include "sim_test.h"

static void descriptor(struct simt *t, uint16_t value)
{
	assert_int_equal(simt_req(t, USB_RT_STD_IN_DEVICE, USB_REQ_GET_DESCRIPTOR, value, 255, NULL), SIM_OK);
}

/* fwupd's recording of a GD32VF103 (plugins/dfu/tests/dfu-gd32vf103-setup.json): bcdDevice 0x0100,
 * bcdUSB 0x0200, and the serial descriptor "BgMzQ0JK" = 06 03 33 43 42 4A (raw UTF-8 "3CBJ"). */
static void test_gd32_descriptors(void **state)
{
	(void)state;
	struct simt *t = simt_new("gd32vf103,timing=0");
	descriptor(t, 0x0100);
	assert_int_equal(get_le16(t->buf + 2), 0x0200);
	assert_int_equal(get_le16(t->buf + 8), 0x28E9);
	assert_int_equal(get_le16(t->buf + 10), 0x0189);
	assert_int_equal(get_le16(t->buf + 12), 0x0100);
	descriptor(t, 0x0303);
	static const uint8_t want[] = {0x06, 0x03, 0x33, 0x43, 0x42, 0x4A};
	assert_int_equal(t->actual, sizeof want);
	assert_memory_equal(t->buf, want, sizeof want);
	/* one DFU interface, FE/01/02 */
	descriptor(t, 0x0200);
	assert_int_equal(t->buf[9 + 5], 0xFE);
	assert_int_equal(t->buf[9 + 6], 0x01);
	assert_int_equal(t->buf[9 + 7], 0x02);
	assert_int_equal(t->buf[4], 1);
	simt_free(t);
	/* an ST profile keeps UTF-16 */
	t = simt_new("f401,timing=0");
	descriptor(t, 0x0303);
	assert_int_equal(t->actual, 2 + 2 * 12);
	assert_int_equal(t->buf[2], '3');
	assert_int_equal(t->buf[3], 0);
	simt_free(t);
	char err[256];
	struct sim_profile *p = sim_profile_load("gd32vf103,serial_encoding=latin1", PROFILE_DIR, err, sizeof err);
	assert_non_null(p);
	struct clock_fake clk;
	clock_fake_init(&clk);
	assert_null(sim_device_new(p, &clk.clock, err, sizeof err));
	assert_non_null(strstr(err, "serial_encoding"));
	sim_profile_free(p);
}

/* L0/L1 "@DATA Memory" zones (bigclown, openbttn listings) are data EEPROM: 0x00 when erased
 * (RM0367 3.3), written in place (not ANDed like flash), kept in the state file, and erased with the
 * flash by Read Unprotect (RM0367 3.4.1, RDP regression). */
static void test_data_eeprom(void **state)
{
	(void)state;
	struct simt *t = simt_new("l0-192k,timing=0");
	const struct sim_mem *m = sim_mem_find_c(t->d, 0x08080000);
	assert_non_null(m);
	assert_int_equal(m->kind, SIM_MEM_EEPROM);
	assert_int_equal(m->size, 6144);
	assert_true(m->persist);
	uint8_t st, a[4] = {0xF0, 0x0F, 0x12, 0x34}, b[4] = {0x0F, 0xF0, 0x00, 0xFF};
	assert_int_equal(simt_read(t, 0x08080000, 4), SIM_OK);
	assert_int_equal(t->buf[0], 0x00);
	simt_simple(t, DFU_ABORT);
	assert_int_equal(simt_write(t, 0x08080000, a, 4, &st), dfuDNLOAD_IDLE);
	simt_simple(t, DFU_ABORT);
	assert_int_equal(simt_write(t, 0x08080000, b, 4, &st), dfuDNLOAD_IDLE);
	simt_simple(t, DFU_ABORT);
	assert_int_equal(simt_read(t, 0x08080000, 4), SIM_OK);
	assert_memory_equal(t->buf, b, 4); /* replaced, not ANDed */
	simt_simple(t, DFU_ABORT);
	/* a power cycle keeps it (RAM is lost) */
	sim_power_cycle(t->d);
	simt_simple(t, DFU_ABORT);
	assert_int_equal(simt_read(t, 0x08080000, 4), SIM_OK);
	assert_memory_equal(t->buf, b, 4);
	simt_simple(t, DFU_ABORT);
	/* Read Unprotect clears it */
	assert_int_equal(simt_dnload(t, 0, (uint8_t[]){0x92}, 1), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuDNBUSY);
	assert_true(sim_reconnect(t->d));
	assert_int_equal(simt_read(t, 0x08080000, 4), SIM_OK);
	assert_int_equal(get_le32(t->buf), 0);
	simt_free(t);
	t = simt_new("l100rc,timing=0");
	m = sim_mem_find_c(t->d, 0x08080000);
	assert_non_null(m);
	assert_int_equal(m->kind, SIM_MEM_EEPROM);
	assert_int_equal(m->size, 8192);
	/* the 256-byte pages of `1024*256 g` */
	const struct sim_mem *f = &t->d->mem[t->d->flash];
	assert_int_equal(f->nsectors, 1024);
	assert_int_equal(f->sectors[1].addr, 0x08000100);
	assert_int_equal(f->size, 256 * 1024);
	simt_free(t);
}

/* L0/L1 keep UID2 at UID0 + 0x14 (RM0367/RM0038 "Device electronic signature"); the profile's made-up
 * UID gives the observed serial by the HAL rule. */
static void test_split_uid(void **state)
{
	(void)state;
	struct simt *t = simt_new("l0-192k,timing=0");
	uint8_t w[12];
	assert_true(sim_mem_read(t->d, 0x1FF80050, w, 8));
	assert_true(sim_mem_read(t->d, 0x1FF80064, w + 8, 4));
	assert_int_equal(get_le32(w), 0x0E5D0039);
	assert_int_equal(get_le32(w + 4), 0x62315012);
	assert_int_equal(get_le32(w + 8), 0x7157A3FC);
	char s[16];
	snprintf(s, sizeof s, "%08X%04X", (unsigned)(get_le32(w) + get_le32(w + 8)), (unsigned)(get_le32(w + 4) >> 16));
	assert_string_equal(s, t->d->serial);
	assert_false(sim_mem_read(t->d, 0x1FF80058, w, 4)); /* nothing between */
	uint8_t two[2];
	assert_true(sim_mem_read(t->d, 0x1FF8007C, two, 2));
	assert_int_equal(get_le16(two), 192);
	simt_free(t);
}

/* Start states: OBSERVED dfuERROR/status 10 on the F411 (unicorne-8) and L100 (openbttn), dfuIDLE on
 * the H750 (nuttx transcript "DFU state(2) = dfuIDLE"). */
static void test_start_states(void **state)
{
	(void)state;
	const struct {
		const char *spec;
		int state, status;
	} want[] = {
		{"f411,timing=0", dfuERROR, errFIRMWARE},  {"l100rc,timing=0", dfuERROR, errFIRMWARE},
		{"f401,timing=0", dfuERROR, errFIRMWARE},  {"h750,timing=0", dfuIDLE, 0},
		{"gd32vf103,timing=0", dfuIDLE, 0},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		struct simt *t = simt_new(want[i].spec);
		uint8_t st;
		assert_int_equal(simt_status(t, &st, NULL), want[i].state);
		assert_int_equal(st, want[i].status);
		simt_free(t);
	}
}

/* H750 (nuttx listing): 16 x 128 KiB advertised, the flash-size register says 128 KiB; transfer
 * size 1024, bcdDevice 0x0200, product "DFU in FS Mode". H743: the same strings, 2048 KiB. */
static void test_h7_layout_and_identity(void **state)
{
	(void)state;
	struct simt *t = simt_new("h750,timing=0");
	const struct sim_mem *f = &t->d->mem[t->d->flash];
	assert_int_equal(f->size, 16 * 131072);
	uint8_t two[2];
	assert_true(sim_mem_read(t->d, 0x1FF1E880, two, 2));
	assert_int_equal(get_le16(two), 128);
	assert_int_equal(t->d->transfer_size, 1024);
	assert_int_equal(t->d->bcd_device, 0x0200);
	assert_string_equal(t->d->product, "DFU in FS Mode");
	assert_int_equal(t->d->mem[t->d->ob].base, 0x5200201C);
	assert_int_equal(t->d->mem[t->d->ob].size, 128);
	assert_int_equal(sim_rdp_level(t->d), 0);
	simt_free(t);
	t = simt_new("h743,timing=0");
	assert_true(sim_mem_read(t->d, 0x1FF1E880, two, 2));
	assert_int_equal(get_le16(two), 2048);
	assert_string_equal(t->d->alts[0], "@Internal Flash   /0x08000000/16*128Kg");
	simt_free(t);
}

/* G474: one OB alt with two 48-byte regions; both are option-byte memories, bank 1 holds RDP. G0C1:
 * three alts with the same flash string, one flash memory, no OB memory. */
static void test_g_layouts(void **state)
{
	(void)state;
	struct simt *t = simt_new("g474,timing=0");
	const struct sim_mem *a = sim_mem_find_c(t->d, 0x1FFF7800), *b = sim_mem_find_c(t->d, 0x1FFFF800);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->kind, SIM_MEM_OB);
	assert_int_equal(b->kind, SIM_MEM_OB);
	assert_int_equal(a->size, 48);
	assert_int_equal(b->size, 48);
	assert_int_equal(get_le32(a->data), 0xFFEFF8AA);
	assert_int_equal(get_le32(a->data + 4), 0x00100755);
	assert_int_equal(get_le32(b->data + 0x18), 0xFF00FFFF); /* WRP2AR */
	assert_int_equal(sim_rdp_level(t->d), 0);
	simt_free(t);
	t = simt_new("g0c1,timing=0");
	assert_int_equal(t->d->nalts, 3);
	int flashes = 0;
	for (int i = 0; i < t->d->nmem; i++)
		flashes += t->d->mem[i].kind == SIM_MEM_FLASH;
	assert_int_equal(flashes, 1);
	/* the chip has option bytes (RM0444), but no alt offers them and DFU does not serve them */
	assert_true(t->d->ob >= 0);
	assert_true(t->d->mem[t->d->ob].unlisted);
	assert_int_equal(t->d->mem[t->d->ob].base, 0x1FFF7800);
	assert_int_equal(simt_req(t, USB_RT_CLASS_OUT_INTERFACE, DFU_DNLOAD, 0, 5, "\x21\x00\x78\xFF\x1F"), SIM_OK);
	assert_int_equal(simt_status(t, NULL, NULL), dfuDNBUSY);
	assert_int_equal(simt_status(t, NULL, NULL), dfuDNLOAD_IDLE); /* the pointer is taken ... */
	assert_int_equal(simt_req(t, USB_RT_CLASS_OUT_INTERFACE, DFU_ABORT, 0, 0, NULL), SIM_OK);
	assert_int_equal(simt_upload(t, 2, 40), SIM_STALL); /* ... the read of the block refused */
	uint8_t why = 0;
	assert_int_equal(simt_status(t, &why, NULL), dfuERROR);
	assert_int_equal(why, errTARGET);
	simt_free(t);
}

/* Leave without a status (leave_status = none): the H750 resets before it answers the GETSTATUS
 * after the leave request (nuttx transcript: "Error during download get_status"); GD32VF103 per
 * dfu-util's leave quirk. The F407 answers it with dfuMANIFEST. */
static void test_leave_without_status(void **state)
{
	(void)state;
	const char *gone[] = {"h750,timing=0", "h743,timing=0", "gd32vf103,timing=0"};
	for (size_t i = 0; i < 3; i++) {
		struct simt *t = simt_new(gone[i]);
		assert_int_equal(simt_dnload(t, 2, NULL, 0), SIM_OK);
		assert_int_not_equal(sim_link_state(t->d), SIM_LINK_UP);
		assert_int_equal(simt_status(t, NULL, NULL), -1);
		simt_free(t);
	}
	struct simt *t = simt_new("f407,timing=0");
	assert_int_equal(simt_dnload(t, 2, NULL, 0), SIM_OK);
	assert_int_equal(sim_link_state(t->d), SIM_LINK_UP);
	assert_int_equal(simt_status(t, NULL, NULL), dfuMANIFEST);
	assert_int_not_equal(sim_link_state(t->d), SIM_LINK_UP);
	simt_free(t);
}

/* H743 rev V: the profile carries the erase wedge from 0x08100000 (sector 8, bank 2); sector 7 erases
 * normally. L43x: a 2048-byte data block (its wTransferSize) fails, 1024 bytes work. */
static void test_h743_wedge_l43x_dnload(void **state)
{
	(void)state;
	struct simt *t = simt_new("h743,timing=0");
	uint8_t st;
	assert_int_equal(simt_erase(t, 0x080E0000, &st), dfuDNLOAD_IDLE);
	assert_int_equal(simt_dnload(t, 0, (uint8_t[]){0x41, 0x00, 0x00, 0x10, 0x08}, 5), SIM_OK);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(simt_status(t, &st, NULL), dfuDNBUSY);
		simt_advance_ms(t, 2000);
	}
	assert_int_equal(simt_simple(t, DFU_CLRSTATUS), SIM_OK);
	assert_int_equal(simt_simple(t, DFU_CLRSTATUS), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuIDLE);
	simt_free(t);
	t = simt_new("l43x,timing=0");
	assert_int_equal(t->d->transfer_size, 2048);
	static uint8_t blk[2048];
	memset(blk, 0x5A, sizeof blk);
	simt_simple(t, DFU_ABORT);
	assert_int_equal(simt_write(t, 0x08000000, blk, 1024, &st), dfuDNLOAD_IDLE);
	simt_simple(t, DFU_ABORT);
	assert_int_not_equal(simt_write(t, 0x08001000, blk, 2048, &st), dfuDNLOAD_IDLE);
	simt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gd32_descriptors), cmocka_unit_test(test_data_eeprom),
		cmocka_unit_test(test_split_uid),        cmocka_unit_test(test_start_states),
		cmocka_unit_test(test_h7_layout_and_identity), cmocka_unit_test(test_g_layouts),
		cmocka_unit_test(test_leave_without_status), cmocka_unit_test(test_h743_wedge_l43x_dnload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
