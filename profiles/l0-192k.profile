# STM32L0 cat. 5, 192 KiB (L07x/L08x: device ID 0x447, 1536 x 128-byte pages) ROM DFU bootloader.
# Matched against data/dfu-list/bigclown-notes_L0-192K-CoreModule_dfu-util-l_7FB4A4356231.txt
# (BigClown Core Module): three alt settings, `1536*128g` with no unit letter, a DATA EEPROM alt
# of 2 x 3 KiB at 0x08080000 (6 KiB: the L07x/L08x size, RM0367 3.3.1).
vid = 0x0483
pid = 0xDF11
bcd_device = 0x2200
manufacturer = STMicroelectronics
product = STM32  BOOTLOADER
# UNCONFIRMED (not shown by dfu-util -l): the F4 ROM's values.
transfer_size = 2048
detach_timeout = 255
dfu_attributes = 0x0B
dfu_version = 0x011A

# OBSERVED serial. The L0 rule is assumed to be HAL (UNCONFIRMED); the UID is made up so that it
# gives the serial: 0x0E5D0039 + 0x7157A3FC = 0x7FB4A435, UID1 >> 16 = 0x6231.
serial = 7FB4A4356231
uid = 0E5D0039 62315012 7157A3FC
# UID words at 0x1FF80050, +4 and +0x14; flash size at 0x1FF8007C (RM0367 "Device electronic
# signature").
uid_addr = 0x1FF80050
uid2_addr = 0x1FF80064
flash_size_addr = 0x1FF8007C
flash_size_kb = 192

# OBSERVED strings.
alt = @Internal Flash  /0x08000000/1536*128g
alt = @Option Bytes  /0x1FF80000/01*032 e
alt = @DATA Memory /0x08080000/2*3Ke

# System memory 8 KB at 0x1FF00000 (AN2606, STM32L07xxx/08xxx: UNCONFIRMED size).
rom = 0x1FF00000 8192
# SRAM 20 KB from 0x20000000 (RM0367 memory map, cat. 5).
ram = 0x20000000 20480

# Option bytes (RM0367 3.4.1; CMSIS stm32l0xx.h OB_TypeDef RDP, USER, WRP01, WRP23, WRP45): 32-bit
# words, value in bits 15:0 and its complement in 31:16. Factory: RDP 0xAA, WPRMOD 0; USER 0x8070
# (OPTR reset value 0x807000AA: WDG_SW, nRST_STOP, nRST_STDBY, nBOOT1 set, BOR off); WRP 0 (the L0
# WRP bits protect when 1). Words past WRP45 are reserved (0 here, UNCONFIRMED).
ob_default = AA 00 55 FF 70 80 8F 7F  00 00 FF FF 00 00 FF FF  00 00 FF FF 00 00 00 00  00 00 00 00 00 00 00 00
ob_rdp_offset = 0
# WRP: one bit per 4 KiB (32 pages of 128 B), 1 = protected (RM0367 "Write protection"): WRP1
# bits 0-15 in bytes 8-9, 16-31 in bytes 12-13, WRP2 bits 32-47 in bytes 16-17.
ob_wrp_offsets = 8 9 12 13 16 17
ob_wrp_sectors_per_bit = 32
ob_wrp_active_high = 1
# each WRP half-word has its complement 2 bytes up (RM0367 3.4.1), written with it
ob_wrp_complement = 2

# Timing (DS10685 STM32L073 "Flash memory and data EEPROM characteristics", typical): half-page
# (64 B) program and page erase 3.2 ms, UNCONFIRMED here (not re-checked); per 4-byte word that is
# 3200 / 16 = 200 us (DERIVED).
timing = 1
prog_width = 4
t_prog_us = 200
t_erase = 128 3.2
t_mass_erase = 100
t_reset = 230
# Polls: UNCONFIRMED (the F4 ROM's).
poll_erase = 100
poll_program = 104
poll_after_busy = zero
poll_manifest = 1
# Early GETSTATUS: no capture or log of this family shows it (protocol.md 2.7a: no data), so
# UNCONFIRMED; `busy` (dfuDNBUSY at once) makes a host prove its fallback to the poll.
busy_reply = busy

# USART bootloader (AN3155; docs/usart.md). The L0 ROMs NACK the Extended Erase special codes
# (stm32flash dev_table F_NO_ME for 0x447, commit c1394c4 "Bootloader just replies with NACK";
# data/uart/NOTES-behaviour-from-prose.md): mass erase is refused, pages erase. Version UNCONFIRMED.
uart_device_id = 0x447
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x447: 0x20002000-0x20005000.
uart_ram = 0x20002000 0x3000
uart_version = 0x31
uart_mass_erase = no
# At most 511 pages in one Extended Erase (OBSERVED: stm32flash commit e1536da, "STM32L082 has a
# limit of 511 pages at a time", the L082 is this device ID; data/uart/stm32flash-devtable-numbers.md):
# a longer list is NACKed (DERIVED: the answer was not quoted).
uart_max_erase_pages = 511
