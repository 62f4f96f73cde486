/*
 * libstm32dfu: list, identity and doctor. Each converts an ops/ record into the public fixed-size
 * record field by field, so the public layout never depends on an internal one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chip/chip.h"
#include "chip/serial.h"
#include "core/rd.h"
#include "lib/api_int.h"
#include "ops/doctor.h"
#include "ops/list.h"

static void convert_alt(const struct layout_mem *in, struct stm32dfu_alt *out)
{
	out->alt = in->alt;
	api_copy(out->raw, sizeof out->raw, in->name);
	out->has_layout = in->have_layout;
	if (!in->have_layout) {
		api_copy(out->name, sizeof out->name, in->name);
		return;
	}
	const struct layout *l = &in->layout;
	api_copy(out->name, sizeof out->name, l->name);
	out->n_regions_total = l->n_regions;
	out->n_regions = l->n_regions < STM32DFU_MAX_REGIONS ? l->n_regions : STM32DFU_MAX_REGIONS;
	for (unsigned r = 0; r < out->n_regions; r++) {
		const struct layout_region *rg = &l->regions[r];
		struct stm32dfu_region *o = &out->regions[r];
		o->start = rg->start;
		o->length = rg->length;
		o->n_groups = rg->n_groups < STM32DFU_MAX_GROUPS ? rg->n_groups : STM32DFU_MAX_GROUPS;
		for (unsigned g = 0; g < o->n_groups; g++) {
			o->groups[g].count = rg->groups[g].count;
			o->groups[g].size = rg->groups[g].size;
			/* the layout's type bits are the DfuSe letter's low bits: 1 read, 2 erase, 4 write */
			o->groups[g].access = rg->groups[g].type & 7u;
		}
	}
}

void api_convert_identity(const struct ops_identity *id, const char *usb_serial, struct stm32dfu_identity *out)
{
	memset(out, 0, sizeof *out);
	const struct chip_family *fam = id->chip.family;
	api_copy(out->family, sizeof out->family, fam ? fam->id : "");
	api_copy(out->chip, sizeof out->chip, fam ? fam->name : "");
	api_copy(out->confidence, sizeof out->confidence, chip_confidence_name(id->chip.confidence));
	api_copy(out->reason, sizeof out->reason, id->chip.reason);
	out->has_uid = id->has_uid;
	if (id->has_uid) {
		memcpy(out->uid, id->uid, sizeof out->uid);
		snprintf(out->uid_text, sizeof out->uid_text, "%08X %08X %08X", (unsigned)get_le32(id->uid),
		         (unsigned)get_le32(id->uid + 4), (unsigned)get_le32(id->uid + 8));
	}
	out->flash_size = id->chip.flash_size;
	out->has_bootloader_id = id->has_bootloader_id;
	out->bootloader_id = id->bootloader_id;
	if (id->chip.has_bootloader_version)
		api_copy(out->bootloader_version, sizeof out->bootloader_version, id->chip.bootloader_version);
	api_copy(out->usb_serial, sizeof out->usb_serial, usb_serial);
	api_copy(out->serial_verdict, sizeof out->serial_verdict, chip_serial_verdict_token(id->serial.verdict));
	api_copy(out->serial_explanation, sizeof out->serial_explanation, id->serial.explanation);
	if (id->serial.has_computed && id->serial.computed.hal_valid)
		api_copy(out->serial_computed, sizeof out->serial_computed, id->serial.computed.hal);
	out->rdp_level = id->rdp_level;
	out->read_protected = id->read_protected;
}

static void convert_device(const struct target_link *ti, uint16_t dfu_version, uint16_t transfer_size,
                           const struct layout_mem *alts, unsigned n_alts, unsigned dropped, struct stm32dfu_device *out)
{
	out->vid = ti->vid;
	out->pid = ti->pid;
	out->bcd_device = ti->bcd_device;
	api_copy(out->path, sizeof out->path, ti->path);
	api_copy(out->manufacturer, sizeof out->manufacturer, ti->manufacturer);
	api_copy(out->product, sizeof out->product, ti->product);
	api_copy(out->serial, sizeof out->serial, ti->serial);
	out->dfu_version = dfu_version;
	out->transfer_size = transfer_size;
	out->n_alts_total = n_alts + dropped; /* the DFU layer keeps 32 and counts the rest */
	out->n_alts = n_alts < STM32DFU_MAX_ALTS ? n_alts : STM32DFU_MAX_ALTS;
	for (unsigned a = 0; a < out->n_alts; a++)
		convert_alt(&alts[a], &out->alts[a]);
}

static void match_to_opts(const struct stm32dfu_match *m, struct ops_open_opts *o)
{
	struct err e;
	err_clear(&e);
	api_session_opts(m, NULL, o, &e); /* without options nothing can be wrong */
}

/* ops_list, with its own error handling shared by both list calls */
static int list_ops(const struct stm32dfu_match *match, struct ops_listed **l, size_t *count)
{
	struct ops_open_opts o;
	match_to_opts(match, &o);
	struct err e;
	err_clear(&e);
	int rc = ops_list(&o, l, count, &e);
	if (rc < 0)
		return api_fail_nosession(&e, rc);
	return 0;
}

static int list_no_memory(struct ops_listed *l, size_t count)
{
	free(l);
	struct err e;
	err_clear(&e);
	err_set(&e, STM32DFU_E_NO_MEMORY, "out of memory listing %zu devices", count);
	return api_fail_nosession(&e, STM32DFU_E_NO_MEMORY);
}

static void convert_listed_device(const struct ops_listed *l, struct stm32dfu_device *d)
{
	convert_device(&l->info, l->dfu_version, l->transfer_size, l->alts, l->n_alts, l->n_alts_dropped, d);
	d->opened = l->opened;
	api_copy(d->error, sizeof d->error, l->error);
	d->serial_shared = l->serial_shared;
	d->has_identity = l->opened && (l->id.chip.family || l->id.has_uid);
	if (d->has_identity)
		api_convert_identity(&l->id, l->info.serial, &d->identity);
}

int stm32dfu_list(const struct stm32dfu_match *match, struct stm32dfu_device **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct ops_listed *l = NULL;
	size_t count = 0;
	int rc = list_ops(match, &l, &count);
	if (rc < 0)
		return rc;
	struct stm32dfu_device *d = calloc(count ? count : 1, sizeof *d);
	if (!d)
		return list_no_memory(l, count);
	for (size_t i = 0; i < count; i++)
		convert_listed_device(&l[i], &d[i]);
	free(l);
	*out = d;
	*n = count;
	return 0;
}

void stm32dfu_list_free(struct stm32dfu_device *devices)
{
	free(devices);
}

/* what opening did to the state the device was found in (ops_open: CLRSTATUS, wait, or ABORT) */
const char *api_found_action(unsigned state)
{
	switch (state) {
	case dfuIDLE: return "none";
	case dfuERROR: return "cleared";
	case dfuDNBUSY: return "waited";
	default: return "aborted";
	}
}

static void convert_listed_ex(const struct ops_listed *l, struct stm32dfu_listed *x)
{
	convert_listed_device(l, &x->device);
	x->uid_shared = l->uid_shared;
	x->devnum = l->info.devnum;
	x->identity_read = l->identity_tried;
	for (unsigned a = 0; a < x->device.n_alts; a++)
		api_copy(x->layout_error[a], sizeof x->layout_error[a], l->alts[a].layout_error);
	const struct chip_identity *ci = &l->id.chip;
	api_copy(x->flash_size_source, sizeof x->flash_size_source,
	         ci->flash_size_source == CHIP_SIZE_REGISTER ? "register"
	         : ci->flash_size_source == CHIP_SIZE_LAYOUT ? "layout" : "unknown");
	x->layout_flash_size = ci->layout_flash_size;
	x->rdp_from_note = l->id.rdp_from_note;
	if (!l->opened) {
		/* nothing is known of it: the unknown values (rdp_level -1, serial_verdict "") */
		memset(&x->device.identity, 0, sizeof x->device.identity);
		x->device.identity.rdp_level = -1;
		return;
	}
	api_convert_identity(&l->id, l->info.serial, &x->device.identity);
	x->found_state = l->found.bState;
	x->found_status = l->found.bStatus;
	api_copy(x->found_state_name, sizeof x->found_state_name, dfu_state_name(l->found.bState));
	api_copy(x->found_status_name, sizeof x->found_status_name, dfu_status_name(l->found.bStatus));
	api_copy(x->found_action, sizeof x->found_action, api_found_action(l->found.bState));
}

static int list_ex_opts(const struct ops_open_opts *o, struct stm32dfu_listed **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	struct ops_listed *l = NULL;
	size_t count = 0;
	int rc = ops_list(o, &l, &count, e);
	if (rc < 0)
		return rc;
	struct stm32dfu_listed *x = calloc(count ? count : 1, sizeof *x);
	if (!x) {
		free(l);
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory listing %zu devices", count);
	}
	for (size_t i = 0; i < count; i++)
		convert_listed_ex(&l[i], &x[i]);
	free(l);
	*out = x;
	*n = count;
	return 0;
}

int stm32dfu_list_ex(const struct stm32dfu_match *match, struct stm32dfu_listed **out, size_t *n)
{
	struct ops_open_opts o;
	match_to_opts(match, &o);
	struct err e;
	err_clear(&e);
	int rc = list_ex_opts(&o, out, n, &e);
	return rc < 0 ? api_fail_nosession(&e, rc) : 0;
}

void stm32dfu_list_ex_free(struct stm32dfu_listed *devices)
{
	free(devices);
}

int stm32dfu_info(struct stm32dfu_session *s, struct stm32dfu_identity *out)
{
	err_clear(&s->err);
	int rc = ops_identify(s->ops);
	if (rc < 0)
		return api_fail_from_ops(s, rc);
	api_convert_identity(&s->ops->id, ops_info(s->ops)->serial, out);
	return 0;
}

int stm32dfu_device_info(struct stm32dfu_session *s, struct stm32dfu_device *out)
{
	err_clear(&s->err);
	memset(out, 0, sizeof *out);
	const struct dfu_dev *d = s->ops->dfu; /* NULL over USART: no DFU descriptors */
	convert_device(ops_info(s->ops), d && d->desc.have_func ? d->desc.func.bcdDFUVersion : 0,
	               (uint16_t)s->ops->t->max_transfer, s->ops->map->mem, s->ops->map->n, d ? d->desc.n_alts_dropped : 0,
	               out);
	out->opened = 1;
	if (ops_identify(s->ops) == 0) {
		out->has_identity = 1;
		api_convert_identity(&s->ops->id, ops_info(s->ops)->serial, &out->identity);
	}
	return 0;
}

static int doctor(struct stm32dfu_session *s, const struct ops_doctor_opts *o, struct stm32dfu_doctor_report *out,
                  struct stm32dfu_doctor_uart *uart)
{
	err_clear(&s->err);
	memset(out, 0, sizeof *out);
	struct ops_doctor_report *r = calloc(1, sizeof *r);
	if (!r)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	int rc = ops_doctor(s->ops, o, r);
	if (rc < 0) {
		free(r);
		return api_fail_from_ops(s, rc);
	}
	if (uart) {
		memset(uart, 0, sizeof *uart);
		uart->per_rate = r->uart_per_rate;
		uart->session_baud = r->uart_session_baud;
		uart->family_max_baud = r->uart_family_max_baud;
		uart->recommended_baud = r->uart_recommended_baud;
		uart->swept = r->uart_swept;
		uart->reads = r->uart_reads;
		uart->n_rates = r->n_rates < STM32DFU_DOCTOR_UART_RATES ? r->n_rates : STM32DFU_DOCTOR_UART_RATES;
		for (size_t i = 0; i < uart->n_rates; i++) {
			const struct ops_uart_rate *in = &r->rates[i];
			struct stm32dfu_uart_rate *x = &uart->rates[i];
			x->baud = in->baud;
			x->tried = in->tried;
			api_copy(x->why_not, sizeof x->why_not, in->why_not);
			x->synced = in->synced;
			x->commands = in->commands;
			x->nacks = in->nacks;
			x->timeouts = in->timeouts;
			x->errors = in->errors;
			x->corrupt = in->corrupt;
			x->holds = in->holds;
		}
	}
	for (int i = 0; i < STM32DFU_DOCTOR_SIZES && i < DOCTOR_SIZES; i++) {
		const struct ops_link_size *in = &r->link[i];
		out->link[i] = (struct stm32dfu_link_size){in->size, in->attempts, in->failures, in->corrupt,
		                                          in->lat_min_us, in->lat_median_us, in->lat_max_us};
	}
	out->transfers = r->transfers;
	out->failures = r->failures;
	out->link_bad = r->link_bad;
	out->hse_hz = r->have_hse ? r->hse_hz : 0;
	out->safe_lo_pct = r->safe_lo_pct;
	out->safe_hi_pct = r->safe_hi_pct;
	out->misdetect_usb_error_pct = r->misdetect_usb_error_pct;
	out->worst = (int)r->worst;
	out->emulated_clock = r->have_sim_clock;
	out->emulated_hsi_error_pct = r->sim_hsi_error_pct;
	out->emulated_detected_hz = r->sim_detected_hz;
	out->emulated_usb_error_ppm = r->sim_usb_error_ppm;
	out->link_marginal = r->link_marginal;
	out->link_noted = r->link_noted;
	out->n_findings = r->n_findings < STM32DFU_DOCTOR_MAX_FINDINGS ? r->n_findings : STM32DFU_DOCTOR_MAX_FINDINGS;
	for (size_t i = 0; i < out->n_findings; i++) {
		const struct ops_doctor_finding *f = &r->findings[i];
		out->findings[i].severity = (int)f->severity;
		api_copy(out->findings[i].id, sizeof out->findings[i].id, f->id);
		err_words(f->text, s->cli_words, out->findings[i].text, sizeof out->findings[i].text);
		err_words(f->advice, s->cli_words, out->findings[i].advice, sizeof out->findings[i].advice);
	}
	free(r);
	return 0;
}

int stm32dfu_doctor(struct stm32dfu_session *s, unsigned count, double hse_hz, struct stm32dfu_doctor_report *out)
{
	struct ops_doctor_opts o = {.count = count ? count : 200, .have_hse = hse_hz > 0, .hse_hz = hse_hz};
	if (!ops_dfuse(s->ops))
		o.count = count; /* over USART: commands per rate (0: the default) */
	return doctor(s, &o, out, NULL);
}

int stm32dfu_doctor_uart(struct stm32dfu_session *s, unsigned count, struct stm32dfu_doctor_report *out,
                         struct stm32dfu_doctor_uart *uart)
{
	if (ops_dfuse(s->ops)) {
		memset(out, 0, sizeof *out);
		memset(uart, 0, sizeof *uart);
		return err_set(&s->err, STM32DFU_E_UNSUPPORTED, "doctor's rate test is for a serial port: this session is USB");
	}
	struct ops_doctor_opts o = {.count = count};
	return doctor(s, &o, out, uart);
}
