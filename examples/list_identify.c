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
	/* every DFU device, not only the ST ROM's 0483:df11 (what a zero match selects) */
	struct stm32dfu_session_options o = {0};
	o.size = sizeof o;
	o.any_id = 1;
	struct stm32dfu_device_rec *devs;
	size_t n;
	int rc = stm32dfu_list_records(&m, &o, &devs, &n);
	if (rc) {
		fprintf(stderr, "list_identify: %s\n", stm32dfu_last_error(NULL).message);
		return 1;
	}
	printf("libstm32dfu %s: %zu DFU device%s\n", stm32dfu_version(), n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		const struct stm32dfu_device_rec *d = &devs[i];
		printf("%04x:%04x at %s, serial %s\n", d->vid, d->pid, d->path, d->serial);
		if (!d->opened) {
			printf("  cannot open it: %s\n", d->error);
			continue;
		}
		printf("  found in %s (%s)\n", d->found_state_name, d->found_action);
		for (unsigned a = 0; a < d->n_alts; a++)
			printf("  alt %u: %s\n", d->alts[a].alt, d->alts[a].raw);
		if (d->n_alts_total > d->n_alts)
			printf("  and %u more alt settings\n", d->n_alts_total - d->n_alts);
		if (d->identity_read) {
			const struct stm32dfu_identity *id = &d->identity;
			printf("  chip %s (%s), flash %u KiB, UID %s\n", id->chip, id->confidence, id->flash_size / 1024,
			       id->has_uid ? id->uid_text : "not read");
			printf("  serial %s: %s\n", id->serial_verdict, id->serial_explanation);
		} else {
			printf("  not an STM32 ROM bootloader: %s\n", d->identity.reason);
		}
	}
	stm32dfu_list_records_free(devs);
	return 0;
}
