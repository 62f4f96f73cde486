/* The local half of a serial-number lease (lease.h): one SQLite file per database, counter and station. */
#include "store/lease.h"

#include "core/file.h"
#include "core/os.h"

#include <fcntl.h>
#include <inttypes.h>
#include <nettle/sha2.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct lease {
	sqlite3 *db;
	char path[512];
};

static int lease_fail(struct lease *l, struct err *e, const char *what)
{
	return err_set(e, STM32DFU_E_FILE_IO, "serial lease %s: %s: %s", l->path, what, sqlite3_errmsg(l->db));
}

static int lease_exec(struct lease *l, const char *sql, struct err *e)
{
	if (sqlite3_exec(l->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	return lease_fail(l, e, "cannot update it");
}

int lease_open(const char *dir, const char *key, const char *counter, const char *station, struct lease **out,
               struct err *e)
{
	*out = NULL;
	struct lease *l = calloc(1, sizeof *l);
	if (!l)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	/* named after what it belongs to, never after a password (the key holds none) */
	struct sha256_ctx ctx;
	uint8_t md[SHA256_DIGEST_SIZE];
	sha256_init(&ctx);
	sha256_update(&ctx, strlen(key) + 1, (const uint8_t *)key);
	sha256_update(&ctx, strlen(counter) + 1, (const uint8_t *)counter);
	sha256_update(&ctx, strlen(station), (const uint8_t *)station);
	sha256_digest(&ctx, sizeof md, md);
	char hex[17];
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(l->path, sizeof l->path, "%s/lease-%s.sqlite3", dir, hex);
	if (file_make_parent_dirs(l->path, NULL) < 0) {
		int rc = err_set(e, STM32DFU_E_FILE_IO, "serial lease %s: cannot create its folder", l->path);
		free(l);
		return rc;
	}
	/* 0600 as every record, made here first, never through a planted symlink */
	int fd = open(l->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_BINARY, 0600);
	if (fd >= 0)
		close(fd);
	if (sqlite3_open_v2(l->path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
	    SQLITE_OK) {
		int rc = err_set(e, STM32DFU_E_FILE_IO, "serial lease %s: %s", l->path,
		                 l->db ? sqlite3_errmsg(l->db) : "cannot open");
		sqlite3_close(l->db);
		free(l);
		return rc;
	}
	sqlite3_busy_timeout(l->db, 15000);
	/* synchronous FULL: a number marked used is on disk before the board is programmed with it */
	int rc = lease_exec(l, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	                       "CREATE TABLE IF NOT EXISTS blocks (id TEXT PRIMARY KEY, first INTEGER NOT NULL,"
	                       " last INTEGER NOT NULL, next INTEGER NOT NULL);"
	                       "CREATE TABLE IF NOT EXISTS used (number INTEGER PRIMARY KEY, uid TEXT NOT NULL,"
	                       " block TEXT NOT NULL, told INTEGER NOT NULL);",
	                    e);
	if (rc < 0) {
		lease_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

void lease_close(struct lease *l)
{
	if (!l)
		return;
	sqlite3_close(l->db);
	free(l);
}

const char *lease_path(const struct lease *l)
{
	return l->path;
}

uint64_t lease_left(struct lease *l)
{
	sqlite3_stmt *st;
	uint64_t n = 0;
	if (sqlite3_prepare_v2(l->db, "SELECT COALESCE(SUM(last - next + 1), 0) FROM blocks WHERE next <= last", -1, &st,
	                       NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int lease_add_block(struct lease *l, const char *id, uint64_t first, uint64_t last, struct err *e)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(l->db, "INSERT INTO blocks (id, first, last, next) VALUES (?, ?, ?, ?)", -1, &st, NULL) !=
	    SQLITE_OK)
		return lease_fail(l, e, "cannot keep a block");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)first);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)last);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)first);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : lease_fail(l, e, "cannot keep a block");
}

/* one row, one integer column: 1 found, 0 none, <0 error */
static int lease_one(struct lease *l, sqlite3_stmt *st, int64_t *v, char *text, size_t cap)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		if (text)
			snprintf(text, cap, "%s", (const char *)sqlite3_column_text(st, 1));
		return 1;
	}
	(void)l;
	return rc == SQLITE_DONE ? 0 : -1;
}

int lease_take(struct lease *l, const char *uid, uint64_t *number, bool *had, struct err *e)
{
	*had = false;
	/* IMMEDIATE: another process of this station (same file) waits, so a number is taken once */
	if (lease_exec(l, "BEGIN IMMEDIATE", e) < 0)
		return STM32DFU_E_FILE_IO;
	sqlite3_stmt *st = NULL;
	int64_t v = 0;
	char id[33] = "";
	int found;
	if (sqlite3_prepare_v2(l->db, "SELECT number FROM used WHERE uid = ? ORDER BY number DESC LIMIT 1", -1, &st,
	                       NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, uid, -1, SQLITE_TRANSIENT);
	found = lease_one(l, st, &v, NULL, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (found < 0)
		goto fail;
	if (found) {
		/* this board was numbered from the lease before: it keeps its number */
		sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
		*number = (uint64_t)v;
		*had = true;
		return 0;
	}
	if (sqlite3_prepare_v2(l->db, "SELECT next, id FROM blocks WHERE next <= last ORDER BY first LIMIT 1", -1, &st,
	                       NULL) != SQLITE_OK)
		goto fail;
	found = lease_one(l, st, &v, id, sizeof id);
	sqlite3_finalize(st);
	st = NULL;
	if (found < 0)
		goto fail;
	if (!found) {
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
		return err_set(e, STM32DFU_E_RANGE, "the serial lease is spent");
	}
	if (sqlite3_prepare_v2(l->db, "INSERT INTO used (number, uid, block, told) VALUES (?, ?, ?, 0)", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, v);
	sqlite3_bind_text(st, 2, uid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(l->db, "UPDATE blocks SET next = next + 1 WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	*number = (uint64_t)v;
	return 0;
fail: {
	int rc = lease_fail(l, e, "cannot take a number");
	sqlite3_finalize(st);
	sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}
}

int lease_pending(struct lease *l, struct lease_use **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(l->db, "SELECT number, uid FROM used WHERE told = 0 ORDER BY number", -1, &st, NULL) !=
	    SQLITE_OK)
		return lease_fail(l, e, "cannot read it");
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t nc = cap ? 2 * cap : 16;
			struct lease_use *p = realloc(*out, nc * sizeof *p);
			if (!p) {
				sqlite3_finalize(st);
				free(*out);
				*out = NULL;
				*n = 0;
				return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
			}
			*out = p;
			cap = nc;
		}
		(*out)[*n].number = (uint64_t)sqlite3_column_int64(st, 0);
		snprintf((*out)[*n].uid, sizeof (*out)[*n].uid, "%s", (const char *)sqlite3_column_text(st, 1));
		(*n)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return lease_fail(l, e, "cannot read it");
	}
	return 0;
}

int lease_mark_told(struct lease *l, uint64_t number, struct err *e)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(l->db, "UPDATE used SET told = 1 WHERE number = ?", -1, &st, NULL) != SQLITE_OK)
		return lease_fail(l, e, "cannot update it");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)number);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : lease_fail(l, e, "cannot update it");
}

int lease_blocks(struct lease *l, struct lease_block **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(l->db, "SELECT id, first, last, next FROM blocks ORDER BY first", -1, &st, NULL) != SQLITE_OK)
		return lease_fail(l, e, "cannot read it");
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t nc = cap ? 2 * cap : 8;
			struct lease_block *p = realloc(*out, nc * sizeof *p);
			if (!p) {
				sqlite3_finalize(st);
				free(*out);
				*out = NULL;
				*n = 0;
				return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
			}
			*out = p;
			cap = nc;
		}
		struct lease_block *b = &(*out)[*n];
		snprintf(b->id, sizeof b->id, "%s", (const char *)sqlite3_column_text(st, 0));
		b->first = (uint64_t)sqlite3_column_int64(st, 1);
		b->last = (uint64_t)sqlite3_column_int64(st, 2);
		b->next = (uint64_t)sqlite3_column_int64(st, 3);
		(*n)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return lease_fail(l, e, "cannot read it");
	}
	return 0;
}

int lease_drop_block(struct lease *l, const char *id, struct err *e)
{
	if (lease_exec(l, "BEGIN IMMEDIATE", e) < 0)
		return STM32DFU_E_FILE_IO;
	static const char *const sql[2] = {"DELETE FROM used WHERE block = ? AND told = 1", "DELETE FROM blocks WHERE id = ?"};
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(l->db, sql[i], -1, &st, NULL) != SQLITE_OK) {
			sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
			return lease_fail(l, e, "cannot update it");
		}
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			int r = lease_fail(l, e, "cannot update it");
			sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
			return r;
		}
	}
	if (sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int r = lease_fail(l, e, "cannot update it");
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
	return 0;
}
