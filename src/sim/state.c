/*
 * The state file of --sim mode: the chip's writable memories (flash, option bytes, OTP), so that
 * one command sees what an earlier one wrote. Binary, little-endian:
 *   "SDFUSIM1" (8 bytes), version u32 = 1, count u32,
 *   count records of { base u32, size u32, kind u32, size bytes },
 *   (version 2) nregs u32, nregs registers of { tag u32, value u32 },
 *   CRC-32 (zlib) u32 of everything before it.
 * A record whose base and size match no memory of the device is an error (another profile's file).
 * The registers are what a powered chip keeps between host sessions besides its memories: the
 * DfuSe address pointer (AN3156 §5.5 jumps to it at leave) and the last download address. A chip
 * that left the bus (reset or ran its application) is saved with the values a reset gives.
 * Version 1 files (no registers) still load: the registers keep their reset values.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crc32.h"
#include "core/file.h"
#include "core/rd.h"
#include "sim/sim_int.h"

#define SIM_STATE_MAGIC "SDFUSIM1"
#define SIM_STATE_VERSION 2
#define SIM_STATE_MAX (256u << 20)

enum { REG_POINTER = 1, REG_POINTER_SET, REG_LAST_DL_ADDR, REG_LAST_DL_SET, REG__COUNT };

int sim_state_save(const struct sim_device *d, const char *path, char *errbuf, size_t errlen)
{
	const uint32_t nregs = REG__COUNT - 1;
	/* off the bus, the chip is either resetting or running its application: a reset clears them */
	const bool up = d->link == SIM_LINK_UP;
	const uint32_t regs[REG__COUNT] = {
		[REG_POINTER] = up ? d->pointer : (d->flash >= 0 ? d->mem[d->flash].base : 0x08000000),
		[REG_POINTER_SET] = up && d->pointer_set,
		[REG_LAST_DL_ADDR] = up ? d->last_dl_addr : 0,
		[REG_LAST_DL_SET] = up && d->last_dl_set,
	};
	size_t total = 16 + 4 + 4 + 8u * nregs;
	uint32_t count = 0;
	for (int i = 0; i < d->nmem; i++) {
		if (d->mem[i].persist) {
			total += 12 + d->mem[i].size;
			count++;
		}
	}
	uint8_t *buf = malloc(total);
	if (!buf) {
		snprintf(errbuf, errlen, "state %s: out of memory", path);
		return -1;
	}
	memcpy(buf, SIM_STATE_MAGIC, 8);
	put_le32(buf + 8, SIM_STATE_VERSION);
	put_le32(buf + 12, count);
	size_t pos = 16;
	for (int i = 0; i < d->nmem; i++) {
		const struct sim_mem *m = &d->mem[i];
		if (!m->persist)
			continue;
		put_le32(buf + pos, m->base);
		put_le32(buf + pos + 4, m->size);
		put_le32(buf + pos + 8, (uint32_t)m->kind);
		memcpy(buf + pos + 12, m->data, m->size);
		pos += 12 + m->size;
	}
	put_le32(buf + pos, nregs);
	pos += 4;
	for (uint32_t tag = 1; tag < REG__COUNT; tag++, pos += 8) {
		put_le32(buf + pos, tag);
		put_le32(buf + pos + 4, regs[tag]);
	}
	put_le32(buf + pos, crc32_update(0, buf, pos));
	/* a new temporary file (never one an attacker planted) renamed into place: a crash never
	 * leaves half a chip */
	struct err e;
	err_clear(&e);
	int rc = file_write_atomic(path, buf, total, 0600 | FILE_OUT_NO_SYNC, &e);
	free(buf);
	if (rc < 0) {
		snprintf(errbuf, errlen, "state: %s", e.msg);
		return -1;
	}
	return 0;
}

int sim_state_load(struct sim_device *d, const char *path, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return 0; /* a factory-fresh chip */
		snprintf(errbuf, errlen, "state %s: %s", path, strerror(errno));
		return -1;
	}
	/* a buffer of the file's size, not of the largest allowed (256 MiB: with MALLOC_PERTURB_, as
	 * meson test sets it, each open filled it and the python suite's 76 opens timed out) */
	long fsize = -1;
	if (fseek(f, 0, SEEK_END) == 0)
		fsize = ftell(f);
	if (fsize < 0 || fseek(f, 0, SEEK_SET) != 0) {
		snprintf(errbuf, errlen, "state %s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	size_t cap = (uint64_t)fsize > SIM_STATE_MAX ? (size_t)SIM_STATE_MAX + 1 : (size_t)fsize + 1;
	uint8_t *buf = malloc(cap);
	if (!buf) {
		fclose(f);
		snprintf(errbuf, errlen, "state %s: out of memory", path);
		return -1;
	}
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	int rc = -1;
	struct rd r;
	rd_init(&r, buf, n);
	if (n < 20 || n > SIM_STATE_MAX || memcmp(buf, SIM_STATE_MAGIC, 8) != 0) {
		snprintf(errbuf, errlen, "state %s: not a simulator state file", path);
		goto out;
	}
	if (crc32_update(0, buf, n - 4) != get_le32(buf + n - 4)) {
		snprintf(errbuf, errlen, "state %s: CRC mismatch (file damaged)", path);
		goto out;
	}
	rd_skip(&r, 8);
	uint32_t version = rd_le32(&r);
	if (version != 1 && version != SIM_STATE_VERSION) {
		snprintf(errbuf, errlen, "state %s: unsupported version", path);
		goto out;
	}
	uint32_t count = rd_le32(&r);
	/* check every record before changing anything */
	for (int pass = 0; pass < 2; pass++) {
		rd_seek(&r, 16);
		for (uint32_t i = 0; i < count; i++) {
			uint32_t base = rd_le32(&r), size = rd_le32(&r);
			rd_le32(&r);
			const uint8_t *data = rd_take(&r, size);
			struct sim_mem *m = sim_mem_find(d, base);
			if (!data || rd_left(&r) < 4 || !m || m->base != base || m->size != size || !m->persist) {
				snprintf(errbuf, errlen,
					 "state %s: record %u (0x%08X, %u bytes) does not fit this profile's chip",
					 path, i, base, size);
				goto out;
			}
			if (pass == 1)
				memcpy(m->data, data, size);
		}
		uint32_t nregs = version >= 2 ? rd_le32(&r) : 0;
		for (uint32_t i = 0; i < nregs; i++) {
			uint32_t tag = rd_le32(&r), value = rd_le32(&r);
			if (tag == 0 || tag >= REG__COUNT || rd_left(&r) < 4) {
				snprintf(errbuf, errlen, "state %s: register %u (tag %u) is not one this version knows",
					 path, i, tag);
				goto out;
			}
			if (pass == 0)
				continue;
			switch (tag) {
			case REG_POINTER: d->pointer = value; break;
			case REG_POINTER_SET: d->pointer_set = value != 0; break;
			case REG_LAST_DL_ADDR: d->last_dl_addr = value; break;
			default: d->last_dl_set = value != 0; break;
			}
		}
		if (rd_left(&r) != 4) {
			snprintf(errbuf, errlen, "state %s: unexpected bytes before the CRC", path);
			goto out;
		}
	}
	sim_ob_reload(d); /* the chip powers up with what the file holds */
	sim_rdp2_gone(d);  /* ... and at RDP level 2 without its bootloader */
	rc = 0;
out:
	free(buf);
	return rc;
}

static uint32_t rd_be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void sanitize(char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      *s == '-' || *s == '_' || *s == '.'))
			*s = '_';
}

bool sim_state_default_path(const struct sim_profile *p, char *buf, size_t cap)
{
	char serial[64] = "STM32FxSTM32";
	const char *s = sim_profile_get(p, "serial");
	const char *u = sim_profile_get(p, "uid");
	uint8_t b[12];
	if (s) {
		snprintf(serial, sizeof(serial), "%s", s);
	} else if (u && sim_parse_hex(u, b, 12) == 12) { /* as config.c derives it */
		uint32_t w0 = rd_be32_at(b), w1 = rd_be32_at(b + 4), w2 = rd_be32_at(b + 8);
		snprintf(serial, sizeof(serial), "%08X%04X", (unsigned)(w0 + w2), (unsigned)(w1 >> 16));
	}
	char name[64];
	snprintf(name, sizeof(name), "%s", sim_profile_name(p));
	sanitize(serial);
	sanitize(name);
	char dir[4096];
	/* emulated chips' records live in the state folder's sim/, apart from real chips' (ops/recdir.h) */
	if (!file_state_path("sim", dir, sizeof dir))
		return false;
	int n = snprintf(buf, cap, "%s/sim-%s-%s.state", dir, name, serial);
	return n > 0 && (size_t)n < cap;
}
