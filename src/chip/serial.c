/*
 * ROM serial rules (protocol.md §5). The HAL form: hex8(UID0+UID2) + hex4(UID1>>16) (ST-MW
 * usbd_desc_template.c Get_SerialNum; locm3 #760 for the ROM). F3: the last 4 digits are UID2>>16.
 * Byte-wise forms: MicroPython usbd_desc.c and libopencm3 desig_get_unique_id_as_dfu.
 */
#include "chip/serial.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/rd.h"

static bool is_f3_rule(const struct chip_family *fam)
{
	return fam && fam->serial_rule == CHIP_SERIAL_RULE_F3;
}

void chip_serial_compute(const struct chip_family *fam, const uint8_t uid[12], struct chip_serials *out)
{
	uint32_t u0 = get_le32(uid), u1 = get_le32(uid + 4), u2 = get_le32(uid + 8);
	uint32_t s0 = u0 + u2; /* 32-bit add, wraps as in the HAL */
	bool f3 = is_f3_rule(fam);
	uint16_t tail = (uint16_t)((f3 ? u2 : u1) >> 16);
	memset(out, 0, sizeof(*out));
	out->hal_valid = s0 != 0;
	snprintf(out->hal, sizeof(out->hal), "%08X%04X", (unsigned)s0, (unsigned)tail);
	/* F76x: the ROM's low byte of s0 is 0x0A larger (8-bit, no carry; protocol.md §5.2). */
	uint32_t s0a = (s0 & 0xFFFFFF00u) | ((s0 + 0x0Au) & 0xFFu);
	snprintf(out->f76x, sizeof(out->f76x), "%08X%04X", (unsigned)s0a, (unsigned)tail);
	/* Byte-wise: id[11], id[10]+id[2], id[9], id[8]+id[0], then id[7], id[6] (F3: id[11], id[10]). */
	unsigned b[6] = {uid[11], (unsigned)uid[10] + uid[2], uid[9], (unsigned)uid[8] + uid[0],
			 f3 ? uid[11] : uid[7], f3 ? uid[10] : uid[6]};
	snprintf(out->bytewise, sizeof(out->bytewise), "%02X%02X%02X%02X%02X%02X", b[0] & 0xFF, b[1] & 0xFF,
		 b[2] & 0xFF, b[3] & 0xFF, b[4] & 0xFF, b[5] & 0xFF);
	snprintf(out->bytewise_mp, sizeof(out->bytewise_mp), "%02X%02X%02X%02X%02X%02X", b[0], b[1], b[2], b[3],
		 b[4], b[5]);
}

bool chip_uid_from_words(uint32_t w0, uint32_t w1, uint32_t w2, uint8_t uid[12])
{
	put_le32(uid, w0);
	put_le32(uid + 4, w1);
	put_le32(uid + 8, w2);
	return true;
}

static const char *quirk_text(enum chip_serial_quirk q)
{
	switch (q) {
	case CHIP_SQ_FXSTM32:
		return "This ROM (F72x/F73x and some F446) reports the constant STM32FxSTM32 on every unit, so "
		       "use the UID to tell boards apart.";
	case CHIP_SQ_CONST_STM32:
		return "The F105/F107 ROM reports the constant STM32 and does not use the UID.";
	case CHIP_SQ_F0_FFFF:
		return "The F0 ROM reports FFFFFFFEFFFF, the F3 rule applied to all-0xFF words (no UID read).";
	case CHIP_SQ_F76X_PLUS_0A:
		return "The F76x/F77x ROM adds 0x0A to the low byte of UID0+UID2, so its serial differs from "
		       "the HAL one by that byte.";
	case CHIP_SQ_H7_NOT_UID:
		return "The H7 ROM serial is not derived from the UID (it seems to come from DBGMCU_IDC), so it "
		       "cannot be checked against it.";
	case CHIP_SQ_F7_00000008:
		return "Some F7/H7 ROMs report 00000008FFFF regardless of UID; use the UID to tell boards apart.";
	case CHIP_SQ_RANDOM:
		return "The L496 ROM serial changes on every power cycle; use the UID to tell boards apart.";
	case CHIP_SQ_NONE:
		break;
	}
	return "";
}

const char *chip_serial_verdict_name(enum chip_serial_verdict v)
{
	switch (v) {
	case CHIP_SERIAL_MATCH_HAL: return "matches (HAL rule)";
	case CHIP_SERIAL_MATCH_BYTEWISE: return "matches (byte-wise rule)";
	case CHIP_SERIAL_KNOWN_QUIRK: return "known ROM quirk";
	case CHIP_SERIAL_MISMATCH: return "unexplained mismatch";
	case CHIP_SERIAL_NO_UID: return "UID not read";
	case CHIP_SERIAL_NO_USB_SERIAL: return "no USB serial (USART)";
	}
	return "?";
}

const char *chip_serial_verdict_token(enum chip_serial_verdict v)
{
	switch (v) {
	case CHIP_SERIAL_MATCH_HAL: return "match_hal";
	case CHIP_SERIAL_MATCH_BYTEWISE: return "match_bytewise";
	case CHIP_SERIAL_KNOWN_QUIRK: return "known_quirk";
	case CHIP_SERIAL_MISMATCH: return "mismatch";
	case CHIP_SERIAL_NO_UID: return "no_uid";
	case CHIP_SERIAL_NO_USB_SERIAL: return "no_usb_serial";
	}
	return "unknown";
}

static enum chip_serial_verdict quirk(struct chip_serial_result *out, enum chip_serial_quirk q)
{
	out->verdict = CHIP_SERIAL_KNOWN_QUIRK;
	out->quirk = q;
	out->explanation = quirk_text(q);
	return out->verdict;
}

static bool fam_is(const struct chip_family *fam, const char *prefix)
{
	return fam && strncasecmp(fam->id, prefix, strlen(prefix)) == 0;
}

enum chip_serial_verdict chip_serial_check(const struct chip_family *fam, const char *usb_serial,
					   const uint8_t *uid, struct chip_serial_result *out)
{
	memset(out, 0, sizeof(*out));
	out->explanation = "";
	if (uid) {
		out->has_computed = true;
		chip_serial_compute(fam, uid, &out->computed);
	}
	const char *s = usb_serial ? usb_serial : "";
	/* Constant strings first: they say nothing about the UID. */
	if (strcmp(s, "STM32FxSTM32") == 0)
		return quirk(out, CHIP_SQ_FXSTM32);
	if (strcmp(s, "STM32") == 0)
		return quirk(out, CHIP_SQ_CONST_STM32);
	if (strcasecmp(s, "FFFFFFFEFFFF") == 0 && (!fam || fam_is(fam, "F0") || fam_is(fam, "F3")))
		return quirk(out, CHIP_SQ_F0_FFFF);
	if (strcasecmp(s, "00000008FFFF") == 0 && (!fam || fam_is(fam, "F7") || fam_is(fam, "H7")))
		return quirk(out, CHIP_SQ_F7_00000008);
	if (uid) {
		const struct chip_serials *c = &out->computed;
		if (c->hal_valid && strcasecmp(s, c->hal) == 0) {
			out->verdict = CHIP_SERIAL_MATCH_HAL;
			out->explanation = "The serial is the HAL form of the UID (hex8(UID0+UID2) + 4 more digits).";
			return out->verdict;
		}
		if (strcasecmp(s, c->bytewise) == 0 || strcasecmp(s, c->bytewise_mp) == 0) {
			out->verdict = CHIP_SERIAL_MATCH_BYTEWISE;
			out->explanation = "The serial is the byte-wise (MicroPython/libopencm3) form of the UID, "
					   "which differs from the HAL form only when byte sums carry.";
			return out->verdict;
		}
		if ((!fam || fam_is(fam, "F76x")) && strcasecmp(s, c->f76x) == 0)
			return quirk(out, CHIP_SQ_F76X_PLUS_0A);
		if (!fam) {
			/* Unknown family: the F3 rule is the other UID-derived one. */
			struct chip_serials f3;
			chip_serial_compute(chip_family_by_id("F3"), uid, &f3);
			if (f3.hal_valid && strcasecmp(s, f3.hal) == 0) {
				out->verdict = CHIP_SERIAL_MATCH_HAL;
				out->explanation = "The serial is the F3 form of the UID (hex8(UID0+UID2) + UID2>>16).";
				return out->verdict;
			}
		}
	}
	if (fam && fam->serial_rule == CHIP_SERIAL_RULE_NOT_UID)
		return quirk(out, CHIP_SQ_H7_NOT_UID);
	if (fam && fam->serial_rule == CHIP_SERIAL_RULE_CONST_STM32 && !uid)
		return quirk(out, CHIP_SQ_CONST_STM32);
	if (fam && (fam->quirks & CHIP_Q_SERIAL_RANDOM) && uid && fam_is(fam, "L4")) {
		/* Only L496 is known to do this, but the family row covers all L4: say so. */
		out->verdict = CHIP_SERIAL_MISMATCH;
		out->quirk = CHIP_SQ_RANDOM;
		out->explanation = "The serial does not match the UID; on an L496 this is the known random "
				   "serial (it changes each power cycle), otherwise it is unexplained.";
		return out->verdict;
	}
	if (!uid) {
		out->verdict = CHIP_SERIAL_NO_UID;
		out->explanation = "The UID was not read, so the serial cannot be checked.";
		return out->verdict;
	}
	out->verdict = CHIP_SERIAL_MISMATCH;
	out->explanation = "The serial matches neither the HAL nor the byte-wise form of the UID and no known "
			   "ROM quirk explains it.";
	return out->verdict;
}

bool chip_serial_parse_selector(const char *s, struct chip_selector *out)
{
	char hex[25];
	size_t n = 0, len;
	bool only_hex = true;
	memset(out, 0, sizeof(*out));
	if (!s || !*s || (len = strlen(s)) >= sizeof(out->serial))
		return false;
	for (size_t i = 0; i < len && only_hex; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (isxdigit(ch)) {
			if (n >= 24)
				only_hex = false;
			else
				hex[n++] = (char)ch;
		} else if (ch != ' ' && ch != ':' && ch != '-') {
			only_hex = false;
		}
	}
	if (only_hex && n == 24) {
		uint32_t w[3] = {0, 0, 0};
		for (size_t i = 0; i < 24; i++) {
			char ch = hex[i];
			unsigned d = (unsigned)(isdigit((unsigned char)ch) ? ch - '0' : (tolower((unsigned char)ch) - 'a' + 10));
			w[i / 8] = (w[i / 8] << 4) | d;
		}
		out->kind = CHIP_SEL_UID;
		chip_uid_from_words(w[0], w[1], w[2], out->uid);
		return true;
	}
	out->kind = CHIP_SEL_USB_SERIAL;
	memcpy(out->serial, s, len + 1);
	return true;
}

bool chip_selector_matches(const struct chip_selector *sel, const char *usb_serial, const uint8_t *uid)
{
	if (sel->kind == CHIP_SEL_UID)
		return uid && memcmp(uid, sel->uid, 12) == 0;
	return usb_serial && strcasecmp(usb_serial, sel->serial) == 0;
}
