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

#include "core/err.h"

#define TARGET_MAX_REGIONS 16
#define TARGET_MAX_RUNS 8

enum target_kind { TARGET_DFUSE, TARGET_AN3155 };

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
	/* Makes the memory at addr the one the next requests address (DfuSe: its alt setting, as a
	 * SET_INTERFACE; nothing to do where every command carries its address). */
	int (*select)(struct target *t, uint32_t addr);
	void (*close)(struct target *t);
};

struct target {
	const struct target_ops *ops;
	void *impl;
	enum target_kind kind;
	uint32_t caps;          /* TARGET_CAP_* */
	uint32_t max_transfer;  /* bytes per read/write request on the wire (2048, 256...) */
	uint32_t write_align;   /* bytes (4 for AN3155; the family's for DfuSe) */
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
static inline void target_close(struct target *t)
{
	if (t)
		t->ops->close(t);
}

/* ---- the two implementations ---- */

struct dfu_dev;
struct an3155;

/* DfuSe over an opened dfu session (not owned); regions from the alt strings. */
int target_dfuse_new(struct dfu_dev *d, struct target **out, struct err *e);

/* AN3155 over a connected bootloader (not owned: an3155_connect done); the memory map from chip/
 * by the device ID and, where the ROM lets it be read, the flash-size register. */
int target_an3155_new(struct an3155 *b, struct target **out, struct err *e);

#endif
