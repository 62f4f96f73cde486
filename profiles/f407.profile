# STM32F405/407/415/417 (device ID 0x413, 1 MiB die) ROM DFU bootloader.
# Matched against data/dfu-list/platformio-ststm32-118_F407VE-black_dfu-util-l_207A389B5848.txt
# (alt strings, serial) and data/lsusb/rust-dfu_lsusb_F4-512K_... (descriptor layout).
vid = 0x0483
pid = 0xDF11
bcd_device = 0x2200
manufacturer = STMicroelectronics
product = STM32  BOOTLOADER
transfer_size = 2048
detach_timeout = 255
dfu_attributes = 0x0B
dfu_version = 0x011A

# The F407VE board's ROM serial (platformio listing). No UID was published for it; the UID below
# is made up so that the F2/F4 rule (protocol.md 5.1) gives that serial:
# 0x00430037 + 0x20373864 = 0x207A389B, UID1 >> 16 = 0x5848.
serial = 207A389B5848
uid = 00430037 5848510C 20373864
uid_addr = 0x1FFF7A10

alt = @Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg
alt = @Option Bytes  /0x1FFFC000/01*016 e
alt = @OTP Memory /0x1FFF7800/01*512 e,01*016 e
alt = @Device Feature/0xFFFF0000/01*004 e

# System memory 30 KB at 0x1FFF0000 (AN2606, STM32F40xxx/41xxx section).
rom = 0x1FFF0000 30720
flash_size_addr = 0x1FFF7A22
flash_size_kb = 1024
# SRAM 128 KB (112 + 16) from 0x20000000 (RM0090 memory map).
ram = 0x20000000 131072
# DBGMCU_IDCODE: an UPLOAD returns dfuERROR on F4 (protocol.md 2.3): not mapped, so errTARGET.

# Option bytes (RM0090 3.7.1 Table 15 "Option byte organization"): 0x1FFFC000 bits [15:0] =
# RDP:USER, 0x1FFFC008 bits [15:0] = nWRP[11:0], bits 15:12 reserved and 0 after reset (OPTCR reset
# value 0x0FFFAAED: OPTCR[31:16] = 0x0FFF, stored as FF 0F; F42x's DB1M/SPRMOD live there). No complements on F4;
# the reserved bytes [63:16] read as 0xFF here (UNCONFIRMED). USER default 0xED from the OPTCR
# reset value 0x0FFFAAED (RM0090 FLASH_OPTCR), the manual's value; src/chip/ob_tables_f.c holds the
# same (it had 0xAAEC). How the ROM shows bits 1:0 in its 16-byte read is UNCONFIRMED.
ob_default = ED AA FF FF FF FF FF FF  FF 0F FF FF FF FF FF FF
ob_rdp_offset = 1
ob_wrp_offsets = 8 9
ob_wrp_bits = 12

feature_default = 00 FF FF FF

# Timing (DS8626 STM32F405/407 "Flash memory programming" typical; columns x8 x16 x32):
# tPROG 16 us; erase 16 KB 400/300/250 ms, 64 KB 1200/700/550 ms, 128 KB 2000/1100/1000 ms;
# mass erase 16/11/8 s.
timing = 1
t_prog_us = 16
t_erase = 16K 400 300 250
t_erase = 64K 1200 700 550
t_erase = 128K 2000 1100 1000
t_mass_erase = 16000 11000 8000
t_ob = 100
# USB connection time 250 ms (AN2606 Table 229, F4 V9.x).
t_reset = 250
# Reported polls: OBSERVED on an F4 ROM (protocol.md 2.7): erase 100 ms, program 104 ms, then 0.
poll_erase = 100
poll_program = 104
poll_after_busy = zero
poll_manifest = 1
# A GETSTATUS sent while the flash works is answered when the work ends (busy_reply = hold):
# pydfu polls F4 ROMs at once and requires dfuDNLOAD-IDLE (OBSERVED by its use); ST-MW runs
# Erase/Write inside the USB interrupt (DERIVED); protocol.md 2.7a, docs/rom-quirks.md.
busy_reply = hold

# USART bootloader (AN3155; stm32dfu-sim --uart, docs/usart.md). GET ID answers the device ID;
# protocol version 0x31 (OBSERVED: stm32flash headers of real F405/F407/F411/F446 in data/uart);
# 921600 baud followed by a real F405 (OBSERVED: data/uart/betaflight-configurator-376_...), so the F4 profiles allow it.
# The GET list is the v3.1 one (00 01 02 11 21 31 44 63 73 82 92, the default): no Get Checksum.
uart_device_id = 0x413
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x413: 0x20003000-0x20020000.
uart_ram = 0x20003000 0x1D000
uart_version = 0x31
uart_max_baud = 921600
