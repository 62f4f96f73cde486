# STM32F746/F756 (device ID 0x449, 1 MiB) ROM DFU bootloader.
# Sources are the short names of ../shared/reference/protocol.md ("Sources" table).
# Keys: docs/profiles.md.

# USB identity (protocol.md 3.1). Device values are the F4 ROM's (data/lsusb/rust-dfu_lsusb_F4-512K_...);
# F74x bcdDevice 0x2200 and "STM32  BOOTLOADER" with two spaces are UNCONFIRMED but likely.
vid = 0x0483
pid = 0xDF11
bcd_device = 0x2200
manufacturer = STMicroelectronics
product = STM32  BOOTLOADER
transfer_size = 2048
detach_timeout = 255
dfu_attributes = 0x0B
dfu_version = 0x011A

# Serial: the F4 rule hex8(UID0+UID2) hex4(UID1>>16) is expected for F74x but UNCONFIRMED
# (protocol.md 5.2); some real 0x449 units show 00000008FFFF. The UID below is made up.
uid = 00220036 3436510D 33323730
uid_addr = 0x1FF0F420

# Alt 0: betaflight-configurator layout comment (protocol.md 3.2).
# Alts 1-3 are NOT confirmed by any capture (protocol.md 3.2, 9): they follow the F4 pattern
# (data/dfu-list/platformio-...F407VE...) with the F7 addresses: OB 32 B at 0x1FFF0000 (7.2),
# OTP 1024 B + 16 lock bytes at 0x1FF0F000 (3.3), Device Feature 4 B (AN2606 Table 4).
alt = @Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg
alt = @Option Bytes  /0x1FFF0000/01*032 e
alt = @OTP Memory /0x1FF0F000/01*1024 e,01*016 e
alt = @Device Feature/0xFFFF0000/01*004 e

# System memory 60 KB at 0x1FF00000 (AN2606 Tables 99/101), holding the bootloader ID byte
# 0x90 (V9.x, rev Z/1) at 0x1FF0EDBE (AN2606 Table 3).
rom = 0x1FF00000 61440
bootloader_id_addr = 0x1FF0EDBE
bootloader_id = 0x90
# Flash size register, KiB (CMSIS-F7 FLASHSIZE_BASE).
flash_size_addr = 0x1FF0F442
flash_size_kb = 1024
# SRAM 320 KB from 0x20000000 (CMSIS-F7 SRAM1+SRAM2 incl. DTCM); initial MSP must lie here.
ram = 0x20000000 327680
# The bootloader's own RAM, the first 16 KB (AN2606 Tables 99/101, protocol.md 2.3/3.3): a write
# there hangs the ROM (AN3156: do not overwrite it; what the chip does is UNCONFIRMED).
boot_ram = 0x20000000 16384
# DBGMCU_IDCODE: a ROM read hangs (byte access to a word-only register, protocol.md 2.3).
hang = 0xE0042000 4

# Option bytes (protocol.md 7.2): words at +0, +8, +0x10, +0x18, value in the low half and its
# complement in the high half; the words between are reserved (read as 0xFF here, UNCONFIRMED).
# Defaults 0x5500AAFF, 0x0000FFFF, 0xFF7F0080, 0xFFBF0040, stored little-endian.
ob_default = FF AA 00 55 FF FF FF FF  FF FF 00 00 FF FF FF FF  80 00 7F FF FF FF FF FF  40 00 BF FF FF FF FF FF
# RDP = OPTCR[15:8] = byte 1; nWRP = OPTCR[23:16] = byte 8, one bit per sector (protocol.md 7.1).
ob_rdp_offset = 1
ob_wrp_offsets = 8
ob_wrp_bits = 8
# The flash interface stores each option word with its complement in the high half (RM0385 3.4):
# a Write Protect / Unprotect from the ROM (AN3155 3.9-3.10) writes both.
ob_wrp_complement = 2

# Device Feature byte 0 = voltage range; the ROM programs one byte at a time by default
# (AN2606 3.2 "Device Feature"), i.e. range 0 -> x8.
feature_default = 00 FF FF FF

# Timing (DS10916 "Flash memory programming" table, typical column; columns x8 x16 x32):
# tPROG 16 us per program operation; erase 32 KB 400/250/200 ms, 128 KB 1100/800/550 ms,
# 256 KB 2000/1500/1000 ms; mass erase 16/11/8 s. Maxima 100 us / 800 / 2400 / 4000 ms / 32 s
# (protocol.md 3.4) are not used. x64 repeats the x32 column (needs VPP).
timing = 1
t_prog_us = 16
t_erase = 32K 400 250 200
t_erase = 128K 1100 800 550
t_erase = 256K 2000 1500 1000
t_mass_erase = 16000 11000 8000
# Option-byte program + reset: UNCONFIRMED, taken as one small-sector erase (ms).
t_ob = 100
# USB connection time after a reset: 230 ms for F74xxx/75xxx (AN2606 Table 229).
t_reset = 230
# Reported bwPollTimeout: the F4 ROM's (protocol.md 2.7, OBSERVED: erase 100 ms, 2048-byte
# program 104 ms, then 0); F7 values are UNCONFIRMED (protocol.md 9 item 6).
poll_erase = 100
poll_program = 104
poll_after_busy = zero
poll_manifest = 1
# A GETSTATUS sent while the flash works is answered when the work ends (busy_reply = hold):
# fwupd #2696 shows an F745 ROM holding the second GETSTATUS ~250 ms (OBSERVED); ST-MW runs
# Erase/Write in the EP0 IN-complete interrupt (DERIVED); protocol.md 2.7a, docs/rom-quirks.md.
busy_reply = hold
# Option-byte reads of another length than the 32-byte block are served (ob_upload = any):
# CubeProgrammer reads 44 bytes on an 0x449 and succeeds on a good link (OBSERVED,
# data/cubeprog/st-community_F7-0x449_direct-usb-fails-hub-works_...; protocol.md 6). Past the block: 0xFF, UNCONFIRMED.
ob_upload = any

# USART bootloader (AN3155; stm32dfu-sim --uart, docs/usart.md). GET ID answers the device ID;
# protocol version 0x31 as the F4's (AN2606 lists V3.1 for the F7 USART bootloader: UNCONFIRMED, no F7 log in data/uart);
# highest rate: AN3155 2.2's 115200 (no F7 evidence of more).
# The GET list is the v3.1 one (00 01 02 11 21 31 44 63 73 82 92, the default): no Get Checksum.
uart_device_id = 0x449
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x449: 0x20004000-0x20050000.
uart_ram = 0x20004000 0x4C000
uart_version = 0x31
uart_max_baud = 115200
