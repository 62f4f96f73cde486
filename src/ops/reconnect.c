/* Finding the chip again after it reset itself (option-byte write, Read Unprotect). */
#include <string.h>

#include "core/log.h"
#include "ops/session.h"

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
	if (!ops_dfuse(s)) {
		/* 0x7F until the ROM answers, then Get ID: the same device ID (target_an3155.c) */
		err_clear(&s->err);
		int rc = s->t->ops->reconnect(s->t, timeout_ms);
		if (rc < 0) {
			s->err = s->t->err;
			err_prefix(&s->err, "finding the chip again on %s after its reset", ops_info(s)->path);
			err_hint(&s->err, "check that BOOT0 is still high, then 'stm32dfu info --port %s'", ops_info(s)->path);
			return rc;
		}
		return reidentify(s, had_uid, uid);
	}
	struct dfu_limits limits = s->dfu ? s->dfu->limits : (struct dfu_limits){0};
	bool have_limits = s->dfu != NULL;
	err_clear(&s->err);
	int rc = tp_reopen(s->tp, timeout_ms);
	if (rc < 0) {
		s->err = s->tp->err;
		err_prefix(&s->err, "waiting %u ms for the chip to re-enumerate after its reset", timeout_ms);
		err_hint(&s->err, "unplug and replug the board (with BOOT0 high), then check with {@info}");
		return rc;
	}
	/* the descriptors and alt strings may differ after a reset: rebuild the DFU session */
	struct dfu_dev *fresh = NULL;
	if ((rc = dfu_open(s->tp, &fresh, &s->err)) < 0)
		return err_prefix(&s->err, "after the reset");
	/* rebuilt in place: a reconnect in the middle of a read (recover.c) returns into callers
	 * that hold pointers into the session (ops_identify keeps the alt names) */
	if (s->dfu) {
		/* the same chip: what the session learnt about its polling holds after the reset */
		fresh->poll_mode = s->dfu->poll_mode;
		fresh->poll_asked = s->dfu->poll_asked;
		fresh->poll_fallback = s->dfu->poll_fallback;
		*s->dfu = *fresh;
		dfu_free(fresh);
	} else {
		s->dfu = fresh;
	}
	if (have_limits)
		s->dfu->limits = limits;
	if ((rc = dfu_session_start(s->dfu, NULL)) < 0) {
		s->err = s->dfu->err;
		return err_prefix(&s->err, "after the reset");
	}
	return reidentify(s, had_uid, uid);
}
