/*
 * The log on a real PostgreSQL server (pg.sh starts it and passes its URL and a control script):
 * records, serial numbers from several connections at once, the spool while the server is down
 * (automatic forwarding and store_sync), a newer schema refused, an unreachable URL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_conn.h"
#include "store/store.h"

static const char *url, *ctl;

static void server(const char *what)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "'%s' %s", ctl, what);
	assert_int_equal(system(cmd), 0);
}

static void pg_sql(const char *text)
{
	PGconn *c = PQconnectdb(url);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, text);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", text, PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
}

static void rec(struct store_record *r, int i)
{
	memset(r, 0, sizeof *r);
	snprintf(r->station, sizeof r->station, "st%d", i % 2);
	snprintf(r->command, sizeof r->command, "station");
	snprintf(r->uid, sizeof r->uid, "%024X", 0xA000 + i);
	r->ok = true;
	r->s_total = i;
}

static size_t count(struct store *s)
{
	struct store_record *out;
	size_t n;
	struct err e;
	assert_int_equal(store_query(s, NULL, &out, &n, &e), 0);
	free(out);
	return n;
}

static void test_records(void **state)
{
	(void)state;
	struct store *s;
	struct err e;
	err_clear(&e);
	if (store_open(url, &s, &e) < 0)
		fail_msg("%s", e.msg);
	size_t before = count(s);
	struct store_record r;
	rec(&r, 1);
	snprintf(r.usb_path, sizeof r.usb_path, "1-1.4");
	snprintf(r.bootloader_version, sizeof r.bootloader_version, "3.1");
	snprintf(r.operator_name, sizeof r.operator_name, "alice");
	r.retries = 3;
	r.verified = true;
	assert_int_equal(store_append(s, &r, &e), 0);
	{
		struct store_filter fu = {.uid = r.uid};
		struct store_record *o1;
		size_t n1;
		assert_int_equal(store_query(s, &fu, &o1, &n1, &e), 0);
		assert_int_equal(n1, 1);
		assert_string_equal(o1[0].usb_path, "1-1.4");
		assert_string_equal(o1[0].bootloader_version, "3.1");
		assert_string_equal(o1[0].operator_name, "alice");
		assert_int_equal(o1[0].retries, 3);
		assert_true(o1[0].verified);
		assert_string_equal(o1[0].started_at, r.started_at);
		assert_true(strcmp(o1[0].started_at, o1[0].time) <= 0);
		free(o1);
	}
	rec(&r, 2);
	r.ok = false;
	snprintf(r.error, sizeof r.error, "STM32DFU_E_VERIFY");
	assert_int_equal(store_append(s, &r, &e), 0);
	assert_int_equal(count(s), before + 2);
	struct store_filter f = {.failed_only = true};
	struct store_record *out;
	size_t n;
	assert_int_equal(store_query(s, &f, &out, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].error, "STM32DFU_E_VERIFY");
	free(out);
	assert_false(store_spooling(s));
	store_close(s);
}

struct taker {
	int first;
	uint64_t got[20];
	int rc;
};

static void *take(void *arg)
{
	struct taker *k = arg;
	struct store *s;
	struct err e;
	if ((k->rc = store_open(url, &s, &e)) < 0)
		return NULL;
	for (int i = 0; i < 20; i++) {
		char uid[25];
		snprintf(uid, sizeof uid, "%024X", k->first + i);
		bool fresh;
		if ((k->rc = store_serial_number(s, "pg", uid, 500, &k->got[i], &fresh, &e)) < 0)
			break;
	}
	store_close(s);
	return NULL;
}

static void test_serial_numbers(void **state)
{
	(void)state;
	struct taker k[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		k[i] = (struct taker){.first = 0x10000 * (i + 1)};
		assert_int_equal(pthread_create(&th[i], NULL, take, &k[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	char seen[80] = {0};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(k[i].rc, 0);
		for (int j = 0; j < 20; j++) {
			uint64_t v = k[i].got[j];
			assert_true(v >= 500 && v < 580);
			assert_int_equal(seen[v - 500], 0);
			seen[v - 500] = 1;
		}
	}
	/* the same board asks again: the same number */
	struct store *s;
	struct err e;
	assert_int_equal(store_open(url, &s, &e), 0);
	char uid[25];
	snprintf(uid, sizeof uid, "%024X", 0x10000);
	uint64_t v;
	bool fresh;
	assert_int_equal(store_serial_number(s, "pg", uid, 500, &v, &fresh, &e), 0);
	assert_false(fresh);
	assert_int_equal(v, k[0].got[0]);
	store_close(s);
}

static void test_spool(void **state)
{
	(void)state;
	struct store *s;
	struct err e;
	assert_int_equal(store_open(url, &s, &e), 0);
	size_t before = count(s);
	server("stop");
	struct store_record r;
	for (int i = 0; i < 3; i++) {
		rec(&r, 10 + i);
	if (store_append(s, &r, &e) < 0)
		fail_msg("%s", e.msg);
	}
	assert_true(store_spooling(s));
	/* no serial number from a spool */
	uint64_t v;
	bool fresh;
	err_clear(&e);
	assert_true(store_serial_number(s, "pg", "000000000000000000000001", 1, &v, &fresh, &e) < 0);
	size_t sent, left;
	assert_true(store_sync(s, &sent, &left, &e) < 0);
	assert_int_equal(sent, 0);
	assert_int_equal(left, 3);
	server("start");
	assert_int_equal(store_sync(s, &sent, &left, &e), 0);
	assert_int_equal(sent, 3);
	assert_int_equal(left, 0);
	assert_false(store_spooling(s));
	assert_int_equal(count(s), before + 3);

	/* forwarded by the next record, without a sync */
	server("stop");
	rec(&r, 20);
	assert_int_equal(store_append(s, &r, &e), 0);
	assert_true(store_spooling(s));
	server("start");
	rec(&r, 21);
	assert_int_equal(store_append(s, &r, &e), 0);
	assert_false(store_spooling(s));
	assert_int_equal(count(s), before + 5);
	store_close(s);
}


/* issue 27 item 6: a server restart between two records: the dead connection is made again and
 * the statement retried; nothing goes to the spool, and a serial number is still given */
static void test_restart(void **state)
{
	(void)state;
	struct store *s;
	struct err e;
	err_clear(&e);
	assert_int_equal(store_open(url, &s, &e), 0);
	size_t before = count(s);
	struct store_record r;
	rec(&r, 30);
	assert_int_equal(store_append(s, &r, &e), 0);
	server("stop");
	server("start");
	rec(&r, 31);
	assert_int_equal(store_append(s, &r, &e), 0);
	assert_false(store_spooling(s));
	assert_int_equal(count(s), before + 2);
	server("stop");
	server("start");
	uint64_t v;
	bool fresh;
	if (store_serial_number(s, "restart", "0000000000000000000000AA", 7, &v, &fresh, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(v, 7);
	store_close(s);
}

/* issue 27 item 5: a server whose processes are stopped (SIGSTOP) answers nothing, though TCP
 * and the socket accept: the record goes to the spool after the answer limit, the next ones at
 * once, and a stop flag ends the wait at once; once the server runs again, all is sent */
static void test_frozen(void **state)
{
	(void)state;
	struct store *s;
	struct err e;
	err_clear(&e);
	assert_int_equal(store_open(url, &s, &e), 0);
	size_t before = count(s);
	server("freeze");
	struct store_record r;
	rec(&r, 40);
	assert_int_equal(store_append(s, &r, &e), 0); /* after the answer limit, not never */
	assert_true(store_spooling(s));
	rec(&r, 41);
	assert_int_equal(store_append(s, &r, &e), 0); /* at once: the outage is known */
	volatile sig_atomic_t stop = 1;
	store_set_stop(s, &stop);
	uint64_t v;
	bool fresh;
	assert_true(store_serial_number(s, "frozen", "0000000000000000000000BB", 1, &v, &fresh, &e) < 0);
	assert_int_equal(e.code, STM32DFU_E_LOG_UNREACHABLE);
	store_set_stop(s, NULL);
	server("thaw");
	size_t sent, left;
	if (store_sync(s, &sent, &left, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(sent, 2);
	assert_int_equal(left, 0);
	assert_int_equal(count(s), before + 2);
	store_close(s);
}

/* issue 27 item 5: a black hole (a local port that listens but never accepts, so the TCP
 * handshake completes and nothing is ever said): opening fails after the connect limit, not
 * when TCP gives up; a command that changes chips opens it anyway and spools */
static void test_black_hole(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 8), 0);
	socklen_t len = sizeof a;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	char hole[128];
	snprintf(hole, sizeof hole, "postgresql://postgres@127.0.0.1:%u/postgres?connect_timeout=2", ntohs(a.sin_port));
	struct store *s;
	struct err e;
	err_clear(&e);
	assert_int_equal(store_open(hole, &s, &e), STM32DFU_E_LOG_UNREACHABLE);
	assert_non_null(strstr(e.msg, "cannot connect"));
	bool down = false;
	err_clear(&e);
	assert_int_equal(store_open_spooling(hole, &s, &down, &e), 0);
	assert_true(down);
	struct store_record r;
	rec(&r, 50);
	assert_int_equal(store_append(s, &r, &e), 0);
	assert_true(store_spooling(s));
	store_close(s);
	close(fd);
}

/* issue 27 item 7: the server is down when the station starts: it opens, spools, and the
 * records reach the server with the first record once it answers */
static void test_down_at_start(void **state)
{
	(void)state;
	struct store *s;
	struct err e;
	err_clear(&e);
	assert_int_equal(store_open(url, &s, &e), 0);
	size_t before = count(s);
	store_close(s);
	server("stop");
	bool down = false;
	assert_int_equal(store_open_spooling(url, &s, &down, &e), 0);
	assert_true(down);
	assert_int_equal(e.code, STM32DFU_E_LOG_UNREACHABLE);
	struct store_record r;
	rec(&r, 60);
	assert_int_equal(store_append(s, &r, &e), 0);
	assert_true(store_spooling(s));
	server("start");
	size_t sent, left;
	if (store_sync(s, &sent, &left, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(sent, 1);
	assert_int_equal(left, 0);
	assert_int_equal(count(s), before + 1);
	store_close(s);
}

/* issue 27 item 4: the spool is keyed by server, database and user, never the password: after a
 * password rotation, log --sync with the new URL finds and sends the records spooled under the
 * old one, and counts them (opening the store no longer forwards them silently) */
static void test_spool_key(void **state)
{
	(void)state;
	char old_url[600], new_url[600];
	snprintf(old_url, sizeof old_url, "%s&password=old-secret", url);
	snprintf(new_url, sizeof new_url, "%s&password=new-secret", url);
	struct store *s;
	struct err e;
	err_clear(&e);
	assert_int_equal(store_open(old_url, &s, &e), 0);
	size_t before = count(s);
	server("stop");
	struct store_record r;
	rec(&r, 70);
	assert_int_equal(store_append(s, &r, &e), 0);
	rec(&r, 71);
	assert_int_equal(store_append(s, &r, &e), 0);
	assert_true(store_spooling(s));
	store_close(s);
	server("start");
	assert_int_equal(store_open(new_url, &s, &e), 0);
	size_t sent, left;
	if (store_sync(s, &sent, &left, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(sent, 2);
	assert_int_equal(left, 0);
	assert_int_equal(count(s), before + 2);
	store_close(s);
}

/* A schema-4 database (before the link columns) is migrated at open: old records read "", new ones
 * keep their link and port. */
static void test_migration_link_port(void **state)
{
	(void)state;
	pg_sql("ALTER TABLE records DROP COLUMN link; ALTER TABLE records DROP COLUMN port;"
	       " UPDATE store_schema SET version = 4;"
	       " INSERT INTO records (record_id, time, station, version, command, uid, chip, usb_serial, image_path,"
	       " image_sha256, image_bytes, sectors_erased, sectors_skipped, ok, error, message, s_read, s_erase,"
	       " s_program, s_verify, s_total) VALUES ('old4', '2026-01-01T00:00:00.000Z', 'st', '0.6.0', 'write',"
	       " '0000000000000000000000F4', 'x', '', '', '', 0, 0, 0, 1, '', '', 0, 0, 0, 0, 0)");
	struct store *s;
	struct err e;
	assert_int_equal(store_open(url, &s, &e), 0);
	struct store_record r;
	rec(&r, 4242);
	snprintf(r.link, sizeof r.link, "uart");
	snprintf(r.port, sizeof r.port, "/dev/ttyUSB3");
	assert_int_equal(store_append(s, &r, &e), 0);
	struct store_record *out;
	size_t n;
	assert_int_equal(store_query(s, NULL, &out, &n, &e), 0);
	int seen = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(out[i].record_id, "old4") == 0) {
			assert_string_equal(out[i].link, "");
			seen |= 1;
		} else if (strcmp(out[i].uid, r.uid) == 0) {
			assert_string_equal(out[i].link, "uart");
			assert_string_equal(out[i].port, "/dev/ttyUSB3");
			seen |= 2;
		}
	}
	free(out);
	assert_int_equal(seen, 3);
	store_close(s);
}

/* tidy item 3: libpq has no client-side limit for a statement's answer, so the tool's follows the
 * libpq-standard server limit, a statement_timeout in the URL's options, in PostgreSQL's forms and
 * units (the last one given wins, as on the server); anything else leaves the default */
static void test_statement_timeout_options(void **state)
{
	(void)state;
	static const struct {
		const char *options;
		bool found;
		uint64_t ms;
	} cases[] = {
		{"-c statement_timeout=30s", true, 30000},
		{"-c statement_timeout=10s -c client_min_messages=warning", true, 10000},
		{"-cstatement_timeout=500", true, 500},
		{"--statement-timeout=2min", true, 120000},
		{"--statement_timeout=1.5s", true, 1500},
		{"-c statement_timeout=0", true, 0},
		{"-c statement_timeout=250us", true, 1},
		{"-c statement_timeout=1h -c statement_timeout=3s", true, 3000},
		{"-c statement_timeout = 3s", false, 0},
		{"-c statement_timeout=3weeks", false, 0},
		{"-c statement_timeout=", false, 0},
		{"-c statement_timeouts=3s", false, 0},
		{"-c lock_timeout=3s", false, 0},
		{"statement_timeout=3s", false, 0},
		{"", false, 0},
	};
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		uint64_t ms = 0;
		bool found = pg_options_statement_ms(cases[k].options, &ms);
		if (found != cases[k].found || (found && ms != cases[k].ms))
			fail_msg("'%s': %s %llu, want %s %llu", cases[k].options, found ? "found" : "none",
			         (unsigned long long)ms, cases[k].found ? "found" : "none", (unsigned long long)cases[k].ms);
	}
}

/* tidy item 3: the answer limit follows the URL's statement_timeout (before: 10 s whatever the
 * URL said): a frozen server costs a question 3 s (2 s and the margin), not 10 */
static void test_answer_limit_from_url(void **state)
{
	(void)state;
	char u[1024];
	snprintf(u, sizeof u, "%s&options=-c%%20statement_timeout%%3D2s", url);
	struct store *s;
	struct err e;
	err_clear(&e);
	if (store_open(u, &s, &e) < 0)
		fail_msg("%s", e.msg);
	server("freeze");
	uint64_t next;
	bool exists;
	err_clear(&e);
	int rc = store_serial_counter(s, "answer", &exists, &next, &e); /* one statement, not retried */
	server("thaw");
	assert_int_equal(rc, STM32DFU_E_LOG_UNREACHABLE);
	if (!strstr(e.msg, "no answer within 3 s"))
		fail_msg("%s", e.msg);
	store_close(s);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct store *s;
	struct err e;
	err_clear(&e);
	assert_int_equal(store_open("postgresql:///postgres?host=/nonexistent-socket-dir&user=postgres", &s, &e),
	                 STM32DFU_E_LOG_UNREACHABLE);
	assert_non_null(strstr(e.msg, "cannot connect"));
	assert_non_null(strstr(e.hint, "--sync"));
	pg_sql("UPDATE store_schema SET version = 99");
	err_clear(&e);
	assert_int_equal(store_open(url, &s, &e), STM32DFU_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "schema version 99"));
	char restore[64];
	snprintf(restore, sizeof restore, "UPDATE store_schema SET version = %d", STORE_SCHEMA_VERSION);
	pg_sql(restore);
	assert_int_equal(store_open(url, &s, &e), 0);
	store_close(s);
}

int main(void)
{
	url = getenv("STM32DFU_TEST_PG_URL");
	ctl = getenv("STM32DFU_TEST_PG_CTL");
	if (!url || !ctl) {
		fprintf(stderr, "run through pg.sh (it starts the server)\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_serial_numbers),
		cmocka_unit_test(test_spool),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_frozen),
		cmocka_unit_test(test_black_hole),
		cmocka_unit_test(test_down_at_start),
		cmocka_unit_test(test_spool_key),
		cmocka_unit_test(test_migration_link_port),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_statement_timeout_options),
		cmocka_unit_test(test_answer_limit_from_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
