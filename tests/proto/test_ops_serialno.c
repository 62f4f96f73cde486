/*
 * Emulated chips never touch a real chip's records (issue 27 item 4), below the command line: a
 * program on ops/ that hands ops_serialno_apply a log not opened for emulated chips gets no
 * number, and the log's counter is not advanced; the emulated chips' own log gives one.
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

#include "core/clock.h"
#include "image/image.h"
#include "ops/ops.h"
#include "ops/serialno.h"
#include "store/store.h"
#include "harness.h"

static struct clock_fake fake;

static void test_emulated_chip_real_log(void **state)
{
	(void)state;
	char dir[] = "/tmp/stm32dfu-sn-XXXXXX", url[128];
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof url, "sqlite:%s/log.sqlite3", dir);
	struct err e;
	err_clear(&e);
	struct store *st = NULL;
	assert_int_equal(store_open(url, &st, &e), 0);

	struct ops_open_opts o = harness_opts("f746,timing=0", &fake);
	struct ops_session *s = harness_open(&o);
	struct ops_serialno sn;
	memset(&sn, 0, sizeof sn);
	assert_int_equal(ops_serialno_parse("0x08010000", &sn, &e), 0);
	sn.counter = "line";
	sn.start = 1000;
	sn.store = st;
	struct img *img = harness_random_image(1, 0x08000000, 1024), *board = NULL;
	uint64_t number = 0;

	/* a log opened as a real chip's (what a hand-typed --log URL would be) */
	assert_int_equal(ops_serialno_apply(s, &sn, img, &board, &number), STM32DFU_E_USAGE);
	assert_null(board);
	assert_non_null(strstr(s->err.msg, "emulated"));
	bool exists = true;
	uint64_t next = 0;
	assert_int_equal(store_serial_counter(st, "line", &exists, &next, &e), 0);
	assert_false(exists); /* the counter was never touched */

	/* the same log, opened for emulated chips: a number */
	store_set_emulated(st);
	err_clear(&s->err);
	assert_int_equal(ops_serialno_apply(s, &sn, img, &board, &number), 0);
	assert_non_null(board);
	assert_int_equal(number, 1000);
	img_free(board);

	img_free(img);
	ops_close(s);
	store_close(st);
	char path[160];
	snprintf(path, sizeof path, "%s/log.sqlite3", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emulated_chip_real_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
