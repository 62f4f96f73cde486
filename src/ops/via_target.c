/* ops/ over a target that is not DfuSe (via_target.h). */
#include "ops/via_target.h"

#include <string.h>

#include "core/log.h"
#include "ops/recover.h"
#include "serial/serial.h"

/* a slice: 16 AN3155 Read Memory commands; progress and cancel between slices */
#define VT_SLICE 4096u

static int fail(struct ops_session *s, int rc)
{
	s->err = s->t->err;
	if (!s->err.code)
		err_set(&s->err, rc, "%s", stm32dfu_strerror(rc));
	return rc;
}

int vt_resync(struct ops_session *s, int cause)
{
	(void)cause;
	if (!s->bl)
		return 0;
	/* not 0x7F: after autobaud it is a command byte, and a ROM left inside a frame would take it
	 * as data. The protocol layer brings the parser back (0xFF bytes until a NACK, an3155.c) when
	 * its next command finds it out of step */
	ser_flush_input(s->ser);
	s->counters.resyncs++;
	return 0;
}

int vt_read(struct ops_session *s, uint32_t addr, uint8_t *buf, size_t len, int phase)
{
	size_t pos = 0;
	unsigned fails = 0;
	while (pos < len) {
		if (ops_canceled(s))
			return STM32DFU_E_CANCELED;
		size_t n = len - pos < VT_SLICE ? len - pos : VT_SLICE;
		int rc = target_read(s->t, addr + (uint32_t)pos, buf + pos, n);
		if (rc < 0) {
			fail(s, rc);
			if (!rec_worth_retry(s, rc) || ++fails > s->opts.retries) {
				err_prefix(&s->err, "read 0x%08X (%zu bytes)%s", addr + (unsigned)pos, n,
				           fails > 1 ? ", after retries" : "");
				return rc;
			}
			if (!rec_spend(s, rc, "read") || (rc = vt_resync(s, rc)) < 0)
				return rc;
			continue;
		}
		pos += n;
		fails = 0;
		if (phase >= 0)
			ops_report(s, (enum ops_phase)phase, pos, len, "B");
	}
	return 0;
}

int vt_erase(struct ops_session *s, uint32_t addr, uint32_t size)
{
	(void)size;
	const struct dfu_alt *fa = ops_flash_alt(s);
	struct layout_sector ls;
	if (!fa || !layout_find(&fa->layout, addr, &ls) || ls.start != addr)
		return err_set(&s->err, STM32DFU_E_RANGE, "erase 0x%08X: no flash sector starts there", addr);
	/* the sector's number counts across the flash's regions, as the ROM numbers them */
	unsigned idx = ls.index;
	for (unsigned r = 0; r < ls.region; r++)
		for (unsigned g = 0; g < fa->layout.regions[r].n_groups; g++)
			idx += fa->layout.regions[r].groups[g].count;
	unsigned fails = 0;
	for (;;) {
		int rc = target_erase(s->t, &idx, 1);
		if (rc == 0)
			return 0;
		fail(s, rc);
		if (!rec_worth_retry(s, rc) || ++fails > s->opts.retries)
			return err_prefix(&s->err, "erase sector %u at 0x%08X", idx, addr);
		if (!rec_spend(s, rc, "erase") || (rc = vt_resync(s, rc)) < 0)
			return rc;
	}
}

int vt_program(struct ops_session *s, uint32_t addr, const uint8_t *buf, size_t len)
{
	int rc = target_write(s->t, addr, buf, len);
	return rc < 0 ? fail(s, rc) : 0;
}
