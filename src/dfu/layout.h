/*
 * The DfuSe memory-layout string (the iInterface string of each alternate setting, ST UM0424
 * §4.3.2; protocol.md §2.8):
 *
 *     @Name/0xADDR/N*SIZE[unit]type[,N*SIZE[unit]type...][/0xADDR/...]
 *
 * unit is K (KiB), M (MiB), B or a space (bytes) or absent (bytes); type is a letter a..g whose
 * value (letter - 'a' + 1) is a bitmask of DFUSE_MEM_READABLE/ERASABLE/WRITABLE.
 *
 * Accepted variants (all seen on real ROMs, see shared/data/README.md): counts and sizes of any
 * width with leading zeros (0128*0002Kg), no unit (1536*128g, 01*528e), a space unit (01*032 e),
 * several spaces before the type, names padded with spaces (trimmed here), several regions in one
 * string. Decision on trailing garbage: after a complete sector group, anything that is not ','
 * or "/0x" ends the parse; the layout is kept, trailing_at records where the garbage starts and
 * a warning is logged (forum copies and some ROMs append junk; rejecting them would lock users
 * out of a working chip). Anything malformed before that point is an error naming the offset, and
 * so is a map no device has: more than LAYOUT_MAX_SECTORS sectors, a region past 4 GiB, or two
 * regions that overlap.
 * Quirk (dfu-util dfuse_mem.c): a region named "Device Feature" is readable and writable.
 */
#ifndef DFU_LAYOUT_H
#define DFU_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chip/layout.h"
#include "core/err.h"

/* Parses s[0..n) (NUL ends it early). 0, or STM32DFU_E_PROTOCOL with "layout: ... at offset N". */
int layout_parse(const char *s, size_t n, struct layout *out, struct err *e);

#endif
