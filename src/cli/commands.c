#include "cli/commands.h"
#include "cli/cli.h"

const struct cli_command cli_commands[] = {
	{"list", "list", "list DFU devices: alt settings, memory maps, serial as reported and as computed from the UID", cli_cmd_list},
	{"info", "info", "show the chip: family, flash size, UID, serial check, bootloader version, RDP, memory map", cli_cmd_info},
	{"read", "read ADDR LEN -o FILE", "read memory into a .bin, .hex, .srec or .dfu file", cli_cmd_read},
	{"write", "write FILE [-a ADDR] [--all]", "program a bin/hex/srec/elf/dfu file: only changed sectors, then verify (--all: every attached chip)", cli_cmd_write},
	{"verify", "verify FILE [-a ADDR]", "check that the chip holds a file's contents", cli_cmd_verify},
	{"erase", "erase (--all --yes | ADDR LEN | --sectors LIST)", "erase exactly ADDR LEN (the rest of its sectors read back and kept, as write keeps it), whole sectors, or the whole flash", cli_cmd_erase},
	{"leave", "leave [ADDR]", "leave DFU and start the application", cli_cmd_leave},
	{"file", "file (info FILE | convert IN OUT)", "inspect or convert firmware files (bin, hex, srec, elf, dfu)", cli_cmd_file},
	{"ob", "ob (show | set FIELD=VALUE...)", "show the option bytes decoded, or change fields (guarded, verified after the reset)", cli_cmd_ob},
	{"unprotect", "unprotect --yes", "remove read protection (RDP 1 -> 0): the chip mass-erases its flash", cli_cmd_unprotect},
	{"doctor", "doctor [--hse HZ]", "test the link, check the chip, and diagnose a flaky connection in plain words", cli_cmd_doctor},
	{"recover", "recover [--uid UID]", "list pending recovery files (bytes a failed write saved) and put one chip's back", cli_cmd_recover,
	 "A recovery file is written (fsync'd) before a write's first erase, one per chip: for every sector the write "
	 "erases but does not cover completely, the bytes to keep (read twice, the reads must agree), the bytes the "
	 "write would leave there, and a SHA-256 of both; for a chip without a readable UID (keyed by its USB serial, "
	 "which other chips share: every F0 reports FFFFFFFEFFFF), also a SHA-256 of the rest of the flash. It is "
	 "applied (by recover, or by the next write to the chip) only when every byte of each saved sector is erased "
	 "(0xFF), the kept byte or a byte the write would have left, and the rest of the flash still matches where "
	 "the key is not unique. Such a key has one file per board (KEY.ID.recovery): a file whose rest of the flash "
	 "differs from the chip's is another board's, left for it with a warning, and the write goes on; so is one "
	 "that a write running now holds (a write locks its file until it ends). Anything "
	 "else is another chip's file or another time's: it is refused (exit 65), the "
	 "error names the file and the sector, the file is kept and nothing is written. A write that completes "
	 "(verified or not) deletes its file; so does a verify that finds every saved sector as its write left it "
	 "(a UID's file only). "
	 "Folder: --recovery-dir, else $STM32DFU_RECOVERY_DIR, $XDG_STATE_HOME/stm32dfu/recovery, "
	 "~/.local/state/stm32dfu/recovery, $XDG_CACHE_HOME/stm32dfu/recovery, $XDG_RUNTIME_DIR/stm32dfu/recovery "
	 "(emulated chips: beside their state); with none, a write that must keep bytes refuses before erasing "
	 "(exit 73). docs/recovery.md has the format."},
	{"station", "station FILE [--count N] [--port TTY...] [write options]", "program every board as it is plugged in (USB), or as its ROM answers on a serial port (--port, once per fixture slot), each once, in its own thread; one record each", cli_cmd_station},
	{"log", "log [--uid UID] [--image FILE|SHA256] [--failed] [--since DATE] [--sync]", "the programming log: one record per command that changed a chip (text, --json, --csv)", cli_cmd_log},
	{NULL, NULL, NULL, NULL},
};
