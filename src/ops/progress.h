/* Progress of long operations: data from ops/, drawn by cli/ (design.md: only cli/ prints). */
#ifndef OPS_PROGRESS_H
#define OPS_PROGRESS_H

#include <stdint.h>

enum ops_phase {
	OPS_PHASE_READ = 0,    /* reading back what is on the chip (plan, read command) */
	OPS_PHASE_ERASE = 1,
	OPS_PHASE_PROGRAM = 2,
	OPS_PHASE_VERIFY = 3,
	OPS_PHASE_LINK_TEST = 4,
	OPS_PHASE_CONFIRM = 5, /* the second read that confirms a read (not a write's verify) */
};
#define OPS_PHASE_COUNT 6

const char *ops_phase_name(enum ops_phase p);

struct ops_progress {
	enum ops_phase phase;
	uint64_t done;   /* units done in this phase (bytes, or sectors for erase) */
	uint64_t total;  /* units in this phase */
	uint64_t elapsed_us;
	/* "B", "sectors", or "ms": a step the device does in one go (a mass erase); reported at its
	 * start with done 0 and total its typical duration (0: unknown), and at its end with
	 * done == total == the time it took. A display counts the time in between itself. */
	const char *unit;
};

typedef void (*ops_progress_fn)(void *ctx, const struct ops_progress *p);

#endif
