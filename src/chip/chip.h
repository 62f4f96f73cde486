/*
 * chip: STM32 knowledge as data. Family table, identification over DFU, and the ROM's serial rule.
 * Pure functions, no I/O: ops/ reads the bytes (UID, flash-size register, bootloader-ID byte, option
 * bytes) and hands them in. Sources use the short names of shared/reference/protocol.md.
 *
 * The option-byte engine is in ob.h, the serial rules in serial.h.
 */
#ifndef CHIP_CHIP_H
#define CHIP_CHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ob_layout;

/* A run of equal sectors/pages: count x size bytes. */
struct chip_sector_run {
	uint16_t count;
	uint32_t size;
};

/* How the ROM builds the USB iSerial (protocol.md §5.2). */
enum chip_serial_rule {
	CHIP_SERIAL_RULE_HAL,          /* hex8(UID0+UID2) + hex4(UID1>>16): F2/F4/F7/U5 (and likely L4/G/WB) */
	CHIP_SERIAL_RULE_F3,           /* hex8(UID0+UID2) + hex4(UID2>>16): F3 (and F0, see quirks) */
	CHIP_SERIAL_RULE_CONST_STM32,  /* the constant "STM32": F1 connectivity line */
	CHIP_SERIAL_RULE_NOT_UID,      /* not derived from the UID: H7 */
};

/* Quirk bits of a family (each explained in chip_family.quirk_text). */
enum {
	CHIP_Q_DBGMCU_HANGS = 1u << 0,      /* UPLOAD of DBGMCU_IDCODE hangs the ROM (F7, §2.3) */
	CHIP_Q_SERIAL_FXSTM32 = 1u << 1,    /* ROM may report the constant STM32FxSTM32 */
	CHIP_Q_SERIAL_F0_FFFF = 1u << 2,    /* ROM reports FFFFFFFEFFFF */
	CHIP_Q_SERIAL_PLUS_0A = 1u << 3,    /* F76x: low byte of UID0+UID2 is 0x0A larger */
	CHIP_Q_SERIAL_00000008 = 1u << 4,   /* some F7/H7 ROMs report 00000008FFFF */
	CHIP_Q_LAYOUT_OVERSTATES = 1u << 5, /* the layout string shows the die's flash, not the part's */
	CHIP_Q_ALTS_ALL_SAME = 1u << 6,     /* all alt settings advertise the flash string (G0) */
	CHIP_Q_OB_SIZE_DIFFERS = 1u << 7,   /* CubeProgrammer reads a different OB size than the alt string */
	CHIP_Q_SERIAL_RANDOM = 1u << 8,     /* serial changes every power cycle (L496) */
	CHIP_Q_OB_RESET = 1u << 9,          /* the ROM resets after an OB write (AN3156 §5.1) */
	CHIP_Q_EARLY_STATUS_STALLS = 1u << 10, /* a GETSTATUS before bwPollTimeout is STALLed (F072) */
};

struct chip_family {
	const char *id;                /* short id: "F74x" */
	const char *name;              /* "STM32F74x/F75x" */
	uint16_t dev_ids[6];           /* DBGMCU DEV_ID values, 0-terminated */
	uint32_t flash_base;           /* 0x08000000 */
	const struct chip_sector_run *sectors; /* sector map of the largest part, or NULL: take it from the layout */
	size_t n_sector_runs;
	uint32_t uid_addr;             /* UID0; UID1 at +4 */
	uint8_t uid_word2_offset;      /* UID2 offset: 8, or 0x14 on L0/L1 */
	uint32_t flash_size_addr;      /* 16-bit register, in KiB */
	uint32_t bootloader_id_addr;   /* AN2606 Table 3 bootloader-ID byte, 0 when unknown */
	bool bootloader_id_confirmed;  /* false: address from memory of AN2606, UNCONFIRMED */
	uint8_t bootloader_ids[4];     /* known ID byte values, 0-terminated */
	uint32_t ob_addr;              /* option-byte block as the DFU ROM exposes it, 0 if none known */
	uint16_t ob_size;              /* bytes in the DFU OB block (alt string), 0 if unknown */
	const struct ob_layout *ob;    /* decoder table, or NULL */
	enum chip_serial_rule serial_rule;
	uint16_t write_align;          /* DNLOAD size/address alignment the ROM requires (bytes) */
	uint32_t boot_ram_end;         /* RAM from 0x20000000 up to here is the bootloader's own (not written), 0 unknown */
	uint32_t quirks;               /* CHIP_Q_* */
	const char *quirk_text;        /* one line per quirk, or NULL */
	const char *source;            /* where the row comes from */
};

/* The whole table (terminated by a row with id == NULL) and its length. */
extern const struct chip_family chip_families[];
size_t chip_family_count(void);

/* Case-insensitive lookup by id ("f74x"); NULL if unknown. */
const struct chip_family *chip_family_by_id(const char *id);
/* Lookup by DEV_ID (0x449); NULL if unknown. */
const struct chip_family *chip_family_by_dev_id(uint16_t dev_id);
/* Total bytes of the family's static sector map, 0 when the map comes from the layout. */
uint32_t chip_family_flash_bytes(const struct chip_family *fam);
/* The sector index holding flash offset off (from flash_base), or -1 (no static map, or outside). */
int chip_family_sector_of(const struct chip_family *fam, uint32_t off);

/* ---- identification over DFU (never reads DBGMCU, which hangs the F7 ROM) ---- */

#define CHIP_MAX_ALTS 8

struct chip_evidence {
	const char *alt_names[CHIP_MAX_ALTS]; /* raw iInterface strings ("@Internal Flash  /0x0800..."), may be NULL */
	size_t n_alts;
	bool has_vid;
	uint16_t vid;                /* idVendor: a vendor other than ST (0x0483) is never an STM32 */
	const char *product;         /* iProduct, optional */
	const char *usb_serial;      /* iSerial, optional (helps tell F0 from F3, F1 from F3) */
	bool has_bcd_device;
	uint16_t bcd_device;         /* 0x2200 on F2/F4/F7/L4, 0x0200 on H7/G0/G4 */
	bool has_bootloader_id;
	uint8_t bootloader_id;       /* byte read at the candidate's bootloader_id_addr */
	bool has_flash_size;
	uint16_t flash_size_kb;      /* raw flash-size register */
	bool has_uid;
	uint8_t uid[12];             /* UID bytes as read from memory (little-endian words) */
};

enum chip_confidence {
	CHIP_CONF_NONE,    /* nothing matched */
	CHIP_CONF_GUESS,   /* several families fit; the first is shown */
	CHIP_CONF_LIKELY,  /* one family fits the layout strings */
	CHIP_CONF_CERTAIN, /* layout plus a confirming bootloader-ID byte or flash-size register */
};

enum chip_size_source { CHIP_SIZE_UNKNOWN, CHIP_SIZE_REGISTER, CHIP_SIZE_LAYOUT };

struct chip_identity {
	const struct chip_family *family;  /* NULL if nothing matched */
	const struct chip_family *alternatives[4]; /* other candidates, NULL-terminated */
	enum chip_confidence confidence;
	char reason[256];                  /* one line: the evidence used */
	uint32_t flash_size;               /* bytes */
	enum chip_size_source flash_size_source;
	uint32_t layout_flash_size;        /* total of the flash alt's sectors, 0 if none */
	bool has_bootloader_version;
	char bootloader_version[8];        /* "V9.0" */
};

/* Fills out from ev. Returns 0, or STM32DFU_E_UNSUPPORTED when nothing matched (out still filled). */
int chip_identify(const struct chip_evidence *ev, struct chip_identity *out);
const char *chip_confidence_name(enum chip_confidence c);
/* "V9.0" for 0x90; buf of at least 8 bytes. */
void chip_bootloader_version(uint8_t id, char *buf, size_t len);

/*
 * A light parse of one layout string: the first zone's address, total size and sector runs.
 * Only for identification; dfu/layout.c is the full parser. Returns false if malformed.
 */
struct chip_zone {
	uint32_t addr;
	uint32_t total;
	struct chip_sector_run runs[8];
	size_t n_runs;
};
struct chip_alt_info {
	char name[32];        /* trimmed name ("Internal Flash") */
	struct chip_zone zones[2];
	size_t n_zones;
};
bool chip_parse_alt(const char *s, struct chip_alt_info *out);

/* The family's typical mass-erase time at the ROM's default parallelism (ms), 0 when unknown
 * (chip/timing.c cites each value). For progress. */
unsigned chip_mass_erase_typ_ms(const struct chip_family *f);
/* Typical erase times (ms) at program width `width` bytes (1: x8, the ROM's default; 2: x16;
 * 4: x32): the whole flash's mass erase, and one sector or page of `size` bytes. 0 when the
 * family's datasheet figure is not in the table (chip/timing.c, each row citing its source). */
unsigned chip_mass_erase_ms_at(const struct chip_family *f, unsigned width);
unsigned chip_sector_erase_ms_at(const struct chip_family *f, uint32_t size, unsigned width);
/* The datasheet the family's erase times come from, or NULL. */
const char *chip_erase_times_source(const struct chip_family *f);

/* ---- memories by device ID (memmap.c): what a bootloader without alt strings (AN3155) cannot say ---- */

struct chip_memmap {
	const char *family;           /* chip_family id */
	uint16_t dev_id;              /* this ID only; 0: the family's other IDs */
	uint32_t page_size;           /* uniform pages (families without a sector table), 0 unknown */
	/* the dual-bank organisation an option bit selects (dual_field == dual_value): one bank's
	 * runs (two equal banks), or another page size */
	const struct chip_sector_run *dual_runs;
	size_t n_dual_runs;
	uint32_t dual_page_size;
	const char *dual_field;       /* the option-byte field (ob.h names: "nDBANK", "DBANK"), or NULL */
	uint32_t dual_value;
	uint32_t otp_addr;            /* OTP data, 0 none or unknown */
	uint16_t otp_size, otp_lock;  /* data bytes; lock bytes right after them */
	uint32_t sysmem_addr, sysmem_size; /* system memory (the ROM), 0 unknown */
	uint32_t ob2_addr, ob2_size;  /* a second option-byte zone after the family's ob_addr block (G4
	                               * category 3: bank 2's), 0 none */
	uint32_t ram_addr, ram_size;  /* SRAM from ram_addr (the part's, when the ID tells it), 0 unknown */
	uint32_t ram_boot_end;        /* SRAM below this is the ROM bootloader's own (not offered); 0: the
	                               * family's boot_ram_end */
	uint32_t ram_rom_end;         /* the USART ROM serves SRAM up to here (AN2606's device table, which
	                               * may stop below the SRAM's end: WB, L43x, G0B1); 0: the SRAM's end */
	const char *source;
};

/* The row for this family and device ID (an ID's own row, else the family's), or NULL. */
const struct chip_memmap *chip_memmap_of(const struct chip_family *f, uint16_t dev_id);

/* The flash's sectors/pages for a part with flash_bytes (0: the family's largest), in the single-
 * or dual-bank organisation: up to cap runs into runs, returns how many (0: unknown). */
size_t chip_flash_map(const struct chip_family *f, uint16_t dev_id, uint32_t flash_bytes, bool dual,
                      struct chip_sector_run *runs, size_t cap);

/* Whether the option-byte block (as read at ob_addr) selects the dual-bank organisation: 1, 0
 * (also when the family has no choice), -1 when the block does not tell. */
int chip_ob_dual_bank(const struct chip_family *f, uint16_t dev_id, const uint8_t *ob, size_t len);

/* The ROM's USART bootloader pins for the family (AN2606; docs/usart.md grades them): "USART1 TX
 * PA9, RX PA10; ..." with the first one first, or NULL when the table has no row. */
const char *chip_usart_pins(const struct chip_family *f);

#endif
