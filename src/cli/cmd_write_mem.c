/* write into the other memories (issue 15 item 4): --alt N, the named flags of a raw option-byte
 * block, and the summary of a write into RAM, OTP or option bytes. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "chip/ob.h"
#include "cli/commands.h"
#include "cli/session.h"
#include "image/image.h"

unsigned cli_ob_confirm_flags(const struct cli_ctx *c)
{
	unsigned f = 0;
	if (c->args.given[OPT_RDP1])
		f |= OB_CONFIRM_RDP1;
	if (c->args.given[OPT_RDP2])
		f |= OB_CONFIRM_RDP2;
	if (c->args.given[OPT_WRP_BOOT])
		f |= OB_CONFIRM_WRP_BOOT;
	if (c->args.given[OPT_NO_BOOTLOADER])
		f |= OB_CONFIRM_NO_BOOTLOADER;
	if (c->args.given[OPT_RDP0])
		f |= OB_CONFIRM_RDP_REGRESSION;
	return f;
}

int cli_write_alt(struct cli_ctx *c, struct ops_session *s, struct img *img)
{
	if (!c->args.given[OPT_ALT])
		return 0;
	uint32_t n;
	if (!cli_parse_u32(c->args.value[OPT_ALT], &n) || n > 255)
		return cli_usage_error(c, "--alt %s: expected 0 to 255", c->args.value[OPT_ALT]);
	if (img->format == IMG_FMT_DFUSE)
		return cli_usage_error(c, "--alt: %s names the alt setting of each of its targets", c->args.pos[0]);
	const struct layout_mem *a = NULL;
	for (unsigned i = 0; i < s->map->n && !a; i++)
		if (s->map->mem[i].alt == n)
			a = &s->map->mem[i];
	if (!a) {
		int rc = cli_usage_error(c, "--alt %" PRIu32 ": the device has %u alternate settings (0 to %u)", n,
		                         s->map->n, s->map->n ? s->map->n - 1 : 0);
		struct stm32dfu_device_rec *d = malloc(sizeof *d);
		fprintf(c->errf, "memory map:\n");
		if (d) {
			api_device_rec_of(s, d);
			cli_print_alts(c->errf, d);
		}
		free(d);
		return rc;
	}
	/* a raw binary without -a goes to the start of that memory, as a file with addresses keeps its own */
	bool raw = img->format == IMG_FMT_BIN || img->addressless;
	if (raw && !c->args.given[OPT_ADDRESS] && img->n_segs == 1 && a->have_layout && a->layout.n_regions)
		img->segs[0].addr = a->layout.regions[0].start;
	for (size_t i = 0; i < img->n_segs; i++)
		img->segs[i].alt = (uint8_t)n;
	return 0;
}

const char *const cli_rdp2_gone_text =
	"option bytes written with RDP level 2: the chip reset and left the bus for good. Level 2 disables "
	"its bootloader (PM0059, RM0090 3.7.3, RM0440, AN2606), so it can never be read, written, erased or "
	"unprotected over DFU again; only the application in its flash runs";

void cli_write_memory_text(struct cli_ctx *c, const struct stm32dfu_write_report *r)
{
	FILE *o = c->out;
	double rd = (double)r->read.us / 1e6, pg = (double)r->program.us / 1e6, vf = (double)r->verify.us / 1e6;
	fprintf(o, "memory   %s at 0x%08" PRIX32 "%s\n", r->memory, r->memory_address,
	        r->otp ? ": one-time programmable, never erased" : "");
	if (r->read.bytes)
		fprintf(o, "read     %" PRIu64 " bytes in %.2f s (what it held before)\n", r->read.bytes, rd);
	fprintf(o, "program  %" PRIu64 " bytes in %u blocks, %u runs, in %.2f s\n", r->bytes_programmed, r->blocks, r->runs,
	        pg);
	if (r->ob_bootloader_gone)
		fprintf(o, "verify   %s\n", cli_rdp2_gone_text);
	else if (r->ob_protection_active)
		fprintf(o, "verify   read protection is now active: the chip refuses reads, which confirms it\n");
	else if (r->verified && r->bytes_programmed == 0)
		fprintf(o, "verify   nothing written: the chip already holds these bytes (read back and compared)\n");
	else if (r->verified)
		fprintf(o, "verify   %" PRIu64 " bytes in %.2f s: OK\n", r->verify.bytes, vf);
	else
		fprintf(o, "verify   skipped (--no-verify): the write is NOT proven\n");
}
