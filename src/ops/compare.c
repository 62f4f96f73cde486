/*
 * Over USART, a write reads back only what it must (issue 23): before planning, each touched
 * sector is compared with the image
 *   - by the ROM's Get Checksum (AN3155 0xA1) where GET lists it: the chip's CRC of the image's
 *     ranges in the sector against theirs; equal: the sector is skipped, unread; the image covers
 *     the sector and the CRC differs: it is replaced whole, unread; a partly covered sector that
 *     differs is read back (its other bytes are kept, so they must be on disk before the erase);
 *   - without Get Checksum, a sector the image covers whole is read block by block only up to its
 *     first difference (then it is replaced whole: nothing in it is kept), the first read a 16-byte
 *     probe when the sector before differed (COMPARE_PROBE);
 * and the write's verify asks the CRC of each written sector instead of reading it back. Over USB
 * nothing changes (DfuSe reads a sector in a few long transfers; tests/proto pins its transcript).
 *
 * The CRC is the STM32 CRC unit's (an3155_crc: poly 0x04C11DB7, init 0xFFFFFFFF, 32-bit words);
 * equal CRCs of equal lengths are taken as equal bytes (a 32-bit check: a random difference passes
 * with probability 2^-32, below the parity-checked Read Memory's own undetected-error rate).
 */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "image/image.h"
#include "ops/session.h"
#include "ops/write_int.h"
#include "target/target.h"

bool ops_can_checksum(const struct ops_session *s)
{
	return !ops_dfuse(s) && s->t && (s->t->caps & TARGET_CAP_CHECKSUM) && s->t->ops->checksum;
}

/* 1: the chip's CRC of [addr, addr+len) equals the CRC of want; 0: it differs, or the range cannot
 * be asked (alignment) or the command failed (the caller then reads back); <0 never. */
static int crc_equal(struct ops_session *s, uint32_t addr, const uint8_t *want, uint32_t len, bool *asked)
{
	*asked = false;
	if (!len || len % 4 || addr % 4)
		return 0;
	uint32_t crc = 0;
	if (s->t->ops->checksum(s->t, addr, len, &crc) < 0) {
		log_info("Get Checksum at 0x%08X failed (%s): reading back instead", addr, s->t->err.msg);
		return 0;
	}
	*asked = true;
	s->counters.compare_checksums++;
	return crc == target_crc(want, len);
}

/* The first read of a sector's compare after a sector that differed: a chip being written with
 * new firmware (blank, or another program) differs in its first bytes, and a Read Memory costs 12
 * bytes on the wire besides its data (command, address, count, three ACKs), so 16 bytes decide it
 * for 28 instead of 268. After an equal sector the next is read in whole blocks at once (a rewrite
 * of mostly equal sectors pays nothing more). */
#define COMPARE_PROBE 16u
#define COMPARE_PROGRESS_STEP (16u * 1024u)

/* Reads [addr, addr+len) a Read Memory block at a time while it equals want: *decided 1 all
 * equal, -1 a block differs (the rest is not read). short_first: the first read is COMPARE_PROBE
 * bytes, the next one ends where a whole block would have. <0: the read failed. */
static int read_until_differs(struct ops_session *s, uint32_t addr, const uint8_t *want, uint32_t len,
                              bool short_first, int *decided)
{
	uint8_t buf[256];
	uint32_t step = s->t->max_transfer && s->t->max_transfer < sizeof buf ? s->t->max_transfer : sizeof buf;
	*decided = 1;
	for (uint32_t off = 0, n; off < len; off += n) {
		n = len - off < step ? len - off : step;
		if (off == 0 && short_first && n > COMPARE_PROBE)
			n = COMPARE_PROBE;
		else if (off % step && n > step - off % step)
			n = step - off % step; /* back on the block grid after the probe */
		int rc = ops_read_mem(s, 0, addr + off, buf, n, -1);
		if (rc < 0)
			return rc;
		s->counters.compare_read_bytes += n;
		/* a 128 KiB sector takes 11 s at 115200: say how far the compare is */
		if (s->progress_total && (off + n) / COMPARE_PROGRESS_STEP != off / COMPARE_PROGRESS_STEP)
			ops_report(s, OPS_PHASE_READ, s->progress_base + off + n, s->progress_total, "B");
		if (memcmp(buf, want + off, n) != 0) {
			*decided = -1;
			break;
		}
	}
	return 0;
}

int ops_compare_touched(struct ops_session *s, const struct img *img, struct plan_touched *t, bool *differed)
{
	if (ops_dfuse(s) || !s->t || t->current || t->base)
		return 0;
	uint32_t start = t->sector.start, size = t->sector.size;
	uint8_t *want = malloc(size);
	bool *have = calloc(size, sizeof *have);
	if (!want || !have) {
		free(want);
		free(have);
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	}
	memset(want, 0xFF, size);
	uint64_t covered = 0;
	for (size_t k = 0; k < img->n_segs; k++) {
		const struct img_seg *seg = &img->segs[k];
		uint64_t lo = seg->addr > start ? seg->addr : start;
		uint64_t hi = (uint64_t)seg->addr + seg->len < (uint64_t)start + size ? (uint64_t)seg->addr + seg->len
		                                                                      : (uint64_t)start + size;
		if (seg->alt != 0 || lo >= hi)
			continue;
		memcpy(want + (lo - start), seg->data + (lo - seg->addr), (size_t)(hi - lo));
		for (uint64_t a = lo; a < hi; a++) {
			covered += !have[a - start];
			have[a - start] = true;
		}
	}
	int decided = 0; /* 0: read back; 1: equal; -1: differs (whole sector, nothing to keep) */
	bool asked = false;
	if (covered == size && (s->t->caps & TARGET_CAP_CHECKSUM)) {
		decided = crc_equal(s, start, want, size, &asked) ? 1 : asked ? -1 : 0;
	} else if (covered == size) {
		int rc = read_until_differs(s, start, want, size, *differed, &decided);
		/* equal on a link that has shown a fault: read again (a noisy byte may have looked equal;
		 * a sector skipped is never verified). A difference then replaces it whole, which is safe */
		if (rc == 0 && decided == 1 && ops_link_faulted(s))
			rc = read_until_differs(s, start, want, size, false, &decided);
		if (rc < 0) {
			free(want);
			free(have);
			return rc;
		}
	} else if (s->t->caps & TARGET_CAP_CHECKSUM) {
		/* the image's runs in the sector: all equal means the sector is kept as it is, unread */
		decided = 1;
		for (uint32_t i = 0; i < size && decided == 1;) {
			if (!have[i]) {
				i++;
				continue;
			}
			uint32_t j = i;
			while (j < size && have[j])
				j++;
			if (!crc_equal(s, start + i, want + i, j - i, &asked))
				decided = 0; /* differs, or cannot be asked: the kept bytes must be read */
			i = j;
		}
	}
	free(have);
	if (decided)
		*differed = decided < 0;
	if (decided == 0) {
		free(want);
		return 0;
	}
	if (decided < 0) {
		/* the image covers the sector and the chip's CRC differs: it is erased and programmed
		 * whole, no byte of it is kept, so its old contents are not needed (never shown: the
		 * buffer only receives the verify's read) */
		memset(want, 0xFF, size);
	}
	/* equal and covered: the chip holds the image's bytes. Equal and partly covered: the bytes
	 * outside the image were not read; the sector is skipped whole, so nothing uses them */
	t->current = want;
	t->by_checksum = (int8_t)decided;
	return 1;
}

int ops_compare_range(struct ops_session *s, uint32_t addr, const uint8_t *want, size_t len)
{
	bool asked;
	if (!ops_can_checksum(s) || len > UINT32_MAX)
		return 0;
	return crc_equal(s, addr, want, (uint32_t)len, &asked);
}

int ops_compare_verify(struct ops_session *s, const struct plan_touched *t)
{
	/* a sector that differs is then read back by the caller, which names the first difference */
	bool asked;
	if (!ops_can_checksum(s) || !t->desired)
		return 0;
	return crc_equal(s, t->sector.start, t->desired, t->sector.size, &asked);
}
