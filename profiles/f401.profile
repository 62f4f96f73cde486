# STM32F401xD/E (device ID 0x433, 512 KiB) ROM DFU bootloader.
# Matched against data/dfu-list/dhylands-G30HDR_F401CE_dfu-util-list.txt (alt strings, serial); the
# G30DEV and BRAINPAD (F401RE) listings differ only in the serial (`f401,serial=...` reproduces them).
# Everything not listed below is the F407's (same F4 ROM generation, profiles/f407.profile).
base = f407
bcd_device = 0x2200

# The G30HDR's ROM serial equals the serial MicroPython derives from the UID
# (data/uid-serial/micropython-G30HDR_...: HAL rule, protocol.md 5.1). No UID was published; the
# one below is made up so that the rule gives that serial: 0x00430027 + 0x344B371B = 0x348E3742,
# UID1 >> 16 = 0x3533.
serial = 348E37423533
uid = 00430027 3533510C 344B371B
uid_addr = 0x1FFF7A10

alt = @Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg
alt = @Option Bytes  /0x1FFFC000/01*016 e
alt = @OTP Memory /0x1FFF7800/01*512 e,01*016 e
alt = @Device Feature/0xFFFF0000/01*004 e

# System memory 30 KB at 0x1FFF0000, bootloader ID byte at 0x1FFF76DE = 0xD1 (AN2606 Table 3,
# STM32F401xD/E: UNCONFIRMED, from the table as cited in src/chip/families.c).
rom = 0x1FFF0000 30720
bootloader_id_addr = 0x1FFF76DE
bootloader_id = 0xD1
flash_size_addr = 0x1FFF7A22
flash_size_kb = 512
# SRAM 96 KB from 0x20000000 (RM0368 memory map, F401xD/E).
ram = 0x20000000 98304

# Option bytes (RM0368 3.6 "Option bytes"): same 16-byte image as RM0090's; nWRP[7:0] guard the
# 8 sectors, SPRMOD is bit 15 of the second word. OPTCR reset value 0x0FFFAAED.
ob_default = ED AA FF FF FF FF FF FF  FF 0F FF FF FF FF FF FF
ob_rdp_offset = 1
ob_wrp_offsets = 8
ob_wrp_bits = 8

# Starts in dfuERROR / errFIRMWARE: OBSERVED on the F411 (data/dfu-list/unicorne-8_F411_...,
# "state = dfuERROR, status = 10"); the F401 ROM is the same generation (AN2606 lists both with the
# F4 V13.x bootloaders): DERIVED, the stricter choice.
start_state = dfuERROR
start_status = errFIRMWARE
# Early GETSTATUS (docs/rom-quirks.md): held until the flash work ends, as on the F407/F746 models:
# pydfu polls F4 ROMs at once and needs dfuDNLOAD-IDLE (OBSERVED by its use); ST-MW runs the work in
# the USB interrupt (DERIVED); protocol.md 2.7a.
busy_reply = hold

# USART bootloader (docs/usart.md): the F401xD/E device ID; the rest is the F4's (f407.profile).
uart_device_id = 0x433
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x433: 0x20003000-0x20018000.
uart_ram = 0x20003000 0x15000
