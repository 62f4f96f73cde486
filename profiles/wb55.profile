# STM32WB55 (WB: device ID 0x495, 1 MiB) ROM DFU bootloader. No `dfu-util -l`, lsusb or
# CubeProgrammer log of a WB ROM was found (searched 2026-12-07, docs/rom-quirks.md): every
# descriptor and string below is UNCONFIRMED, taken from the ROMs of the same generation with a
# real listing (G4, H7: ver=0200, "DFU in FS Mode", three spaces after the name). What is from the
# manual: the flash (1 MiB in 256 pages of 4 KiB, RM0434 "Flash memory organization"), the option
# bytes at 0x1FFF8000 (RM0434 3.4.1) and their write protection.
vid = 0x0483
pid = 0xDF11
bcd_device = 0x0200
bcd_usb = 0x0200
manufacturer = STMicroelectronics
product = DFU in FS Mode
transfer_size = 1024
detach_timeout = 255
dfu_attributes = 0x0B
dfu_version = 0x011A

# UID 0x1FFF7590, flash size 0x1FFF75E0 (RM0434 "Device electronic signature"); the HAL serial rule
# over a made-up UID (UNCONFIRMED).
uid = 00230037 3338510B 20363457
uid_addr = 0x1FFF7590
flash_size_addr = 0x1FFF75E0
flash_size_kb = 1024

# UNCONFIRMED strings (no listing): the flash as 256 pages of 4 KiB; the option-byte alt as 40
# bytes from 0x1FFF8000 (OPTR, PCROP1ASR, PCROP1AER, WRP1AR, WRP1BR: value and complement each,
# RM0434 3.4.1), the size the host's table decodes. The wireless stack's secure area at the top of
# the flash (SFSA) is not modelled.
alt = @Internal Flash   /0x08000000/256*04Kg
alt = @Option Bytes   /0x1FFF8000/01*040 e

# System memory 28 KB at 0x1FFF0000 (AN2606 STM32WB: UNCONFIRMED size); SRAM1 192 KB from
# 0x20000000 (RM0434 memory map).
rom = 0x1FFF0000 28672
ram = 0x20000000 196608

# Option bytes (RM0434 3.4.1, src/chip/ob_tables_lwu.c): OPTR 0x0FFFF1AA (RDP level 0, the other
# bits as the host's table's defaults: UNCONFIRMED), PCROP1A empty, WRP1A/WRP1B empty (start 0xFF,
# end 0x00), each word followed by its complement.
ob_default = AA F1 FF 0F 55 0E 00 F0  FF 01 00 00 00 FE FF FF  00 00 00 00 FF FF FF FF  FF 00 00 00 00 FF FF FF  FF 00 00 00 00 FF FF FF
ob_rdp_offset = 0
# WRP areas (RM0434 "Write protection"): pages [WRP1x_STRT, WRP1x_END] of 4 KiB, 8-bit fields;
# STRT byte at +0x18/+0x20, END byte at +0x1A/+0x22.
ob_wrp_area = 0x1FFF8018 0x1FFF801A 0xFF 0 256
ob_wrp_area = 0x1FFF8020 0x1FFF8022 0xFF 0 256
# OTP is programmed once per double word (RM0434 "OTP area"); not offered as an alt here.

start_state = dfuIDLE

# Timing (DS11929 STM32WB55 "Flash memory characteristics", typical): 64-bit programming 81.7 us,
# page erase 22 ms: UNCONFIRMED here (not re-checked); the polls as the G4's (UNCONFIRMED).
timing = 1
prog_width = 8
t_prog_us = 81.7
t_erase = 4K 22
t_mass_erase = 22.1
t_reset = 230
poll_erase = 100
poll_program = 104
poll_after_busy = zero
poll_manifest = 1
busy_reply = busy

# USART bootloader (AN3155; docs/usart.md). Device ID 0x495: STM32WB55/WB35/WB50/WB30 (RM0434
# DBGMCU_IDCODE; stm32flash's table after 0.7 names 0x495 "STM32WB30(5)xx/50(5)xx"). Version 0x31
# and the v3.1 GET list: UNCONFIRMED (no WB USART log; the WLE5 of the next generation answers 3.3,
# data/uart/esp-usb-bridge-15_..., with its own command set not known here: the least kind choice
# is the v3.1 list, without Get Checksum). Not in stm32flash 0.7's table. Rate: 115200 (AN3155 2).
uart_device_id = 0x495
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x495: 0x20004000-0x2000C000 for every 0x495 part
# (WB30/35/50/55), well below the WB55xG's 192 KB SRAM1 (RM0434).
uart_ram = 0x20004000 0x8000
uart_version = 0x31
uart_max_baud = 115200
