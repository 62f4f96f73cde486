/*
 * A session with one device: the transport (libusb or the emulator, optionally traced), the DFU
 * session over it, what we learnt about the chip, and the error detail. One session per device;
 * sessions are independent, so N devices can be driven from N threads.
 */
#ifndef OPS_SESSION_H
#define OPS_SESSION_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "chip/chip.h"
#include "chip/layout.h"
#include "chip/serial.h"
#include "core/err.h"
#include "core/file.h"
#include "ops/progress.h"
#include "ops/xfersize.h"
#include "target/dfuse_link.h"
#include "target/target.h"

#define OPS_DEFAULT_SIM_PROFILE "f746"

/* How the host reaches the chip's bootloader: USB DFU (DfuSe, AN3156) or its USART (AN3155). */
enum ops_link { OPS_LINK_USB = 0, OPS_LINK_UART };

struct tp;
struct ser;
struct an3155;

/* Told while the device's first answer is waited for (ops_open_opts.first_answer_ms): how long it
 * has been silent so far and the ceiling, in ms; from the thread doing the transfer. */
typedef void (*ops_held_fn)(void *ctx, unsigned waited_ms, unsigned ceiling_ms);
struct ser_seq_pair;

struct ops_open_opts {
	struct target_usb_match match; /* VID:PID and path; the serial goes through selector */
	const char *selector;       /* -S: a USB serial or a 24-hex-digit UID; NULL: any */
	const char *sim_spec;       /* non-NULL: the emulator with this profile spec ("" = f746); the key
	                             * link=uart serves it through its USART bootloader (AN3155) */
	const char *port;           /* --port: the USART bootloader on this serial port (a path, or a
	                             * name as ser_list gives it); NULL: USB */
	unsigned baud;              /* --baud (0: SER_BAUD_DEFAULT, 115200) */
	const char *reset_seq;      /* --reset-seq: NULL none, "" the default wiring, else ENTRY[:EXIT]
	                             * (serial/ser_seq.h): the entry sequence is driven on DTR/RTS
	                             * before the first 0x7F; ops_reset_exit drives the exit one */
	const char *profile_dir;    /* NULL: default lookup */
	const char *trace_path;     /* --trace FILE */
	const struct clock *clock;  /* NULL: real time */
	bool sim_persist;           /* keep the emulated chip in its state file (the tool's --sim) */
	unsigned retries;           /* per-transfer retries for recovery (default 3) */
	bool confirm_reads;         /* --confirm-reads: every read is confirmed by a second one */
	bool poll_spec;             /* --poll spec: wait every bwPollTimeout (default: adaptive) */
	unsigned transfer_size;     /* -t: bytes per data UPLOAD/DNLOAD (0: the device's wTransferSize);
	                             * ops_open refuses one the device cannot take */
	const char *rescue_dir;     /* where recovery files go (NULL: rescue.h's default; "" none) */
	/* set (by a signal handler) to stop at the next transfer boundary; NULL: never */
	const volatile sig_atomic_t *cancel;
	/* set (by the station, when the bus reports the board gone) so that recovery does not wait
	 * for a re-enumeration that cannot come; NULL: never */
	const volatile sig_atomic_t *departed;
	/* How long the device's first answer may take: a chip still doing flash work an earlier host
	 * left running (a mass erase; that host killed or asleep) answers nothing until the work
	 * ends. Default: the mass-erase ceiling (dfu_limits_default). on_held is told while waiting,
	 * so that the caller can say why nothing happens; NULL: nobody is told. */
	unsigned first_answer_ms;
	ops_held_fn on_held;
	void *held_ctx;
	/* The transports' seam for tests and fuzzing (tests/fuzz/host): when set, every open takes its
	 * raw transport from open_tp(open_tp_ctx, ...) instead of libusb or the emulator, and list
	 * shows that one device; the session owns (and closes) what it returns. NULL: the usual doors. */
	int (*open_tp)(void *ctx, struct tp **out, struct err *e);
	void *open_tp_ctx;
};
void ops_open_opts_init(struct ops_open_opts *o);

/* What we know about the chip, gathered without touching DBGMCU (it hangs the F7 ROM). */
struct ops_identity {
	struct chip_identity chip;
	bool has_uid;
	uint8_t uid[12];
	bool has_flash_size;
	uint16_t flash_size_kb;
	bool has_bootloader_id;
	uint8_t bootloader_id;
	struct chip_serial_result serial;
	bool has_ob;
	uint8_t ob[512];
	size_t ob_len;
	size_t ob2_len;             /* the OB alt's second zone, read after ob[0..ob_len) for the
	                             * protection check when the family's table decodes it (G4 bank 2) */
	bool ob2_tried;
	uint32_t ob_addr;
	int ob_alt;                 /* alt setting serving the option bytes, -1 if none */
	int rdp_level;              /* 0, 1, 2, or -1 unknown */
	bool read_protected;        /* reads answered errVENDOR */
	bool rdp_from_note;         /* rdp_level 2 comes from what this tool wrote (rdpnote.h), not a read */
};

struct ops_counters {
	unsigned retries;           /* transfers or blocks repeated after a failure */
	unsigned resyncs;           /* state re-read and re-synchronised */
	unsigned reconnects;        /* device found again after a disconnect */
	unsigned rewrites;          /* sectors erased and rewritten after a failed block */
	unsigned transfer_splits;   /* times the transfer size was halved */
	unsigned wedges_cleared;    /* erases stuck in dfuDNBUSY past their ceiling, cleared (H7 rev V) */
	unsigned confirm_reads;     /* second reads made to confirm a read (ops_reads_confirmed) */
	unsigned confirm_checksums; /* reads confirmed by the ROM's Get Checksum instead (USART) */
	unsigned compare_checksums; /* sectors compared or verified by Get Checksum, unread (ops/compare.c) */
	uint64_t compare_read_bytes; /* bytes read comparing a sector up to its first difference */
	/* the retries by cause (recover.c): only the first is the USB link's fault */
	unsigned link_faults;       /* CRC/PID errors, timeouts, STALLs, lost replies */
	unsigned departures;        /* the device left the bus (unplugged, reset, a station board pulled) */
	unsigned chip_errors;       /* the chip answered with a DFU error status (errERASE, errPROG...) */
	unsigned busy_stuck;        /* the chip answered, but stayed in dfuDNBUSY */
	unsigned warned;            /* the causes already warned about (bit per enum rec_cause) */
};

struct ops_session {
	enum ops_link link;
	struct tp *tp;              /* USB: the transport in use (a trace wrapping the real one); NULL over USART */
	struct dfu_dev *dfu;         /* USB: the DFU session; NULL over USART */
	/* The memories (chip/layout.h), whichever link: USB the alt strings (the DFU session's,
	 * rebuilt in place at a reconnect), USART map_own, built from the target's regions */
	struct layout_map *map;
	struct layout_map *map_own;
	struct target *t;           /* the bootloader as memory operations (target.h), either link */
	struct ser *ser;            /* USART: the port (a trace wrapping it) */
	struct ser *ser_raw;        /* the port itself (owned by ser) */
	struct an3155 *bl;          /* USART: the AN3155 protocol state */
	struct ser_seq_pair *seq;   /* USART with --reset-seq: the fixture's entry and exit sequences */
	struct file_out trace_out;  /* USART --trace: complete or absent (renamed at close) */
	bool trace_open;
	bool uart_sim;              /* USART: the in-process emulator (--sim=...,link=uart) */
	char uart_state[1024];      /* its state file (state=FILE, or --sim's default): "" not kept */
	struct clock_fake uart_sim_clock; /* its time when the caller gave no clock: the wire and the
	                             * flash take their modelled time at once (times reported are the
	                             * model's, not the host's) */
	struct target_link info;    /* what ops_info gives: the target's link record, taken when the target
	                             * is made and after a reconnect (over --sim=...,link=uart path is
	                             * "sim-uart") */
	struct err err;
	struct ops_open_opts opts;
	struct target_dfuse_found initial; /* USB: the state the DFU session found the device in */
	ops_progress_fn progress;
	void *progress_ctx;
	uint64_t t0_us;
	/* a read that is one part of a longer phase (a verify of several spans, a compare sector by
	 * sector) reports its bytes from base, of total (total 0: of its own length) */
	uint64_t progress_base, progress_total;
	int progress_phase;         /* the phase last reported, so throughput counts from its start */
	uint64_t phase_t0_us;
	uint64_t last_report_us;    /* a new phase starts where the last report left off */
	bool have_identity;
	struct ops_identity id;
	struct ops_counters counters;
	/* the transfer sizes chosen from the loss measured in this session, reads and writes apart
	 * (ops/xfersize.h; set up at the first transfer, cap 0) */
	struct xfer_adapt xa_read, xa_write;
	uint16_t xfer_size;         /* data transfers never exceed this (-t; 0: wTransferSize) */
	bool link_marginal;         /* doctor judged this board's link marginal (ops/linknote.h) */
	atomic_int cancel_req;      /* ops_cancel: stop at the next transfer boundary (lock-free, so a
	                             * signal handler or another thread may set it) */
	bool blank_check;           /* erase --blank-check: the read-back covers every erased byte */
	bool end_in_upload_idle;    /* close without the ABORT a last read put off (dfu_abort_later): the
	                             * next session's start aborts, as dfu-util leaves it after a read */
	char rescue_dir[1024];      /* recovery files' folder; "" for an emulated chip that is not kept,
	                             * or when no folder could be found (rescue_why says why) */
	char rescue_why[256];       /* why there is no folder: a write that must erase refuses (exit 73) */
	int rescue_hold;            /* the running write's recovery file, held (rescue_hold_take) */
	unsigned first_answer_held_ms; /* how long the device's first answer took, when it was late
	                                * (it was finishing earlier flash work); 0: on time */
	unsigned silent_in_row;     /* retries for a timeout since the session last made progress (a
	                             * block moved, a command done): a device that answers nothing is
	                             * hung, and each try costs a whole timeout (recover.c) */
	unsigned busy_in_row;       /* the same since progress, for a chip that stayed in dfuDNBUSY past
	                             * every poll: one that recovers each time (H7 rev V) goes on */
	bool reconnecting;          /* ops_reconnect is identifying the chip that came back: a read
	                             * that loses it then fails instead of reconnecting again inside */
};

/* The link's clock and identity, whichever the link (target/'s struct target_link; over USART:
 * path is the port, serial "", VID:PID 0). */
const struct clock *ops_clock(const struct ops_session *s);
const struct target_link *ops_info(const struct ops_session *s);
/* Takes the link record again from the target (at open, and after a reconnect: a device that
 * re-enumerated may have another address). */
void ops_info_refresh(struct ops_session *s);
/* "usb" or "uart", as records and JSON name the link. */
const char *ops_link_name(const struct ops_session *s);
/* The serial port a USART session runs over, as the log, JSON and text name it: the port's name, or
 * "sim-uart" for the in-process emulator; "" on USB. */
const char *ops_port_name(const struct ops_session *s);
/* Whether the DfuSe-only machinery (GETSTATUS, alt selection, --poll, Device Feature) applies. */
static inline bool ops_dfuse(const struct ops_session *s)
{
	return s->link == OPS_LINK_USB;
}

/* Whether the session was asked to stop (opts.cancel, or ops_cancel); sets s->err to STM32DFU_E_CANCELED. */
bool ops_canceled(struct ops_session *s);
/* Asks the running operation to stop at the next transfer boundary; the request stays until
 * ops_cancel_reset. One lock-free atomic store: safe from a signal handler and from any thread. */
void ops_cancel(struct ops_session *s);
void ops_cancel_reset(struct ops_session *s);

/* Finds and opens one device (or the emulator), starts the DFU session (clears dfuERROR, aborts
 * idle transfers). With a UID selector, devices are opened one by one and matched by UID. */
int ops_open(const struct ops_open_opts *o, struct ops_session **out, struct err *e);
void ops_close(struct ops_session *s);
void ops_set_progress(struct ops_session *s, ops_progress_fn fn, void *ctx);

/* --reset-seq's exit sequence on the session's port (the default: BOOT0 low, an NRST pulse): the
 * chip restarts from a real reset with BOOT0 released, so its application runs, as stm32flash's -R
 * does with -i. USAGE without --reset-seq or when it has no exit part. Nothing is sent on the line
 * afterwards (a 0x7F would reach the application): what shows it worked is the lines driven; the
 * session's bootloader is gone. */
int ops_reset_exit(struct ops_session *s);

/* Re-finds the device after it reset (option-byte write, unprotect): by UID when known. */
int ops_reconnect(struct ops_session *s, unsigned timeout_ms);

/* The flash memory of the map (alt 0 on ST ROMs: the one named "Internal Flash"), or NULL. */
const struct layout_mem *ops_flash_alt(const struct ops_session *s);

/*
 * Whether a read must be confirmed by a second read: USB's CRC16 protects every packet, so one
 * read is enough unless this session has seen a link fault (a retry), doctor judged the link
 * marginal, or the user asked for it (--confirm-reads).
 */
bool ops_reads_confirmed(const struct ops_session *s);
/* The link has shown a fault in this session (a retry here or in uart/'s commands), doctor judged
 * it marginal, or --confirm-reads: a read that found the chip equal to what it should hold is then
 * confirmed before a sector is skipped for it. Over USART two flipped bits pass the parity; they
 * come with far more single flips, which the parity sees and the host retries (docs/usart.md). */
bool ops_link_faulted(const struct ops_session *s);

/* Reads memory through an alt setting (selecting it first), reporting progress as phase. */
int ops_read_mem(struct ops_session *s, uint8_t alt, uint32_t addr, uint8_t *buf, size_t len, int phase);
/* ops_read_mem, then, where the session asks for it (ops_reads_confirmed: --confirm-reads, a marginal
 * link, a link fault so far), a second read that must agree: USB's CRC16 cannot see every flip. */
int ops_read_mem_sure(struct ops_session *s, uint8_t alt, uint32_t addr, uint8_t *buf, size_t len, int phase);
/* The confirmation itself: buf holds a first read of [addr, addr+len); reads it again until two reads
 * in a row agree (buf then holds them), within the retry budget. differ is the error when they never
 * do; activity names the work for the retry budget's message. */
int ops_read_again(struct ops_session *s, uint8_t alt, uint32_t addr, uint8_t *buf, size_t len, int phase,
                   const char *differ, const char *activity);

/* Gathers the identity (UID, flash size, bootloader ID, option bytes) once per session. */
int ops_identify(struct ops_session *s);

/* Every emulator profile name --sim accepts by name, each once, sorted; *out: heap array of
 * heap strings (ops_free_names). */
int ops_sim_profile_names(char ***out, size_t *n);
/* Sets the error for a device with no usable flash alt: the refused layout string named (escaped)
 * with the parser's reason when there is one, else "names no flash memory". Returns the code. */
int ops_no_flash(struct ops_session *s);
void ops_free_names(char **names, size_t n);

/* Progress report helper */
void ops_report(struct ops_session *s, enum ops_phase phase, uint64_t done, uint64_t total, const char *unit);

#endif
