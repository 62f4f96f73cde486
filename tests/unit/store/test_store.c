/*
 * The programming log on a real SQLite database (a temporary file per test): records and their
 * filters, schema migrations (an old version-1 database is upgraded, a newer one refused),
 * serial numbers (a board keeps its number, numbers are never handed out twice, even from
 * several threads with their own connections), and the small parsers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_int.h"

/* the shipped migrations, as the SQLite backend runs them */
#define STORE_MIGRATIONS_FOR_TEST STORE_MIGRATIONS("INTEGER PRIMARY KEY")

struct tmpdb {
	char dir[64];
	char path[128];
	char url[160];
};

static void tmpdb_make(struct tmpdb *t)
{
	snprintf(t->dir, sizeof t->dir, "/tmp/store-test.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof t->path, "%s/log.sqlite3", t->dir);
	snprintf(t->url, sizeof t->url, "sqlite:%s", t->path);
}

static void tmpdb_drop(struct tmpdb *t)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
}

static void rec(struct store_record *r, const char *uid, const char *sha, bool ok)
{
	memset(r, 0, sizeof *r);
	snprintf(r->station, sizeof r->station, "line1");
	snprintf(r->command, sizeof r->command, "write");
	snprintf(r->uid, sizeof r->uid, "%s", uid);
	snprintf(r->image_sha256, sizeof r->image_sha256, "%s", sha);
	r->image_bytes = 1234;
	r->sectors_erased = 3;
	r->sectors_skipped = 1;
	r->ok = ok;
	if (!ok) {
		snprintf(r->error, sizeof r->error, "STM32DFU_E_VERIFY");
		snprintf(r->message, sizeof r->message, "verify: 0x08000010 differs");
	}
	r->s_program = 1.5;
}

#define UID_A "0000000111112222333344AA"
#define UID_B "0000000211112222333344BB"
#define SHA1 "1111111111111111111111111111111111111111111111111111111111111111"
#define SHA2 "2222222222222222222222222222222222222222222222222222222222222222"

static void test_records_and_filters(void **state)
{
	(void)state;
	struct tmpdb t;
	tmpdb_make(&t);
	struct store *s;
	struct err e;
	assert_int_equal(store_open(t.url, &s, &e), 0);
	struct store_record r;
	rec(&r, UID_A, SHA1, true);
	assert_int_equal(store_append(s, &r, &e), 0);
	assert_int_equal(strlen(r.record_id), 32);
	assert_int_equal(strlen(r.time), 24); /* 2026-11-29T12:00:00.123Z */
	rec(&r, UID_B, SHA1, false);
	assert_int_equal(store_append(s, &r, &e), 0);
	rec(&r, UID_A, SHA2, true);
	assert_int_equal(store_append(s, &r, &e), 0);
	assert_false(store_spooling(s));
	store_close(s);

	/* a second connection sees what the first wrote */
	assert_int_equal(store_open(t.url, &s, &e), 0);
	struct store_record *out;
	size_t n;
	assert_int_equal(store_query(s, NULL, &out, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(out[0].uid, UID_A);
	assert_int_equal(out[0].sectors_erased, 3);
	assert_true(out[0].s_program == 1.5);
	assert_string_equal(out[1].error, "STM32DFU_E_VERIFY");
	assert_false(out[1].ok);
	free(out);
	struct store_filter f = {.uid = UID_A};
	assert_int_equal(store_query(s, &f, &out, &n, &e), 0);
	assert_int_equal(n, 2);
	free(out);
	f = (struct store_filter){.sha256 = SHA1};
	assert_int_equal(store_query(s, &f, &out, &n, &e), 0);
	assert_int_equal(n, 2);
	free(out);
	f = (struct store_filter){.failed_only = true};
	assert_int_equal(store_query(s, &f, &out, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].uid, UID_B);
	free(out);
	f = (struct store_filter){.since = "2999-01-01T00:00:00"};
	assert_int_equal(store_query(s, &f, &out, &n, &e), 0);
	assert_int_equal(n, 0);
	free(out);
	f = (struct store_filter){.since = "2000-01-01T00:00:00", .uid = UID_B};
	assert_int_equal(store_query(s, &f, &out, &n, &e), 0);
	assert_int_equal(n, 1);
	free(out);
	store_close(s);

	/* WAL mode, as promised */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
	tmpdb_drop(&t);
}

static void sql(const char *path, const char *text)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(db, text, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", text, msg);
	sqlite3_close(db);
}

static void test_newer_schema_refused(void **state)
{
	(void)state;
	struct tmpdb t;
	tmpdb_make(&t);
	sql(t.path, "CREATE TABLE store_schema (version INTEGER NOT NULL); INSERT INTO store_schema VALUES (99);");
	struct store *s;
	struct err e;
	err_clear(&e);
	assert_int_equal(store_open(t.url, &s, &e), STM32DFU_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "schema version 99"));
	assert_non_null(strstr(e.msg, t.path));
	assert_non_null(strstr(e.hint, "upgrade"));
	tmpdb_drop(&t);
}

/* A database written by a version-1 build (the records table only) gains the serial-number
 * tables and columns, and keeps its records. */
static void test_migration_from_v1(void **state)
{
	(void)state;
	struct tmpdb t;
	tmpdb_make(&t);
	sql(t.path,
	    "CREATE TABLE store_schema (version INTEGER NOT NULL); INSERT INTO store_schema VALUES (1);"
	    "CREATE TABLE records (id INTEGER PRIMARY KEY, record_id TEXT NOT NULL UNIQUE, time TEXT NOT NULL,"
	    " station TEXT NOT NULL, version TEXT NOT NULL, command TEXT NOT NULL, uid TEXT NOT NULL,"
	    " chip TEXT NOT NULL, usb_serial TEXT NOT NULL, image_path TEXT NOT NULL, image_sha256 TEXT NOT NULL,"
	    " image_bytes BIGINT NOT NULL, sectors_erased INTEGER NOT NULL, sectors_skipped INTEGER NOT NULL,"
	    " ok INTEGER NOT NULL, error TEXT NOT NULL, message TEXT NOT NULL, s_read DOUBLE PRECISION NOT NULL,"
	    " s_erase DOUBLE PRECISION NOT NULL, s_program DOUBLE PRECISION NOT NULL,"
	    " s_verify DOUBLE PRECISION NOT NULL, s_total DOUBLE PRECISION NOT NULL);"
	    "INSERT INTO records VALUES (1, 'old', '2020-01-01T00:00:00.000Z', 'st', '0.0.1', 'write', '" UID_A "',"
	    " 'STM32F74x/F75x', 'X', '/fw.bin', '" SHA1 "', 10, 1, 0, 1, '', '', 0, 0, 0, 0, 0);");
	struct store *s;
	struct err e;
	assert_int_equal(store_open(t.url, &s, &e), 0);
	struct store_record *out;
	size_t n;
	assert_int_equal(store_query(s, NULL, &out, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].record_id, "old");
	assert_string_equal(out[0].serial_counter, "");
	free(out);
	uint64_t num;
	bool fresh;
	assert_int_equal(store_serial_number(s, "default", UID_A, 7, &num, &fresh, &e), 0);
	assert_int_equal(num, 7);
	store_close(s);
	tmpdb_drop(&t);
}

/* A schema-4 database (every migration before the link columns) gains link and port: its records
 * read back with "" (not recorded), new records keep theirs. */
static void test_migration_link_port(void **state)
{
	(void)state;
	static const char *const migrations[] = STORE_MIGRATIONS_FOR_TEST;
	struct tmpdb t;
	tmpdb_make(&t);
	char setup[8192];
	snprintf(setup, sizeof setup, "CREATE TABLE store_schema (version INTEGER NOT NULL); INSERT INTO store_schema VALUES (4);"
	         "%s%s%s%s", migrations[0], migrations[1], migrations[2], migrations[3]);
	sql(t.path, setup);
	sql(t.path, "INSERT INTO records (record_id, time, station, version, command, uid, chip, usb_serial, image_path,"
	            " image_sha256, image_bytes, sectors_erased, sectors_skipped, ok, error, message, s_read, s_erase,"
	            " s_program, s_verify, s_total, usb_path) VALUES ('old4', '2026-01-01T00:00:00.000Z', 'st', '0.6.0',"
	            " 'write', '" UID_A "', 'STM32F74x/F75x', 'X', '/fw.bin', '" SHA1 "', 10, 1, 0, 1, '', '', 0, 0, 0, 0, 0,"
	            " '1-1.4');");
	struct store *s;
	struct err e;
	assert_int_equal(store_open(t.url, &s, &e), 0);
	struct store_record r;
	rec(&r, UID_B, SHA2, true);
	snprintf(r.link, sizeof r.link, "uart");
	snprintf(r.port, sizeof r.port, "/dev/ttyUSB3");
	assert_int_equal(store_append(s, &r, &e), 0);
	struct store_record *out;
	size_t n;
	assert_int_equal(store_query(s, NULL, &out, &n, &e), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(out[i].record_id, "old4") == 0) {
			assert_string_equal(out[i].link, "");
			assert_string_equal(out[i].port, "");
			assert_string_equal(out[i].usb_path, "1-1.4");
		} else {
			assert_string_equal(out[i].link, "uart");
			assert_string_equal(out[i].port, "/dev/ttyUSB3");
		}
	}
	free(out);
	store_close(s);
	tmpdb_drop(&t);
}

static void test_serial_numbers(void **state)
{
	(void)state;
	struct tmpdb t;
	tmpdb_make(&t);
	struct store *s;
	struct err e;
	assert_int_equal(store_open(t.url, &s, &e), 0);
	uint64_t a, b, a2, c;
	bool fresh;
	assert_int_equal(store_serial_number(s, "default", UID_A, 1000, &a, &fresh, &e), 0);
	assert_true(fresh);
	assert_int_equal(a, 1000);
	assert_int_equal(store_serial_number(s, "default", UID_B, 5, &b, &fresh, &e), 0);
	assert_int_equal(b, 1001); /* start counts only on the counter's first use */
	assert_int_equal(store_serial_number(s, "default", UID_A, 1000, &a2, &fresh, &e), 0);
	assert_false(fresh);
	assert_int_equal(a2, 1000);
	assert_int_equal(store_serial_number(s, "other", UID_A, 1, &c, &fresh, &e), 0);
	assert_int_equal(c, 1);
	store_close(s);
	tmpdb_drop(&t);
}

struct taker {
	const char *url;
	int first;
	uint64_t got[25];
};

static void *take(void *arg)
{
	struct taker *k = arg;
	struct store *s;
	struct err e;
	if (store_open(k->url, &s, &e) < 0)
		return NULL;
	for (int i = 0; i < 25; i++) {
		char uid[25];
		snprintf(uid, sizeof uid, "%024X", k->first + i);
		bool fresh;
		if (store_serial_number(s, "line", uid, 1, &k->got[i], &fresh, &e) < 0)
			k->got[i] = 0;
	}
	store_close(s);
	return NULL;
}

/* four connections at once (as four processes would be): 100 boards, 100 distinct numbers */
static void test_serial_numbers_concurrent(void **state)
{
	(void)state;
	struct tmpdb t;
	tmpdb_make(&t);
	struct store *s;
	struct err e;
	assert_int_equal(store_open(t.url, &s, &e), 0); /* creates the schema first */
	store_close(s);
	struct taker k[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		k[i] = (struct taker){.url = t.url, .first = i * 1000};
		assert_int_equal(pthread_create(&th[i], NULL, take, &k[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	char seen[101] = {0};
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 25; j++) {
			uint64_t v = k[i].got[j];
			assert_true(v >= 1 && v <= 100);
			assert_int_equal(seen[v], 0);
			seen[v] = 1;
		}
	tmpdb_drop(&t);
}

static void test_parsers(void **state)
{
	(void)state;
	char b[32], u[25];
	assert_true(store_parse_since("2026-11-29", b, sizeof b));
	assert_string_equal(b, "2026-11-29T00:00:00");
	assert_true(store_parse_since("2026-11-29T12:30", b, sizeof b));
	assert_string_equal(b, "2026-11-29T12:30:00");
	assert_true(store_parse_since("2026-11-29 12:30:15Z", b, sizeof b));
	assert_string_equal(b, "2026-11-29T12:30:15");
	assert_false(store_parse_since("yesterday", b, sizeof b));
	assert_false(store_parse_since("2026-13-01", b, sizeof b));
	assert_false(store_parse_since("2026-11-29T25:00", b, sizeof b));
	assert_true(store_uid_normalise("00000001 11112222 333344aa", u));
	assert_string_equal(u, UID_A);
	assert_false(store_uid_normalise("0001", u));
	assert_false(store_uid_normalise("00000001111122223333444G", u));
	struct store *s;
	struct err e;
	err_clear(&e);
	assert_int_equal(store_open("mysql://x", &s, &e), STM32DFU_E_USAGE);
	assert_non_null(strstr(e.msg, "sqlite:PATH or postgresql://"));
}

/* SHA-256 against the FIPS 180-2 example "abc" */
/* Issue 26 item 1: every form libpq takes a password in is redacted (libpq docs, 34.1.1/34.1.2:
 * URI userinfo, URI parameters, keyword/value strings with optional spaces and quoting). */
static void test_redact(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
		bool hid;
	} t[] = {
		{"postgresql://line:s3cr3tPW@db.example/stm32", "postgresql://line:***@db.example/stm32", true},
		{"postgres://line:s3cr3tPW@db:5432/x?sslmode=verify-full", "postgres://line:***@db:5432/x?sslmode=verify-full", true},
		{"postgresql://line@db/stm32?password=s3cr3tPW", "postgresql://line@db/stm32?password=***", true},
		{"postgresql://db/stm32?sslmode=require&password=s3cr3tPW&application_name=st1",
		 "postgresql://db/stm32?sslmode=require&password=***&application_name=st1", true},
		{"postgresql://db/x?sslpassword=s3cr3tPW", "postgresql://db/x?sslpassword=***", true},
		{"postgresql://u:p@ss:s3cr3tPW@db/x", "postgresql://u:***@db/x", true},
		{"postgresql://line@db/stm32?sslmode=require", "postgresql://line@db/stm32?sslmode=require", false},
		{"postgresql:///stm32?host=/run/pg", "postgresql:///stm32?host=/run/pg", false},
		{"host=db dbname=stm32 password=s3cr3tPW user=line", "host=db dbname=stm32 password=*** user=line", true},
		{"host=db password = 's3cr3t PW' user=line", "host=db password=*** user=line", true},
		{"password='it\\'s s3cr3tPW' host=db", "password=*** host=db", true},
		{"sslpassword=s3cr3tPW", "sslpassword=***", true},
		{"sqlite:/var/lib/line1/log.sqlite3", "sqlite:/var/lib/line1/log.sqlite3", false},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char buf[256];
		bool hid = store_redact(t[i].in, buf, sizeof buf);
		if (strcmp(buf, t[i].out) != 0 || hid != t[i].hid)
			fail_msg("%s: got \"%s\" (%d), want \"%s\" (%d)", t[i].in, buf, hid, t[i].out, t[i].hid);
		assert_null(strstr(buf, "s3cr3t"));
	}
	/* cut short, never past the buffer, and still no secret */
	char small[20];
	store_redact("postgresql://u:s3cr3tPW@db/x", small, sizeof small);
	assert_null(strstr(small, "s3cr3t"));
	/* a malformed URL is refused with the URL redacted in the message */
	struct store *st = NULL;
	struct err e;
	err_clear(&e);
	assert_int_equal(store_open("host=db password=s3cr3tPW", &st, &e), STM32DFU_E_USAGE);
	assert_null(strstr(e.msg, "s3cr3t"));
	assert_non_null(strstr(e.msg, "password=***"));
}

static void test_sha256(void **state)
{
	(void)state;
	char path[] = "/tmp/store-sha.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	char hex[65];
	uint64_t n;
	struct err e;
	assert_int_equal(store_sha256_file(path, hex, &n, &e), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(n, 3);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_and_filters), cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_migration_from_v1),   cmocka_unit_test(test_migration_link_port),   cmocka_unit_test(test_serial_numbers),
		cmocka_unit_test(test_serial_numbers_concurrent), cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_sha256),     cmocka_unit_test(test_redact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
