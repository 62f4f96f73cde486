/*
 * Option-byte guards: a change that would lock the chip (RDP 2, read protection, a write-protected
 * boot sector, no way back to the bootloader) needs the named flag that says the user means it.
 */
#include "chip/ob.h"

#include <stdio.h>
#include <string.h>

static const struct ob_field_value *find_kind(const struct ob_decoded *d, enum ob_kind k, size_t nth)
{
	for (size_t i = 0; i < d->n_fields; i++)
		if (d->fields[i].present && d->fields[i].field->kind == k && nth-- == 0)
			return &d->fields[i];
	return NULL;
}

/* Where the reset vector is read from: flash base (sector 0) always, or per BOOT_ADDx (F7/H7). */
struct boot_place {
	unsigned sector;
	uint32_t addr;
};

static size_t boot_places(const struct chip_family *fam, const struct ob_decoded *d, struct boot_place *out)
{
	size_t n = 0;
	bool any = false;
	for (size_t k = 0; k < 2; k++) {
		const struct ob_field_value *fv = find_kind(d, OB_K_BOOT_ADDR_F7, k);
		if (!fv)
			fv = find_kind(d, OB_K_BOOT_ADDR_H7, k);
		if (!fv)
			break;
		any = true;
		uint32_t a = ob_boot_address(fv->field, fv->value), off;
		uint32_t size = chip_family_flash_bytes(fam);
		if (a >= 0x00200000 && a < 0x00200000 + size && fv->field->kind == OB_K_BOOT_ADDR_F7)
			off = a - 0x00200000; /* F7 ITCM alias of the flash */
		else if (a >= fam->flash_base && a - fam->flash_base < size)
			off = a - fam->flash_base;
		else
			continue;
		int s = chip_family_sector_of(fam, off);
		if (s >= 0)
			out[n++] = (struct boot_place){(unsigned)s, fam->flash_base + off};
	}
	if (!any)
		out[n++] = (struct boot_place){0, fam->flash_base};
	return n;
}

/* Does the block write-protect the vector table at p? The scheme-aware check of ob_wrp.c (active-low
 * sector bits, 4 KiB groups, active-high L0/L1 bits, protected areas); "cannot tell" counts as no. */
static bool boot_place_protected(const struct chip_family *fam, const uint8_t *block, size_t len,
                                 const struct boot_place *p)
{
	return ob_sector_write_protected(fam, block, len, p->sector, p->addr, 8, NULL, 0) == 1;
}

/* Can the BOOT pin (or the option bits) still select the ROM bootloader? */
static bool boot_path(const struct ob_decoded *d)
{
	const struct ob_field_value *a0 = find_kind(d, OB_K_BOOT_ADDR_F7, 0);
	const struct ob_field_value *a1 = find_kind(d, OB_K_BOOT_ADDR_F7, 1);
	if (a0 || a1) {
		/* AN2606 Pattern 8: the ROM runs when the selected BOOT_ADDx = 0x0040 (protocol.md §3.5). */
		bool ok = (a0 && a0->value == 0x0040) || (a1 && a1->value == 0x0040);
		const struct ob_field_value *db = find_kind(d, OB_K_NDBOOT, 0);
		const struct ob_field_value *dk = find_kind(d, OB_K_NDBANK, 0);
		/* Pattern 9 (F76x): dual boot in dual-bank mode may jump to a bank instead; UNCONFIRMED. */
		if (db && dk && db->value == 0 && dk->value == 0)
			ok = false;
		return ok;
	}
	const struct ob_field_value *s0 = find_kind(d, OB_K_SWBOOT_0OPT, 0);
	const struct ob_field_value *s1 = find_kind(d, OB_K_SWBOOT_1OPT, 0);
	const struct ob_field_value *n0 = find_kind(d, OB_K_NBOOT0, 0);
	const struct ob_field_value *n1 = find_kind(d, OB_K_NBOOT1, 0);
	bool from_option = (s0 && s0->value == 0) || (s1 && s1->value == 1);
	/* System memory needs BOOT0 = 1 (nBOOT0 = 0 when taken from the option) and nBOOT1 = 1. */
	if (n1 && n1->value == 0 && (s0 || s1))
		return false;
	if (from_option && n0 && n0->value == 1)
		return false;
	return true;
}

const char *ob_confirm_flag(unsigned flag)
{
	switch (flag) {
	case OB_CONFIRM_RDP2: return "--i-understand-rdp2-is-permanent";
	case OB_CONFIRM_RDP1: return "--i-understand-rdp1-needs-mass-erase";
	case OB_CONFIRM_WRP_BOOT: return "--i-understand-boot-sector-write-protect";
	case OB_CONFIRM_NO_BOOTLOADER: return "--i-understand-bootloader-unreachable";
	case OB_CONFIRM_RDP_REGRESSION: return "--i-understand-rdp0-erases-flash";
	default: return "?";
	}
}

/* The confirmation in each front end's words (core/err.h W_CONFIRM_*). */
static const char *confirm_token(unsigned flag)
{
	switch (flag) {
	case OB_CONFIRM_RDP2: return W_CONFIRM_RDP2;
	case OB_CONFIRM_RDP1: return W_CONFIRM_RDP1;
	case OB_CONFIRM_WRP_BOOT: return W_CONFIRM_WRP_BOOT;
	case OB_CONFIRM_NO_BOOTLOADER: return W_CONFIRM_NO_BOOTLOADER;
	case OB_CONFIRM_RDP_REGRESSION: return W_CONFIRM_RDP0;
	default: return "?";
	}
}

static const char *confirm_risk(unsigned flag)
{
	switch (flag) {
	case OB_CONFIRM_RDP2: return "RDP level 2 is permanent: the chip can never be read, debugged or unprotected again";
	case OB_CONFIRM_RDP1: return "RDP level 1 blocks reads; removing it needs Read Unprotect, which mass-erases the flash";
	case OB_CONFIRM_WRP_BOOT: return "this write-protects the flash sector holding the reset vector (the running code)";
	case OB_CONFIRM_NO_BOOTLOADER: return "after this no BOOT pin setting or option bit leads back into the ROM bootloader";
	case OB_CONFIRM_RDP_REGRESSION: return "going from RDP level 1 to level 0 mass-erases the flash";
	default: return "risky option-byte change";
	}
}

int ob_guard(const struct chip_family *fam, const uint8_t *old, const uint8_t *new_block, size_t len,
	     unsigned given, unsigned *required, struct err *e)
{
	struct ob_decoded a, b;
	unsigned need = 0;
	if (required)
		*required = 0;
	int rc = ob_decode(fam, old, len, &a, e);
	if (rc || (rc = ob_decode(fam, new_block, len, &b, e)))
		return rc;
	if (b.rdp_level == 2 && a.rdp_level != 2)
		need |= OB_CONFIRM_RDP2;
	else if (b.rdp_level == 1 && a.rdp_level == 0)
		need |= OB_CONFIRM_RDP1;
	else if (b.rdp_level == 0 && a.rdp_level == 1)
		need |= OB_CONFIRM_RDP_REGRESSION;
	struct boot_place at[2];
	size_t n = boot_places(fam, &b, at);
	for (size_t i = 0; i < n; i++)
		if (boot_place_protected(fam, new_block, len, &at[i]) && !boot_place_protected(fam, old, len, &at[i]))
			need |= OB_CONFIRM_WRP_BOOT;
	if (boot_path(&a) && !boot_path(&b))
		need |= OB_CONFIRM_NO_BOOTLOADER;
	if (required)
		*required = need;
	unsigned missing = need & ~given;
	if (!missing)
		return 0;
	for (unsigned bit = 1; bit; bit <<= 1)
		if (missing & bit) {
			err_set(e, STM32DFU_E_NEEDS_CONFIRMATION, "%s: %s", fam->id, confirm_risk(bit));
			err_hint(e, "add %s if this is what you want", confirm_token(bit));
			break;
		}
	return STM32DFU_E_NEEDS_CONFIRMATION;
}
