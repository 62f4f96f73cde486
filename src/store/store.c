/*
 * The log's front: picks the backend from the URL, fills in record identity and time, serialises
 * the callers (station threads share one store), and owns the spool of a PostgreSQL log.
 */
#include "store/store_int.h"
#include "core/os.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "core/file.h"
#include "store/lease.h"
#include "store/spool.h"

struct store {
	pthread_mutex_t mu;
	struct store_backend *b;
	bool shared;              /* PostgreSQL: a spool catches what cannot be sent */
	struct spool *spool;
	char url[512];
	char key[1024];           /* store_pg_key: what names this database's spools */
	char dir[448];            /* where the spools are ("" when there is no state folder) */
	uint64_t quiet_until_ms;  /* after a failure, records go straight to the spool until then */
	bool emulated;            /* the emulated chips' log (store_set_emulated) */
	struct lease *lease;      /* store_lease_start: counter lease_counter's numbers come from it */
	char lease_counter[64];
	char lease_station[64];
	uint64_t lease_start, lease_n;
};

/* After the server failed to answer, how long records go to the spool without asking it again:
 * an outage costs one wait (PostgreSQL's answer limit), not one per record. */
#define STORE_RETRY_MS 10000u
#define STORE_SLOW_FAIL_MS 1000u

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void store_copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

/* out += n bytes of s, bounded (cap includes the NUL) */
static void put(char *buf, size_t cap, size_t *k, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *k + 1 < cap; i++)
		buf[(*k)++] = s[i];
	buf[*k < cap ? *k : cap - 1] = '\0';
}

/* A keyword whose value is a secret (libpq: password, and the client key's sslpassword). */
static bool secret_key(const char *k, size_t n)
{
	return (n == 8 && strncasecmp(k, "password", 8) == 0) || (n == 11 && strncasecmp(k, "sslpassword", 11) == 0);
}

bool store_redact(const char *url, char *buf, size_t cap)
{
	size_t k = 0;
	bool hid = false;
	if (!cap)
		return false;
	buf[0] = '\0';
	const char *scheme = strstr(url, "://");
	if (scheme && (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)) {
		/* URI: [user[:password]@]host... then ?key=value&... */
		const char *auth = scheme + 3, *end = auth + strcspn(auth, "/?");
		const char *at = NULL;
		for (const char *p = auth; p < end; p++)
			if (*p == '@')
				at = p; /* the last one: a password with a raw '@' is hidden whole */
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon) {
			put(buf, cap, &k, url, (size_t)(colon - url) + 1);
			put(buf, cap, &k, "***", 3);
			hid = true;
			put(buf, cap, &k, at, (size_t)(end - at));
		} else {
			put(buf, cap, &k, url, (size_t)(end - url));
		}
		const char *p = end;
		while (*p) {
			/* copy up to and including the next '?' or '&', then one key=value */
			size_t n = strcspn(p, "?&");
			put(buf, cap, &k, p, n);
			p += n;
			if (!*p)
				break;
			put(buf, cap, &k, p, 1);
			p++;
			size_t kl = strcspn(p, "=&"), vl = p[kl] == '=' ? strcspn(p + kl + 1, "&") : 0;
			put(buf, cap, &k, p, kl);
			if (p[kl] == '=' && secret_key(p, kl)) {
				put(buf, cap, &k, "=***", 4);
				hid = true;
				p += kl + 1 + vl;
			} else {
				p += kl;
			}
		}
		return hid;
	}
	/* key=value words (libpq's conninfo string): values may be 'quoted' with \ escapes */
	const char *p = url;
	while (*p) {
		size_t sp = strspn(p, " \t\r\n");
		put(buf, cap, &k, p, sp);
		p += sp;
		if (!*p)
			break;
		const char *key = p;
		size_t kl = strcspn(p, " \t\r\n=");
		p += kl;
		size_t gap = strspn(p, " \t\r\n");
		if (p[gap] != '=') { /* not key=value: copy the word */
			put(buf, cap, &k, key, kl);
			continue;
		}
		p += gap + 1;
		p += strspn(p, " \t\r\n");
		const char *val = p;
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
		} else {
			for (; *p && !strchr(" \t\r\n", *p); p++)
				if (*p == '\\' && p[1])
					p++;
		}
		put(buf, cap, &k, key, kl);
		put(buf, cap, &k, "=", 1);
		if (secret_key(key, kl)) {
			put(buf, cap, &k, "***", 3);
			hid = true;
		} else {
			put(buf, cap, &k, val, (size_t)(p - val));
		}
	}
	return hid;
}

int store_check_version(const char *what, long found, struct err *e)
{
	if (found <= STORE_SCHEMA_VERSION)
		return 0;
	err_set(e, STM32DFU_E_UNSUPPORTED, "log database %s has schema version %ld; this stm32dfu knows up to %d",
	        what, found, STORE_SCHEMA_VERSION);
	err_hint(e, "a newer stm32dfu wrote it: upgrade this one, or log elsewhere with --log sqlite:PATH");
	return STM32DFU_E_UNSUPPORTED;
}

static int state_dir(const char *sub, char *buf, size_t cap, struct err *e)
{
	int rc = file_state_dir(sub, buf, cap, e);
	return rc < 0 ? err_prefix(e, "the log") : 0;
}

int store_default_url(const char *sub, char *buf, size_t cap, struct err *e)
{
	char dir[448];
	int rc = state_dir(sub ? sub : "", dir, sizeof dir, e);
	if (rc < 0)
		return rc;
	snprintf(buf, cap, "sqlite:%s/log.sqlite3", dir);
	return 0;
}

int store_check_url(const char *url, struct err *e)
{
	if (strncmp(url, "sqlite:", 7) == 0 && url[7])
		return 0;
	if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
		char key[1024];
		return store_pg_key(url, key, sizeof key, e);
	}
	char shown[256];
	store_redact(url, shown, sizeof shown);
	err_set(e, STM32DFU_E_USAGE, "log URL '%s': expected sqlite:PATH or postgresql://...", shown);
	err_hint(e, "for example --log sqlite:/var/lib/line1/log.sqlite3 or --log postgresql://host/db");
	return STM32DFU_E_USAGE;
}

static int open_log(const char *url, bool down_ok, struct store **out, bool *down, struct err *e)
{
	*out = NULL;
	if (down)
		*down = false;
	struct store *s = calloc(1, sizeof *s);
	if (!s)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	store_redact(url, s->url, sizeof s->url);
	int rc;
	if (strncmp(url, "sqlite:", 7) == 0 && url[7]) {
		char path[512];
		store_copy(path, sizeof path, url + 7);
		if (file_make_parent_dirs(path, NULL) < 0) {
			rc = err_set(e, STM32DFU_E_FILE_IO, "log database %s: cannot create its folder: %s", path, strerror(errno));
			free(s);
			return rc;
		}
		rc = store_sqlite_open(path, &s->b, e);
	} else if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
		s->shared = true;
		rc = store_pg_key(url, s->key, sizeof s->key, e);
		if (rc == 0)
			rc = store_pg_open(url, down_ok, &s->b, e);
		if (rc == STM32DFU_E_LOG_UNREACHABLE && s->b) {
			if (down)
				*down = true;
			rc = 0;
		}
	} else {
		err_set(e, STM32DFU_E_USAGE, "log URL '%s': expected sqlite:PATH or postgresql://...", s->url);
		err_hint(e, "for example --log sqlite:/var/lib/line1/log.sqlite3 or --log postgresql://host/db");
		rc = STM32DFU_E_USAGE;
	}
	if (rc < 0) {
		free(s);
		return rc;
	}
	pthread_mutex_init(&s->mu, NULL);
	if (s->shared) {
		if (state_dir("", s->dir, sizeof s->dir, NULL) == 0)
			s->spool = spool_new(s->dir, s->key);
		else
			s->dir[0] = '\0';
		/* records left by an earlier run are sent with the next record, or by store_sync (which
		 * then counts them): never silently here */
	}
	*out = s;
	return 0;
}

int store_open(const char *url, struct store **out, struct err *e)
{
	return open_log(url, false, out, NULL, e);
}

int store_open_spooling(const char *url, struct store **out, bool *down, struct err *e)
{
	return open_log(url, true, out, down, e);
}

void store_set_emulated(struct store *s)
{
	s->emulated = true;
}

bool store_emulated(const struct store *s)
{
	return s->emulated;
}

void store_set_stop(struct store *s, const volatile sig_atomic_t *stop)
{
	if (s->b->ops->set_stop)
		s->b->ops->set_stop(s->b, stop);
}

void store_close(struct store *s)
{
	if (!s)
		return;
	spool_free(s->spool);
	lease_close(s->lease);
	s->b->ops->close(s->b);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

const char *store_url(const struct store *s)
{
	return s->url;
}

void store_fill_identity(struct store_record *r)
{
	if (!r->record_id[0]) {
		unsigned char rnd[16];
		if (!os_random(rnd, sizeof rnd)) {
			/* no entropy source: time and address still make it unique enough per process */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			memcpy(rnd, &ts, sizeof ts < sizeof rnd ? sizeof ts : sizeof rnd);
		}
		for (int i = 0; i < 16; i++)
			snprintf(r->record_id + 2 * i, 3, "%02x", rnd[i]);
	}
	if (!r->time[0]) {
		struct timeval tv;
		gettimeofday(&tv, NULL);
		struct tm tm;
		os_gmtime((time_t)tv.tv_sec, &tm);
		char base[24];
		strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(r->time, sizeof r->time, "%s.%03dZ", base, (int)(tv.tv_usec / 1000));
	}
	if (!r->started_at[0]) {
		/* the command's start: its end less its duration */
		struct timeval tv;
		gettimeofday(&tv, NULL);
		int64_t ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000 - (int64_t)(r->s_total * 1000.0);
		time_t sec = (time_t)(ms / 1000);
		struct tm tm;
		os_gmtime(sec, &tm);
		char base[24];
		strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(r->started_at, sizeof r->started_at, "%s.%03dZ", base, (int)(ms % 1000));
	}
}

int store_append(struct store *s, struct store_record *r, struct err *e)
{
	store_fill_identity(r);
	pthread_mutex_lock(&s->mu);
	struct err pe;
	err_clear(&pe);
	int rc;
	uint64_t t0 = mono_ms();
	if (s->shared && t0 < s->quiet_until_ms)
		rc = err_set(&pe, STM32DFU_E_LOG_UNREACHABLE, "log database %s: no answer a moment ago", s->url);
	else
		rc = s->b->ops->append(s->b, r, &pe);
	/* a server that took long to fail (no answer, a black hole) is not asked again for a while; one
	 * that refuses at once (stopped cleanly) costs nothing to ask */
	if (rc == STM32DFU_E_LOG_UNREACHABLE && mono_ms() - t0 >= STORE_SLOW_FAIL_MS)
		s->quiet_until_ms = mono_ms() + STORE_RETRY_MS;
	if (rc == 0 && s->spool && spool_pending(s->spool))
		(void)spool_forward(s->spool, s->b, NULL, NULL, NULL);
	if (rc < 0 && s->shared && s->spool) {
		/* the server is away: keep it here, send it later */
		rc = spool_keep(s->spool, r, e);
		if (rc < 0)
			err_prefix(e, "%s, and the spool failed too", pe.msg);
	} else if (rc < 0 && e) {
		*e = pe;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

bool store_spooling(struct store *s)
{
	pthread_mutex_lock(&s->mu);
	bool v = s->spool && spool_pending(s->spool);
	pthread_mutex_unlock(&s->mu);
	return v;
}

int store_sync(struct store *s, size_t *sent, size_t *left, struct err *e)
{
	if (sent)
		*sent = 0;
	if (left)
		*left = 0;
	if (!s->shared)
		return 0;
	pthread_mutex_lock(&s->mu);
	size_t s1 = 0, l1 = 0, s2 = 0, l2 = 0;
	int rc = s->spool ? spool_forward(s->spool, s->b, &s1, &l1, e) : 0;
	/* then the spools of this database under other users or older runs' names */
	if (rc == 0 && s->dir[0])
		rc = spool_forward_all(s->dir, s->key, s->b, &s2, &l2, e);
	if (rc == 0)
		s->quiet_until_ms = 0;
	pthread_mutex_unlock(&s->mu);
	if (sent)
		*sent = s1 + s2;
	if (left)
		*left = l1 + l2;
	return rc;
}

int store_query(struct store *s, const struct store_filter *f, struct store_record **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&s->mu);
	int rc = s->b->ops->query(s->b, f, out, n, e);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* ---- serial-number leases ---------------------------------------------------------------- */

/* A server that failed slowly is left alone for a while (as store_append does). Lock held. */
static bool lease_server_down(struct store *s, int rc, uint64_t t0)
{
	if (rc != STM32DFU_E_LOG_UNREACHABLE)
		return false;
	if (mono_ms() - t0 >= STORE_SLOW_FAIL_MS)
		s->quiet_until_ms = mono_ms() + STORE_RETRY_MS;
	return true;
}

/* Tells the database the numbers handed out while it was away (idempotent). Lock held. */
static int lease_tell(struct store *s, struct err *e)
{
	struct lease_use *u = NULL;
	size_t n = 0;
	int rc = lease_pending(s->lease, &u, &n, e);
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = s->b->ops->serial_assign(s->b, s->lease_counter, u[i].uid, u[i].number, e);
		if (rc == 0)
			rc = lease_mark_told(s->lease, u[i].number, e);
	}
	free(u);
	return rc;
}

/* Once half the lease is spent, asks the database for as many numbers as make it whole. Lock held. */
static int lease_fill(struct store *s, struct err *e)
{
	uint64_t left = lease_left(s->lease);
	if (left * 2 > s->lease_n)
		return 0;
	struct store_record id;
	memset(&id, 0, sizeof id);
	store_fill_identity(&id); /* a random 32-hex-digit name, as a record's */
	uint64_t first, last;
	int rc = s->b->ops->lease_grant(s->b, s->lease_counter, s->lease_start, s->lease_station, s->lease_n - left,
	                                id.record_id, &first, &last, e);
	/* kept only once committed: a block the database does not know is never handed out */
	if (rc == 0)
		rc = lease_add_block(s->lease, id.record_id, first, last, e);
	return rc;
}

static void lease_report(struct store *s, struct store_lease_report *r)
{
	r->held = lease_left(s->lease);
	struct lease_use *u = NULL;
	size_t n = 0;
	if (lease_pending(s->lease, &u, &n, NULL) == 0)
		r->pending = n;
	free(u);
	store_copy(r->path, sizeof r->path, lease_path(s->lease));
}

int store_lease_start(struct store *s, const char *counter, uint64_t start, const char *station, uint64_t n,
                      struct store_lease_report *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	if (!s->shared || !s->b->ops->lease_grant) {
		err_set(e, STM32DFU_E_USAGE, "--serial-lease: the log %s is on this machine (SQLite), never away from it; a "
		        "lease is for a shared PostgreSQL log", s->url);
		err_hint(e, "drop --serial-lease, or log to the line's database (--log postgresql://...)");
		return STM32DFU_E_USAGE;
	}
	if (!s->dir[0])
		return err_set(e, STM32DFU_E_FILE_IO, "--serial-lease: no state folder to keep the lease in (set "
		               "XDG_STATE_HOME or HOME)");
	/* an emulated chips' lease beside their other records, never beside a real line's */
	char dir[sizeof s->dir + 8];
	snprintf(dir, sizeof dir, "%s%s", s->dir, s->emulated ? "/sim" : "");
	pthread_mutex_lock(&s->mu);
	int rc = lease_open(dir, s->key, counter, station, &s->lease, e);
	if (rc == 0) {
		store_copy(s->lease_counter, sizeof s->lease_counter, counter);
		store_copy(s->lease_station, sizeof s->lease_station, station);
		s->lease_start = start;
		s->lease_n = n;
		/* numbers handed out by a run that ended while the database was away (or was killed) */
		struct err pe;
		err_clear(&pe);
		uint64_t t0 = mono_ms();
		int src = lease_tell(s, &pe);
		if (src == 0)
			src = lease_fill(s, &pe);
		r->reached = src == 0 || !lease_server_down(s, src, t0);
		if (src < 0 && src != STM32DFU_E_LOG_UNREACHABLE) {
			/* the database answered with an error (a counter at its end): the lease cannot start */
			if (e)
				*e = pe;
			rc = src;
		}
		lease_report(s, r);
	}
	if (rc < 0) {
		lease_close(s->lease);
		s->lease = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* The board's number from the lease: the database's (when it answers and knows the board), else
 * the lease's. Lock held. */
static int lease_number(struct store *s, const char *uid, uint64_t *number, bool *fresh, struct err *e)
{
	struct err pe;
	err_clear(&pe);
	bool up = mono_ms() >= s->quiet_until_ms;
	int rc = 0, fill_rc = 0;
	if (up) {
		uint64_t t0 = mono_ms();
		rc = lease_tell(s, &pe);
		if (rc == 0) {
			bool found = false;
			uint64_t v = 0;
			rc = s->b->ops->serial_lookup(s->b, s->lease_counter, uid, &found, &v, &pe);
			if (rc == 0 && found) {
				*number = v; /* a board keeps its number */
				*fresh = false;
				return 0;
			}
		}
		if (lease_server_down(s, rc, t0))
			up = false;
		else if (rc < 0) {
			/* the database answered with an error: whether the board has a number is unknown */
			if (e)
				*e = pe;
			return rc;
		} else {
			/* a refill that fails is no reason to fail a board while the lease has numbers: its
			 * error is told only when the lease is spent */
			fill_rc = lease_fill(s, &pe);
			if (lease_server_down(s, fill_rc, t0))
				up = false;
		}
	}
	bool had = false;
	struct err le;
	err_clear(&le);
	rc = lease_take(s->lease, uid, number, &had, &le);
	if (rc == STM32DFU_E_RANGE) {
		if (fill_rc < 0 && fill_rc != STM32DFU_E_LOG_UNREACHABLE) {
			if (e)
				*e = pe; /* the counter's end, or the database refused the block */
			return fill_rc;
		}
		err_set(e, STM32DFU_E_LOG_UNREACHABLE, "the log database %s does not answer, and this station's serial lease "
		        "(%" PRIu64 " numbers) is spent: nothing was written", s->url, s->lease_n);
		err_hint(e, "a larger --serial-lease lasts longer; the board gets its number once the database answers");
		return STM32DFU_E_LOG_UNREACHABLE;
	}
	if (rc < 0) {
		if (e)
			*e = le;
		return rc;
	}
	*fresh = !had;
	if (up) {
		uint64_t t0 = mono_ms();
		(void)lease_server_down(s, lease_tell(s, &pe), t0); /* else told at the next board or the end */
	}
	return 0;
}

int store_lease_end(struct store *s, struct store_lease_report *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	if (!s->lease)
		return 0;
	pthread_mutex_lock(&s->mu);
	struct lease_block *b = NULL;
	size_t n = 0;
	int rc = lease_tell(s, e);
	if (rc == 0)
		rc = lease_blocks(s->lease, &b, &n, e);
	for (size_t i = 0; i < n && rc == 0; i++) {
		bool given_back = false;
		rc = s->b->ops->lease_end(s->b, s->lease_counter, b[i].id, b[i].next, b[i].last, &given_back, e);
		if (rc == 0) {
			uint64_t unused = b[i].next <= b[i].last ? b[i].last - b[i].next + 1 : 0;
			if (given_back)
				r->given_back += unused;
			else
				r->unused += unused;
			rc = lease_drop_block(s->lease, b[i].id, e);
		}
	}
	free(b);
	r->reached = rc != STM32DFU_E_LOG_UNREACHABLE;
	lease_report(s, r);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int store_serial_number(struct store *s, const char *counter, const char *uid, uint64_t start, uint64_t *number,
                        bool *fresh, struct err *e)
{
	pthread_mutex_lock(&s->mu);
	if (s->lease && strcmp(counter, s->lease_counter) == 0) {
		int rc = lease_number(s, uid, number, fresh, e);
		pthread_mutex_unlock(&s->mu);
		return rc;
	}
	int rc = s->b->ops->serial(s->b, counter, uid, start, number, fresh, e);
	pthread_mutex_unlock(&s->mu);
	if (rc < 0 && rc != STM32DFU_E_RANGE && e) /* RANGE: the counter's end, with its own hint */
		err_hint(e, "a serial number comes from the log database itself, never from a spool: nothing was "
		            "written to this board");
	return rc;
}

int store_serial_counter(struct store *s, const char *counter, bool *exists, uint64_t *next, struct err *e)
{
	pthread_mutex_lock(&s->mu);
	int rc = s->b->ops->counter_next(s->b, counter, exists, next, e);
	pthread_mutex_unlock(&s->mu);
	return rc;
}
