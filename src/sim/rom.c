/*
 * The ROM's DFU 1.1 + DfuSe engine (protocol.md 1.3-1.4, 2.1-2.7), one switch per request in the
 * TinyUSB style. Where the ROM is not public, ST's USB middleware (ST-MW usbd_dfu.c) decides:
 * a request invalid in the current state STALLs and leaves the state as it was; CLRSTATUS outside
 * dfuERROR moves to dfuERROR/errUNKNOWN. DfuSe commands and data blocks run at the next
 * GETSTATUS, which answers dfuDNBUSY; the result (dfuDNLOAD-IDLE, or dfuERROR with a status) comes
 * with the first GETSTATUS after the device time the operation takes.
 */
#include <string.h>

#include "core/rd.h"
#include "sim/sim_int.h"

static const uint8_t sim_get_commands[4] = {DFUSE_CMD_GET, DFUSE_CMD_SET_ADDRESS, DFUSE_CMD_ERASE,
					     DFUSE_CMD_READ_UNPROTECT};

/* The device time at which the current request is handled (later than its arrival while EP0 is
 * held by a running flash operation, busy_reply = hold). */
static uint64_t now_us(const struct sim_device *d)
{
	return d->req_us;
}

static void set_error(struct sim_device *d, enum dfu_status status)
{
	d->state = dfuERROR;
	d->status = status;
}

static uint32_t flash_base(const struct sim_device *d)
{
	return d->flash >= 0 ? d->mem[d->flash].base : 0x08000000; /* AN3156 4.1 default pointer */
}

void sim_rom_reset(struct sim_device *d)
{
	d->state = d->start_state;
	d->status = d->start_status;
	d->alt = 0;
	d->pointer = flash_base(d);
	d->pointer_set = false;
	d->last_dl_set = false;
	d->op = SIM_OP_NONE;
	d->op_reset = false;
	d->busy_until = 0;
	d->hung = false;
	d->f.stuck = false;
	d->f.stuck_clears = 0;
	d->oversize_dnload = false;
	d->last_was_set_address = false;
	d->hold_answer = false;
	d->prog_error = false;
	sim_ob_reload(d);
}

static enum sim_result status_reply(struct sim_device *d, uint32_t poll, const struct usb_setup *s,
				    uint8_t *data, uint16_t *actual)
{
	uint8_t b[DFU_STATUS_LEN];
	b[0] = (uint8_t)d->status;
	b[1] = (uint8_t)poll;
	b[2] = (uint8_t)(poll >> 8);
	b[3] = (uint8_t)(poll >> 16);
	b[4] = (uint8_t)d->state;
	b[5] = 0;
	uint16_t n = s->wLength < DFU_STATUS_LEN ? s->wLength : DFU_STATUS_LEN;
	memcpy(data, b, n);
	*actual = n;
	return SIM_OK;
}

/* ---- DNLOAD ---- */

static bool command_valid(const uint8_t *b, uint16_t n)
{
	switch (b[0]) {
	case DFUSE_CMD_SET_ADDRESS:
		return n == 5;
	case DFUSE_CMD_ERASE:
		return n == 1 || n == 5;
	case DFUSE_CMD_READ_UNPROTECT:
		return n == 1;
	default:
		return false;
	}
}

static void leave(struct sim_device *d);

static enum sim_result dnload(struct sim_device *d, const struct usb_setup *s, const uint8_t *data)
{
	if (d->state != dfuIDLE && d->state != dfuDNLOAD_IDLE)
		return SIM_STALL;
	if (s->wLength == 0) { /* leave (AN3156 5.5): wValue 0 (pydfu) and 2 (dfu-util) both seen */
		d->state = dfuMANIFEST_SYNC;
		if (d->t.leave_at_dnload)
			leave(d); /* gone before any GETSTATUS (profile key leave_status = none) */
		return SIM_OK;
	}
	if (s->wLength > d->transfer_size || s->wValue == 1)
		return SIM_STALL; /* wBlockNum 1 is reserved; ST-MW stalls it */
	d->last_was_set_address = false;
	/* An unknown command byte STALLs at once (UNCONFIRMED: ST-MW stalls in its handler). */
	if (s->wValue == 0 && !command_valid(data, s->wLength))
		return SIM_STALL;
	/* max_dnload (L43x): the ROM takes the data stage of a longer block, then STALLs the
	 * GETSTATUS (dfu-util "Error during download get_status", dfuse-tool "Pipe error") */
	d->oversize_dnload = s->wValue >= DFUSE_FIRST_DATA_BLOCK && d->t.max_dnload && s->wLength > d->t.max_dnload;
	memcpy(d->pending, data, s->wLength);
	d->pending_len = s->wLength;
	d->pending_block = s->wValue;
	d->state = dfuDNLOAD_SYNC;
	return SIM_OK;
}

/* RAM is cleared by Read Unprotect (AN3156 5.4); so is the L0/L1 data EEPROM (RM0367 3.4.1:
 * going back to level 0 mass-erases the flash and the data EEPROM). */
static void clear_ram(struct sim_device *d)
{
	for (int i = 0; i < d->nmem; i++)
		if (d->mem[i].kind == SIM_MEM_RAM || d->mem[i].kind == SIM_MEM_EEPROM)
			memset(d->mem[i].data, 0, d->mem[i].size);
}

static double run_command(struct sim_device *d)
{
	const uint8_t *b = d->pending;
	uint32_t addr = d->pending_len >= 5 ? get_le32(b + 1) : 0;
	int rdp = sim_rdp_level(d);
	size_t sec;
	const struct sim_sector *sector;
	switch (b[0]) {
	case DFUSE_CMD_SET_ADDRESS: /* allowed under RDP (AN3156 Table 4) */
		d->op = SIM_OP_SET_ADDRESS;
		d->poll_reported = d->t.poll_set_address;
		if (!sim_mem_find(d, addr)) {
			d->op_result = errTARGET;
			return 0;
		}
		d->pointer = addr;
		d->pointer_set = true;
		d->last_was_set_address = true;
		return d->t.set_address_ms;
	case DFUSE_CMD_ERASE:
		if (d->pending_len == 1) {
			d->op = SIM_OP_MASS_ERASE;
			d->poll_reported = d->t.poll_mass_erase;
			if (rdp) {
				d->op_result = errVENDOR;
				return 0;
			}
			sim_flash_mass_erase(d, false);
			return sim_mass_erase_ms(d);
		}
		d->op = SIM_OP_ERASE;
		d->poll_reported = d->t.poll_erase;
		if (rdp) {
			d->op_result = errVENDOR;
			return 0;
		}
		sector = sim_sector_at(d, addr, &sec);
		if (!sector || !(sector->type & DFUSE_MEM_ERASABLE)) {
			d->op_result = errTARGET;
			return 0;
		}
		sim_flash_erase_sector(d, sec, false);
		/* H7 rev V (betaflight PR #1861): the erase is done, but the state stays dfuDNBUSY
		 * until two CLRSTATUS */
		if (d->t.erase_wedge_enabled && sector->addr >= d->t.erase_wedge)
			d->f.stuck = true;
		return sim_erase_ms(d, sector->size);
	default: /* DFUSE_CMD_READ_UNPROTECT */
		d->op = SIM_OP_UNPROTECT;
		d->poll_reported = d->t.poll_unprotect;
		if (rdp == 2) { /* permanent: nothing happens (AN2606, protocol.md 7.3) */
			d->op_result = errVENDOR;
			return 0;
		}
		clear_ram(d);
		if (rdp == 1) {
			sim_flash_mass_erase(d, true);
			if (d->ob >= 0)
				memcpy(d->mem[d->ob].data, d->obd.defaults, d->obd.size);
		}
		d->op_reset = true; /* the device disconnects and resets (AN3156 5.4) */
		return d->t.unprotect_ms + (rdp == 1 ? sim_mass_erase_ms(d) : 0);
	}
}

/* The flash takes whole program units of the parallelism in force (x8..x64: 1..8 bytes; the
 * Device Feature range on F2/F4/F7). A block that does not start on one fails (RM0090 PGAERR), one
 * that ends inside one has its whole units programmed and the rest refused (PGPERR: the size of
 * the access does not match the parallelism); either way the status is errPROG (UNCONFIRMED: the
 * manuals name the flags, not the ROM's DFU status), and every later program fails too until a
 * reset (AN2606 "programming constraints", protocol.md 2.2). */
static double program_units(struct sim_device *d, struct sim_mem *m, uint32_t addr, uint32_t len)
{
	uint32_t w = (uint32_t)sim_prog_width(d);
	/* the size rule (PGPERR) only where the host chose the parallelism through Device Feature:
	 * without it, hosts write files of any length (dfu-util on F0/L4/G4 ROMs), so the ROM is taken
	 * to pad a last partial unit; refusing it would be kinder to no evidence and break dfu-util */
	uint32_t whole = d->feature >= 0 ? len / w * w : len;
	uint32_t ok = d->prog_error || addr % w ? 0 : whole;
	/* L4/G4/G0/WB OTP: a double word that holds one 0 bit cannot be written again (RM0351,
	 * RM0440, RM0444, RM0434 "OTP area"; the flash flags PROGERR): the units before it are
	 * programmed, the block fails there */
	for (uint32_t u = d->t.otp_unit, k = 0; m->kind == SIM_MEM_OTP && u && k < ok;) {
		uint32_t lo = (addr + k) / u * u, off = lo - m->base;
		bool virgin = true;
		for (uint32_t b = 0; b < u && off + b < m->size; b++)
			virgin = virgin && m->data[off + b] == 0xFF;
		if (!virgin) {
			d->op_result = errPROG;
			len = ok = k; /* not the alignment error: later blocks still program */
			break;
		}
		k = lo + u - addr;
	}
	if (ok)
		sim_flash_program(d, m, addr, d->pending, ok);
	if (ok != len) {
		d->prog_error = true;
		d->op_result = errPROG;
	}
	return sim_program_ms(d, ok);
}

static double run_program(struct sim_device *d)
{
	d->op = SIM_OP_PROGRAM;
	d->poll_reported = d->t.poll_program;
	uint64_t a = (uint64_t)d->pointer + (uint64_t)(d->pending_block - DFUSE_FIRST_DATA_BLOCK) * d->transfer_size;
	uint32_t len = d->pending_len;
	if (sim_rdp_level(d)) {
		d->op_result = errVENDOR; /* whatever the target (AN3156 4.1, 5.1) */
		return 0;
	}
	struct sim_mem *m = a <= 0xFFFFFFFFull ? sim_mem_find(d, (uint32_t)a) : NULL;
	uint32_t addr = (uint32_t)a;
	if (!m || m->kind == SIM_MEM_ROM || m->kind == SIM_MEM_HANG || m->unlisted || len > m->size - (addr - m->base)) {
		d->op_result = errTARGET;
		return 0;
	}
	d->last_dl_addr = addr;
	d->last_dl_set = true;
	switch (m->kind) {
	case SIM_MEM_OB: /* the pointer must be the OB start (AN3156 4.1); then erase, program, reset */
		if (addr != m->base) {
			d->op_result = errTARGET;
			return 0;
		}
		d->poll_reported = d->t.poll_ob;
		memcpy(m->data, d->pending, len);
		d->op_reset = true;
		return d->t.ob_ms;
	case SIM_MEM_FEATURE: /* byte 0: voltage range 0..4, other values NACKed (AN2606 Table 4) */
		if (addr == m->base && d->pending[0] > 4) {
			d->op_result = errTARGET;
			return 0;
		}
		memcpy(m->data + (addr - m->base), d->pending, len);
		return 0;
	case SIM_MEM_RAM:
		/* over the ROM's own variables and stack: it never answers again (AN3156 note, DERIVED) */
		if (addr < d->boot_ram_hi && (uint64_t)addr + len > d->boot_ram_lo)
			d->hung = true;
		memcpy(m->data + (addr - m->base), d->pending, len);
		return 0;
	case SIM_MEM_EEPROM: /* word writes erase in place: the bytes are simply replaced */
		memcpy(m->data + (addr - m->base), d->pending, len);
		return sim_program_ms(d, len);
	default: /* flash and OTP: bits only clear */
		if (d->f.busy_stuck_enabled && addr + len > d->f.busy_stuck_after)
			d->f.stuck = true;
		return program_units(d, m, addr, len);
	}
}

static void start_op(struct sim_device *d)
{
	d->op_result = DFU_STATUS_OK;
	d->op_reset = false;
	double ms = d->pending_block == 0 ? run_command(d) : run_program(d);
	uint64_t us = sim_scaled_us(d, ms);
	d->busy_until = now_us(d) + us;
	d->stats.busy_us += us;
	d->state = dfuDNBUSY;
}

/* Leaving (AN3156 5.5): the ROM loads the MSP from the jump address and branches to the reset
 * vector at +4. It runs (the device leaves the bus for good: GONE) only when the table is
 * runnable: the MSP inside the SRAM, and the reset vector a Thumb address (bit 0 set: ARMv7-M
 * B1.5.2 loads EPSR.T from it, and T = 0 faults on the first instruction) in flash or RAM.
 * Otherwise the chip resets and comes back as the bootloader (AN3156 5.5: "no valid code"). */
static bool runnable(struct sim_device *d, uint32_t jump)
{
	uint8_t v[8];
	if (!sim_mem_read(d, jump, v, 8))
		return false;
	uint32_t msp = get_le32(v), reset = get_le32(v + 4);
	const struct sim_mem *code = sim_mem_find_c(d, reset & ~1u);
	return msp > d->ram_lo && msp <= d->ram_hi && (reset & 1u) && code &&
	       (code->kind == SIM_MEM_FLASH || code->kind == SIM_MEM_RAM);
}

static void leave(struct sim_device *d)
{
	uint32_t jump = d->pointer_set ? d->pointer : d->last_dl_set ? d->last_dl_addr : flash_base(d);
	d->state = dfuMANIFEST;
	if (runnable(d, jump)) {
		d->link = SIM_LINK_GONE;
		return;
	}
	d->link = SIM_LINK_RESETTING;
	d->reconnect_at = now_us(d) + sim_scaled_us(d, d->t.reset_ms);
}

static enum sim_result getstatus(struct sim_device *d, const struct usb_setup *s, uint8_t *data,
				 uint16_t *actual)
{
	enum sim_result r;
	switch (d->state) {
	case dfuDNLOAD_SYNC:
		if (d->oversize_dnload) {
			d->oversize_dnload = false;
			set_error(d, errSTALLEDPKT); /* the state after the STALL is UNCONFIRMED */
			return SIM_STALL;
		}
		start_op(d);
		if (d->op == SIM_OP_UNPROTECT && d->t.unprotect_idle)
			d->state = dfuDNLOAD_IDLE; /* AT32F415: and it still unprotects and resets */
		/* hold_first (H743, CubeProgrammer log): this reply leaves when the work is done */
		d->hold_answer = d->t.busy_reply == SIM_BUSY_REPLY_HOLD_FIRST;
		r = status_reply(d, sim_scaled_poll(d, d->poll_reported), s, data, actual);
		if (d->op_reset) { /* it cannot answer a second GETSTATUS (AN3156 5.1, 5.4) */
			d->link = SIM_LINK_RESETTING;
			d->reconnect_at = d->busy_until + sim_scaled_us(d, d->t.reset_ms);
		}
		return r;
	case dfuDNBUSY:
		/* busy_reply = hold never gets here early: the request waited for busy_until */
		if (now_us(d) < d->busy_until && d->t.busy_reply == SIM_BUSY_REPLY_STALL)
			return SIM_STALL; /* STM32L4: the state is kept (dfu-util dfuse.c retries) */
		if (now_us(d) < d->busy_until && d->t.busy_reply == SIM_BUSY_REPLY_STALL_ERROR) {
			/* F072 (openmv #1508): STALLed; the work goes on, its outcome is lost and the
			 * state is dfuERROR (the state is UNCONFIRMED: the least kind choice) */
			set_error(d, errSTALLEDPKT);
			return SIM_STALL;
		}
		if (d->f.stuck || now_us(d) < d->busy_until)
			return status_reply(d, sim_scaled_poll(d, d->poll_reported), s, data, actual);
		if (d->op_result == DFU_STATUS_OK)
			d->state = dfuDNLOAD_IDLE;
		else
			set_error(d, d->op_result);
		return status_reply(d, d->t.poll_repeat ? sim_scaled_poll(d, d->poll_reported) : 0, s, data,
				    actual);
	case dfuMANIFEST_SYNC:
		if (d->t.leave_needs_address && !d->last_was_set_address) {
			/* C071 (LibUsbDfu #13): without a Set Address right before, no leave; the status
			 * is UNCONFIRMED ("reason: ?") */
			set_error(d, errUNKNOWN);
			return status_reply(d, 0, s, data, actual);
		}
		d->state = dfuMANIFEST;
		r = status_reply(d, sim_scaled_poll(d, d->t.poll_manifest), s, data, actual);
		leave(d);
		return r;
	default:
		return status_reply(d, 0, s, data, actual);
	}
}

/* ---- UPLOAD ---- */

static enum sim_result upload(struct sim_device *d, const struct usb_setup *s, uint8_t *data, uint16_t *actual)
{
	if (d->state != dfuIDLE && d->state != dfuUPLOAD_IDLE)
		return SIM_STALL;
	if (s->wValue == 1 || s->wLength == 0 || s->wLength > d->transfer_size)
		return SIM_STALL;
	uint16_t n;
	if (s->wValue == 0) { /* Get Commands (AN3156 4.2) */
		n = s->wLength < sizeof(sim_get_commands) ? s->wLength : (uint16_t)sizeof(sim_get_commands);
		memcpy(data, sim_get_commands, n);
	} else {
		uint64_t a = (uint64_t)d->pointer + (uint64_t)(s->wValue - DFUSE_FIRST_DATA_BLOCK) * d->transfer_size;
		const struct sim_mem *m = a <= 0xFFFFFFFFull ? sim_mem_find(d, (uint32_t)a) : NULL;
		if (m && m->kind == SIM_MEM_HANG) {
			d->hung = true; /* F7 reads DBGMCU with byte accesses and never returns (protocol.md 2.3) */
			return SIM_NO_ANSWER;
		}
		if (sim_rdp_level(d)) {
			set_error(d, errVENDOR);
			return SIM_STALL;
		}
		if (!m || m->unlisted) { /* unlisted option bytes: refused as an address not served (UNCONFIRMED) */
			set_error(d, errTARGET);
			return SIM_STALL;
		}
		uint32_t off = (uint32_t)a - m->base, avail = m->size - off;
		n = s->wLength;
		if (m->kind == SIM_MEM_OB && !d->t.ob_upload_any && (off != 0 || s->wLength != m->size)) {
			/* AN3156 4.1: an OB read must have exactly the block's size; the refusal as for any
			 * address the ROM does not serve (the status is UNCONFIRMED) */
			set_error(d, errTARGET);
			return SIM_STALL;
		}
		if (m->kind == SIM_MEM_OB) {
			/* ob_upload = any: CubeProgrammer reads 44 bytes of the 32-byte F7 block and succeeds
			 * (OBSERVED); what lies past the block is UNCONFIRMED: 0xFF (erased) here. */
			memset(data, 0xFF, n);
			memcpy(data, m->data + off, n < avail ? n : avail);
		} else {
			if (n > avail)
				n = (uint16_t)avail; /* a short frame at the memory's end ends the upload */
			memcpy(data, m->data + off, n);
		}
		sim_faults_after_upload(d, data, n);
	}
	*actual = n;
	d->state = n < s->wLength ? dfuIDLE : dfuUPLOAD_IDLE;
	return SIM_OK;
}

/* ---- the request switch ---- */

enum sim_result sim_dfu_request(struct sim_device *d, const struct usb_setup *s, uint8_t *data,
				uint16_t *actual)
{
	bool in = (s->bmRequestType & USB_DIR_IN) != 0;
	*actual = 0;
	if ((s->bmRequestType & 0x1F) != 1 || s->wIndex != 0)
		return SIM_STALL;
	/* Manifestation: the ROM is resetting or jumping; it answers nothing (not manifestation
	 * tolerant, AN3156 5.5). */
	if (d->state == dfuMANIFEST || d->state == dfuMANIFEST_WAIT_RESET)
		return SIM_NO_ANSWER;
	bool app = d->state == appIDLE || d->state == appDETACH;
	switch (s->bRequest) {
	case DFU_DETACH: /* no meaning in the ROM (AN3156 2): acknowledged, nothing happens */
		return in || d->state == dfuDNBUSY ? SIM_STALL : SIM_OK;
	case DFU_DNLOAD:
		return in || app ? SIM_STALL : dnload(d, s, data);
	case DFU_UPLOAD:
		return !in || app ? SIM_STALL : upload(d, s, data, actual);
	case DFU_GETSTATUS:
		return in ? getstatus(d, s, data, actual) : SIM_STALL;
	case DFU_CLRSTATUS:
		if (in || app)
			return SIM_STALL;
		if (d->state != dfuERROR)
			d->stats.clrstatus_not_error++;
		if (d->state == dfuERROR) {
			d->state = dfuIDLE;
			d->status = DFU_STATUS_OK;
		} else {
			/* ST-MW: dfuERROR/errUNKNOWN; in dfuDNBUSY this is how CubeProgrammer frees a
			 * wedged H7 (two CLRSTATUS, protocol.md 1.3) */
			set_error(d, errUNKNOWN);
			d->f.stuck = false;
		}
		return SIM_OK;
	case DFU_GETSTATE:
		if (!in)
			return SIM_STALL;
		if (s->wLength >= 1) {
			data[0] = (uint8_t)d->state;
			*actual = 1;
		}
		return SIM_OK;
	case DFU_ABORT:
		if (in)
			return SIM_STALL;
		switch (d->state) {
		case dfuIDLE:
		case dfuDNLOAD_SYNC:
		case dfuDNLOAD_IDLE:
		case dfuMANIFEST_SYNC:
		case dfuUPLOAD_IDLE:
			d->state = dfuIDLE;
			d->status = DFU_STATUS_OK;
			return SIM_OK;
		default:
			return SIM_STALL;
		}
	default:
		return SIM_STALL;
	}
}

void sim_test_force_state(struct sim_device *d, enum dfu_state state, enum dfu_status status)
{
	d->state = state;
	d->status = status;
	if (state == dfuDNLOAD_SYNC || state == dfuDNBUSY) {
		uint32_t a = flash_base(d);
		d->pending[0] = DFUSE_CMD_SET_ADDRESS;
		put_le32(d->pending + 1, a);
		d->pending_len = 5;
		d->pending_block = 0;
	}
	if (state == dfuDNBUSY) {
		d->op = SIM_OP_SET_ADDRESS;
		d->op_result = DFU_STATUS_OK;
		d->op_reset = false;
		d->poll_reported = d->t.poll_set_address;
		d->busy_until = clock_now_us(d->clock);
	}
}
