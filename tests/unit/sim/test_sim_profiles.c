/*
 * The shipped profiles against real listings (strings read from ../shared/data, not copied),
 * profile parsing, the state file, and fault injection.
 */
#include <unistd.h>

#include "core/rd.h"
#include "sim_test.h"

#define DFU_LIST SHARED_DATA_DIR "/dfu-list/"

/* The string descriptor index as ASCII. */
static void get_string(struct simt *t, uint8_t index, char *out, size_t cap)
{
	assert_int_equal(simt_req(t, USB_RT_STD_IN_DEVICE, USB_REQ_GET_DESCRIPTOR, (uint16_t)(0x0300 | index), 255,
				  NULL),
			 SIM_OK);
	size_t n = (t->actual - 2) / 2;
	assert_true(n < cap);
	for (size_t i = 0; i < n; i++)
		out[i] = (char)t->buf[2 + 2 * i];
	out[n] = '\0';
}

/* Every `Found DFU:` line of a dfu-util listing: alt=N, name="...", serial="..." must match. */
static void check_listing(const char *spec, const char *file, int want_alts)
{
	struct simt *t = simt_new(spec);
	FILE *f = fopen(file, "r");
	if (!f)
		fail_msg("cannot open %s", file);
	char line[1024], name[256], serial[64], got[256];
	int seen = 0;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "Found DFU: [0483:df11]");
		if (!p)
			continue;
		const char *a = strstr(p, "alt="), *nm = strstr(p, "name=\""), *sr = strstr(p, "serial=\"");
		assert_non_null(a);
		assert_non_null(nm);
		assert_non_null(sr);
		int alt = atoi(a + 4);
		const char *ne = strchr(nm + 6, '"'), *se = strchr(sr + 8, '"');
		snprintf(name, sizeof(name), "%.*s", (int)(ne - nm - 6), nm + 6);
		snprintf(serial, sizeof(serial), "%.*s", (int)(se - sr - 8), sr + 8);
		get_string(t, (uint8_t)(4 + alt), got, sizeof(got));
		assert_string_equal(got, name);
		get_string(t, 3, got, sizeof(got));
		assert_string_equal(got, serial);
		assert_true(strstr(p, "ver=2200") != NULL);
		assert_int_equal(t->d->bcd_device, 0x2200);
		seen++;
	}
	fclose(f);
	assert_int_equal(seen, want_alts);
	assert_int_equal(t->d->nalts, want_alts);
	simt_free(t);
}

static void test_listings(void **state)
{
	(void)state;
	check_listing("f407", DFU_LIST "platformio-ststm32-118_F407VE-black_dfu-util-l_207A389B5848.txt", 4);
	check_listing("f0-32k", DFU_LIST "EugenePY-AKIRA_F0-32K_dfu-util-l_serial-FFFFFFFEFFFF.txt", 2);
	check_listing("f0-32k", DFU_LIST "ozseccon2019-badge_F0-32K_dfu-util-l_and_dfuse-download.txt", 2);
}

/* Descriptor fields against the F4 lsusb -v dump (same ROM family as f407). */
static long lsusb_field(const char *text, const char *field)
{
	const char *p = strstr(text, field);
	if (!p)
		fail_msg("lsusb field %s missing", field);
	return strtol(p + strlen(field), NULL, 0);
}

static void test_lsusb_descriptors(void **state)
{
	(void)state;
	FILE *f = fopen(SHARED_DATA_DIR "/lsusb/rust-dfu_lsusb_F4-512K_348435943539.txt", "r");
	assert_non_null(f);
	static char text[16384];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	struct simt *t = simt_new("f407,serial=348435943539");
	uint8_t d[512];
	size_t len = sim_descriptors(t->d, d, sizeof(d));
	assert_int_equal(len, 18 + 9 + 4 * 9 + 9);
	assert_int_equal(d[0], lsusb_field(text, "bLength"));
	assert_int_equal(d[2] | d[3] << 8, 0x0100);                  /* bcdUSB 1.00 */
	assert_non_null(strstr(text, "bcdUSB               1.00"));
	assert_int_equal(d[7], lsusb_field(text, "bMaxPacketSize0"));
	assert_int_equal(d[8] | d[9] << 8, lsusb_field(text, "idVendor"));
	assert_int_equal(d[10] | d[11] << 8, lsusb_field(text, "idProduct"));
	assert_non_null(strstr(text, "bcdDevice           22.00"));
	assert_int_equal(d[12] | d[13] << 8, 0x2200);
	const uint8_t *c = d + 18;
	assert_int_equal(c[2] | c[3] << 8, lsusb_field(text, "wTotalLength"));
	assert_int_equal(c[7], lsusb_field(text, "bmAttributes         "));
	assert_int_equal(c[8] * 2, lsusb_field(text, "MaxPower"));
	for (int i = 0; i < 4; i++) {
		const uint8_t *itf = c + 9 + 9 * i;
		assert_int_equal(itf[3], i);
		assert_int_equal(itf[4], lsusb_field(text, "bNumEndpoints"));
		assert_int_equal(itf[5], lsusb_field(text, "bInterfaceClass"));
		assert_int_equal(itf[6], lsusb_field(text, "bInterfaceSubClass"));
		assert_int_equal(itf[7], lsusb_field(text, "bInterfaceProtocol"));
		assert_int_equal(itf[8], 4 + i);
	}
	const uint8_t *fd = c + 9 + 36; /* once, after the last alt */
	assert_int_equal(fd[1], 0x21);
	assert_int_equal(fd[2], lsusb_field(text, "bmAttributes                       "));
	assert_int_equal(fd[3] | fd[4] << 8, lsusb_field(text, "wDetachTimeout"));
	assert_int_equal(fd[5] | fd[6] << 8, lsusb_field(text, "wTransferSize"));
	assert_non_null(strstr(text, "bcdDFUVersion                   1.1a"));
	assert_int_equal(fd[7] | fd[8] << 8, 0x011A);
	/* strings 1..3 and the alts present in the dump (alt 0 differs: 512 KiB part) */
	char s[256], want[320];
	get_string(t, 1, s, sizeof(s));
	assert_non_null(strstr(text, "iManufacturer           1 STMicroelectronics"));
	assert_string_equal(s, "STMicroelectronics");
	get_string(t, 2, s, sizeof(s));
	snprintf(want, sizeof(want), "iProduct                2 %s\n", s);
	assert_non_null(strstr(text, want)); /* "STM32  BOOTLOADER", two spaces */
	get_string(t, 3, s, sizeof(s));
	snprintf(want, sizeof(want), "iSerial                 3 %s\n", s);
	assert_non_null(strstr(text, want));
	for (int i = 1; i < 4; i++) {
		get_string(t, (uint8_t)(4 + i), s, sizeof(s));
		snprintf(want, sizeof(want), "iInterface              %d %s\n", 4 + i, s);
		assert_non_null(strstr(text, want));
	}
	/* string 0 (languages) and an unknown string STALL, as in the F0 capture */
	assert_int_equal(simt_req(t, USB_RT_STD_IN_DEVICE, USB_REQ_GET_DESCRIPTOR, 0x0370, 255, NULL), SIM_STALL);
	assert_int_equal(simt_req(t, USB_RT_STD_IN_DEVICE, USB_REQ_GET_DESCRIPTOR, 0x0600, 10, NULL), SIM_STALL);
	/* wLength truncates */
	assert_int_equal(simt_req(t, USB_RT_STD_IN_DEVICE, USB_REQ_GET_DESCRIPTOR, 0x0200, 9, NULL), SIM_OK);
	assert_int_equal(t->actual, 9);
	assert_int_equal(simt_req(t, USB_RT_STD_IN_INTERFACE, USB_REQ_GET_DESCRIPTOR, 0x2100, 9, NULL), SIM_OK);
	assert_memory_equal(t->buf, fd, 9);
	assert_int_equal(simt_req(t, USB_RT_STD_OUT_INTERFACE, USB_REQ_SET_INTERFACE, 3, 0, NULL), SIM_OK);
	assert_int_equal(simt_req(t, USB_RT_STD_IN_INTERFACE, USB_REQ_GET_INTERFACE, 0, 1, NULL), SIM_OK);
	assert_int_equal(t->buf[0], 3);
	assert_int_equal(simt_req(t, USB_RT_STD_OUT_INTERFACE, USB_REQ_SET_INTERFACE, 4, 0, NULL), SIM_STALL);
	simt_free(t);
}

struct secmap {
	uint32_t size;
	int count;
};

static void check_sectors(const char *spec, const struct secmap *map, int nmap, uint32_t end)
{
	struct simt *t = simt_new(spec);
	const struct sim_mem *m = &t->d->mem[t->d->flash];
	size_t k = 0;
	uint32_t addr = 0x08000000;
	for (int i = 0; i < nmap; i++) {
		for (int j = 0; j < map[i].count; j++, k++) {
			assert_true(k < m->nsectors);
			assert_int_equal(m->sectors[k].addr, addr);
			assert_int_equal(m->sectors[k].size, map[i].size);
			addr += map[i].size;
		}
	}
	assert_int_equal(k, m->nsectors);
	assert_int_equal(addr, end);
	assert_int_equal(m->base + m->size, end);
	simt_free(t);
}

static void test_sector_maps(void **state)
{
	(void)state;
	const struct secmap f746[] = {{32768, 4}, {131072, 1}, {262144, 3}};
	const struct secmap f407[] = {{16384, 4}, {65536, 1}, {131072, 7}};
	const struct secmap f0[] = {{1024, 32}};
	check_sectors("f746", f746, 3, 0x08100000);
	check_sectors("f407", f407, 3, 0x08100000);
	check_sectors("f0-32k", f0, 1, 0x08008000);
	struct simt *t = simt_new("f746");
	assert_int_equal(t->d->mem[t->d->ob].base, 0x1FFF0000);
	assert_int_equal(t->d->mem[t->d->ob].size, 32);
	assert_int_equal(t->d->mem[t->d->feature].base, 0xFFFF0000);
	uint8_t ob[32];
	assert_true(sim_mem_read(t->d, 0x1FFF0000, ob, 32));
	/* protocol.md 7.2 default words, little-endian */
	assert_int_equal(get_le32(ob), 0x5500AAFF);
	assert_int_equal(get_le32(ob + 8), 0x0000FFFF);
	assert_int_equal(get_le32(ob + 16), 0xFF7F0080);
	assert_int_equal(get_le32(ob + 24), 0xFFBF0040);
	assert_true(sim_mem_read(t->d, 0x1FF0F000, ob, 1)); /* OTP */
	simt_free(t);
	t = simt_new("f407");
	assert_int_equal(t->d->mem[t->d->ob].base, 0x1FFFC000);
	assert_int_equal(t->d->mem[t->d->ob].size, 16);
	assert_int_equal(sim_rdp_level(t->d), 0);
	simt_free(t);
	t = simt_new("f0-32k");
	assert_int_equal(t->d->mem[t->d->ob].base, 0x1FFFF800);
	assert_int_equal(sim_rdp_level(t->d), 0);
	assert_false(sim_sector_protected(t->d, 31));
	t->d->ob_active[8] = 0xFE; /* WRP0 bit 0: pages 0-3 */
	assert_true(sim_sector_protected(t->d, 3));
	assert_false(sim_sector_protected(t->d, 4));
	simt_free(t);
}

static void test_profile_parsing(void **state)
{
	(void)state;
	char err[256];
	struct sim_profile *p = sim_profile_load("f746,timing=0,serial=ABC", PROFILE_DIR, err, sizeof(err));
	assert_non_null(p);
	assert_string_equal(sim_profile_name(p), "f746");
	assert_string_equal(sim_profile_get(p, "timing"), "0");
	assert_string_equal(sim_profile_get(p, "serial"), "ABC");
	assert_null(sim_profile_get(p, "nonexistent"));
	sim_profile_free(p);
	/* a path, and errors that name the problem */
	p = sim_profile_load(PROFILE_DIR "/f0-32k.profile", NULL, err, sizeof(err));
	assert_non_null(p);
	assert_string_equal(sim_profile_name(p), "f0-32k");
	sim_profile_free(p);
	assert_null(sim_profile_load("no-such-chip", PROFILE_DIR, err, sizeof(err)));
	assert_non_null(strstr(err, "no-such-chip"));
	assert_null(sim_profile_load("f746,timing", PROFILE_DIR, err, sizeof(err)));
	struct clock_fake clk;
	clock_fake_init(&clk);
	static const char *const bad[] = {
		"f746,bogus_key=1", "f746,uid=1234", "f746,transfer_size=x", "f746,alt=Internal",
		"f746,start_state=dfuDNBUSY", "f746,poll_after_busy=maybe", "f746,hse=40M", "f746,fault_rate=2",
		"f746,ob_default=00 11",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = sim_profile_load(bad[i], PROFILE_DIR, err, sizeof(err));
		assert_non_null(p);
		struct sim_device *d = sim_device_new(p, &clk.clock, err, sizeof(err));
		if (d)
			fail_msg("%s: accepted", bad[i]);
		assert_non_null(strstr(err, "profile key"));
		sim_profile_free(p);
	}
	/* only a serial and the interface strings of a non-ST DfuSe device: memories from the alts */
	struct simt *t = simt_new("serial=XYZ,alt=@Flash /0x00000000/64*004Kg,vid=0x1209,pid=0x0001");
	assert_string_equal(t->d->serial, "XYZ");
	assert_int_equal(t->d->nalts, 1);
	assert_int_equal(t->d->mem[t->d->flash].size, 256 * 1024);
	assert_int_equal(t->d->mem[t->d->flash].nsectors, 64);
	uint8_t st;
	assert_int_equal(simt_status(t, &st, NULL), dfuIDLE);
	assert_int_equal(simt_write(t, 0x1000, "\x12\x34", 2, &st), dfuDNLOAD_IDLE);
	simt_free(t);
	/* uid: words with or without spaces; the F2/F4 serial rule (data/uid-serial/libopencm3-760_...) */
	t = simt_new("f407,serial=,uid=002d0030 3334510b 32313533");
	simt_free(t);
	p = sim_profile_load("uid_addr=0x1FFF7A10,uid=002d00303334510b32313533", NULL, err, sizeof(err));
	struct sim_device *d = sim_device_new(p, &clk.clock, err, sizeof(err));
	assert_non_null(d);
	assert_string_equal(d->serial, "325E35633334");
	uint8_t uid[12];
	assert_true(sim_mem_read(d, 0x1FFF7A10, uid, 12));
	assert_int_equal(get_le32(uid + 4), 0x3334510b);
	sim_device_free(d);
	sim_profile_free(p);
}

static void test_state_file(void **state)
{
	(void)state;
	char err[256], path[512], dpath[4096];
	snprintf(path, sizeof(path), "/tmp/sim-test-%ld.state", (long)getpid());
	struct simt *t = simt_new("f746,timing=0");
	assert_int_equal(sim_state_load(t->d, path, err, sizeof(err)), 0); /* missing: fresh chip */
	uint8_t st, data[4] = {1, 2, 3, 4}, ob[32];
	assert_int_equal(simt_write(t, 0x08040000, data, 4, &st), dfuDNLOAD_IDLE);
	memcpy(ob, t->d->obd.defaults, 32);
	ob[1] = 0x55;
	assert_true(sim_mem_write(t->d, 0x1FFF0000, ob, 32));
	assert_int_equal(sim_state_save(t->d, path, err, sizeof(err)), 0);
	simt_free(t);
	/* a second command sees what the first wrote, RDP included */
	t = simt_new("f746,timing=0");
	assert_int_equal(sim_state_load(t->d, path, err, sizeof(err)), 0);
	uint8_t rd[4];
	assert_true(sim_mem_read(t->d, 0x08040000, rd, 4));
	assert_memory_equal(rd, data, 4);
	assert_int_equal(sim_rdp_level(t->d), 1);
	simt_free(t);
	/* another profile's chip, and a damaged file, are refused */
	t = simt_new("f407,timing=0");
	assert_int_equal(sim_state_load(t->d, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not fit"));
	simt_free(t);
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	fseek(f, 100, SEEK_SET);
	fputc(0x42, f);
	fclose(f);
	t = simt_new("f746,timing=0");
	assert_int_equal(sim_state_load(t->d, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CRC"));
	simt_free(t);
	remove(path);
	/* default path: $XDG_STATE_HOME/stm32dfu/sim/sim-<name>-<serial>.state (apart from real chips' records) */
	struct sim_profile *p = sim_profile_load("f0-32k", PROFILE_DIR, err, sizeof(err));
	setenv("XDG_STATE_HOME", "/tmp", 1);
	assert_true(sim_state_default_path(p, dpath, sizeof(dpath)));
	assert_string_equal(dpath, "/tmp/stm32dfu/sim/sim-f0-32k-FFFFFFFEFFFF.state");
	assert_false(sim_state_default_path(p, dpath, 10));
	sim_profile_free(p);
}

static void test_hse_detection(void **state)
{
	(void)state;
	/* protocol.md 4.3: safe bands; one MHz off just outside them */
	assert_true(sim_detect_hse(8e6, 0) == 8e6);
	assert_true(sim_detect_hse(25e6, 0) == 25e6);
	assert_true(sim_detect_hse(24e6, 1.5) == 24e6);
	assert_true(sim_detect_hse(24e6, 2.5) == 23e6);
	assert_true(sim_detect_hse(25e6, -2.0) == 26e6);
	assert_true(sim_detect_hse(8e6, 5.0) == 8e6);
	struct simt *t = simt_new("f746,hse=24M,hsi_error=2.5");
	struct sim_clock_report r;
	sim_clock_report(t->d, &r);
	assert_true(r.detected_hse_hz == 23e6);
	assert_true(r.usb_error_ppm > 43000 && r.usb_error_ppm < 44000); /* +4.3 % */
	simt_free(t);
	t = simt_new("f746");
	sim_clock_report(t->d, &r);
	assert_true(r.usb_error_ppm == 0 && r.detected_hse_hz == 0);
	simt_free(t);
}

static void test_discrete_faults(void **state)
{
	(void)state;
	struct simt *t = simt_new("f746,timing=0,stall_at=2,timeout_at=3,disconnect_at=5");
	assert_int_equal(simt_status(t, NULL, NULL), dfuIDLE);
	assert_int_equal(simt_req(t, USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATUS, 0, 6, NULL), SIM_STALL);
	assert_int_equal(simt_req(t, USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATUS, 0, 6, NULL), SIM_NO_ANSWER);
	assert_int_equal(simt_status(t, NULL, NULL), dfuIDLE);
	assert_int_equal(simt_req(t, USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATUS, 0, 6, NULL), SIM_DISCONNECTED);
	assert_int_equal(sim_link_state(t->d), SIM_LINK_RESETTING);
	assert_true(sim_reconnect(t->d));
	struct sim_stats s;
	sim_get_stats(t->d, &s);
	assert_int_equal(s.faults_injected, 3);
	simt_free(t);
	/* unplugged at the third transfer: gone, and no reset brings it back */
	t = simt_new("f746,timing=0,unplug_at=3");
	assert_int_equal(simt_status(t, NULL, NULL), dfuIDLE);
	assert_int_equal(simt_status(t, NULL, NULL), dfuIDLE);
	assert_int_equal(simt_req(t, USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATUS, 0, 6, NULL), SIM_DISCONNECTED);
	assert_int_equal(sim_link_state(t->d), SIM_LINK_GONE);
	assert_false(sim_reconnect(t->d));
	simt_free(t);
	/* corrupt upload: only verification sees it */
	t = simt_new("f746,timing=0,corrupt_upload_at=2,seed=7");
	assert_int_equal(simt_read(t, 0x08000000, 2048), SIM_OK);
	for (int i = 0; i < 2048; i++)
		assert_int_equal(t->buf[i], 0xFF);
	assert_int_equal(simt_read(t, 0x08000000, 2048), SIM_OK);
	int diff = 0;
	for (int i = 0; i < 2048; i++)
		diff += t->buf[i] != 0xFF;
	assert_int_equal(diff, 1);
	simt_free(t);
	/* busy stuck past an address (H7 rev V): CLRSTATUS twice recovers */
	t = simt_new("f746,timing=0,busy_stuck_after=0x08080000");
	uint8_t st, data[16] = {0};
	assert_int_equal(simt_write(t, 0x08000000, data, 16, &st), dfuDNLOAD_IDLE);
	assert_int_equal(simt_set_address(t, 0x08080000, &st), dfuDNLOAD_IDLE);
	assert_int_equal(simt_dnload(t, 2, data, 8), SIM_OK);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(simt_status(t, &st, NULL), dfuDNBUSY);
		simt_advance_ms(t, 1000);
	}
	assert_int_equal(simt_simple(t, DFU_CLRSTATUS), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuERROR);
	assert_int_equal(st, errUNKNOWN);
	assert_int_equal(simt_simple(t, DFU_CLRSTATUS), SIM_OK);
	assert_int_equal(simt_status(t, &st, NULL), dfuIDLE);
	simt_free(t);
	/* poll lie: reported bwPollTimeout a quarter of the real 400 ms erase */
	t = simt_new("f746,poll_lie=0.25");
	assert_int_equal(simt_dnload(t, 0, (uint8_t[]){0x41, 0, 0, 0, 8}, 5), SIM_OK);
	uint32_t poll = 0;
	assert_int_equal(simt_status(t, &st, &poll), dfuDNBUSY);
	assert_int_equal(poll, 25);
	simt_free(t);
}

static unsigned count_failures(const char *spec, uint16_t len, int n)
{
	struct simt *t = simt_new(spec);
	unsigned fails = 0;
	for (int i = 0; i < n; i++) {
		enum sim_result r = len <= 6 ? simt_req(t, USB_RT_CLASS_IN_INTERFACE, DFU_GETSTATUS, 0, len, NULL)
					     : simt_upload(t, 0, len);
		fails += r != SIM_OK;
		if (r == SIM_OK && len > 6)
			simt_simple(t, DFU_ABORT);
	}
	simt_free(t);
	return fails;
}

static void test_marginal_clock(void **state)
{
	(void)state;
	/* no keys: no faults at all */
	assert_int_equal(count_failures("f746,timing=0", 6, 1000), 0);
	/* a 24 MHz crystal seen as 23 MHz: short requests mostly pass, 2 KiB transfers fail */
	unsigned short_fail = count_failures("f746,timing=0,hse=24M,hsi_error=2.5,seed=3", 6, 1000);
	unsigned long_fail = count_failures("f746,timing=0,hse=24M,hsi_error=2.5,seed=3", 2048, 200);
	assert_true(short_fail < 100);
	assert_true(long_fail > 190);
	/* within the USB tolerance: nothing */
	assert_int_equal(count_failures("f746,timing=0,usb_clock_error=2000", 2048, 200), 0);
	/* a flat fault rate, reproducible with a seed */
	unsigned a = count_failures("f746,timing=0,fault_rate=0.1,seed=42", 6, 1000);
	unsigned b = count_failures("f746,timing=0,fault_rate=0.1,seed=42", 6, 1000);
	assert_int_equal(a, b);
	assert_true(a > 50 && a < 150);
}

/* Profiles that model different boards have different UIDs (issue 21 item 7): what the tool
 * remembers per board (doctor's link verdict, recovery files, serial numbers) is keyed by UID, so
 * two profiles sharing one would share those records. A profile inheriting another (base =) is
 * another board and needs its own. */
struct uid_seen {
	char names[64][64];
	char uids[64][64];
	unsigned n;
};

static void note_uid(const char *name, void *ctx)
{
	struct uid_seen *u = ctx;
	char err[256];
	struct sim_profile *p = sim_profile_load(name, PROFILE_DIR, err, sizeof(err));
	assert_non_null(p);
	const char *uid = sim_profile_get(p, "uid");
	for (unsigned i = 0; i < u->n; i++)
		if (strcmp(u->names[i], name) == 0)
			uid = NULL; /* the same profile found in two folders */
	if (uid && u->n < 64) {
		char norm[64] = "";
		size_t k = 0;
		for (const char *c = uid; *c && k + 1 < sizeof norm; c++)
			if (*c != ' ')
				norm[k++] = (char)(*c >= 'a' && *c <= 'f' ? *c - 32 : *c);
		norm[k] = '\0';
		for (unsigned i = 0; i < u->n; i++)
			if (strcmp(u->uids[i], norm) == 0)
				fail_msg("profiles %s and %s share the UID %s", u->names[i], name, uid);
		snprintf(u->names[u->n], sizeof u->names[0], "%s", name);
		snprintf(u->uids[u->n], sizeof u->uids[0], "%s", norm);
		u->n++;
	}
	sim_profile_free(p);
}

static void test_profiles_have_their_own_uid(void **state)
{
	(void)state;
	static struct uid_seen u;
	u.n = 0;
	sim_profile_names(PROFILE_DIR, note_uid, &u);
	assert_true(u.n >= 10); /* every profile with a readable UID was seen */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listings),
		cmocka_unit_test(test_lsusb_descriptors),
		cmocka_unit_test(test_sector_maps),
		cmocka_unit_test(test_profile_parsing),
		cmocka_unit_test(test_state_file),
		cmocka_unit_test(test_hse_detection),
		cmocka_unit_test(test_discrete_faults),
		cmocka_unit_test(test_marginal_clock),
		cmocka_unit_test(test_profiles_have_their_own_uid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
