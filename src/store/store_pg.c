/*
 * The PostgreSQL backend (libpq): one history shared by stations. Every statement is
 * parameterised; the schema is migrated under an advisory lock so that two stations starting on a
 * new database do not race; serial numbers are taken with the counter row locked (FOR UPDATE),
 * so two stations can never be given the same number.
 *
 * A line must not stop for its log: connecting and every statement run asynchronously under our
 * own deadlines (PG_CONNECT_MS, PG_ANSWER_MS) and the caller's stop flag, so a server that stops
 * answering (SIGSTOP, a dead route, a black hole) costs seconds, not minutes; TCP keepalives and
 * a server-side statement_timeout back them up. A connection lost between two statements (a
 * server restart) is made again once and the transaction retried before anything is reported.
 */
#include "store/store_int.h"

#include "core/os.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * libpq is loaded when a PostgreSQL log is first used, not linked: it brings some twenty
 * libraries (Kerberos, LDAP, TLS) that every other run of the tool would load for nothing.
 */
static struct {
	void *so;
	const char *error;
	PGconn *(*connectdb)(const char *);
	ConnStatusType (*status)(const PGconn *);
	void (*finish)(PGconn *);
	void (*reset)(PGconn *);
	PGresult *(*exec)(PGconn *, const char *);
	PGresult *(*exec_params)(PGconn *, const char *, int, const Oid *, const char *const *, const int *,
	                         const int *, int);
	ExecStatusType (*result_status)(const PGresult *);
	void (*clear)(PGresult *);
	int (*ntuples)(const PGresult *);
	char *(*getvalue)(const PGresult *, int, int);
	char *(*error_message)(const PGconn *);
	char *(*result_error_message)(const PGresult *);
	PGconn *(*connect_start_params)(const char *const *, const char *const *, int);
	PostgresPollingStatusType (*connect_poll)(PGconn *);
	int (*send_query_params)(PGconn *, const char *, int, const Oid *, const char *const *, const int *,
	                         const int *, int);
	PGresult *(*get_result)(PGconn *);
	int (*is_busy)(PGconn *);
	int (*consume_input)(PGconn *);
	int (*socket)(const PGconn *);
	PQconninfoOption *(*conninfo_parse)(const char *, char **);
	void (*conninfo_free)(PQconninfoOption *);
	void (*freemem)(void *);
} pq;
static pthread_once_t pq_once = PTHREAD_ONCE_INIT;

static void pq_load(void)
{
	pq.so = os_lib_open(os_libpq_name(), NULL);
	if (!pq.so) {
		static char why[64];
		snprintf(why, sizeof why, "%s is not installed", os_libpq_name());
		pq.error = why;
		return;
	}
	struct {
		void *dst;
		const char *name;
	} syms[] = {
		{&pq.connectdb, "PQconnectdb"},   {&pq.status, "PQstatus"},         {&pq.finish, "PQfinish"},
		{&pq.reset, "PQreset"},           {&pq.exec, "PQexec"},             {&pq.exec_params, "PQexecParams"},
		{&pq.result_status, "PQresultStatus"}, {&pq.clear, "PQclear"},      {&pq.ntuples, "PQntuples"},
		{&pq.getvalue, "PQgetvalue"},     {&pq.error_message, "PQerrorMessage"},
		{&pq.result_error_message, "PQresultErrorMessage"},
		{&pq.connect_start_params, "PQconnectStartParams"}, {&pq.connect_poll, "PQconnectPoll"},
		{&pq.send_query_params, "PQsendQueryParams"}, {&pq.get_result, "PQgetResult"},
		{&pq.is_busy, "PQisBusy"},         {&pq.consume_input, "PQconsumeInput"}, {&pq.socket, "PQsocket"},
		{&pq.conninfo_parse, "PQconninfoParse"}, {&pq.conninfo_free, "PQconninfoFree"},
		{&pq.freemem, "PQfreemem"},
	};
	for (size_t i = 0; i < sizeof syms / sizeof *syms; i++) {
		void *f = os_lib_sym(pq.so, syms[i].name);
		if (!f) {
			pq.error = "libpq lacks a function stm32dfu needs";
			os_lib_close(pq.so);
			pq.so = NULL;
			return;
		}
		memcpy(syms[i].dst, &f, sizeof f);
	}
}

#define PQconnectdb pq.connectdb
#define PQstatus pq.status
#define PQfinish pq.finish
#define PQreset pq.reset
#define PQexec pq.exec
#define PQexecParams pq.exec_params
#define PQresultStatus pq.result_status
#define PQclear pq.clear
#define PQntuples pq.ntuples
#define PQgetvalue pq.getvalue
#define PQerrorMessage pq.error_message
#define PQresultErrorMessage pq.result_error_message
#define PQconnectStartParams pq.connect_start_params
#define PQconnectPoll pq.connect_poll
#define PQsendQueryParams pq.send_query_params
#define PQgetResult pq.get_result
#define PQisBusy pq.is_busy
#define PQconsumeInput pq.consume_input
#define PQsocket pq.socket
#define PQconninfoParse pq.conninfo_parse
#define PQconninfoFree pq.conninfo_free
#define PQfreemem pq.freemem

/* The defaults (docs/architecture.md "The programming log and a database that stops answering"): a URL parameter of the same name
 * overrides each but PG_ANSWER_MS. */
#define PG_CONNECT_MS 5000u   /* connect_timeout: TCP, TLS and the startup exchange together */
#define PG_ANSWER_MS 10000u   /* one statement's answer, measured here (a stopped server ACKs and
                                 keepalives, but never answers) */
static const char *const pg_default_keys[] = {"keepalives", "keepalives_idle", "keepalives_interval",
                                              "keepalives_count", "tcp_user_timeout", "options", NULL};
static const char *const pg_default_vals[] = {"1", "10", "3", "3", "15000", "-c statement_timeout=10s -c client_min_messages=warning", NULL};

/* an arbitrary constant naming our advisory lock ("stm32dfu" in ASCII) */
#define PG_LOCK_KEY "7310593858154984821"

struct pg {
	struct store_backend base;
	PGconn *conn;            /* NULL while not connected */
	char url[512];           /* without its password, for messages */
	char *conninfo;          /* the URL itself */
	unsigned connect_ms;
	bool migrated;           /* the schema was checked on some connection of this backend */
	bool lost;               /* the last failure was the connection, not the statement */
	bool in_tx;              /* inside BEGIN..COMMIT: a lost connection is not replaced mid-way */
	char why[256];           /* why the last connection or answer failed, when libpq cannot say */
	const volatile sig_atomic_t *stop;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Waits until the connection's socket is ready for ev, in slices (the stop flag is looked at
 * between them). 1 ready, 0 deadline passed or stopped. */
static int pg_wait(struct pg *p, PGconn *c, bool for_write, uint64_t end)
{
	for (;;) {
		if (p->stop && *p->stop)
			return 0;
		uint64_t now = mono_ms();
		if (now >= end)
			return 0;
		uint64_t left = end - now;
		int fd = PQsocket(c);
		if (fd < 0)
			return 1; /* libpq will say what is wrong */
		int r = os_socket_wait(fd, for_write, (int)(left < 100 ? left : 100));
		if (r > 0)
			return 1;
	}
}

static void pg_drop(struct pg *p)
{
	if (p->conn)
		PQfinish(p->conn);
	p->conn = NULL;
	p->lost = true;
}

/* Connects (defaults first, the URL's own parameters win), bounded by connect_ms. */
static bool pg_connect(struct pg *p)
{
	const char *keys[16], *vals[16];
	size_t k = 0;
	for (; pg_default_keys[k]; k++) {
		keys[k] = pg_default_keys[k];
		vals[k] = pg_default_vals[k];
	}
	keys[k] = "dbname"; /* expanded: the URL */
	vals[k++] = p->conninfo;
	keys[k] = vals[k] = NULL;
	PGconn *c = PQconnectStartParams(keys, vals, 1);
	if (!c) {
		snprintf(p->why, sizeof p->why, "out of memory");
		return false;
	}
	p->why[0] = '\0';
	uint64_t end = mono_ms() + p->connect_ms;
	PostgresPollingStatusType st = PQstatus(c) == CONNECTION_BAD ? PGRES_POLLING_FAILED : PGRES_POLLING_WRITING;
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		if (!pg_wait(p, c, st != PGRES_POLLING_READING, end)) {
			snprintf(p->why, sizeof p->why, "%s within %u s",
			         p->stop && *p->stop ? "stopped waiting for the server" : "no connection",
			         (p->connect_ms + 999) / 1000);
			PQfinish(c);
			return false;
		}
		st = PQconnectPoll(c);
	}
	if (st == PGRES_POLLING_FAILED) {
		store_copy(p->why, sizeof p->why, PQerrorMessage(c));
		PQfinish(c);
		return false;
	}
	p->conn = c;
	return true;
}

/* BIGSERIAL: PostgreSQL has no implicit rowid */
static const char *const pg_migrations[STORE_SCHEMA_VERSION] = STORE_MIGRATIONS("BIGSERIAL PRIMARY KEY");

static int pg_fail(struct pg *p, struct err *e, const char *what, const PGresult *res)
{
	const char *msg = res ? PQresultErrorMessage(res) : p->conn && !p->why[0] ? PQerrorMessage(p->conn) : p->why;
	char m[ERR_MSG_MAX];
	store_copy(m, sizeof m, msg && *msg ? msg : "failed");
	size_t n = strlen(m);
	while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
		m[--n] = '\0';
	for (char *c = m; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	int code = p->conn && PQstatus(p->conn) == CONNECTION_OK && !p->lost ? STM32DFU_E_FILE_IO : STM32DFU_E_LOG_UNREACHABLE;
	return err_set(e, code, "log database %s: %s: %s", p->url, what, m);
}

static int pg_migrate(struct pg *p, struct err *e);

/* A connection, migrated: made now if there is none (a restarted server, a first contact). */
static bool pg_ready(struct pg *p, struct err *e)
{
	if (p->conn && PQstatus(p->conn) != CONNECTION_OK)
		pg_drop(p);
	if (!p->conn && (p->in_tx || !pg_connect(p)))
		return false;
	if (!p->migrated) {
		if (pg_migrate(p, e) < 0) {
			pg_drop(p);
			return false;
		}
		p->migrated = true;
	}
	return true;
}

/* Runs one statement, waiting for its answer at most PG_ANSWER_MS (and not past the stop flag):
 * the result when its status is want; NULL else (p->lost tells a lost connection apart). */
static PGresult *pg_run(struct pg *p, const char *sql, int n, const char *const *vals, ExecStatusType want)
{
	p->lost = false;
	p->why[0] = '\0';
	if (!pg_ready(p, NULL)) {
		p->lost = true;
		return NULL;
	}
	if (!PQsendQueryParams(p->conn, sql, n, NULL, vals, NULL, NULL, 0)) {
		store_copy(p->why, sizeof p->why, PQerrorMessage(p->conn));
		pg_drop(p);
		return NULL;
	}
	uint64_t end = mono_ms() + PG_ANSWER_MS;
	PGresult *res = NULL;
	for (;;) {
		while (PQisBusy(p->conn)) {
			if (!pg_wait(p, p->conn, false, end)) {
				snprintf(p->why, sizeof p->why, "%s within %u s",
				         p->stop && *p->stop ? "stopped waiting for the server" : "no answer",
				         PG_ANSWER_MS / 1000);
				PQclear(res);
				pg_drop(p); /* its state is unknown: a new connection next time */
				return NULL;
			}
			if (!PQconsumeInput(p->conn)) {
				store_copy(p->why, sizeof p->why, PQerrorMessage(p->conn));
				PQclear(res);
				pg_drop(p);
				return NULL;
			}
		}
		PGresult *r = PQgetResult(p->conn);
		if (!r)
			break;
		PQclear(res);
		res = r;
	}
	if (PQstatus(p->conn) != CONNECTION_OK) {
		store_copy(p->why, sizeof p->why, PQerrorMessage(p->conn));
		PQclear(res);
		pg_drop(p);
		return NULL;
	}
	if (res && PQresultStatus(res) == want)
		return res;
	if (res)
		store_copy(p->why, sizeof p->why, PQresultErrorMessage(res));
	PQclear(res);
	return NULL;
}

static int pg_cmd(struct pg *p, const char *sql, struct err *e)
{
	PGresult *res = PQexec(p->conn, sql);
	int rc = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK
	                 ? 0
	                 : pg_fail(p, e, "schema", res);
	PQclear(res);
	return rc;
}

static int pg_migrate(struct pg *p, struct err *e)
{
	int rc = pg_cmd(p, "BEGIN; SELECT pg_advisory_xact_lock(" PG_LOCK_KEY ");"
	                   "CREATE TABLE IF NOT EXISTS store_schema (version INTEGER NOT NULL);", e);
	if (rc < 0)
		return rc;
	long v = 0;
	PGresult *res = PQexec(p->conn, "SELECT version FROM store_schema");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
		v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	rc = store_check_version(p->url, v, e);
	for (long k = v; rc == 0 && k < STORE_SCHEMA_VERSION; k++)
		rc = pg_cmd(p, pg_migrations[k], e);
	if (rc == 0 && v < STORE_SCHEMA_VERSION) {
		char sql[96];
		snprintf(sql, sizeof sql, "DELETE FROM store_schema; INSERT INTO store_schema VALUES (%d);",
		         STORE_SCHEMA_VERSION);
		rc = pg_cmd(p, sql, e);
	}
	if (rc < 0) {
		PQclear(PQexec(p->conn, "ROLLBACK"));
		return rc;
	}
	return pg_cmd(p, "COMMIT", e);
}

/* Ends a transaction begun with BEGIN. A COMMIT whose answer was lost may have committed: each
 * caller says what that means for it. */
static int pg_commit(struct pg *p, struct err *e, const char *what)
{
	PGresult *res = pg_run(p, "COMMIT", 0, NULL, PGRES_COMMAND_OK);
	p->in_tx = false;
	if (!res)
		return pg_fail(p, e, what, NULL);
	PQclear(res);
	return 0;
}

/* A statement of the transaction failed (res: its result, or NULL): the error, then a ROLLBACK on
 * a connection still there. */
static int pg_abort(struct pg *p, struct err *e, const char *what, PGresult *res)
{
	PQclear(res);
	p->in_tx = false;
	int rc = pg_fail(p, e, what, NULL);
	if (p->conn)
		PQclear(PQexec(p->conn, "ROLLBACK"));
	return rc;
}

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

/* The URL's connect_timeout (seconds, libpq's minimum 2), or our default. */
static unsigned pg_connect_ms(const char *conninfo)
{
	unsigned ms = PG_CONNECT_MS;
	PQconninfoOption *o = PQconninfoParse(conninfo, NULL);
	for (PQconninfoOption *x = o; x && x->keyword; x++)
		if (strcmp(x->keyword, "connect_timeout") == 0 && x->val && *x->val) {
			long v = strtol(x->val, NULL, 10);
			ms = v <= 0 ? 24u * 3600u * 1000u : (unsigned)(v < 2 ? 2 : v) * 1000u;
		}
	if (o)
		PQconninfoFree(o);
	return ms;
}

int store_pg_key(const char *conninfo, char *buf, size_t cap, struct err *e)
{
	pthread_once(&pq_once, pq_load);
	if (!pq.so)
		return err_set(e, STM32DFU_E_UNSUPPORTED, "a PostgreSQL log needs libpq: %s", pq.error);
	char *msg = NULL;
	PQconninfoOption *o = PQconninfoParse(conninfo, &msg);
	if (!o) {
		char m[256];
		store_copy(m, sizeof m, msg ? msg : "malformed");
		for (size_t n = strlen(m); n && (m[n - 1] == '\n' || m[n - 1] == ' '); n--)
			m[n - 1] = '\0';
		err_set(e, STM32DFU_E_USAGE, "log URL: %s", m);
		err_hint(e, "a PostgreSQL log URL looks like postgresql://user@host:5432/database");
		if (msg)
			PQfreemem(msg);
		return STM32DFU_E_USAGE;
	}
	const char *v[4] = {"", "", "", ""};
	static const char *const want[4] = {"host", "port", "dbname", "user"};
	for (PQconninfoOption *x = o; x->keyword; x++)
		for (int i = 0; i < 4; i++)
			if (strcmp(x->keyword, want[i]) == 0 && x->val)
				v[i] = x->val;
	/* server, database, user: never the password, so a rotated password finds the same spool */
	snprintf(buf, cap, "host=%s port=%s dbname=%s\nuser=%s", v[0], v[1], v[2], v[3]);
	PQconninfoFree(o);
	return 0;
}

int store_pg_open(const char *conninfo, bool down_ok, struct store_backend **out, struct err *e)
{
	pthread_once(&pq_once, pq_load);
	if (!pq.so) {
		err_set(e, STM32DFU_E_UNSUPPORTED, "a PostgreSQL log needs libpq: %s", pq.error);
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
	p->connect_ms = pg_connect_ms(conninfo);
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
