/*
 * ST's DfuSe extension (AN3156 §4-5): commands sent as DNLOAD with wValue 0, and memory blocks
 * addressed as pointer + (wBlockNum - 2) * wTransferSize. Runs are contiguous: Set Address once,
 * then blocks 2, 3, 4... each exactly the device's wTransferSize long except the last (the
 * device computes addresses with ITS transfer size, ST-MW usbd_dfu.c). Which runs to write and
 * which sectors to erase is planned by ops/; this layer only speaks the protocol.
 */
#ifndef DFU_DFUSE_H
#define DFU_DFUSE_H

#include "dfu/dfu.h"

/* Set Address Pointer, 21 a0 a1 a2 a3 (AN3156 §5.2). Leaves the device in dfuDNLOAD-IDLE. */
int dfuse_set_address(struct dfu_dev *d, uint32_t addr);
/* Erase the page/sector containing addr, 41 a0..a3 (AN3156 §5.3), within limits.erase_ms. */
int dfuse_erase_page(struct dfu_dev *d, uint32_t addr);
/* Mass erase, 41 (AN3156 §5.3), within limits.mass_erase_ms. */
int dfuse_mass_erase(struct dfu_dev *d);
/*
 * Read Unprotect, 92 (AN3156 §5.4). The device answers one GETSTATUS with dfuDNBUSY, then
 * mass-erases and resets: a disconnect or timeout after that is success. The caller must reopen.
 */
int dfuse_read_unprotect(struct dfu_dev *d);
/* Get Commands, UPLOAD wValue 0 (AN3156 §4.2). Returns the number of command bytes. */
int dfuse_get_commands(struct dfu_dev *d, uint8_t *buf, size_t cap);

/*
 * Reads len bytes from addr: Set Address, ABORT to dfuIDLE (an UPLOAD needs dfuIDLE, AN3156 §4.1),
 * UPLOAD blocks 2, 3, ..., then ABORT back to dfuIDLE. A run longer than the 16-bit block number
 * allows is split with a new Set Address.
 */
int dfuse_read(struct dfu_dev *d, uint32_t addr, uint8_t *buf, size_t len);


/*
 * After an UPLOAD stalled: the ROM refuses a read with a stall, and GETSTATUS says why (AN3156
 * §5.1): errVENDOR under read protection gives STM32DFU_E_PROTECTED, another status
 * STM32DFU_E_DFU_STATUS (d->last holds it); no status to read leaves STM32DFU_E_STALL.
 */
int dfuse_upload_refusal(struct dfu_dev *d);

/*
 * Writes len bytes at addr: Set Address, then DNLOAD blocks 2, 3, ... each followed by the wait
 * rule (limits.program_ms per block). The memory must already be erased (AN3156 §5.1).
 */
int dfuse_write(struct dfu_dev *d, uint32_t addr, const uint8_t *data, size_t len);

/* What happened at leave. */
enum dfuse_leave_result {
	DFUSE_LEFT = 0,          /* GETSTATUS said dfuMANIFEST (AN3156 §5.5) */
	DFUSE_LEFT_PROBABLY = 1, /* the GETSTATUS failed or went unanswered: the chip reset first
	                          * (H750 log); the caller confirms by re-enumeration */
};
/*
 * Leave DFU (AN3156 §5.5): optional Set Address (the jump goes to the vector table there),
 * a zero-length DNLOAD (wValue 2, as dfu-util and fwupd send), one GETSTATUS. Not an error when
 * the device is gone before it answers. Returns a dfuse_leave_result or a negative error.
 */
int dfuse_leave(struct dfu_dev *d, bool have_addr, uint32_t addr);

#endif
