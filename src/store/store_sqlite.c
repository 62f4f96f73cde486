/*
 * The SQLite backend (libsqlite3): the default log, and the local spool of the PostgreSQL one.
 * WAL mode, so readers (stm32dfu log) never block a station that appends; a busy timeout, so
 * several processes on one machine share the file.
 */
#include "core/clock.h"
#include "core/os.h"
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct sq {
	struct store_backend base;
	sqlite3 *db;
	char path[512];
};

static const char *const sq_migrations[STORE_SCHEMA_VERSION] = STORE_MIGRATIONS("INTEGER PRIMARY KEY");

static int sq_fail(struct sq *q, struct err *e, const char *what)
{
	return err_set(e, STM32DFU_E_FILE_IO, "log database %s: %s: %s", q->path, what, sqlite3_errmsg(q->db));
}

static int sq_exec(struct sq *q, const char *sql, struct err *e)
{
	char *msg = NULL;
	if (sqlite3_exec(q->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	err_set(e, STM32DFU_E_FILE_IO, "log database %s: %s", q->path, msg ? msg : sqlite3_errmsg(q->db));
	sqlite3_free(msg);
	return STM32DFU_E_FILE_IO;
}

static long sq_version(struct sq *q)
{
	sqlite3_stmt *st;
	long v = 0;
	if (sqlite3_prepare_v2(q->db, "SELECT version FROM store_schema", -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int sq_migrate(struct sq *q, struct err *e)
{
	/* the usual case, an up-to-date file, needs no write transaction (and no fsync) */
	long now = sq_version(q);
	if (now == STORE_SCHEMA_VERSION)
		return 0;
	if (now > STORE_SCHEMA_VERSION)
		return store_check_version(q->path, now, e);
	/* IMMEDIATE: two processes opening a new file migrate one after the other */
	int rc = sq_exec(q, "BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS store_schema (version INTEGER NOT NULL);", e);
	if (rc < 0)
		return rc;
	long v = sq_version(q);
	rc = store_check_version(q->path, v, e);
	for (long k = v; rc == 0 && k < STORE_SCHEMA_VERSION; k++)
		rc = sq_exec(q, sq_migrations[k], e);
	if (rc == 0 && v < STORE_SCHEMA_VERSION) {
		char sql[96];
		snprintf(sql, sizeof sql, "DELETE FROM store_schema; INSERT INTO store_schema VALUES (%d);",
		         STORE_SCHEMA_VERSION);
		rc = sq_exec(q, sql, e);
	}
	if (rc < 0) {
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return sq_exec(q, "COMMIT", e);
}

static int sq_append(struct store_backend *b, const struct store_record *r, struct err *e)
{
	struct sq *q = (struct sq *)b;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db,
	                       "INSERT INTO records (" STORE_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	                       " ON CONFLICT (record_id) DO NOTHING",
	                       -1, &st, NULL) != SQLITE_OK)
		return sq_fail(q, e, "append");
	const char *texts[] = {r->record_id, r->time, r->station, r->version, r->command, r->uid, r->chip,
	                       r->usb_serial, r->image_path, r->image_sha256};
	int i = 1;
	for (size_t k = 0; k < sizeof texts / sizeof *texts; k++)
		sqlite3_bind_text(st, i++, texts[k], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)r->image_bytes);
	sqlite3_bind_int(st, i++, (int)r->sectors_erased);
	sqlite3_bind_int(st, i++, (int)r->sectors_skipped);
	sqlite3_bind_text(st, i++, r->serial_counter, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)r->serial_number);
	sqlite3_bind_int(st, i++, r->ok);
	sqlite3_bind_text(st, i++, r->error, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, r->message, -1, SQLITE_STATIC);
	const double secs[] = {r->s_read, r->s_erase, r->s_program, r->s_verify, r->s_total};
	for (size_t k = 0; k < 5; k++)
		sqlite3_bind_double(st, i++, secs[k]);
	sqlite3_bind_text(st, i++, r->usb_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, r->started_at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)r->retries);
	sqlite3_bind_int(st, i++, r->verified);
	sqlite3_bind_text(st, i++, r->bootloader_version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, r->operator_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, r->link, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, r->port, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sq_fail(q, e, "append");
}

static void sq_row(sqlite3_stmt *st, struct store_record *r)
{
	memset(r, 0, sizeof *r);
	struct {
		char *dst;
		size_t cap;
	} t[] = {{r->record_id, sizeof r->record_id}, {r->time, sizeof r->time},       {r->station, sizeof r->station},
	         {r->version, sizeof r->version},     {r->command, sizeof r->command}, {r->uid, sizeof r->uid},
	         {r->chip, sizeof r->chip},           {r->usb_serial, sizeof r->usb_serial},
	         {r->image_path, sizeof r->image_path}, {r->image_sha256, sizeof r->image_sha256}};
	int i = 0;
	for (size_t k = 0; k < sizeof t / sizeof *t; k++, i++)
		store_copy(t[k].dst, t[k].cap, (const char *)sqlite3_column_text(st, i));
	r->image_bytes = (uint64_t)sqlite3_column_int64(st, i++);
	r->sectors_erased = (unsigned)sqlite3_column_int(st, i++);
	r->sectors_skipped = (unsigned)sqlite3_column_int(st, i++);
	store_copy(r->serial_counter, sizeof r->serial_counter, (const char *)sqlite3_column_text(st, i++));
	r->serial_number = (uint64_t)sqlite3_column_int64(st, i++);
	r->ok = sqlite3_column_int(st, i++) != 0;
	store_copy(r->error, sizeof r->error, (const char *)sqlite3_column_text(st, i++));
	store_copy(r->message, sizeof r->message, (const char *)sqlite3_column_text(st, i++));
	double *secs[] = {&r->s_read, &r->s_erase, &r->s_program, &r->s_verify, &r->s_total};
	for (size_t k = 0; k < 5; k++)
		*secs[k] = sqlite3_column_double(st, i++);
	store_copy(r->usb_path, sizeof r->usb_path, (const char *)sqlite3_column_text(st, i++));
	store_copy(r->started_at, sizeof r->started_at, (const char *)sqlite3_column_text(st, i++));
	r->retries = (unsigned)sqlite3_column_int64(st, i++);
	r->verified = sqlite3_column_int(st, i++) != 0;
	store_copy(r->bootloader_version, sizeof r->bootloader_version, (const char *)sqlite3_column_text(st, i++));
	store_copy(r->operator_name, sizeof r->operator_name, (const char *)sqlite3_column_text(st, i++));
	store_copy(r->link, sizeof r->link, (const char *)sqlite3_column_text(st, i++));
	store_copy(r->port, sizeof r->port, (const char *)sqlite3_column_text(st, i++));
}

static int sq_query(struct store_backend *b, const struct store_filter *f, struct store_record **out, size_t *n,
                    struct err *e)
{
	struct sq *q = (struct sq *)b;
	char sql[1024];
	snprintf(sql, sizeof sql,
	         "SELECT " STORE_COLUMNS " FROM records WHERE (?1 IS NULL OR uid = ?1) AND (?2 IS NULL OR image_sha256 = ?2)"
	         " AND (?3 = 0 OR ok = 0) AND (?4 IS NULL OR time >= ?4)"
	         " AND (?5 = 0 OR (error = 'STM32DFU_E_AMBIGUOUS' AND message LIKE 'cloned UID%%'))"
	         " AND (?6 IS NULL OR (serial_counter <> '' AND serial_number BETWEEN ?6 AND ?7)) ORDER BY time, id");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sq_fail(q, e, "query");
	if (f && f->uid)
		sqlite3_bind_text(st, 1, f->uid, -1, SQLITE_STATIC);
	if (f && f->sha256)
		sqlite3_bind_text(st, 2, f->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, f && f->failed_only);
	if (f && f->since)
		sqlite3_bind_text(st, 4, f->since, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, f && f->collisions);
	if (f && f->has_serial_range) {
		sqlite3_bind_int64(st, 6, (sqlite3_int64)f->serial_first);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)f->serial_last);
	}
	size_t cap = 16, k = 0;
	struct store_record *r = malloc(cap * sizeof *r);
	int rc;
	while (r && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			struct store_record *g = realloc(r, 2 * cap * sizeof *r);
			if (!g) {
				free(r);
				r = NULL;
				break;
			}
			r = g;
			cap *= 2;
		}
		sq_row(st, &r[k++]);
	}
	sqlite3_finalize(st);
	if (!r)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	if (rc != SQLITE_DONE) {
		free(r);
		return sq_fail(q, e, "query");
	}
	*out = r;
	*n = k;
	return 0;
}

static int sq_step_one(struct sq *q, sqlite3_stmt *st, bool *row, sqlite3_int64 *v)
{
	int rc = sqlite3_step(st);
	*row = rc == SQLITE_ROW;
	if (*row && v)
		*v = sqlite3_column_int64(st, 0);
	(void)q;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int sq_serial(struct store_backend *b, const char *counter, const char *uid, uint64_t start, uint64_t *number,
                     bool *fresh, struct err *e)
{
	struct sq *q = (struct sq *)b;
	int rc = sq_exec(q, "BEGIN IMMEDIATE", e);
	if (rc < 0)
		return rc;
	sqlite3_stmt *st = NULL;
	bool row = false;
	sqlite3_int64 v = 0;
	rc = -1;
	if (sqlite3_prepare_v2(q->db, "SELECT number FROM serial_numbers WHERE counter = ? AND uid = ?", -1, &st, NULL))
		goto fail;
	sqlite3_bind_text(st, 1, counter, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, uid, -1, SQLITE_STATIC);
	if (sq_step_one(q, st, &row, &v))
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (row) {
		*number = (uint64_t)v;
		*fresh = false;
		return sq_exec(q, "COMMIT", e);
	}
	if (sqlite3_prepare_v2(q->db, "SELECT next_number FROM serial_counters WHERE name = ?", -1, &st, NULL))
		goto fail;
	sqlite3_bind_text(st, 1, counter, -1, SQLITE_STATIC);
	if (sq_step_one(q, st, &row, &v))
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	uint64_t num = row ? (uint64_t)v : start;
	if (num > STORE_SERIAL_MAX) {
		/* SQL integers are signed 64-bit: the next number would wrap (2^63 is stored as -2^63) */
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		err_set(e, STM32DFU_E_RANGE, "serial counter '%s' has given its last number (%" PRIu64 "): nothing "
		        "was written", counter, (uint64_t)STORE_SERIAL_MAX);
		err_hint(e, "start another counter (--serial-counter NAME --serial-start N)");
		return STM32DFU_E_RANGE;
	}
	char now[CLOCK_UTC_STAMP_LEN];
	clock_utc_stamp(now);
	if (sqlite3_prepare_v2(q->db, "INSERT INTO serial_numbers (counter, uid, number, time) VALUES (?, ?, ?, ?)", -1,
	                       &st, NULL))
		goto fail;
	sqlite3_bind_text(st, 1, counter, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, uid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)num);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(q->db,
	                       "INSERT INTO serial_counters (name, next_number) VALUES (?, ?)"
	                       " ON CONFLICT (name) DO UPDATE SET next_number = excluded.next_number",
	                       -1, &st, NULL))
		goto fail;
	sqlite3_bind_text(st, 1, counter, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)(num + 1));
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	*number = num;
	*fresh = true;
	return sq_exec(q, "COMMIT", e);
fail:
	rc = sq_fail(q, e, "serial number");
	sqlite3_finalize(st);
	sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int sq_remove(struct store_backend *b, const char *record_id, struct err *e)
{
	struct sq *q = (struct sq *)b;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db, "DELETE FROM records WHERE record_id = ?", -1, &st, NULL) != SQLITE_OK)
		return sq_fail(q, e, "remove");
	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sq_fail(q, e, "remove");
}

static void sq_close(struct store_backend *b)
{
	struct sq *q = (struct sq *)b;
	sqlite3_close(q->db);
	free(q);
}

static int sq_counter_next(struct store_backend *b, const char *counter, bool *exists, uint64_t *next, struct err *e)
{
	struct sq *q = (struct sq *)b;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db, "SELECT next_number FROM serial_counters WHERE name = ?", -1, &st, NULL) != SQLITE_OK)
		return sq_fail(q, e, "serial counter");
	sqlite3_bind_text(st, 1, counter, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	*exists = rc == SQLITE_ROW;
	*next = *exists ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sq_fail(q, e, "serial counter");
}

/* no leases: a SQLite log is on this machine, never away from it */
static const struct store_backend_ops sq_ops = {sq_append, sq_query, sq_serial, sq_remove, sq_close, NULL,
                                                sq_counter_next, NULL, NULL, NULL, NULL};

int store_sqlite_open(const char *path, struct store_backend **out, struct err *e)
{
	struct sq *q = calloc(1, sizeof *q);
	if (!q)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	q->base.ops = &sq_ops;
	store_copy(q->path, sizeof q->path, path);
	/* records are 0600: SQLite would create the file (and its -wal, -shm, which take the file's
	 * mode) 0644; made here first, never through a planted symlink */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_BINARY, 0600);
	if (fd >= 0)
		close(fd);
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
	    SQLITE_OK) {
		int rc = err_set(e, STM32DFU_E_FILE_IO, "log database %s: %s", path,
		                 q->db ? sqlite3_errmsg(q->db) : "cannot open");
		err_hint(e, "give a writable place with --log sqlite:PATH, or turn the log off with --no-log");
		sqlite3_close(q->db);
		free(q);
		return rc;
	}
	sqlite3_busy_timeout(q->db, 15000);
	int rc = sq_exec(q, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;", e);
	if (rc == 0)
		rc = sq_migrate(q, e);
	if (rc < 0) {
		sq_close(&q->base);
		return rc;
	}
	*out = &q->base;
	return 0;
}
