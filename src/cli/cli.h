/* The stm32dfu command line: the only code that prints or decides exit codes. */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

struct store;

/* Exit codes: the contract with scripts (docs/exit-codes.md, made from exits.def). sysexits.h
 * meanings where they fit. */
enum cli_exit {
#define EXIT(name, code, brief, meaning) EXIT_##name = code,
#include "cli/exits.def"
#undef EXIT
};
/* One row of exits.def, for --help, the man page and 'help-exit-codes'. */
struct cli_exit_meta {
	const char *name;
	int code;
	const char *brief;
	const char *meaning;
};
extern const struct cli_exit_meta cli_exit_table[];
extern const size_t cli_exit_count;

enum cli_opt_id {
#define OPT(id, lname, sname, arg, meta, scope, help) OPT_##id,
#include "cli/opts.def"
#undef OPT
	OPT__COUNT
};

/* One row of opts.def, for the parser and the help/man/completion generators. */
struct cli_opt_meta {
	const char *lname;
	int sname;
	int arg;        /* 0 none, 1 required, 2 optional */
	const char *meta;
	const char *scope;
	const char *help;
};
extern const struct cli_opt_meta cli_opt_table[];
/* Is word one of the space-separated words of scope? */
bool cli_scope_has(const char *scope, const char *word);

#define CLI_MAX_POSITIONAL 16
#define CLI_MAX_SELECTORS 64

/* Everything the command line said, parsed and checked for form (not for meaning). */
struct cli_args {
	const char *command;
	const char *subcommand; /* ob show/set, file info/convert */
	const char *pos[CLI_MAX_POSITIONAL];
	int npos;
	bool given[OPT__COUNT];
	const char *value[OPT__COUNT]; /* the raw argument of options that take one (the last given) */
	/* -S and -p may repeat (a fleet write selects several devices): every value, in order */
	const char *serials[CLI_MAX_SELECTORS];
	int nserials;
	const char *paths[CLI_MAX_SELECTORS];
	int npaths;
	/* --port may repeat too (list --ports --probe, station): every value, in order */
	const char *ports[CLI_MAX_SELECTORS];
	int nports;
	int verbose;
	/* decoded values */
	uint16_t vid, pid;
	bool any_device_id;
	uint32_t address;
	unsigned retries;
	bool poll_spec; /* --poll spec */
	unsigned transfer_size; /* -t (0: the device's wTransferSize) */
	unsigned baud;          /* --baud (0: 115200) */
	bool vdd_set;        /* --vdd VOLTS: the Device Feature voltage range to use (ops/vdd.h) */
	int vdd_range;
	double vdd_volts;    /* the VOLTS given, for the public API (which takes volts) */
};

struct cli_ctx {
	FILE *out;
	FILE *errf;
	struct cli_args args;
	struct err err;
	bool tty; /* progress bars only on a terminal */
	struct store *log;   /* the programming log of a command that changes chips (logrec.c), or NULL */
	bool log_down;       /* the shared log did not answer at the start: records are spooled */
	bool log_wanted;     /* this command line gets a record: cli_log_ready opens the log */
	bool log_tried;      /* cli_log_ready ran (c->log stays NULL with --no-log) */
	char station[64];    /* --station, or the host name */
	FILE *live_out;      /* stdout itself, even while --json holds the document (station's lines) */
	char image_sha256[65]; /* SHA-256 of the bytes cli_load_image parsed ("" before): the log names what
	                          was programmed, even if the file is replaced while boards are written */
	int failure_doc;     /* the error a failure document printed (cli_json_failure), 0: none */
};

/* Runs one command line (argv[0] is the program name); returns the exit code. */
int cli_run(int argc, char **argv);
/* The same with the streams given (tests run the CLI in-process). */
int cli_run_io(int argc, char **argv, FILE *out, FILE *errf);

/* Set by SIGINT/SIGTERM (handlers installed by cli_run): sessions stop at the next transfer
 * boundary. Never set in-process (cli_run_io) unless a caller installs the handlers. */
extern volatile sig_atomic_t cli_stop_requested;
void cli_install_stop_handlers(void);

/* The exit code for a library error. */
int cli_exit_code(int err);

/* Prints "stm32dfu: <message>" and the hint line for an error; returns its exit code. */
int cli_fail(struct cli_ctx *c, int code);
/* With --json: the failure fields of a document ("ok": false, "error", "message", "hint") from
 * c->err (set from code when empty). A command whose document reports a failure uses it. */
struct json;
void cli_json_failure(struct cli_ctx *c, struct json *j, int code);
/* Prints a usage error and returns EXIT_USAGE. */
int cli_usage_error(struct cli_ctx *c, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Number parsing for addresses and sizes: 0x prefix, decimal, K/KiB/M/MiB suffixes (1024-based). */
bool cli_parse_u32(const char *s, uint32_t *out);
/* The same; on failure *why (when why is not NULL) says what is wrong with s, for the message. */
bool cli_parse_num(const char *s, uint32_t *out, const char **why);

/* help, man page, completion (help.c) */
/* The part of an option's help that concerns cmd ("write, station: ...; read: ..."); all of it for NULL. */
void cli_opt_help_for(const char *help, const char *cmd, char *out, size_t cap);
void cli_print_help(FILE *out, const char *command);
void cli_print_man(FILE *out);
/* the exit-code table of docs/exit-codes.md, Markdown */
void cli_print_exit_table(FILE *out);
void cli_print_completion(FILE *out);
/* the emulator's profile names, one a line (for completion after --sim=) */
void cli_print_profiles(FILE *out);

/* a command's entry point */
typedef int (*cli_cmd_fn)(struct cli_ctx *c);
struct cli_command {
	const char *name;
	const char *synopsis;
	const char *summary;
	cli_cmd_fn run;
	const char *details; /* NULL, or more for 'COMMAND --help' and the man page */
};
extern const struct cli_command cli_commands[];
const struct cli_command *cli_find_command(const char *name);

#endif
