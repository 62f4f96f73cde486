/*
 * The PostgreSQL backend (libpq): one history shared by stations. Every statement is
 * parameterised; the schema is migrated under an advisory lock so that two stations starting on a
 * new database do not race; serial numbers are taken with the counter row locked (FOR UPDATE),
 * so two stations can never be given the same number.
 */
#include "store/store_int.h"

#include "core/os.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* an arbitrary constant naming our advisory lock ("stm32dfu" in ASCII) */
#define PG_LOCK_KEY "7310593858154984821"

struct pg {
	struct store_backend base;
	PGconn *conn;
	char url[512];
};

/* BIGSERIAL: PostgreSQL has no implicit rowid */
static const char *const pg_migrations[STORE_SCHEMA_VERSION] = STORE_MIGRATIONS("BIGSERIAL PRIMARY KEY");

static int pg_fail(struct pg *p, struct err *e, const char *what, const PGresult *res)
{
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(p->conn);
	char m[ERR_MSG_MAX];
	store_copy(m, sizeof m, msg && *msg ? msg : "failed");
	size_t n = strlen(m);
	while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
		m[--n] = '\0';
	for (char *c = m; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	int code = PQstatus(p->conn) == CONNECTION_OK ? STM32DFU_E_FILE_IO : STM32DFU_E_UNSUPPORTED;
	return err_set(e, code, "log database %s: %s: %s", p->url, what, m);
}

/* Runs a statement; a lost connection is re-established once first. */
static PGresult *pg_run(struct pg *p, const char *sql, int n, const char *const *vals, ExecStatusType want)
{
	if (PQstatus(p->conn) != CONNECTION_OK)
		PQreset(p->conn);
	if (PQstatus(p->conn) != CONNECTION_OK)
		return NULL;
	PGresult *res = PQexecParams(p->conn, sql, n, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) == want)
		return res;
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

static int pg_append(struct store_backend *b, const struct store_record *r, struct err *e)
{
	struct pg *p = (struct pg *)b;
	char nums[13][32];
	snprintf(nums[0], 32, "%" PRIu64, r->image_bytes);
	snprintf(nums[1], 32, "%u", r->sectors_erased);
	snprintf(nums[2], 32, "%u", r->sectors_skipped);
	snprintf(nums[3], 32, "%" PRIu64, r->serial_number);
	snprintf(nums[4], 32, "%d", r->ok ? 1 : 0);
	const double secs[] = {r->s_read, r->s_erase, r->s_program, r->s_verify, r->s_total};
	for (int k = 0; k < 5; k++)
		snprintf(nums[5 + k], 32, "%.6f", secs[k]);
	const char *vals[STORE_NCOLUMNS] = {r->record_id, r->time,     r->station,    r->version,        r->command,
	                                    r->uid,       r->chip,     r->usb_serial, r->image_path,     r->image_sha256,
	                                    nums[0],      nums[1],     nums[2],       r->serial_counter, nums[3],
	                                    nums[4],      r->error,    r->message,    nums[5],           nums[6],
	                                    nums[7],      nums[8],     nums[9]};
	PGresult *res = pg_run(p,
	                       "INSERT INTO records (" STORE_COLUMNS ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,"
	                       "$14,$15,$16,$17,$18,$19,$20,$21,$22,$23) ON CONFLICT (record_id) DO NOTHING",
	                       STORE_NCOLUMNS, vals, PGRES_COMMAND_OK);
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
}

static int pg_query(struct store_backend *b, const struct store_filter *f, struct store_record **out, size_t *n,
                    struct err *e)
{
	struct pg *p = (struct pg *)b;
	const char *vals[4] = {f ? f->uid : NULL, f ? f->sha256 : NULL, f && f->failed_only ? "1" : "0",
	                       f ? f->since : NULL};
	PGresult *res = pg_run(p,
	                       "SELECT " STORE_COLUMNS " FROM records WHERE ($1::text IS NULL OR uid = $1)"
	                       " AND ($2::text IS NULL OR image_sha256 = $2) AND ($3::int = 0 OR ok = 0)"
	                       " AND ($4::text IS NULL OR time >= $4) ORDER BY time, id",
	                       4, vals, PGRES_TUPLES_OK);
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

static int pg_serial(struct store_backend *b, const char *counter, const char *uid, uint64_t start, uint64_t *number,
                     bool *fresh, struct err *e)
{
	struct pg *p = (struct pg *)b;
	char startv[32];
	snprintf(startv, sizeof startv, "%" PRIu64, start);
	PGresult *res = pg_run(p, "BEGIN", 0, NULL, PGRES_COMMAND_OK);
	if (!res)
		return pg_fail(p, e, "serial number", NULL);
	PQclear(res);
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
	if (!(res = pg_run(p, "COMMIT", 0, NULL, PGRES_COMMAND_OK)))
		return pg_fail(p, e, "serial number", NULL);
	PQclear(res);
	return 0;
fail:
	PQclear(res);
	{
		int rc = pg_fail(p, e, "serial number", NULL);
		PQclear(PQexec(p->conn, "ROLLBACK"));
		return rc;
	}
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
	PQfinish(p->conn);
	free(p);
}

static const struct store_backend_ops pg_ops = {pg_append, pg_query, pg_serial, pg_remove, pg_close};

int store_pg_open(const char *conninfo, struct store_backend **out, struct err *e)
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
	p->conn = PQconnectdb(conninfo);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		int rc = pg_fail(p, e, "cannot connect", NULL);
		err_hint(e, "check the URL and that the server runs; records already spooled are sent by "
		            "'stm32dfu log --sync' once it answers");
		pg_close(&p->base);
		return rc;
	}
	PQclear(PQexec(p->conn, "SET client_min_messages = warning"));
	int rc = pg_migrate(p, e);
	if (rc < 0) {
		pg_close(&p->base);
		return rc;
	}
	*out = &p->base;
	return 0;
}
