/*
 * Fleet programming: one write session per device, each on its own thread. Devices are opened by
 * USB path and keyed by the chip's UID (read from the chip), so boards whose USB serials collide
 * are still told apart. Nothing here prints: progress and per-device results go back to the caller.
 */
#ifndef OPS_MULTI_H
#define OPS_MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"
#include "ops/serialno.h"

#define OPS_MULTI_MAX 64

/* The station's verdict on a board once its UID is known (ops_multi_run_one's claim). */
enum ops_claim {
	OPS_CLAIM_GO = 0,   /* write it */
	OPS_CLAIM_BUSY,     /* its UID is held by a job whose board left: taken again once that job ends */
	OPS_CLAIM_CLONE,    /* another attached board has its UID: quarantined (nothing written, no number) */
	OPS_CLAIM_ALREADY,  /* programmed in this run already (re-plugged): not written, not counted */
};

/* One device's outcome. */
struct ops_multi_result {
	char path[32];                /* USB path ("1-1.4"), "sim", or over USART the port's name
	                                 ("port-N", the Nth port, when the name is longer) */
	char serial[TP_STRING_MAX];   /* USB serial as reported */
	bool has_uid;
	uint8_t uid[12];
	bool selected;                /* false: opened, but no -S/-p selector matched it (not written) */
	int rc;                       /* 0 or STM32DFU_E_* */
	struct err err;               /* the failure's message and hint */
	uint64_t bytes;               /* bytes programmed */
	uint64_t image_bytes;
	uint64_t us;                  /* wall time of the whole session, open to close */
	unsigned retries;
	bool verified;
	char log_path[512];           /* the per-device log, if a log dir was given ("" if it could not be made) */
	char log_error[600];          /* why the per-device log could not be written, or "" */
	bool uid_shared;              /* another device of the run has the same UID (its log name adds the path) */
	char chip[64];                /* the family's name, or "" */
	char bootloader_version[8];   /* the ROM's ("3.1"), or "" */
	struct ops_write_result wr;   /* the write's detail (sectors, seconds per phase) */
	bool has_serial_number;       /* a serial number was taken for this board (--serial-number) */
	uint64_t serial_number;
	enum ops_claim claim;         /* the station's verdict (GO elsewhere) */
	char other_path[32];          /* BUSY, CLONE: where the other board with this UID is or was */
	char port[256];               /* reached over USART through this serial port ("": USB) */
};

/* Progress of device `index` (r: its path, serial, UID); called from that device's thread. */
typedef void (*ops_multi_progress_fn)(void *ctx, size_t index, const struct ops_multi_result *r,
                                      const struct ops_progress *p);

struct ops_multi_opts {
	struct ops_open_opts open;    /* VID:PID, sim spec, retries...; match.path and selector are set per device */
	const char *const *selectors; /* -S values (USB serial or UID); a device is written if any selector or path matches */
	size_t n_selectors;
	const char *const *paths;     /* -p values */
	size_t n_paths;
	const char *const *ports;     /* --port values: one board per serial port, opened over its USART
	                                 bootloader (open.baud, open.reset_seq); no USB is looked at */
	size_t n_ports;
	const char *log_dir;          /* NULL: no per-device logs */
	struct ops_write_opts write;
	ops_multi_progress_fn progress;
	void *progress_ctx;
	const struct ops_serialno *serialno; /* NULL: none; else each board's number is merged into its image */
};
void ops_multi_opts_init(struct ops_multi_opts *o);

/*
 * Finds the candidate devices (every DFU device of the VID:PID; the emulator when open.sim_spec;
 * the serial ports when ports),
 * then writes img to each selected one in parallel. *out: heap array of *n results (free()).
 * Returns 0 when the fleet ran (look at each rc), or an error when none could be started
 * (no device at all, a selector that matched nothing: err names it).
 */
int ops_multi_write(const struct ops_multi_opts *o, const struct img *img, struct ops_multi_result **out, size_t *n,
                    struct err *e);

/*
 * One board, start to end, on the calling thread (the station runs one per board as it arrives):
 * opens the device at r->path, identifies it, asks claim (may be NULL) whether to go on; on any
 * verdict but GO nothing is written (r->claim says why; BUSY and CLONE set r->rc and r->err), then
 * writes and closes.
 */
void ops_multi_run_one(const struct ops_multi_opts *o, const struct img *img, size_t index, struct ops_multi_result *r,
                       enum ops_claim (*claim)(void *ctx, const struct ops_multi_result *r), void *claim_ctx);

#endif
