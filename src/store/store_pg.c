/*
 * The PostgreSQL backend (libpq): one history shared by stations. Every statement is
 * parameterised and runs through pg_conn.c's deadlines; serial numbers are taken with the counter
 * row locked (FOR UPDATE), so two stations can never be given the same number. A connection lost
 * between two statements (a server restart) is made again once and the transaction retried before
 * anything is reported.
 */
#include "store/pg_conn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int pg_append(struct store_backend *b, const struct store_record *r, struct err *e)
{
	struct pg *p = (struct pg *)b;
	char nums[15][32];
	snprintf(nums[0], 32, "%" PRIu64, r->image_bytes);
	snprintf(nums[1], 32, "%u", r->sectors_erased);
	snprintf(nums[2], 32, "%u", r->sectors_skipped);
	snprintf(nums[3], 32, "%" PRIu64, r->serial_number);
	snprintf(nums[4], 32, "%d", r->ok ? 1 : 0);
	const double secs[] = {r->s_read, r->s_erase, r->s_program, r->s_verify, r->s_total};
	for (int k = 0; k < 5; k++)
		snprintf(nums[5 + k], 32, "%.6f", secs[k]);
	snprintf(nums[10], 32, "%u", r->retries);
	snprintf(nums[11], 32, "%d", r->verified ? 1 : 0);
	const char *vals[STORE_NCOLUMNS] = {r->record_id, r->time,     r->station,    r->version,        r->command,
	                                    r->uid,       r->chip,     r->usb_serial, r->image_path,     r->image_sha256,
	                                    nums[0],      nums[1],     nums[2],       r->serial_counter, nums[3],
	                                    nums[4],      r->error,    r->message,    nums[5],           nums[6],
	                                    nums[7],      nums[8],     nums[9],       r->usb_path,       r->started_at,
	                                    nums[10],     nums[11],    r->bootloader_version, r->operator_name,
	                                    r->link,      r->port};
	static const char sql[] =
		"INSERT INTO records (" STORE_COLUMNS ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,"
		"$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30,$31) ON CONFLICT (record_id) DO NOTHING";
	bool had = p->conn != NULL;
	PGresult *res = pg_run(p, sql, STORE_NCOLUMNS, vals, PGRES_COMMAND_OK);
	if (!res && p->lost && had && !(p->stop && *p->stop))
		/* the connection died since the last statement (a server restart): once more, anew */
		res = pg_run(p, sql, STORE_NCOLUMNS, vals, PGRES_COMMAND_OK);
	if (!res)
		return pg_fail(p, e, "append", NULL);
	PQclear(res);
	return 0;
}

static void pg_row(PGresult *res, int row, struct store_record *r)
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
		store_copy(t[k].dst, t[k].cap, PQgetvalue(res, row, i));
	r->image_bytes = strtoull(PQgetvalue(res, row, i++), NULL, 10);
	r->sectors_erased = (unsigned)strtoul(PQgetvalue(res, row, i++), NULL, 10);
	r->sectors_skipped = (unsigned)strtoul(PQgetvalue(res, row, i++), NULL, 10);
	store_copy(r->serial_counter, sizeof r->serial_counter, PQgetvalue(res, row, i++));
	r->serial_number = strtoull(PQgetvalue(res, row, i++), NULL, 10);
	r->ok = strcmp(PQgetvalue(res, row, i++), "0") != 0;
	store_copy(r->error, sizeof r->error, PQgetvalue(res, row, i++));
	store_copy(r->message, sizeof r->message, PQgetvalue(res, row, i++));
	double *secs[] = {&r->s_read, &r->s_erase, &r->s_program, &r->s_verify, &r->s_total};
	for (size_t k = 0; k < 5; k++)
		*secs[k] = strtod(PQgetvalue(res, row, i++), NULL);
	store_copy(r->usb_path, sizeof r->usb_path, PQgetvalue(res, row, i++));
	store_copy(r->started_at, sizeof r->started_at, PQgetvalue(res, row, i++));
	r->retries = (unsigned)strtoul(PQgetvalue(res, row, i++), NULL, 10);
	r->verified = strcmp(PQgetvalue(res, row, i++), "0") != 0;
	store_copy(r->bootloader_version, sizeof r->bootloader_version, PQgetvalue(res, row, i++));
	store_copy(r->operator_name, sizeof r->operator_name, PQgetvalue(res, row, i++));
	store_copy(r->link, sizeof r->link, PQgetvalue(res, row, i++));
	store_copy(r->port, sizeof r->port, PQgetvalue(res, row, i++));
}

static int pg_query(struct store_backend *b, const struct store_filter *f, struct store_record **out, size_t *n,
                    struct err *e)
{
	struct pg *p = (struct pg *)b;
	static const char sql[] =
		"SELECT " STORE_COLUMNS " FROM records WHERE ($1::text IS NULL OR uid = $1)"
		" AND ($2::text IS NULL OR image_sha256 = $2) AND ($3::int = 0 OR ok = 0)"
		" AND ($4::text IS NULL OR time >= $4)"
		" AND ($5::int = 0 OR (error = 'STM32DFU_E_AMBIGUOUS' AND message LIKE 'cloned UID%'))"
		" AND ($6::bigint IS NULL OR (serial_counter <> '' AND serial_number BETWEEN $6 AND $7::bigint))"
		" ORDER BY time, id";
	char lo[32] = "", hi[32] = "";
	if (f && f->has_serial_range) {
		snprintf(lo, sizeof lo, "%" PRIu64, f->serial_first);
		snprintf(hi, sizeof hi, "%" PRIu64, f->serial_last);
	}
	const char *vals[7] = {f ? f->uid : NULL, f ? f->sha256 : NULL, f && f->failed_only ? "1" : "0",
	                       f ? f->since : NULL, f && f->collisions ? "1" : "0",
	                       f && f->has_serial_range ? lo : NULL, f && f->has_serial_range ? hi : NULL};
	bool had = p->conn != NULL;
	PGresult *res = pg_run(p, sql, 7, vals, PGRES_TUPLES_OK);
	if (!res && p->lost && had)
		res = pg_run(p, sql, 7, vals, PGRES_TUPLES_OK);
	if (!res)
		return pg_fail(p, e, "query", NULL);
	int rows = PQntuples(res);
	struct store_record *r = calloc(rows ? (size_t)rows : 1, sizeof *r);
	if (!r) {
		PQclear(res);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	for (int k = 0; k < rows; k++)
		pg_row(res, k, &r[k]);
	PQclear(res);
	*out = r;
	*n = (size_t)rows;
	return 0;
}

static int pg_serial_once(struct pg *p, const char *counter, const char *uid, uint64_t start, uint64_t *number,
                          bool *fresh, struct err *e)
{
	char startv[32];
	snprintf(startv, sizeof startv, "%" PRIu64, start);
	PGresult *res = pg_run(p, "BEGIN", 0, NULL, PGRES_COMMAND_OK);
	if (!res)
		return pg_fail(p, e, "serial number", NULL);
	PQclear(res);
	p->in_tx = true;
	const char *v2[2] = {counter, startv};
	const char *vu[2] = {counter, uid};
	/* the counter row exists and is locked: every other station waits here until COMMIT */
	if (!(res = pg_run(p, "INSERT INTO serial_counters (name, next_number) VALUES ($1, $2::bigint)"
	                      " ON CONFLICT (name) DO NOTHING", 2, v2, PGRES_COMMAND_OK)))
		goto fail;
	PQclear(res);
	if (!(res = pg_run(p, "SELECT next_number FROM serial_counters WHERE name = $1 FOR UPDATE", 1, v2,
	                   PGRES_TUPLES_OK)) || PQntuples(res) != 1)
		goto fail;
	uint64_t next = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (!(res = pg_run(p, "SELECT number FROM serial_numbers WHERE counter = $1 AND uid = $2", 2, vu,
	                   PGRES_TUPLES_OK)))
		goto fail;
	*fresh = PQntuples(res) == 0;
	*number = *fresh ? next : strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (*fresh && next > STORE_SERIAL_MAX) {
		/* bigint is signed: next_number + 1 would leave it */
		PQclear(PQexec(p->conn, "ROLLBACK"));
		err_set(e, STM32DFU_E_RANGE, "serial counter '%s' has given its last number (%" PRIu64 "): nothing "
		        "was written", counter, (uint64_t)STORE_SERIAL_MAX);
		err_hint(e, "start another counter (--serial-counter NAME --serial-start N)");
		return STM32DFU_E_RANGE;
	}
	if (*fresh) {
		char num[32];
		snprintf(num, sizeof num, "%" PRIu64, next);
		const char *vi[3] = {counter, uid, num};
		if (!(res = pg_run(p, "INSERT INTO serial_numbers (counter, uid, number, time) VALUES ($1, $2, $3::bigint,"
		                      " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))",
		                   3, vi, PGRES_COMMAND_OK)))
			goto fail;
		PQclear(res);
		if (!(res = pg_run(p, "UPDATE serial_counters SET next_number = next_number + 1 WHERE name = $1", 1, v2,
		                   PGRES_COMMAND_OK)))
			goto fail;
		PQclear(res);
	}
	/* a COMMIT whose answer was lost may have committed: the retry then finds this board's number */
	return pg_commit(p, e, "serial number");
fail:
	return pg_abort(p, e, "serial number", res);
}

static int pg_serial(struct store_backend *b, const char *counter, const char *uid, uint64_t start, uint64_t *number,
                     bool *fresh, struct err *e)
{
	struct pg *p = (struct pg *)b;
	bool had = p->conn != NULL;
	int rc = pg_serial_once(p, counter, uid, start, number, fresh, e);
	/* a connection lost before COMMIT rolled the transaction back: the whole of it once more */
	if (rc < 0 && p->lost && had && !(p->stop && *p->stop))
		rc = pg_serial_once(p, counter, uid, start, number, fresh, e);
	return rc;
}

static int pg_remove(struct store_backend *b, const char *record_id, struct err *e)
{
	(void)b;
	(void)record_id;
	return err_set(e, STM32DFU_E_INTERNAL, "records are never removed from the shared log");
}

static void pg_close(struct store_backend *b)
{
	struct pg *p = (struct pg *)b;
	if (p->conn)
		PQfinish(p->conn);
	free(p->conninfo);
	free(p);
}

static void pg_set_stop(struct store_backend *b, const volatile sig_atomic_t *stop)
{
	((struct pg *)b)->stop = stop;
}

static int pg_counter_next(struct store_backend *b, const char *counter, bool *exists, uint64_t *next, struct err *e)
{
	struct pg *p = (struct pg *)b;
	const char *v[1] = {counter};
	PGresult *res = pg_run(p, "SELECT next_number FROM serial_counters WHERE name = $1", 1, v, PGRES_TUPLES_OK);
	if (!res)
		return pg_fail(p, e, "serial counter", NULL);
	*exists = PQntuples(res) == 1;
	*next = *exists ? strtoull(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return 0;
}

/* ---- serial-number leases (--serial-lease N, store.c) ---------------------------------- */

static int pg_lease_grant_once(struct pg *p, const char *counter, uint64_t start, const char *station, uint64_t n,
                               const char *id, uint64_t *first, uint64_t *last, struct err *e)
{
	char startv[32], nv[32];
	snprintf(startv, sizeof startv, "%" PRIu64, start);
	snprintf(nv, sizeof nv, "%" PRIu64, n);
	PGresult *res = pg_run(p, "BEGIN", 0, NULL, PGRES_COMMAND_OK);
	if (!res)
		return pg_fail(p, e, "serial lease", NULL);
	PQclear(res);
	p->in_tx = true;
	const char *v2[2] = {counter, startv};
	/* the counter row locked, as for one number: the block is the counter's next n */
	if (!(res = pg_run(p, "INSERT INTO serial_counters (name, next_number) VALUES ($1, $2::bigint)"
	                      " ON CONFLICT (name) DO NOTHING", 2, v2, PGRES_COMMAND_OK)))
		goto fail;
	PQclear(res);
	if (!(res = pg_run(p, "SELECT next_number FROM serial_counters WHERE name = $1 FOR UPDATE", 1, v2,
	                   PGRES_TUPLES_OK)) || PQntuples(res) != 1)
		goto fail;
	uint64_t next = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (next > STORE_SERIAL_MAX || STORE_SERIAL_MAX - next < n - 1) {
		PQclear(PQexec(p->conn, "ROLLBACK"));
		p->in_tx = false;
		err_set(e, STM32DFU_E_RANGE, "serial counter '%s' has fewer than %" PRIu64 " numbers left for a lease",
		        counter, n);
		err_hint(e, "a smaller --serial-lease, or another counter (--serial-counter NAME --serial-start N)");
		return STM32DFU_E_RANGE;
	}
	char firstv[32], lastv[32];
	snprintf(firstv, sizeof firstv, "%" PRIu64, next);
	snprintf(lastv, sizeof lastv, "%" PRIu64, next + n - 1);
	const char *vl[5] = {id, counter, station, firstv, lastv};
	if (!(res = pg_run(p, "INSERT INTO serial_leases (lease_id, counter, station, first_number, last_number, taken)"
	                      " VALUES ($1, $2, $3, $4::bigint, $5::bigint,"
	                      " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))",
	                   5, vl, PGRES_COMMAND_OK)))
		goto fail;
	PQclear(res);
	const char *vu[2] = {counter, nv};
	if (!(res = pg_run(p, "UPDATE serial_counters SET next_number = next_number + $2::bigint WHERE name = $1", 2, vu,
	                   PGRES_COMMAND_OK)))
		goto fail;
	PQclear(res);
	/* a COMMIT whose answer was lost may have committed: the block is then lost to everyone (it is
	 * held by a lease no station knows), never given twice */
	int rc = pg_commit(p, e, "serial lease");
	if (rc < 0)
		return rc;
	*first = next;
	*last = next + n - 1;
	return 0;
fail:
	return pg_abort(p, e, "serial lease", res);
}

static int pg_lease_grant(struct store_backend *b, const char *counter, uint64_t start, const char *station,
                          uint64_t n, const char *id, uint64_t *first, uint64_t *last, struct err *e)
{
	struct pg *p = (struct pg *)b;
	bool had = p->conn != NULL;
	int rc = pg_lease_grant_once(p, counter, start, station, n, id, first, last, e);
	/* a connection lost before COMMIT rolled it back; lost at COMMIT, the retry is a new lease id's
	 * block only if the first one did not commit (lease_id is the key: a committed one conflicts) */
	if (rc < 0 && p->lost && had && !(p->stop && *p->stop))
		rc = pg_lease_grant_once(p, counter, start, station, n, id, first, last, e);
	return rc;
}

static int pg_serial_lookup(struct store_backend *b, const char *counter, const char *uid, bool *found,
                            uint64_t *number, struct err *e)
{
	struct pg *p = (struct pg *)b;
	const char *v[2] = {counter, uid};
	PGresult *res = pg_run(p, "SELECT number FROM serial_numbers WHERE counter = $1 AND uid = $2", 2, v,
	                       PGRES_TUPLES_OK);
	if (!res)
		return pg_fail(p, e, "serial number", NULL);
	*found = PQntuples(res) == 1;
	*number = *found ? strtoull(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return 0;
}

static int pg_serial_assign(struct store_backend *b, const char *counter, const char *uid, uint64_t number,
                            struct err *e)
{
	struct pg *p = (struct pg *)b;
	char num[32];
	snprintf(num, sizeof num, "%" PRIu64, number);
	const char *v[3] = {counter, uid, num};
	/* the board holds this number now (one it was given during an outage, perhaps after another):
	 * idempotent, so telling it twice (a lost answer) changes nothing */
	PGresult *res = pg_run(p, "INSERT INTO serial_numbers (counter, uid, number, time) VALUES ($1, $2, $3::bigint,"
	                          " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
	                          " ON CONFLICT (counter, uid) DO UPDATE SET number = EXCLUDED.number, time = EXCLUDED.time",
	                       3, v, PGRES_COMMAND_OK);
	if (!res)
		return pg_fail(p, e, "serial number", NULL);
	PQclear(res);
	return 0;
}

static int pg_lease_end(struct store_backend *b, const char *counter, const char *id, uint64_t unused_from,
                        uint64_t last, bool *given_back, struct err *e)
{
	struct pg *p = (struct pg *)b;
	char fromv[32], endv[32];
	snprintf(fromv, sizeof fromv, "%" PRIu64, unused_from);
	snprintf(endv, sizeof endv, "%" PRIu64, last + 1);
	*given_back = false;
	PGresult *res = pg_run(p, "BEGIN", 0, NULL, PGRES_COMMAND_OK);
	if (!res)
		return pg_fail(p, e, "serial lease", NULL);
	PQclear(res);
	p->in_tx = true;
	const char *vi[1] = {id};
	/* ended already (an answer lost at COMMIT last time): nothing more to say */
	if (!(res = pg_run(p, "SELECT ended, given_back FROM serial_leases WHERE lease_id = $1 FOR UPDATE", 1, vi,
	                   PGRES_TUPLES_OK)))
		goto fail;
	bool ended = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0];
	if (ended)
		*given_back = strcmp(PQgetvalue(res, 0, 1), "1") == 0;
	PQclear(res);
	res = NULL;
	if (!ended && unused_from <= last) {
		/* the unused numbers go back to the counter only when none was given after them (the
		 * counter's next is this block's end); else they stay marked unused, never to be given */
		const char *vc[3] = {counter, fromv, endv};
		if (!(res = pg_run(p, "UPDATE serial_counters SET next_number = $2::bigint WHERE name = $1"
		                      " AND next_number = $3::bigint RETURNING next_number", 3, vc, PGRES_TUPLES_OK)))
			goto fail;
		*given_back = PQntuples(res) == 1;
		PQclear(res);
	}
	if (!ended) {
		const char *vl[3] = {id, fromv, *given_back ? "1" : "0"};
		if (!(res = pg_run(p, "UPDATE serial_leases SET unused_from = $2::bigint, given_back = $3::integer,"
		                      " ended = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
		                      " WHERE lease_id = $1", 3, vl, PGRES_COMMAND_OK)))
			goto fail;
		PQclear(res);
	}
	return pg_commit(p, e, "serial lease");
fail:
	return pg_abort(p, e, "serial lease", res);
}

static const struct store_backend_ops pg_ops = {pg_append,      pg_query,         pg_serial,       pg_remove,
                                                pg_close,       pg_set_stop,      pg_counter_next, pg_lease_grant,
                                                pg_serial_lookup, pg_serial_assign, pg_lease_end};

int store_pg_open(const char *conninfo, bool down_ok, struct store_backend **out, struct err *e)
{
	const char *why = pg_load();
	if (why) {
		err_set(e, STM32DFU_E_UNSUPPORTED, "a PostgreSQL log needs libpq: %s", why);
		err_hint(e, "install it (Debian: apt-get install libpq5), or log to SQLite with --log sqlite:PATH");
		return STM32DFU_E_UNSUPPORTED;
	}
	struct pg *p = calloc(1, sizeof *p);
	if (!p)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	p->base.ops = &pg_ops;
	store_redact(conninfo, p->url, sizeof p->url);
	p->conninfo = strdup(conninfo);
	if (!p->conninfo) {
		free(p);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	pg_limits(p, conninfo);
	*out = &p->base;
	if (!pg_connect(p)) {
		int rc = pg_fail(p, e, "cannot connect", NULL);
		err_hint(e, "check the URL and that the server runs; records already spooled are sent by "
		            "'stm32dfu log --sync' once it answers");
		/* the server refused us (it answered: a wrong database, user or password) or is away */
		bool answered = strstr(p->why, "FATAL") != NULL;
		if (answered || !down_ok) {
			*out = NULL;
			pg_close(&p->base);
			return answered ? STM32DFU_E_USAGE : rc;
		}
		return STM32DFU_E_LOG_UNREACHABLE; /* *out is usable: it connects when the server answers */
	}
	int rc = pg_migrate(p, e);
	if (rc < 0) {
		*out = NULL;
		pg_close(&p->base);
		return rc;
	}
	p->migrated = true;
	return 0;
}

