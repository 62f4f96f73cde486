/* What a user asks for: each operation over an open session. Nothing here prints or exits. */
#ifndef OPS_OPS_H
#define OPS_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "ops/plan.h"
#include "ops/rescue.h"
#include "ops/session.h"

struct img;

/* How long the bus is watched after leaving: a ROM that could not start the application resets
 * and is back within AN2606's USB connection time (230-320 ms) plus the host's enumeration. */
#define OPS_LEAVE_WATCH_MS 3000u

/* Which rule chose the jump address (write --leave; AN3156 §5.5: the ROM loads the MSP and the
 * reset vector from the table at the address pointer). */
enum ops_leave_rule {
	OPS_LEAVE_GIVEN = 0,        /* the caller gave it */
	OPS_LEAVE_FLASH_START,      /* none given: the start of the flash alt (leave without ADDR) */
	OPS_LEAVE_ENTRY,            /* the vector table whose reset vector is the file's entry point */
	OPS_LEAVE_FIRST_TABLE,      /* the lowest address in the file whose first two words are a vector table */
};
const char *ops_leave_rule_name(enum ops_leave_rule r);

struct ops_leave_result {
	uint32_t addr;         /* the jump address, set as the address pointer right before leaving */
	enum ops_leave_rule rule;
	bool vector_read;      /* the vector table there could be read */
	uint32_t sp, reset;    /* its first two words: initial MSP and reset vector */
	bool sp_in_ram;
	bool reset_in_code;    /* the reset vector points into flash (or RAM, when leaving to RAM) */
	bool reset_thumb;      /* bit 0 set, as a Cortex-M vector must be */
	bool confirmed;        /* GETSTATUS said dfuMANIFEST before the device went away */
	bool gone;             /* the device left the bus and did not come back as the bootloader */
};
/* ---- write ---- */
struct ops_write_opts {
	bool verify;   /* read back and compare before reporting success (default true) */
	bool full;     /* erase and program every touched sector, even unchanged ones */
	bool leave;    /* leave DFU when done */
	bool have_leave_addr;
	uint32_t leave_addr;
	bool set_range;      /* --vdd: set this Device Feature voltage range before erasing (ops/vdd.h) */
	int range;
	bool otp_ok;         /* --i-understand-otp-is-permanent: data in OTP memory may be programmed */
	bool otp_last;       /* data in OTP and in flash (a serial number in OTP): the OTP bytes are checked
	                      * before anything and programmed once the flash is written and verified */
	unsigned ob_confirm; /* OB_CONFIRM_* bits (chip/ob.h) for a raw option-byte block (write_mem.c) */
};
void ops_write_opts_init(struct ops_write_opts *o);

/* What a touched sector really holds after a write, finished or not. */
enum ops_sector_state {
	OPS_SECTOR_OLD = 0,  /* not erased by this write: what it held before (or already the image) */
	OPS_SECTOR_ERASED,   /* erased, nothing programmed since */
	OPS_SECTOR_NEW,      /* erased and rewritten: holds the new contents (verified unless --no-verify) */
	OPS_SECTOR_PARTIAL,  /* erased and partly rewritten, or not proven: neither old nor new */
};
const char *ops_sector_state_name(enum ops_sector_state st);

struct ops_sector_report {
	unsigned index;
	uint32_t start;
	uint32_t size;
	enum ops_sector_state state;
};
#define OPS_MAX_SECTOR_REPORTS 256

struct ops_phase_time {
	uint64_t bytes;
	uint64_t us;
};

struct ops_write_result {
	unsigned sectors_touched;
	unsigned sectors_erased;
	unsigned sectors_skipped;
	unsigned runs;
	unsigned blocks;            /* data DNLOADs sent (a refused or repeated block counts again) */
	uint32_t transfer_size;     /* bytes per data DNLOAD at the end: -t or wTransferSize, less after
	                             * the chip refused long blocks */
	uint64_t image_bytes;
	uint64_t bytes_programmed;
	uint64_t preserved_bytes;
	bool mass_erased;           /* the erases were one mass erase (the plan's choice: faster, nothing kept) */
	bool verified;
	bool left;
	struct ops_leave_result leave;
	struct ops_phase_time read, erase, program, verify;
	/* where a verify failed */
	bool mismatch;
	uint32_t mismatch_addr;
	uint8_t expected, actual;
	int blocked_sector;  /* write-protected sector that explains a mismatch, or -1 */
	int range_set;       /* the voltage range set for this write (--vdd), or -1 */
	/* every touched sector's real state (the first OPS_MAX_SECTOR_REPORTS of n_sectors) */
	struct ops_sector_report sectors[OPS_MAX_SECTOR_REPORTS];
	unsigned n_sectors;
	/* the recovery file (rescue.h): saved before the first erase and kept while the chip lacks
	 * its bytes ("" when none was needed, or when it was deleted after a verified write) */
	char recovery_file[RESCUE_PATH_MAX];
	/* a recovery file of an earlier, unfinished write that this one applied, and its sectors */
	char restored_from[RESCUE_PATH_MAX];
	unsigned restored_sectors;
	bool canceled;       /* stopped by ops_session.cancel (SIGINT/SIGTERM) */
	bool otp;            /* the data went to OTP memory (write_otp.c), not flash */
	char memory[LAYOUT_NAME_MAX]; /* the memory written when it is not flash ("RAM", "OTP Memory", "Option Bytes"), else "" */
	uint32_t memory_addr;          /* the lowest address written there */
	bool ob_protection_active;     /* option bytes: RDP >= 1 written, and the refused read-back confirms it */
	bool ob_bootloader_gone;       /* option bytes: RDP 2 written; the chip reset and stayed off the bus */
	bool has_serial;               /* a serial number (ops/serialno.h) is part of what was written */
	uint64_t serial_number;
};

/* Plans, erases what differs, programs, verifies (unless told not to), optionally leaves. */
int ops_write(struct ops_session *s, const struct img *img, const struct ops_write_opts *o, struct ops_write_result *r);

/*
 * Applies the chip's pending recovery file without a new image: every saved sector gets its saved
 * bytes back (erase, program, verify), and the file is deleted once they are verified.
 * 1 (and nothing done) when the chip has no recovery file.
 */
int ops_recover_apply(struct ops_session *s, const struct ops_write_opts *o, struct ops_write_result *r);

/* ---- verify ---- */
struct ops_verify_result {
	uint64_t bytes;
	uint64_t us;
	bool match;
	uint64_t mismatches;
	uint32_t first_addr;
	uint8_t expected, actual;
	char cleared_recovery[RESCUE_PATH_MAX]; /* a matching verify ended this recovery file's life */
};
struct img_extent;
/* Refuses (E_RANGE, s->err set, nothing done) a file whose probed extent (image/probe.h) no memory of
 * the device holds, before the file is loaded; 0 when it may fit or the extent is unknown. what
 * names the file in the message. */
int ops_check_extent(struct ops_session *s, const struct img_extent *x, const char *what);
int ops_verify(struct ops_session *s, const struct img *img, struct ops_verify_result *r);

/* ---- read ---- */
/*
 * Reads len bytes at addr from the alt serving that address (or alt when alt >= 0). Once, unless
 * ops_reads_confirmed() (a link fault in this session, doctor's marginal verdict, --confirm-reads):
 * then a second read must agree before the data is returned. may_confirm false (the CLI's
 * --no-verify) never reads twice.
 */
int ops_read(struct ops_session *s, int alt, uint32_t addr, uint8_t *buf, size_t len, bool may_confirm);
/* Checks a read before anything is sent: alt (-1: any) exists (USAGE), the range lies in one
 * memory the alt settings list or in the family's identity registers (RANGE, "runs past the end of
 * Internal Flash"), and does not touch an address that hangs the ROM (F7 DBGMCU_IDCODE,
 * protocol.md 2.3). force skips the map and hang checks. */
int ops_read_check(struct ops_session *s, int alt, uint32_t addr, size_t len, bool force);

/* ---- erase ---- */
int ops_mass_erase(struct ops_session *s);
/* Erases the given sector numbers of the flash alt (as the layout counts them), in order, then reads
 * them back blank. *erased (may be NULL) gets the count erased: all n on success; on a failure, the
 * sectors whose erase the chip acknowledged before it (not read back), and the message says which
 * sectors were erased, which one failed and which were not reached. */
int ops_erase_sectors(struct ops_session *s, const unsigned *sectors, size_t n, unsigned *erased);
/* Erases every sector that overlaps [addr, addr+len). *erased gets the count (as above). */
int ops_erase_range(struct ops_session *s, uint32_t addr, uint32_t len, unsigned *erased);
/* The whole sectors [*first, *end) that erasing [addr, addr+len) erases (RANGE outside the flash). */
int ops_erase_span(struct ops_session *s, uint32_t addr, uint32_t len, uint32_t *first, uint64_t *end);

/* ---- leave ---- */
/* The vector table looks runnable (false when it could not be read). */
bool ops_leave_vector_ok(const struct ops_leave_result *r);

/*
 * Leaves DFU (AN3156 §5.5): reads the vector table at addr (have_addr false: the start of the flash
 * alt), sets the address pointer there, sends the leave request, then watches the bus for up to
 * OPS_LEAVE_WATCH_MS. Success only when the device has gone; STM32DFU_E_NOT_STARTED when the same
 * chip came back as the bootloader; STM32DFU_E_TIMEOUT when it never left the bus.
 */
int ops_leave(struct ops_session *s, bool have_addr, uint32_t addr, struct ops_leave_result *r);

/*
 * Where the application in img starts, for write --leave: the vector table whose reset vector is
 * the file's entry point (ELF e_entry, HEX record 05, S7/S8/S9), else the lowest address holding
 * something that looks like a vector table (MSP in RAM, Thumb reset vector into flash, or into RAM
 * for a table in RAM). Candidates are the segments' starts and every 128-byte boundary (the smallest
 * VTOR alignment, ARMv7-M B3.2.5). STM32DFU_E_USAGE, with the `leave ADDR` hint, when none is found.
 */
int ops_leave_pick(struct ops_session *s, const struct img *img, uint32_t *addr, enum ops_leave_rule *rule);

/* The flash sectors of the flash alt, as the planner wants them (heap array, free()). */
int ops_flash_sectors(struct ops_session *s, struct plan_sector **out, size_t *n, uint32_t *limit_end);

#endif
