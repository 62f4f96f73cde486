/*
 * stm32dfu: program STM32 chips through the ST ROM bootloader over USB DFU (DfuSe).
 *
 * The one public header of libstm32dfu. Errors are negative values of enum stm32dfu_err;
 * every function that can fail returns one (0 or a positive count on success).
 *
 * Thread safety, per function:
 * - any thread, at any time: stm32dfu_version, stm32dfu_strerror, stm32dfu_errname, stm32dfu_open,
 *   stm32dfu_open_ex, stm32dfu_open_session, stm32dfu_list, stm32dfu_list_ex, stm32dfu_list_records
 *   and their _free calls, and stm32dfu_last_error(NULL) (which reports the calling
 *   thread's own last failed open or list);
 * - every other function takes a session and may run in parallel with calls on OTHER sessions
 *   (one device per thread is the intended use), but a session is used by one thread at a time;
 *   stm32dfu_close must be the last call on its session;
 * - the exception: stm32dfu_cancel and stm32dfu_cancel_reset may be called on an open session from
 *   any thread and from a signal handler (async-signal-safe) while another call runs on it.
 * Strings returned (stm32dfu_uid, stm32dfu_last_error) stay valid until the next call on the
 * same session (or, for NULL, the next failed open or list on the same thread).
 */
#ifndef STM32DFU_H
#define STM32DFU_H

#ifdef __cplusplus
extern "C" {
#endif

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* One error enum for the whole library. Stable numbers: the CLI maps them to exit codes. */
enum stm32dfu_err {
	STM32DFU_OK = 0,
	STM32DFU_E_USAGE = -1,              /* bad argument or option */
	STM32DFU_E_NO_DEVICE = -2,          /* no matching device */
	STM32DFU_E_AMBIGUOUS = -3,          /* more than one matching device */
	STM32DFU_E_ACCESS = -4,             /* permission denied opening the device */
	STM32DFU_E_USB_IO = -5,             /* USB transfer failed */
	STM32DFU_E_TIMEOUT = -6,            /* a transfer or a wait timed out */
	STM32DFU_E_STALL = -7,              /* the device stalled a request */
	STM32DFU_E_DISCONNECTED = -8,       /* the device went away */
	STM32DFU_E_DFU_STATUS = -9,         /* the device reported an errXXX status */
	STM32DFU_E_PROTOCOL = -10,          /* unexpected DFU state or malformed reply */
	STM32DFU_E_FILE_IO = -11,           /* cannot read or write a file */
	STM32DFU_E_FILE_FORMAT = -12,       /* a file is malformed */
	STM32DFU_E_RANGE = -13,             /* address outside the memory map, or not writable */
	STM32DFU_E_PROTECTED = -14,         /* read or write protection prevents the operation */
	STM32DFU_E_VERIFY = -15,            /* read-back differs from what was written */
	STM32DFU_E_NEEDS_CONFIRMATION = -16,/* a risky step needs an explicit flag */
	STM32DFU_E_NO_MEMORY = -17,         /* allocation failed */
	STM32DFU_E_INTERNAL = -18,          /* a bug in stm32dfu */
	STM32DFU_E_UNSUPPORTED = -19,       /* the device or file does not support this */
	STM32DFU_E_CANCELED = -20,          /* stopped on request (SIGINT/SIGTERM) at a transfer boundary */
	STM32DFU_E_NOT_STARTED = -21,       /* after leaving DFU the bootloader came back: the application did not start */
	STM32DFU_E_LOG_UNREACHABLE = -22,   /* the shared programming log (PostgreSQL) does not answer (the CLI's log) */
};
#define STM32DFU_ERR_COUNT 23

/* A short English sentence for an error code ("the device stalled a request"). */
const char *stm32dfu_strerror(int err);
/* The symbol for an error code ("STM32DFU_E_STALL"). */
const char *stm32dfu_errname(int err);

/* ---- sessions ----------------------------------------------------------------------------
 * One session is one device. Sessions are independent: N devices may be driven from N threads,
 * one session per thread (nothing is shared but the log level). A session is not itself
 * thread-safe: use it from one thread at a time.
 */
struct stm32dfu_session;

/* Which device to open. Zero-initialise, then set what you need. */
struct stm32dfu_match {
	uint16_t vid, pid;    /* 0: the ST ROM bootloader, 0483:df11 */
	const char *serial;   /* the USB serial string, or the chip's 96-bit UID as 24 hex digits; NULL: any */
	const char *path;     /* the USB port path as `stm32dfu list` shows it ("1-1.4"); NULL: any */
	const char *sim;      /* non-NULL: the built-in emulator instead of USB, e.g. "f746,timing=0" */
};

/* Opens the one matching device and starts a DFU session. When several devices match, fails with
 * STM32DFU_E_AMBIGUOUS (give a serial, UID or path). On failure *out is NULL and
 * stm32dfu_last_error(NULL) describes the failure (per thread). */
int stm32dfu_open(const struct stm32dfu_match *match, struct stm32dfu_session **out);

/* How a session behaves. Zero-initialise: then the defaults below hold. */
struct stm32dfu_open_options {
	int has_retries;      /* set retries (default: 3 per transfer, with re-sync and reconnect) */
	unsigned retries;     /* 0: fail at the first transfer error */
	const char *trace;    /* non-NULL: record every USB request and reply to this file (live in
	                         FILE.tmp-XXXXXX beside it, renamed when the session closes) */
};
/* stm32dfu_open with options (may be NULL). */
int stm32dfu_open_ex(const struct stm32dfu_match *match, const struct stm32dfu_open_options *options,
                     struct stm32dfu_session **out);
void stm32dfu_close(struct stm32dfu_session *s);

/* ---- 0.5: sessions with every option the tool has ---------------------------------------------
 * struct stm32dfu_session_options can grow without breaking programs built against an older
 * header, because its first member says how big the caller's copy is:
 *   struct stm32dfu_session_options o = {0};
 *   o.size = sizeof o;
 * The library reads only the members that o.size covers; the ones past it take their defaults. It
 * never reads past the structure it knows: a program built against a newer header (o.size larger
 * than this library's structure) gets STM32DFU_E_UNSUPPORTED, and nothing is opened. size 0 (or less than the 0.5 structure) is STM32DFU_E_USAGE: the caller forgot to set it.
 * Every other member's zero is its default.
 */
enum stm32dfu_poll {
	STM32DFU_POLL_AUTO = 0,    /* ask a busy chip again at once; fall back to SPEC if it does not hold
	                              the request (the default) */
	STM32DFU_POLL_SPEC = 1,    /* wait every bwPollTimeout the chip asks for, as DFU 1.1 says */
};
struct stm32dfu_session_options {
	size_t size;               /* sizeof(struct stm32dfu_session_options), see above */
	int any_id;                /* match every VID:PID (match->vid and ->pid are then ignored) */
	int has_retries;           /* set retries (default: 3 per transfer, with re-sync and reconnect) */
	unsigned retries;          /* 0: fail at the first transfer error */
	const char *trace;         /* non-NULL: record every USB request and reply to this file */
	unsigned transfer_size;    /* bytes per data UPLOAD/DNLOAD, 0: the device's wTransferSize. One the
	                              device cannot take (above wTransferSize, or not a whole number of the
	                              flash's programming unit) is refused at open, STM32DFU_E_USAGE */
	int poll;                  /* enum stm32dfu_poll */
	int confirm_reads;         /* confirm every read by a second one (by default only after a link
	                              fault or a marginal doctor verdict) */
	int sim_persist;           /* with match->sim: keep the emulated chip in its state file between
	                              sessions, as `stm32dfu --sim` does (else every session starts from
	                              the profile's factory state) */
	const volatile sig_atomic_t *cancel; /* non-NULL: once *cancel is nonzero (a signal handler sets
	                              it), the running operation stops at the next transfer boundary with
	                              STM32DFU_E_CANCELED */
	/* A chip still doing flash work that an earlier host started (a mass erase; that host killed)
	 * answers nothing until the work ends: opening waits for its first answer up to first_answer_ms
	 * (0: the longest mass erase of any family), calling on_held (non-NULL) every few seconds
	 * meanwhile, so that a program can say why nothing happens. */
	unsigned first_answer_ms;
	void (*on_held)(void *user, unsigned waited_ms, unsigned ceiling_ms);
	void *held_user;
	/* non-NULL: the folder for recovery files (the bytes a write keeps, saved before its first erase),
	 * instead of $STM32DFU_RECOVERY_DIR, $XDG_STATE_HOME/stm32dfu/recovery, ~/.local/state/...,
	 * $XDG_CACHE_HOME/..., $XDG_RUNTIME_DIR/... (the first set); with none of them a write that must
	 * keep bytes refuses before its first erase (STM32DFU_E_FILE_IO). Added in 0.6. */
	const char *recovery_dir;
	/* non-NULL: reach the chip through its USART bootloader (AN3155) on this serial port (a path such
	 * as /dev/ttyUSB0, or a name as the system lists it) instead of USB; match's vid, pid, path and
	 * sim are then not used (a serial selector must be a 24-digit UID). With match->sim, the key
	 * link=uart in the profile spec ("f746,link=uart") serves the emulator through its USART
	 * bootloader instead. The port is opened exclusively: STM32DFU_E_NO_DEVICE when it does not
	 * exist, STM32DFU_E_ACCESS without permission, STM32DFU_E_USB_IO when another program holds it,
	 * STM32DFU_E_TIMEOUT when nothing answers 0x7F (BOOT0 low, RX/TX swapped). Added in 0.7. */
	const char *port;
	unsigned baud;             /* with port or link=uart: 8E1 at this rate (0: 115200). Added in 0.7. */
	/* with port or link=uart: a fixture wires the adapter's DTR and RTS to the board's NRST and BOOT0;
	 * this sequence (stm32flash's -i text for the modem lines, "ENTRY[:EXIT]"; "" the default wiring,
	 * DTR to NRST and RTS to BOOT0, docs/usart.md) is driven before the first 0x7F, and
	 * stm32dfu_leave_reset drives its exit part. A port without modem lines (a pseudo-terminal):
	 * STM32DFU_E_UNSUPPORTED before any byte is sent; without port: STM32DFU_E_USAGE. NULL: no
	 * sequence. Added in 0.7. */
	const char *reset_seq;
};
/* The 0.5 structure's size: options.size must be at least this. */
#define STM32DFU_SESSION_OPTIONS_SIZE_0_5 (offsetof(struct stm32dfu_session_options, held_user) + sizeof(void *))
/* The 0.6 structure's size (up to recovery_dir). */
#define STM32DFU_SESSION_OPTIONS_SIZE_0_6 \
	(offsetof(struct stm32dfu_session_options, recovery_dir) + sizeof(const char *))

/* Opens the one matching device with options (may be NULL: the defaults). match may be NULL (the
 * ST ROM, 0483:df11). Errors as stm32dfu_open. Thread-safe. */
int stm32dfu_open_session(const struct stm32dfu_match *match, const struct stm32dfu_session_options *options,
                          struct stm32dfu_session **out);

/* Opens the chip on a serial port through its USART bootloader (AN3155) at baud (0: 115200), with
 * the default options: stm32dfu_open_session with options.port and options.baud. Every call that
 * takes a session then works as over USB. Errors as options.port says. Thread-safe. Added in 0.7. */
int stm32dfu_open_port(const char *port, unsigned baud, struct stm32dfu_session **out);

/* The detail of the last failure of a session (or, with NULL, of this thread's last failed
 * stm32dfu_open): code, a one-line message, and a hint (possibly "") saying what to try. Both name
 * the library's own options and calls ("the force option", "stm32dfu_info()", STM32DFU_CONFIRM_RDP2),
 * not the stm32dfu command line's flags, which the command line puts in their place. */
struct stm32dfu_error {
	int code;
	const char *message;
	const char *hint;
};
struct stm32dfu_error stm32dfu_last_error(const struct stm32dfu_session *s);

/* The chip's 96-bit unique ID as "XXXXXXXX XXXXXXXX XXXXXXXX" (empty if it could not be read). */
const char *stm32dfu_uid(struct stm32dfu_session *s);

/* ---- progress ---- */
enum stm32dfu_phase {
	STM32DFU_PHASE_READ = 0,    /* reading back what the chip holds (to skip unchanged sectors) */
	STM32DFU_PHASE_ERASE = 1,   /* done/total count sectors */
	STM32DFU_PHASE_PROGRAM = 2,
	STM32DFU_PHASE_VERIFY = 3,
};
/* Called from the thread running the operation, often (every transfer): keep it quick. */
typedef void (*stm32dfu_progress_fn)(void *user, enum stm32dfu_phase phase, uint64_t done, uint64_t total);
void stm32dfu_set_progress(struct stm32dfu_session *s, stm32dfu_progress_fn fn, void *user);

/* ---- write and verify ---- */
struct stm32dfu_write_options {
	int no_verify;        /* skip the read-back (the write is then not proven) */
	int full;             /* erase and program every touched sector, even unchanged ones */
	int leave;            /* leave DFU and start the application when done */
	int force;            /* accept a .dfu file whose suffix names another device */
	int has_address;      /* load a raw .bin at address instead of the start of flash */
	uint32_t address;
};

struct stm32dfu_write_result {
	uint64_t image_bytes;
	uint64_t bytes_programmed;
	unsigned sectors_erased;
	unsigned sectors_skipped;  /* unchanged sectors left alone */
	int verified;
	unsigned retries;
	double seconds;
};

/* Writes a .bin/.hex/.srec/.elf/.dfu file: only the sectors that differ, then a read-back check.
 * options and result may be NULL. */
int stm32dfu_write_file(struct stm32dfu_session *s, const char *path, const struct stm32dfu_write_options *options,
                        struct stm32dfu_write_result *result);

/* Checks the chip holds the file's contents: 0, or STM32DFU_E_VERIFY. options: has_address,
 * address and force are used; may be NULL. */
int stm32dfu_verify_file(struct stm32dfu_session *s, const char *path, const struct stm32dfu_write_options *options);


/* ---- version ------------------------------------------------------------------------------
 * Semantic versioning: MAJOR changes break source or binary compatibility, MINOR adds functions
 * and structures, PATCH fixes. Thread-safe. A structure that a program allocates and the library
 * fills never grows within a MAJOR version (a program built against an older header would have
 * made too little room for it): new results come with new functions and new structures, as the
 * 0.3 additions at the end of this header do, so a program built against 0.2 runs unchanged.
 */
#define STM32DFU_VERSION_MAJOR 0
#define STM32DFU_VERSION_MINOR 7
#define STM32DFU_VERSION_PATCH 0
/* The library's version as "MAJOR.MINOR.PATCH" (the one it was built as, not this header's). */
const char *stm32dfu_version(void);

/* ---- list and identity ----------------------------------------------------------------------
 * Limits of the fixed-size records below; a device with more alt settings or regions is listed
 * with the first ones and n_alts_total / n_regions_total saying how many there are.
 */
#define STM32DFU_MAX_ALTS 16
#define STM32DFU_MAX_REGIONS 4
#define STM32DFU_MAX_GROUPS 8

/* Access bits of a sector group, as the DfuSe layout string's type letter gives them. */
enum { STM32DFU_MEM_READ = 1, STM32DFU_MEM_ERASE = 2, STM32DFU_MEM_WRITE = 4 };

struct stm32dfu_sector_group {
	uint32_t count;          /* sectors in the group */
	uint32_t size;           /* bytes per sector */
	unsigned access;         /* STM32DFU_MEM_* bits */
};

struct stm32dfu_region {
	uint32_t start;
	uint64_t length;
	unsigned n_groups;
	struct stm32dfu_sector_group groups[STM32DFU_MAX_GROUPS];
};

struct stm32dfu_alt {
	unsigned alt;            /* bAlternateSetting */
	char name[128];          /* the layout's name ("Internal Flash"), or the raw string */
	char raw[256];           /* the iInterface string as the device sent it */
	int has_layout;          /* the string parsed as a DfuSe memory layout */
	unsigned n_regions, n_regions_total;
	struct stm32dfu_region regions[STM32DFU_MAX_REGIONS];
};

/* What is known of the chip behind a DFU device, read without touching DBGMCU. */
struct stm32dfu_identity {
	char family[16];         /* "F74x", "" when unknown */
	char chip[64];           /* "STM32F74x/F75x" */
	char confidence[16];     /* "certain", "likely", "guess", "none" */
	char reason[256];        /* the evidence the identification used */
	int has_uid;
	uint8_t uid[12];         /* memory order */
	char uid_text[32];       /* "XXXXXXXX XXXXXXXX XXXXXXXX" (UID0 UID1 UID2) */
	uint32_t flash_size;     /* bytes, 0 when unknown */
	int has_bootloader_id;
	uint8_t bootloader_id;
	char bootloader_version[8];
	char usb_serial[128];    /* as the device reports it */
	char serial_verdict[24]; /* stable token, as `stm32dfu info --json` prints it */
	char serial_explanation[256];
	char serial_computed[16];/* the serial the family's rule gives from the UID, "" if none */
	int rdp_level;           /* 0, 1, 2, or -1 when unknown */
	int read_protected;      /* reads are refused (errVENDOR) */
};

struct stm32dfu_device {
	uint16_t vid, pid, bcd_device;
	char path[32];           /* USB port path ("1-1.4"), "sim" for the emulator */
	char manufacturer[128], product[128], serial[128];
	int opened;              /* 0: it could not be opened; error says why */
	char error[256];
	uint16_t dfu_version;    /* bcdDFUVersion: 0x011A for DfuSe */
	uint16_t transfer_size;
	unsigned n_alts, n_alts_total;
	struct stm32dfu_alt alts[STM32DFU_MAX_ALTS];
	int has_identity;
	struct stm32dfu_identity identity;
	int serial_shared;       /* another listed device reports the same USB serial */
};

/* Lists the DFU devices that match selects: as for stm32dfu_open, a zero (or NULL) match is the ST
 * ROM bootloader's 0483:df11 only, so a DFU keyboard is never taken for a chip (every DFU device:
 * stm32dfu_list_records with any_id, as `stm32dfu list` does); match->sim: the emulator, listed
 * only when its VID:PID is matched too. *out is an array of *n records, freed with
 * stm32dfu_list_free. Identity is read where it applies (ST ROM bootloaders). Thread-safe. On
 * failure stm32dfu_last_error(NULL) says why. */
int stm32dfu_list(const struct stm32dfu_match *match, struct stm32dfu_device **out, size_t *n);
void stm32dfu_list_free(struct stm32dfu_device *devices);

/* ---- list with what `stm32dfu list` prints (0.4.0) --------------------------------------------
 * One listed device: its stm32dfu_device record plus what the CLI's list shows beside it. The DFU
 * state is the one the device was in before list touched it; opening clears dfuERROR and aborts an
 * unfinished upload or download, both to dfuIDLE (found_action says which happened).
 */
struct stm32dfu_listed {
	struct stm32dfu_device device; /* device.identity is filled whenever device.opened; otherwise it
	                                  holds the unknown values (rdp_level -1, serial_verdict "") */
	unsigned found_state;          /* bState (DFU 1.1 numbers: 2 dfuIDLE, 10 dfuERROR) */
	unsigned found_status;         /* bStatus (0 OK, 11 errVENDOR...) */
	char found_state_name[24];     /* "dfuERROR"; "" when not opened */
	char found_status_name[24];    /* "errVENDOR"; "" when not opened */
	char found_action[16];         /* "none", "cleared", "waited" (dfuDNBUSY), "aborted"; "" if not opened */
	unsigned devnum;               /* the USB device number on its bus (0 for the emulator) */
	int uid_shared;                /* another listed device has the same UID (a clone, or a faked UID) */
	int identity_read;             /* a known STM32 family: UID and the rest were read */
	char flash_size_source[16];    /* "register", "layout", "unknown" */
	uint32_t layout_flash_size;    /* bytes the flash alt's sectors add up to, 0 if none */
	int rdp_from_note;             /* rdp_level 2 comes from what this tool wrote, not from a read */
	char layout_error[STM32DFU_MAX_ALTS][128]; /* per device.alts[i]: why its '@' string did not parse */
};

/* Like stm32dfu_list, with stm32dfu_listed records; *out is freed with stm32dfu_list_ex_free.
 * Thread-safe. On failure stm32dfu_last_error(NULL) says why. */
int stm32dfu_list_ex(const struct stm32dfu_match *match, struct stm32dfu_listed **out, size_t *n);
void stm32dfu_list_ex_free(struct stm32dfu_listed *devices);

/* ---- 0.5: list records that hold everything the library keeps, and say what they do not ----
 * The 0.2 records above hold 16 alt settings, 4 regions, 8 sector groups and 128-byte strings. A
 * device descriptor is outside input (a device may send 255 alt settings and 126-character names),
 * so these records hold as much as the library itself keeps, and each cut is counted:
 * - every string a device can send fits STM32DFU_STRING_MAX (126 UTF-16 units, 3 bytes of UTF-8
 *   each, and the NUL), so no string is ever cut, layout names included;
 * - a layout with more regions or sector groups than below is not parsed: has_layout is 0 and
 *   layout_error says why, so a memory map is whole or absent, never partial;
 * - the first STM32DFU_REC_MAX_ALTS DFU alt settings are kept; n_alts_total counts them all.
 */
#define STM32DFU_STRING_MAX 384
#define STM32DFU_REC_MAX_ALTS 32
#define STM32DFU_REC_MAX_REGIONS 8
#define STM32DFU_REC_MAX_GROUPS 16

struct stm32dfu_region_rec {
	uint32_t start;
	uint64_t length;
	unsigned n_groups;
	struct stm32dfu_sector_group groups[STM32DFU_REC_MAX_GROUPS];
};

struct stm32dfu_alt_rec {
	unsigned alt;                    /* bAlternateSetting */
	char name[STM32DFU_STRING_MAX];  /* the layout's name ("Internal Flash"), or the raw string */
	char raw[STM32DFU_STRING_MAX];   /* the iInterface string as the device sent it */
	int has_layout;                  /* raw parsed as a DfuSe memory layout: regions hold all of it */
	char layout_error[128];          /* raw began with '@' but did not parse: why */
	unsigned n_regions;
	struct stm32dfu_region_rec regions[STM32DFU_REC_MAX_REGIONS];
};

/* One DFU device as `stm32dfu list` and `stm32dfu info` show it. */
struct stm32dfu_device_rec {
	uint16_t vid, pid, bcd_device;
	char path[32];                   /* USB port path ("1-1.4"), "sim" for the emulator */
	unsigned devnum;                 /* the USB device number on its bus (0 for the emulator) */
	char manufacturer[STM32DFU_STRING_MAX], product[STM32DFU_STRING_MAX], serial[STM32DFU_STRING_MAX];
	int opened;                      /* 0: it could not be opened; error says why, and nothing below
	                                    is known (identity_known is 0) */
	char error[256];
	uint16_t dfu_version;            /* bcdDFUVersion: 0x011A for DfuSe */
	uint16_t transfer_size;          /* wTransferSize */
	unsigned n_alts;                 /* alts[] in use */
	unsigned n_alts_total;           /* DFU alt settings the device has: more than n_alts when it
	                                    has more than STM32DFU_REC_MAX_ALTS */
	struct stm32dfu_alt_rec alts[STM32DFU_REC_MAX_ALTS];
	/* the DFU state before list touched it (list only; a session's record: what opening found) */
	unsigned found_state, found_status;
	char found_state_name[24], found_status_name[24], found_action[16]; /* as in stm32dfu_listed */
	/* identity: whenever identity_known; otherwise every field is its unknown value (family and
	 * serial_verdict "", has_uid 0, rdp_level -1) */
	int identity_known;              /* the device was opened and asked what it is */
	int identity_read;               /* a known STM32 family: UID, flash size and RDP were read */
	struct stm32dfu_identity identity; /* its usb_serial holds 127 bytes: serial above is whole */
	char flash_size_source[16];      /* "register", "layout", "unknown" */
	uint32_t layout_flash_size;      /* bytes the flash alt's sectors add up to, 0 if none */
	int rdp_from_note;               /* rdp_level 2 comes from what this tool wrote, not from a read */
	int serial_shared;               /* list: another listed device reports the same USB serial */
	int uid_shared;                  /* list: another listed device has the same UID */
};

/* Lists the devices that match and options select (either may be NULL; options as for
 * stm32dfu_open_session: any_id lists every DFU device, sim_persist lists the kept emulated chip).
 * *out is an array of *n records, freed with stm32dfu_list_records_free. Thread-safe. On failure
 * stm32dfu_last_error(NULL) says why. */
int stm32dfu_list_records(const struct stm32dfu_match *match, const struct stm32dfu_session_options *options,
                          struct stm32dfu_device_rec **out, size_t *n);
void stm32dfu_list_records_free(struct stm32dfu_device_rec *devices);
/* The record of an open session's device (identity read now if not yet; found_* is the state
 * opening found). */
int stm32dfu_device_record(struct stm32dfu_session *s, struct stm32dfu_device_rec *out);

/* The chip's identity: family, flash size, UID, serial verdict, RDP, bootloader version. */
int stm32dfu_info(struct stm32dfu_session *s, struct stm32dfu_identity *out);

/* The device record of an open session (USB strings, alt settings and their memory maps). */
int stm32dfu_device_info(struct stm32dfu_session *s, struct stm32dfu_device *out);

/* ---- read ---- */
/* Reads len bytes at addr into buf from the memory that serves addr (flash, RAM, OTP, option
 * bytes, system memory). Addresses outside every listed memory give STM32DFU_E_RANGE before
 * anything is sent. */
int stm32dfu_read(struct stm32dfu_session *s, uint32_t addr, void *buf, size_t len);
/* How a read goes. Zero-initialise for the defaults. */
struct stm32dfu_read_options {
	int has_alt;          /* read through this alternate setting instead of the one serving addr */
	unsigned alt;
	int no_confirm;       /* never confirm by a second read (by default one read is enough unless the
	                         session saw a link fault or doctor judged the link marginal) */
	int force;            /* read even addresses known to hang the ROM (F7 DBGMCU_IDCODE) */
};
/* stm32dfu_read with options (may be NULL). Checked against the memory map and the alt count
 * before anything is sent: STM32DFU_E_RANGE / STM32DFU_E_USAGE name the problem. */
int stm32dfu_read_ex(struct stm32dfu_session *s, const struct stm32dfu_read_options *options, uint32_t addr,
                     void *buf, size_t len);
/* The same into a file whose format follows its name (.bin, .hex, .srec). */
int stm32dfu_read_file(struct stm32dfu_session *s, uint32_t addr, size_t len, const char *path);

/* ---- erase ---- */
/* Erases the sectors numbered as the flash layout counts them (0 = first). A write-protected
 * sector is refused (STM32DFU_E_PROTECTED) before anything is erased; every erased sector is
 * read back to confirm it is blank. */
int stm32dfu_erase_sectors(struct stm32dfu_session *s, const unsigned *sectors, size_t n);
/* Erases every sector overlapping [addr, addr+len); *erased (may be NULL) gets their count. */
int stm32dfu_erase_range(struct stm32dfu_session *s, uint32_t addr, uint32_t len, unsigned *erased);
/* Mass erase: STM32DFU_E_NEEDS_CONFIRMATION unless confirm is nonzero. With any sector
 * write-protected it is refused (STM32DFU_E_PROTECTED) before the command: the chip would erase
 * nothing and report success. Every sector is read back (STM32DFU_E_VERIFY if one is not blank). */
int stm32dfu_erase_all(struct stm32dfu_session *s, int confirm);

/* ---- write and verify from memory ---- */
/* Writes len bytes at addr (options->has_address and ->address are ignored): the same plan,
 * skip, erase, program and read-back check as stm32dfu_write_file. */
int stm32dfu_write_mem(struct stm32dfu_session *s, uint32_t addr, const void *data, size_t len,
                       const struct stm32dfu_write_options *options, struct stm32dfu_write_result *result);
/* Checks the chip holds data at addr: 0, or STM32DFU_E_VERIFY naming the first difference. */
int stm32dfu_verify_mem(struct stm32dfu_session *s, uint32_t addr, const void *data, size_t len);

/* ---- option bytes ---- */
#define STM32DFU_OB_MAX_FIELDS 48
#define STM32DFU_OB_MAX_BYTES 512

struct stm32dfu_ob_field {
	char name[24];           /* as the reference manual and CubeProgrammer name it ("BOR_LEV") */
	uint32_t value;          /* the raw field value */
	int is_default;          /* equals the factory default */
	int present;             /* the block read holds this field */
	int dangerous;           /* 0 safe, 1 caution, 2 danger (may lock the chip) */
	char meaning[96];        /* the value in words ("level 0 (no protection)") */
	char description[96];
};

struct stm32dfu_option_bytes {
	char layout[16];         /* the decoder used ("F74x") */
	uint32_t address;
	size_t len;
	uint8_t raw[STM32DFU_OB_MAX_BYTES];
	unsigned complement_errors; /* stored words whose complement does not match */
	int rdp_level;           /* 0, 1, 2, -1 when the block has no RDP field */
	size_t n_fields;
	struct stm32dfu_ob_field fields[STM32DFU_OB_MAX_FIELDS];
};

/* Reads the option-byte block afresh and decodes it field by field. */
int stm32dfu_ob_read(struct stm32dfu_session *s, struct stm32dfu_option_bytes *out);

/* Confirmations for option-byte changes that are risky or irreversible; each names its risk. */
enum {
	STM32DFU_CONFIRM_RDP2 = 1u << 0,          /* RDP level 2: permanent */
	STM32DFU_CONFIRM_RDP1 = 1u << 1,          /* RDP level 1: reads then need a mass-erasing unprotect */
	STM32DFU_CONFIRM_WRP_BOOT = 1u << 2,      /* write-protect the sector the application boots from */
	STM32DFU_CONFIRM_NO_BOOTLOADER = 1u << 3, /* boot settings with no way back into the bootloader */
	STM32DFU_CONFIRM_RDP0 = 1u << 4,          /* RDP 1 -> 0: the chip mass-erases its flash */
};

/* Sets fields ("BOR_LEV=0x1", "nWRP3=0") with the CLI's validation and guards: nothing is written
 * unless every assignment is valid, names a field this part has (STM32DFU_E_USAGE for, say, BFB2
 * on an F407), and every risk it carries is in confirm (else
 * STM32DFU_E_NEEDS_CONFIRMATION naming the missing STM32DFU_CONFIRM_* risk). The chip resets after
 * the write; the session finds it again and compares the block read back. after (may be NULL)
 * gets the option bytes as read back. */
int stm32dfu_ob_set(struct stm32dfu_session *s, const char *const *assignments, size_t n, unsigned confirm,
                    struct stm32dfu_option_bytes *after);

/* ---- option bytes as `stm32dfu ob show` and `ob set` print them (0.5.0) ---------------------
 * New records beside stm32dfu_option_bytes (which is unchanged). Limits: the largest layout has 31
 * fields, 8 stored words and 128 bytes; a field has at most 8 named values (RDP: 3).
 */
#define STM32DFU_OB_MAX_WORDS 16
#define STM32DFU_OB_MAX_NAMED 16

/* A word `ob set FIELD=WORD` accepts for a field ("off", "sysmem", RDP's "level0"/"level1"/"level2"). */
struct stm32dfu_ob_named {
	char word[32];
	uint32_t value;          /* the raw field value it stands for */
	char meaning[96];        /* that value in words, as a field showing it would say */
};

struct stm32dfu_ob_field_info {
	char name[24];           /* "BOR_LEV" */
	unsigned width;          /* bits */
	int present;             /* the block read holds it (a short block may not) */
	uint32_t value;          /* raw field value; 0 when not present */
	uint32_t default_value;  /* the factory default */
	int is_default;          /* present and equal to default_value */
	int on_this_chip;        /* 0: the layout has it but this part does not (absent_why), and
	                            stm32dfu_ob_set_ex refuses it */
	char absent_why[128];    /* "exists only on F42x, not on STM32F401xB/C/D/E"; "" when on the chip */
	char meaning[96];        /* the value in words ("BOR off (1.62-2.10 V)"); "" when not present */
	char description[128];   /* what the field does */
	int danger;              /* 0 safe, 1 caution, 2 danger (may lock the chip or its boot) */
	unsigned n_named;
	struct stm32dfu_ob_named named[STM32DFU_OB_MAX_NAMED];
};

/* One stored word of the block and its complement check. */
struct stm32dfu_ob_word {
	char name[32];           /* "OPTCR[15:0] (USER, RDP)" */
	unsigned offset;         /* byte offset in the block */
	unsigned bits;           /* value width: 8, 16 or 32 */
	int present;             /* the block read holds it */
	uint32_t value;
	int has_complement;      /* the word is stored with its bitwise complement */
	uint32_t complement;     /* the complement as stored */
	uint32_t expected;       /* what it should be: ~value within bits */
	int ok;                  /* complement matches (1 when the word has none) */
};

/* The option-byte block, read afresh, and everything the decoder says of it. About 120 KiB:
 * allocate it rather than putting it on a small thread stack. */
struct stm32dfu_ob_report {
	char family[16];         /* the chip's family id ("F74x"), "" when it was not identified */
	char family_name[64];    /* "STM32F74x/F75x", "" when not identified */
	uint32_t address;        /* where the block lives (the Option Bytes alt's first region) */
	unsigned alt;            /* the alternate setting it was read through */
	size_t size;             /* bytes read */
	uint8_t raw[STM32DFU_OB_MAX_BYTES];
	int decoded;             /* 0: only raw is known; decode_error says why */
	char decode_error[256];
	char layout[16];         /* the decoder used ("F74x", "F0/F3"), "" when not decoded */
	int writable;            /* stm32dfu_ob_set_ex can write this layout (0: decode-only) */
	int short_block;         /* shorter than the layout: fields beyond it are not present */
	int rdp_level;           /* 0, 1, 2, or -1 when not decoded or the layout has no RDP field */
	char note[512];          /* what is UNCONFIRMED about the layout, "" when nothing */
	unsigned complement_errors; /* stored words whose complement does not match */
	size_t n_fields;
	struct stm32dfu_ob_field_info fields[STM32DFU_OB_MAX_FIELDS];
	size_t n_words;
	struct stm32dfu_ob_word words[STM32DFU_OB_MAX_WORDS];
};

/* Reads the block afresh and decodes it (every field of the layout, marked when this part lacks
 * it). A block with no decoder is not an error: decoded is 0 and raw holds it. Errors: no option-
 * byte alt (STM32DFU_E_UNSUPPORTED), RDP refusing the read (STM32DFU_E_PROTECTED). */
int stm32dfu_ob_read_ex(struct stm32dfu_session *s, struct stm32dfu_ob_report *out);

/* How stm32dfu_ob_set_ex goes. Zero-initialise for the defaults (no risk confirmed, write). */
struct stm32dfu_ob_set_options {
	unsigned confirm;        /* STM32DFU_CONFIRM_* bits: the risks the caller accepts */
	int dry_run;             /* check everything and report the changes; write nothing */
};

struct stm32dfu_ob_change {
	char field[24];
	unsigned width;          /* bits */
	uint32_t old_value, new_value;
	char old_meaning[96], new_meaning[96];
};

/* What a set found, asked for and did; filled as far as it got, on failure too. About 13 KiB. */
struct stm32dfu_ob_set_result {
	char family[16];         /* "F74x", "" when the chip was not identified */
	int checked;             /* the assignments are valid for this part: the changes below are known
	                            (0: refused before, stm32dfu_last_error says why) */
	size_t n_changes;
	struct stm32dfu_ob_change changes[STM32DFU_OB_MAX_FIELDS];
	unsigned complements_repaired; /* words whose wrong complement the new block corrects */
	unsigned confirmations_required; /* STM32DFU_CONFIRM_* bits the change carries */
	unsigned confirmations_missing;  /* ... of which options did not give (then nothing is written) */
	int dry_run;             /* options asked for a dry run: nothing was written */
	int nothing_to_change;   /* the chip already holds these values: nothing was written */
	int write_attempted;     /* the block was sent to the chip */
	int written;             /* ... and the chip took it (verified, or protection_active) */
	int verified;            /* the block read back equals the one written */
	int protection_active;   /* RDP >= 1 was written and the chip now refuses reads, which confirms it */
	int reset_seen;          /* the chip reset after the write and was found again */
	size_t size;             /* bytes in the blocks below */
	uint8_t before[STM32DFU_OB_MAX_BYTES];    /* the block as read first */
	uint8_t requested[STM32DFU_OB_MAX_BYTES]; /* the block written (or that would have been) */
	int has_after;           /* after holds the block read back (verified) */
	uint8_t after[STM32DFU_OB_MAX_BYTES];
	int bootloader_gone;     /* RDP level 2 was written: the chip reset and did not come back, as level 2
	                            disables its bootloader for good (it is not an error) */
};

/* stm32dfu_ob_set with the result `ob set` prints: the same validation and guards, in the same
 * order (decoder, fields this part has, values, confirmations), then the write, the reset and the
 * read-back. A missing confirmation is STM32DFU_E_NEEDS_CONFIRMATION with result's changes and
 * confirmations_missing filled; the hint names the command-line flag. options and result may be
 * NULL. */
int stm32dfu_ob_set_ex(struct stm32dfu_session *s, const char *const *assignments, size_t n,
                       const struct stm32dfu_ob_set_options *options, struct stm32dfu_ob_set_result *result);

/* The `stm32dfu` command-line flag that gives one STM32DFU_CONFIRM_* bit
 * ("--i-understand-rdp2-is-permanent"); NULL for anything but one known bit. Thread-safe. */
const char *stm32dfu_confirm_flag(unsigned bit);

/* ---- read protection ---- */
struct stm32dfu_unprotect_result {
	int rdp_before, rdp_after;  /* 0, 1, 2, or -1 when unknown */
	int flash_erased;           /* the first flash sector reads all 0xFF afterwards */
	int ob_default;             /* the option bytes are back to the family's factory defaults */
	uint32_t checked_addr, checked_len;
};
/* Read Unprotect (AN3156 5.4): the chip mass-erases its flash, restores default option bytes and
 * resets; the session finds it again and checks the outcome. Irreversible for the flash's
 * contents: STM32DFU_E_NEEDS_CONFIRMATION unless confirm is nonzero. result may be NULL. */
int stm32dfu_unprotect(struct stm32dfu_session *s, int confirm, struct stm32dfu_unprotect_result *result);

/* ---- leave ---- */
/* Leaves DFU and starts the application at addr (has_addr), else at the start of flash: sets the
 * address pointer there, then watches the bus. 0 only once the chip has left it;
 * STM32DFU_E_NOT_STARTED when the same chip came back as the bootloader. */
int stm32dfu_leave(struct stm32dfu_session *s, int has_addr, uint32_t addr);

/* ---- doctor ---- */
#define STM32DFU_DOCTOR_SIZES 3
#define STM32DFU_DOCTOR_MAX_FINDINGS 8

struct stm32dfu_link_size {
	uint16_t size;           /* bytes per UPLOAD */
	unsigned attempts, failures, corrupt;
	uint64_t lat_min_us, lat_median_us, lat_max_us;
};

struct stm32dfu_finding {
	int severity;            /* 0 ok, 1 note, 2 warning, 3 bad */
	char id[24];             /* stable token: "usb_clock", "serial", "rdp", "wrp", ... */
	char text[512];
	char advice[512];
};

struct stm32dfu_doctor_report {
	struct stm32dfu_link_size link[STM32DFU_DOCTOR_SIZES];
	unsigned transfers, failures;
	int link_bad;
	double hse_hz;                      /* as given, 0 when unknown */
	double safe_lo_pct, safe_hi_pct;    /* HSI error band in which the ROM detects hse_hz right */
	double misdetect_usb_error_pct;     /* USB clock error when detected 1 MHz low */
	int worst;                          /* highest severity found */
	size_t n_findings;
	struct stm32dfu_finding findings[STM32DFU_DOCTOR_MAX_FINDINGS];
	/* the emulator only: the clock its modelled ROM set up (0 on real devices) */
	int emulated_clock;
	double emulated_hsi_error_pct, emulated_detected_hz, emulated_usb_error_ppm;
	int link_marginal;                  /* bad, or a thin HSE margin: later reads of the board are confirmed */
	int link_noted;                     /* that verdict was remembered for the board (by UID) */
};

/* Link test (count transfers, 0: 200) and chip checks, with a diagnosis in plain words.
 * hse_hz: the board's HSE crystal or oscillator, 0 when unknown. */
int stm32dfu_doctor(struct stm32dfu_session *s, unsigned count, double hse_hz, struct stm32dfu_doctor_report *out);

/* Over a serial port (0.7): the rates doctor measured. */
#define STM32DFU_DOCTOR_UART_RATES 6
struct stm32dfu_uart_rate {
	unsigned baud;
	int tried;               /* 0: why_not says why (above what this family's ROM follows; no reset
	                            between rates without reset_seq) */
	char why_not[160];
	int synced;              /* the ROM answered 0x7F at this rate */
	unsigned commands;       /* GET, Get ID and a 256-byte Read Memory in turn, each sent once */
	unsigned nacks, timeouts, errors, corrupt;
	int holds;               /* synced, and all per_rate commands came back right */
};
struct stm32dfu_doctor_uart {
	unsigned per_rate;           /* commands per rate */
	unsigned session_baud;       /* the rate the session was opened at */
	unsigned family_max_baud;    /* the fastest rate this family's ROM is known to follow */
	unsigned recommended_baud;   /* the fastest rate that holds, 0 when none */
	int swept;                   /* other rates than the session's were measured (reset_seq given) */
	size_t n_rates;
	struct stm32dfu_uart_rate rates[STM32DFU_DOCTOR_UART_RATES];
	int reads;                   /* Read Memory was in the mix (not under read protection, which refuses it) */
};
/* stm32dfu_doctor over a serial port (options.port or link=uart): count commands per rate (0: 60),
 * at every rate this family's ROM is known to follow when options.reset_seq lets the chip be reset
 * between rates (the ROM keeps the rate of its first 0x7F), else at the session's rate only; out
 * gets the findings (`uart_link`, `uart_rates`, and the chip's `rdp`, `wrp`...; never a USB one),
 * uart the rates. out->link_bad: no rate holds. STM32DFU_E_UNSUPPORTED on a USB session. */
int stm32dfu_doctor_uart(struct stm32dfu_session *s, unsigned count, struct stm32dfu_doctor_report *out,
                         struct stm32dfu_doctor_uart *uart);

/* ---- 0.3: erase and leave with their results ------------------------------------------------ */
enum stm32dfu_erase_mode {
	STM32DFU_ERASE_SECTORS = 0,  /* the sectors listed, numbered as the flash layout counts them */
	STM32DFU_ERASE_RANGE = 1,    /* every sector overlapping [address, address+length), whole (to erase
	                                exactly those bytes and keep the rest: stm32dfu_erase_bytes) */
	STM32DFU_ERASE_ALL = 2,      /* mass erase: needs confirm */
	/* OR-ed into mode: the read-back covers every erased byte, not the first and last transfer
	 * of each sector (a 256 KiB sector: 256 KiB read instead of 4 KiB) */
	STM32DFU_ERASE_BLANK_CHECK = 0x100,
};
/* What to erase and how. Zero-initialise, then set mode and what it needs. */
struct stm32dfu_erase_options {
	int mode;                    /* enum stm32dfu_erase_mode */
	const unsigned *sectors;     /* SECTORS: the sector numbers (each erased once, in this order) */
	size_t n_sectors;
	uint32_t address, length;    /* RANGE */
	int confirm;                 /* ALL: nonzero, else STM32DFU_E_NEEDS_CONFIRMATION and nothing is sent */
	double vdd;                  /* > 0: the board's supply in volts (1.8-3.6): the flash voltage range
	                                for the widest parallelism it allows is set first (the Device
	                                Feature memory of F2/F4/F7 ROMs; STM32DFU_E_UNSUPPORTED elsewhere) */
};
struct stm32dfu_erase_result {
	unsigned sectors_erased;     /* SECTORS and RANGE: the sectors erased (on a failure: those the chip
	                              * acknowledged before it, not read back); 0 for a mass erase */
	uint32_t start;              /* RANGE: the whole sectors erased are [start, end) */
	uint64_t end;                /* 0 for SECTORS and ALL */
	int voltage_range;           /* the range set for vdd (0-3), -1 when vdd was 0 */
	double seconds;              /* from the first request (the voltage range's) to the last reply */
};
/* Erases as options say (the same checks and read-back as stm32dfu_erase_sectors). result may be
 * NULL; on failure it holds what was known (voltage_range set, seconds spent). */
int stm32dfu_erase_ex(struct stm32dfu_session *s, const struct stm32dfu_erase_options *options,
                      struct stm32dfu_erase_result *result);

/* How a leave's jump address was chosen (a write's leave without has_leave_address looks in the image). */
enum stm32dfu_leave_rule {
	STM32DFU_LEAVE_GIVEN = 0,        /* the caller gave it */
	STM32DFU_LEAVE_FLASH_START = 1,  /* none given: the start of the flash */
	STM32DFU_LEAVE_ENTRY = 2,        /* the vector table whose reset vector is the file's entry point */
	STM32DFU_LEAVE_FIRST_TABLE = 3,  /* the image's lowest address that holds a vector table */
};
/* What leaving DFU did (AN3156 5.5). */
struct stm32dfu_leave_result {
	uint32_t address;            /* the jump address, set as the address pointer right before leaving */
	int vector_read;             /* the vector table there could be read */
	uint32_t sp, reset;          /* its first two words: the initial stack pointer and the reset vector */
	int sp_in_ram;
	int reset_in_code;           /* the reset vector points into flash (or RAM, when leaving to RAM) */
	int reset_thumb;             /* its bit 0 is set, as a Cortex-M vector must be */
	int vector_ok;               /* all three: the table looks runnable */
	int confirmed;               /* GETSTATUS said dfuMANIFEST before the device went away */
	int gone;                    /* the device left the bus and did not come back as the bootloader */
	int rule;                    /* enum stm32dfu_leave_rule: how address was chosen */
};
/* stm32dfu_leave, reporting the vector table found at the jump address and what the bus showed.
 * result (may be NULL) is filled on failure too: a program can warn about a table that does not
 * look runnable whatever the outcome. */
int stm32dfu_leave_ex(struct stm32dfu_session *s, int has_addr, uint32_t addr, struct stm32dfu_leave_result *result);

/* Over a serial port opened with options.reset_seq: drives its exit sequence (the default: BOOT0
 * low, then an NRST pulse), so the chip restarts from a real reset into its application, as
 * stm32flash's -R does with -i. Nothing is sent on the line afterwards, so nothing confirms the
 * application runs; the session's bootloader is gone (close it). STM32DFU_E_USAGE without
 * reset_seq or when it has no exit part. Added in 0.7. */
int stm32dfu_leave_reset(struct stm32dfu_session *s);

/* ---- 0.3: write and verify an image in memory, with the whole report ------------------------ */
/* One contiguous piece of an image: a file's segment, or a buffer. */
struct stm32dfu_segment {
	uint32_t address;
	unsigned alt;                /* the alternate setting it is for: 0 (flash) unless a .dfu target names another */
	const void *data;
	size_t len;
};

/* How a write goes. Zero-initialise for the defaults (verify, skip unchanged sectors, stay in DFU). */
struct stm32dfu_write_ex_options {
	int no_verify;               /* skip the read-back (the write is then not proven) */
	int full;                    /* erase and program every touched sector, even unchanged ones */
	int leave;                   /* leave DFU and start the application when done */
	int has_leave_address;       /* ... at leave_address instead of the image's vector table: the one whose
	                                reset vector is the file's entry point, else the lowest one (none:
	                                STM32DFU_E_USAGE before anything is written) */
	uint32_t leave_address;
	double vdd;                  /* > 0: the board's supply in volts, as in stm32dfu_erase_options */
	int otp_permanent;           /* data may go to OTP memory, which can never be erased (else refused) */
	int otp_after_flash;         /* data in flash and in OTP (a serial number in OTP): the OTP bytes are
	                                checked first and programmed once the flash is written and verified */
	unsigned ob_confirm;         /* a raw option-byte block (alt of the option bytes): the STM32DFU_CONFIRM_*
	                                risks it may carry, as for stm32dfu_ob_set */
	int has_entry;               /* the file's entry point (ELF e_entry, HEX record 05, S7/S8/S9), for leave: */
	uint32_t entry;              /* segments carry none; a file read by stm32dfu_write_file_ex has its own */
};

/* What a touched sector holds after a write, finished or not. */
enum stm32dfu_sector_state {
	STM32DFU_SECTOR_OLD = 0,     /* not erased by this write: what it held before (or already the image) */
	STM32DFU_SECTOR_ERASED = 1,  /* erased, nothing programmed since */
	STM32DFU_SECTOR_NEW = 2,     /* erased and rewritten (verified unless no_verify) */
	STM32DFU_SECTOR_PARTIAL = 3, /* erased and partly rewritten, or not proven: neither old nor new */
};
struct stm32dfu_sector_report {
	unsigned index;              /* as the flash layout numbers sectors */
	uint32_t address;
	uint32_t size;
	int state;                   /* enum stm32dfu_sector_state */
};
struct stm32dfu_phase_time {
	uint64_t bytes;
	uint64_t us;
};
/* A session's link recovery so far (whole session, not one call). */
struct stm32dfu_link_counters {
	unsigned retries;            /* transfers repeated */
	unsigned resyncs;            /* DFU state re-established (CLRSTATUS/ABORT) */
	unsigned reconnects;         /* the device was found again on the bus */
	unsigned rewrites;           /* sectors erased and programmed again after a fault */
	unsigned transfer_splits;    /* transfers split into smaller ones */
};

#define STM32DFU_MAX_SECTOR_REPORTS 256
#define STM32DFU_PATH_MAX 1024

struct stm32dfu_write_report {
	uint64_t image_bytes;
	uint64_t bytes_programmed;
	uint64_t preserved_bytes;    /* bytes outside the image in erased sectors, written back */
	unsigned sectors_touched, sectors_erased, sectors_skipped;
	unsigned runs, blocks;       /* contiguous runs programmed, and data DNLOADs sent (a refused or
	                                repeated block counts again) */
	uint32_t transfer_size;      /* bytes per data DNLOAD at the end: wTransferSize (or the session's
	                                limit), less after the chip refused long blocks */
	int verified;
	int otp;                     /* the data went to OTP memory, not flash */
	char memory[64];             /* the memory written when it is not flash ("RAM", "OTP Memory",
	                                "Option Bytes"), "" for flash (then there are sectors) */
	uint32_t memory_address;     /* the lowest address written there */
	int ob_protection_active;    /* option bytes: RDP >= 1 written, and the refused read-back confirms it */
	int canceled;                /* stopped by SIGINT/SIGTERM at a transfer boundary */
	int voltage_range;           /* the range set for vdd (0-3), -1 when none was set */
	struct stm32dfu_phase_time read, erase, program, verify;
	int mismatch;                /* the verify found a difference: */
	uint32_t mismatch_address;
	uint8_t expected, actual;
	int blocked_sector;          /* a write-protected sector that explains it, or -1 */
	int left;                    /* left DFU (options leave): leave says how */
	struct stm32dfu_leave_result leave; /* address 0 when leaving was not tried */
	struct stm32dfu_link_counters link;
	unsigned n_sectors;          /* touched sectors; sectors[] holds the first STM32DFU_MAX_SECTOR_REPORTS */
	struct stm32dfu_sector_report sectors[STM32DFU_MAX_SECTOR_REPORTS];
	/* the recovery file saved before the first erase, kept while the chip lacks its bytes ("" when
	 * none was needed, or once a verified write deleted it) */
	char recovery_file[STM32DFU_PATH_MAX];
	/* an earlier unfinished write's recovery file that this one applied first, and its sectors */
	char restored_from[STM32DFU_PATH_MAX];
	unsigned restored_sectors;
	int ob_bootloader_gone;      /* option bytes with RDP level 2: the chip reset and left the bus for good
	                                (level 2 has no bootloader) */
};

/* Writes the segments: the same plan, skip, erase, program and read-back check as
 * stm32dfu_write_file. report (may be NULL) is filled on failure too: which sectors hold what. */
int stm32dfu_write_ex(struct stm32dfu_session *s, const struct stm32dfu_segment *segments, size_t n,
                      const struct stm32dfu_write_ex_options *options, struct stm32dfu_write_report *report);

struct stm32dfu_verify_report {
	uint64_t bytes;              /* compared */
	int match;
	uint64_t mismatches;         /* bytes that differ */
	uint32_t first_mismatch;
	uint8_t expected, actual;    /* at first_mismatch */
	double seconds;
};
/* Checks the chip holds the segments: 0, or STM32DFU_E_VERIFY with report saying where. */
int stm32dfu_verify_ex(struct stm32dfu_session *s, const struct stm32dfu_segment *segments, size_t n,
                       struct stm32dfu_verify_report *report);

/* Where a file's data goes, for the _file_ex calls. Zero-initialise for the defaults. */
struct stm32dfu_file_options {
	int has_address;             /* a raw .bin goes to address instead of the start of flash (0x08000000) */
	uint32_t address;
	int force;                   /* accept a .dfu file whose suffix names another device */
};
/* stm32dfu_write_ex and stm32dfu_verify_ex for a .bin/.hex/.srec/.elf/.dfu file. file_options and
 * options may be NULL. */
int stm32dfu_write_file_ex(struct stm32dfu_session *s, const char *path, const struct stm32dfu_file_options *file_options,
                           const struct stm32dfu_write_ex_options *options, struct stm32dfu_write_report *report);
int stm32dfu_verify_file_ex(struct stm32dfu_session *s, const char *path, const struct stm32dfu_file_options *file_options,
                            struct stm32dfu_verify_report *report);

/* Puts back what an unfinished write saved (the chip's recovery file, found by its UID): erase,
 * program, verify, then the file is deleted. 1 (and nothing done) when the chip has none.
 * options as for stm32dfu_write_ex (may be NULL). */
int stm32dfu_recover(struct stm32dfu_session *s, const struct stm32dfu_write_ex_options *options,
                     struct stm32dfu_write_report *report);

/* ---- 0.6: cancel a running call; erase exactly a range of bytes ------------------------------ */
/* Asks the call running on s (in another thread, or the one a signal interrupted) to stop at the
 * next transfer boundary, never inside a control transfer: it returns STM32DFU_E_CANCELED, its
 * report saying what each sector holds and naming the recovery file (canceled set). Safe from a
 * signal handler and from any thread at any time while s is open: it is one lock-free atomic
 * store. The request stays: calls made while it is set stop at their first boundary, until
 * stm32dfu_cancel_reset(s) (same guarantees), which a program calls before its next long call.
 * It works alongside session_options.cancel (either one stops the call). */
void stm32dfu_cancel(struct stm32dfu_session *s);
void stm32dfu_cancel_reset(struct stm32dfu_session *s);

/* Erases exactly [address, address+length) of the flash: the other bytes of the sectors it touches
 * are kept the way stm32dfu_write_ex keeps bytes outside an image (read back, saved to the recovery
 * file, erased, programmed back, verified); a sector whose range is blank already is not erased.
 * STM32DFU_ERASE_RANGE (stm32dfu_erase_ex, stm32dfu_erase_range) erases whole sectors instead.
 * vdd as in stm32dfu_erase_options (0: leave the voltage range). report (may be NULL) as for
 * stm32dfu_write_ex, on failure too: which sectors hold what, and the recovery file. */
int stm32dfu_erase_bytes(struct stm32dfu_session *s, uint32_t address, uint32_t length, double vdd,
                         struct stm32dfu_write_report *report);

#ifdef __cplusplus
}
#endif
#endif
