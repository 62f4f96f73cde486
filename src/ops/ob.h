/* Option bytes over a session: read, write (the chip resets and is found again), Read Unprotect. */
#ifndef OPS_OB_H
#define OPS_OB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/session.h"

/* How long a chip may take to come back after an OB write or Read Unprotect (reset + reload). */
#define OPS_OB_RECONNECT_MS 10000u

/*
 * Reads the OB block afresh through the OB alt setting into s->id.ob (and out, cap bytes, may be
 * NULL). *len gets the block size. Errors: E_UNSUPPORTED (no OB alt), E_PROTECTED (RDP active).
 */
int ops_ob_read(struct ops_session *s, uint8_t *out, size_t cap, size_t *len);

struct ops_ob_write_result {
	bool reset_seen;        /* the chip reset after the write (as the ROM does, AN3156 §5.1) */
	bool verified;          /* the block read back equals what was written */
	bool protection_active; /* RDP >= 1 was written and reads are now refused: that refusal is the proof */
	bool bootloader_gone;   /* RDP 2 was written and the chip reset and did not come back: level 2 has
	                         * no bootloader (the manuals); it cannot be reached over DFU again */
	int wp_command;         /* 0: the block was written; else the AN3155 command that made a change of
	                         * write protection alone (0x63 Write Protect, 0x73 Write Unprotect) */
};

/*
 * Writes the whole block (len must be the device's OB size): OB alt, Set Address = OB start,
 * DNLOAD block 2, GETSTATUS (dfuDNBUSY), then the reset; reconnects, re-identifies and compares
 * the block read back field by field (E_VERIFY names the field that differs).
 */
int ops_ob_write(struct ops_session *s, const uint8_t *block, size_t len, struct ops_ob_write_result *r);

struct ops_unprotect_result {
	int rdp_before;         /* -1 unknown */
	int rdp_after;
	bool flash_erased;      /* the first flash sector reads all 0xFF */
	bool ob_default;        /* the OB block equals the family's factory default */
	uint32_t checked_addr, checked_len;
};

/* Read Unprotect (AN3156 §5.4): mass erase, default OB, reset; then reconnect and confirm RDP 0. */
int ops_unprotect(struct ops_session *s, struct ops_unprotect_result *r);

#endif
