/*
 * The local spool of a shared (PostgreSQL) log: a SQLite database per destination, in the state
 * folder, holding the records the server could not take. Forwarding is idempotent (records carry
 * a unique record_id and the server ignores one it already has), so two processes forwarding one
 * spool, or a crash between send and delete, never duplicate or lose a record.
 */
#ifndef STORE_SPOOL_H
#define STORE_SPOOL_H

#include "store/store_int.h"

struct spool;

/* The spool for destination key (store_pg_key: "host=.. port=.. dbname=..\nuser=..") in dir,
 * opened when it exists or is first needed. Its file is named after the server-and-database part
 * and the user part separately, so that every spool of one database can be found. */
struct spool *spool_new(const char *dir, const char *key);
void spool_free(struct spool *sp);
/* Records waiting (true also after an error reading the spool: the safe answer). */
bool spool_pending(struct spool *sp);
/* Keeps one record for later. */
int spool_keep(struct spool *sp, const struct store_record *r, struct err *e);
/* Sends what waits to dest, oldest first, deleting each once sent; stops at the first failure. */
int spool_forward(struct spool *sp, struct store_backend *dest, size_t *sent, size_t *left, struct err *e);
const char *spool_path(const struct spool *sp);
/* Forwards every spool in dir for key's database (any user, this one's included), adding to
 * *sent and *left; stops at the first failure. */
int spool_forward_all(const char *dir, const char *key, struct store_backend *dest, size_t *sent, size_t *left,
                      struct err *e);

#endif
