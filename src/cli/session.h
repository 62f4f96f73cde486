/* Shared by the device commands: open the session the options select, print identity blocks. */
#ifndef CLI_SESSION_H
#define CLI_SESSION_H

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/progress.h"
#include "lib/api_int.h"
#include "image/image.h"
#include "ops/list.h"
#include "ops/ops.h"

/* The public match and session options the command line asks for (one mapping of -d, -p, -S,
 * --sim, --trace, --retries, --confirm-reads, --poll, -t and SIGINT). */
void cli_session_options(struct cli_ctx *c, struct stm32dfu_match *m, struct stm32dfu_session_options *o);
/* The same as ops options, for what opens sessions below the public API (fleet, station, recover). */
void cli_open_opts(struct cli_ctx *c, struct ops_open_opts *o);
/*
 * Opens the session through the public stm32dfu_open_session, or prints the error; returns 0 or the
 * exit code. Commands call the public functions (stm32dfu.h) wherever one exists, so every CLI test
 * exercises the library; api_ops() gives the detail they print.
 */
int cli_open_api(struct cli_ctx *c, struct stm32dfu_session **api, struct cli_progress *prog);
/* Takes this thread's error of a failed public call without a session (open, list) as the CLI's. */
void cli_take_last_error(struct cli_ctx *c, int rc);
/* Prints the error of the last failed public call on api and returns its exit code. */
int cli_fail_api(struct cli_ctx *c, struct stm32dfu_session *api, int rc);

/* The UID for people: "00220036 3436510D 33323730" (as ST's manuals print the three words). */
void cli_uid_format(const uint8_t uid[12], char *buf, size_t cap);
/* The UID for machines, in JSON and the log: the same 24 hex digits without spaces. */
void cli_uid_machine(const char *text, char *buf, size_t cap);
/* records.c: the device blocks, printed from the public record alone (list, info, doctor, read). */
/* The record of api's device (malloc'd; NULL when out of memory), with the identity or without. */
struct stm32dfu_device_rec *cli_device_rec(struct stm32dfu_session *api, bool identity);
void cli_print_alts(FILE *o, const struct stm32dfu_device_rec *d);
void cli_json_alts(struct json *j, const struct stm32dfu_device_rec *d);
void cli_print_identity(FILE *o, const struct stm32dfu_device_rec *d);
void cli_json_identity(struct json *j, const struct stm32dfu_device_rec *d);
/* option-byte summary for info (cmd_ob.c) */
void cli_print_ob_summary(FILE *o, const struct ops_identity *id);
void cli_json_ob_summary(struct json *j, const struct ops_identity *id);
void cli_size_text(char *buf, size_t cap, uint64_t bytes);
/* The poll mode the session ended in (--poll): a "poll" object for --json; one line for -v. */
void cli_json_poll(struct json *j, const struct ops_session *s);
void cli_print_poll(struct cli_ctx *c, const struct ops_session *s);
/* ADDR LEN positional arguments (LEN > 0); prints the usage error and returns EXIT_USAGE. */
int cli_parse_addr_len(struct cli_ctx *c, const char *what, uint32_t *addr, uint32_t *len);
/* --format FMT, if given, into *f (else left as is); returns EXIT_USAGE on a bad name. */
int cli_format_opt(struct cli_ctx *c, enum img_format *f);
/* the result of a write (or of applying a recovery file): text summary, JSON document */
void cli_write_summary_text(struct cli_ctx *c, const struct stm32dfu_write_report *r, const struct ops_session *s);
/* serial_number: the number written (--serial-number), NULL when none */
void cli_write_json(struct cli_ctx *c, const char *file, const struct stm32dfu_write_report *r,
                    struct stm32dfu_session *api, int rc, const uint64_t *serial_number);
void cli_json_sectors(struct json *j, const struct stm32dfu_write_report *r);
/* The same under another key. */
void cli_json_sectors_as(struct json *j, const char *key, const struct stm32dfu_write_report *r);

#endif
