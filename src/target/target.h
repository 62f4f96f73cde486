/*
 * target/: the chip's bootloader as memory operations (design.md "target/"). ops/ plans, keeps,
 * verifies and recovers once; a target does what the bootloader can do, whatever the wire:
 *   target_dfuse.c   DfuSe over dfu/ and usb/ (alt settings chosen by address, never by ops/)
 *   target_an3155.c  the USART bootloader over uart/ and serial/
 * New bootloader transports (I2C, SPI, CAN: AN4221, AN4286, AN3154) are a third implementation.
 *
 * Addresses are the chip's; memories are described once (target_region) whichever way the
 * bootloader exposes them (DfuSe alt strings; for AN3155 the device ID and the flash-size
 * register through chip/'s family table). Every call returns 0 or a negative enum stm32dfu_err,
 * with the sentence in t->err. Calls a bootloader cannot do return STM32DFU_E_UNSUPPORTED before
 * any byte is sent, so ops/ can choose another way (a Write Protect command, or an option-byte
 * write; Get Checksum, or a read back).
 */
#ifndef TARGET_TARGET_H
#define TARGET_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chip/layout.h"
#include "core/err.h"

#define TARGET_MAX_REGIONS 16
#define TARGET_MAX_RUNS 8
/* Pieces one point may be followed by: DfuSe numbers them 2..0xFFFF (wBlockNum, AN3156 4.1). */
#define TARGET_MAX_RUN_PIECES 0xFFFEu

enum target_kind { TARGET_DFUSE, TARGET_AN3155 };

/* peek's answer: where a chip stands between requests (DfuSe's states that ops/ acts on). */
enum target_state {
	TARGET_ST_IDLE,          /* dfuIDLE: a new request may start */
	TARGET_ST_DNLOAD_IDLE,   /* a block was programmed; the pointer moved on */
	TARGET_ST_DNLOAD_SYNC,   /* a block arrived and waits for the GETSTATUS that programs it */
	TARGET_ST_UPLOAD_IDLE,   /* a frame was sent */
	TARGET_ST_OTHER,
};

enum target_mem {
	TARGET_MEM_FLASH,   /* erasable sectors/pages; programming only clears bits */
	TARGET_MEM_OB,      /* option bytes: written whole, the chip resets to load them */
	TARGET_MEM_OTP,     /* programmable, never erased */
	TARGET_MEM_RAM,
	TARGET_MEM_SYSTEM,  /* system memory (the ROM), UID, flash-size register: read only */
	TARGET_MEM_EEPROM,  /* L0/L1 data EEPROM */
	TARGET_MEM_FEATURE, /* DfuSe Device Feature (program parallelism) */
};

/* A run of equal sectors: count x size bytes. */
struct target_run {
	uint32_t count, size;
};

struct target_region {
	enum target_mem kind;
	uint32_t addr, size;
	struct target_run runs[TARGET_MAX_RUNS]; /* FLASH, OTP: the sectors in order; else one run */
	size_t n_runs;
	uint32_t addr2, size2;                   /* a second zone of the same memory, 0 none (the G4's
	                                          * bank-2 option bytes; a DfuSe alt's second region) */
	bool readable, writable, erasable;
	char name[384];                          /* "Internal Flash", "Option Bytes" (never cut) */
};

/* What the chip is. Fields unknown to a transport are left 0 / false. */
struct target_identity {
	uint16_t dev_id;              /* DBGMCU device ID: AN3155 Get ID; DfuSe: from chip/ identify */
	bool has_uid;
	uint8_t uid[12];              /* read from the family's UID address */
	uint32_t flash_size;          /* bytes, from the flash-size register when readable */
	char bootloader[16];          /* "AN3155 3.1", "DfuSe V9.0" */
	int rdp_level;                /* 0, 1, 2; -1 unknown */
	/* DfuSe only */
	uint16_t usb_vid, usb_pid;
	char usb_serial[384];      /* TP_STRING_MAX: never cut */
};

/* A USB string descriptor's text, never cut (TP_STRING_MAX in usb/transport.h). */
#define TARGET_STRING_MAX 384

/* The link as the target holds it, known without asking the chip (target_link_of): where the chip
 * is and what the connection gave. Fields a link does not have are 0 / "". */
struct target_link {
	enum target_kind kind;
	/* Where: over USB the device as enumerated (its descriptors and strings); over USART path is
	 * the port's name (cut to 31 characters), product "USART bootloader", no USB identity. */
	uint16_t vid, pid, bcd_device;
	uint8_t busnum, devnum;
	char path[32];                          /* "1-1.4", as dfu-util prints it; "sim" for the emulator */
	char manufacturer[TARGET_STRING_MAX];
	char product[TARGET_STRING_MAX];
	char serial[TARGET_STRING_MAX];
	int dfu_interface;                      /* the DFU interface's number; -1 unknown or USART */
	/* What the connection gave */
	uint16_t dev_id;          /* AN3155: the DBGMCU device ID Get ID gave (AN3155 3.3); DfuSe has no such
	                           * request (the family comes from the alt strings and reads) */
	uint8_t version;          /* AN3155: the protocol version GET gave (0x31 = 3.1) */
	char version_text[8];     /* the same as "3.1" */
	char port[256];           /* AN3155: the serial port as it was named (SER name) */
	unsigned baud;            /* AN3155: the rate the port runs at now */
	uint64_t faults;          /* AN3155: commands the protocol repeated or answers it waited out so far
	                           * (its own retries, below ops/'s); DfuSe: 0, ops/ retries every request */
};

/* What this bootloader has (from GET, or the DfuSe command list). */
enum {
	TARGET_CAP_MASS_ERASE = 1u << 0,
	TARGET_CAP_BANK_ERASE = 1u << 1,
	TARGET_CAP_CHECKSUM = 1u << 2,       /* AN3155 Get Checksum */
	TARGET_CAP_WRITE_PROTECT = 1u << 3,  /* protect/unprotect commands (AN3155); DfuSe: through OB */
	TARGET_CAP_READOUT_PROTECT = 1u << 4,
	TARGET_CAP_GO = 1u << 5,
	/* the chip's leaving is seen on the host (the USB device leaves the bus), so after go the
	 * caller can watch whether the bootloader comes back; over USART nothing may be sent after Go
	 * (a 0x7F would reach the application) */
	TARGET_CAP_LEAVE_SEEN = 1u << 6,
};

struct target;

struct target_ops {
	const char *name; /* "dfuse", "an3155" */
	int (*identity)(struct target *t, struct target_identity *out);
	/* The memories, flash first. */
	int (*regions)(struct target *t, struct target_region *out, size_t cap, size_t *n);
	/* Any length; the target splits it into its transfer size (DfuSe wTransferSize, AN3155 256). */
	int (*read)(struct target *t, uint32_t addr, uint8_t *buf, size_t len);
	/* Programs bytes (the flash must have been erased by the caller's plan); any length that is a
	 * multiple of write_align at an aligned address. Writing the OB region goes through ob_write. */
	int (*write)(struct target *t, uint32_t addr, const uint8_t *buf, size_t len);
	/* Erases the flash sectors/pages with these indices (in region 0's order). */
	int (*erase)(struct target *t, const unsigned *sectors, size_t n);
	/* Mass erase (bank 0), or one bank (1, 2). */
	int (*erase_mass)(struct target *t, int bank);
	/* STM32 CRC of len bytes (UNSUPPORTED when the bootloader has no such command). */
	int (*checksum)(struct target *t, uint32_t addr, uint32_t len, uint32_t *crc);
	/* Leave the bootloader: run the code at addr (have_addr) or the bootloader's default.
	 * 1 when the bootloader confirmed it (DfuSe dfuMANIFEST, AN3155's second ACK), 0 when the
	 * request went out and the chip was gone before it said (TARGET_CAP_LEAVE_SEEN: watch). */
	int (*go)(struct target *t, bool have_addr, uint32_t addr);
	/* Option bytes: write the block (or one zone of it) and wait until the chip resets to load
	 * them (*reset), or says it took them without a reset (DfuSe ROMs that load them at the next
	 * one: *reset false). The caller then finds the chip again (reconnect) and checks it is the
	 * same one: the reset is the chip's, the checks are ops/'s. */
	int (*ob_write)(struct target *t, uint32_t addr, const uint8_t *buf, size_t len, bool *reset);
	/* Protection commands: each ends in a reset, as ob_write; the caller reconnects. */
	int (*write_protect)(struct target *t, const unsigned *sectors, size_t n);
	int (*write_unprotect)(struct target *t);
	int (*readout_protect)(struct target *t);
	int (*readout_unprotect)(struct target *t); /* mass-erases the flash, then resets */
	/* Finds the same chip again after a reset (USB re-enumeration and a new DFU session; 0x7F,
	 * then Get ID: the same device ID), waiting at most timeout_ms for it. */
	int (*reconnect)(struct target *t, unsigned timeout_ms);
	/* Makes memory number m of the session's map (DfuSe: alt setting m, as ops/ numbers the
	 * memories) the one the next requests address: a SET_INTERFACE when another is selected;
	 * nothing to do where every command carries its address. */
	int (*select)(struct target *t, unsigned m);

	/*
	 * The pieces ops/'s retrying transfers are made of (recover.c, write.c, write_mem.c). ops/
	 * keeps the policy: the retry budget, the transfer-size chooser, progress and cancel between
	 * pieces, what a failure means for the plan. A transfer is a run: point at its start, then
	 * pieces at addresses after it. DfuSe numbers the pieces (block 2 + offset / wTransferSize
	 * from the point, AN3156 4.1), so a piece off that grid needs its own point; AN3155 commands
	 * carry their address, so there point costs nothing.
	 */
	/* DfuSe Set Address Pointer (for_read: then ABORT, so the UPLOAD finds dfuIDLE). */
	int (*point)(struct target *t, uint32_t addr, bool for_read);
	/* Reads n bytes at addr (a piece of the run pointed at): exactly n, or an error; a refusal
	 * explained (protection: PROTECTED, an address the chip does not serve: RANGE). */
	int (*upload)(struct target *t, uint32_t addr, uint8_t *buf, size_t n);
	/* Programs n bytes at addr (a piece of the run) and waits for the chip to finish it.
	 * *not_sent: the request itself failed, so the chip cannot have programmed it (DfuSe
	 * programs at the GETSTATUS after the block, protocol.md 2.7a). */
	int (*dnload)(struct target *t, uint32_t addr, const uint8_t *buf, size_t n, bool *not_sent);
	/* Ends a run: DfuSe ABORT back to dfuIDLE (later: before the next request that needs it). */
	int (*abort)(struct target *t, bool later);
	/* Where the chip stands, asked without making it act (DfuSe GETSTATE); UNSUPPORTED where
	 * the bootloader has no such question (ops/ then takes the long way). */
	int (*peek)(struct target *t, int *state);
	/* After a failure: the bootloader back to where a request may start (DfuSe: dfuIDLE, the H7
	 * busy wedge cleared, memory m selected again even if unchanged since a reset selects alt 0;
	 * m < 0: none; quick: a busy chip gets one sector-erase time, not a mass erase's). AN3155:
	 * what the port holds dropped (uart/ brings the ROM's parser back itself). */
	int (*resync)(struct target *t, int m, bool quick);
	/* Erases the flash sector that starts at addr (AN3155: its number from the target's map). */
	int (*erase_at)(struct target *t, uint32_t addr);
	/* Brings a chip stuck busy after an erase back (DfuSe: CLRSTATUS until dfuIDLE, the H7 rev V
	 * wedge, protocol.md 2.7); UNSUPPORTED elsewhere. */
	int (*clear_busy)(struct target *t);
	/* Whether the last failure was the chip refusing the address (DfuSe errTARGET, AN3156 5.1):
	 * asking again gets the same answer. */
	bool (*refused_address)(const struct target *t);
	/* Whether the last failure was the chip answering but staying busy (DfuSe dfuDNBUSY past
	 * every poll): the flash work did not end, the link is not to blame. */
	bool (*stayed_busy)(const struct target *t);
	/* The link record (struct target_link); no I/O. */
	void (*link)(const struct target *t, struct target_link *out);
	void (*close)(struct target *t);
};

struct target {
	const struct target_ops *ops;
	void *impl;
	enum target_kind kind;
	uint32_t caps;          /* TARGET_CAP_* */
	uint32_t max_transfer;  /* bytes per read/write request on the wire (2048, 256...) */
	uint32_t write_align;   /* the bootloader's own unit, bytes (4 for AN3155 Write Memory; 1 for a
	                         * DfuSe DNLOAD): the planner takes the larger of it and the family's */
	uint32_t erase_batch;   /* sectors one erase call sends as one command: DfuSe 1 (a command per
	                         * sector), AN3155 the list its erase command takes within every ROM's
	                         * limit (Extended Erase 500, Erase 255) */
	/* Set by ops/ for the time of a write (NULL: none). Called when a flash block's request got
	 * no answer, before any other byte goes to the chip: over USART the next bytes may complete
	 * the frame, programmed shifted (docs/usart.md), so the block may hold anything until its
	 * sector is erased again, and the caller notes that in its recovery file first. < 0 stops the
	 * write there, with the sentence in *e. DfuSe never calls it (USB's CRC guards each block). */
	int (*unsettled)(void *ctx, uint32_t addr, size_t len, struct err *e);
	void *unsettled_ctx;
	struct err err;
};

static inline int target_read(struct target *t, uint32_t a, uint8_t *b, size_t n)
{
	return t->ops->read(t, a, b, n);
}
static inline int target_write(struct target *t, uint32_t a, const uint8_t *b, size_t n)
{
	return t->ops->write(t, a, b, n);
}
static inline int target_erase(struct target *t, const unsigned *s, size_t n)
{
	return t->ops->erase(t, s, n);
}
static inline void target_link_of(const struct target *t, struct target_link *out)
{
	t->ops->link(t, out);
}
static inline void target_close(struct target *t)
{
	if (t)
		t->ops->close(t);
}

/* The CRC the checksum call answers (the STM32 CRC unit's: CRC-32/MPEG-2, AN3155 Get Checksum),
 * computed on the host over bytes it holds, to compare with the chip's. */
uint32_t target_crc(const uint8_t *buf, size_t len);

/* The session's memory map (chip/layout.h) from the target's regions, one memory per region
 * numbered in their order, each also described in UM0424's notation (what info shows); made
 * again in place (out->n is 0 first). The AN3155 target's map; a DfuSe target's is its alt
 * strings (target_dfuse_map, dfuse_link.h). */
int target_map_build(struct target *t, struct layout_map *out, struct err *e);

/* ---- the two implementations ---- */

struct dfu_dev;
struct an3155;

/* DfuSe over an opened dfu session (not owned); regions from the alt strings. */
int target_dfuse_new(struct dfu_dev *d, struct target **out, struct err *e);

/* AN3155 over a connected bootloader (not owned: an3155_connect done); the memory map from chip/
 * by the device ID and, where the ROM lets it be read, the flash-size register. */
int target_an3155_new(struct an3155 *b, struct target **out, struct err *e);

#endif
