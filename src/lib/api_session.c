/*
 * libstm32dfu: opening a session with every option the tool has (stm32dfu_session_options, sized
 * by the caller so it can grow), and the 0.5 device records that hold all the library keeps.
 */
#include <stdlib.h>
#include <string.h>

#include "chip/chip.h"
#include "lib/api_int.h"
#include "ops/list.h"

int api_session_opts(const struct stm32dfu_match *match, const struct stm32dfu_session_options *options,
                     struct ops_open_opts *o, struct err *e)
{
	ops_open_opts_init(o);
	if (match) {
		if (match->vid)
			o->match.vid = match->vid;
		if (match->pid)
			o->match.pid = match->pid;
		o->match.path = match->path;
		o->selector = match->serial;
		o->sim_spec = match->sim;
	}
	if (!options)
		return 0;
	if (options->size < STM32DFU_SESSION_OPTIONS_SIZE_0_5) {
		err_set(e, STM32DFU_E_USAGE, "session options: size %zu is less than the 0.5 structure's %zu", options->size,
		        (size_t)STM32DFU_SESSION_OPTIONS_SIZE_0_5);
		err_hint(e, "set options.size = sizeof options after zero-initialising it");
		return STM32DFU_E_USAGE;
	}
	/* never read past what this library knows: a size that lies would read out of bounds, so a
	 * larger structure (a newer header's) is refused before anything of it is read, rather than
	 * its extra members read or silently ignored */
	struct stm32dfu_session_options so;
	memset(&so, 0, sizeof so);
	if (options->size > sizeof so) {
		err_set(e, STM32DFU_E_UNSUPPORTED,
		        "session options: size %zu is larger than the %zu bytes this library (%s) knows", options->size,
		        sizeof so, stm32dfu_version());
		err_hint(e, "the program was built for a newer libstm32dfu: install that one");
		return STM32DFU_E_UNSUPPORTED;
	}
	memcpy(&so, options, options->size);
	if (so.poll != STM32DFU_POLL_AUTO && so.poll != STM32DFU_POLL_SPEC)
		return err_set(e, STM32DFU_E_USAGE, "session options: poll %d is neither STM32DFU_POLL_AUTO nor _SPEC",
		               so.poll);
	if (so.any_id)
		o->match.have_vid = o->match.have_pid = false;
	if (so.has_retries)
		o->retries = so.retries;
	o->trace_path = so.trace;
	o->transfer_size = so.transfer_size;
	o->poll_spec = so.poll == STM32DFU_POLL_SPEC;
	o->confirm_reads = so.confirm_reads != 0;
	o->sim_persist = so.sim_persist != 0;
	o->cancel = so.cancel;
	if (so.first_answer_ms)
		o->first_answer_ms = so.first_answer_ms;
	o->on_held = so.on_held;
	o->held_ctx = so.held_user;
	if (so.recovery_dir && so.recovery_dir[0])
		o->rescue_dir = so.recovery_dir;
	if (so.port && !so.port[0])
		return err_set(e, STM32DFU_E_USAGE, "session options: port is empty: give a serial port such as /dev/ttyUSB0");
	if (so.port && o->sim_spec)
		return err_set(e, STM32DFU_E_USAGE, "session options: port and match->sim name two different chips");
	if (so.baud && (so.baud < 1200 || so.baud > 4000000))
		return err_set(e, STM32DFU_E_USAGE, "session options: baud %u: expected 1200 to 4000000", so.baud);
	o->port = so.port;
	o->baud = so.baud;
	o->reset_seq = so.reset_seq;
	return 0;
}

int stm32dfu_open_port(const char *port, unsigned baud, struct stm32dfu_session **out)
{
	struct stm32dfu_session_options so;
	memset(&so, 0, sizeof so);
	so.size = sizeof so;
	so.port = port ? port : "";
	so.baud = baud;
	return stm32dfu_open_session(NULL, &so, out);
}

int stm32dfu_open_session(const struct stm32dfu_match *match, const struct stm32dfu_session_options *options,
                          struct stm32dfu_session **out)
{
	*out = NULL;
	api_clear_nosession();
	struct err e;
	err_clear(&e);
	struct ops_open_opts o;
	int rc = api_session_opts(match, options, &o, &e);
	if (rc < 0)
		return api_fail_nosession(&e, rc);
	struct stm32dfu_session *s = calloc(1, sizeof *s);
	if (!s) {
		err_set(&e, STM32DFU_E_NO_MEMORY, "out of memory");
		return api_fail_nosession(&e, STM32DFU_E_NO_MEMORY);
	}
	rc = ops_open(&o, &s->ops, &e);
	if (rc < 0) {
		free(s);
		return api_fail_nosession(&e, rc);
	}
	err_clear(&s->err);
	*out = s;
	return 0;
}

static void convert_alt_rec(const struct layout_mem *in, struct stm32dfu_alt_rec *out)
{
	out->alt = in->alt;
	api_copy(out->raw, sizeof out->raw, in->name);
	api_copy(out->layout_error, sizeof out->layout_error, in->layout_error);
	out->has_layout = in->have_layout;
	api_copy(out->name, sizeof out->name, in->have_layout ? in->layout.name : in->name);
	if (!in->have_layout)
		return;
	/* the same limits as the layout parser (which refuses more): a whole map, never a part */
	_Static_assert(STM32DFU_REC_MAX_REGIONS == LAYOUT_MAX_REGIONS && STM32DFU_REC_MAX_GROUPS == LAYOUT_MAX_GROUPS,
	               "the record holds exactly what a parsed layout can have");
	const struct layout *l = &in->layout;
	out->n_regions = l->n_regions;
	for (unsigned r = 0; r < l->n_regions; r++) {
		const struct layout_region *rg = &l->regions[r];
		struct stm32dfu_region_rec *o = &out->regions[r];
		o->start = rg->start;
		o->length = rg->length;
		o->n_groups = rg->n_groups;
		for (unsigned g = 0; g < rg->n_groups; g++) {
			o->groups[g].count = rg->groups[g].count;
			o->groups[g].size = rg->groups[g].size;
			o->groups[g].access = rg->groups[g].type & 7u; /* the DfuSe letter's bits, as api_device.c */
		}
	}
}

_Static_assert(STM32DFU_STRING_MAX >= TARGET_STRING_MAX, "a record's strings hold what the link keeps");
_Static_assert(STM32DFU_REC_MAX_ALTS == DFU_MAX_ALTS, "a record holds every alt setting the DFU layer keeps");

static void convert_rec(const struct target_link *ti, uint16_t dfu_version, uint16_t transfer_size, const struct layout_mem *alts,
                        unsigned n_alts, unsigned dropped, struct stm32dfu_device_rec *out)
{
	out->vid = ti->vid;
	out->pid = ti->pid;
	out->bcd_device = ti->bcd_device;
	out->devnum = ti->devnum;
	api_copy(out->path, sizeof out->path, ti->path);
	api_copy(out->manufacturer, sizeof out->manufacturer, ti->manufacturer);
	api_copy(out->product, sizeof out->product, ti->product);
	api_copy(out->serial, sizeof out->serial, ti->serial);
	out->dfu_version = dfu_version;
	out->transfer_size = transfer_size;
	out->n_alts = n_alts;
	out->n_alts_total = n_alts + dropped;
	for (unsigned a = 0; a < n_alts; a++)
		convert_alt_rec(&alts[a], &out->alts[a]);
}

static void unknown_identity(struct stm32dfu_device_rec *out)
{
	memset(&out->identity, 0, sizeof out->identity);
	out->identity.rdp_level = -1;
	api_copy(out->flash_size_source, sizeof out->flash_size_source, "unknown");
}

static void convert_found(const struct target_dfuse_found *found, struct stm32dfu_device_rec *out)
{
	out->found_state = found->bState;
	out->found_status = found->bStatus;
	api_copy(out->found_state_name, sizeof out->found_state_name, dfu_state_name(found->bState));
	api_copy(out->found_status_name, sizeof out->found_status_name, dfu_status_name(found->bStatus));
	api_copy(out->found_action, sizeof out->found_action, api_found_action(found->bState));
}

static void convert_known_identity(const struct ops_identity *id, const char *usb_serial, bool read,
                                   struct stm32dfu_device_rec *out)
{
	out->identity_known = 1;
	out->identity_read = read;
	api_convert_identity(id, usb_serial, &out->identity);
	const struct chip_identity *ci = &id->chip;
	api_copy(out->flash_size_source, sizeof out->flash_size_source,
	         ci->flash_size_source == CHIP_SIZE_REGISTER ? "register"
	         : ci->flash_size_source == CHIP_SIZE_LAYOUT ? "layout" : "unknown");
	out->layout_flash_size = ci->layout_flash_size;
	out->rdp_from_note = id->rdp_from_note;
}

static void convert_listed_rec(const struct ops_listed *l, struct stm32dfu_device_rec *out)
{
	convert_rec(&l->info, l->dfu_version, l->transfer_size, l->alts, l->n_alts, l->n_alts_dropped, out);
	out->opened = l->opened;
	api_copy(out->error, sizeof out->error, l->opened ? "" : l->error);
	out->serial_shared = l->serial_shared;
	out->uid_shared = l->uid_shared;
	if (!l->opened) {
		unknown_identity(out);
		return;
	}
	convert_found(&l->found, out);
	convert_known_identity(&l->id, l->info.serial, l->identity_tried, out);
}

int stm32dfu_list_records(const struct stm32dfu_match *match, const struct stm32dfu_session_options *options,
                          struct stm32dfu_device_rec **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	api_clear_nosession();
	struct err e;
	err_clear(&e);
	struct ops_open_opts o;
	int rc = api_session_opts(match, options, &o, &e);
	struct ops_listed *l = NULL;
	size_t count = 0;
	if (rc == 0)
		rc = ops_list(&o, &l, &count, &e);
	if (rc < 0)
		return api_fail_nosession(&e, rc);
	struct stm32dfu_device_rec *x = calloc(count ? count : 1, sizeof *x);
	if (!x) {
		free(l);
		err_set(&e, STM32DFU_E_NO_MEMORY, "out of memory listing %zu devices", count);
		return api_fail_nosession(&e, STM32DFU_E_NO_MEMORY);
	}
	for (size_t i = 0; i < count; i++)
		convert_listed_rec(&l[i], &x[i]);
	free(l);
	*out = x;
	*n = count;
	return 0;
}

void stm32dfu_list_records_free(struct stm32dfu_device_rec *devices)
{
	free(devices);
}

void api_device_rec_of(const struct ops_session *o, struct stm32dfu_device_rec *out)
{
	memset(out, 0, sizeof *out);
	const struct dfu_dev *d = o->dfu; /* NULL over USART: no DFU descriptors */
	convert_rec(ops_info(o), d && d->desc.have_func ? d->desc.func.bcdDFUVersion : 0, (uint16_t)o->t->max_transfer,
	            o->map->mem, o->map->n, d ? d->desc.n_alts_dropped : 0, out);
	out->opened = 1;
	convert_found(&o->initial, out);
	unknown_identity(out);
}

int stm32dfu_device_record(struct stm32dfu_session *s, struct stm32dfu_device_rec *out)
{
	err_clear(&s->err);
	api_device_rec_of(s->ops, out);
	int rc = ops_identify(s->ops);
	if (rc < 0)
		return api_fail_from_ops(s, rc);
	convert_known_identity(&s->ops->id, ops_info(s->ops)->serial, s->ops->id.chip.family != NULL, out);
	return 0;
}
