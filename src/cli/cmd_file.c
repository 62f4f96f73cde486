/* stm32dfu file info FILE | file convert IN OUT: inspect and convert firmware files. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "cli/commands.h"
#include "cli/cli.h"
#include "cli/json.h"
#include "cli/session.h"
#include "image/image.h"

static int file_load(struct cli_ctx *c, const char *path, bool allow_bad_crc, struct img **out)
{
	struct img_load_opts lo;
	img_load_opts_init(&lo);
	lo.allow_bad_crc = allow_bad_crc;
	if (cli_format_opt(c, &lo.format))
		return EXIT_USAGE;
	/* a raw binary is shown where write would put it: the start of flash */
	lo.bin_at_flash = c->args.subcommand && strcmp(c->args.subcommand, "info") == 0;
	if (c->args.given[OPT_ADDRESS]) {
		lo.has_base = true;
		lo.base = c->args.address;
		lo.base_is_explicit = true;
	}
	int rc = img_load_file(path, &lo, out, &c->err);
	if (rc < 0)
		return cli_fail(c, rc);
	return 0;
}

static void info_text(struct cli_ctx *c, const char *path, const struct img *img)
{
	FILE *o = c->out;
	fprintf(o, "%s: %s\n", path, img_format_name(img->format));
	uint32_t lo;
	uint64_t end;
	if (img_span(img, &lo, &end))
		fprintf(o, "  span     0x%08" PRIX32 "-0x%08" PRIX64 " (%" PRIu64 " bytes)\n", lo, end - 1, end - lo);
	fprintf(o, "  data     %" PRIu64 " bytes in %zu segment%s, CRC-32 0x%08" PRIX32 "\n", img_total_bytes(img),
	        img->n_segs, img->n_segs == 1 ? "" : "s", img_crc32(img));
	for (size_t i = 0; i < img->n_segs; i++) {
		const struct img_seg *s = &img->segs[i];
		fprintf(o, "  segment  alt %u  0x%08" PRIX32 "-0x%08" PRIX64 "  %zu bytes\n", s->alt, s->addr,
		        (uint64_t)s->addr + s->len - 1, s->len);
	}
	if (img->has_entry)
		fprintf(o, "  entry    0x%08" PRIX32 "\n", img->entry);
	for (size_t t = 0; t < img->n_targets; t++) {
		const struct img_target *tg = &img->targets[t];
		fprintf(o, "  target   %zu: alt %u, name \"%s\", %zu element%s\n", t, tg->alt, text_esc(0, tg->name), tg->n_elements,
		        tg->n_elements == 1 ? "" : "s");
		for (size_t k = 0; k < tg->n_elements; k++)
			fprintf(o, "    element 0x%08" PRIX32 " %" PRIu32 " bytes\n", tg->elements[k].addr,
			        tg->elements[k].size);
	}
	if (img->suffix.present) {
		const struct img_suffix *s = &img->suffix;
		fprintf(o, "  suffix   VID 0x%04X PID 0x%04X bcdDevice 0x%04X bcdDFU 0x%04X length %u\n", s->vid, s->pid,
		        s->bcd_device, s->bcd_dfu, s->length);
		fprintf(o, "  CRC      0x%08" PRIX32 " %s\n", s->crc_stored,
		        s->crc_valid ? "(valid)" : "(INVALID: the file is corrupt or was edited after the suffix was added)");
	}
}

static void info_json(struct cli_ctx *c, const char *path, const struct img *img, int err)
{
	struct json j;
	json_init(&j, c->out);
	json_obj_begin(&j);
	json_kstr(&j, "file", path);
	if (err)
		cli_json_failure(c, &j, err); /* the document describes the file, and says why it fails */
	json_kstr(&j, "format", img_format_name(img->format));
	uint32_t lo;
	uint64_t end;
	if (img_span(img, &lo, &end)) {
		json_khex32(&j, "start", lo);
		json_kuint(&j, "span", end - lo);
	}
	json_kuint(&j, "bytes", img_total_bytes(img));
	json_khex32(&j, "crc32", img_crc32(img));
	if (img->has_entry)
		json_khex32(&j, "entry", img->entry);
	json_key(&j, "segments");
	json_arr_begin(&j);
	for (size_t i = 0; i < img->n_segs; i++) {
		json_obj_begin(&j);
		json_kuint(&j, "alt", img->segs[i].alt);
		json_khex32(&j, "start", img->segs[i].addr);
		json_kuint(&j, "size", img->segs[i].len);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	if (img->n_targets) {
		json_key(&j, "targets");
		json_arr_begin(&j);
		for (size_t t = 0; t < img->n_targets; t++) {
			const struct img_target *tg = &img->targets[t];
			json_obj_begin(&j);
			json_kuint(&j, "alt", tg->alt);
			json_kstr(&j, "name", tg->name);
			json_key(&j, "elements");
			json_arr_begin(&j);
			for (size_t k = 0; k < tg->n_elements; k++) {
				json_obj_begin(&j);
				json_khex32(&j, "start", tg->elements[k].addr);
				json_kuint(&j, "size", tg->elements[k].size);
				json_obj_end(&j);
			}
			json_arr_end(&j);
			json_obj_end(&j);
		}
		json_arr_end(&j);
	}
	if (img->suffix.present) {
		const struct img_suffix *s = &img->suffix;
		json_key(&j, "suffix");
		json_obj_begin(&j);
		json_kuint(&j, "vid", s->vid);
		json_kuint(&j, "pid", s->pid);
		json_kuint(&j, "bcd_device", s->bcd_device);
		json_kuint(&j, "bcd_dfu", s->bcd_dfu);
		json_kuint(&j, "length", s->length);
		json_khex32(&j, "crc", s->crc_stored);
		json_kbool(&j, "crc_valid", s->crc_valid);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	json_end(&j);
}

static int file_info(struct cli_ctx *c)
{
	if (c->args.npos != 1)
		return cli_usage_error(c, "file info takes one FILE");
	struct img *img = NULL;
	int rc = file_load(c, c->args.pos[0], true, &img);
	if (rc)
		return rc;
	/* a damaged suffix is shown (what is in the file), then failed: write refuses the file */
	int err = 0;
	if (img->suffix.present && !img->suffix.crc_valid) {
		err = err_set(&c->err, STM32DFU_E_FILE_FORMAT, "%s: the DFU suffix CRC 0x%08" PRIX32 " does not match the file",
		              c->args.pos[0], img->suffix.crc_stored);
		err_hint(&c->err, "the file is damaged or was edited after its suffix was made: rebuild it, or "
		                  "'stm32dfu file convert' it from its source");
	}
	if (c->args.given[OPT_JSON])
		info_json(c, c->args.pos[0], img, err);
	else
		info_text(c, c->args.pos[0], img);
	img_free(img);
	return err ? cli_fail(c, err) : EXIT_OK;
}

static bool parse_u16_opt(struct cli_ctx *c, int id, int32_t *out)
{
	if (!c->args.given[id])
		return true;
	uint32_t v;
	if (!cli_parse_u32(c->args.value[id], &v) || v > 0xFFFF) {
		cli_usage_error(c, "--%s %s: expected a 16-bit number such as 0x0483", id == OPT_VID ? "vid" : "pid",
		                c->args.value[id]);
		return false;
	}
	*out = (int32_t)v;
	return true;
}

static int file_convert(struct cli_ctx *c)
{
	if (c->args.npos != 2)
		return cli_usage_error(c, "file convert takes IN and OUT");
	struct img_save_opts so;
	img_save_opts_init(&so);
	if (!parse_u16_opt(c, OPT_VID, &so.vid) || !parse_u16_opt(c, OPT_PID, &so.pid))
		return EXIT_USAGE;
	if (c->args.given[OPT_ALT]) {
		uint32_t alt;
		if (!cli_parse_u32(c->args.value[OPT_ALT], &alt) || alt > 255)
			return cli_usage_error(c, "--alt %s: expected 0 to 255", c->args.value[OPT_ALT]);
		so.alt = (int)alt;
	}
	if (c->args.given[OPT_FILL]) {
		uint32_t fill;
		if (!cli_parse_u32(c->args.value[OPT_FILL], &fill) || fill > 255)
			return cli_usage_error(c, "--fill %s: expected a byte value such as 0xFF", c->args.value[OPT_FILL]);
		so.fill = (uint8_t)fill;
	}
	if (c->args.given[OPT_NAME])
		so.name = c->args.value[OPT_NAME];
	struct img *img = NULL;
	int rc = file_load(c, c->args.pos[0], false, &img);
	if (rc)
		return rc;
	int err = img_save_file(c->args.pos[1], img, &so, &c->err);
	if (err < 0) {
		img_free(img);
		return err == STM32DFU_E_FILE_IO ? (cli_fail(c, err), EXIT_CANTCREAT) : cli_fail(c, err);
	}
	if (!c->args.given[OPT_QUIET] && !c->args.given[OPT_JSON])
		fprintf(c->out, "%s (%s, %" PRIu64 " bytes) -> %s\n", c->args.pos[0], img_format_name(img->format),
		        img_total_bytes(img), c->args.pos[1]);
	if (c->args.given[OPT_JSON]) {
		struct json j;
		json_init(&j, c->out);
		json_obj_begin(&j);
		json_kstr(&j, "input", c->args.pos[0]);
		json_kstr(&j, "input_format", img_format_name(img->format));
		json_kstr(&j, "output", c->args.pos[1]);
		json_kuint(&j, "bytes", img_total_bytes(img));
		json_khex32(&j, "crc32", img_crc32(img));
		json_obj_end(&j);
		json_end(&j);
	}
	img_free(img);
	return EXIT_OK;
}

int cli_cmd_file(struct cli_ctx *c)
{
	const char *sub = c->args.subcommand;
	if (!sub)
		return cli_usage_error(c, "file needs 'info' or 'convert'");
	if (strcmp(sub, "info") == 0)
		return file_info(c);
	if (strcmp(sub, "convert") == 0)
		return file_convert(c);
	return cli_usage_error(c, "unknown 'file %s': use 'file info' or 'file convert'", sub);
}
