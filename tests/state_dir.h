/*
 * A test program's own state directory (XDG_STATE_HOME), emptied when the program starts: doctor's
 * remembered link verdict and recovery files are kept per board there, and the emulator's boards of
 * one profile share a UID, so a note left by one test (or by the last run of the suite) would change
 * what the next one sees, e.g. confirmed reads after a marginal link verdict.
 */
#ifndef STM32DFU_TESTS_STATE_DIR_H
#define STM32DFU_TESTS_STATE_DIR_H

#include <stdio.h>
#include <stdlib.h>

static inline void test_own_state_dir(const char *name)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	char own[1024], cmd[1100];
	snprintf(own, sizeof own, "%s/%s", xdg && *xdg ? xdg : "/tmp", name);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", own);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not empty %s\n", own);
	setenv("XDG_STATE_HOME", own, 1);
}

#endif
