/*
 * The DFU functional descriptor (DFU11 §4.1.3, Table 4.2) and the DFU interface's alternate
 * settings, found in the raw configuration descriptor by a bounded walk.
 */
#ifndef DFU_FUNCDESC_H
#define DFU_FUNCDESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct dfu_func_desc {
	uint8_t bLength;        /* 9, or 7 for DFU 1.0 (then bcdDFUVersion is taken as 0x0100) */
	uint8_t bmAttributes;   /* DFU_ATTR_* */
	uint16_t wDetachTimeOut;
	uint16_t wTransferSize;
	uint16_t bcdDFUVersion; /* 0x011A: DfuSe */
};

#define DFU_MAX_ALTS 32

struct dfu_alt_desc {
	uint8_t bInterfaceNumber;
	uint8_t bAlternateSetting;
	uint8_t bInterfaceProtocol; /* 2: DFU mode, 1: run-time (DFU11 §4.2.3) */
	uint8_t iInterface;         /* the string holding the memory layout on DfuSe devices */
};

struct dfu_desc {
	bool have_func;
	struct dfu_func_desc func;
	unsigned n_alts;
	struct dfu_alt_desc alts[DFU_MAX_ALTS];
	unsigned n_alts_dropped;  /* DFU alt settings past DFU_MAX_ALTS: counted, not kept */
	uint8_t bMaxPacketSize0; /* from the device descriptor when present, else 0 */
};

/*
 * Parses descriptor bytes: either a configuration descriptor, or a device descriptor followed by
 * one (as tp_info.desc and Linux sysfs hold them). Collects the DFU interfaces (class 0xFE,
 * subclass 1) and the first functional descriptor, wherever it sits (after each alt setting, or
 * once after the last, as ST's ROM does). Untrusted input: every length is checked.
 * Returns 0, or STM32DFU_E_PROTOCOL with a message saying what is wrong and where.
 */
int dfu_desc_parse(const uint8_t *p, size_t n, struct dfu_desc *out, struct err *e);

#endif
