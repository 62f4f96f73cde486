/*
 * The family table. One row per ROM-bootloader family (AN2606 naming). Each row cites its source;
 * anything not confirmed from a primary source or a real capture says UNCONFIRMED.
 * Sector maps are those of the largest part of the line: always bound writes with the flash-size
 * register (protocol.md §2.8: layout strings overstate the flash).
 */
#include "chip/chip.h"

#include <strings.h>

#include "chip/ob.h"

#define RUNS(a) (a), (sizeof(a) / sizeof((a)[0]))

/* F2/F40x/F41x, 1 MB die: 04*016Kg,01*064Kg,07*128Kg (data/dfu-list/platformio-ststm32-118_...) */
static const struct chip_sector_run map_f4_1m[] = {{4, 16384}, {1, 65536}, {7, 131072}};
/* F401/F411/F446, 512 KB: 04*016Kg,01*064Kg,03*128Kg (data/dfu-list/dhylands-G30HDR_F401CE_...) */
static const struct chip_sector_run map_f4_512k[] = {{4, 16384}, {1, 65536}, {3, 131072}};
/* F42x/F43x 2 MB dual bank: two 1 MB banks of the F40x map (RM0090 §3.3 Table 6) */
static const struct chip_sector_run map_f42x[] = {{4, 16384}, {1, 65536}, {7, 131072},
						  {4, 16384}, {1, 65536}, {7, 131072}};
/* F74x/F75x: 04*032Kg,01*128Kg,03*256Kg (protocol.md §3.2, §3.3) */
static const struct chip_sector_run map_f74x[] = {{4, 32768}, {1, 131072}, {3, 262144}};
/* F72x/F73x: 04*016Kg,01*64Kg,03*128Kg (protocol.md §3.2, real dfu-util -l) */
static const struct chip_sector_run map_f72x[] = {{4, 16384}, {1, 65536}, {3, 131072}};
/* F76x/F77x single bank: 04*032Kg,01*128Kg,07*256Kg (protocol.md §3.2, mboot; ROM string UNCONFIRMED) */
static const struct chip_sector_run map_f76x[] = {{4, 32768}, {1, 131072}, {7, 262144}};
/* H74x/H75x: 16*128Kg over two banks (data/dfu-list/nuttx-weact-stm32h750_...) */
static const struct chip_sector_run map_h74x[] = {{16, 131072}};

static const char q_f7[] =
	"UPLOAD of DBGMCU_IDCODE (0xE0042000) hangs the ROM: identify from layout, bootloader ID, UID (§2.3).\n"
	"Some units report the serial 00000008FFFF regardless of the UID (§5.2).\n"
	"The ROM resets after an option-byte write (AN3156 §5.1).";

const struct chip_family chip_families[] = {
	{.id = "F0", .name = "STM32F0x0/F0x2/F0x8", .dev_ids = {0x440, 0x442, 0x444, 0x445, 0x448},
	 .flash_base = 0x08000000, .uid_addr = 0x1FFFF7AC, .uid_word2_offset = 8,
	 .flash_size_addr = 0x1FFFF7CC, .ob_addr = 0x1FFFF800, .ob_size = 16, .ob = &ob_layout_f0f3,
	 .serial_rule = CHIP_SERIAL_RULE_F3, .write_align = 2,
	 .quirks = CHIP_Q_SERIAL_F0_FFFF | CHIP_Q_OB_RESET | CHIP_Q_EARLY_STATUS_STALLS,
	 .quirk_text = "ROM serial is the constant FFFFFFFEFFFF (F3 rule over all-0xFF words; §5.2).\n"
		       "A GETSTATUS sent before bwPollTimeout has passed is STALLed (F072, openmv #1508): "
		       "every poll is waited.",
	 .source = "protocol.md §3.2 (F0 32K alt strings), §5.2; UID/flash-size: libopencm3 memorymap.h; "
		   "OB: RM0091 §4 (byte + complement pairs); dev IDs: AN2606 (UNCONFIRMED list)"},
	{.id = "C0", .name = "STM32C0", .dev_ids = {0x443, 0x453, 0x493},
	 .flash_base = 0x08000000, .uid_addr = 0x1FFF7550, .uid_word2_offset = 8, .flash_size_addr = 0x1FFF75A0,
	 .serial_rule = CHIP_SERIAL_RULE_HAL, .write_align = 8,
	 .quirk_text = "Over DFU the ROM's strings are not told from a G0's (no C0 listing is known): "
		       "the device ID (USART) names it.",
	 .source = "RM0490; C011 0x443, C031 0x453, UID 0x1FFF7550, flash size 0x1FFF75A0 as the psdb debugger "
		   "reads them (github.com/tgree/psdb stm32c0.py); C071 0x493 as recalled: UNCONFIRMED; "
		   "option bytes not decoded"},
	{.id = "F1", .name = "STM32F105/F107 (connectivity line)", .dev_ids = {0x418},
	 .flash_base = 0x08000000, .uid_addr = 0x1FFFF7E8, .uid_word2_offset = 8,
	 .flash_size_addr = 0x1FFFF7E0, .ob_addr = 0x1FFFF800, .ob_size = 16, .ob = &ob_layout_f1,
	 .serial_rule = CHIP_SERIAL_RULE_CONST_STM32, .write_align = 2,
	 .quirk_text = "ROM serial is the constant STM32; the UID is not used (locm3 #760).",
	 .source = "data/dfu-list/flashfloppy-462_F105-...; protocol.md §5.2; OB: RM0008 §2.5 (PM0075)"},
	{.id = "F2", .name = "STM32F20x/F21x", .dev_ids = {0x411},
	 .flash_base = 0x08000000, .sectors = RUNS(map_f4_1m), .uid_addr = 0x1FFF7A10, .uid_word2_offset = 8,
	 .flash_size_addr = 0x1FFF7A22, .bootloader_id_addr = 0x1FFF77DE, .bootloader_ids = {0x20, 0x33},
	 .ob_addr = 0x1FFFC000, .ob_size = 16, .ob = &ob_layout_f4,
	 .serial_rule = CHIP_SERIAL_RULE_HAL, .write_align = 1, .quirks = CHIP_Q_OB_RESET,
	 .source = "protocol.md §3.2 (F2 alt strings UNCONFIRMED, F4 structure), §5.2 (locm3 #760: F2 rule); "
		   "bootloader ID address/values from AN2606 Table 3, UNCONFIRMED"},
	{.id = "F3", .name = "STM32F30x/F37x/F3x4", .dev_ids = {0x422, 0x432, 0x438, 0x439, 0x446},
	 .flash_base = 0x08000000, .uid_addr = 0x1FFFF7AC, .uid_word2_offset = 8,
	 .flash_size_addr = 0x1FFFF7CC, .ob_addr = 0x1FFFF800, .ob_size = 16, .ob = &ob_layout_f0f3,
	 .serial_rule = CHIP_SERIAL_RULE_F3, .write_align = 2, .quirks = CHIP_Q_OB_RESET,
	 .source = "protocol.md §3.2 (F303 128*0002Kg, betaflight), §5.2 (locm3 #760: F3 rule, BMP); "
		   "OB: RM0316 §4.1, RM0313 Table 9"},
	{.id = "F40x", .name = "STM32F405/F407/F415/F417", .dev_ids = {0x413},
	 .flash_base = 0x08000000, .sectors = RUNS(map_f4_1m), .uid_addr = 0x1FFF7A10, .uid_word2_offset = 8,
	 .flash_size_addr = 0x1FFF7A22, .bootloader_id_addr = 0x1FFF77DE, .bootloader_ids = {0x31, 0x90},
	 .ob_addr = 0x1FFFC000, .ob_size = 16, .ob = &ob_layout_f4,
	 .serial_rule = CHIP_SERIAL_RULE_HAL, .write_align = 1,
	 .quirks = CHIP_Q_LAYOUT_OVERSTATES | CHIP_Q_OB_RESET,
	 .quirk_text = "512 KB parts advertise the 1 MB layout (F407VE; §2.8).",
	 .source = "data/dfu-list/platformio-ststm32-118_F407VE-...; data/cubeprog/fome-322_F407-0x413_...; "
		   "§5.2; bootloader ID from AN2606 Table 3, UNCONFIRMED"},
	{.id = "F42x", .name = "STM32F427/F429/F437/F439", .dev_ids = {0x419},
	 .flash_base = 0x08000000, .sectors = RUNS(map_f42x), .uid_addr = 0x1FFF7A10, .uid_word2_offset = 8,
	 .flash_size_addr = 0x1FFF7A22, .bootloader_id_addr = 0x1FFF76DE, .bootloader_ids = {0x70, 0x90, 0x91},
	 .ob_addr = 0x1FFFC000, .ob_size = 16, .ob = &ob_layout_f4,
	 .serial_rule = CHIP_SERIAL_RULE_HAL, .write_align = 1, .quirks = CHIP_Q_OB_RESET,
	 .quirk_text = "Bank-2 write protection lives in a second OB block at 0x1FFEC000 (not decoded).",
	 .source = "RM0090 §3.3 (sectors), §3.6; AN2606 Table 3 (bootloader ID), UNCONFIRMED"},
	{.id = "F401", .name = "STM32F401xB/C/D/E", .dev_ids = {0x423, 0x433},
	 .flash_base = 0x08000000, .sectors = RUNS(map_f4_512k), .uid_addr = 0x1FFF7A10, .uid_word2_offset = 8,
	 .flash_size_addr = 0x1FFF7A22, .bootloader_id_addr = 0x1FFF76DE, .bootloader_ids = {0xD1},
	 .ob_addr = 0x1FFFC000, .ob_size = 16, .ob = &ob_layout_f4,
	 .serial_rule = CHIP_SERIAL_RULE_HAL, .write_align = 1, .quirks = CHIP_Q_OB_RESET,
	 .source = "data/dfu-list/dhylands-G30HDR_F401CE_...; data/uid-serial/micropython-G30HDR_...; "
		   "bootloader ID from AN2606 Table 3, UNCONFIRMED"},
	{.id = "F411", .name = "STM32F411xC/E", .dev_ids = {0x431},
	 .flash_base = 0x08000000, .sectors = RUNS(map_f4_512k), .uid_addr = 0x1FFF7A10, .uid_word2_offset = 8,
	 .flash_size_addr = 0x1FFF7A22, .bootloader_id_addr = 0x1FFF76DE, .bootloader_ids = {0xD0},
	 .ob_addr = 0x1FFFC000, .ob_size = 16, .ob = &ob_layout_f4,
	 .serial_rule = CHIP_SERIAL_RULE_HAL, .write_align = 1, .quirks = CHIP_Q_OB_RESET,
	 .source = "data/dfu-list/unicorne-8_F411_...; AN2606 Table 3 (bootloader ID), UNCONFIRMED"},
	{.id = "F412", .name = "STM32F412", .dev_ids = {0x441},
	 .flash_base = 0x08000000, .sectors = RUNS(map_f4_1m), .uid_addr = 0x1FFF7A10, .uid_word2_offset = 8,
	 .flash_size_addr = 0x1FFF7A22, .bootloader_id_addr = 0x1FFF76DE, .bootloader_ids = {0x90},
	 .ob_addr = 0x1FFFC000, .ob_size = 16, .ob = &ob_layout_f4,
	 .serial_rule = CHIP_SERIAL_RULE_HAL, .write_align = 1, .quirks = CHIP_Q_OB_RESET,
	 .source = "data/cubeprog/st-community_F412-0x441_... (OB 0x1fffc000, 16 bytes); AN2606, UNCONFIRMED"},
	{.id = "F446", .name = "STM32F446", .dev_ids = {0x421},
	 .flash_base = 0x08000000, .sectors = RUNS(map_f4_512k), .uid_addr = 0x1FFF7A10, .uid_word2_offset = 8,
	 .flash_size_addr = 0x1FFF7A22, .bootloader_id_addr = 0x1FFF76DE, .bootloader_id_confirmed = true,
	 .bootloader_ids = {0x90}, .ob_addr = 0x1FFFC000, .ob_size = 16, .ob = &ob_layout_f4,
	 .serial_rule = CHIP_SERIAL_RULE_HAL, .write_align = 1, .quirks = CHIP_Q_SERIAL_FXSTM32 | CHIP_Q_OB_RESET,
	 .quirk_text = "Some F446 ROMs report the constant serial STM32FxSTM32 (FYSETC Spider).",
	 .source = "data/dfu-list/ok-STM32F4_F446-bootloaderID-0x90_... (ID 0x90 at 0x1FFF76DE)"},
	{.id = "F72x", .name = "STM32F72x/F73x", .dev_ids = {0x452},
	 .flash_base = 0x08000000, .sectors = RUNS(map_f72x), .uid_addr = 0x1FF07A10, .uid_word2_offset = 8,
	 .flash_size_addr = 0x1FF07A22, .bootloader_id_addr = 0x1FF0EDBE, .bootloader_id_confirmed = true,
	 .bootloader_ids = {0x90}, .ob_addr = 0x1FFF0000, .ob_size = 48, .ob = &ob_layout_f72x,
	 .serial_rule = CHIP_SERIAL_RULE_HAL, .write_align = 1,
	 .quirks = CHIP_Q_DBGMCU_HANGS | CHIP_Q_SERIAL_FXSTM32 | CHIP_Q_OB_RESET,
	 .quirk_text = "ROM serial is the constant STM32FxSTM32 on every unit (§5.2).",
	 .source = "protocol.md §3.2 (real dfu-util -l), §3.3, §5.2, §6; libopencm3 f7 memorymap (_452)"},
	{.id = "F74x", .name = "STM32F74x/F75x", .dev_ids = {0x449},
	 .flash_base = 0x08000000, .sectors = RUNS(map_f74x), .uid_addr = 0x1FF0F420, .uid_word2_offset = 8,
	 .flash_size_addr = 0x1FF0F442, .bootloader_id_addr = 0x1FF0EDBE, .bootloader_id_confirmed = true,
	 .bootloader_ids = {0x70, 0x90}, .ob_addr = 0x1FFF0000, .ob_size = 32, .ob = &ob_layout_f74x,
	 .serial_rule = CHIP_SERIAL_RULE_HAL, .write_align = 1,
	 .boot_ram_end = 0x20004000, /* AN2606 Tables 99/101: the ROM uses the first 16 KB (protocol.md 2.3, 3.3) */
	 .quirks = CHIP_Q_DBGMCU_HANGS | CHIP_Q_SERIAL_00000008 | CHIP_Q_OB_SIZE_DIFFERS | CHIP_Q_OB_RESET,
	 .quirk_text = q_f7,
	 .source = "protocol.md §3 (AN2606 Table 3, CMSIS-F7), §5.2, §6, §7; serial rule UNCONFIRMED"},
	{.id = "F76x", .name = "STM32F76x/F77x", .dev_ids = {0x451},
	 .flash_base = 0x08000000, .sectors = RUNS(map_f76x), .uid_addr = 0x1FF0F420, .uid_word2_offset = 8,
	 .flash_size_addr = 0x1FF0F442, .bootloader_id_addr = 0x1FF0EDBE, .bootloader_id_confirmed = true,
	 .bootloader_ids = {0x93}, .ob_addr = 0x1FFF0000, .ob_size = 32, .ob = &ob_layout_f76x,
	 .serial_rule = CHIP_SERIAL_RULE_HAL, .write_align = 1,
	 .boot_ram_end = 0x20004000, /* AN2606 Tables 99/101: the ROM uses the first 16 KB (protocol.md 2.3, 3.3) */
	 .quirks = CHIP_Q_DBGMCU_HANGS | CHIP_Q_SERIAL_PLUS_0A | CHIP_Q_SERIAL_00000008 |
		   CHIP_Q_LAYOUT_OVERSTATES | CHIP_Q_OB_RESET,
	 .quirk_text = "ROM serial: low byte of UID0+UID2 is 0x0A larger than the HAL value (§5.2).\n"
		       "1 MB parts: CubeProgrammer shows 2 MB (default); use the flash-size register.",
	 .source = "protocol.md §3.2, §5.2 (data/uid-serial/micropython-discussion-15948_F765_...), §6, §7"},
	{.id = "G0", .name = "STM32G0", .dev_ids = {0x456, 0x460, 0x466, 0x467},
	 .flash_base = 0x08000000, .uid_addr = 0x1FFF7590, .uid_word2_offset = 8, .flash_size_addr = 0x1FFF75E0,
	 .ob_addr = 0x1FFF7800, .ob_size = 104, .ob = &ob_layout_g0, .serial_rule = CHIP_SERIAL_RULE_HAL, .write_align = 8,
	 .quirks = CHIP_Q_ALTS_ALL_SAME | CHIP_Q_OB_RESET,
	 .quirk_text = "All alt settings advertise the Internal Flash string; OB writes time out (§2.6).",
	 .source = "data/dfu-list/st-community_G0C1VET6_...; RM0444 §3.4 (OB), serial rule UNCONFIRMED"},
	{.id = "G4", .name = "STM32G4", .dev_ids = {0x468, 0x469, 0x479},
	 .flash_base = 0x08000000, .uid_addr = 0x1FFF7590, .uid_word2_offset = 8, .flash_size_addr = 0x1FFF75E0,
	 .ob_addr = 0x1FFF7800, .ob_size = 48, .ob = &ob_layout_g4, .serial_rule = CHIP_SERIAL_RULE_HAL,
	 .write_align = 8, .quirks = CHIP_Q_OB_RESET,
	 .quirk_text = "Option bytes are two zones: bank 1 at 0x1FFF7800 and bank 2 at 0x1FFFF800.",
	 .source = "data/dfu-list/hausrack_G474CE_...; RM0440 §3.4 (OB); serial rule UNCONFIRMED"},
	{.id = "H74x", .name = "STM32H74x/H75x", .dev_ids = {0x450},
	 .flash_base = 0x08000000, .sectors = RUNS(map_h74x), .uid_addr = 0x1FF1E800, .uid_word2_offset = 8,
	 .flash_size_addr = 0x1FF1E880, .bootloader_id_addr = 0x1FF1E7FE, .bootloader_ids = {0x90},
	 .ob_addr = 0x5200201C, .ob_size = 128, .ob = &ob_layout_h7, .serial_rule = CHIP_SERIAL_RULE_NOT_UID,
	 .write_align = 32, .quirks = CHIP_Q_SERIAL_00000008 | CHIP_Q_LAYOUT_OVERSTATES,
	 .quirk_text = "ROM serial is not taken from the UID (H745 200364500000; §5.2).\n"
		       "H750 (128 KB) advertises 16*128Kg.",
	 .source = "data/dfu-list/nuttx-weact-stm32h750_...; data/uid-serial/rom-serial-anomalies_...; "
		   "RM0433 §4.9 (OB registers); bootloader ID from AN2606, UNCONFIRMED"},
	{.id = "H7A3", .name = "STM32H7A3/H7B3/H7B0", .dev_ids = {0x480},
	 .flash_base = 0x08000000, .uid_addr = 0x08FFF800, .uid_word2_offset = 8, .flash_size_addr = 0x08FFF80C,
	 .ob_addr = 0x5200201C, .ob_size = 297, .ob = &ob_layout_h7, .serial_rule = CHIP_SERIAL_RULE_NOT_UID,
	 .write_align = 16,
	 .source = "protocol.md §3.2 (alt strings); UID/flash-size from RM0455, UNCONFIRMED"},
	{.id = "L0", .name = "STM32L0", .dev_ids = {0x417, 0x425, 0x447, 0x457},
	 .flash_base = 0x08000000, .uid_addr = 0x1FF80050, .uid_word2_offset = 0x14, .flash_size_addr = 0x1FF8007C,
	 .ob_addr = 0x1FF80000, .ob_size = 32, .ob = &ob_layout_l0, .serial_rule = CHIP_SERIAL_RULE_HAL,
	 .write_align = 4,
	 .source = "data/dfu-list/bigclown-notes_L0-192K-...; protocol.md §5.2 (UID2 at +0x14); "
		   "serial rule UNCONFIRMED; OB: RM0367 §3.4.1 (ob_tables_lwu.c)"},
	{.id = "L1", .name = "STM32L1 (cat. 3-6)", .dev_ids = {0x416, 0x427, 0x429, 0x436, 0x437},
	 .flash_base = 0x08000000, .uid_addr = 0x1FF800D0, .uid_word2_offset = 0x14, .flash_size_addr = 0x1FF800CC,
	 .ob_addr = 0x1FF80000, .ob_size = 32, .ob = &ob_layout_l1, .serial_rule = CHIP_SERIAL_RULE_HAL,
	 .write_align = 4,
	 .quirk_text = "Cat. 1/2 parts have the UID at 0x1FF80050 and flash size at 0x1FF8004C.",
	 .source = "data/dfu-list/openbttn_L100RC-256K_...; protocol.md §5.2; serial rule UNCONFIRMED"},
	{.id = "L4", .name = "STM32L4/L4+", .dev_ids = {0x415, 0x435, 0x461, 0x462, 0x464, 0x470},
	 .flash_base = 0x08000000, .uid_addr = 0x1FFF7590, .uid_word2_offset = 8, .flash_size_addr = 0x1FFF75E0,
	 .bootloader_id_addr = 0x1FFF6FFE, .ob_addr = 0x1FFF7800, .ob_size = 40, .ob = &ob_layout_l4,
	 .serial_rule = CHIP_SERIAL_RULE_HAL, .write_align = 8,
	 .quirks = CHIP_Q_OB_SIZE_DIFFERS | CHIP_Q_SERIAL_RANDOM | CHIP_Q_OB_RESET,
	 .quirk_text = "CubeProgrammer writes 36 OB bytes where the alt string says 40 (§2.6).\n"
		       "L496 ROM serial changes on every power cycle (§5.2).",
	 .source = "data/dfu-list/mobilinkd-tnc3-12_L4-256K_...; RM0351 §3.4; protocol.md §2.6, §5.2"},
	{.id = "U5", .name = "STM32U575/U585/U59x", .dev_ids = {0x481, 0x482},
	 .flash_base = 0x08000000, .uid_addr = 0x0BFA0700, .uid_word2_offset = 8, .flash_size_addr = 0x0BFA07A0,
	 .ob_addr = 0x40022040, .ob_size = 64, .ob = &ob_layout_u5, .serial_rule = CHIP_SERIAL_RULE_HAL,
	 .write_align = 16,
	 .source = "data/uid-serial/st-community_U585_uid-to-dfu-serial_208B317A3331.txt (serial rule); "
		   "flash-size address from RM0456, UNCONFIRMED"},
	{.id = "WB", .name = "STM32WB", .dev_ids = {0x495, 0x496},
	 .flash_base = 0x08000000, .uid_addr = 0x1FFF7590, .uid_word2_offset = 8, .flash_size_addr = 0x1FFF75E0,
	 .ob_addr = 0x1FFF8000, .ob_size = 40, .ob = &ob_layout_wb, .serial_rule = CHIP_SERIAL_RULE_HAL,
	 .write_align = 8,
	 .source = "protocol.md §5.2 (UID base; WB5M serial 2061347F4852 looks UID-derived, UNCONFIRMED); "
		   "OB: RM0434 §3.4.1 (ob_tables_lwu.c; DFU address and size UNCONFIRMED)"},
	{.id = NULL},
};

size_t chip_family_count(void)
{
	return sizeof(chip_families) / sizeof(chip_families[0]) - 1;
}

const struct chip_family *chip_family_by_id(const char *id)
{
	if (!id)
		return NULL;
	for (const struct chip_family *f = chip_families; f->id; f++)
		if (strcasecmp(f->id, id) == 0)
			return f;
	return NULL;
}

const struct chip_family *chip_family_by_dev_id(uint16_t dev_id)
{
	if (dev_id == 0)
		return NULL;
	for (const struct chip_family *f = chip_families; f->id; f++)
		for (size_t i = 0; i < sizeof(f->dev_ids) / sizeof(f->dev_ids[0]) && f->dev_ids[i]; i++)
			if (f->dev_ids[i] == dev_id)
				return f;
	return NULL;
}

uint32_t chip_family_flash_bytes(const struct chip_family *fam)
{
	uint64_t total = 0;
	if (!fam || !fam->sectors)
		return 0;
	for (size_t i = 0; i < fam->n_sector_runs; i++)
		total += (uint64_t)fam->sectors[i].count * fam->sectors[i].size;
	return total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
}

int chip_family_sector_of(const struct chip_family *fam, uint32_t off)
{
	uint64_t start = 0;
	int index = 0;
	if (!fam || !fam->sectors)
		return -1;
	for (size_t i = 0; i < fam->n_sector_runs; i++) {
		for (unsigned k = 0; k < fam->sectors[i].count; k++, index++) {
			if (off >= start && off < start + fam->sectors[i].size)
				return index;
			start += fam->sectors[i].size;
		}
	}
	return -1;
}
