/*
 * Format detection and dispatch, and the module's only file I/O (img_load_file, img_save_file):
 * everything else works on memory so that it can be fuzzed and tested without files.
 */
#include "core/file.h"
#include "image/fmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool ends_with(const char *s, const char *ext)
{
	size_t n = strlen(s), m = strlen(ext);
	return n > m && strcasecmp(s + n - m, ext) == 0;
}

enum img_format img_format_from_name(const char *name)
{
	static const struct {
		const char *ext;
		enum img_format f;
	} map[] = {
		{".bin", IMG_FMT_BIN},    {".raw", IMG_FMT_BIN},    {".hex", IMG_FMT_IHEX},
		{".ihex", IMG_FMT_IHEX},  {".ihx", IMG_FMT_IHEX},   {".srec", IMG_FMT_SREC},
		{".s19", IMG_FMT_SREC},   {".s28", IMG_FMT_SREC},   {".s37", IMG_FMT_SREC},
		{".mot", IMG_FMT_SREC},   {".sx", IMG_FMT_SREC},    {".elf", IMG_FMT_ELF},
		{".axf", IMG_FMT_ELF},    {".out", IMG_FMT_ELF},    {".dfu", IMG_FMT_DFUSE},
		{".dfuse", IMG_FMT_DFUSE},
	};
	if (!name)
		return IMG_FMT_UNKNOWN;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (ends_with(name, map[i].ext))
			return map[i].f;
	return IMG_FMT_UNKNOWN;
}

/* ELF, DfuSe and the DFU suffix have binary signatures; IMG_FMT_UNKNOWN when none is there. */
static enum img_format signature_format(const uint8_t *buf, size_t len)
{
	if (len >= 4 && memcmp(buf, "\x7f" "ELF", 4) == 0)
		return IMG_FMT_ELF;
	if (len >= 5 && memcmp(buf, "DfuSe", 5) == 0)
		return IMG_FMT_DFUSE;
	if (len >= 16 && memcmp(buf + len - 8, "UFD", 3) == 0)
		return IMG_FMT_DFU;
	return IMG_FMT_UNKNOWN;
}

/* Whether the first non-blank characters start a text record (':' HEX, 'S' and a digit for
 * S-record); *at gets where the record starts. IMG_FMT_BIN when they do not. */
static enum img_format record_start(const uint8_t *buf, size_t len, size_t *at)
{
	size_t i = 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	*at = i;
	if (i < len && buf[i] == ':')
		return IMG_FMT_IHEX;
	if (i + 1 < len && (buf[i] == 'S' || buf[i] == 's') && buf[i + 1] >= '0' && buf[i + 1] <= '9')
		return IMG_FMT_SREC;
	return IMG_FMT_BIN;
}

enum img_format img_detect(const uint8_t *buf, size_t len, const char *name)
{
	/* binary signatures are unambiguous: trust them over the name (fwupd's kiibohd.dfu.bin) */
	enum img_format f = signature_format(buf, len);
	if (f != IMG_FMT_UNKNOWN)
		return f;
	enum img_format by_name = img_format_from_name(name);
	if (by_name == IMG_FMT_BIN)
		return IMG_FMT_BIN;
	size_t i;
	if ((f = record_start(buf, len, &i)) != IMG_FMT_BIN)
		return f;
	return by_name != IMG_FMT_UNKNOWN ? by_name : IMG_FMT_BIN;
}

/* The format the content shows, whatever the name says: signatures, then text record syntax. */
static enum img_format content_format(const uint8_t *buf, size_t len)
{
	enum img_format f = signature_format(buf, len);
	if (f != IMG_FMT_UNKNOWN)
		return f;
	size_t i;
	if ((f = record_start(buf, len, &i)) == IMG_FMT_BIN)
		return f;
	/* a record's count, address and type come first: 8 hex digits (HEX), 6 or more (S-record);
	 * what follows may be malformed, which the parser then explains */
	size_t start = f == IMG_FMT_IHEX ? i + 1 : i + 2, digits = 0;
	for (size_t k = start; k < len && digits < 8; k++, digits++) {
		bool hex = (buf[k] >= '0' && buf[k] <= '9') || (buf[k] >= 'a' && buf[k] <= 'f') || (buf[k] >= 'A' && buf[k] <= 'F');
		if (!hex)
			break;
	}
	return digits >= (f == IMG_FMT_IHEX ? 8u : 6u) ? f : IMG_FMT_BIN;
}

static const char *format_words(enum img_format f)
{
	switch (f) {
	case IMG_FMT_BIN: return "a raw binary";
	case IMG_FMT_IHEX: return "Intel HEX";
	case IMG_FMT_SREC: return "S-record";
	case IMG_FMT_ELF: return "ELF";
	case IMG_FMT_DFUSE: return "DfuSe";
	case IMG_FMT_DFU: return "DFU";
	case IMG_FMT_UNKNOWN: break;
	}
	return "unknown";
}

/* A name that promises one format over content of another is refused (an Intel HEX file named
 * .bin would otherwise go into flash as ASCII). ELF and DfuSe signatures are unambiguous, and a
 * DFU suffix may sit on any payload: those are parsed as what they are (fwupd's *.dfu.bin). */
static int check_name_vs_content(const uint8_t *buf, size_t len, const char *name, struct err *e)
{
	enum img_format by_name = img_format_from_name(name), found = content_format(buf, len);
	if (len == 0 && by_name != IMG_FMT_UNKNOWN && by_name != IMG_FMT_BIN) {
		err_set(e, STM32DFU_E_FILE_FORMAT, "%s is empty (0 bytes)", name);
		err_hint(e, "the build that made it failed or was interrupted: rebuild it");
		return STM32DFU_E_FILE_FORMAT;
	}
	if (by_name == IMG_FMT_UNKNOWN || by_name == found)
		return 0;
	bool contradicts = false;
	if (by_name == IMG_FMT_BIN)
		contradicts = found == IMG_FMT_IHEX || found == IMG_FMT_SREC;
	else if (by_name == IMG_FMT_IHEX || by_name == IMG_FMT_SREC || by_name == IMG_FMT_ELF)
		contradicts = true;
	else if (by_name == IMG_FMT_DFUSE)
		contradicts = found != IMG_FMT_DFU;
	if (!contradicts)
		return 0;
	err_set(e, STM32DFU_E_FILE_FORMAT, "%s is named as %s file but holds %s", name, format_words(by_name),
	        found == IMG_FMT_BIN ? "binary data" : format_words(found));
	err_hint(e, "rename it to match its content{@or-format %s}", img_format_name(by_name));
	return STM32DFU_E_FILE_FORMAT;
}

int img_parse(const uint8_t *buf, size_t len, const char *name, const struct img_load_opts *opts,
	      struct img **out, struct err *e)
{
	struct img_load_opts defaults;
	if (!opts) {
		img_load_opts_init(&defaults);
		opts = &defaults;
	}
	if (!name)
		name = "input";
	*out = NULL;
	struct img *img = img_new();
	if (!img)
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	int rc;
	if (!opts->format && (rc = check_name_vs_content(buf, len, name, e)) < 0) {
		img_free(img);
		return rc;
	}
	enum img_format f = opts->format ? opts->format : img_detect(buf, len, name);
	switch (f) {
	case IMG_FMT_IHEX: rc = img_read_ihex(img, buf, len, name, e); break;
	case IMG_FMT_SREC: rc = img_read_srec(img, buf, len, name, e); break;
	case IMG_FMT_ELF: rc = img_read_elf(img, buf, len, name, e); break;
	case IMG_FMT_DFUSE:
	case IMG_FMT_DFU: rc = img_read_dfu(img, buf, len, name, opts, e); break;
	case IMG_FMT_BIN:
	default: rc = img_read_bin(img, buf, len, name, opts, e); break;
	}
	if (rc) {
		img_free(img);
		return rc;
	}
	if (opts->base_is_explicit && img->format != IMG_FMT_BIN && img->format != IMG_FMT_DFU) {
		err_set(e, STM32DFU_E_USAGE, "%s is %s and carries its own addresses: a base address applies to raw binaries only",
		        name, format_words(img->format));
		img_free(img);
		err_hint(e, "drop -a (the addresses in the file are used), or convert the file to .bin first");
		return STM32DFU_E_USAGE;
	}
	*out = img;
	return 0;
}

int img_serialize(const struct img *img, const struct img_save_opts *opts, uint8_t **out,
		  size_t *out_len, struct err *e)
{
	struct img_save_opts defaults;
	if (!opts) {
		img_save_opts_init(&defaults);
		opts = &defaults;
	}
	*out = NULL;
	*out_len = 0;
	if (!img->n_segs)
		return err_set(e, STM32DFU_E_USAGE, "nothing to write: the image holds no data");
	struct img_buf b = {0};
	int rc;
	switch (opts->format) {
	case IMG_FMT_BIN: rc = img_write_bin(img, opts, &b, e); break;
	case IMG_FMT_IHEX: rc = img_write_ihex(img, opts, &b, e); break;
	case IMG_FMT_SREC: rc = img_write_srec(img, opts, &b, e); break;
	case IMG_FMT_DFUSE: rc = img_write_dfuse(img, opts, &b, e); break;
	case IMG_FMT_DFU: rc = img_write_dfu(img, opts, &b, e); break;
	case IMG_FMT_ELF:
		rc = err_set(e, STM32DFU_E_UNSUPPORTED, "writing ELF is not supported");
		err_hint(e, "write .bin, .hex, .srec or .dfu");
		break;
	default:
		rc = err_set(e, STM32DFU_E_USAGE, "no output format given");
		err_hint(e, "name the file .bin, .hex, .srec or .dfu");
		break;
	}
	if (!rc && b.failed)
		rc = err_set(e, STM32DFU_E_NO_MEMORY, "out of memory writing %s",
			     img_format_name(opts->format));
	if (rc) {
		img_buf_free(&b);
		return rc;
	}
	*out = b.p;
	*out_len = b.len;
	return 0;
}

int img_load_file(const char *path, const struct img_load_opts *opts, struct img **out,
		  struct err *e)
{
	*out = NULL;
	uint8_t *buf;
	size_t len;
	int rc = file_read_all_max(path, IMG_FILE_MAX, &buf, &len, e);
	if (rc < 0)
		return rc;
	rc = img_parse(buf, len, path, opts, out, e);
	free(buf);
	return rc;
}

int img_save_file(const char *path, const struct img *img, const struct img_save_opts *opts,
		  struct err *e)
{
	struct img_save_opts o;
	if (opts)
		o = *opts;
	else
		img_save_opts_init(&o);
	if (o.format == IMG_FMT_UNKNOWN) {
		o.format = img_format_from_name(path);
		/* a payload without addresses stays a plain DFU file */
		if (o.format == IMG_FMT_DFUSE && img->addressless)
			o.format = IMG_FMT_DFU;
		if (o.format == IMG_FMT_UNKNOWN) {
			err_set(e, STM32DFU_E_USAGE, "%s: cannot tell the output format from the name",
				path);
			err_hint(e, "name it .bin, .hex, .srec or .dfu");
			return STM32DFU_E_USAGE;
		}
	}
	uint8_t *buf;
	size_t len;
	int rc = img_serialize(img, &o, &buf, &len, e);
	if (rc)
		return err_prefix(e, "%s", path);
	/* complete or absent: a full disk leaves an older file as it was */
	rc = file_write_atomic(path, buf, len, 0666, e);
	free(buf);
	return rc;
}
