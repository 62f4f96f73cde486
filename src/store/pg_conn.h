/*
 * Internal to store/: the PostgreSQL log's connection (pg_conn.c), on which store_pg.c runs its
 * SQL. libpq is loaded when a PostgreSQL log is first used, not linked: it brings some twenty
 * libraries (Kerberos, LDAP, TLS) that every other run of the tool would load for nothing, so its
 * functions are called through store_pq under their own names (the macros below).
 */
#ifndef STORE_PG_CONN_H
#define STORE_PG_CONN_H

#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store_int.h"

struct pg_api {
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
};
extern struct pg_api store_pq;

#define PQconnectdb store_pq.connectdb
#define PQstatus store_pq.status
#define PQfinish store_pq.finish
#define PQreset store_pq.reset
#define PQexec store_pq.exec
#define PQexecParams store_pq.exec_params
#define PQresultStatus store_pq.result_status
#define PQclear store_pq.clear
#define PQntuples store_pq.ntuples
#define PQgetvalue store_pq.getvalue
#define PQerrorMessage store_pq.error_message
#define PQresultErrorMessage store_pq.result_error_message
#define PQconnectStartParams store_pq.connect_start_params
#define PQconnectPoll store_pq.connect_poll
#define PQsendQueryParams store_pq.send_query_params
#define PQgetResult store_pq.get_result
#define PQisBusy store_pq.is_busy
#define PQconsumeInput store_pq.consume_input
#define PQsocket store_pq.socket
#define PQconninfoParse store_pq.conninfo_parse
#define PQconninfoFree store_pq.conninfo_free
#define PQfreemem store_pq.freemem

struct pg {
	struct store_backend base;
	PGconn *conn;            /* NULL while not connected */
	char url[512];           /* without its password, for messages */
	char *conninfo;          /* the URL itself */
	unsigned connect_ms;     /* connecting: TCP, TLS and the start-up exchange together */
	unsigned answer_ms;      /* one statement's answer */
	bool migrated;           /* the schema was checked on some connection of this backend */
	bool lost;               /* the last failure was the connection, not the statement */
	bool in_tx;              /* inside BEGIN..COMMIT: a lost connection is not replaced mid-way */
	char why[256];           /* why the last connection or answer failed, when libpq cannot say */
	const volatile sig_atomic_t *stop;
};

/* Loads libpq (once per process): NULL when it is there, else why it is not. */
const char *pg_load(void);

/* The deadlines for this URL (connect_ms, answer_ms): its own connect_timeout and the
 * statement_timeout its options give, else the defaults (docs/architecture.md, "The programming
 * log and a database that stops answering"). */
void pg_limits(struct pg *p, const char *conninfo);
/* The statement_timeout a libpq "options" value sets ("-c statement_timeout=30s",
 * "-cstatement_timeout=500", "--statement-timeout=1min"; the last one wins), in milliseconds;
 * false when it sets none, or none with a value PostgreSQL reads. */
bool pg_options_statement_ms(const char *options, uint64_t *ms);

/* Connects (defaults first, the URL's own parameters win), bounded by connect_ms. */
bool pg_connect(struct pg *p);
void pg_drop(struct pg *p);
/* The error for what failed: the result's message, libpq's, or p->why. */
int pg_fail(struct pg *p, struct err *e, const char *what, const PGresult *res);
/* Runs one statement, waiting for its answer at most answer_ms (and not past the stop flag): the
 * result when its status is want; NULL else (p->lost tells a lost connection apart). */
PGresult *pg_run(struct pg *p, const char *sql, int n, const char *const *vals, ExecStatusType want);
/* Brings the schema to STORE_SCHEMA_VERSION under an advisory lock (two stations starting on a new
 * database do not race). */
int pg_migrate(struct pg *p, struct err *e);
/* Ends a transaction begun with BEGIN. A COMMIT whose answer was lost may have committed: each
 * caller says what that means for it. */
int pg_commit(struct pg *p, struct err *e, const char *what);
/* A statement of the transaction failed (res: its result, or NULL): the error, then a ROLLBACK on
 * a connection still there. */
int pg_abort(struct pg *p, struct err *e, const char *what, PGresult *res);

#endif
