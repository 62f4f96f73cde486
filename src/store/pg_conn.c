/*
 * The PostgreSQL log's connection (store_pg.c holds its SQL). A line must not stop for its log:
 * connecting and every statement run asynchronously under our own deadlines (connect_ms,
 * answer_ms) and the caller's stop flag, so a server that stops answering (SIGSTOP, a dead route,
 * a black hole) costs seconds, not minutes; TCP keepalives and a server-side statement_timeout
 * back them up.
 */
#include "store/pg_conn.h"

#include "core/os.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pg_api store_pq;
static pthread_once_t pq_once = PTHREAD_ONCE_INIT;

static void pq_load(void)
{
	store_pq.so = os_lib_open(os_libpq_name(), NULL);
	if (!store_pq.so) {
		static char why[64];
		snprintf(why, sizeof why, "%s is not installed", os_libpq_name());
		store_pq.error = why;
		return;
	}
	struct {
		void *dst;
		const char *name;
	} syms[] = {
		{&store_pq.connectdb, "PQconnectdb"},   {&store_pq.status, "PQstatus"},         {&store_pq.finish, "PQfinish"},
		{&store_pq.reset, "PQreset"},           {&store_pq.exec, "PQexec"},             {&store_pq.exec_params, "PQexecParams"},
		{&store_pq.result_status, "PQresultStatus"}, {&store_pq.clear, "PQclear"},      {&store_pq.ntuples, "PQntuples"},
		{&store_pq.getvalue, "PQgetvalue"},     {&store_pq.error_message, "PQerrorMessage"},
		{&store_pq.result_error_message, "PQresultErrorMessage"},
		{&store_pq.connect_start_params, "PQconnectStartParams"}, {&store_pq.connect_poll, "PQconnectPoll"},
		{&store_pq.send_query_params, "PQsendQueryParams"}, {&store_pq.get_result, "PQgetResult"},
		{&store_pq.is_busy, "PQisBusy"},         {&store_pq.consume_input, "PQconsumeInput"}, {&store_pq.socket, "PQsocket"},
		{&store_pq.conninfo_parse, "PQconninfoParse"}, {&store_pq.conninfo_free, "PQconninfoFree"},
		{&store_pq.freemem, "PQfreemem"},
	};
	for (size_t i = 0; i < sizeof syms / sizeof *syms; i++) {
		void *f = os_lib_sym(store_pq.so, syms[i].name);
		if (!f) {
			store_pq.error = "libpq lacks a function stm32dfu needs";
			os_lib_close(store_pq.so);
			store_pq.so = NULL;
			return;
		}
		memcpy(syms[i].dst, &f, sizeof f);
	}
}

const char *pg_load(void)
{
	pthread_once(&pq_once, pq_load);
	return store_pq.so ? NULL : store_pq.error;
}

/* The defaults (docs/architecture.md "The programming log and a database that stops answering"): a
 * URL parameter of the same name overrides each; the answer limit follows a statement_timeout the
 * URL's options give (libpq has no client-side statement limit of its own). */
#define PG_CONNECT_MS 5000u   /* connect_timeout: TCP, TLS and the startup exchange together */
#define PG_ANSWER_MS 10000u   /* one statement's answer, measured here (a stopped server ACKs and
                                 keepalives, but never answers); the default statement_timeout too */
#define PG_ANSWER_PAST_MS 1000u /* past a statement_timeout from the URL: its answer comes first */
#define PG_NO_END_MS (24u * 3600u * 1000u) /* "without end": a day */
static const char *const pg_default_keys[] = {"keepalives", "keepalives_idle", "keepalives_interval",
                                              "keepalives_count", "tcp_user_timeout", "options", NULL};
static const char *const pg_default_vals[] = {"1", "10", "3", "3", "15000", "-c statement_timeout=10s -c client_min_messages=warning", NULL};

/* an arbitrary constant naming our advisory lock ("stm32dfu" in ASCII) */
#define PG_LOCK_KEY "7310593858154984821"

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

void pg_drop(struct pg *p)
{
	if (p->conn)
		PQfinish(p->conn);
	p->conn = NULL;
	p->lost = true;
}

bool pg_connect(struct pg *p)
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

int pg_fail(struct pg *p, struct err *e, const char *what, const PGresult *res)
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

PGresult *pg_run(struct pg *p, const char *sql, int n, const char *const *vals, ExecStatusType want)
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
	uint64_t end = mono_ms() + p->answer_ms;
	PGresult *res = NULL;
	for (;;) {
		while (PQisBusy(p->conn)) {
			if (!pg_wait(p, p->conn, false, end)) {
				snprintf(p->why, sizeof p->why, "%s within %u s",
				         p->stop && *p->stop ? "stopped waiting for the server" : "no answer",
				         (p->answer_ms + 999) / 1000);
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

int pg_migrate(struct pg *p, struct err *e)
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

int pg_commit(struct pg *p, struct err *e, const char *what)
{
	PGresult *res = pg_run(p, "COMMIT", 0, NULL, PGRES_COMMAND_OK);
	p->in_tx = false;
	if (!res)
		return pg_fail(p, e, what, NULL);
	PQclear(res);
	return 0;
}

int pg_abort(struct pg *p, struct err *e, const char *what, PGresult *res)
{
	PQclear(res);
	p->in_tx = false;
	int rc = pg_fail(p, e, what, NULL);
	if (p->conn)
		PQclear(PQexec(p->conn, "ROLLBACK"));
	return rc;
}

/* PostgreSQL's time units for a setting whose bare number is milliseconds (statement_timeout). */
static bool pg_ms_value(const char *v, size_t n, uint64_t *ms)
{
	char buf[32];
	if (!n || n >= sizeof buf)
		return false;
	memcpy(buf, v, n);
	buf[n] = '\0';
	char *end;
	double x = strtod(buf, &end);
	if (end == buf || !(x >= 0) || x > 1e15)
		return false;
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"", 1}, {"us", 0.001}, {"ms", 1}, {"s", 1000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000}};
	while (*end == ' ')
		end++;
	for (size_t k = 0; k < sizeof units / sizeof *units; k++)
		if (strcmp(end, units[k].unit) == 0) {
			double t = x * units[k].ms;
			*ms = t > 0 && t < 1 ? 1 : (uint64_t)(t + 0.5); /* the server rounds; 0 stays 0 (no limit) */
			return true;
		}
	return false;
}

bool pg_options_statement_ms(const char *options, uint64_t *ms)
{
	bool found = false;
	const char *q = options;
	while (q && *q) {
		while (isspace((unsigned char)*q))
			q++;
		const char *tok = q;
		while (*q && !isspace((unsigned char)*q))
			q++;
		size_t n = (size_t)(q - tok);
		const char *set = NULL;
		if (n == 2 && strncmp(tok, "-c", 2) == 0) { /* "-c name=value": the setting is the next word */
			while (isspace((unsigned char)*q))
				q++;
			set = q;
			while (*q && !isspace((unsigned char)*q))
				q++;
			n = (size_t)(q - set);
		} else if (n > 2 && strncmp(tok, "--", 2) == 0) {
			set = tok + 2;
			n -= 2;
		} else if (n > 2 && strncmp(tok, "-c", 2) == 0) {
			set = tok + 2;
			n -= 2;
		}
		static const char name[] = "statement_timeout";
		const size_t len = sizeof name - 1;
		if (!set || n <= len || set[len] != '=')
			continue;
		bool same = true; /* the server reads '-' in a name as '_' */
		for (size_t k = 0; k < len; k++)
			same = same && (set[k] == name[k] || (set[k] == '-' && name[k] == '_'));
		uint64_t v;
		if (same && pg_ms_value(set + len + 1, n - len - 1, &v)) {
			*ms = v; /* the last one given wins, as on the server */
			found = true;
		}
	}
	return found;
}

void pg_limits(struct pg *p, const char *conninfo)
{
	p->connect_ms = PG_CONNECT_MS;
	p->answer_ms = PG_ANSWER_MS;
	PQconninfoOption *o = PQconninfoParse(conninfo, NULL);
	for (PQconninfoOption *x = o; x && x->keyword; x++) {
		if (!x->val || !*x->val)
			continue;
		if (strcmp(x->keyword, "connect_timeout") == 0) {
			/* seconds, libpq's minimum 2; 0 waits without end */
			long v = strtol(x->val, NULL, 10);
			p->connect_ms = v <= 0 ? PG_NO_END_MS : (unsigned)(v < 2 ? 2 : v) * 1000u;
		}
		uint64_t st;
		if (strcmp(x->keyword, "options") == 0 && pg_options_statement_ms(x->val, &st))
			/* the server ends a longer statement itself and says so: wait a little past it, so
			 * that its answer, naming the cause, comes before our deadline; 0 (no server limit)
			 * waits without end, as connect_timeout=0 does (the stop flag still ends it) */
			p->answer_ms = st == 0 || st > PG_NO_END_MS - PG_ANSWER_PAST_MS ? PG_NO_END_MS
			                                                                 : (unsigned)st + PG_ANSWER_PAST_MS;
	}
	if (o)
		PQconninfoFree(o);
}

int store_pg_key(const char *conninfo, char *buf, size_t cap, struct err *e)
{
	const char *why = pg_load();
	if (why)
		return err_set(e, STM32DFU_E_UNSUPPORTED, "a PostgreSQL log needs libpq: %s", why);
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

