/*
 * ops/ over target.h for a bootloader that is not DfuSe (today: AN3155 over USART). The DfuSe
 * link keeps its own recovery (recover.c: GETSTATUS, ABORT, Set Address, re-enumeration); these
 * are its counterparts for a target: the same retry budget (rec_spend), the same progress and
 * cancel points, errors in s->err.
 */
#ifndef OPS_VIA_TARGET_H
#define OPS_VIA_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "ops/session.h"

/* Reads [addr, addr+len) in slices (progress as phase when phase >= 0; cancel between slices). */
int vt_read(struct ops_session *s, uint32_t addr, uint8_t *buf, size_t len, int phase);
/* Erases the flash sector that starts at addr (its number from the session's map). */
int vt_erase(struct ops_session *s, uint32_t addr, uint32_t size);
/* Programs len bytes at addr (the sector erased by the plan). */
int vt_program(struct ops_session *s, uint32_t addr, const uint8_t *buf, size_t len);
/* After a failed command: drops what the port holds (uart/ re-synchronises its parser itself). */
int vt_resync(struct ops_session *s, int cause);

#endif
