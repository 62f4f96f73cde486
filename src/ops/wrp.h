/* Write protection before an erase, and the read-back after it (issue 11 items 2-3): the ROM
 * ignores an erase of a protected sector without an error (AN3156 Table 4 note 1), so nothing
 * may be reported erased that was not read back blank. */
#ifndef OPS_WRP_H
#define OPS_WRP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/plan.h"
#include "ops/session.h"

/* Whether the option bytes write-protect sec: 1 (clear gets the 'ob set' assignment that lifts it),
 * 0 not, -1 unknown. Reads the identity, and a second option-byte zone where the family has one. */
int ops_wrp_sector(struct ops_session *s, const struct plan_sector *sec, char *clear, size_t cap);

/*
 * The sectors among secs[0..n) that the chip's option bytes write-protect (read with the
 * identity). Any: STM32DFU_E_PROTECTED naming them, "what" first ("erase", "write"), with the
 * 'stm32dfu ob set' assignments that lift it as the hint. *unknown (may be NULL) tells whether
 * the option bytes could not be read or do not say for some sector (the read-back decides then).
 * 0 when none is protected. Nothing is sent but the identity's reads.
 */
int ops_wrp_refuse(struct ops_session *s, const char *what, const struct plan_sector *secs, size_t n,
                   bool *unknown);

/* The same for a mass erase: the chip does nothing at all when any sector is protected, so the
 * refusal names every protected sector and, in the hint, the sectors that can be erased. */
int ops_wrp_refuse_mass(struct ops_session *s, const struct plan_sector *secs, size_t n);

/*
 * After an erase: reads the first and the last block (the device's transfer size) of every
 * sector in secs (a whole sector when it is no longer than two blocks; the end of one sector and
 * the start of the next in one run). A byte that is not 0xFF: STM32DFU_E_PROTECTED when the
 * option bytes protect that sector, else STM32DFU_E_VERIFY, naming the sector and the address.
 * *proven (may be NULL) gets how many of secs, from the first, were read back blank (n on success).
 */
int ops_erase_confirm(struct ops_session *s, uint8_t alt, const struct plan_sector *secs, size_t n, size_t *proven);

#endif
