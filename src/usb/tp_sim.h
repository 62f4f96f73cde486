/*
 * The in-process emulator behind the transport interface. The device runs on the given clock:
 * when the host sleeps on tp->clock, device time passes (with a fake clock, instantly).
 */
#ifndef USB_TP_SIM_H
#define USB_TP_SIM_H

#include "usb/transport.h"

struct sim_device;

struct tp_sim_opts {
	const char *profile_dir; /* NULL: $STM32DFU_PROFILE_DIR, then the install dir */
	const struct clock *clock; /* NULL: the real clock */
	/*
	 * Keep the chip's memories in a state file across sessions (--sim mode): loaded on open,
	 * saved on close. The file is the spec's `state=FILE` key, or sim_state_default_path.
	 * A spec with a state= key persists even when this is false.
	 */
	bool persist;
};

/* Opens a simulated device from a profile spec ("f746,timing=0[,state=FILE]"). */
int tp_sim_open(const char *spec, const struct tp_sim_opts *opts, struct tp **out, struct err *e);

/* The device under a sim transport (or under a trace wrapping one), for tests: sim_mem_read,
 * sim_get_stats. NULL when tp is not a sim transport. */
struct sim_device *tp_sim_device(struct tp *tp);

/* The state file the emulated chip is kept in ("" when it is not kept), through traces too;
 * NULL when tp is not a sim transport. */
const char *tp_sim_state_path(struct tp *tp);

/* The emulator's profile names (sim_profile_names), for listings and completion. */
void tp_sim_profile_names(const char *profile_dir, void (*fn)(const char *name, void *ctx), void *ctx);

#endif
