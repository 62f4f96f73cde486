/* --help, the man page and bash completion, all generated from opts.def and the command table. */
#include <string.h>

#include "cli/cli.h"


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
	fputs(".SH SEE ALSO\n.BR stm32dfu\\-sim (1),\n.BR dfu\\-util (1)\n", out);
}

void cli_print_completion(FILE *out)
{
	fputs("# bash completion for stm32dfu (generated by 'stm32dfu help-completion')\n"
	      "_stm32dfu() {\n  local cur=${COMP_WORDS[COMP_CWORD]} cmd= i\n"
	      "  for ((i = 1; i < COMP_CWORD; i++)); do case ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break;; esac; done\n"
	      "  local words=\"",
	      out);
	for (const struct cli_command *k = cli_commands; k->name; k++)
		fprintf(out, "%s ", k->name);
	fputs("\"\n  case $cmd in\n", out);
	for (const struct cli_command *k = cli_commands; k->name; k++) {
		fprintf(out, "    %s) words=\"", k->name);
		for (int i = 0; i < OPT__COUNT; i++)
			if (cli_scope_has(cli_opt_table[i].scope, k->name) || cli_scope_has(cli_opt_table[i].scope, "common"))
				fprintf(out, "--%s ", cli_opt_table[i].lname);
		if (strcmp(k->name, "ob") == 0)
			fputs("show set ", out);
		if (strcmp(k->name, "file") == 0)
			fputs("info convert ", out);
		fputs("\";;\n", out);
	}
	fputs("  esac\n  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n  [ -n \"$cmd\" ] && [[ $cur != -* ]] && COMPREPLY+=($(compgen -f -- \"$cur\"))\n}\n"
	      "complete -F _stm32dfu stm32dfu\n",
	      out);
}
