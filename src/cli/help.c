/* --help, the man page and bash completion, all generated from opts.def and the command table. */
#include <string.h>
#include <stdbool.h>

#include "cli/cli.h"
#include "chip/chip.h"
#include "chip/ob.h"
#include "ops/session.h"


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

static void print_opts(FILE *out, const char *scope_word)
{
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct cli_opt_meta *m = &cli_opt_table[i];
		if (!cli_scope_has(m->scope, scope_word))
			continue;
		char label[96];
		opt_label(label, sizeof label, m);
		if (strlen(label) > 28)
			fprintf(out, "  %s\n  %-28s %s\n", label, "", m->help);
		else
			fprintf(out, "  %-28s %s\n", label, m->help);
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
			print_opts(out, cmd->name);
			fputc('\n', out);
		}
		fprintf(out, "Common options:\n");
		print_opts(out, "common");
		return;
	}
	fprintf(out, "Usage: stm32dfu [OPTIONS] COMMAND [ARGS]\n\n"
	             "Program STM32 chips through the ST ROM bootloader over USB DFU (DfuSe).\n\n"
	             "Commands:\n");
	for (const struct cli_command *k = cli_commands; k->name; k++)
		fprintf(out, "  %-30s %s\n", k->synopsis, k->summary);
	fprintf(out, "\nCommon options:\n");
	print_opts(out, "common");
	fprintf(out, "\nExit status: 0 on success; see docs/exit-codes.md (10 verify failed, 11 needs a\n"
	             "confirmation flag, 12 protected, 64 usage, 65 bad data, 69 no device, 74 I/O, 76 protocol).\n"
	             "'stm32dfu COMMAND --help' shows the options of one command.\n");
}

/* troff needs backslashes and leading dots escaped */
static void man_text(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

static void man_opt(FILE *out, const struct cli_opt_meta *m)
{
	char label[96];
	opt_label(label, sizeof label, m);
	fputs(".TP\n.B ", out);
	const char *l = label;
	while (*l == ' ')
		l++;
	man_text(out, l);
	fputs("\n", out);
	man_text(out, m->help);
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
				man_opt(out, &cli_opt_table[i]);
		fputs(".RE\n", out);
	}
	fputs(".SH COMMON OPTIONS\n", out);
	for (int i = 0; i < OPT__COUNT; i++)
		if (cli_scope_has(cli_opt_table[i].scope, "common"))
			man_opt(out, &cli_opt_table[i]);
	fputs(".SH EXIT STATUS\n", out);
	static const struct {
		int code;
		const char *text;
	} codes[] = {
		{EXIT_OK, "success (an expected disconnect after leave is success)"},
		{EXIT_VERIFY_FAILED, "the read-back differs from the image"},
		{EXIT_NEEDS_CONFIRM, "a risky step needs its confirmation flag"},
		{EXIT_PROTECTED, "read or write protection blocks the operation"},
		{EXIT_NOT_STARTED, "after leaving DFU the bootloader came back: the application did not start"},
		{EXIT_USAGE, "bad arguments, or several devices match"},
		{EXIT_DATAERR, "malformed file, or an address outside the memory map"},
		{EXIT_NOINPUT, "an input file is missing or unreadable"},
		{EXIT_UNAVAILABLE, "no matching device, or not supported by it"},
		{EXIT_SOFTWARE, "internal error"},
		{EXIT_CANTCREAT, "cannot write an output file"},
		{EXIT_IOERR, "USB transfer failed, timed out, or the device went away"},
		{EXIT_PROTOCOL, "the device reported an error status or answered oddly"},
		{EXIT_NOPERM, "no permission to open the device (install the udev rule)"},
	};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		fprintf(out, ".TP\n.B %d\n", codes[i].code);
		man_text(out, codes[i].text);
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
