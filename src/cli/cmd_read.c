/* read ADDR LEN -o FILE|-: everything checked before the first transfer (output path, alt, memory map). */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/file.h"
#include "core/os.h"
#include "cli/session.h"

/* Can path be created or replaced? Asked before a read that may take minutes. */
static int check_output(struct cli_ctx *c, const char *path)
{
	struct stat st;
	char dev[8];
	if (file_device_name(path, dev, sizeof dev)) {
		file_device_name_error(&c->err, "-o", path, dev);
		cli_fail(c, STM32DFU_E_FILE_IO);
		return EXIT_CANTCREAT;
	}
	if (stat(path, &st) == 0) {
		FILE *f = NULL;
		if (S_ISDIR(st.st_mode))
			err_set(&c->err, STM32DFU_E_FILE_IO, "-o %s is a directory", path);
		else if (access(path, W_OK) != 0)
			err_set(&c->err, STM32DFU_E_FILE_IO, "-o %s: %s", path, strerror(errno));
		/* a file another program holds (Windows: a sharing violation) is found now, before the
		 * chip is read; opened for update and closed, it is not changed */
		else if (S_ISREG(st.st_mode) && !(f = fopen(path, "r+b")))
			err_set(&c->err, STM32DFU_E_FILE_IO, "-o %s: %s", path, os_file_strerror(errno));
		else {
			if (f)
				fclose(f);
			return 0;
		}
		cli_fail(c, STM32DFU_E_FILE_IO);
		return EXIT_CANTCREAT;
	}
	char *copy = strdup(path);
	if (!copy)
		return cli_fail(c, STM32DFU_E_NO_MEMORY);
	const char *dir = dirname(copy);
	errno = 0;
	int ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK) == 0;
	if (!ok)
		err_set(&c->err, STM32DFU_E_FILE_IO, "-o %s: cannot create the file in %s: %s", path, dir,
		        errno ? strerror(errno) : "not a directory");
	free(copy);
	if (ok)
		return 0;
	cli_fail(c, STM32DFU_E_FILE_IO);
	return EXIT_CANTCREAT;
}

/* the output format: --format, else the name; "-" (stdout) is a raw binary unless --format says */
static int output_format(struct cli_ctx *c, const char *path, enum img_format *f)
{
	*f = IMG_FMT_UNKNOWN;
	if (cli_format_opt(c, f))
		return EXIT_USAGE;
	if (*f == IMG_FMT_UNKNOWN)
		*f = strcmp(path, "-") == 0 ? IMG_FMT_BIN : img_format_from_name(path);
	/* ELF is read, never written: the same refusal as an unknown name, before any work */
	if (*f == IMG_FMT_UNKNOWN || *f == IMG_FMT_ELF)
		return cli_usage_error(c, "-o %s: name the file .bin, .hex, .srec or .dfu (or give --format)", path);
	return 0;
}

static int save(struct cli_ctx *c, const char *path, enum img_format f, const struct img *img)
{
	struct img_save_opts so;
	img_save_opts_init(&so);
	so.format = f;
	int err;
	if (strcmp(path, "-") == 0) {
		uint8_t *buf;
		size_t n;
		err = img_serialize(img, &so, &buf, &n, &c->err);
		if (err == 0) {
			if (fwrite(buf, 1, n, c->out) != n || fflush(c->out) != 0)
				err = err_set(&c->err, STM32DFU_E_FILE_IO, "writing to standard output: %s", strerror(errno));
			free(buf);
		}
	} else {
		err = img_save_file(path, img, &so, &c->err);
	}
	if (err < 0) {
		cli_fail(c, err);
		return err == STM32DFU_E_FILE_IO ? EXIT_CANTCREAT : cli_exit_code(err);
	}
	return 0;
}

int cli_cmd_read(struct cli_ctx *c)
{
	uint32_t addr, len;
	if (cli_parse_addr_len(c, "read", &addr, &len))
		return EXIT_USAGE;
	const char *outpath = c->args.value[OPT_OUTPUT];
	if (!outpath)
		return cli_usage_error(c, "read needs -o FILE (.bin, .hex, .srec or .dfu; - for standard output)");
	bool to_stdout = strcmp(outpath, "-") == 0;
	if (to_stdout && c->args.given[OPT_JSON])
		return cli_usage_error(c, "-o - puts the data on standard output, where --json would go: choose one");
	enum img_format fmt;
	int rc = output_format(c, outpath, &fmt);
	if (rc)
		return rc;
	int alt = -1;
	if (c->args.given[OPT_ALT]) {
		uint32_t a;
		if (!cli_parse_u32(c->args.value[OPT_ALT], &a) || a > 255)
			return cli_usage_error(c, "--alt %s: expected 0 to 255", c->args.value[OPT_ALT]);
		alt = (int)a;
	}
	if (!to_stdout && (rc = check_output(c, outpath)))
		return rc;
	struct stm32dfu_session *api;
	struct cli_progress prog;
	if ((rc = cli_open_api(c, &api, &prog)))
		return rc;
	struct ops_session *s = api_ops(api);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf) {
		stm32dfu_close(api);
		return cli_fail(c, STM32DFU_E_NO_MEMORY);
	}
	struct stm32dfu_read_options ro = {.has_alt = alt >= 0, .alt = alt >= 0 ? (unsigned)alt : 0,
	                                   .no_confirm = c->args.given[OPT_NO_VERIFY], .force = c->args.given[OPT_FORCE]};
	uint64_t t0 = clock_now_us(ops_clock(s));
	/* the session ends with this read: its last ABORT is left to the next session (one transfer
	 * fewer, as dfu-util does) */
	s->end_in_upload_idle = true;
	rc = stm32dfu_read_ex(api, &ro, addr, buf, len);
	uint64_t us = clock_now_us(ops_clock(s)) - t0;
	cli_progress_done(&prog);
	if (rc < 0) {
		free(buf);
		bool refused = rc == STM32DFU_E_RANGE || rc == STM32DFU_E_USAGE; /* by the map check, before any transfer */
		rc = cli_fail_api(c, api, rc);
		if (refused) {
			struct stm32dfu_device_rec *d = cli_device_rec(api, false);
			fprintf(c->errf, "memory map:\n");
			if (d)
				cli_print_alts(c->errf, d);
			free(d);
		}
		stm32dfu_close(api);
		return rc;
	}
	bool confirmed = s->counters.confirm_reads > 0 || s->counters.confirm_checksums > 0;
	const char *how = s->counters.confirm_reads ? ", confirmed by a second read" : ", confirmed by the chip's checksum";
	stm32dfu_close(api);
	struct img *img = img_new();
	int err = img ? img_add(img, 0, addr, buf, len, &c->err) : STM32DFU_E_NO_MEMORY;
	free(buf);
	if (err < 0) {
		img_free(img);
		return cli_fail(c, err);
	}
	rc = save(c, outpath, fmt, img);
	uint32_t crc = img_crc32(img);
	img_free(img);
	if (rc)
		return rc;
	double sec = (double)us / 1e6;
	if (c->args.given[OPT_JSON]) {
		struct json j;
		json_init(&j, c->out);
		json_obj_begin(&j);
		json_khex32(&j, "address", addr);
		json_kuint(&j, "bytes", len);
		json_kstr(&j, "file", outpath);
		json_khex32(&j, "crc32", crc);
		json_kdouble(&j, "seconds", sec);
		json_kbool(&j, "confirmed", confirmed);
		json_obj_end(&j);
		json_end(&j);
	} else if (!c->args.given[OPT_QUIET]) {
		/* with -o - the data owns standard output: the summary goes to standard error */
		fprintf(to_stdout ? c->errf : c->out,
		        "read %" PRIu32 " bytes at 0x%08" PRIX32 " into %s (CRC-32 0x%08" PRIX32 ") in %.2f s%s\n", len, addr,
		        to_stdout ? "standard output" : outpath, crc, sec, confirmed ? how : "");
	}
	return EXIT_OK;
}
