/* list: every attached DFU device with its alt settings, memory maps and true identity. */
#ifndef OPS_LIST_H
#define OPS_LIST_H

#include "ops/session.h"

struct ops_listed {
	struct tp_info info;
	bool opened;              /* false: could not open it (permission...), see error */
	char error[ERR_MSG_MAX];
	uint16_t dfu_version;
	uint16_t transfer_size;
	unsigned n_alts;
	struct dfu_alt alts[DFU_MAX_ALTS];
	struct ops_identity id;
	bool serial_shared;       /* another listed device reports the same USB serial */
};

/* Lists the devices that match o (or the emulator when o->sim_spec). *out: heap array, free(). */
int ops_list(const struct ops_open_opts *o, struct ops_listed **out, size_t *n, struct err *e);

#endif
