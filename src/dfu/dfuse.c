/* DfuSe commands and block transfers (see dfuse.h). */
#include "dfu/dfuse.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/rd.h"

/* Largest run one Set Address can cover: wBlockNum is 16 bits and starts at 2 (AN3156 §4.1). */
#define DFUSE_MAX_BLOCKS (0xFFFFu - DFUSE_FIRST_DATA_BLOCK + 1u)

static int need_dfuse(struct dfu_dev *d, const char *what)
{
	if (d->dfuse)
		return 0;
	return err_set(&d->err, STM32DFU_E_UNSUPPORTED, "%s: not a DfuSe device (bcdDFUVersion %04x)", what,
	               d->desc.func.bcdDFUVersion);
}

/*
 * One command: DNLOAD wValue 0, then GETSTATUS. AN3156 §5.1 says the first GETSTATUS triggers
 * the command and reports dfuDNBUSY, and the one after bwPollTimeout reports the result. A device
 * that finishes at once and reports dfuDNLOAD-IDLE/OK on the first poll is accepted (the outcome
 * is unambiguous); dfuERROR is the device's error; any other state is a protocol error, as
 * dfu-util's "Wrong state after command" is.
 */
static int command(struct dfu_dev *d, const uint8_t *cmd, uint16_t len, unsigned ceiling_ms, const char *what)
{
	int r = need_dfuse(d, what);
	if (r < 0)
		return r;
	/* the operation's ceiling bounds the DNLOAD too: a device may do the work before it completes
	 * the request, and a plain 5 s would call a mass erase in progress a timeout */
	r = dfu_dnload_wait_held(d, 0, cmd, len, ceiling_ms);
	if (r < 0)
		return err_prefix(&d->err, "%s", what);
	return 0;
}

int dfuse_set_address(struct dfu_dev *d, uint32_t addr)
{
	uint8_t cmd[5] = {DFUSE_CMD_SET_ADDRESS};
	put_le32(cmd + 1, addr);
	char what[32];
	snprintf(what, sizeof what, "set address 0x%08X", (unsigned)addr);
	return command(d, cmd, sizeof cmd, d->limits.command_ms, what);
}

int dfuse_erase_page(struct dfu_dev *d, uint32_t addr)
{
	uint8_t cmd[5] = {DFUSE_CMD_ERASE};
	put_le32(cmd + 1, addr);
	char what[32];
	snprintf(what, sizeof what, "erase 0x%08X", (unsigned)addr);
	return command(d, cmd, sizeof cmd, d->limits.erase_ms, what);
}

int dfuse_mass_erase(struct dfu_dev *d)
{
	uint8_t cmd[1] = {DFUSE_CMD_ERASE};
	return command(d, cmd, sizeof cmd, d->limits.mass_erase_ms, "mass erase");
}

int dfuse_read_unprotect(struct dfu_dev *d)
{
	int r = need_dfuse(d, "read unprotect");
	if (r < 0)
		return r;
	uint8_t cmd[1] = {DFUSE_CMD_READ_UNPROTECT};
	r = dfu_dnload(d, 0, cmd, sizeof cmd);
	if (r < 0)
		return err_prefix(&d->err, "read unprotect");
	struct dfu_getstatus st;
	r = dfu_get_status(d, &st);
	/* AN3156 §5.4: dfuDNBUSY, then the device disconnects, erases and resets */
	if (r == STM32DFU_E_DISCONNECTED || r == STM32DFU_E_TIMEOUT || r == STM32DFU_E_USB_IO) {
		err_clear(&d->err);
		return 0;
	}
	if (r < 0)
		return err_prefix(&d->err, "read unprotect");
	if (st.bState == dfuDNBUSY || (st.bState == dfuDNLOAD_IDLE && st.bStatus == DFU_STATUS_OK))
		return 0;
	dfu_status_error(d, &st, "GETSTATUS");
	return err_prefix(&d->err, "read unprotect");
}

int dfuse_get_commands(struct dfu_dev *d, uint8_t *buf, size_t cap)
{
	int r = need_dfuse(d, "get commands");
	if (r < 0)
		return r;
	uint16_t len = cap > d->transfer_size ? d->transfer_size : (uint16_t)cap;
	r = dfu_abort_to_idle(d);
	if (r >= 0)
		r = dfu_upload(d, 0, buf, len);
	if (r < 0)
		return err_prefix(&d->err, "get commands");
	int n = r;
	r = dfu_abort(d); /* a short frame ends the upload, but not every ROM goes back to dfuIDLE */
	return r < 0 ? err_prefix(&d->err, "get commands") : n;
}

int dfuse_upload_refusal(struct dfu_dev *d)
{
	struct err stall = d->err;
	struct dfu_getstatus st;
	if (dfu_get_status(d, &st) == 0 && st.bState == dfuERROR)
		return dfu_status_error(d, &st, "UPLOAD");
	d->err = stall;
	return STM32DFU_E_STALL;
}

int dfuse_read(struct dfu_dev *d, uint32_t addr, uint8_t *buf, size_t len)
{
	int r = need_dfuse(d, "read");
	if (r < 0)
		return r;
	const size_t ts = d->transfer_size;
	if ((uint64_t)addr + len > (uint64_t)UINT32_MAX + 1)
		return err_set(&d->err, STM32DFU_E_RANGE, "read: 0x%08X + %zu runs past 4 GiB", addr, len);
	size_t done = 0;
	while (done < len) {
		size_t run = len - done;
		if (run > (size_t)DFUSE_MAX_BLOCKS * ts)
			run = (size_t)DFUSE_MAX_BLOCKS * ts;
		uint32_t at = addr + (uint32_t)done;
		r = dfuse_set_address(d, at);
		if (r >= 0)
			r = dfu_abort_to_idle(d);
		if (r < 0)
			return err_prefix(&d->err, "read 0x%08X", at);
		for (size_t off = 0; off < run; off += ts) {
			uint16_t n = (uint16_t)(run - off < ts ? run - off : ts);
			uint16_t block = (uint16_t)(DFUSE_FIRST_DATA_BLOCK + off / ts);
			r = dfu_upload(d, block, buf + done + off, n);
			if (r >= 0 && r != n)
				r = err_set(&d->err, STM32DFU_E_PROTOCOL, "UPLOAD: %d bytes, want %u", r, n);
			if (r == STM32DFU_E_STALL)
				r = dfuse_upload_refusal(d);
			if (r < 0)
				return err_prefix(&d->err, "read block %u at 0x%08X", block, at + (uint32_t)off);
		}
		done += run;
		/* full-length frames leave the device in dfuUPLOAD-IDLE (DFU11 §6.2); back to dfuIDLE */
		r = dfu_abort(d);
		if (r < 0)
			return err_prefix(&d->err, "read");
	}
	return 0;
}

int dfuse_write(struct dfu_dev *d, uint32_t addr, const uint8_t *data, size_t len)
{
	int r = need_dfuse(d, "write");
	if (r < 0)
		return r;
	const size_t ts = d->transfer_size;
	if ((uint64_t)addr + len > (uint64_t)UINT32_MAX + 1)
		return err_set(&d->err, STM32DFU_E_RANGE, "write: 0x%08X + %zu runs past 4 GiB", addr, len);
	size_t done = 0;
	while (done < len) {
		size_t run = len - done;
		if (run > (size_t)DFUSE_MAX_BLOCKS * ts)
			run = (size_t)DFUSE_MAX_BLOCKS * ts;
		uint32_t at = addr + (uint32_t)done;
		r = dfuse_set_address(d, at);
		if (r < 0)
			return err_prefix(&d->err, "write");
		for (size_t off = 0; off < run; off += ts) {
			uint16_t n = (uint16_t)(run - off < ts ? run - off : ts);
			uint16_t block = (uint16_t)(DFUSE_FIRST_DATA_BLOCK + off / ts);
			r = dfu_dnload_wait(d, block, data + done + off, n, d->limits.program_ms);
			if (r < 0)
				return err_prefix(&d->err, "write block %u at 0x%08X", block, at + (uint32_t)off);
		}
		done += run;
	}
	return 0;
}

int dfuse_leave(struct dfu_dev *d, bool have_addr, uint32_t addr)
{
	int r = need_dfuse(d, "leave");
	if (r < 0)
		return r;
	if (have_addr) {
		r = dfuse_set_address(d, addr);
		if (r < 0)
			return err_prefix(&d->err, "leave");
	}
	r = dfu_dnload_held(d, DFUSE_FIRST_DATA_BLOCK, NULL, 0, d->limits.command_ms);
	if (r < 0)
		return err_prefix(&d->err, "leave");
	struct dfu_getstatus st;
	r = dfu_get_status(d, &st);
	if (r < 0) {
		/* the chip may reset before it answers (H750 log, protocol.md §2.5): probably left */
		log_debug("leave: GETSTATUS failed (%s); the device probably left", stm32dfu_errname(r));
		err_clear(&d->err);
		return DFUSE_LEFT_PROBABLY;
	}
	if (st.bState == dfuMANIFEST || st.bState == dfuMANIFEST_WAIT_RESET || st.bState == dfuMANIFEST_SYNC)
		return DFUSE_LEFT;
	if (st.bState == dfuERROR || st.bStatus != DFU_STATUS_OK)
		dfu_status_error(d, &st, "GETSTATUS");
	else
		err_set(&d->err, STM32DFU_E_PROTOCOL, "GETSTATUS: %s after the leave request (want dfuMANIFEST)",
		        dfu_state_name(st.bState));
	return err_prefix(&d->err, "leave");
}
