#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/crc32.h"
#include "core/err.h"
#include "core/file.h"
#include "core/rd.h"
#include "core/utf8.h"

static void test_crc32_check_value(void **state)
{
	(void)state;
	/* the CRC-32/ISO-HDLC check value (catalogue of parametrised CRC algorithms) */
	assert_int_equal(crc32_update(0, "123456789", 9), 0xCBF43926u);
	/* chaining gives the same value as one call */
	uint32_t c = crc32_update(0, "1234", 4);
	assert_int_equal(crc32_update(c, "56789", 5), 0xCBF43926u);
	assert_int_equal(crc32_update(0, "", 0), 0);
	assert_int_equal(crc32_dfu("123456789", 9), ~0xCBF43926u);
}

static void test_rd_bounds(void **state)
{
	(void)state;
	const uint8_t buf[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06};
	struct rd r;
	rd_init(&r, buf, sizeof buf);
	assert_int_equal(rd_u8(&r), 0x01);
	assert_int_equal(rd_le16(&r), 0x0302);
	assert_true(rd_ok(&r));
	assert_int_equal(rd_left(&r), 3);
	assert_int_equal(rd_le32(&r), 0); /* only 3 bytes left */
	assert_false(rd_ok(&r));
	assert_null(rd_take(&r, 1)); /* sticky */
	rd_init(&r, buf, sizeof buf);
	assert_int_equal(rd_be32(&r), 0x01020304u);
	assert_int_equal(rd_be16(&r), 0x0506);
	assert_true(rd_ok(&r));
	assert_false(rd_seek(&r, 7));
	rd_init(&r, buf, sizeof buf);
	assert_null(rd_take(&r, SIZE_MAX));
}

static void test_err_chain(void **state)
{
	(void)state;
	struct err e;
	err_clear(&e);
	assert_int_equal(err_set(&e, STM32DFU_E_STALL, "GETSTATUS"), STM32DFU_E_STALL);
	err_prefix(&e, "block %d", 12);
	err_prefix(&e, "write: sector %d at 0x%08X", 3, 0x08018000);
	assert_string_equal(e.msg, "write: sector 3 at 0x08018000: block 12: GETSTATUS");
	assert_string_equal(stm32dfu_errname(STM32DFU_E_STALL), "STM32DFU_E_STALL");
	assert_string_equal(stm32dfu_strerror(STM32DFU_E_VERIFY), "verification failed");
	assert_string_equal(stm32dfu_errname(5), "STM32DFU_E_UNKNOWN");
	assert_int_equal(err_set(NULL, STM32DFU_E_RANGE, "x"), STM32DFU_E_RANGE);
}

/* tokens with arguments (issue 24 item 14): each front end quotes the call its own way */
static void test_err_words_arguments(void **state)
{
	(void)state;
	struct {
		const char *in, *cli, *lib;
	} cases[] = {
		{"see {@read 0x1FFF7800 528}", "see 'stm32dfu read 0x1FFF7800 528'", "see stm32dfu_read() of 528 bytes at 0x1FFF7800"},
		{"lift it with {@ob-set nWRP1=1 nWRP2=1}.", "lift it with 'stm32dfu ob set nWRP1=1 nWRP2=1'.",
		 "lift it with stm32dfu_ob_set(nWRP1=1, nWRP2=1)."},
		{"{@ob-set} clears them", "'stm32dfu ob set' clears them", "stm32dfu_ob_set() clears them"},
		{"{@force} reads", "--force reads", "the force option reads"},
		{"{@nope x} and {@force", "{@nope x} and {@force", "{@nope x} and {@force"},
		{"100% {@xfer} 64", "100% -t 64", "100% the transfer_size option 64"},
	};
	char out[256];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err_words(cases[i].in, 1, out, sizeof out);
		assert_string_equal(out, cases[i].cli);
		err_words(cases[i].in, 0, out, sizeof out);
		assert_string_equal(out, cases[i].lib);
	}
	/* cut to the room there is, always terminated */
	err_words("{@read 0x1FFF7800 528}", 1, out, 8);
	assert_string_equal(out, "'stm32d");
	struct err e;
	err_clear(&e);
	err_set(&e, STM32DFU_E_PROTECTED, "sector %u", 1);
	err_hint(&e, "lift it with {@ob-set nWRP%u=1}", 1);
	assert_string_equal(e.hint, "lift it with 'stm32dfu ob set nWRP1=1'");
	assert_string_equal(e.lib_hint, "lift it with stm32dfu_ob_set(nWRP1=1)");
}

static void test_fake_clock(void **state)
{
	(void)state;
	struct clock_fake f;
	clock_fake_init(&f);
	uint64_t t0 = clock_now_us(&f.clock);
	clock_sleep_us(&f.clock, 1500);
	assert_int_equal(clock_now_us(&f.clock) - t0, 1500);
	assert_int_equal(f.sleeps, 1);
	const struct clock *real = clock_real();
	uint64_t a = clock_now_us(real);
	clock_sleep_us(real, 1000);
	assert_true(clock_now_us(real) - a >= 1000);
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p: nested folders made 0700, existing ones accepted, a file in the way named in the error */
static void test_make_dirs(void **state)
{
	(void)state;
	char base[] = "/tmp/stm32dfu-core-XXXXXX", p[256], q[256];
	assert_non_null(mkdtemp(base));
	snprintf(p, sizeof p, "%s/a/b/c", base);
	assert_int_equal(file_make_dirs(p, NULL), 0);
	assert_true(is_dir(p));
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(file_make_dirs(p, NULL), 0); /* already there */
	snprintf(q, sizeof q, "%s/x/y/log.db", base);
	assert_int_equal(file_make_parent_dirs(q, NULL), 0);
	snprintf(p, sizeof p, "%s/x/y", base);
	assert_true(is_dir(p));
	assert_false(is_dir(q)); /* the file's own name is not made */
	/* a regular file where a folder should be */
	snprintf(p, sizeof p, "%s/x/y/plain", base);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(q, sizeof q, "%s/x/y/plain/sub", base);
	struct err e;
	err_clear(&e);
	assert_int_equal(file_make_dirs(q, &e), STM32DFU_E_FILE_IO);
	assert_non_null(strstr(e.msg, "plain"));
	assert_non_null(strstr(e.msg, "Not a directory"));
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	assert_int_equal(system(cmd), 0);
}

static int files_in(const char *dir)
{
	char cmd[400];
	snprintf(cmd, sizeof cmd, "exit $(ls -A '%s' | wc -l)", dir);
	int st = system(cmd);
	return WEXITSTATUS(st);
}

/* Our folders are ours (issue 26 item 9): a planted symlink, a folder open to others, one owned by
 * someone else, and a parent others may write are refused by name; fresh ones are made 0700. */
static void test_private_dir(void **state)
{
	(void)state;
	char base[] = "/tmp/stm32dfu-core-XXXXXX", p[300], q[300];
	assert_non_null(mkdtemp(base));
	snprintf(p, sizeof p, "%s/home/stm32dfu/recovery", base);
	assert_int_equal(file_private_dir(p, 2, NULL), 0);
	struct stat st;
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(file_private_dir(p, 2, NULL), 0); /* already there, and fine */
	struct err e;
	/* open to others: refused, the fix named */
	snprintf(q, sizeof q, "%s/home/stm32dfu", base);
	assert_int_equal(chmod(q, 0755), 0);
	err_clear(&e);
	assert_int_equal(file_private_dir(p, 2, &e), STM32DFU_E_FILE_IO);
	assert_non_null(strstr(e.msg, "open to other users"));
	assert_non_null(strstr(e.hint, "chmod 700"));
	assert_int_equal(chmod(q, 0700), 0);
	/* a symlink where our folder should be (another user's, in a shared XDG_STATE_HOME) */
	snprintf(p, sizeof p, "%s/shared", base);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/shared/stm32dfu", base);
	snprintf(q, sizeof q, "%s/home/stm32dfu", base);
	assert_int_equal(symlink(q, p), 0);
	err_clear(&e);
	assert_int_equal(file_private_dir(p, 1, &e), STM32DFU_E_FILE_IO);
	assert_non_null(strstr(e.msg, "symbolic link"));
	assert_non_null(strstr(e.msg, p));
	/* a parent others may write and that is not sticky */
	snprintf(q, sizeof q, "%s/open", base);
	assert_int_equal(mkdir(q, 0700), 0);
	assert_int_equal(chmod(q, 0777), 0);
	snprintf(p, sizeof p, "%s/open/stm32dfu", base);
	err_clear(&e);
	assert_int_equal(file_private_dir(p, 1, &e), STM32DFU_E_FILE_IO);
	assert_non_null(strstr(e.msg, "writable by other users"));
	/* sticky, as /tmp is: fine */
	assert_int_equal(chmod(q, 01777), 0);
	assert_int_equal(file_private_dir(p, 1, NULL), 0);
	/* owned by another user (only root can make one) */
	if (geteuid() == 0) {
		assert_int_equal(chown(p, 65534, 65534), 0);
		err_clear(&e);
		assert_int_equal(file_private_dir(p, 1, &e), STM32DFU_E_FILE_IO);
		assert_non_null(strstr(e.msg, "belongs to another user"));
	}
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	assert_int_equal(system(cmd), 0);
}

/* The XDG spec: a relative XDG_STATE_HOME is ignored (HOME is used instead). */
static void test_state_path(void **state)
{
	(void)state;
	char buf[300];
	setenv("HOME", "/home/u", 1);
	setenv("XDG_STATE_HOME", "rel/state", 1);
	assert_true(file_state_path("recovery", buf, sizeof buf));
	assert_string_equal(buf, "/home/u/.local/state/stm32dfu/recovery");
	setenv("XDG_STATE_HOME", "/x/state", 1);
	assert_true(file_state_path("", buf, sizeof buf));
	assert_string_equal(buf, "/x/state/stm32dfu");
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "relhome", 1);
	assert_false(file_state_path("link", buf, sizeof buf));
}

/* Atomic output (issue 21 item 6): a write that fails (a full disk, simulated by RLIMIT_FSIZE)
 * leaves the old file as it was and no temporary file; a complete one replaces it; a symlink
 * planted at the target is replaced, never written through. */
static void test_file_out(void **state)
{
	(void)state;
	char base[] = "/tmp/stm32dfu-core-XXXXXX", p[300], q[300];
	assert_non_null(mkdtemp(base));
	snprintf(p, sizeof p, "%s/backup.bin", base);
	static uint8_t big[200000];
	memset(big, 0x5A, sizeof big);
	assert_int_equal(file_write_atomic(p, big, 60000, 0666, NULL), 0);
	struct rlimit old, lim = {100 * 1024, 100 * 1024};
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	struct err e;
	err_clear(&e);
	memset(big, 0xA5, sizeof big);
	int rc = file_write_atomic(p, big, sizeof big, 0666, &e);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(rc, STM32DFU_E_FILE_IO);
	assert_non_null(strstr(e.msg, p));
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 60000); /* the old file, whole */
	uint8_t *got;
	size_t len;
	assert_int_equal(file_read_all(p, &got, &len, NULL), 0);
	assert_int_equal(got[59999], 0x5A);
	free(got);
	assert_int_equal(files_in(base), 1); /* no temporary file left */
	/* append keeps what was there */
	struct file_out o;
	assert_int_equal(file_out_open_append(&o, p, 0666, NULL), 0);
	assert_true(file_out_write(&o, "xyz", 3));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 60000); /* not yet */
	assert_int_equal(file_out_commit(&o, NULL), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 60003);
	/* abort: nothing changes, nothing left */
	assert_int_equal(file_out_open(&o, p, 0600, NULL), 0);
	file_out_write(&o, "abc", 3);
	file_out_abort(&o);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 60003);
	assert_int_equal(files_in(base), 1);
	/* records are 0600 */
	snprintf(q, sizeof q, "%s/record", base);
	assert_int_equal(file_write_atomic(q, "r", 1, 0600, NULL), 0);
	assert_int_equal(stat(q, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* a symlink at the target is replaced, its destination untouched */
	snprintf(q, sizeof q, "%s/victim", base);
	assert_int_equal(file_write_atomic(q, "victim", 6, 0600, NULL), 0);
	snprintf(p, sizeof p, "%s/out", base);
	assert_int_equal(symlink(q, p), 0);
	assert_int_equal(file_write_atomic(p, "new", 3, 0600, NULL), 0);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(stat(q, &st), 0);
	assert_int_equal(st.st_size, 6);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	assert_int_equal(system(cmd), 0);
}

/* the stamp is this second in UTC, ISO 8601 */
static void test_utc_stamp(void **state)
{
	(void)state;
	char stamp[CLOCK_UTC_STAMP_LEN], want[CLOCK_UTC_STAMP_LEN], want2[CLOCK_UTC_STAMP_LEN];
	time_t before = time(NULL);
	clock_utc_stamp(stamp);
	time_t after = time(NULL);
	struct tm tm;
	strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&before, &tm));
	strftime(want2, sizeof want2, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&after, &tm));
	assert_int_equal(strlen(stamp), CLOCK_UTC_STAMP_LEN - 1);
	assert_true(strcmp(stamp, want) == 0 || strcmp(stamp, want2) == 0);
}

/* RFC 3629 §3-4: the well-formed sequences and the ill-formed ones a decoder must refuse */
static void test_utf8_decode(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t len;
		uint32_t cp;
	} cases[] = {
		{"A", 1, 0x41}, {"\xC2\xA7", 2, 0xA7}, {"\xE2\x82\xAC", 3, 0x20AC}, {"\xF0\x9F\x98\x80", 4, 0x1F600},
		{"\xF4\x8F\xBF\xBF", 4, 0x10FFFF}, {"\xEF\xBF\xBF", 3, 0xFFFF},
		/* refused: stray continuation, C0/C1 overlong, 3-byte overlong, surrogate, past U+10FFFF,
		 * cut short, a non-continuation inside */
		{"\x80", 0, 0}, {"\xC0\xAF", 0, 0}, {"\xC1\xBF", 0, 0}, {"\xE0\x80\xAF", 0, 0},
		{"\xED\xA0\x80", 0, 0}, {"\xF4\x90\x80\x80", 0, 0}, {"\xF5\x80\x80\x80", 0, 0},
		{"\xE2\x82", 0, 0}, {"\xC3" "A", 0, 0}, {"\xFF", 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint32_t cp = 0;
		size_t n = utf8_decode((const unsigned char *)cases[i].s, strlen(cases[i].s), &cp);
		assert_int_equal(n, cases[i].len);
		if (n)
			assert_int_equal(cp, cases[i].cp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32_check_value),
		cmocka_unit_test(test_rd_bounds),
		cmocka_unit_test(test_err_chain),
		cmocka_unit_test(test_err_words_arguments),
		cmocka_unit_test(test_fake_clock),
		cmocka_unit_test(test_make_dirs),
		cmocka_unit_test(test_private_dir),
		cmocka_unit_test(test_state_path),
		cmocka_unit_test(test_file_out),
		cmocka_unit_test(test_utc_stamp),
		cmocka_unit_test(test_utf8_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
