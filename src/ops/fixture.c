/* The fixture's reset lines for a session opened with --reset-seq: the way out (ops_reset_exit). */
#include "ops/session.h"

#include "target/an3155_link.h"

int ops_reset_exit(struct ops_session *s)
{
	err_clear(&s->err);
	if (s->link != OPS_LINK_UART || !s->seq) {
		err_set(&s->err, STM32DFU_E_USAGE, "{@leave-reset} drives {@reset-seq}'s exit sequence: it needs {@port} "
		        "with {@reset-seq}");
		err_hint(&s->err, "{@reset-seq} alone is the default wiring (DTR to NRST, RTS to BOOT0); without a wired "
		                  "fixture, {@leave-go} alone jumps to the application with Go");
		return STM32DFU_E_USAGE;
	}
	if (!s->seq->has_exit) {
		err_set(&s->err, STM32DFU_E_USAGE, "{@leave-reset}: the {@reset-seq} given has no exit sequence "
		        "(ENTRY:EXIT)");
		err_hint(&s->err, "add the way out after a ':', e.g. {@reset-seq-eg 'rts&dtr,-dtr,:-rts&dtr,-dtr'}");
		return STM32DFU_E_USAGE;
	}
	int rc = target_an3155_seq(s->ser, &s->seq->exit, &s->err);
	if (rc < 0)
		return err_prefix(&s->err, "{@leave-reset}");
	/* the ROM is gone (the application runs, or the chip is still held if the wiring differs): the
	 * next command on this port starts with its own sync */
	target_an3155_forget_sync(s->bl);
	return 0;
}
