/*
 * Fuzz target: the emulator's profile files, which `--sim=FILE` and `stm32dfu-sim --profile FILE`
 * take from the user (a file passed around, or written by hand): the key = value parser, `base =`
 * chains, and the chip the emulator builds from them (memories, sectors, descriptors, option bytes,
 * faults), then a state file round trip over that chip. Nothing may crash, leak or allocate
 * without bound (-malloc_limit_mb in corpus/sim_profile.options).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void remove_dir(void)
{
	char p[128];
	snprintf(p, sizeof p, "%s/fuzz.profile", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/fuzz.state", dir);
	unlink(p);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		struct stat st;
		snprintf(dir, sizeof dir, "%s/fuzz-profile.XXXXXX",
		         stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp");
		if (!mkdtemp(dir)) {
			dir[0] = '\0';
			return 0;
		}
		atexit(remove_dir);
	}
	char path[128], state[128];
	snprintf(path, sizeof path, "%s/fuzz.profile", dir);
	snprintf(state, sizeof state, "%s/fuzz.state", dir);
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	char eb[256];
	struct sim_profile *p = sim_profile_load(path, PROFILE_DIR, eb, sizeof eb);
	if (!p)
		return 0;
	struct clock_fake clk;
	clock_fake_init(&clk);
	struct sim_device *d = sim_device_new(p, &clk.clock, eb, sizeof eb);
	if (d) {
		if (sim_state_save(d, state, eb, sizeof eb) == 0)
			(void)sim_state_load(d, state, eb, sizeof eb);
		unlink(state);
		sim_device_free(d);
	}
	sim_profile_free(p);
	return 0;
}
