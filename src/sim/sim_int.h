/*
 * Internals of the device model, shared by the files of src/sim/ and by its unit tests.
 * Nothing here is part of the contract (sim.h).
 */
#ifndef SIM_SIM_INT_H
#define SIM_SIM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/sim.h"

#define SIM_MAX_ALTS 40 /* past the host's 32, for a test of a device with more */
#define SIM_MAX_REGIONS 32
/* All the memories of one emulated chip together: the largest STM32 has a few MiB (U5: 4 MiB of
 * flash, 3 MiB of RAM); a profile is a file from outside, and without a bound one could make the
 * emulator allocate and fill 4 GiB (tests/fuzz/sim, hostile-4gib-flash). */
#define SIM_MAX_MEMORY (64u << 20)
#define SIM_MAX_TRANSFER 4096 /* dfu-util clamps to 4096 on Linux (protocol.md 1.5) */
#define SIM_STR_MAX 256

/* ---- profile (profile.c) ---- */
struct sim_kv {
	char *key;
	char *value;
};
struct sim_profile {
	char name[64];
	struct sim_kv *kv;
	size_t n, cap;
};
/* Every value of a repeatable key, in order; returns how many were found (up to max). */
size_t sim_profile_get_all(const struct sim_profile *p, const char *key, const char **out, size_t max);

/* ---- memories (mem.c) ---- */
enum sim_mem_kind {
	SIM_MEM_FLASH,   /* erasable sectors; programming clears bits */
	SIM_MEM_OB,      /* option bytes: written whole, applied at reset */
	SIM_MEM_OTP,     /* one-time programmable: clears bits, never erased */
	SIM_MEM_FEATURE, /* Device Feature (AN2606 Table 4): voltage range byte */
	SIM_MEM_RAM,     /* plain read/write */
	SIM_MEM_ROM,     /* system memory, UID, flash-size register: read only */
	SIM_MEM_HANG,    /* a read hangs the ROM (F7 DBGMCU, protocol.md 2.3) */
	SIM_MEM_EEPROM,  /* L0/L1 data EEPROM: written in place, kept across resets, erased by Read Unprotect */
};
struct sim_sector {
	uint32_t addr, size;
	uint8_t type; /* DFUSE_MEM_* bits */
};
struct sim_mem {
	enum sim_mem_kind kind;
	uint32_t base, size;
	uint8_t *data;
	struct sim_sector *sectors; /* flash, OTP: from the layout string */
	size_t nsectors;
	bool persist; /* saved in the state file */
	bool unlisted; /* option bytes no DFU alt offers (ob_unlisted): refused over DFU, served over USART */
};
/* Option-byte description, from the profile (family-neutral). */
struct sim_ob_desc {
	uint8_t *defaults;
	size_t size;
	int rdp_offset;           /* byte holding RDP: 0xAA level 0, 0xCC level 2, else 1 */
	int wrp_offsets[8];       /* bytes holding the nWRP bits, least significant first */
	int n_wrp_offsets;
	int wrp_bits;             /* how many bits are used */
	int wrp_sectors_per_bit;  /* F0: one bit guards 4 pages */
	bool wrp_active_high;     /* L0/L1: a WRP bit at 1 protects (RM0367, RM0038) */
	int wrp_complement;       /* bytes from each WRP byte to its stored complement (F7, L0/L1: 2), 0 none:
	                           * the flash interface writes both when the ROM changes them (AN3155 3.9) */
	/* L4/G0/G4/WB WRP areas: pages [start, end] of a bank are protected when start <= end */
	struct sim_wrp_area {
		uint32_t start_addr, end_addr; /* the bytes holding the start and end page numbers */
		uint8_t mask;
		uint32_t first_sector, pages;  /* the bank: flash sectors [first, first + pages) */
	} areas[4];
	int n_areas;
};

/* ---- device (device.c and friends) ---- */
enum sim_op {
	SIM_OP_NONE,
	SIM_OP_SET_ADDRESS,
	SIM_OP_ERASE,
	SIM_OP_MASS_ERASE,
	SIM_OP_UNPROTECT,
	SIM_OP_PROGRAM,
};

/* What a GETSTATUS gets while a flash operation runs (profile key busy_reply). */
enum sim_busy_reply {
	SIM_BUSY_REPLY_BUSY,  /* dfuDNBUSY at once with a fresh bwPollTimeout (an asynchronous device) */
	SIM_BUSY_REPLY_HOLD,  /* EP0 is blocked: the answer comes when the operation ends (F2/F4/F7) */
	SIM_BUSY_REPLY_STALL, /* the GETSTATUS STALLs, the state is kept (STM32L4) */
	SIM_BUSY_REPLY_STALL_ERROR, /* the GETSTATUS STALLs and leaves dfuERROR/errSTALLEDPKT (F072) */
	SIM_BUSY_REPLY_HOLD_FIRST,  /* the GETSTATUS that starts the operation is answered when it
	                             * ends, with dfuDNBUSY (H743, CubeProgrammer log) */
};

struct sim_timing {
	double scale;                /* profile `timing` */
	double t_prog_us;            /* one program operation of prog width bytes */
	int prog_width;              /* bytes per program operation when there is no Device Feature */
	uint32_t erase_size[8];      /* t_erase table: sector size -> ms per parallelism */
	double erase_ms[8][4];
	int n_erase;
	double mass_erase_ms[4];
	double ob_ms, reset_ms, unprotect_ms, set_address_ms;
	/* bwPollTimeout values the ROM reports, ms */
	uint32_t poll_erase, poll_mass_erase, poll_program, poll_set_address, poll_manifest,
		poll_unprotect, poll_ob;
	bool poll_repeat; /* the status after the busy one repeats bwPollTimeout (F0) or gives 0 (F4) */
	enum sim_busy_reply busy_reply;
	uint32_t max_dnload;      /* data DNLOADs longer than this fail at the next GETSTATUS (0: none) */
	uint32_t otp_unit;        /* OTP is programmed once per unit of this many bytes (0: bits only clear) */
	bool erase_wedge_enabled; /* H7 rev V: an erase at or above erase_wedge stays in dfuDNBUSY */
	bool ob_upload_any;       /* OB UPLOADs of any length are served (else exactly the block) */
	bool leave_at_dnload;     /* leave_status = none: the chip leaves on the leave DNLOAD, no status */
	bool leave_needs_address; /* a leave not right after a Set Address ends in dfuERROR (C071) */
	bool unprotect_idle;      /* READ_UNPROTECT's GETSTATUS says dfuDNLOAD-IDLE (AT32F415) */
	uint8_t string_cut_index, string_cut_bytes; /* that string is sent cut to so many bytes (F42x) */
	uint32_t erase_wedge;
};

struct sim_faults {
	uint64_t rng;
	double fault_rate;
	double clock_error_ppm;
	bool marginal;
	uint64_t stall_at, timeout_at, disconnect_at, unplug_at, corrupt_upload_at;
	bool fail_after; /* this request's STATUS stage fails after the device acted on it */
	uint64_t uploads;
	bool busy_stuck_enabled;
	uint32_t busy_stuck_after;
	bool stuck;       /* in the H7-style wedge: DNBUSY until two CLRSTATUS */
	int stuck_clears;
	double poll_lie;  /* reported = real * poll_lie (when > 0) */
	bool worn;        /* worn_sector: erases of that flash sector leave its bytes */
	uint32_t worn_sector;
	uint64_t erase_dnload_hold_ms; /* an erase command's DNLOAD is completed this late (0: at once) */
	double hse_hz, hsi_error_pct, detected_hse_hz;
};

struct sim_device {
	const struct clock *clock;
	char name[64];
	/* identity */
	uint16_t vid, pid, bcd_device, bcd_usb, transfer_size, detach_timeout;
	uint16_t dfu_version;
	uint8_t dfu_attributes, config_attributes, max_power_2ma;
	char manufacturer[SIM_STR_MAX], product[SIM_STR_MAX], serial[SIM_STR_MAX];
	bool serial_utf8; /* iSerial sent as raw UTF-8 bytes, not UTF-16LE (GD32VF103) */
	char alts[SIM_MAX_ALTS][SIM_STR_MAX];
	int nalts;
	/* memories */
	struct sim_mem mem[SIM_MAX_REGIONS];
	int nmem;
	int flash; /* index of the main flash (alt 0), -1 if none */
	int ob;    /* index of the option bytes, -1 if none */
	int feature;
	struct sim_ob_desc obd;
	uint8_t *ob_active; /* the option bytes loaded at the last reset: RDP and WRP in force */
	/* the flash's other organisation, chosen by an option bit at every reset (F76x nDBANK: RM0410
	 * 3.3.2): profile key bank_alt; alt 0's string, its sectors and the WRP bits follow it */
	struct sim_bank {
		bool on, active;
		int offset;
		uint8_t mask, value;
		int sectors_per_bit, home_spb;
		char alt[SIM_STR_MAX], home_alt[SIM_STR_MAX];
	} bank;
	uint32_t ram_lo, ram_hi; /* a plausible initial stack pointer lies here */
	uint32_t boot_ram_lo, boot_ram_hi; /* the ROM's own RAM (boot_ram): a write there hangs it */
	/* DFU state */
	enum dfu_state start_state, state;
	enum dfu_status start_status, status;
	int alt;
	uint8_t config;
	uint32_t pointer;
	bool pointer_set;
	uint32_t last_dl_addr;
	bool last_dl_set;
	/* the pending DNLOAD, executed at the next GETSTATUS (AN3156 5.1) */
	uint8_t *pending;
	uint16_t pending_len, pending_block;
	enum sim_op op;
	enum dfu_status op_result;
	bool op_reset;          /* the op ends in a reset (OB write, Read Unprotect) */
	uint64_t busy_until;
	uint64_t req_us;        /* device time at which the current request is handled */
	uint64_t ep0_free_at;   /* EP0 is blocked (busy_reply hold) until then */
	uint64_t answer_at;     /* when the last answer is complete on the bus */
	bool oversize_dnload;   /* the pending data block was longer than max_dnload */
	bool last_was_set_address; /* the last DNLOAD was a Set Address command that succeeded */
	bool hold_answer;       /* hold_first: this GETSTATUS is answered when the operation ends */
	bool prog_error;        /* a misaligned flash program failed: every later one fails until a reset
	                         * (AN2606 "programming constraints") */
	uint32_t poll_reported; /* bwPollTimeout of the running op */
	bool hung;
	/* link */
	enum sim_link link;
	uint64_t reconnect_at;
	struct sim_timing t;
	struct sim_faults f;
	struct sim_stats stats;
};

/* profile.c */
/* Every key the profile parser accepts (docs/profiles.md; docs/rom-quirks.md is checked against it). */
const char *const *sim_profile_known_keys(size_t *n);
int sim_dev_configure(struct sim_device *d, const struct sim_profile *p, char *errbuf, size_t errlen);
bool sim_parse_u32(const char *s, uint32_t *out);
bool sim_parse_double(const char *s, double *out);
/* Parses hex bytes ("AA 55 ff00..."); returns the count or -1. */
int sim_parse_hex(const char *s, uint8_t *out, size_t cap);

/* mem.c */
struct sim_mem *sim_mem_find(struct sim_device *d, uint32_t addr);
const struct sim_mem *sim_mem_find_c(const struct sim_device *d, uint32_t addr);
/* The range lies inside one memory (OB reads may run past its end, see rom.c). */
struct sim_mem *sim_mem_range(struct sim_device *d, uint32_t addr, uint32_t len);
struct sim_mem *sim_mem_add(struct sim_device *d, enum sim_mem_kind kind, uint32_t base, uint32_t size,
			    uint8_t fill);
int sim_layout_parse(struct sim_device *d, const char *alt, char *errbuf, size_t errlen);
int sim_rdp_level(const struct sim_device *d);
/* After a reset: RDP level 2 leaves no bootloader, so the link goes (and stays) GONE; true then. */
bool sim_rdp2_gone(struct sim_device *d);
bool sim_sector_protected(const struct sim_device *d, size_t sector);
const struct sim_sector *sim_sector_at(const struct sim_device *d, uint32_t addr, size_t *index);
/* Flash physics: programming ANDs (bits only clear), WRP sectors ignore writes silently. */
void sim_flash_program(struct sim_device *d, struct sim_mem *m, uint32_t addr, const uint8_t *buf,
		       uint32_t len);
/* The flash sectored as the layout string says (the same base and size as now); -1 when it is not. */
int sim_flash_resector(struct sim_device *d, const char *alt);
/* Alt 0 and the flash's sectors as the option bytes in force select them (bank_alt). */
void sim_bank_apply(struct sim_device *d);
void sim_flash_erase_sector(struct sim_device *d, size_t sector, bool ignore_wrp);
void sim_flash_mass_erase(struct sim_device *d, bool ignore_wrp);
void sim_ob_reload(struct sim_device *d);
int sim_prog_width(const struct sim_device *d);

/* timing.c */
uint64_t sim_scaled_us(const struct sim_device *d, double ms);
uint32_t sim_scaled_poll(const struct sim_device *d, uint32_t ms);
double sim_erase_ms(const struct sim_device *d, uint32_t sector_size);
double sim_mass_erase_ms(const struct sim_device *d);
double sim_program_ms(const struct sim_device *d, uint32_t len);

/* desc.c */
enum sim_result sim_std_request(struct sim_device *d, const struct usb_setup *s, uint8_t *data,
				uint16_t *actual);
size_t sim_string_desc(const struct sim_device *d, uint8_t index, uint8_t *buf, size_t cap);
size_t sim_config_desc(const struct sim_device *d, uint8_t *buf, size_t cap);
size_t sim_device_desc(const struct sim_device *d, uint8_t *buf, size_t cap);

/* rom.c */
enum sim_result sim_dfu_request(struct sim_device *d, const struct usb_setup *s, uint8_t *data,
				uint16_t *actual);
void sim_rom_reset(struct sim_device *d);
/* Tests: puts the machine in a state as if it had got there (DNLOAD-SYNC holds a Set Address). */
void sim_test_force_state(struct sim_device *d, enum dfu_state state, enum dfu_status status);

/* faults.c */
int sim_faults_configure(struct sim_device *d, const struct sim_profile *p, char *errbuf, size_t errlen);
/* Called before each transfer: a fault to inject, or SIM_OK to go on. */
enum sim_result sim_faults_before(struct sim_device *d, const struct usb_setup *s);
void sim_faults_after_upload(struct sim_device *d, uint8_t *data, uint16_t len);
uint64_t sim_rand(struct sim_device *d);
/* The HSE frequency the ROM believes (protocol.md 4.2), Hz, rounded to MHz. */
double sim_detect_hse(double hse_hz, double hsi_error_pct);

#endif
