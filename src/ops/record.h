/* One log record (store/) filled from what an operation learnt: the board, the write, the outcome. */
#ifndef OPS_RECORD_H
#define OPS_RECORD_H

#include "ops/multi.h"
#include "ops/ops.h"
#include "store/store.h"

/* UID (24 hex digits, as the log keys boards), chip name and USB serial of the session's board. */
void ops_record_board(struct store_record *r, const struct ops_session *s);
void ops_record_uid(char out[25], const uint8_t uid[12]);
/* Sectors erased and skipped, and seconds per phase, of a write. */
void ops_record_write(struct store_record *r, const struct ops_write_result *w);
/* Board, write detail, outcome and total seconds of one device of a fleet or station. */
void ops_record_multi(struct store_record *r, const struct ops_multi_result *m);
/* ok, and the error's symbol and message when rc < 0. */
void ops_record_result(struct store_record *r, int rc, const struct err *e);

#endif
