/*
 * A station's serial-port slots (station --port P1 --port P2 ...): one fixture position per port,
 * each watched by a thread of its own, so a silent port (no board, BOOT0 low) never delays the
 * others. A board is present on a slot when a ROM bootloader answers there (target_probe_port: 0x7F,
 * GET, Get Version, Get ID; after the --reset-seq entry sequence while the slot is empty).
 *
 * Each arrival gets a new number (the slot's "device number", as a USB re-enumeration gets one):
 * a ROM that answers 0x7F with ACK has just started (a board placed, or reset), one that answers
 * NACK is still synchronised from the last session (the same board, left in place). A slot whose
 * probe goes unanswered (or whose port vanished) is empty: the board departed. While a job holds
 * the slot (ops_slots_hold) nothing is sent to its port. Nothing here prints.
 */
#ifndef OPS_SLOTS_H
#define OPS_SLOTS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct ops_slots;

/* A board on a slot, as the station lists it (path: the slot's name, unique in the run). */
struct ops_slot_board {
	size_t slot;
	char path[32];
	unsigned devnum;  /* the arrival's number on this slot */
};

/* Before any work: each port given once, each opens (a missing port, a busy one, no permission:
 * the error names it), and with reset_seq (--reset-seq's text, parsed first) each takes its entry
 * sequence (a port without DTR/RTS would never find a board). */
int ops_slots_check(const char *const *ports, size_t n, unsigned baud, const char *reset_seq, struct err *e);
/* Starts one watcher per port (ops_slots_check them first). reset_seq: NULL, or --reset-seq's text. */
int ops_slots_start(const char *const *ports, size_t n, unsigned baud, const char *reset_seq, struct ops_slots **out,
                    struct err *e);
/* The boards present now, in slot order (at most n of them). */
size_t ops_slots_list(struct ops_slots *s, struct ops_slot_board *out, size_t n);
/* The slot's port and short name (the path a job reports). */
const char *ops_slots_port(const struct ops_slots *s, size_t slot);
/* A job takes the slot's port (held: waits until the watcher's probe in flight is over) or gives
 * it back (the watcher then checks whether the board stayed). */
void ops_slots_hold(struct ops_slots *s, size_t slot, bool held);
/* Waits until a slot changed since the last wait (true) or max_ms passed (false). */
bool ops_slots_wait(struct ops_slots *s, unsigned max_ms);
/* Stops and joins the watchers (each ends within one probe), frees s. */
void ops_slots_stop(struct ops_slots *s);

#endif
