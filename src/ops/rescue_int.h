/* What rescue.c (the record, saving, the folder) and rescue_load.c (the checked load) share. */
#ifndef OPS_RESCUE_INT_H
#define OPS_RESCUE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/rescue.h"

#define RESCUE_MAX_UNSETTLED 65536 /* blocks a file may note as unsettled */

/* DIR/UID.recovery, or an error when UID is not a chip key or the path does not fit. */
int rescue_file_path(const char *dir, const char *uid, char *buf, size_t cap, struct err *e);
/* A sector's SHA-256 over its kept bytes and its targets. */
void rescue_sector_sha(struct rescue_sector *rs);
/* n bytes from 2n hex digits; false on any other character. */
bool rescue_unhex(const char *s, uint8_t *out, size_t n);

#endif
