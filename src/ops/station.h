/*
 * A programming station: waits for boards and programs each new one as soon as it appears, in
 * its own thread, keyed by its UID (ops_multi_run_one: the fleet's per-board code). A board that
 * stays attached is not programmed again until it is unplugged and plugged back in (a device is
 * new when its path and device number are new), and a board programmed in this run is not
 * programmed again when re-plugged (OPS_CLAIM_ALREADY). Two attached boards with one UID: the later
 * is quarantined (OPS_CLAIM_CLONE). With hotplug the bus is listed only when it changes; listing
 * never opens a device (the board's thread does), and a board the bus reports gone fails at once
 * rather than being waited for.
 *
 * With ports (station --port P1 --port P2 ...), each port is a slot of the fixture and no USB is
 * watched: a slot's watcher (ops/slots.h) finds a board when its ROM bootloader answers there, a
 * board left on its port stays the same "device" (its ROM still synchronised), and each board's
 * job opens its port (ops_open: --baud, --reset-seq) with the same claim by UID as on USB.
 * Nothing here prints.
 */
#ifndef OPS_STATION_H
#define OPS_STATION_H

#include <signal.h>

#include "ops/multi.h"

/* A board finished (r->rc says how; r->claim: cloned, busy or already programmed); called on the
 * station's thread, one board at a time. */
typedef void (*ops_station_done_fn)(void *ctx, size_t slot, const struct ops_multi_result *r);
/* A board was taken into slot (its thread starts); same thread as done. */
typedef void (*ops_station_start_fn)(void *ctx, size_t slot, const struct ops_multi_result *r);

struct ops_station_opts {
	struct ops_multi_opts multi;        /* VID:PID, write options, serial numbers, progress (index = slot);
	                                       multi.open.cancel stops boards in progress (second Ctrl-C) */
	const char *const *ports;           /* serial ports, one board each (multi.open.baud, .reset_seq apply
	                                       to every port; multi.open.port is not used); NULL: USB */
	size_t n_ports;
	unsigned count;                     /* stop after this many boards (0: until stopped) */
	const volatile sig_atomic_t *stop;  /* set: take no new board, finish those in progress */
	/* told once, on the station's thread, when stop is first seen: running boards still finish */
	void (*stopping)(void *ctx, unsigned running);
	ops_station_start_fn start;
	ops_station_done_fn done;
	void *ctx;
};

struct ops_station_summary {
	unsigned done;      /* boards finished (programmed or failed; a quarantined clone is a failure) */
	unsigned failed;
	unsigned clones;    /* boards quarantined for a cloned UID (counted in done and failed) */
	unsigned busy;      /* times a board waited for the job holding its UID (not counted) */
	unsigned already;   /* re-plugged boards this run had programmed (not counted) */
	uint64_t us;        /* from the start to the last board's end */
	bool hotplug;       /* libusb hotplug drove the waits (else the 250 ms scan) */
};

int ops_station_run(const struct ops_station_opts *o, const struct img *img, struct ops_station_summary *sum,
                    struct err *e);

#endif
