/*
 * The device side: a model of ST's ROM DFU bootloader (DfuSe), answering USB control requests as
 * the chip does. It includes only the shared wire constants (dfu/proto.h) and neutral helpers
 * (core/), never host headers, so it models the chip and not our tool.
 *
 * Used three ways: in-process behind the transport (usb/tp_sim.c), as a virtual USB device
 * (sim/vusb.c, stm32dfu-sim), and with fault injection for recovery tests.
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "dfu/proto.h"

struct sim_profile;
struct sim_device;

/* What became of one control transfer. */
enum sim_result {
	SIM_OK = 0,            /* answered; for IN requests *actual bytes were filled in */
	SIM_STALL = -1,        /* the device STALLed the request (EP0 protocol stall) */
	SIM_NO_ANSWER = -2,    /* the device did not answer (the host times out) */
	SIM_DISCONNECTED = -3, /* the device is off the bus (reset, left DFU, unplugged) */
	SIM_IO_ERROR = -4,     /* a packet was garbled (CRC, bit stuffing): the host controller gives up
	                        * after its retries at once, as Linux's -EPROTO (-71); no timeout */
};

/* Where the device is on the bus. */
enum sim_link {
	SIM_LINK_UP = 0,        /* enumerated, answering */
	SIM_LINK_RESETTING = 1, /* reset in progress; it re-enumerates (in the bootloader) at reconnect_at_us */
	SIM_LINK_GONE = 2,      /* left DFU for the application, or unplugged: it does not come back */
};

/*
 * Profiles. spec is "NAME_OR_FILE[,key=value...]": a shipped profile name ("f746", "f407",
 * "f0-32k", looked up in profile_dir), or a path to a profile file; then inline keys overriding
 * the file's. profile_dir may be NULL (then $STM32DFU_PROFILE_DIR, then the install data dir).
 * On failure returns NULL and writes a sentence naming the problem (file, line, key) to errbuf.
 * Name resolution: a spec part containing '/' or ending in ".profile" is a path; otherwise
 * "<dir>/<name>.profile" in profile_dir, $STM32DFU_PROFILE_DIR, then the install data dir
 * (STM32DFU_DATADIR "/profiles" when defined at build time). Keys: docs/profiles.md.
 */
/* Calls fn with the name of every profile file found where sim_profile_load looks (a name found in
 * two places comes twice). */
void sim_profile_names(const char *profile_dir, void (*fn)(const char *name, void *ctx), void *ctx);
struct sim_profile *sim_profile_load(const char *spec, const char *profile_dir, char *errbuf,
                                     size_t errlen);
void sim_profile_free(struct sim_profile *p);
/* A profile value by key, as text (NULL if unset). */
const char *sim_profile_get(const struct sim_profile *p, const char *key);
/* The profile's name (file stem) and serial, for state-file naming and listings. */
const char *sim_profile_name(const struct sim_profile *p);

/*
 * A device from a profile. Device time comes from clock: operations (erase, program) take time,
 * and a GETSTATUS that arrives before the operation is done sees dfuDNBUSY again. The profile's
 * `timing` key scales all device times (1 real, 0 instant). The clock must outlive the device.
 */
struct sim_device *sim_device_new(const struct sim_profile *p, const struct clock *clock, char *errbuf,
                                  size_t errlen);
void sim_device_free(struct sim_device *d);

/*
 * One control transfer. data has setup->wLength bytes: the host's data for OUT requests, room for
 * the reply for IN requests (*actual is set to the reply length). Standard requests
 * (GET_DESCRIPTOR of device, configuration and string descriptors, SET_INTERFACE,
 * SET_CONFIGURATION, GET_STATUS...) and the DFU class requests are both handled here.
 */
enum sim_result sim_control(struct sim_device *d, const struct usb_setup *setup, uint8_t *data,
                            uint16_t *actual);

/* The device descriptor (18 bytes) followed by the full configuration descriptor, as Linux
 * sysfs `descriptors` holds them. Returns the length (0 if cap is too small). */
size_t sim_descriptors(const struct sim_device *d, uint8_t *buf, size_t cap);

/* Link state, and when a resetting device comes back (device clock, microseconds). */
enum sim_link sim_link_state(const struct sim_device *d);
uint64_t sim_reconnect_at_us(const struct sim_device *d);
/* Completes a re-enumeration: the ROM starts again (state dfuIDLE, or the profile's initial
 * state), memories kept as the chip keeps them. Returns false if the device is GONE. */
bool sim_reconnect(struct sim_device *d);
/* Pulls the device off the bus (tests): every later transfer is SIM_DISCONNECTED. */
void sim_unplug(struct sim_device *d);

/* The chip's memories as the silicon holds them, for tests and the state file: no protection
 * checks, no timing. Return false for an address range the chip does not have. */
bool sim_mem_read(const struct sim_device *d, uint32_t addr, uint8_t *buf, size_t len);
bool sim_mem_write(struct sim_device *d, uint32_t addr, const uint8_t *buf, size_t len);

/* Persistence for --sim mode: flash, option bytes, OTP (and so RDP/WRP) in one file. A missing
 * file on load is not an error (a factory-fresh chip). */
int sim_state_load(struct sim_device *d, const char *path, char *errbuf, size_t errlen);
int sim_state_save(const struct sim_device *d, const char *path, char *errbuf, size_t errlen);
/* The default state-file path for a profile: $XDG_STATE_HOME/stm32dfu/sim-<name>-<serial>.state
 * (or ~/.local/state/...; file_state_path). Writes into buf; returns false if there is no state
 * folder or it does not fit. The folder is not created here: file_state_dir does it, checked. */
bool sim_state_default_path(const struct sim_profile *p, char *buf, size_t cap);

/* Counters, for transcripts, benchmarks and the lower bound of the timing model. */
struct sim_stats {
	uint64_t control_transfers;
	uint64_t bytes_in;       /* device to host data bytes */
	uint64_t bytes_out;      /* host to device data bytes */
	uint64_t erases;         /* sectors or pages erased */
	uint64_t mass_erases;
	uint64_t bytes_programmed;
	uint64_t busy_us;        /* device busy time (erase, program), at the profile's time scale */
	uint64_t bus_us;         /* full-speed bus time of all transfers, at the profile's time scale */
	uint64_t resets;
	uint64_t faults_injected;
	uint64_t clrstatus_not_error; /* CLRSTATUS received in a state other than dfuERROR */
};
void sim_get_stats(const struct sim_device *d, struct sim_stats *out);

/* When the answer to the last sim_control() is complete on the bus (device clock, microseconds):
 * the request's bus time, plus any wait for the device (a GETSTATUS held while the flash operation
 * runs, busy_reply = hold). A transport delivers the answer then, or times out first. */
uint64_t sim_answer_at_us(const struct sim_device *d);

/* Full-speed bus time of a control transfer with len data bytes, in microseconds (unscaled). */
uint64_t sim_bus_time_us(uint16_t len);

/* --- Additions (sim module) --- */

/* A power cycle (tests, a hung ROM): the chip restarts in the bootloader, memories kept as the
 * silicon keeps them, option bytes reloaded. Brings a GONE or hung device back. */
void sim_power_cycle(struct sim_device *d);

/* What the marginal-clock model computed (profile keys hse, hsi_error, usb_clock_error), for
 * `doctor`. detected_hse_hz is 0 when no crystal was given. */
struct sim_clock_report {
	double hse_hz;          /* the board's crystal */
	double hsi_error_pct;   /* HSI error used for the detection */
	double detected_hse_hz; /* what the ROM believes (protocol.md 4.2) */
	double usb_error_ppm;   /* resulting USB clock error (or usb_clock_error as given) */
};
void sim_clock_report(const struct sim_device *d, struct sim_clock_report *out);

#endif
