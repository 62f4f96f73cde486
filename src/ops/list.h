/* list: every attached DFU device with its alt settings, memory maps and true identity. */
#ifndef OPS_LIST_H
#define OPS_LIST_H

#include "ops/session.h"

struct ops_listed {
	struct target_link info;
	bool opened;              /* false: could not open it (permission...), see error */
	char error[ERR_MSG_MAX];
	uint16_t dfu_version;
	uint16_t transfer_size;
	unsigned n_alts;
	struct layout_mem alts[LAYOUT_MAP_MAX];
	unsigned n_alts_dropped;  /* DFU alt settings the descriptor had past DFU_MAX_ALTS */
	struct ops_identity id;
	bool serial_shared;       /* another listed device reports the same USB serial */
	bool uid_shared;          /* another listed device has the same 96-bit UID (a clone, or a faked UID) */
	struct target_dfuse_found found; /* the DFU state and status the device was in before list touched it */
	bool identity_tried;      /* the UID etc. were read (ST devices with a known family only) */
};

/*
 * Lists the devices that match o (or the emulator when o->sim_spec; none when the selectors do not
 * match it). *out: heap array, free(). What list changes on a device (docs/list.md): opening starts
 * a DFU session, which clears dfuERROR (CLRSTATUS) and ends an unfinished upload or download
 * (ABORT), both to dfuIDLE; identification then only reads (UPLOAD). Nothing is erased or written.
 */
int ops_list(const struct ops_open_opts *o, struct ops_listed **out, size_t *n, struct err *e);

#endif
