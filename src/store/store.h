/*
 * The programming log (design.md "store/"): one record per command that changed a chip, and the
 * per-board serial numbers, kept in a database. One interface, two backends: SQLite (embedded,
 * the default, one machine) and PostgreSQL (shared by stations). With PostgreSQL, a record that
 * cannot be sent goes to a local SQLite spool and is forwarded when the server answers again.
 * No USB, no printing: callers say what happened (err, store_spooling()).
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* The largest serial number a counter gives: SQL integers are signed 64-bit, and the counter keeps
 * the next number (this one + 1). */
#define STORE_SERIAL_MAX ((uint64_t)INT64_MAX - 1u)

/* The schema this build reads and writes (migrations 1..STORE_SCHEMA_VERSION). */
#define STORE_SCHEMA_VERSION 5

struct store_record {
	char record_id[33];      /* 32 hex digits, unique; set by store_append when empty */
	char time[32];           /* UTC, "2026-11-29T12:00:00.123Z"; set by store_append when empty */
	char station[64];
	char version[32];        /* tool version */
	char command[32];        /* "write", "erase", "ob set", "unprotect", "station" */
	char uid[25];            /* 24 hex digits (UID0 UID1 UID2 as numbers), or "" */
	char chip[64];
	char usb_serial[384];    /* as long as any USB string (usb/transport.h TP_STRING_MAX) */
	char image_path[512];
	char image_sha256[65];   /* hex, or "" */
	uint64_t image_bytes;
	unsigned sectors_erased;
	unsigned sectors_skipped;
	char serial_counter[64]; /* "" when no serial number was given */
	uint64_t serial_number;
	bool ok;
	char error[40];          /* STM32DFU_E_* symbol, or "" */
	char message[512];
	double s_read, s_erase, s_program, s_verify, s_total; /* seconds per phase, and in all */
	/* schema 3: what a quality engineer asks of a record */
	char usb_path[32];       /* the hub port ("1-1.4"), "" for the emulator */
	char started_at[32];     /* UTC start, as time; store_fill_identity sets it from time - s_total when empty */
	unsigned retries;        /* transfers repeated on a faulty link */
	bool verified;           /* read back and compared (false after --no-verify, or on failure) */
	char bootloader_version[8]; /* the ROM's, "3.1", or "" */
	char operator_name[64];  /* --operator or STM32DFU_OPERATOR, or "" */
	/* schema 5: how the board was reached */
	char link[8];            /* "usb" or "uart" ("" in records written before schema 5) */
	char port[256];          /* over USART: the serial port as named ("/dev/ttyUSB0", "sim-uart"); else "" */
};

struct store_filter {
	const char *uid;         /* 24 hex digits, spaces allowed */
	const char *sha256;      /* 64 hex digits */
	bool failed_only;
	const char *since;       /* normalised by store_parse_since */
	bool collisions;         /* only boards quarantined for a cloned UID (station) */
	bool has_serial_range;   /* only the boards given a serial number in [serial_first, serial_last] */
	uint64_t serial_first, serial_last;
};

struct store;

/* The default database: $XDG_STATE_HOME/stm32dfu[/sub]/log.sqlite3 (~/.local/state when unset);
 * sub "sim" is the emulated chips' log, "" the real one. */
int store_default_url(const char *sub, char *buf, size_t cap, struct err *e);

/*
 * Opens the log at url: "sqlite:PATH" or "postgresql://..." / "postgres://..." (libpq). Creates
 * or migrates the schema; a database with a newer schema than this build knows is refused. A
 * PostgreSQL server that cannot be reached is an error here (a wrong URL is caught before any
 * work); once open, records that cannot be sent are spooled and forwarded later.
 */
int store_open(const char *url, struct store **out, struct err *e);
/* Whether url is a log URL store_open takes (its form only: nothing is opened or created). */
int store_check_url(const char *url, struct err *e);
/*
 * The same for a command that changes chips: a PostgreSQL server that cannot be reached (it does
 * not answer; not one that refuses the URL) still opens the log, *down is set and e says why;
 * records go to the spool until the server answers. A line starts while its database is down.
 */
int store_open_spooling(const char *url, struct store **out, bool *down, struct err *e);
/* Marks the log as the emulated chips' own (opened for --sim or stm32dfu-sim): serial numbers for
 * an emulated chip are taken only from such a log, and a real chip's never (ops_serialno_apply). */
void store_set_emulated(struct store *s);
bool store_emulated(const struct store *s);
/* Set (a signal handler's flag): waits for the server end at once, and the record is spooled. */
void store_set_stop(struct store *s, const volatile sig_atomic_t *stop);
void store_close(struct store *s);
const char *store_url(const struct store *s);
/*
 * A log URL or connection string fit to print: every password libpq would take from it replaced
 * by *** -- the userinfo of a URI (postgresql://user:pw@host), a password or sslpassword URI
 * parameter (?password=pw&...), and a password or sslpassword keyword of a key=value string
 * (password=pw, password = 'p w'). True when something was replaced (the string carried a secret).
 */
bool store_redact(const char *url, char *buf, size_t cap);

/* Appends one record (r->record_id and r->time filled in when empty). Never loses it: with
 * PostgreSQL down it goes to the spool (store_spooling() is then true). */
int store_append(struct store *s, struct store_record *r, struct err *e);

/* Gives r its record_id and time now when they are empty (store_append does it too): a caller that
 * shows a record before it is stored shows the identity it will be stored under. */
void store_fill_identity(struct store_record *r);

/* True once a record of this session went to the spool, or records wait there. */
bool store_spooling(struct store *s);
/* Forwards the records spooled for this database (by any user, under any password) to it;
 * *sent and *left get the counts (may be NULL). */
int store_sync(struct store *s, size_t *sent, size_t *left, struct err *e);

/* Records matching f, oldest first. *out: malloc'd array of *n (free()). */
int store_query(struct store *s, const struct store_filter *f, struct store_record **out, size_t *n,
                struct err *e);

/*
 * The serial number of board uid under counter, in one transaction: the number it already has,
 * else the counter's next (start on the counter's first use). *fresh tells which. Needs the
 * database itself (never the spool: two stations must never hand out one number twice).
 */
int store_serial_number(struct store *s, const char *counter, const char *uid, uint64_t start, uint64_t *number,
                        bool *fresh, struct err *e);

/* Whether counter was used, and its next number (the database itself, as store_serial_number). */
int store_serial_counter(struct store *s, const char *counter, bool *exists, uint64_t *next, struct err *e);

/*
 * A serial-number lease (--serial-lease N, a shared PostgreSQL log only): the station holds up to n
 * numbers of counter, granted by the database in blocks while it answers and kept in a local file
 * (the state folder's lease-*.sqlite3, one per database, counter and station), so boards still get
 * numbers while the database is away. After store_lease_start, store_serial_number takes counter's
 * numbers from the lease: a number is marked used on disk before it is returned, a block is kept
 * only once the database committed it, so no number is ever given twice, across stations, outages,
 * crashes and kills. The database is told each board's number when it answers. A station killed
 * with a lease finds it again at its next start (same database, counter and station name).
 */
struct store_lease_report {
	uint64_t held;           /* numbers leased to this station and not handed out */
	uint64_t pending;        /* handed out while the database was away, not yet told to it */
	uint64_t given_back;     /* store_lease_end: unused numbers given back to the counter */
	uint64_t unused;         /* store_lease_end: unused numbers marked unused in the database, never given */
	bool reached;            /* the database answered */
	char path[512];          /* the local lease file */
};
int store_lease_start(struct store *s, const char *counter, uint64_t start, const char *station, uint64_t n,
                      struct store_lease_report *r, struct err *e);
/* Tells the database what was handed out and ends the lease's blocks (their unused numbers given
 * back, or marked unused); what it cannot do now stays in the local file for the next start. */
int store_lease_end(struct store *s, struct store_lease_report *r, struct err *e);

/* "2026-11-29" or "2026-11-29T12:30[:00]" (UTC) -> "2026-11-29T12:30:00" into buf; false if malformed. */
bool store_parse_since(const char *s, char *buf, size_t cap);
/* SHA-256 of len bytes, as 64 hex digits. */
void store_sha256_buf(const void *buf, size_t len, char hex[65]);
/* SHA-256 of a file, as 64 hex digits. */
int store_sha256_file(const char *path, char hex[65], uint64_t *bytes, struct err *e);
/* A UID as the log keeps it: 24 hex digits, upper case, no spaces; false if it is not one. */
bool store_uid_normalise(const char *in, char out[25]);

#endif
