#include "cli/commands.h"
#include "cli/cli.h"

const struct cli_command cli_commands[] = {
	{"list", "list", "list DFU devices: alt settings, memory maps, serial as reported and as computed from the UID", cli_cmd_list},
	{"info", "info", "show the chip: family, flash size, UID, serial check, bootloader version, RDP, memory map", cli_cmd_info},
	{"read", "read ADDR LEN -o FILE", "read memory into a .bin, .hex or .srec file", cli_cmd_read},
	{"write", "write FILE [-a ADDR] [--all]", "program a bin/hex/srec/elf/dfu file: only changed sectors, then verify (--all: every attached chip)", cli_cmd_write},
	{"verify", "verify FILE [-a ADDR]", "check that the chip holds a file's contents", cli_cmd_verify},
	{"erase", "erase (--all --yes | ADDR LEN | --sectors LIST)", "erase exactly ADDR LEN (the rest of its sectors read back and kept, as write keeps it), whole sectors, or the whole flash", cli_cmd_erase},
	{"leave", "leave [ADDR]", "leave DFU and start the application", cli_cmd_leave},
	{"file", "file (info FILE | convert IN OUT)", "inspect or convert firmware files (bin, hex, srec, elf, dfu)", cli_cmd_file},
	{"ob", "ob (show | set FIELD=VALUE...)", "show the option bytes decoded, or change fields (guarded, verified after the reset)", cli_cmd_ob},
	{"unprotect", "unprotect --yes", "remove read protection (RDP 1 -> 0): the chip mass-erases its flash", cli_cmd_unprotect},
	{"doctor", "doctor [--hse HZ]", "test the link, check the chip, and diagnose a flaky connection in plain words", cli_cmd_doctor},
	{"recover", "recover [--uid UID]", "list pending recovery files (bytes a failed write saved) and put one chip's back", cli_cmd_recover},
	{"station", "station FILE [--count N] [write options]", "program every board as it is plugged in, each once, in its own thread; one record each", cli_cmd_station},
	{"log", "log [--uid UID] [--image FILE|SHA256] [--failed] [--since DATE] [--sync]", "the programming log: one record per command that changed a chip (text, --json, --csv)", cli_cmd_log},
	{NULL, NULL, NULL, NULL},
};
