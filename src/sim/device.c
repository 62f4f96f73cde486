/*
 * The device: built from a profile, it routes each control transfer (link state, faults, stats)
 * to the standard requests (desc.c) or the DFU engine (rom.c), and models the bus link: resets
 * after option-byte writes and Read Unprotect, leaving for the application, unplugging.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/sim_int.h"

struct sim_device *sim_device_new(const struct sim_profile *p, const struct clock *clock, char *errbuf,
				  size_t errlen)
{
	if (errlen)
		errbuf[0] = '\0';
	if (!p || !clock) {
		if (errlen)
			strncpy(errbuf, "sim_device_new: no profile or clock", errlen - 1);
		return NULL;
	}
	struct sim_device *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->clock = clock;
	d->pending = malloc(SIM_MAX_TRANSFER);
	if (!d->pending || sim_dev_configure(d, p, errbuf, errlen) != 0 ||
	    sim_faults_configure(d, p, errbuf, errlen) != 0) {
		sim_device_free(d);
		return NULL;
	}
	d->config = 0;
	d->link = SIM_LINK_UP;
	sim_rom_reset(d);
	return d;
}

void sim_device_free(struct sim_device *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->nmem; i++) {
		free(d->mem[i].data);
		free(d->mem[i].sectors);
	}
	free(d->obd.defaults);
	free(d->ob_active);
	free(d->pending);
	free(d);
}

enum sim_result sim_control(struct sim_device *d, const struct usb_setup *setup, uint8_t *data,
			    uint16_t *actual)
{
	uint16_t dummy;
	if (!actual)
		actual = &dummy;
	*actual = 0;
	if (!d || !setup || (setup->wLength && !data))
		return SIM_STALL;
	uint64_t now = clock_now_us(d->clock);
	d->answer_at = now;
	if (d->link != SIM_LINK_UP)
		return SIM_DISCONNECTED;
	if (d->hung)
		return SIM_NO_ANSWER;
	d->stats.control_transfers++;
	uint64_t bus = (uint64_t)((double)sim_bus_time_us(setup->wLength) * d->t.scale + 0.5);
	d->stats.bus_us += bus;
	/* EP0 is served in order; with busy_reply = hold the ROM runs the flash operation inside the
	 * USB interrupt (protocol.md 2.7a), so a request that arrives meanwhile is handled when the
	 * operation ends, as it would have been handled then */
	uint64_t at = now > d->ep0_free_at ? now : d->ep0_free_at;
	bool holds = d->t.busy_reply == SIM_BUSY_REPLY_HOLD || d->t.busy_reply == SIM_BUSY_REPLY_HOLD_FIRST;
	if (holds && d->state == dfuDNBUSY && at < d->busy_until)
		at = d->busy_until;
	d->req_us = d->ep0_free_at = at;
	d->answer_at = at + bus;
	enum sim_result r = sim_faults_before(d, setup);
	if (r != SIM_OK) {
		d->stats.faults_injected++;
		return r;
	}
	uint8_t type = (setup->bmRequestType >> 5) & 3;
	if (type == 0)
		r = sim_std_request(d, setup, data, actual);
	else if (type == 1)
		r = sim_dfu_request(d, setup, data, actual);
	else
		r = SIM_STALL;
	/* hold_first: the GETSTATUS that started the operation is answered when it ends */
	if (d->hold_answer) {
		d->hold_answer = false;
		if (r == SIM_OK && d->busy_until + bus > d->answer_at) {
			d->answer_at = d->busy_until + bus;
			d->ep0_free_at = d->busy_until;
		}
	}
		/* erase_dnload_hold (a fault): the device does the erase before it completes the DNLOAD's
	 * status stage, so the host's request ends that much later and EP0 waits with it */
	if (r == SIM_OK && d->f.erase_dnload_hold_ms && type == 1 && setup->bRequest == DFU_DNLOAD &&
	    setup->wValue == 0 && setup->wLength >= 1 && data[0] == DFUSE_CMD_ERASE) {
		d->answer_at += d->f.erase_dnload_hold_ms * 1000u;
		d->ep0_free_at = d->answer_at;
	}
	if (d->f.fail_after) {
		/* the device acted; the last stage was lost on the way (faults.c) */
		d->f.fail_after = false;
		if (r == SIM_OK) {
			d->stats.faults_injected++;
			r = SIM_IO_ERROR;
		}
	}
	if (r == SIM_OK) {
		if (setup->bmRequestType & USB_DIR_IN) {
			d->stats.bytes_in += *actual;
		} else {
			d->stats.bytes_out += setup->wLength;
			*actual = setup->wLength;
		}
	} else {
		*actual = 0;
	}
	return r;
}

enum sim_link sim_link_state(const struct sim_device *d)
{
	return d->link;
}

uint64_t sim_reconnect_at_us(const struct sim_device *d)
{
	return d->reconnect_at;
}

bool sim_reconnect(struct sim_device *d)
{
	if (d->link == SIM_LINK_GONE)
		return false;
	if (d->link == SIM_LINK_RESETTING)
		d->stats.resets++;
	d->link = SIM_LINK_UP;
	d->config = 0;
	sim_rom_reset(d);
	return !sim_rdp2_gone(d);
}

void sim_unplug(struct sim_device *d)
{
	d->link = SIM_LINK_GONE;
}

void sim_power_cycle(struct sim_device *d)
{
	d->link = SIM_LINK_UP;
	d->config = 0;
	d->stats.resets++;
	for (int i = 0; i < d->nmem; i++)
		if (d->mem[i].kind == SIM_MEM_RAM)
			memset(d->mem[i].data, 0, d->mem[i].size); /* SRAM content is lost */
	sim_rom_reset(d);
	sim_rdp2_gone(d);
}

/* RDP level 2 disables boot from system memory (PM0059 and RM0090 3.7.3 on F2/F4, RM0440 on G4,
 * RM0365 on F3, AN2606): once the option bytes loaded at a reset say level 2, the bootloader never
 * runs again, so the chip does not enumerate as a DFU device: it is gone, for good. */
bool sim_rdp2_gone(struct sim_device *d)
{
	if (sim_rdp_level(d) != 2)
		return false;
	d->link = SIM_LINK_GONE;
	return true;
}

uint64_t sim_answer_at_us(const struct sim_device *d)
{
	return d->answer_at;
}

void sim_get_stats(const struct sim_device *d, struct sim_stats *out)
{
	*out = d->stats;
}

void sim_clock_report(const struct sim_device *d, struct sim_clock_report *out)
{
	out->hse_hz = d->f.hse_hz;
	out->hsi_error_pct = d->f.hsi_error_pct;
	out->detected_hse_hz = d->f.detected_hse_hz;
	out->usb_error_ppm = d->f.clock_error_ppm;
}
