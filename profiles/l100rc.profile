# STM32L100RC (L1 cat. 3: device ID 0x427, 256 KiB = 1024 x 256-byte pages) ROM DFU bootloader.
# Matched against data/dfu-list/openbttn_L100RC-256K_dfu-util-l_and_download.txt (bt.tn button,
# openbttn builds for stm32l100rc): three alt settings, `1024*256 g` (a space as the unit), DATA
# EEPROM `02*004Ke` at 0x08080000; the download transcript shows the first status
# dfuERROR / status 10 and transfer size 2048.
vid = 0x0483
pid = 0xDF11
bcd_device = 0x2200
manufacturer = STMicroelectronics
product = STM32  BOOTLOADER
# OBSERVED: "Device returned transfer size 2048", "DFU mode device DFU version 011a".
transfer_size = 2048
dfu_version = 0x011A
# UNCONFIRMED: the F4 ROM's values.
detach_timeout = 255
dfu_attributes = 0x0B

# OBSERVED serial; L1 rule assumed HAL (UNCONFIRMED); made-up UID: 0x05480022 + 0x7168A111 =
# 0x76B0A133, UID1 >> 16 = 0x6969.
serial = 76B0A1336969
uid = 05480022 69695014 7168A111
# Cat. 3 and above: UID at 0x1FF800D0 (+4, +0x14), flash size at 0x1FF800CC (RM0038 "Device
# electronic signature").
uid_addr = 0x1FF800D0
uid2_addr = 0x1FF800E4
flash_size_addr = 0x1FF800CC
flash_size_kb = 256

# OBSERVED strings.
alt = @Internal Flash  /0x08000000/1024*256 g
alt = @Option Bytes  /0x1FF80000/01*032 e
alt = @DATA Memory /0x08080000/02*004Ke

# System memory 8 KB at 0x1FF00000 (AN2606, STM32L1xxxC: UNCONFIRMED size).
rom = 0x1FF00000 8192
# SRAM 16 KB from 0x20000000 (STM32L100RC datasheet).
ram = 0x20000000 16384

# Option bytes (RM0038 "Option bytes"; CMSIS stm32l1xx.h OB_TypeDef RDP, USER, WRP01, WRP23, WRP45,
# WRP67, WRP89, WRP1011): value in bits 15:0, complement in 31:16. Factory RDP 0xAA; USER 0x0070
# (IWDG_SW, nRST_STOP, nRST_STDBY set, BOR off: UNCONFIRMED); WRP 0 (active-high on L1).
ob_default = AA 00 55 FF 70 00 8F FF  00 00 FF FF 00 00 FF FF  00 00 FF FF 00 00 FF FF  00 00 FF FF 00 00 FF FF
ob_rdp_offset = 0
# WRP: one bit per 4 KiB (16 pages of 256 B), 1 = protected (RM0038 "Write protection"): WRP01,
# WRP23, WRP45, WRP67 low halves at bytes 8-9, 12-13, 16-17, 20-21 (256 KiB: 64 bits).
ob_wrp_offsets = 8 9 12 13 16 17 20 21
ob_wrp_sectors_per_bit = 16
ob_wrp_active_high = 1
# each WRP half-word has its complement 2 bytes up (RM0038 option bytes), written with it
ob_wrp_complement = 2

# OBSERVED (transcript): "Determining device status: state = dfuERROR, status = 10".
start_state = dfuERROR
start_status = errFIRMWARE

# Timing: UNCONFIRMED (L1 half-page (128 B) program and page erase about 3.3 ms, STM32L100xC
# datasheet typical, not re-checked); per 4-byte word 3300 / 32 = 103 us (DERIVED).
timing = 1
prog_width = 4
t_prog_us = 103
t_erase = 256 3.3
t_mass_erase = 100
t_reset = 230
poll_erase = 100
poll_program = 104
poll_after_busy = zero
poll_manifest = 1
# Early GETSTATUS: no capture or log of this family shows it (protocol.md 2.7a: no data), so
# UNCONFIRMED; `busy` (dfuDNBUSY at once) makes a host prove its fallback to the poll.
busy_reply = busy

# USART bootloader (AN3155; docs/usart.md). Device ID 0x427: STM32L1 category 3, the L1xxxC parts
# (RM0038 DBGMCU_IDCODE; stm32flash 0.7 names it "STM32L1xxxC"). Version 0x31 and its GET list
# 00 01 02 11 21 31 44 63 73 82 92, Get ID 01 04 27: OBSERVED byte for byte on a real STM32L151CCT6
# (the same device ID: a UART trace under ST's Flash Loader Demonstrator, "79 0B 31 00 01 02 11 21 31
# 44 63 73 82 92 79" and "79 01 04 27 79", community.st.com question 0D50X00009XkeqnSAB, 2015-12-08).
# Not the category 1 L151's 0x30 (0x416, data/uart/CampusIoT-im880a_L151-0x416_...): the
# version goes with the device ID, not the series. Mass erase: stm32flash commit e69b2a6 assumes
# none on L1xxxD (0x436) and L0x1, not on L1xxxC: kept (UNCONFIRMED).
# Rate: AN3155 2's 115200 (DOCUMENTED; the L151 logs ran at 115200).
uart_device_id = 0x427
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x427: 0x20001000-0x20008000, of which this L100xC
# has 0x20001000-0x20003FFF.
uart_ram = 0x20001000 0x7000
# One Extended Erase lists at most 512 pages: stm32flash's stm32.c, "Some device, like STM32L152,
# cannot erase more than 512 pages in one command" (the L152 is an L1 as the L100xC; OBSERVED there,
# DERIVED here); a longer list is NACKed and erases nothing (the NACK DERIVED, as the L0's 511).
uart_max_erase_pages = 512
uart_version = 0x31
uart_commands = 00 01 02 11 21 31 44 63 73 82 92
uart_max_baud = 115200
