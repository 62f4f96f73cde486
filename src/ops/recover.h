/*
 * Recovery on a bad link: bounded retries, re-synchronisation of the DFU state after a failure,
 * finding the chip again after a disconnect, and smaller transfers when long ones keep failing.
 *
 * Rules (the issue "keep working on a bad link"):
 *  - a transfer is tried at most 1 + opts.retries times in a row without progress, and the whole
 *    operation spends at most rec_budget() retries, so a dead link ends in bounded time;
 *  - after a failure the state is re-read and brought back to dfuIDLE (dfu_session_start: CLRSTATUS,
 *    ABORT), the alt setting is selected again, and the next request starts with a Set Address;
 *  - nothing here decides that data is right: callers read back and compare.
 * Every retry is logged at LOG_INFO (visible with -v) and counted in s->counters.
 */
#ifndef OPS_RECOVER_H
#define OPS_RECOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/plan.h"
#include "ops/session.h"

/* A failure worth another try: the link or a confused state, not protection, range or memory. */
bool rec_retryable(int rc);

/* An answer, not a link fault: errTARGET (the chip does not serve the address, AN3156 §5.1) or an
 * address outside the map. Asking again gets the same, so it is neither retried nor counted. */
bool rec_permanent(const struct ops_session *s, int rc);
/* rec_retryable and not rec_permanent. */
bool rec_worth_retry(const struct ops_session *s, int rc);
/* rc is the chip staying in dfuDNBUSY past every poll (a wedge): the chip's doing, not the link's. */
bool rec_busy_wedge(const struct ops_session *s, int rc);

/* The smaller transfer size after long transfers keep failing (reads and writes alike): half of
 * chunk on whole 64-byte packets, counted in s->counters.transfer_splits and logged with what;
 * 0 when chunk is already the smallest. */
uint32_t rec_shrink(struct ops_session *s, uint32_t chunk, const char *what);

/* The most retries one operation may spend in total. */
unsigned rec_budget(const struct ops_session *s);

/*
 * Records one retry after rc (logging what failed); false, with s->err saying why it gives up,
 * when the session's budget is spent. s->err must hold the failure on entry.
 */
bool rec_spend(struct ops_session *s, int rc, const char *what);

/*
 * Brings the device back to dfuIDLE on alt after a failure with code cause: reconnects (by UID)
 * after a disconnect, CLRSTATUS twice for a chip stuck in dfuDNBUSY (the H7 wedge, protocol.md
 * 2.7). Tries up to 1 + retries times. 0 or the error (in s->err).
 */
int rec_resync(struct ops_session *s, uint8_t alt, int cause);

/*
 * After a data DNLOAD or UPLOAD whose own transfer failed on the link (the retry already spent):
 * the chip's state, asked with GETSTATE alone. GETSTATE changes nothing, where a GETSTATUS in
 * dfuDNLOAD-SYNC would make the ROM program the block it may have received (protocol.md 2.7a:
 * the ROM programs at the GETSTATUS after the block). The caller goes on from a state that shows
 * what the chip did (a block never programmed, an upload to ask again) instead of the long way
 * (rec_resync and a read-back). Counted as a re-sync. 0 and *state (enum target_state), or the
 * error: UNSUPPORTED, nothing sent, where the bootloader has no state to ask (AN3155).
 */
int rec_peek_state(struct ops_session *s, int *state);

/* Set Address and sector erase, retried (both are idempotent). An erase of the sector of size
 * bytes at addr that is still dfuDNBUSY when its ceiling has passed (the H7 rev V wedge) is
 * cleared with CLRSTATUS and blank-checked by a read, not sent again (size 0: no check). */
int rec_set_address(struct ops_session *s, uint8_t alt, uint32_t addr);
int rec_erase(struct ops_session *s, uint8_t alt, uint32_t addr, uint32_t size);
/* How many of secs[0..n) one erase command takes (at least 1): the target's erase_batch, and no
 * more than REC_ERASE_BATCH_BYTES of flash, so a stop request waits for one command's erase at
 * most (L0: 256 pages of 128 B, 0.8 s) and the state of every sector is known per command. */
#define REC_ERASE_BATCH_BYTES (32u * 1024u)
size_t rec_erase_batch(const struct ops_session *s, const struct plan_sector *secs, size_t n);
/* Erases secs[0..n) as one command (n from rec_erase_batch), retried as rec_erase: a repeated
 * erase leaves the same flash. n == 1 is rec_erase. On failure each of them may or may not be
 * erased. */
int rec_erase_list(struct ops_session *s, uint8_t alt, const struct plan_sector *secs, size_t n);

/*
 * The robust read behind ops_read_mem: 64 KiB slices of one Set Address each (the transcript of a
 * clean link), resumed at the failing block after a failure; when a block keeps failing the
 * transfer size is halved (each smaller chunk then needs its own Set Address: the ROM counts
 * blocks in ITS wTransferSize). Reports progress as phase when phase >= 0.
 */
int rec_read(struct ops_session *s, uint8_t alt, uint32_t addr, uint8_t *buf, size_t len, int phase);

#endif
