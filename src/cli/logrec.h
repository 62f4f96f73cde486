/* The programming log from the command line: open it for a command that changes chips, append. */
#ifndef CLI_LOGREC_H
#define CLI_LOGREC_H

#include "cli/cli.h"
#include "store/store.h"

struct img;
struct ops_session;
struct ops_write_result;

/* Does this command line change a chip (and so get a record)? */
bool cli_log_wanted(const struct cli_ctx *c);
/* The URL --log, STM32DFU_LOG or the default names. */
/* The chips of this run are emulated (--sim, or stm32dfu-sim's virtual USB): their own log. */
bool cli_log_emulated(const struct cli_ctx *c);
int cli_log_url(struct cli_ctx *c, char *buf, size_t cap);
/* Checks the log options of a command that changes chips (--station, --log with --no-log or with
 * emulated chips) and notes that it wants the log; opens nothing. Prints the error and returns its
 * exit code on failure. */
int cli_log_open(struct cli_ctx *c);
/*
 * Opens c->log (unless --no-log) when the command is about to work: its input is checked and a
 * device answers (or serial numbers are needed first). A command refused before that creates no
 * log file, nor its folder. Once per command line, before any thread starts; 0 when the command
 * wants no log. Prints the error and returns its exit code on failure.
 */
int cli_log_ready(struct cli_ctx *c);
/* Prints a failure of store_open; its exit code: 69 (unavailable), 64 for a bad URL, 70 for a bug. */
int cli_log_open_failed(struct cli_ctx *c, int err);
void cli_log_close(struct cli_ctx *c);

/* Monotonic microseconds (a record's total seconds). */
uint64_t cli_log_now_us(void);

/* A record of this command line: station, version, command. */
void cli_log_init(struct cli_ctx *c, struct store_record *r, const char *command);
/* The image file's path, and the SHA-256 and byte count of what cli_load_image loaded from it. */
void cli_log_image(struct cli_ctx *c, struct store_record *r, const char *path, const struct img *img);
struct stm32dfu_write_report;
/* A write's sectors and seconds per phase. */
void cli_log_write_report(struct store_record *r, const struct stm32dfu_write_report *w);
/*
 * Appends r (when the log is on) and returns code, or EXIT_CANTCREAT when the record could not
 * be kept anywhere (the chip was changed: a production script must hear of it). Says so on
 * stderr when the record went to the spool.
 */
int cli_log_finish(struct cli_ctx *c, struct store_record *r, int code);

struct ops_serialno;
/*
 * --serial-number, --serial-counter, --serial-start: parsed and checked against the image and
 * the log (before any device is touched). *on is false when no serial number was asked for.
 * Returns 0 or the exit code (printed).
 */
int cli_serialno_setup(struct cli_ctx *c, const struct img *img, struct ops_serialno *sn, bool *on);

#endif
