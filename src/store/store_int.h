/* Internal to store/: the backend interface that store.c drives (SQLite and PostgreSQL). */
#ifndef STORE_STORE_INT_H
#define STORE_STORE_INT_H

#include <signal.h>

#include "store/store.h"

struct store_backend;

struct store_backend_ops {
	int (*append)(struct store_backend *b, const struct store_record *r, struct err *e);
	int (*query)(struct store_backend *b, const struct store_filter *f, struct store_record **out, size_t *n,
	             struct err *e);
	int (*serial)(struct store_backend *b, const char *counter, const char *uid, uint64_t start, uint64_t *number,
	              bool *fresh, struct err *e);
	/* deletes one record by record_id (the spool, once the record is forwarded) */
	int (*remove)(struct store_backend *b, const char *record_id, struct err *e);
	void (*close)(struct store_backend *b);
	/* the caller's stop flag: a wait for the server ends when it is set (NULL op: nothing waits) */
	void (*set_stop)(struct store_backend *b, const volatile sig_atomic_t *stop);
	/* the counter's next number; *exists false when it was never used */
	int (*counter_next)(struct store_backend *b, const char *counter, bool *exists, uint64_t *next, struct err *e);
	/* serial-number leases (store_lease_start; NULL: this backend offers none) */
	/* grants the counter's next n numbers to lease id, in one transaction */
	int (*lease_grant)(struct store_backend *b, const char *counter, uint64_t start, const char *station, uint64_t n,
	                   const char *id, uint64_t *first, uint64_t *last, struct err *e);
	/* the number board uid has under counter, if any */
	int (*serial_lookup)(struct store_backend *b, const char *counter, const char *uid, bool *found, uint64_t *number,
	                     struct err *e);
	/* board uid holds number (from a lease) under counter */
	int (*serial_assign)(struct store_backend *b, const char *counter, const char *uid, uint64_t number, struct err *e);
	/* ends lease id: numbers unused_from..last were never handed out (given back to the counter when
	 * none was given after them: *given_back) */
	int (*lease_end)(struct store_backend *b, const char *counter, const char *id, uint64_t unused_from, uint64_t last,
	                 bool *given_back, struct err *e);
};

struct store_backend {
	const struct store_backend_ops *ops;
};

/* The record columns, in the order both backends bind and read them. */
#define STORE_COLUMNS                                                                                          \
	"record_id, time, station, version, command, uid, chip, usb_serial, image_path, image_sha256, "            \
	"image_bytes, sectors_erased, sectors_skipped, serial_counter, serial_number, ok, error, message, "        \
	"s_read, s_erase, s_program, s_verify, s_total, usb_path, started_at, retries, verified, "                  \
	"bootloader_version, operator, link, port"
#define STORE_NCOLUMNS 31

/* The schema, as migrations: migration N brings it from version N-1 to N. Both backends run the same
 * SQL but for the id column's type. Append only; never edit a shipped migration. */
#define STORE_MIGRATIONS(ID_COLUMN_TYPE)                                                                     \
	{                                                                                                    \
		/* 1: the records */                                                                         \
		"CREATE TABLE records (id " ID_COLUMN_TYPE ", record_id TEXT NOT NULL UNIQUE, time TEXT NOT NULL," \
		" station TEXT NOT NULL, version TEXT NOT NULL, command TEXT NOT NULL, uid TEXT NOT NULL,"     \
		" chip TEXT NOT NULL, usb_serial TEXT NOT NULL, image_path TEXT NOT NULL,"                    \
		" image_sha256 TEXT NOT NULL, image_bytes BIGINT NOT NULL, sectors_erased INTEGER NOT NULL,"  \
		" sectors_skipped INTEGER NOT NULL, ok INTEGER NOT NULL, error TEXT NOT NULL,"                \
		" message TEXT NOT NULL, s_read DOUBLE PRECISION NOT NULL, s_erase DOUBLE PRECISION NOT NULL," \
		" s_program DOUBLE PRECISION NOT NULL, s_verify DOUBLE PRECISION NOT NULL,"                   \
		" s_total DOUBLE PRECISION NOT NULL);"                                                       \
		"CREATE INDEX records_uid ON records (uid);"                                                  \
		"CREATE INDEX records_time ON records (time);",                                               \
		/* 2: serial numbers per board */                                                            \
		"ALTER TABLE records ADD COLUMN serial_counter TEXT NOT NULL DEFAULT '';"                      \
		"ALTER TABLE records ADD COLUMN serial_number BIGINT NOT NULL DEFAULT 0;"                      \
		"CREATE TABLE serial_counters (name TEXT PRIMARY KEY, next_number BIGINT NOT NULL);"          \
		"CREATE TABLE serial_numbers (counter TEXT NOT NULL, uid TEXT NOT NULL, number BIGINT NOT NULL," \
		" time TEXT NOT NULL, PRIMARY KEY (counter, uid), UNIQUE (counter, number));",                \
		/* 3: the board's port, start, retries, verification, ROM version and operator */          \
		"ALTER TABLE records ADD COLUMN usb_path TEXT NOT NULL DEFAULT '';"                             \
		"ALTER TABLE records ADD COLUMN started_at TEXT NOT NULL DEFAULT '';"                           \
		"ALTER TABLE records ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;"                            \
		"ALTER TABLE records ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;"                           \
		"ALTER TABLE records ADD COLUMN bootloader_version TEXT NOT NULL DEFAULT '';"                   \
		"ALTER TABLE records ADD COLUMN operator TEXT NOT NULL DEFAULT '';",                            \
		/* 4: blocks of serial numbers leased to stations (--serial-lease); unused_from..last_number \
		 * were never handed out once the lease ended */                                           \
		"CREATE TABLE serial_leases (lease_id TEXT PRIMARY KEY, counter TEXT NOT NULL,"                \
		" station TEXT NOT NULL, first_number BIGINT NOT NULL, last_number BIGINT NOT NULL,"          \
		" taken TEXT NOT NULL, unused_from BIGINT, given_back INTEGER NOT NULL DEFAULT 0,"             \
		" ended TEXT NOT NULL DEFAULT '');",                                                          \
		/* 5: the link the board was reached through ("usb", "uart"; "" in records written before) \
		 * and, over USART, the serial port */                                                     \
		"ALTER TABLE records ADD COLUMN link TEXT NOT NULL DEFAULT '';"                                 \
		"ALTER TABLE records ADD COLUMN port TEXT NOT NULL DEFAULT '';",                                \
	}

int store_sqlite_open(const char *path, struct store_backend **out, struct err *e);
/* down_ok: a server that cannot be reached (no answer; not one that refuses us) still gives a
 * backend, which connects when the server answers; the return is then STM32DFU_E_LOG_UNREACHABLE
 * with *out set. */
int store_pg_open(const char *conninfo, bool down_ok, struct store_backend **out, struct err *e);
/* What names a PostgreSQL log's spool: server, port, database and user, never the password. */
int store_pg_key(const char *conninfo, char *buf, size_t cap, struct err *e);

/* The schema-version check both backends make: 0, or UNSUPPORTED naming the database. */
int store_check_version(const char *what, long found, struct err *e);

/* Copies at most cap-1 bytes of a column value. */
void store_copy(char *dst, size_t cap, const char *src);

#endif
