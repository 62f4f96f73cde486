#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/crc32.h"
#include "core/err.h"
#include "core/file.h"
#include "core/rd.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32_check_value),
		cmocka_unit_test(test_rd_bounds),
		cmocka_unit_test(test_err_chain),
		cmocka_unit_test(test_fake_clock),
		cmocka_unit_test(test_make_dirs),
		cmocka_unit_test(test_utc_stamp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
