/*
 * Shared by the files of the device commands (info, write, verify, erase, leave: cmd_device.c,
 * cmd_write.c, cmd_erase.c) and by report_write.c, which prints what a write and a leave did.
 */
#ifndef CLI_CMD_DEVICE_H
#define CLI_CMD_DEVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/json.h"

static inline bool cli_json_mode(const struct cli_ctx *c)
{
	return c->args.given[OPT_JSON];
}

/* -q, or --json: nothing but the document on stdout */
static inline bool cli_quiet(const struct cli_ctx *c)
{
	return c->args.given[OPT_QUIET] || cli_json_mode(c);
}

static inline double cli_seconds(uint64_t us)
{
	return (double)us / 1e6;
}

struct stm32dfu_leave_result;
/* Warns (before the outcome) when the vector table at the jump address does not look runnable. */
void cli_leave_warnings(struct cli_ctx *c, const struct stm32dfu_leave_result *l);
/* Where the jump went and why, and what shows it happened: a line, or the members of a JSON object. */
void cli_leave_text(FILE *o, const struct stm32dfu_leave_result *l);
void cli_leave_json(struct json *j, const struct stm32dfu_leave_result *l);
/* key: path, or key: null when path is NULL or "" */
void cli_json_path_or_null(struct json *j, const char *key, const char *path);

#endif
