/* write to several devices at once (cmd_fleet.c) */
#ifndef CLI_FLEET_H
#define CLI_FLEET_H

#include "cli/cli.h"

struct img;

/* --all, several -S/-p, or --log-dir: the write goes through the fleet path */
bool cli_fleet_wanted(const struct cli_ctx *c);
int cli_cmd_write_fleet(struct cli_ctx *c, const struct img *img);

#endif
