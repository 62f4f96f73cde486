/*
 * The 0.5 additions of the public API, through the shared library only: stm32dfu_open_session with
 * every session option (each checked by its effect on the wire, read from the session's own trace),
 * the size rule of stm32dfu_session_options, and stm32dfu_list_records / stm32dfu_device_record on
 * a hostile emulated device with more alt settings, regions, sector groups and longer names than
 * the 0.2 records hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <stm32dfu/stm32dfu.h>

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/stm32dfu-session-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	/* the kept emulated chips live here, not beside other tests' */
	setenv("XDG_STATE_HOME", tmpdir, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct stm32dfu_session_options opts(void)
{
	struct stm32dfu_session_options o;
	memset(&o, 0, sizeof o);
	o.size = sizeof o;
	return o;
}

static struct stm32dfu_session *open_with(const char *sim, const struct stm32dfu_session_options *o)
{
	struct stm32dfu_match m = {0};
	m.sim = sim;
	struct stm32dfu_session *s = NULL;
	int rc = stm32dfu_open_session(&m, o, &s);
	if (rc)
		fprintf(stderr, "open: %s\n", stm32dfu_last_error(NULL).message);
	assert_int_equal(rc, 0);
	assert_non_null(s);
	return s;
}

/* requests of one kind in a trace file: " IN  a1 02 " is UPLOAD, " IN  a1 03 " GETSTATUS */
static unsigned count_lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *line = NULL;
	size_t cap = 0;
	unsigned n = 0;
	while (getline(&line, &cap, f) >= 0)
		n += strstr(line, needle) != NULL;
	free(line);
	fclose(f);
	return n;
}

static void trace_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s.trace", tmpdir, name);
}

static void test_size_rule(void **state)
{
	(void)state;
	struct stm32dfu_match m = {0};
	m.sim = "f746,timing=0";
	struct stm32dfu_session *s = (struct stm32dfu_session *)&m; /* must come back NULL */
	/* size left 0: the caller forgot it */
	struct stm32dfu_session_options o;
	memset(&o, 0, sizeof o);
	assert_int_equal(stm32dfu_open_session(&m, &o, &s), STM32DFU_E_USAGE);
	assert_null(s);
	assert_non_null(strstr(stm32dfu_last_error(NULL).hint, "sizeof"));
	/* a larger structure than this library knows (a newer header's, or a size that lies): refused
	 * before a byte past ours is read (issue 26 item 11: it read options->size bytes, unbounded).
	 * The size claims 1 GiB: reading it would fault, or ASan would name the over-read. */
	o = opts();
	o.size = (size_t)1 << 30;
	s = (struct stm32dfu_session *)&m;
	assert_int_equal(stm32dfu_open_session(&m, &o, &s), STM32DFU_E_UNSUPPORTED);
	assert_null(s);
	assert_non_null(strstr(stm32dfu_last_error(NULL).message, stm32dfu_version()));
	o.size = sizeof o + 8;
	assert_int_equal(stm32dfu_open_session(&m, &o, &s), STM32DFU_E_UNSUPPORTED);
	/* a poll mode that does not exist */
	o = opts();
	o.poll = 7;
	assert_int_equal(stm32dfu_open_session(&m, &o, &s), STM32DFU_E_USAGE);
	/* NULL options: the defaults */
	assert_int_equal(stm32dfu_open_session(&m, NULL, &s), 0);
	stm32dfu_close(s);
}

/* -t: the blocks a write sends are transfer_size long (F746: wTransferSize 2048) */
static void test_transfer_size(void **state)
{
	(void)state;
	static uint8_t data[8192];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 13u + 5u);
	struct stm32dfu_segment seg = {0x08000000, 0, data, sizeof data};
	unsigned want_blocks[2] = {8, 4};
	unsigned sizes[2] = {1024, 0};
	for (int k = 0; k < 2; k++) {
		struct stm32dfu_session_options o = opts();
		o.transfer_size = sizes[k];
		char tr[128];
		trace_path(tr, sizeof tr, k ? "t-default" : "t-1024");
		o.trace = tr;
		struct stm32dfu_session *s = open_with("f746,timing=0", &o);
		struct stm32dfu_write_ex_options wo = {0};
		wo.full = 1; /* program every block, whatever the chip held */
		struct stm32dfu_write_report *r = malloc(sizeof *r);
		assert_non_null(r);
		assert_int_equal(stm32dfu_write_ex(s, &seg, 1, &wo, r), 0);
		assert_int_equal(r->transfer_size, k ? 2048 : 1024);
		assert_int_equal(r->blocks, want_blocks[k]);
		assert_true(r->verified);
		free(r);
		stm32dfu_close(s);
		/* on the wire: every data DNLOAD ("OUT 21 01 ... LEN | data") is that long (at 1024, below
		 * the native size, each block gets its own Set Address Pointer, block number 2) */
		char needle[40];
		snprintf(needle, sizeof needle, " 0000 %04x | ", k ? 2048 : 1024);
		assert_int_equal(count_lines(tr, needle), want_blocks[k]);
		snprintf(needle, sizeof needle, " 0000 %04x | ", k ? 1024 : 2048);
		assert_int_equal(count_lines(tr, needle), 0);
	}
	/* more than the device's wTransferSize: refused at open, naming the limit */
	struct stm32dfu_session_options o = opts();
	o.transfer_size = 4096;
	struct stm32dfu_match m = {0};
	m.sim = "f746,timing=0";
	struct stm32dfu_session *s;
	assert_int_equal(stm32dfu_open_session(&m, &o, &s), STM32DFU_E_USAGE);
	assert_non_null(strstr(stm32dfu_last_error(NULL).message, "2048"));
}

/* --confirm-reads: each read is read twice (the UPLOADs of one 4 KiB read double: 2 more) */
static void test_confirm_reads(void **state)
{
	(void)state;
	unsigned uploads[2];
	for (int k = 0; k < 2; k++) {
		struct stm32dfu_session_options o = opts();
		o.confirm_reads = k;
		char tr[128];
		trace_path(tr, sizeof tr, k ? "confirm" : "single");
		o.trace = tr;
		struct stm32dfu_session *s = open_with("f746,timing=0", &o);
		static uint8_t buf[4096];
		assert_int_equal(stm32dfu_read(s, 0x08000000, buf, sizeof buf), 0);
		stm32dfu_close(s);
		uploads[k] = count_lines(tr, " IN  a1 02 ");
	}
	assert_true(uploads[0] >= 2);
	assert_int_equal(uploads[1], uploads[0] + 2);
}

/* GETSTATUS requests sent sooner after a dfuDNBUSY reply than the bwPollTimeout it asked for:
 * trace lines "@US IN  a1 03 0000 0000 0006 -> 6 | 00 T0 T1 T2 STATE 00" */
static unsigned early_getstatus(const char *path, unsigned *busy_replies)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *line = NULL;
	size_t cap = 0;
	unsigned early = 0;
	*busy_replies = 0;
	unsigned long long busy_at = 0, wait_us = 0;
	int after_busy = 0;
	while (getline(&line, &cap, f) >= 0) {
		unsigned long long at;
		unsigned st, t0, t1, t2, state;
		if (line[0] != '@' || !strstr(line, " IN  a1 03 ") || sscanf(line, "@%llu", &at) != 1)
			continue;
		const char *bar = strchr(line, '|');
		if (!bar || sscanf(bar + 1, "%x %x %x %x %x", &st, &t0, &t1, &t2, &state) != 5)
			continue;
		if (after_busy && at - busy_at < wait_us)
			early++;
		after_busy = state == 4; /* dfuDNBUSY */
		if (after_busy) {
			(*busy_replies)++;
			busy_at = at;
			wait_us = 1000ull * (t0 | t1 << 8 | t2 << 16);
		}
	}
	free(line);
	fclose(f);
	return early;
}

/* --poll: on a chip that holds an early GETSTATUS until the flash is done (busy_reply=hold), auto
 * asks again at once; spec waits every bwPollTimeout first (tests/cli/poll.sh checks the modes'
 * names). Spec's waits are certain (the host sleeps at least that long); auto's early requests
 * are counted, not timed. */
static void test_poll(void **state)
{
	(void)state;
	static uint8_t data[16384];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i ^ (i >> 7));
	struct stm32dfu_segment seg = {0x08000000, 0, data, sizeof data};
	unsigned early[2], busy[2];
	for (int k = 0; k < 2; k++) {
		struct stm32dfu_session_options o = opts();
		o.poll = k ? STM32DFU_POLL_SPEC : STM32DFU_POLL_AUTO;
		char tr[128];
		trace_path(tr, sizeof tr, k ? "spec" : "auto");
		o.trace = tr;
		struct stm32dfu_session *s = open_with("f746,timing=0.02,busy_reply=hold", &o);
		struct stm32dfu_write_ex_options wo = {0};
		wo.full = 1;
		struct stm32dfu_write_report *r = malloc(sizeof *r);
		assert_non_null(r);
		assert_int_equal(stm32dfu_write_ex(s, &seg, 1, &wo, r), 0);
		assert_true(r->verified);
		free(r);
		stm32dfu_close(s);
		early[k] = early_getstatus(tr, &busy[k]);
	}
	assert_true(busy[0] >= 8 && busy[1] >= 8); /* each block and erase answered dfuDNBUSY first */
	assert_int_equal(early[1], 0);
	assert_true(early[0] >= busy[0] / 2);
}

static volatile sig_atomic_t stop_flag;

/* cancel: a write asked to stop stops at a transfer boundary, STM32DFU_E_CANCELED */
static void test_cancel(void **state)
{
	(void)state;
	struct stm32dfu_session_options o = opts();
	o.cancel = &stop_flag;
	struct stm32dfu_session *s = open_with("f746,timing=0", &o);
	static uint8_t data[4096];
	memset(data, 0x5A, sizeof data);
	stop_flag = 1;
	int rc = stm32dfu_write_mem(s, 0x08000000, data, sizeof data, NULL, NULL);
	stop_flag = 0;
	assert_int_equal(rc, STM32DFU_E_CANCELED);
	stm32dfu_close(s);
}

/* sim_persist: a kept emulated chip holds what the last session wrote; a fresh one does not */
static void test_sim_persist(void **state)
{
	(void)state;
	static uint8_t data[2048], back[2048];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 3u + 1u);
	struct stm32dfu_session_options o = opts();
	o.sim_persist = 1;
	struct stm32dfu_session *s = open_with("f746,timing=0", &o);
	assert_int_equal(stm32dfu_write_mem(s, 0x08004000, data, sizeof data, NULL, NULL), 0);
	stm32dfu_close(s);
	s = open_with("f746,timing=0", &o);
	assert_int_equal(stm32dfu_read(s, 0x08004000, back, sizeof back), 0);
	assert_memory_equal(back, data, sizeof data);
	stm32dfu_close(s);
	o.sim_persist = 0;
	s = open_with("f746,timing=0", &o);
	assert_int_equal(stm32dfu_read(s, 0x08004000, back, sizeof back), 0);
	for (size_t i = 0; i < sizeof back; i++)
		assert_int_equal(back[i], 0xFF);
	stm32dfu_close(s);
}

/* a zero match is the ST ROM's 0483:df11 (stm32dfu_list's contract); any_id lists every DFU device */
static void test_any_id(void **state)
{
	(void)state;
	struct stm32dfu_match m = {0};
	m.sim = "gd32vf103,timing=0"; /* 28e9:0189 */
	struct stm32dfu_device *d = NULL;
	size_t n = 99;
	assert_int_equal(stm32dfu_list(&m, &d, &n), 0);
	assert_int_equal(n, 0);
	stm32dfu_list_free(d);
	struct stm32dfu_device_rec *r = NULL;
	assert_int_equal(stm32dfu_list_records(&m, NULL, &r, &n), 0);
	assert_int_equal(n, 0);
	stm32dfu_list_records_free(r);
	struct stm32dfu_session_options o = opts();
	o.any_id = 1;
	assert_int_equal(stm32dfu_list_records(&m, &o, &r, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].vid, 0x28E9);
	assert_int_equal(r[0].pid, 0x0189);
	assert_true(r[0].opened && r[0].identity_known);
	assert_false(r[0].identity_read);   /* not an ST ROM: no UID read */
	assert_string_equal(r[0].identity.serial_verdict, "no_uid");
	assert_int_equal(r[0].identity.rdp_level, -1);
	stm32dfu_list_records_free(r);
	/* opening takes any_id too */
	struct stm32dfu_session *s = NULL;
	assert_int_equal(stm32dfu_open_session(&m, NULL, &s), STM32DFU_E_NO_DEVICE);
	assert_int_equal(stm32dfu_open_session(&m, &o, &s), 0);
	stm32dfu_close(s);
}

static void write_hostile_profile(char *path, size_t cap)
{
	snprintf(path, cap, "%s/hostile.profile", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "base = f746\nproduct = ");
	for (int i = 0; i < 126; i++) /* the longest a string descriptor holds */
		fputc('P', f);
	fprintf(f, "\nalt = @Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg\n"
	           "alt = @Option Bytes  /0x1FFF0000/01*032 e\n"
	           "alt = @OTP Memory /0x1FF0F000/01*1024 e,01*016 e\n"
	           "alt = @Device Feature/0xFFFF0000/01*004 e\n");
	/* alt 4: six regions (the 0.2 record holds 4); alt 5: twelve sector groups (it holds 8) */
	fprintf(f, "alt = @Regions");
	for (int k = 0; k < 6; k++)
		fprintf(f, "/0x%08X/1*1Ka", 0x60000000u + 0x1000u * (unsigned)k);
	fprintf(f, "\nalt = @Groups/0x61000000/");
	for (int k = 0; k < 12; k++)
		fprintf(f, "%s1*%dKa", k ? "," : "", k + 1);
	/* alt 6: a 100-character name (the layout parser kept 63 before 0.5) */
	fprintf(f, "\nalt = @");
	for (int i = 0; i < 100; i++)
		fputc('N', f);
	fprintf(f, "/0x62000000/1*1Ka\n");
	for (int k = 7; k < 40; k++) /* 40 alt settings: the library keeps 32 */
		fprintf(f, "alt = @Spare/0x63000000/1*1Ka\n");
	fclose(f);
}

static void check_hostile_rec(const struct stm32dfu_device_rec *d)
{
	assert_int_equal(strlen(d->product), 126);
	assert_int_equal(d->n_alts, STM32DFU_REC_MAX_ALTS);
	assert_int_equal(d->n_alts_total, 40);
	const struct stm32dfu_alt_rec *a = &d->alts[4];
	assert_true(a->has_layout);
	assert_int_equal(a->n_regions, 6);
	assert_int_equal(a->regions[5].start, 0x60005000);
	assert_int_equal(a->regions[5].length, 1024);
	a = &d->alts[5];
	assert_int_equal(a->n_regions, 1);
	assert_int_equal(a->regions[0].n_groups, 12);
	assert_int_equal(a->regions[0].groups[11].size, 12 * 1024);
	assert_int_equal(a->regions[0].length, 78 * 1024); /* 1+2+...+12 KiB */
	a = &d->alts[6];
	assert_int_equal(strlen(a->name), 100);
	assert_int_equal(strspn(a->name, "N"), 100);
	assert_int_equal(d->alts[31].alt, 31);
	assert_true(d->identity_known && d->identity_read);
	assert_string_equal(d->identity.family, "F74x");
}

static void test_hostile_device(void **state)
{
	(void)state;
	char path[128], spec[192];
	write_hostile_profile(path, sizeof path);
	snprintf(spec, sizeof spec, "%s,timing=0", path);
	struct stm32dfu_match m = {0};
	m.sim = spec;
	struct stm32dfu_device_rec *r = NULL;
	size_t n = 0;
	int rc = stm32dfu_list_records(&m, NULL, &r, &n);
	if (rc)
		fprintf(stderr, "list: %s\n", stm32dfu_last_error(NULL).message);
	assert_int_equal(rc, 0);
	assert_int_equal(n, 1);
	check_hostile_rec(&r[0]);
	assert_string_equal(r[0].found_state_name, "dfuIDLE");
	stm32dfu_list_records_free(r);
	/* the same record from an open session */
	struct stm32dfu_session *s = open_with(spec, NULL);
	struct stm32dfu_device_rec *d = malloc(sizeof *d);
	assert_non_null(d);
	assert_int_equal(stm32dfu_device_record(s, d), 0);
	check_hostile_rec(d);
	free(d);
	/* the 0.2 record: the first 16 alts and 4 regions, and how many there are */
	struct stm32dfu_device *old = malloc(sizeof *old);
	assert_non_null(old);
	assert_int_equal(stm32dfu_device_info(s, old), 0);
	assert_int_equal(old->n_alts, STM32DFU_MAX_ALTS);
	assert_int_equal(old->n_alts_total, 40);
	assert_int_equal(old->alts[4].n_regions, STM32DFU_MAX_REGIONS);
	assert_int_equal(old->alts[4].n_regions_total, 6);
	free(old);
	stm32dfu_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_rule),     cmocka_unit_test(test_transfer_size), cmocka_unit_test(test_confirm_reads),
		cmocka_unit_test(test_poll),          cmocka_unit_test(test_cancel),        cmocka_unit_test(test_sim_persist),
		cmocka_unit_test(test_any_id),        cmocka_unit_test(test_hostile_device),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
