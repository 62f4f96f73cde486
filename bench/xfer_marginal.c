/*
 * bench: a write with verify on a marginal link (f746-report: the ROM's USB clock 3.8 % off), on the
 * in-process emulator with a fake clock, so the figure is the protocol's cost (device busy time and
 * the model's bus time), not the machine's. Reported, never asserted (bench/README.md).
 *   xfer_marginal SPEC KIB T RUNS     e.g.  xfer_marginal f746-report,timing=1 256 64 3
 * T: -t (0: the device's wTransferSize, the transfer size chosen from the measured loss). Each run
 * is a fresh chip with another seed of the link's faults. Prints per run: virtual seconds, data
 * DNLOADs, retries, re-syncs, splits, and the last transfer size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "image/image.h"
#include "ops/ops.h"
#include "ops/session.h"
#include "usb/tp_trace.h"

int main(int argc, char **argv)
{
	if (argc != 5) {
		fputs("usage: xfer_marginal SPEC KIB T RUNS\n", stderr);
		return 2;
	}
	size_t len = strtoul(argv[2], NULL, 10) * 1024u;
	unsigned t = (unsigned)strtoul(argv[3], NULL, 10);
	unsigned runs = (unsigned)strtoul(argv[4], NULL, 10);
	log_set_level(LOG_ERROR);
	uint8_t *data = malloc(len);
	if (!data)
		return 1;
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	struct img *img = img_new();
	if (img_add(img, 0, 0x08000000, data, len, NULL) < 0)
		return 1;
	free(data);
	double sum = 0;
	int failed = 0;
	for (unsigned k = 0; k < runs; k++) {
		char spec[512];
		snprintf(spec, sizeof spec, "%s,seed=%u", argv[1], k + 1);
		struct clock_fake clk;
		clock_fake_init(&clk);
		struct ops_open_opts o;
		ops_open_opts_init(&o);
		o.sim_spec = spec;
		o.profile_dir = getenv("STM32DFU_PROFILE_DIR") ? getenv("STM32DFU_PROFILE_DIR") : "profiles";
		o.clock = &clk.clock;
		o.transfer_size = t;
		struct ops_session *s = NULL;
		struct err e;
		err_clear(&e);
		if (ops_open(&o, &s, &e) < 0) {
			fprintf(stderr, "open %s: %s\n", spec, e.msg);
			img_free(img);
			return 1;
		}
		struct ops_write_opts wo;
		ops_write_opts_init(&wo);
		struct ops_write_result r;
		uint64_t t0 = clk.now;
		int rc = ops_write(s, img, &wo, &r);
		double sec = (double)(clk.now - t0) / 1e6;
		printf("run %u: %s %.2f s, %u data blocks, %u retries, %u re-syncs, %u splits, last size %u%s%s\n", k + 1,
		       rc == 0 && r.verified ? "verified" : "FAILED", sec, r.blocks, s->counters.retries,
		       s->counters.resyncs, s->counters.transfer_splits, r.transfer_size, rc ? ": " : "",
		       rc ? s->err.msg : "");
		printf("       read %.2f s, erase %.2f s, program %.2f s, verify %.2f s; write sizes %u..%u (now %u), "
		       "read sizes %u..%u (now %u)\n",
		       (double)r.read.us / 1e6, (double)r.erase.us / 1e6, (double)r.program.us / 1e6,
		       (double)r.verify.us / 1e6, s->xa_write.smallest, s->xa_write.largest, s->xa_write.cur,
		       s->xa_read.smallest, s->xa_read.largest, s->xa_read.cur);
		if (getenv("XFER_COSTS")) {
			const struct xfer_adapt *xa[2] = {&s->xa_write, &s->xa_read};
			for (int i = 0; i < 2; i++) {
				printf("  %s: loss per packet %.3f, us/byte:", i ? "read" : "write", xfer_adapt_loss(xa[i]));
				for (uint32_t l = 64; l <= 1024; l *= 2)
					printf(" %u=%.2f %u=%.2f", l, xfer_adapt_cost(xa[i], l), l + l / 2, xfer_adapt_cost(xa[i], l + l / 2));
				printf("\n");
			}
		}
		if (getenv("XFER_CLASSES")) {
			static const char *names[TP_REQ_COUNT] = {"any", "std", "detach", "setaddr", "erase", "mass", "unprot",
			                                          "cmd", "dndata", "dnzero", "get", "updata", "getstatus",
			                                          "clrstatus", "getstate", "abort", "setalt", "reset", "reopen"};
			for (int c = 0; c < TP_REQ_COUNT; c++)
				if (tp_trace_count(s->tp, (enum tp_req_class)c))
					printf(" %s=%zu", names[c], tp_trace_count(s->tp, (enum tp_req_class)c));
			printf("\n");
		}
		if (rc != 0 || !r.verified)
			failed++;
		sum += sec;
		ops_close(s);
	}
	printf("mean %.2f s over %u runs, %d failed\n", sum / runs, runs, failed);
	img_free(img);
	return failed ? 1 : 0;
}
