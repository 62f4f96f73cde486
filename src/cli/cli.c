/* Argument parsing and dispatch. Options may come before or after the command. */
#define _GNU_SOURCE
#include "core/text.h"
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/json.h"
#include "cli/logrec.h"
#include "core/log.h"
#include "core/os.h"
#include "ops/vdd.h"

const struct cli_opt_meta cli_opt_table[OPT__COUNT] = {
#define OPT(id, lname, sname, arg, meta, scope, help) {lname, sname, arg, meta, scope, help},
#include "cli/opts.def"
#undef OPT
};

int cli_exit_code(int err)
{
	switch (err) {
	case STM32DFU_OK: return EXIT_OK;
	case STM32DFU_E_USAGE:
	case STM32DFU_E_AMBIGUOUS: return EXIT_USAGE;
	case STM32DFU_E_NO_DEVICE:
	case STM32DFU_E_LOG_UNREACHABLE:
	case STM32DFU_E_UNSUPPORTED: return EXIT_UNAVAILABLE;
	case STM32DFU_E_ACCESS: return EXIT_NOPERM;
	case STM32DFU_E_USB_IO:
	case STM32DFU_E_TIMEOUT:
	case STM32DFU_E_STALL:
	case STM32DFU_E_DISCONNECTED: return EXIT_IOERR;
	case STM32DFU_E_DFU_STATUS:
	case STM32DFU_E_PROTOCOL: return EXIT_PROTOCOL;
	case STM32DFU_E_FILE_IO: return EXIT_NOINPUT;
	case STM32DFU_E_FILE_FORMAT:
	case STM32DFU_E_RANGE: return EXIT_DATAERR;
	case STM32DFU_E_PROTECTED: return EXIT_PROTECTED;
	case STM32DFU_E_VERIFY: return EXIT_VERIFY_FAILED;
	case STM32DFU_E_NEEDS_CONFIRMATION: return EXIT_NEEDS_CONFIRM;
	case STM32DFU_E_CANCELED: return EXIT_CANCELED;
	case STM32DFU_E_NOT_STARTED: return EXIT_NOT_STARTED;
	case STM32DFU_E_NO_MEMORY:
	case STM32DFU_E_INTERNAL:
	default: return EXIT_SOFTWARE;
	}
}

int cli_fail(struct cli_ctx *c, int code)
{
	if (c->err.code == 0)
		err_set(&c->err, code, "%s", stm32dfu_strerror(code));
	if (code == STM32DFU_E_RANGE && c->args.given[OPT_ADDRESS] && c->args.address < 256)
		err_hint(&c->err, "-a is the address here; dfu-util's -a (alt setting) is --alt");
	/* messages quote device strings and file names: never raw on the terminal */
	fprintf(c->errf, "stm32dfu: %s\n", text_esc(0, c->err.msg));
	if (c->err.hint[0])
		fprintf(c->errf, "hint: %s\n", text_esc(0, c->err.hint));
	return cli_exit_code(code);
}

int cli_usage_error(struct cli_ctx *c, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(c->errf, "stm32dfu: %s\n", msg);
	fprintf(c->errf, "Try 'stm32dfu%s%s --help'.\n", c->args.command ? " " : "",
	        c->args.command ? c->args.command : "");
	err_set(&c->err, STM32DFU_E_USAGE, "%s", msg);
	err_hint(&c->err, "'stm32dfu%s%s --help' lists the arguments and options", c->args.command ? " " : "",
	         c->args.command ? c->args.command : "");
	return EXIT_USAGE;
}

bool cli_parse_num(const char *s, uint32_t *out, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	if (!s || !*s)
		return *why = "empty", false;
	if (s[0] == '-')
		return *why = "negative", false;
	if ((s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) && !isxdigit((unsigned char)s[2]))
		return *why = "no hex digits after 0x", false;
	if (!isdigit((unsigned char)s[0]))
		return *why = "not a number (decimal, or hex with 0x)", false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno)
		return *why = "more than 4 GiB", false;
	if (*end == '.' || *end == ',')
		return *why = "not a whole number of bytes (1.5K: say 1536)", false;
	/* K and M are 1024-based, as info prints sizes (KiB, MiB); KB/MB are taken the same way */
	static const struct {
		const char *unit;
		unsigned long long scale;
	} units[] = {{"", 1}, {"K", 1024}, {"k", 1024}, {"KB", 1024}, {"KiB", 1024}, {"kB", 1024},
	             {"M", 1u << 20}, {"m", 1u << 20}, {"MB", 1u << 20}, {"MiB", 1u << 20}};
	size_t u = 0;
	while (u < sizeof units / sizeof units[0] && strcmp(end, units[u].unit) != 0)
		u++;
	if (u == sizeof units / sizeof units[0])
		return *why = "unknown unit (K, KiB, M or MiB)", false;
	if (v > UINT32_MAX / units[u].scale || v * units[u].scale > UINT32_MAX)
		return *why = "more than 4 GiB", false;
	*out = (uint32_t)(v * units[u].scale);
	return true;
}

bool cli_parse_u32(const char *s, uint32_t *out)
{
	return cli_parse_num(s, out, NULL);
}

bool cli_scope_has(const char *scope, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = scope; (p = strstr(p, word)); p += n) {
		bool start = p == scope || p[-1] == ' ';
		bool end = p[n] == '\0' || p[n] == ' ';
		if (start && end)
			return true;
	}
	return false;
}

static int parse_device_id(struct cli_ctx *c, const char *s)
{
	if (strcmp(s, "*") == 0 || strcmp(s, "*:*") == 0) {
		c->args.any_device_id = true;
		return 0;
	}
	char *end;
	unsigned long v = strtoul(s, &end, 16);
	if (end == s || *end != ':' || v > 0xFFFF)
		return cli_usage_error(c, "-d %s: expected VID:PID in hex, e.g. 0483:df11", s);
	const char *p = end + 1;
	unsigned long pid = strtoul(p, &end, 16);
	if (end == p || *end || pid > 0xFFFF)
		return cli_usage_error(c, "-d %s: expected VID:PID in hex, e.g. 0483:df11", s);
	c->args.vid = (uint16_t)v;
	c->args.pid = (uint16_t)pid;
	return 0;
}

/* dfu-util's options that mean something else here, or nothing: what to type instead */
static const char *dfu_util_answer(int opt)
{
	switch (opt) {
	case 'D': return "dfu-util's -D FILE (download) is 'stm32dfu write FILE' here";
	case 'U': return "dfu-util's -U FILE (upload) is 'stm32dfu read ADDR LEN -o FILE' here";
	case 's': return "dfu-util's -s ADDR[:LEN][:leave] is -a ADDR for write, 'stm32dfu read ADDR LEN' for read, "
	                 "--leave for :leave";
	case 'l': return "dfu-util's -l (list) is 'stm32dfu list' here";
	case 'e': return "dfu-util's -e (detach) has no use with the ROM bootloader, already in DFU mode; "
	                 "'stm32dfu leave' starts the application";
	case 'R': return "dfu-util's -R (reset) is 'stm32dfu leave', or --leave on write";
	default: return NULL;
	}
}

static int parse_args(struct cli_ctx *c, int argc, char **argv)
{
	struct option longopts[OPT__COUNT + 1];
	char shortopts[3 * OPT__COUNT + 2];
	size_t sp = 0;
	shortopts[sp++] = ':'; /* report a missing argument distinctly */
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct cli_opt_meta *m = &cli_opt_table[i];
		longopts[i] = (struct option){m->lname,
		                              m->arg == 0 ? no_argument : m->arg == 1 ? required_argument : optional_argument,
		                              NULL, 1000 + i};
		if (m->sname) {
			shortopts[sp++] = (char)m->sname;
			if (m->arg == 1)
				shortopts[sp++] = ':';
		}
	}
	shortopts[sp] = '\0';
	memset(&longopts[OPT__COUNT], 0, sizeof longopts[OPT__COUNT]);

	struct cli_args *a = &c->args;
	opterr = 0;
	optind = 0; /* GNU: full re-initialisation, so cli_run can be called again in-process */
	int ch;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int id = -1;
		if (ch >= 1000) {
			id = ch - 1000;
		} else if (ch == '?') {
			const char *dfu_util = dfu_util_answer(optopt);
			if (dfu_util)
				return cli_usage_error(c, "unknown option '-%c': %s", optopt, dfu_util);
			if (optopt)
				return cli_usage_error(c, "unknown option '-%c'", optopt);
			return cli_usage_error(c, "unknown option '%s'", argv[optind - 1]);
		} else if (ch == ':') {
			return cli_usage_error(c, "option '%s' needs an argument", argv[optind - 1]);
		} else {
			for (int i = 0; i < OPT__COUNT; i++)
				if (cli_opt_table[i].sname == ch)
					id = i;
		}
		if (id < 0)
			return cli_usage_error(c, "unknown option");
		if (id == OPT_VERBOSE)
			a->verbose++;
		a->given[id] = true;
		a->value[id] = optarg;
		if (id == OPT_SERIAL || id == OPT_PATH) {
			const char **list = id == OPT_SERIAL ? a->serials : a->paths;
			int *count = id == OPT_SERIAL ? &a->nserials : &a->npaths;
			if (*count >= CLI_MAX_SELECTORS)
				return cli_usage_error(c, "at most %d -S and %d -p selectors", CLI_MAX_SELECTORS, CLI_MAX_SELECTORS);
			list[(*count)++] = optarg;
		}
		if (id == OPT_PORT) {
			if (a->nports >= CLI_MAX_SELECTORS)
				return cli_usage_error(c, "at most %d --port", CLI_MAX_SELECTORS);
			a->ports[a->nports++] = optarg;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (!a->command) {
			a->command = argv[i];
		} else if (!a->subcommand && (strcmp(a->command, "ob") == 0 || strcmp(a->command, "file") == 0) &&
		           a->npos == 0) {
			a->subcommand = argv[i];
		} else {
			if (a->npos >= CLI_MAX_POSITIONAL)
				return cli_usage_error(c, "too many arguments");
			a->pos[a->npos++] = argv[i];
		}
	}
	return 0;
}

static int check_scopes(struct cli_ctx *c)
{
	for (int i = 0; i < OPT__COUNT; i++) {
		if (!c->args.given[i])
			continue;
		const char *scope = cli_opt_table[i].scope;
		if (cli_scope_has(scope, "common") || cli_scope_has(scope, c->args.command))
			continue;
		return cli_usage_error(c, "option '--%s' does not apply to '%s'", cli_opt_table[i].lname,
		                       c->args.command);
	}
	return 0;
}

/* --trace names an output file: its folder must exist and take files, said before the device is
 * opened (exit 73, as for any output file that cannot be written) */
static bool trace_folder_ok(struct cli_ctx *c, const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
	struct stat st;
	errno = 0;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK | X_OK) == 0)
		return true;
	err_set(&c->err, STM32DFU_E_FILE_IO, "--trace %s: cannot create the file: %s", path,
	        errno ? strerror(errno) : "not a folder");
	err_hint(&c->err, "give --trace a file in a folder that exists and that you can write");
	cli_fail(c, STM32DFU_E_FILE_IO);
	return false;
}

static int decode_common(struct cli_ctx *c)
{
	struct cli_args *a = &c->args;
	a->vid = 0x0483;
	a->pid = 0xDF11;
	if (a->given[OPT_DEVICE] && parse_device_id(c, a->value[OPT_DEVICE]))
		return EXIT_USAGE;
	if (a->given[OPT_ADDRESS] && !cli_parse_u32(a->value[OPT_ADDRESS], &a->address))
		return cli_usage_error(c, "-a %s: expected an address such as 0x08000000", a->value[OPT_ADDRESS]);
	a->retries = 3;
	if (a->given[OPT_RETRIES]) {
		uint32_t r;
		if (!cli_parse_u32(a->value[OPT_RETRIES], &r) || r > 100)
			return cli_usage_error(c, "--retries %s: expected a number from 0 to 100", a->value[OPT_RETRIES]);
		a->retries = r;
	}
	if (a->given[OPT_TRANSFER_SIZE]) {
		/* the syntax here; what the device takes (its wTransferSize, the flash's programming unit)
		 * once it is open, before any memory is touched (ops_open) */
		uint32_t t;
		if (!cli_parse_u32(a->value[OPT_TRANSFER_SIZE], &t) || t == 0 || t > 0xFFFF)
			return cli_usage_error(c, "-t %s: expected a transfer size in bytes, such as 1024 (at most the "
			                          "device's wTransferSize)", a->value[OPT_TRANSFER_SIZE]);
		a->transfer_size = t;
	}
	if (a->given[OPT_BAUD]) {
		uint32_t b;
		if (!cli_parse_u32(a->value[OPT_BAUD], &b) || b < 1200 || b > 4000000)
			return cli_usage_error(c, "--baud %s: expected a rate from 1200 to 4000000, such as 115200",
			                       a->value[OPT_BAUD]);
		bool list = a->command && strcmp(a->command, "list") == 0; /* list --probe's own rule (cmd_ports.c) */
		if (!list && !a->given[OPT_PORT] &&
		    !(a->given[OPT_SIM] && a->value[OPT_SIM] && strstr(a->value[OPT_SIM], "link=uart")))
			return cli_usage_error(c, "--baud %s: a rate for a serial port; give --port TTY too", a->value[OPT_BAUD]);
		a->baud = b;
	}
	if (a->given[OPT_PORT] && a->given[OPT_SIM])
		return cli_usage_error(c, "--port and --sim name two different chips: give one (the emulator over USART "
		                          "is --sim=PROFILE,link=uart)");
	if (a->given[OPT_PORT] && (!a->value[OPT_PORT] || !a->value[OPT_PORT][0]))
		return cli_usage_error(c, "--port: expected a serial port such as /dev/ttyUSB0");
	if (a->nports > 1 && !(a->command && (strcmp(a->command, "list") == 0 || strcmp(a->command, "station") == 0 ||
	                                      strcmp(a->command, "write") == 0)))
		return cli_usage_error(c, "--port given %d times: %s works on one chip (list --ports shows several; "
		                          "write --all and station take one board per port)",
		                       a->nports, a->command ? a->command : "a command");
	if (a->given[OPT_POLL]) {
		if (strcmp(a->value[OPT_POLL], "spec") == 0)
			a->poll_spec = true;
		else if (strcmp(a->value[OPT_POLL], "auto") != 0)
			return cli_usage_error(c, "--poll %s: expected auto or spec", a->value[OPT_POLL]);
	}
	if (a->given[OPT_VDD]) {
		const char *v = a->value[OPT_VDD];
		char *end;
		double volts = strtod(v, &end);
		if (end != v && (*end == 'V' || *end == 'v'))
			end++;
		if (end == v || *end)
			return cli_usage_error(c, "--vdd %s: expected the board's supply voltage in volts, such as 3.3", v);
		struct err e;
		err_clear(&e);
		if (ops_vdd_range(volts, &a->vdd_range, &e) < 0)
			return cli_usage_error(c, "%s", e.msg);
		a->vdd_set = true;
		a->vdd_volts = volts;
	}
	if (a->given[OPT_STRICT_LOG] && !a->given[OPT_LOG_DIR])
		return cli_usage_error(c, "--strict-log is about the per-device logs: give --log-dir DIR too");
	if (a->given[OPT_TRACE] && !trace_folder_ok(c, a->value[OPT_TRACE]))
		return EXIT_CANTCREAT;
	if ((a->nserials > 1 || a->npaths > 1) && strcmp(a->command, "write") != 0)
		return cli_usage_error(c, "-S and -p select one device here; only write takes several (a fleet)");
	if (a->given[OPT_QUIET] && a->verbose)
		return cli_usage_error(c, "-q and -v contradict each other");
	return 0;
}

const struct cli_command *cli_find_command(const char *name)
{
	for (const struct cli_command *k = cli_commands; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* Optimal string alignment distance (edits, with a swap of two neighbours as one), capped. */
static unsigned edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	if (n > 31 || m > 31)
		return 99;
	unsigned d[32][32];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = (unsigned)i;
	for (size_t k = 0; k <= m; k++)
		d[0][k] = (unsigned)k;
	for (size_t i = 1; i <= n; i++)
		for (size_t k = 1; k <= m; k++) {
			unsigned best = d[i - 1][k - 1] + (a[i - 1] != b[k - 1]);
			if (d[i - 1][k] + 1 < best)
				best = d[i - 1][k] + 1;
			if (d[i][k - 1] + 1 < best)
				best = d[i][k - 1] + 1;
			if (i > 1 && k > 1 && a[i - 1] == b[k - 2] && a[i - 2] == b[k - 1] && d[i - 2][k - 2] + 1 < best)
				best = d[i - 2][k - 2] + 1;
			d[i][k] = best;
		}
	return d[n][m];
}

/* The command a typo most likely meant: within 2 edits (1 for names of 4 letters or fewer). */
static const char *nearest_command(const char *typed)
{
	const char *best = NULL;
	unsigned best_d = 99;
	for (const struct cli_command *k = cli_commands; k->name; k++) {
		unsigned d = edit_distance(typed, k->name);
		if (d < best_d && d <= (strlen(k->name) <= 4 ? 1u : 2u)) {
			best_d = d;
			best = k->name;
		}
	}
	return best;
}

static void log_to_stderr(enum log_level level, const char *msg, void *ctx)
{
	static const char *const names[] = {"error", "warning", "", "", ""};
	FILE *f = ctx;
	if (level <= LOG_WARN)
		fprintf(f, "stm32dfu: %s: %s\n", names[level], msg);
	else
		fprintf(f, "%s\n", msg);
}

void cli_json_failure(struct cli_ctx *c, struct json *j, int code)
{
	if (c->err.code == 0)
		err_set(&c->err, code, "%s", stm32dfu_strerror(code));
	/* a stop was asked for while the command failed on its own (a chip reset or gone mid-write):
	 * it exits 130 (cli_run_io), and its document says so, keeping the failure in the message */
	if (cli_stop_requested && c->err.code != STM32DFU_E_CANCELED) {
		err_prefix(&c->err, "stopped by a signal");
		c->err.code = STM32DFU_E_CANCELED;
	}
	c->failure_doc = c->err.code;
	json_kbool(j, "ok", false);
	json_kstr(j, "error", stm32dfu_errname(c->err.code));
	json_kstr(j, "message", c->err.msg);
	json_kstr(j, "hint", c->err.hint);
}

/* The library error behind an exit code, for a failure that set no error of its own. */
static int err_of_exit(int code)
{
	switch (code) {
	case EXIT_USAGE: return STM32DFU_E_USAGE;
	case EXIT_VERIFY_FAILED: return STM32DFU_E_VERIFY;
	case EXIT_NEEDS_CONFIRM: return STM32DFU_E_NEEDS_CONFIRMATION;
	case EXIT_PROTECTED: return STM32DFU_E_PROTECTED;
	case EXIT_DATAERR: return STM32DFU_E_FILE_FORMAT;
	case EXIT_NOINPUT:
	case EXIT_CANTCREAT: return STM32DFU_E_FILE_IO;
	case EXIT_UNAVAILABLE: return STM32DFU_E_NO_DEVICE;
	case EXIT_IOERR: return STM32DFU_E_USB_IO;
	case EXIT_PROTOCOL: return STM32DFU_E_PROTOCOL;
	case EXIT_NOPERM: return STM32DFU_E_ACCESS;
	case EXIT_CANCELED: return STM32DFU_E_CANCELED;
	default: return STM32DFU_E_INTERNAL;
	}
}

/* --json anywhere before "--", seen before parsing, so even a usage error answers in JSON. */
static bool json_requested(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			return true;
	return false;
}

static int run_command(struct cli_ctx *pc, int argc, char **argv);

int cli_run_io(int argc, char **argv, FILE *out, FILE *errf)
{
	struct cli_ctx c;
	memset(&c, 0, sizeof c);
	c.out = out;
	c.live_out = out;
	c.errf = errf;
	err_clear(&c.err);
	c.tty = isatty(fileno(errf)) && out == stdout;
	if (!json_requested(argc, argv)) {
		int rc = run_command(&c, argc, argv);
		return rc != EXIT_OK && cli_stop_requested ? EXIT_CANCELED : rc;
	}
	/* JSON: the command's document is held until the end, so that a failure that printed none
	 * still answers with exactly one ({"ok": false, "error", "message", "hint"}) */
	char *buf = NULL;
	size_t len = 0;
	struct os_memout *memout;
	FILE *mem = os_memout_open(&memout);
	if (!mem)
		return run_command(&c, argc, argv);
	c.out = mem;
	int rc = run_command(&c, argc, argv);
	/* the exit code and the document agree: a failure document the command printed decides (a
	 * signal that came after it was written does not turn its error into 130) */
	if (rc != EXIT_OK && cli_stop_requested && c.failure_doc) {
		if (c.failure_doc == STM32DFU_E_CANCELED)
			rc = EXIT_CANCELED;
	} else if (rc != EXIT_OK && cli_stop_requested) {
		rc = EXIT_CANCELED;
		if (c.err.code != STM32DFU_E_CANCELED) {
			err_prefix(&c.err, "stopped by a signal");
			c.err.code = STM32DFU_E_CANCELED;
		}
	}
	os_memout_take(memout, &buf, &len);
	size_t k = 0;
	while (k < len && (buf[k] == ' ' || buf[k] == '\n'))
		k++;
	if (rc != EXIT_OK && k == len) {
		if (!c.err.code)
			err_set(&c.err, err_of_exit(rc), "%s", stm32dfu_strerror(err_of_exit(rc)));
		struct json j;
		json_init(&j, out);
		json_obj_begin(&j);
		json_key(&j, "command");
		if (c.args.command)
			json_str(&j, c.args.command);
		else
			json_null(&j);
		cli_json_failure(&c, &j, c.err.code);
		json_obj_end(&j);
		json_end(&j);
	} else if (len) {
		fwrite(buf, 1, len, out);
	}
	free(buf);
	fflush(out);
	return rc;
}

static int run_command(struct cli_ctx *c, int argc, char **argv)
{
	FILE *out = c->out, *errf = c->errf;
	if (parse_args(c, argc, argv))
		return EXIT_USAGE;
	struct cli_args *a = &c->args;
	if (a->given[OPT_VERSION]) {
		fprintf(out, "stm32dfu %s\n", STM32DFU_VERSION);
		return EXIT_OK;
	}
	if (!a->command) {
		if (a->given[OPT_HELP]) {
			cli_print_help(out, NULL);
			return EXIT_OK;
		}
		cli_print_help(errf, NULL);
		fprintf(errf, "\nstm32dfu: no command\n");
		err_set(&c->err, STM32DFU_E_USAGE, "no command: give one, such as 'stm32dfu list'");
		err_hint(&c->err, "'stm32dfu --help' lists the commands");
		return EXIT_USAGE;
	}
	if (strcmp(a->command, "help") == 0) {
		cli_print_help(out, a->npos ? a->pos[0] : a->subcommand);
		return EXIT_OK;
	}
	if (strcmp(a->command, "help-man") == 0) {
		cli_print_man(out);
		return EXIT_OK;
	}
	if (strcmp(a->command, "help-completion") == 0) {
		cli_print_completion(out);
		return EXIT_OK;
	}
	if (strcmp(a->command, "help-exit-codes") == 0) {
		cli_print_exit_table(out);
		return EXIT_OK;
	}
	if (strcmp(a->command, "help-profiles") == 0) {
		cli_print_profiles(out);
		return EXIT_OK;
	}
	const struct cli_command *cmd = cli_find_command(a->command);
	if (!cmd) {
		const char *typed = a->command, *near = nearest_command(typed);
		a->command = NULL; /* the help to try is the general one */
		if (near)
			return cli_usage_error(c, "unknown command '%s': did you mean '%s'?", typed, near);
		return cli_usage_error(c, "unknown command '%s'", typed);
	}
	if (a->given[OPT_HELP]) {
		cli_print_help(out, cmd->name);
		return EXIT_OK;
	}
	int early = check_scopes(c);
	if (early || (early = decode_common(c)))
		return early;
	log_set_level(a->given[OPT_QUIET] ? LOG_ERROR : a->verbose >= 2 ? LOG_TRACE : a->verbose ? LOG_INFO : LOG_WARN);
	log_set_sink(log_to_stderr, errf);
	log_set_cli_words(1);
	int rc = cli_log_wanted(c) ? cli_log_open(c) : 0;
	if (rc == 0)
		rc = cmd->run(c);
	cli_log_close(c);
	fflush(out);
	log_set_sink(NULL, NULL);
	return rc;
}

volatile sig_atomic_t cli_stop_requested;

/* Only sets the flag: the session checks it between transfers (no printing here). */
static void on_stop_signal(int sig)
{
	(void)sig;
	cli_stop_requested = 1;
}

void cli_install_stop_handlers(void)
{
	os_stop_set(on_stop_signal);
}

int cli_run(int argc, char **argv)
{
	cli_install_stop_handlers();
	return cli_run_io(argc, argv, stdout, stderr);
}
