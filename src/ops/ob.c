/* Option bytes over a session (ops/ob.h). The decoding and the guards are chip/ob.h's. */
#include "ops/ob.h"

#include <stdlib.h>
#include <string.h>

#include "chip/ob.h"
#include "core/log.h"
#include "ops/rdpnote.h"
#include "target/dfuse_link.h"
#include "target/target.h"

/* The OB alt setting and its first region: where the block lives and how long it is. A family
 * whose table decodes a second region of the alt too (G4: bank 1 at 0x1FFF7800, bank 2 at
 * 0x1FFFF800, RM0440 3.4.1) gets that one in addr2 and len2 (len2 0 when there is none): the block the
 * table decodes is the two concatenated. */
static int ob_location(struct ops_session *s, uint8_t *alt, uint32_t *addr, size_t *len, uint32_t *addr2, size_t *len2)
{
	const struct layout_mem *a = layout_map_find(s->map, "Option Bytes");
	if (!a || !a->have_layout || a->layout.n_regions == 0) {
		err_set(&s->err, STM32DFU_E_UNSUPPORTED, "this device offers no \"Option Bytes\" alt setting");
		err_hint(&s->err, "{@info} lists the alt settings the bootloader offers");
		return STM32DFU_E_UNSUPPORTED;
	}
	const struct layout_region *r = &a->layout.regions[0];
	*alt = a->alt;
	*addr = r->start;
	*len = r->length < sizeof s->id.ob ? (size_t)r->length : sizeof s->id.ob;
	*addr2 = 0;
	*len2 = 0;
	const struct chip_family *fam = s->id.chip.family;
	if (a->layout.n_regions >= 2 && fam && fam->ob) {
		const struct layout_region *r2 = &a->layout.regions[1];
		if (*len + r2->length == fam->ob->size && *len + r2->length <= sizeof s->id.ob) {
			*addr2 = r2->start;
			*len2 = (size_t)r2->length;
		}
	}
	return 0;
}

int ops_ob_read(struct ops_session *s, uint8_t *out, size_t cap, size_t *len)
{
	ops_identify(s);
	uint8_t alt;
	uint32_t addr, addr2;
	size_t n, n2;
	int rc = ob_location(s, &alt, &addr, &n, &addr2, &n2);
	if (rc < 0)
		return rc;
	if ((rc = ops_read_mem(s, alt, addr, s->id.ob, n, -1)) < 0 ||
	    (n2 && (rc = ops_read_mem(s, alt, addr2, s->id.ob + n, n2, -1)) < 0)) {
		if (rc == STM32DFU_E_PROTECTED) {
			s->id.read_protected = true;
			bool two = s->id.rdp_level == 2 || ops_rdp2_noted(s);
			err_set(&s->err, STM32DFU_E_PROTECTED,
			        "the chip refuses to read its option bytes: read protection (RDP level %d) is active", two ? 2 : 1);
			err_hint(&s->err, "%s", ops_rdp_hint(s));
		}
		return rc;
	}
	s->id.has_ob = true;
	s->id.ob_len = n;
	s->id.ob2_len = n2; /* the second zone is in s->id.ob after the first */
	s->id.ob2_tried = true;
	s->id.ob_addr = addr;
	s->id.ob_alt = alt;
	if (out) {
		if (cap < n + n2)
			return err_set(&s->err, STM32DFU_E_INTERNAL, "option bytes: %zu-byte buffer for a %zu-byte block", cap,
			               n + n2);
		memcpy(out, s->id.ob, n + n2);
	}
	*len = n + n2;
	return 0;
}

/* The first field whose value differs between want and got, for the verify message. */
static void describe_difference(const struct chip_family *fam, const uint8_t *want, const uint8_t *got, size_t len,
                                struct err *e)
{
	struct ob_decoded a, b;
	if (fam && fam->ob && ob_decode(fam, want, len, &a, NULL) == 0 && ob_decode(fam, got, len, &b, NULL) == 0) {
		for (size_t i = 0; i < a.n_fields && i < b.n_fields; i++) {
			const struct ob_field_value *x = &a.fields[i], *y = &b.fields[i];
			if (x->present && y->present && x->value != y->value) {
				err_set(e, STM32DFU_E_VERIFY,
				        "option bytes read back differ: %s is 0x%X (%s), 0x%X (%s) was written",
				        x->field->name, y->value, y->meaning, x->value, x->meaning);
				return;
			}
		}
		for (size_t i = 0; i < a.n_words && i < b.n_words; i++) {
			const struct ob_word_check *x = &a.words[i], *y = &b.words[i];
			if (x->present && y->present && (x->value != y->value || x->complement != y->complement)) {
				err_set(e, STM32DFU_E_VERIFY,
				        "option bytes read back differ in word %s: 0x%X/complement 0x%X, "
				        "0x%X/0x%X was written",
				        x->word->name, y->value, y->complement, x->value, x->complement);
				return;
			}
		}
	}
	size_t k = 0;
	while (k < len && want[k] == got[k])
		k++;
	err_set(e, STM32DFU_E_VERIFY, "option bytes read back differ at byte +0x%zX: 0x%02X, 0x%02X was written", k,
	        k < len ? got[k] : 0, k < len ? want[k] : 0);
}

static int ob_rdp_of(const struct chip_family *fam, const uint8_t *block, size_t len)
{
	struct ob_decoded dec;
	if (!fam || !fam->ob || ob_decode(fam, block, len, &dec, NULL) != 0)
		return -1;
	return dec.rdp_level;
}

/* One zone of the option bytes: written through the target (one DNLOAD, or one Write Memory),
 * then the reset that follows and the chip found again, the same chip. */
static int write_zone(struct ops_session *s, uint32_t addr, const uint8_t *data, size_t len,
                      struct ops_ob_write_result *r, bool *gone)
{
	const struct chip_family *fam = s->id.chip.family;
	*gone = false;
	bool reset = false;
	int rc = s->t->ops->ob_write(s->t, addr, data, len, &reset);
	if (rc < 0) {
		s->err = s->t->err;
		return err_prefix(&s->err, "writing the option bytes at 0x%08X", addr);
	}
	r->reset_seen = r->reset_seen || reset;
	if (reset && (rc = ops_reconnect(s, OPS_OB_RECONNECT_MS)) < 0) {
		if (addr == s->id.ob_addr && ob_rdp_of(fam, data, len) == 2 &&
		    (rc == STM32DFU_E_DISCONNECTED || rc == STM32DFU_E_NO_DEVICE || rc == STM32DFU_E_TIMEOUT)) {
			/* level 2 disables boot from system memory (PM0059/RM0090 3.7.3, RM0440, AN2606): after
			 * the option-byte launch the bootloader never runs again, so the chip stays away */
			log_info("option bytes: RDP level 2 sent; the chip reset and did not come back (%s)", s->err.msg);
			err_clear(&s->err);
			ops_rdp2_note(s, true);
			s->id.rdp_level = 2;
			*gone = true;
			return 0;
		}
		return err_prefix(&s->err, "the option bytes at 0x%08X were sent", addr);
	}
	if (!reset)
		s->have_identity = false; /* re-read what the chip holds now */
	return 0;
}

/*
 * A change of the nWRP bits alone, on a bootloader with AN3155's Write Protect and Write Unprotect
 * (GET lists 0x63 and 0x73: TARGET_CAP_WRITE_PROTECT), is made with them rather than a Write Memory
 * of the block (issue 23). Write Protect leaves exactly the sectors it lists protected (a second
 * command unprotects what the first protected: AN3155 3.9 note), so the list is every sector the new
 * block protects; none left is Write Unprotect (3.10). Only where a sector code is the sector's number
 * and its nWRP bit: one bit per sector, 0 = protected (F2/F4/F7, single bank). Returns the number of
 * codes (0: Write Unprotect), or -1 when the block write is the way.
 */
static int wrp_only_change(struct ops_session *s, const uint8_t *cur, const uint8_t *want, size_t len,
                           uint8_t *codes, size_t cap)
{
	const struct chip_family *fam = s->id.chip.family;
	if (!(s->t->caps & TARGET_CAP_WRITE_PROTECT) || !fam || !fam->ob || fam->ob->wrp_bit_bytes)
		return -1;
	struct ob_decoded a, b;
	if (ob_decode(fam, cur, len, &a, NULL) != 0 || ob_decode(fam, want, len, &b, NULL) != 0 || a.short_block ||
	    a.complement_errors || a.n_fields != b.n_fields)
		return -1;
	uint8_t same[sizeof s->id.ob];
	if (len > sizeof same)
		return -1;
	memcpy(same, cur, len);
	bool wrp_changed = false;
	size_t n = 0;
	unsigned base = 0;
	for (size_t i = 0; i < b.n_fields; i++) {
		const struct ob_field *f = b.fields[i].field;
		switch (f->kind) {
		case OB_K_NDBANK:
			if (b.fields[i].value == 0)
				return -1; /* F76x dual bank: one bit for two sectors, codes UNCONFIRMED */
			break;
		case OB_K_WRP_START:
		case OB_K_WRP_END:
			return -1; /* WRP areas: no sector codes for them */
		case OB_K_NWRP:
			if (!b.fields[i].present)
				return -1;
			if (a.fields[i].value != b.fields[i].value) {
				wrp_changed = true;
				if (ob_encode_field(fam, same, len, f, b.fields[i].value, NULL) != 0)
					return -1;
			}
			for (unsigned k = 0; k < f->width; k++)
				if (!(b.fields[i].value & (1u << k))) {
					if (base + k > 0xFF || n >= cap)
						return -1;
					codes[n++] = (uint8_t)(base + k);
				}
			base += f->width;
			break;
		default:
			break;
		}
	}
	/* the rest of the block unchanged, byte for byte (complements included) */
	if (!wrp_changed || memcmp(same, want, len) != 0)
		return -1;
	/* every sector of the flash has its bit here: Write Protect would unprotect a sector the block
	 * does not hold (F42x sectors 12-23 live in the second option-byte zone, RM0090 3.7) */
	const struct layout_mem *fa = ops_flash_alt(s);
	uint64_t nsec = 0;
	if (!fa || !fa->have_layout || !fa->layout.n_regions)
		return -1;
	for (unsigned g = 0; g < fa->layout.regions[0].n_groups; g++)
		nsec += fa->layout.regions[0].groups[g].count;
	if (nsec == 0 || nsec > base)
		return -1;
	return (int)n;
}

/* The nWRP change by Write Protect / Write Unprotect, then the chip's reset and the same chip
 * found again; the caller reads the block back and compares it, as after a block write. */
static int write_protection(struct ops_session *s, const uint8_t *codes, int n, struct ops_ob_write_result *r)
{
	unsigned sec[256];
	for (int i = 0; i < n; i++)
		sec[i] = codes[i];
	r->wp_command = n ? 0x63 : 0x73;
	log_info("option bytes: only write protection changes: %s (%d sector%s)",
	         n ? "Write Protect" : "Write Unprotect", n, n == 1 ? "" : "s");
	int rc = n ? s->t->ops->write_protect(s->t, sec, (size_t)n) : s->t->ops->write_unprotect(s->t);
	if (rc < 0) {
		s->err = s->t->err;
		return err_prefix(&s->err, "%s", n ? "Write Protect" : "Write Unprotect");
	}
	r->reset_seen = true;
	if ((rc = ops_reconnect(s, OPS_OB_RECONNECT_MS)) < 0)
		return err_prefix(&s->err, "%s was sent", n ? "Write Protect" : "Write Unprotect");
	return 0;
}

int ops_ob_write(struct ops_session *s, const uint8_t *block, size_t len, struct ops_ob_write_result *r)
{
	memset(r, 0, sizeof *r);
	ops_identify(s);
	uint8_t alt;
	uint32_t addr, addr2;
	size_t n, n2;
	int rc = ob_location(s, &alt, &addr, &n, &addr2, &n2);
	if (rc < 0)
		return rc;
	/* the first zone alone (a file of it), or both zones (ob set on a family that decodes both) */
	if ((len != n && len != n + n2) || n > s->t->max_transfer || n2 > s->t->max_transfer)
		return err_set(&s->err, STM32DFU_E_RANGE,
		               "option bytes: a %zu-byte block for a %zu-byte area (transfer size %u)", len, n + n2,
		               s->t->max_transfer);
	const struct chip_family *fam = s->id.chip.family;
	uint8_t *want = malloc(len);
	if (!want)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	memcpy(want, block, len);
	bool gone = false;
	/* the second zone first, only when it changes: a write of the first may raise RDP, after which
	 * nothing is read or written any more */
	if (len > n) {
		size_t cur = 0;
		uint8_t now[sizeof s->id.ob];
		if ((rc = ops_ob_read(s, now, sizeof now, &cur)) < 0) {
			free(want);
			return err_prefix(&s->err, "reading the option bytes before writing them");
		}
		if (cur != len || memcmp(now + n, want + n, len - n) != 0) {
			if ((rc = write_zone(s, addr2, want + n, len - n, r, &gone)) < 0) {
				free(want);
				return rc;
			}
			log_info("option bytes: the zone at 0x%08X written", addr2);
		}
	}
	int nwp = -1;
	uint8_t codes[256];
	if (len == n && (s->t->caps & TARGET_CAP_WRITE_PROTECT)) {
		size_t cur = 0;
		uint8_t now[sizeof s->id.ob];
		/* unread (read protection): the block write, which says what the chip answers */
		if (ops_ob_read(s, now, sizeof now, &cur) == 0 && cur == len)
			nwp = wrp_only_change(s, now, want, len, codes, sizeof codes);
		err_clear(&s->err);
	}
	if (nwp >= 0) {
		if ((rc = write_protection(s, codes, nwp, r)) < 0) {
			free(want);
			return rc;
		}
	} else if ((rc = write_zone(s, addr, want, n, r, &gone)) < 0 || gone) {
		r->bootloader_gone = gone;
		free(want);
		return rc;
	}
	size_t got_len = 0;
	rc = ops_ob_read(s, NULL, 0, &got_len);
	if (rc == STM32DFU_E_PROTECTED && ob_rdp_of(fam, want, len) >= 1) {
		/* RDP 1 now refuses every read: that refusal is the confirmation available */
		err_clear(&s->err);
		r->protection_active = true;
		ops_rdp2_note(s, ob_rdp_of(fam, want, len) == 2);
		if (ob_rdp_of(fam, want, len) == 2)
			s->id.rdp_level = 2;
		free(want);
		return 0;
	}
	if (rc < 0) {
		err_prefix(&s->err, "reading the option bytes back");
		free(want);
		return rc;
	}
	if (got_len < len || memcmp(s->id.ob, want, len) != 0) {
		describe_difference(fam, want, s->id.ob, len, &s->err);
		err_hint(&s->err, "the chip may not accept this combination; {@ob-show} shows what it holds");
		free(want);
		return STM32DFU_E_VERIFY;
	}
	r->verified = true;
	free(want);
	return 0;
}

/* Reads the first flash sector and says whether it is erased. */
static int first_sector_erased(struct ops_session *s, struct ops_unprotect_result *r)
{
	const struct layout_mem *fa = ops_flash_alt(s);
	if (!fa || !fa->have_layout || fa->layout.n_regions == 0 || fa->layout.regions[0].n_groups == 0)
		return err_set(&s->err, STM32DFU_E_UNSUPPORTED, "no flash memory map to check the erase against");
	const struct layout_region *rg = &fa->layout.regions[0];
	uint32_t n = rg->groups[0].size;
	uint8_t *buf = malloc(n);
	if (!buf)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	int rc = ops_read_mem(s, fa->alt, rg->start, buf, n, -1);
	if (rc == 0) {
		r->flash_erased = true;
		for (uint32_t i = 0; i < n; i++)
			if (buf[i] != 0xFF) {
				r->flash_erased = false;
				break;
			}
		r->checked_addr = rg->start;
		r->checked_len = n;
	}
	free(buf);
	return rc;
}

int ops_unprotect(struct ops_session *s, struct ops_unprotect_result *r)
{
	memset(r, 0, sizeof *r);
	ops_identify(s);
	r->rdp_before = s->id.rdp_level;
	r->rdp_after = -1;
	int rc = s->t->ops->readout_unprotect(s->t);
	if (rc < 0) {
		s->err = s->t->err;
		return rc;
	}
	/* the ROM mass-erases before it comes back: allow for the longest erase */
	unsigned wait = target_dfuse_mass_erase_ms() + OPS_OB_RECONNECT_MS;
	if ((rc = ops_reconnect(s, wait)) < 0)
		return err_prefix(&s->err, "read unprotect");
	size_t len = 0;
	if ((rc = ops_ob_read(s, NULL, 0, &len)) < 0) {
		if (rc == STM32DFU_E_PROTECTED) {
			err_set(&s->err, STM32DFU_E_PROTECTED,
			        "read unprotect: the chip still refuses reads after its reset (RDP not lowered)");
			err_hint(&s->err, "RDP level 2 cannot be removed; otherwise power-cycle the board and retry");
		}
		return rc;
	}
	const struct chip_family *fam = s->id.chip.family;
	r->rdp_after = ob_rdp_of(fam, s->id.ob, len);
	if (r->rdp_after < 0 && fam && fam->ob)
		return err_set(&s->err, STM32DFU_E_UNSUPPORTED, "read unprotect: the option bytes read back do not decode");
	if (r->rdp_after > 0) {
		err_set(&s->err, STM32DFU_E_VERIFY, "read unprotect: RDP is still level %d after the reset", r->rdp_after);
		err_hint(&s->err, "power-cycle the board and run {@unprotect} again");
		return STM32DFU_E_VERIFY;
	}
	if (fam && fam->ob) {
		uint8_t def[sizeof s->id.ob];
		size_t dl = 0;
		if (ob_default_block(fam, def, sizeof def, &dl) == 0 && dl == len)
			r->ob_default = memcmp(def, s->id.ob, len) == 0;
	}
	if ((rc = first_sector_erased(s, r)) < 0)
		return err_prefix(&s->err, "read unprotect: checking the flash");
	log_debug("unprotect: RDP %d -> %d, flash %serased", r->rdp_before, r->rdp_after, r->flash_erased ? "" : "not ");
	return 0;
}
