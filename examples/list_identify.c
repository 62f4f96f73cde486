/*
 * Example: list every DFU device with libstm32dfu and say what chip each one is.
 * Uses only the public header. Build against an installed library with
 *   cc list_identify.c $(pkg-config --cflags --libs stm32dfu)
 * Usage: list_identify [SIM_SPEC]    (e.g. "f746,timing=0" lists the built-in emulator)
 */
#include <stdio.h>

#include <stm32dfu/stm32dfu.h>

int main(int argc, char **argv)
{
	struct stm32dfu_match m = {0};
	if (argc > 1)
		m.sim = argv[1];
	struct stm32dfu_device *devs;
	size_t n;
	int rc = stm32dfu_list(argc > 1 ? &m : NULL, &devs, &n);
	if (rc) {
		fprintf(stderr, "list_identify: %s\n", stm32dfu_last_error(NULL).message);
		return 1;
	}
	printf("libstm32dfu %s: %zu DFU device%s\n", stm32dfu_version(), n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		const struct stm32dfu_device *d = &devs[i];
		printf("%04x:%04x at %s, serial %s\n", d->vid, d->pid, d->path, d->serial);
		if (!d->opened) {
			printf("  cannot open it: %s\n", d->error);
			continue;
		}
		for (unsigned a = 0; a < d->n_alts; a++)
			printf("  alt %u: %s\n", d->alts[a].alt, d->alts[a].raw);
		if (d->has_identity) {
			const struct stm32dfu_identity *id = &d->identity;
			printf("  chip %s (%s), flash %u KiB, UID %s\n", id->chip[0] ? id->chip : "unknown", id->confidence,
			       id->flash_size / 1024, id->has_uid ? id->uid_text : "not read");
			printf("  serial %s: %s\n", id->serial_verdict, id->serial_explanation);
		}
	}
	stm32dfu_list_free(devs);
	return 0;
}
