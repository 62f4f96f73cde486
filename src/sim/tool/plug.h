/*
 * stm32dfu-sim's hot plug: emulated chips plugged in (--plug T:PROFILE) and pulled out
 * (--unplug T:SERIAL_OR_UID) at set times while the command runs, as boards arrive at and leave
 * a programming station. One thread sleeps until each event and asks the adapter (vusb.c). An event
 * may wait for a file to appear first (--after FILE): a test then orders a plug after something it
 * saw (a database stopped), instead of hoping a time is long enough.
 */
#ifndef SIMTOOL_PLUG_H
#define SIMTOOL_PLUG_H

#include <stdbool.h>

struct sim_device;
struct sim_profile;
struct vusb;

#define SIMTOOL_MAX_EVENTS 64

struct simtool_event {
	long ms;                    /* from the command's start, or from when `after` appeared */
	const char *after;          /* NULL, or a file: the event's clock starts when it exists (--after) */
	bool plug;                  /* plug device `dev`; else unplug every plugged device matching key */
	int dev;
	char key[64];               /* USB serial, or UID (24 hex digits, spaces allowed) */
};

/* What the scheduler needs of each device: its model, profile, and vusb index (-1: not plugged). */
struct simtool_plugdev {
	struct sim_device *dev;
	const struct sim_profile *profile;
	int vidx;
};

/* "2.5:f746,serial=X" -> seconds as ms and the rest; false if malformed. */
bool simtool_parse_timed(const char *arg, long *ms, const char **rest);

struct simtool_sched;
/* Starts the thread; events need not be sorted. NULL (with a message) if it cannot start. */
struct simtool_sched *simtool_sched_start(struct vusb *v, struct simtool_plugdev *devs, int ndev,
                                          const struct simtool_event *ev, int nev);
/* Stops the thread (pending events are dropped) and joins it. */
void simtool_sched_stop(struct simtool_sched *s);

#endif
