#include "ops/record.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/rd.h"

void ops_record_uid(char out[25], const uint8_t uid[12])
{
	snprintf(out, 25, "%08" PRIX32 "%08" PRIX32 "%08" PRIX32, get_le32(uid), get_le32(uid + 4), get_le32(uid + 8));
}

void ops_record_board(struct store_record *r, const struct ops_session *s)
{
	if (!s)
		return;
	if (s->have_identity && s->id.has_uid)
		ops_record_uid(r->uid, s->id.uid);
	if (s->have_identity && s->id.chip.family)
		snprintf(r->chip, sizeof r->chip, "%s", s->id.chip.family->name);
	snprintf(r->link, sizeof r->link, "%s", ops_link_name(s));
	if (s->link == OPS_LINK_UART) {
		/* the port by its whole name (ops_info's path is cut to a USB path's length); no USB identity */
		snprintf(r->port, sizeof r->port, "%s", ops_port_name(s));
	} else {
		snprintf(r->usb_serial, sizeof r->usb_serial, "%s", ops_info(s)->serial);
		snprintf(r->usb_path, sizeof r->usb_path, "%s", ops_info(s)->path);
	}
	if (s->have_identity && s->id.chip.has_bootloader_version)
		snprintf(r->bootloader_version, sizeof r->bootloader_version, "%s", s->id.chip.bootloader_version);
	r->retries = s->counters.retries;
}

void ops_record_write(struct store_record *r, const struct ops_write_result *w)
{
	r->sectors_erased = w->sectors_erased;
	r->sectors_skipped = w->sectors_skipped;
	r->s_read = (double)w->read.us / 1e6;
	r->s_erase = (double)w->erase.us / 1e6;
	r->s_program = (double)w->program.us / 1e6;
	r->s_verify = (double)w->verify.us / 1e6;
}

void ops_record_result(struct store_record *r, int rc, const struct err *e)
{
	r->ok = rc >= 0;
	if (rc >= 0)
		return;
	snprintf(r->error, sizeof r->error, "%s", stm32dfu_errname(rc));
	snprintf(r->message, sizeof r->message, "%s", e && e->msg[0] ? e->msg : stm32dfu_strerror(rc));
}

void ops_record_multi(struct store_record *r, const struct ops_multi_result *m)
{
	if (m->has_uid)
		ops_record_uid(r->uid, m->uid);
	snprintf(r->chip, sizeof r->chip, "%s", m->chip);
	snprintf(r->link, sizeof r->link, "%s", m->port[0] ? "uart" : "usb");
	if (m->port[0]) {
		snprintf(r->port, sizeof r->port, "%s", m->port);
	} else {
		snprintf(r->usb_serial, sizeof r->usb_serial, "%s", m->serial);
		snprintf(r->usb_path, sizeof r->usb_path, "%s", m->path);
	}
	snprintf(r->bootloader_version, sizeof r->bootloader_version, "%s", m->bootloader_version);
	r->retries = m->retries;
	r->verified = m->rc == 0 && m->verified;
	ops_record_write(r, &m->wr);
	ops_record_result(r, m->rc, &m->err);
	if (m->has_serial_number)
		r->serial_number = m->serial_number;
	else
		r->serial_counter[0] = '\0';
	r->s_total = (double)m->us / 1e6;
}
