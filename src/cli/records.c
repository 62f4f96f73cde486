/*
 * The device blocks that list, info, doctor, read and write print (text and JSON), from the
 * library's public device record alone: one printer for each, whatever command shows it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "cli/session.h"

struct stm32dfu_device_rec *cli_device_rec(struct stm32dfu_session *api, bool identity)
{
	struct stm32dfu_device_rec *r = malloc(sizeof *r);
	if (!r)
		return NULL;
	if (identity)
		stm32dfu_device_record(api, r); /* an identity that could not be read is printed as unknown */
	else
		api_device_rec_of(api_ops(api), r);
	return r;
}

static uint64_t region_sectors(const struct stm32dfu_region_rec *rg)
{
	uint64_t n = 0;
	for (unsigned g = 0; g < rg->n_groups; g++)
		n += rg->groups[g].count;
	return n;
}

void cli_json_alts(struct json *j, const struct stm32dfu_device_rec *d)
{
	json_key(j, "alts");
	json_arr_begin(j);
	for (unsigned i = 0; i < d->n_alts; i++) {
		const struct stm32dfu_alt_rec *a = &d->alts[i];
		json_obj_begin(j);
		json_kuint(j, "alt", a->alt);
		json_kstr(j, "name", a->name);
		json_kstr(j, "layout", a->raw);
		json_key(j, "regions");
		json_arr_begin(j);
		for (unsigned r = 0; a->has_layout && r < a->n_regions; r++) {
			const struct stm32dfu_region_rec *rg = &a->regions[r];
			json_obj_begin(j);
			json_khex32(j, "start", rg->start);
			json_kuint(j, "size", rg->length);
			json_kuint(j, "sectors", region_sectors(rg));
			json_obj_end(j);
		}
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_kuint(j, "alts_total", d->n_alts_total);
}

static void groups_text(char *buf, size_t cap, const struct stm32dfu_region_rec *rg)
{
	size_t used = 0;
	buf[0] = '\0';
	for (unsigned g = 0; g < rg->n_groups && used < cap; g++) {
		char sz[32];
		cli_size_text(sz, sizeof sz, rg->groups[g].size);
		int k = snprintf(buf + used, cap - used, "%s%" PRIu32 " x %s", g ? ", " : "", rg->groups[g].count, sz);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

void cli_print_alts(FILE *o, const struct stm32dfu_device_rec *d)
{
	for (unsigned i = 0; i < d->n_alts; i++) {
		const struct stm32dfu_alt_rec *a = &d->alts[i];
		if (!a->has_layout) {
			fprintf(o, "  alt %u  \"%s\"%s%s\n", a->alt, text_esc(0, a->raw), a->layout_error[0] ? ": " : "",
			        text_esc(1, a->layout_error));
			continue;
		}
		for (unsigned r = 0; r < a->n_regions; r++) {
			const struct stm32dfu_region_rec *rg = &a->regions[r];
			/* 16 groups of "NNNN x NNN KiB, " fit */
			char total[32], groups[16 * 24];
			cli_size_text(total, sizeof total, rg->length);
			groups_text(groups, sizeof groups, rg);
			fprintf(o, "  alt %u  %-16s 0x%08" PRIX32 "  %-9s (%s)\n", a->alt, r ? "" : text_esc(0, a->name), rg->start, total,
			        groups);
		}
	}
	if (d->n_alts_total > d->n_alts)
		fprintf(o, "  %u more alt settings, not shown (the device has %u; stm32dfu keeps the first %d)\n",
		        d->n_alts_total - d->n_alts, d->n_alts_total, STM32DFU_REC_MAX_ALTS);
}

void cli_json_identity(struct json *j, const struct stm32dfu_device_rec *d)
{
	const struct stm32dfu_identity *id = &d->identity;
	json_key(j, "chip");
	if (id->family[0]) {
		json_obj_begin(j);
		json_kstr(j, "family", id->family);
		json_kstr(j, "name", id->chip);
		json_kstr(j, "confidence", id->confidence);
		json_kstr(j, "reason", id->reason);
		json_kuint(j, "flash_size", id->flash_size);
		json_kstr(j, "flash_size_source", d->flash_size_source);
		if (id->bootloader_version[0])
			json_kstr(j, "bootloader_version", id->bootloader_version);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "uid");
	char uid[40];
	cli_uid_machine(id->uid_text, uid, sizeof uid);
	json_str(j, id->has_uid ? uid : NULL);
	json_kstr(j, "serial_reported", d->serial);
	json_key(j, "serial_computed");
	json_str(j, id->serial_computed[0] ? id->serial_computed : NULL);
	/* a device that could not be opened: its verdict and explanation are unknown (null) */
	json_key(j, "serial_verdict");
	json_str(j, d->identity_known ? id->serial_verdict : NULL);
	json_key(j, "serial_explanation");
	json_str(j, d->identity_known ? id->serial_explanation : NULL);
	json_key(j, "rdp_level");
	if (id->rdp_level >= 0)
		json_int(j, id->rdp_level);
	else
		json_null(j);
}

static const char *verdict_word(const char *token)
{
	static const struct {
		const char *token, *word;
	} w[] = {{"match_hal", "matches the UID (HAL rule)"},
	         {"match_bytewise", "matches the UID (byte-wise rule)"},
	         {"known_quirk", "known ROM quirk"},
	         {"mismatch", "DOES NOT MATCH the UID"},
	         {"no_uid", "UID not read"},
	         {"no_usb_serial", "no USB serial (reached over USART)"}};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
		if (strcmp(token, w[i].token) == 0)
			return w[i].word;
	return "?";
}

void cli_print_identity(FILE *o, const struct stm32dfu_device_rec *d)
{
	const struct stm32dfu_identity *id = &d->identity;
	if (id->family[0])
		fprintf(o, "  chip     %s (%s: %s)\n", id->chip, id->confidence, id->reason);
	else
		fprintf(o, "  chip     unknown (%s)\n", id->reason);
	if (id->flash_size) {
		char sz[32];
		cli_size_text(sz, sizeof sz, id->flash_size);
		/* over USART (no USB VID) the map comes from the family table: without the register (read
		 * protection refuses it) the size is the family's largest */
		fprintf(o, "  flash    %s (%s)", sz,
		        strcmp(d->flash_size_source, "register") == 0 ? "flash-size register"
		        : d->vid                                      ? "layout string"
		                                                      : "the family's largest: the flash-size register was not read");
		if (d->layout_flash_size && d->layout_flash_size != id->flash_size) {
			char lz[32];
			cli_size_text(lz, sizeof lz, d->layout_flash_size);
			fprintf(o, "; the bootloader advertises %s", lz);
		}
		fputc('\n', o);
	}
	/* the version comes from the ROM's ID byte (AN2606) where it was read; over USART without
	 * one, from GET (the AN3155 protocol version) */
	if (id->bootloader_version[0] && id->has_bootloader_id)
		fprintf(o, "  bootldr  %s (ID byte 0x%02X)\n", id->bootloader_version, id->bootloader_id);
	else if (id->bootloader_version[0])
		fprintf(o, "  bootldr  %s (%s)\n", id->bootloader_version,
		        d->vid ? "ID byte not read" : "USART protocol version, from GET");
	if (id->has_uid)
		fprintf(o, "  UID      %s\n", id->uid_text);
	/* VID 0 is no USB device's: a chip reached over USART has no USB serial to check */
	if (d->vid || d->serial[0]) {
		fprintf(o, "  serial   %s (USB)", d->serial[0] ? text_esc(0, d->serial) : "(none)");
		if (id->serial_computed[0])
			fprintf(o, ", computed from UID %s", id->serial_computed);
		fprintf(o, ": %s\n", d->identity_known ? verdict_word(id->serial_verdict) : "not checked (not opened)");
		if (d->identity_known && strcmp(id->serial_verdict, "match_hal") != 0 && id->serial_explanation[0])
			fprintf(o, "           %s\n", text_esc(0, id->serial_explanation));
	}
	if (id->rdp_level >= 0)
		fprintf(o, "  RDP      level %d%s\n", id->rdp_level,
		        id->rdp_level == 0   ? " (not protected)"
		        : id->rdp_level == 1 ? " (read-protected)"
		        : d->rdp_from_note   ? " (PERMANENT; written by stm32dfu ob set: the chip refuses reads, so the level "
		                               "itself cannot be read)"
		                             : " (PERMANENT)");
}
