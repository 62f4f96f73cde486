/* Finding the chip again after it reset itself (option-byte write, Read Unprotect). */
#include <string.h>

#include "core/log.h"
#include "ops/session.h"
#include "ops/session_uart.h"

/* After the chip came back: what it is, and that it is the same chip. */
static int reidentify(struct ops_session *s, bool had_uid, const uint8_t *uid)
{
	s->have_identity = false;
	s->reconnecting = true;
	ops_identify(s);
	s->reconnecting = false;
	s->counters.reconnects++;
	if (had_uid && s->id.has_uid && memcmp(uid, s->id.uid, 12) != 0) {
		err_set(&s->err, STM32DFU_E_NO_DEVICE, "a different chip came back after the reset (its UID differs)");
		err_hint(&s->err, "attach only the board being programmed, or select it with {@sel-uid}");
		return STM32DFU_E_NO_DEVICE;
	}
	log_debug("reconnected after reset (%u so far)", s->counters.reconnects);
	return 0;
}

int ops_reconnect(struct ops_session *s, unsigned timeout_ms)
{
	/* Identifying the chip that came back reads memory, and a read that loses the device
	 * reconnects: without this, a device that leaves at every read nests reconnects until the
	 * retry budget (hundreds) or the stack runs out (tests/fuzz/host, found-reconnect-*). */
	if (s->reconnecting)
		return err_set(&s->err, STM32DFU_E_DISCONNECTED,
		               "the device left again while it was being identified after a reconnect");
	bool had_uid = s->have_identity && s->id.has_uid;
	uint8_t uid[12];
	if (had_uid)
		memcpy(uid, s->id.uid, sizeof uid);
	/* the target finds the chip again (USB re-enumeration and a new DFU session rebuilt in place,
	 * so callers keep their pointers into it; or 0x7F and Get ID: the same device ID) */
	err_clear(&s->err);
	int rc = s->t->ops->reconnect(s->t, timeout_ms);
	if (rc < 0) {
		s->err = s->t->err;
		if (!ops_dfuse(s)) {
			err_prefix(&s->err, "finding the chip again on %s after its reset", ops_info(s)->path);
			err_hint(&s->err, "check that BOOT0 is still high, then {@info-port %s}", ops_info(s)->path);
		}
		return rc;
	}
	ops_info_refresh(s);
	if ((rc = ops_uart_remap(s)) < 0)
		return err_prefix(&s->err, "the memory map after the reset");
	return reidentify(s, had_uid, uid);
}
