/*
 * The local half of a serial-number lease (--serial-lease N): blocks of numbers the shared
 * database granted this station, and which of them were given to which board, kept in a SQLite
 * file in the state folder so that they outlive an outage, a crash or a kill. A number is marked
 * used (and fsync'd) before it is handed out, so it is never handed out twice; a block reaches this
 * file only after the database committed it, so no other station can hold it.
 */
#ifndef STORE_LEASE_H
#define STORE_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct lease;

struct lease_block {
	char id[33];
	uint64_t first, last, next; /* numbers first..last; next: the first not handed out */
};

struct lease_use {
	uint64_t number;
	char uid[25];
};

/* The lease file of (database key, counter, station) in dir, created when missing. */
int lease_open(const char *dir, const char *key, const char *counter, const char *station, struct lease **out,
               struct err *e);
void lease_close(struct lease *l);
const char *lease_path(const struct lease *l);
/* Numbers granted and not yet handed out. */
uint64_t lease_left(struct lease *l);
/* Keeps a block the database granted. */
int lease_add_block(struct lease *l, const char *id, uint64_t first, uint64_t last, struct err *e);
/*
 * The board's number: the one this lease gave it before (*had), else the next free one, marked
 * used (not yet told to the database) before this returns. STM32DFU_E_RANGE when none is left.
 */
int lease_take(struct lease *l, const char *uid, uint64_t *number, bool *had, struct err *e);
/* Numbers handed out and not yet told to the database. *out: malloc'd (free()). */
int lease_pending(struct lease *l, struct lease_use **out, size_t *n, struct err *e);
int lease_mark_told(struct lease *l, uint64_t number, struct err *e);
/* The blocks held. *out: malloc'd (free()). */
int lease_blocks(struct lease *l, struct lease_block **out, size_t *n, struct err *e);
/* Forgets a block whose end the database recorded (with its uses, all told). */
int lease_drop_block(struct lease *l, const char *id, struct err *e);

#endif
