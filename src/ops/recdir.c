/* Where a session's records live (recdir.h). */
#include "ops/recdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "ops/session.h"
#include "target/dfuse_link.h"

bool ops_usb_emulated(void)
{
	const char *d = getenv("UMOCKDEV_DIR"), *sim = getenv("STM32DFU_EMULATED");
	return (d && *d) || (sim && strcmp(sim, "1") == 0);
}

bool ops_state_folder(const char *sub, char *buf, size_t cap)
{
	return file_state_path(sub, buf, cap);
}

bool ops_session_emulated(const struct ops_session *s)
{
	if (!s->tp)
		return s->uart_sim || ops_usb_emulated();
	return target_usb_sim_state(s->tp) != NULL || ops_usb_emulated();
}

bool ops_records_base(const struct ops_session *s, char *buf, size_t cap)
{
	return ops_state_folder(ops_session_emulated(s) ? "sim" : "", buf, cap);
}
