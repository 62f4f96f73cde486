/* The programming log from the command line (logrec.h). */
#include "cli/logrec.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/image.h"

bool cli_log_wanted(const struct cli_ctx *c)
{
	const char *cmd = c->args.command;
	if (!cmd)
		return false;
	if (strcmp(cmd, "ob") == 0)
		return c->args.subcommand && strcmp(c->args.subcommand, "set") == 0 && !c->args.given[OPT_DRY_RUN];
	return strcmp(cmd, "write") == 0 || strcmp(cmd, "erase") == 0 || strcmp(cmd, "unprotect") == 0 ||
	       strcmp(cmd, "station") == 0;
}

int cli_log_url(struct cli_ctx *c, char *buf, size_t cap)
{
	const char *url = c->args.value[OPT_LOG];
	if (!url || !*url)
		url = getenv("STM32DFU_LOG");
	if (url && *url) {
		snprintf(buf, cap, "%s", url);
		return 0;
	}
	int rc = store_default_url(buf, cap, &c->err);
	return rc < 0 ? cli_fail(c, rc) : 0;
}

int cli_log_open(struct cli_ctx *c)
{
	if (c->args.given[OPT_STATION])
		snprintf(c->station, sizeof c->station, "%s", c->args.value[OPT_STATION]);
	else if (gethostname(c->station, sizeof c->station) != 0)
		snprintf(c->station, sizeof c->station, "unknown");
	c->station[sizeof c->station - 1] = '\0';
	if (c->args.given[OPT_NO_LOG]) {
		if (c->args.given[OPT_LOG])
			return cli_usage_error(c, "--log and --no-log contradict each other");
		return 0;
	}
	char url[512];
	int rc = cli_log_url(c, url, sizeof url);
	if (rc)
		return rc;
	rc = store_open(url, &c->log, &c->err);
	if (rc < 0) {
		if (!c->err.hint[0])
			err_hint(&c->err, "--no-log runs without the log");
		return cli_fail(c, rc);
	}
	return 0;
}

void cli_log_close(struct cli_ctx *c)
{
	store_close(c->log);
	c->log = NULL;
}

void cli_log_init(struct cli_ctx *c, struct store_record *r, const char *command)
{
	memset(r, 0, sizeof *r);
	snprintf(r->station, sizeof r->station, "%s", c->station);
	snprintf(r->version, sizeof r->version, "%s", STM32DFU_VERSION);
	snprintf(r->command, sizeof r->command, "%s", command);
}

void cli_log_image(struct cli_ctx *c, struct store_record *r, const char *path, const struct img *img)
{
	(void)c;
	char *abs = realpath(path, NULL);
	snprintf(r->image_path, sizeof r->image_path, "%s", abs ? abs : path);
	free(abs);
	if (store_sha256_file(path, r->image_sha256, NULL, NULL) < 0)
		r->image_sha256[0] = '\0';
	r->image_bytes = img ? img_total_bytes(img) : 0;
}

int cli_log_finish(struct cli_ctx *c, struct store_record *r, int code)
{
	if (!c->log)
		return code;
	struct err e;
	err_clear(&e);
	if (store_append(c->log, r, &e) < 0) {
		fprintf(c->errf, "stm32dfu: the programming log lost this record: %s\n", e.msg);
		if (e.hint[0])
			fprintf(c->errf, "hint: %s\n", e.hint);
		return code ? code : EXIT_CANTCREAT;
	}
	if (store_spooling(c->log))
		fprintf(c->errf, "stm32dfu: the log database %s is unreachable: records are spooled locally and sent "
		                 "when it answers ('stm32dfu log --sync')\n",
		        store_url(c->log));
	return code;
}

uint64_t cli_log_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
