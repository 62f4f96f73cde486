/*
 * The library driven from several threads at once, one session each (design.md: re-entrant per
 * session, N devices from N threads): each thread opens its own emulated F746, writes its own
 * 64 KiB, verifies it (CRC-32 and read-back) and reads it back. Run under ThreadSanitizer by
 * `make tsan` (issue 26 item 11: the CRC-32 table was built by whichever thread came first while
 * others read it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include <stm32dfu/stm32dfu.h>

#include "../state_dir.h"

enum { THREADS = 4, LEN = 64 * 1024 };

struct job {
	int index;
	int rc_open, rc_info, rc_write, rc_verify, rc_read;
	int own_chip; /* the session reads the UID its own spec gave: no chip is shared between threads */
	int same;
};

static void *run(void *arg)
{
	struct job *j = arg;
	char spec[128];
	/* each its own chip: another UID (and so another serial) per thread, not persisted */
	snprintf(spec, sizeof spec, "f746,timing=0,uid=%024X", j->index + 1);
	struct stm32dfu_match m = {0};
	m.sim = spec;
	struct stm32dfu_session *s = NULL;
	j->rc_open = stm32dfu_open(&m, &s);
	if (j->rc_open)
		return NULL;
	struct stm32dfu_identity id;
	j->rc_info = stm32dfu_info(s, &id);
	uint8_t want[12] = {0}; /* UID2 = index + 1, memory order (little-endian words) */
	want[8] = (uint8_t)(j->index + 1);
	j->own_chip = j->rc_info == 0 && id.has_uid && memcmp(id.uid, want, sizeof want) == 0;
	uint8_t *data = malloc(LEN), *back = malloc(LEN);
	for (size_t i = 0; data && i < LEN; i++)
		data[i] = (uint8_t)(i * 31u + (unsigned)j->index * 7u);
	if (data && back) {
		struct stm32dfu_write_options wo = {0};
		j->rc_write = stm32dfu_write_mem(s, 0x08000000, data, LEN, &wo, NULL);
		j->rc_verify = stm32dfu_verify_mem(s, 0x08000000, data, LEN);
		j->rc_read = stm32dfu_read(s, 0x08000000, back, LEN);
		j->same = memcmp(data, back, LEN) == 0;
	}
	free(data);
	free(back);
	stm32dfu_close(s);
	return NULL;
}

static void test_sessions_in_threads(void **state)
{
	(void)state;
	pthread_t th[THREADS];
	struct job jobs[THREADS];
	for (int i = 0; i < THREADS; i++) {
		jobs[i] = (struct job){.index = i};
		assert_int_equal(pthread_create(&th[i], NULL, run, &jobs[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(jobs[i].rc_open, 0);
		assert_int_equal(jobs[i].rc_info, 0);
		assert_true(jobs[i].own_chip);
		assert_int_equal(jobs[i].rc_write, 0);
		assert_int_equal(jobs[i].rc_verify, 0);
		assert_int_equal(jobs[i].rc_read, 0);
		assert_true(jobs[i].same);
	}
}

int main(void)
{
	test_own_state_dir("lib-threads");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sessions_in_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
