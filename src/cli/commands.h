/* The entry point of each command (cli_commands[] in commands.c lists them with their help). */
#ifndef CLI_COMMANDS_H
#define CLI_COMMANDS_H

#include "cli/cli.h"

int cli_cmd_list(struct cli_ctx *c);
int cli_cmd_info(struct cli_ctx *c);
int cli_cmd_read(struct cli_ctx *c);
int cli_cmd_write(struct cli_ctx *c);
int cli_cmd_verify(struct cli_ctx *c);
int cli_cmd_erase(struct cli_ctx *c);
int cli_cmd_leave(struct cli_ctx *c);
int cli_cmd_file(struct cli_ctx *c);
int cli_cmd_ob(struct cli_ctx *c);
int cli_cmd_unprotect(struct cli_ctx *c);
int cli_cmd_doctor(struct cli_ctx *c);
int cli_cmd_recover(struct cli_ctx *c);
int cli_cmd_log(struct cli_ctx *c);
int cli_cmd_station(struct cli_ctx *c);
/* list --ports [--probe] (cmd_ports.c) */
int cli_list_ports(struct cli_ctx *c);

struct img;
/* The image of write/verify/station (FILE, -a, --format); prints the error and returns its exit code. */
int cli_load_image(struct cli_ctx *c, struct img **img);

/* write into the other memories (cmd_write_mem.c): the OB_CONFIRM_* flags given; --alt N applied
 * to the image (a raw binary without -a moves to that memory's start), 0 or the exit code; the
 * summary of a write into RAM, OTP or option bytes. */
struct ops_session;
struct ops_write_result;
unsigned cli_ob_confirm_flags(const struct cli_ctx *c);
int cli_write_alt(struct cli_ctx *c, struct ops_session *s, struct img *img);
void cli_write_memory_text(struct cli_ctx *c, const struct stm32dfu_write_report *r);
/* What an option-byte write of RDP level 2 leaves: no bootloader, the chip gone for good. */
extern const char *const cli_rdp2_gone_text;

struct json;
struct store_record;
/* one log record as a JSON object (cmd_log.c) */
void cli_json_record(struct json *j, const struct store_record *r);

#endif
