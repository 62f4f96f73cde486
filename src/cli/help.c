/* --help, the man page and bash completion, all generated from opts.def and the command table. */
#include <string.h>
#include <stdbool.h>

#include "cli/cli.h"
#include "chip/chip.h"
#include "chip/ob.h"
#include "ops/session.h"

const struct cli_exit_meta cli_exit_table[] = {
#define EXIT(name, code, brief, meaning) {#name, code, brief, meaning},
#include "cli/exits.def"
#undef EXIT
};
const size_t cli_exit_count = sizeof cli_exit_table / sizeof cli_exit_table[0];

/* The table of docs/exit-codes.md, as Markdown ('stm32dfu help-exit-codes'). */
void cli_print_exit_table(FILE *out)
{
	fputs("| code | name | meaning |\n|---|---|---|\n", out);
	for (size_t i = 0; i < cli_exit_count; i++)
		fprintf(out, "| %d | %s | %s |\n", cli_exit_table[i].code, cli_exit_table[i].name,
		        cli_exit_table[i].meaning);
}

static void opt_label(char *buf, size_t cap, const struct cli_opt_meta *m)
{
	char shortpart[8] = "    ";
	if (m->sname)
		snprintf(shortpart, sizeof shortpart, "-%c, ", m->sname);
	if (m->arg == 1)
		snprintf(buf, cap, "%s--%s %s", shortpart, m->lname, m->meta);
	else if (m->arg == 2)
		snprintf(buf, cap, "%s--%s[=%s]", shortpart, m->lname, m->meta);
	else
		snprintf(buf, cap, "%s--%s", shortpart, m->lname);
}

/* An option shared by commands says what it does for each: "write, station: TEXT; read: TEXT".
 * The text for one command is its own part, else the parts that name no command (the whole help
 * when cmd is NULL or the option is common). */
void cli_opt_help_for(const char *help, const char *cmd, char *out, size_t cap)
{
	out[0] = '\0';
	if (!cmd) {
		snprintf(out, cap, "%s", help);
		return;
	}
	char general[512] = "", own[512] = "";
	for (const char *p = help; *p;) {
		const char *end = strstr(p, "; ");
		size_t len = end ? (size_t)(end - p) : strlen(p);
		/* "cmd, cmd: " before the text, every word a command */
		const char *colon = memchr(p, ':', len);
		bool for_cmds = colon != NULL && colon > p, mine = false;
		for (const char *w = p; for_cmds && w < colon;) {
			size_t wl = strcspn(w, ",:");
			char word[32];
			snprintf(word, sizeof word, "%.*s", (int)(wl < sizeof word ? wl : sizeof word - 1), w);
			for_cmds = cli_find_command(word) != NULL;
			mine |= strcmp(word, cmd) == 0;
			w += wl;
			while (*w == ',' || *w == ' ')
				w++;
		}
		char *dst = for_cmds ? (mine ? own : NULL) : general;
		if (dst) {
			const char *text = for_cmds ? colon + 2 : p;
			size_t tl = len - (size_t)(text - p), used = strlen(dst);
			snprintf(dst + used, sizeof own - used, "%s%.*s", used ? "; " : "", (int)tl, text);
		}
		p += len;
		if (*p)
			p += 2;
	}
	snprintf(out, cap, "%s", own[0] ? own : general[0] ? general : help);
}

/* The common options that concern a device: commands that touch none (file, log) leave them out. */
static bool device_option(const struct cli_opt_meta *m)
{
	static const char *const not_device[] = {"json", "verbose", "quiet", "help", "version"};
	for (size_t i = 0; i < sizeof not_device / sizeof not_device[0]; i++)
		if (strcmp(m->lname, not_device[i]) == 0)
			return false;
	return true;
}

static bool touches_no_device(const char *cmd)
{
	return cmd && (strcmp(cmd, "file") == 0 || strcmp(cmd, "log") == 0);
}

static void print_opts(FILE *out, const char *scope_word, const char *cmd)
{
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct cli_opt_meta *m = &cli_opt_table[i];
		if (!cli_scope_has(m->scope, scope_word))
			continue;
		if (strcmp(scope_word, "common") == 0 && touches_no_device(cmd) && device_option(m))
			continue;
		char label[96], help[600];
		opt_label(label, sizeof label, m);
		cli_opt_help_for(m->help, strcmp(scope_word, "common") == 0 ? NULL : cmd, help, sizeof help);
		if (strlen(label) > 28)
			fprintf(out, "  %s\n  %-28s %s\n", label, "", help);
		else
			fprintf(out, "  %-28s %s\n", label, help);
	}
}

void cli_print_help(FILE *out, const char *command)
{
	const struct cli_command *cmd = command ? cli_find_command(command) : NULL;
	if (cmd) {
		fprintf(out, "Usage: stm32dfu %s\n\n%s\n\n", cmd->synopsis, cmd->summary);
		if (cmd->details)
			fprintf(out, "%s\n\n", cmd->details);
		bool any = false;
		for (int i = 0; i < OPT__COUNT; i++)
			any |= cli_scope_has(cli_opt_table[i].scope, cmd->name);
		if (any) {
			fprintf(out, "Options:\n");
			print_opts(out, cmd->name, cmd->name);
			fputc('\n', out);
		}
		fprintf(out, "Common options:\n");
		print_opts(out, "common", cmd->name);
		return;
	}
	fprintf(out, "Usage: stm32dfu [OPTIONS] COMMAND [ARGS]\n\n"
	             "Program STM32 chips through the ST ROM bootloader over USB DFU (DfuSe).\n\n"
	             "Commands:\n");
	for (const struct cli_command *k = cli_commands; k->name; k++)
		fprintf(out, "  %-30s %s\n", k->synopsis, k->summary);
	fprintf(out, "\nCommon options:\n");
	print_opts(out, "common", NULL);
	fprintf(out, "\nExit status (docs/exit-codes.md):\n");
	for (size_t i = 0; i < cli_exit_count; i++)
		fprintf(out, "  %3d  %s\n", cli_exit_table[i].code, cli_exit_table[i].brief);
	fprintf(out, "\n'stm32dfu COMMAND --help' shows the options of one command.\n");
}

/* troff needs backslashes and leading dots escaped; Markdown backquotes are dropped */
static void man_text(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else if (*s == '`')
			continue; /* Markdown quotes (exits.def) */
		else
			fputc(*s, out);
	}
}

static void man_opt(FILE *out, const struct cli_opt_meta *m, const char *cmd)
{
	char label[96], help[600];
	cli_opt_help_for(m->help, cmd, help, sizeof help);
	opt_label(label, sizeof label, m);
	fputs(".TP\n.B ", out);
	const char *l = label;
	while (*l == ' ')
		l++;
	man_text(out, l);
	fputs("\n", out);
	man_text(out, help);
	fputs("\n", out);
}

void cli_print_man(FILE *out)
{
	fprintf(out, ".TH STM32DFU 1 \"\" \"stm32dfu %s\" \"User Commands\"\n", STM32DFU_VERSION);
	fputs(".SH NAME\nstm32dfu \\- program STM32 chips through the ROM USB DFU bootloader\n", out);
	fputs(".SH SYNOPSIS\n.B stm32dfu\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n", out);
	fputs(".SH DESCRIPTION\nstm32dfu lists, identifies, reads, writes, erases and verifies STM32 chips "
	      "in ST's ROM bootloader (USB DFU with ST's DfuSe extension), decodes and edits option bytes, "
	      "and diagnoses flaky USB links. Every write is verified by reading back.\n", out);
	fputs(".SH COMMANDS\n", out);
	for (const struct cli_command *k = cli_commands; k->name; k++) {
		fputs(".TP\n.B ", out);
		man_text(out, k->synopsis);
		fputs("\n", out);
		man_text(out, k->summary);
		fputs("\n", out);
		if (k->details) {
			fputs(".IP\n", out);
			man_text(out, k->details);
			fputs("\n", out);
		}
		bool any = false;
		for (int i = 0; i < OPT__COUNT; i++)
			any |= cli_scope_has(cli_opt_table[i].scope, k->name);
		if (!any)
			continue;
		fputs(".RS\n", out);
		for (int i = 0; i < OPT__COUNT; i++)
			if (cli_scope_has(cli_opt_table[i].scope, k->name))
				man_opt(out, &cli_opt_table[i], k->name);
		fputs(".RE\n", out);
	}
	fputs(".SH COMMON OPTIONS\n", out);
	for (int i = 0; i < OPT__COUNT; i++)
		if (cli_scope_has(cli_opt_table[i].scope, "common"))
			man_opt(out, &cli_opt_table[i], NULL);
	fputs(".SH EXIT STATUS\n", out);
	for (size_t i = 0; i < cli_exit_count; i++) {
		fprintf(out, ".TP\n.B %d\n", cli_exit_table[i].code);
		man_text(out, cli_exit_table[i].meaning);
		fputs("\n", out);
	}
	/* every variable the tool reads (getenv in src/), and every file it keeps between runs */
	static const char *const env[][2] = {
		{"STM32DFU_LOG", "the programming log when --log is not given: sqlite:PATH or postgresql://..."},
		{"STM32DFU_SIM_LOG", "the log of emulated chips (--sim, stm32dfu-sim) when --log is not given; default "
		                     "$XDG_STATE_HOME/stm32dfu/sim/log.sqlite3"},
		{"UMOCKDEV_DIR", "set by umockdev (and so under stm32dfu-sim): the devices are emulated, and their records "
		                 "(log, recovery files, doctor's notes) go to the sim/ subfolder of the state folder"},
		{"STM32DFU_EMULATED", "1 (set by stm32dfu-sim for its command): the same"},
		{"STM32DFU_RECOVERY_DIR", "where recovery files are kept when --recovery-dir is not given"},
		{"STM32DFU_OPERATOR", "who runs the tool, in each log record, when --operator is not given"},
		{"XDG_STATE_HOME", "the state folder is $XDG_STATE_HOME/stm32dfu (recovery files, the link notes of doctor, "
		                   "the default log, the spool, the emulator's chips)"},
		{"HOME", "without XDG_STATE_HOME, the state folder is $HOME/.local/state/stm32dfu"},
		{"LOCALAPPDATA", "on Windows, the state folder is %LOCALAPPDATA%\\stm32dfu"},
		{"STM32DFU_PROFILE_DIR", "a folder of emulator profiles (NAME.profile) searched before the installed ones (--sim=NAME)"},
		{"LD_PRELOAD", "stm32dfu-sim adds its virtual USB library to it for the command it runs"},
	};
	fputs(".SH ENVIRONMENT\n", out);
	for (size_t i = 0; i < sizeof env / sizeof env[0]; i++) {
		fprintf(out, ".TP\n.B %s\n", env[i][0]);
		man_text(out, env[i][1]);
		fputs("\n", out);
	}
	static const char *const files[][2] = {
		{"$XDG_STATE_HOME/stm32dfu/recovery/", "recovery files: the bytes a write must keep, saved before its first "
		                                        "erase, one per chip (by UID); 'stm32dfu recover' puts them back"},
		{"$XDG_STATE_HOME/stm32dfu/log.sqlite3", "the programming log when neither --log nor STM32DFU_LOG names one"},
		{"$XDG_STATE_HOME/stm32dfu/spool-*.sqlite3", "records for a PostgreSQL log that could not be sent yet "
		                                              "('stm32dfu log --sync')"},
		{"$XDG_STATE_HOME/stm32dfu/link/", "doctor's link verdict per board: reads of a marginal board are confirmed"},
		{"$XDG_STATE_HOME/stm32dfu/sim-*.state", "the emulator's chips (--sim without state=): their memories between runs"},
		{"$XDG_STATE_HOME/stm32dfu/sim/", "the records of emulated chips (log, recovery files, link notes), kept "
		                                  "apart from real chips' records"},
		{STM32DFU_PROFILES_DIR, "the installed emulator profiles"},
		{"/usr/lib/udev/rules.d/60-stm32dfu.rules", "the udev rule that lets users open the ROM bootloader (see README)"},
	};
	fputs(".SH FILES\n", out);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		fputs(".TP\n.I ", out);
		man_text(out, files[i][0]);
		fputs("\n", out);
		man_text(out, files[i][1]);
		fputs("\n", out);
	}
	/* only pages that exist: stm32dfu-sim has no page of its own ('stm32dfu-sim --help') */
	fputs(".SH SEE ALSO\n.BR dfu\\-util (1),\n.BR udev (7)\n", out);
}

/* Every option-byte field name of every family, once: completion after `ob set` offers NAME=. */
static void ob_field_words(FILE *out)
{
	const char *seen[256];
	size_t n = 0;
	for (const struct chip_family *f = chip_families; f->id; f++) {
		if (!f->ob)
			continue;
		for (size_t i = 0; i < f->ob->n_fields; i++) {
			const char *name = f->ob->fields[i].name;
			bool dup = false;
			for (size_t k = 0; k < n && !dup; k++)
				dup = strcmp(seen[k], name) == 0;
			if (dup || n == sizeof seen / sizeof seen[0])
				continue;
			seen[n++] = name;
			fprintf(out, "%s= ", name);
		}
	}
}

/* the options that take an argument, as a bash case pattern: -d|--device|... (file: the ones whose
 * argument is a file name) */
static void arg_options(FILE *out, int file)
{
	bool first = true;
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct cli_opt_meta *m = &cli_opt_table[i];
		if (m->arg != 1)
			continue;
		bool is_file = m->meta && (strcmp(m->meta, "FILE") == 0 || strcmp(m->meta, "DIR") == 0);
		if (file >= 0 && is_file != (file == 1))
			continue;
		if (m->sname)
			fprintf(out, "%s-%c", first ? "" : "|", m->sname);
		fprintf(out, "%s--%s", first && !m->sname ? "" : "|", m->lname);
		first = false;
	}
}

void cli_print_profiles(FILE *out)
{
	char **names;
	size_t n;
	if (ops_sim_profile_names(&names, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s\n", names[i]);
	ops_free_names(names, n);
}

void cli_print_completion(FILE *out)
{
	fputs("# bash completion for stm32dfu and stm32dfu-sim (generated by 'stm32dfu help-completion')\n"
	      "_stm32dfu_profiles() { stm32dfu help-profiles 2>/dev/null; }\n"
	      "_stm32dfu() {\n"
	      "  local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= sub= i\n"
	      "  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "  # bash splits --sim=PROFILE at '=': the profile comes after a '=' word that follows --sim\n"
	      "  if [[ $cur == = && $prev == --sim ]]; then cur=; prev=--sim=; fi\n"
	      "  if [[ $prev == = ]] && ((COMP_CWORD > 1)) && [[ ${COMP_WORDS[COMP_CWORD-2]} == --sim ]]; then prev=--sim=; fi\n"
	      "  case $prev in\n"
	      "    --sim=) COMPREPLY=($(compgen -W \"$(_stm32dfu_profiles)\" -- \"${cur%%,*}\")); return;;\n    ",
	      out);
	arg_options(out, 1);
	fputs(") COMPREPLY=($(compgen -f -- \"$cur\")); return;;\n    ", out);
	arg_options(out, 0);
	fputs(") COMPREPLY=(); return;; # a serial, a path, an address: nothing to offer\n"
	      "  esac\n"
	      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "    case ${COMP_WORDS[i]} in\n      ",
	      out);
	arg_options(out, -1);
	fputs(") ((i++));; # its argument is not a command\n"
	      "      =) ((i++));;\n"
	      "      -*) ;;\n"
	      "      *) if [[ -z $cmd ]]; then cmd=${COMP_WORDS[i]}; elif [[ -z $sub ]]; then sub=${COMP_WORDS[i]}; fi;;\n"
	      "    esac\n"
	      "  done\n"
	      "  local words=\"",
	      out);
	for (const struct cli_command *k = cli_commands; k->name; k++)
		fprintf(out, "%s ", k->name);
	fputs("\" files=\n  case $cmd in\n", out);
	for (const struct cli_command *k = cli_commands; k->name; k++) {
		fprintf(out, "    %s) words=\"", k->name);
		for (int i = 0; i < OPT__COUNT; i++)
			if (cli_scope_has(cli_opt_table[i].scope, k->name) || cli_scope_has(cli_opt_table[i].scope, "common"))
				fprintf(out, "--%s ", cli_opt_table[i].lname);
		if (strcmp(k->name, "ob") == 0) {
			fputs("\"\n      if [[ $sub == set ]]; then words+=\" ", out);
			ob_field_words(out);
			fputs("\"; compopt -o nospace 2>/dev/null; elif [[ -z $sub ]]; then words+=\" show set\"; fi;;\n", out);
			continue;
		}
		if (strcmp(k->name, "file") == 0)
			fputs("info convert ", out);
		fputs("\"", out);
		if (strcmp(k->name, "write") == 0 || strcmp(k->name, "verify") == 0 || strcmp(k->name, "file") == 0)
			fputs("; files=1", out);
		fputs(";;\n", out);
	}
	fputs("  esac\n  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
	      "  [[ -n $files && $cur != -* ]] && COMPREPLY+=($(compgen -f -- \"$cur\"))\n}\n"
	      "complete -F _stm32dfu stm32dfu\n"
	      "_stm32dfu_sim() {\n"
	      "  local cur=${COMP_WORDS[COMP_CWORD]} prev=\n"
	      "  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "  case $prev in\n"
	      "    -p|--profile) COMPREPLY=($(compgen -W \"$(_stm32dfu_profiles)\" -- \"$cur\")); return;;\n"
	      "    --profile-dir) COMPREPLY=($(compgen -d -- \"$cur\")); return;;\n"
	      "    -u|--unplug-after|--stats) COMPREPLY=(); return;;\n"
	      "  esac\n"
	      "  COMPREPLY=($(compgen -W \"--profile --unplug-after --profile-dir --stats --verbose --help --version --\" -- \"$cur\"))\n"
	      "}\n"
	      "complete -F _stm32dfu_sim stm32dfu-sim\n",
	      out);
}
