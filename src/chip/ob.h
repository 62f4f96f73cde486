/*
 * Option bytes: one table-driven engine plus per-family field tables (ob_tables_f.c, ob_tables_lgh.c).
 * A "block" is the OB area exactly as the DFU ROM exposes it on the OB alt setting (e.g. F74x: 32 bytes
 * at 0x1FFF0000). Fields are read from "words": each word has a value and, on most families, a stored
 * bitwise complement that the decoder checks and reports (never hides), and that ob_set rebuilds.
 */
#ifndef CHIP_OB_H
#define CHIP_OB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chip/chip.h"
#include "core/err.h"

/* Where a word's complement lives. */
enum ob_cpl {
	OB_CPL_NONE,    /* no complement (H7 registers; F4, see ob_tables_f.c) */
	OB_CPL_HIGH16,  /* 32-bit LE word: value in bits 15:0, ~value in bits 31:16 (F7) */
	OB_CPL_NEXT32,  /* 32-bit LE value, ~value in the next 32-bit word (L4, G0, G4) */
	OB_CPL_BYTE,    /* one byte, ~byte in the next byte (F0, F1, F3) */
};

struct ob_word {
	const char *name;    /* "OPTCR[15:0]", "OPTR" */
	uint16_t offset;     /* byte offset in the block */
	uint8_t bits;        /* value width: 8, 16 or 32 */
	enum ob_cpl cpl;
	uint32_t def;        /* factory value of the whole word (reserved bits included) */
};

/* What a field means to the guards and to the value parser. */
enum ob_kind {
	OB_K_PLAIN,
	OB_K_RDP,            /* 8-bit read protection: level0 value, 0xCC = level 2, else level 1 */
	OB_K_NWRP,           /* mask, bit i = 0: sector/group i write-protected */
	OB_K_WRP_START,      /* L4/G0/G4 WRP area start page; paired with the next field (end) */
	OB_K_WRP_END,
	OB_K_BOOT_ADDR_F7,   /* BOOT_ADDx = address[29:14] */
	OB_K_BOOT_ADDR_H7,   /* BOOT_ADDx = address[31:16] */
	OB_K_SWBOOT_0OPT,    /* nSWBOOT0 (L4/G4), BOOT_SEL (F0): 0 = BOOT0 from the nBOOT0 option bit */
	OB_K_SWBOOT_1OPT,    /* nBOOT_SEL (G0): 1 = BOOT0 from the nBOOT0 option bit */
	OB_K_NBOOT0,         /* nBOOT0 option bit */
	OB_K_NBOOT1,
	OB_K_NDBOOT,         /* F76x dual boot */
	OB_K_NDBANK,
	OB_K_BOOT_ADDR_U5,   /* NSBOOTADDx = address[31:7] */
	OB_K_DATA,           /* a user data byte the chip does not use (F0/F1/F3 Data0/Data1) */
	OB_K_PCROP_START,    /* PCROP area first unit, offset from the flash start in `unit` bytes; paired */
	OB_K_PCROP_END,      /* with the next field (last unit, inclusive); no area when start > end */
	OB_K_COUNT,          /* a count: the meaning is desc with the number */
};

struct ob_value_name {
	uint32_t value;
	const char *name;     /* symbolic value accepted by ob_set ("off", "sysmem"); NULL = none */
	const char *meaning;
};

enum ob_danger { OB_SAFE, OB_CAUTION, OB_DANGER };

struct ob_field {
	const char *name;     /* as CubeProgrammer / the RM name it */
	uint8_t word;         /* index into the layout's words */
	uint8_t shift, width;
	uint32_t def;         /* factory default */
	enum ob_kind kind;
	enum ob_danger danger;
	const char *desc;
	const struct ob_value_name *values; /* terminated by .meaning == NULL; may be NULL */
	const char *only;     /* family ids (space-separated) where the field exists; NULL = every family
	                       * of the layout (ob_field_on_part) */
	uint16_t wrp_group1;  /* write-protection group field: its first group index + 1 (0 = not one);
	                       * with the layout's wrp_bit_bytes it tells whether the part has that flash */
	uint16_t unit;        /* OB_K_PCROP_*: bytes one step of the offset stands for */
};

struct ob_layout {
	const char *id;              /* "F74x" */
	uint32_t address;            /* DFU OB address */
	uint16_t size;               /* full block size */
	uint16_t min_size;           /* a shorter block (first zone) still decodes what it covers */
	uint8_t rdp_level0;          /* 0xAA, or 0xA5 on F1 */
	bool has_rdp2;               /* 0xCC = level 2 exists */
	bool writable;               /* ob_set supported */
	uint8_t fill;                /* byte for gaps in a built default block */
	const struct ob_word *words;
	size_t n_words;
	const struct ob_field *fields;
	size_t n_fields;
	const char *source;
	const char *note;            /* what is UNCONFIRMED, or NULL */
	uint32_t wrp_bit_bytes;      /* flash bytes one write-protection bit guards (F0/F1/F3, L0/L1: 4 KiB) */
	bool wrp_active_high;        /* L0/L1: a WRP bit of 1 protects */
};

extern const struct ob_layout ob_layout_f0f3, ob_layout_f1, ob_layout_f4, ob_layout_f72x,
	ob_layout_f74x, ob_layout_f76x, ob_layout_l4, ob_layout_g0, ob_layout_g4, ob_layout_h7;
extern const struct ob_layout ob_layout_l0, ob_layout_l1, ob_layout_wb, ob_layout_u5;

#define OB_MAX_FIELDS 48
#define OB_MAX_WORDS 16

struct ob_field_value {
	const struct ob_field *field;
	bool present;          /* false when the block is too short to hold the field */
	uint32_t value;
	bool is_default;
	char meaning[96];
	bool absent;           /* the field does not exist on the identified part (ob_mark_part) */
	char absent_why[96];
};

struct ob_word_check {
	const struct ob_word *word;
	bool present;
	bool has_cpl;
	uint32_t value, complement;
	bool ok;               /* complement matches (true when the word has none) */
};

struct ob_decoded {
	const struct ob_layout *layout;
	size_t n_fields;
	struct ob_field_value fields[OB_MAX_FIELDS];
	size_t n_words;
	struct ob_word_check words[OB_MAX_WORDS];
	unsigned complement_errors;  /* words whose complement does not match */
	bool short_block;            /* len < layout size: some fields absent */
	int rdp_level;               /* 0, 1, 2, or -1 if no RDP field present */
};

/* Decodes block (len bytes). Returns 0, or STM32DFU_E_UNSUPPORTED (no layout) / E_RANGE (len < min). */
int ob_decode(const struct chip_family *fam, const uint8_t *block, size_t len, struct ob_decoded *out,
	      struct err *e);
/* Writes the family's factory-default block (layout size bytes) to out (cap bytes). */
int ob_default_block(const struct chip_family *fam, uint8_t *out, size_t cap, size_t *out_len);
/* Copies old to out and stores value into the named field, recomputing every complement. */
int ob_encode_field(const struct chip_family *fam, uint8_t *block, size_t len, const struct ob_field *f,
		    uint32_t value, struct err *e);
/* Rewrites every complement of block from its value (ob_set does this for the new block). */
void ob_fix_complements(const struct ob_layout *l, uint8_t *block, size_t len);

/*
 * Parses "FIELD=VALUE" assignments, validates each (name, width; a number is always the raw field value,
 * decimal or hex; named values are words: RDP=level0/level1/level2, BOR_LEV=off/level1/level2/level3,
 * BOOT_ADD0=flash|sysmem|0x2000|0x08000000, nWRP3=0 for one bit), and builds the
 * new block with complements from old. out may equal old. Errors: E_USAGE (bad name/value, with hint),
 * E_UNSUPPORTED (family decode-only).
 */
int ob_set(const struct chip_family *fam, const uint8_t *old, size_t len, const char *const *assigns,
	   size_t n_assigns, uint8_t *out, struct err *e);
/* 0 when this tool writes the family's option bytes; else E_UNSUPPORTED with the reason. The one
 * rule for `ob set` and for a raw block written with `write --alt` (issue 22 item 8). */
int ob_write_supported(const struct chip_family *fam, struct err *e);
/* The word ob_set accepts for a named value ("off", "sysmem", "level2" for a table's "2"), in buf
 * if it must be built; NULL when the value has no name. */
const char *ob_value_word(const struct ob_value_name *n, char *buf, size_t cap);
/* RDP=level1 writes this byte (HAL OB_RDP_LEVEL_1, protocol.md §7.1). */
#define OB_RDP_LEVEL1_BYTE 0x55u
/* One word ob_set accepts for a field, the raw value it stands for, and that value in words. */
struct ob_named {
	char word[32];
	uint32_t value;
	char meaning[96];
};
/* The named values of f, in the order 'ob show' lists them (RDP: level0, level1 and, where the
 * family has it, level2; then the table's words); at most cap. Returns how many. */
size_t ob_named_values(const struct ob_layout *l, const struct ob_field *f, struct ob_named *out, size_t cap);
/* Looks up a field by name (case-insensitive), NULL if none. */
const struct ob_field *ob_field_by_name(const struct ob_layout *l, const char *name);

struct ob_change {
	const struct ob_field *field;
	uint32_t old_value, new_value;
};
struct ob_diff {
	size_t n;
	struct ob_change changes[OB_MAX_FIELDS];
	unsigned complements_repaired;  /* words whose complement was wrong in old and right in new */
};
void ob_diff(const struct chip_family *fam, const uint8_t *old, const uint8_t *new_block, size_t len,
	     struct ob_diff *out);

/* Confirmation flags: each names the risk. */
enum {
	OB_CONFIRM_RDP2 = 1u << 0,          /* level 2 is permanent */
	OB_CONFIRM_RDP1 = 1u << 1,          /* reads need Read Unprotect, which mass-erases */
	OB_CONFIRM_WRP_BOOT = 1u << 2,      /* write-protects the sector the reset vector lives in */
	OB_CONFIRM_NO_BOOTLOADER = 1u << 3, /* no BOOT pin / option path back into the ROM */
	OB_CONFIRM_RDP_REGRESSION = 1u << 4,/* level 1 -> 0 mass-erases the flash */
};
/* The command-line flag for one OB_CONFIRM_* bit ("--i-understand-rdp2-is-permanent"). */
const char *ob_confirm_flag(unsigned flag);
/*
 * Which confirmations going from old to new needs (*required, may be NULL). If any is missing from
 * given: STM32DFU_E_NEEDS_CONFIRMATION with a message naming the risk and the flag; else 0.
 */
int ob_guard(const struct chip_family *fam, const uint8_t *old, const uint8_t *new_block, size_t len,
	     unsigned given, unsigned *required, struct err *e);

/*
 * Fields that do not exist on the identified part (ob_part.c): a field of a shared layout that
 * only some families have (F4: BFB2/DB1M on F42x/F43x), or a write-protection group beyond the
 * part's flash (F0 32 KiB: WRP1..WRP3). flash_size in bytes, 0 = unknown (no group check).
 */
bool ob_field_on_part(const struct chip_family *fam, const struct ob_field *f, uint32_t flash_size, char *why,
		      size_t len);
/* Sets absent/absent_why of every decoded field. */
void ob_mark_part(const struct chip_family *fam, uint32_t flash_size, struct ob_decoded *d);
/* E_USAGE naming the first FIELD=VALUE whose field does not exist on the part; else 0. */
int ob_check_part(const struct chip_family *fam, uint32_t flash_size, const char *const *assigns, size_t n,
		  struct err *e);

/*
 * Whether the block write-protects flash sector idx, [start, start+size) as the DFU layout counts
 * sectors (pages on L4/G0/G4/WB/U5): 1 protected, 0 not, -1 the block cannot tell (no table, a
 * short block, a bank the table does not decode). When protected, clear (cap bytes, may be NULL)
 * gets the 'stm32dfu ob set' assignment(s) that lift it ("nWRP2=1"). ob_wrp.c.
 */
/* The same, knowing the index of bank 2's first sector (G4 WRP2 areas count pages from there; 0:
 * not known, then an active bank-2 area makes the answer -1). */
int ob_sector_wrp_banked(const struct chip_family *fam, const uint8_t *block, size_t len, unsigned idx,
                         uint32_t start, uint32_t size, unsigned bank2_first, char *clear, size_t cap);
int ob_sector_write_protected(const struct chip_family *fam, const uint8_t *block, size_t len, unsigned idx,
                              uint32_t start, uint32_t size, char *clear, size_t cap);

/* Read protection level of a block (0/1/2), -1 if the family has no RDP field. */
int ob_rdp_level(const struct ob_layout *l, uint32_t rdp);
/* The address a BOOT_ADDx field value selects (F7: 16 KiB units, U5: 128 bytes, H7: 64 KiB). */
uint32_t ob_boot_address(const struct ob_field *f, uint32_t v);

#endif
