/* What chip is this? From the layout strings, then the UID, flash-size register and bootloader-ID
 * byte read over DFU (never DBGMCU, which hangs the F7 ROM: protocol.md §2.3). */
#include <stdio.h>
#include <string.h>

#include "chip/ob.h"
#include "core/log.h"
#include "ops/linknote.h"
#include "ops/rdpnote.h"
#include "ops/session.h"

static void evidence_from_alts(const struct ops_session *s, struct chip_evidence *ev)
{
	memset(ev, 0, sizeof *ev);
	for (unsigned a = 0; a < s->map->n && a < CHIP_MAX_ALTS; a++)
		ev->alt_names[ev->n_alts++] = s->map->mem[a].name;
	ev->has_vid = ops_dfuse(s);
	ev->vid = ops_info(s)->vid;
	ev->product = ops_info(s)->product;
	ev->usb_serial = ops_info(s)->serial;
	ev->has_bcd_device = ops_dfuse(s);
	ev->bcd_device = ops_info(s)->bcd_device;
}

/* A read that may be refused (errTARGET, or errVENDOR under RDP): not an error for identification.
 * Confirmed by a second read where the session asks for it: a flipped UID names the wrong recovery
 * file, a flipped option byte hides a write protection. */
static bool try_read(struct ops_session *s, uint8_t alt, uint32_t addr, uint8_t *buf, size_t len)
{
	if (ops_read_mem_sure(s, alt, addr, buf, len, -1) == 0)
		return true;
	if (s->err.code == STM32DFU_E_PROTECTED)
		s->id.read_protected = true;
	log_debug("identify: %s", s->err.msg);
	err_clear(&s->err);
	return false;
}

static const struct layout_mem *ob_alt(const struct ops_session *s)
{
	return layout_map_find(s->map, "Option Bytes");
}

/* Over USART the chip says what it is: Get ID gives the DBGMCU device ID (AN3155 3.3), and the
 * family table maps it. The map's descriptions (built from that family) confirm it. */
static void uart_family(struct ops_session *s, const struct chip_evidence *ev)
{
	struct ops_identity *id = &s->id;
	struct target_link link;
	target_link_of(s->t, &link);
	const struct chip_family *fam = chip_family_by_dev_id(link.dev_id);
	if (!fam)
		return;
	id->chip.family = fam;
	id->chip.alternatives[0] = NULL;
	id->chip.confidence = CHIP_CONF_CERTAIN;
	snprintf(id->chip.reason, sizeof id->chip.reason, "device ID 0x%03X (AN3155 Get ID)%s", link.dev_id,
	         ev->has_flash_size ? ", flash-size register" : "");
	if (ev->has_flash_size && ev->flash_size_kb && ev->flash_size_kb != 0xFFFF) {
		id->chip.flash_size = (uint32_t)ev->flash_size_kb * 1024u;
		id->chip.flash_size_source = CHIP_SIZE_REGISTER;
	}
	/* The ROM's own version (AN2606) comes from its ID byte where the family has one, on both
	 * links, so the log names one version per chip; without it, GET's first byte: the USART
	 * protocol version (AN3155 3.1: 0x31 = 3.1) */
	if (!id->chip.has_bootloader_version) {
		chip_bootloader_version(link.version, id->chip.bootloader_version, sizeof id->chip.bootloader_version);
		id->chip.has_bootloader_version = true;
	}
}

int ops_identify(struct ops_session *s)
{
	if (s->have_identity)
		return 0;
	struct ops_identity *id = &s->id;
	memset(id, 0, sizeof *id);
	id->ob_alt = -1;
	id->rdp_level = -1;
	struct chip_evidence ev;
	evidence_from_alts(s, &ev);
	chip_identify(&ev, &id->chip);
	if (!ops_dfuse(s))
		uart_family(s, &ev);
	const struct chip_family *fam = id->chip.family;
	const struct layout_mem *flash = ops_flash_alt(s);
	uint8_t alt0 = flash ? flash->alt : 0;
	if (fam) {
		uint8_t uid[12];
		bool ok;
		if (fam->uid_word2_offset == 8) {
			ok = try_read(s, alt0, fam->uid_addr, uid, 12);
		} else {
			ok = try_read(s, alt0, fam->uid_addr, uid, 8) &&
			     try_read(s, alt0, fam->uid_addr + fam->uid_word2_offset, uid + 8, 4);
		}
		if (ok) {
			id->has_uid = true;
			memcpy(id->uid, uid, 12);
			ev.has_uid = true;
			memcpy(ev.uid, uid, 12);
		}
		uint8_t two[2];
		if (fam->flash_size_addr && try_read(s, alt0, fam->flash_size_addr, two, 2)) {
			id->has_flash_size = true;
			id->flash_size_kb = (uint16_t)(two[0] | (two[1] << 8));
			ev.has_flash_size = true;
			ev.flash_size_kb = id->flash_size_kb;
		}
		/* AN3156 allows reads of 2 bytes and more: read the ID byte with its neighbour */
		/* 0x00 and 0xFF are no version (AN2606 IDs are 0xMN for VM.N): unmapped or erased, not evidence */
		if (fam->bootloader_id_addr && try_read(s, alt0, fam->bootloader_id_addr, two, 2) && two[0] != 0x00 &&
		    two[0] != 0xFF) {
			id->has_bootloader_id = true;
			id->bootloader_id = two[0];
			ev.has_bootloader_id = true;
			ev.bootloader_id = two[0];
		}
		chip_identify(&ev, &id->chip);
		if (!ops_dfuse(s))
			uart_family(s, &ev);
		fam = id->chip.family;
	}
	const struct layout_mem *oa = ob_alt(s);
	if (oa && oa->have_layout && oa->layout.n_regions > 0) {
		const struct layout_region *r = &oa->layout.regions[0];
		size_t len = r->length < sizeof id->ob ? (size_t)r->length : sizeof id->ob;
		if (len >= 2 && try_read(s, oa->alt, r->start, id->ob, len)) {
			id->has_ob = true;
			id->ob_len = len;
			id->ob_addr = r->start;
			id->ob_alt = oa->alt;
		}
	}
	if (id->has_ob && fam && fam->ob) {
		struct ob_decoded dec;
		if (ob_decode(fam, id->ob, id->ob_len, &dec, NULL) == 0)
			id->rdp_level = dec.rdp_level;
	}
	/* level 2 refuses reads like level 1; only what this tool wrote can tell them apart */
	if (id->read_protected && id->rdp_level < 0) {
		id->rdp_from_note = ops_rdp2_noted(s);
		id->rdp_level = id->rdp_from_note ? 2 : 1;
	}
	else if (id->has_ob && id->rdp_level >= 0 && id->rdp_level < 2)
		ops_rdp2_note(s, false);
	if (ops_dfuse(s)) /* a USB serial string: there is none over USART */
		chip_serial_check(fam, ops_info(s)->serial, id->has_uid ? id->uid : NULL, &id->serial);
	else
		id->serial = (struct chip_serial_result){
			.verdict = CHIP_SERIAL_NO_USB_SERIAL,
			.explanation = "Reached over its USART bootloader (AN3155): the chip has no USB serial to check "
			               "against its UID."};
	s->have_identity = true;
	/* doctor's note is per board: now that the UID is known, only this board's counts */
	if (id->has_uid)
		s->link_marginal = ops_link_note_refine(s);
	return 0;
}
