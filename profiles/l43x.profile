# STM32L43x (L433CC: device ID 0x435, 256 KiB = 128 x 2 KiB pages) ROM DFU bootloader.
# Matched against data/dfu-list/mobilinkd-tnc3-12_L4-256K_dfu-util-l_207E32823141.txt (Mobilinkd
# TNC3). The issue does not name the part; the project's own linker script does:
# github.com/mobilinkd/tnc3-firmware STM32L433CCUx_FLASH.ld. So this listing is an L43x's.
# L43x notes: data/cubeprog/st-faq_and_L43x_notes_hse-detection_transfer-size.txt.
vid = 0x0483
pid = 0xDF11
bcd_device = 0x2200
manufacturer = STMicroelectronics
product = STM32  BOOTLOADER
# Descriptor values below are the F4 ROM's (dfu-util -l shows none of them): UNCONFIRMED for L4.
transfer_size = 2048
detach_timeout = 255
dfu_attributes = 0x0B
dfu_version = 0x011A

# OBSERVED serial 207E32823141. The L4 serial rule is assumed to be the HAL one (protocol.md 5.2,
# UNCONFIRMED); no UID was published, the one below is made up so that the rule gives the serial:
# 0x00350030 + 0x20493252 = 0x207E3282, UID1 >> 16 = 0x3141.
serial = 207E32823141
uid = 00350030 31415009 20493252
# UID and flash size (RM0394 "Device electronic signature": UID 0x1FFF7590, FLASHSIZE 0x1FFF75E0).
uid_addr = 0x1FFF7590
flash_size_addr = 0x1FFF75E0
flash_size_kb = 256

# OBSERVED strings (4-digit counts in the flash string).
alt = @Internal Flash  /0x08000000/0128*0002Kg
alt = @Option Bytes  /0x1FFF7800/01*040 e
alt = @OTP Memory /0x1FFF7000/01*0001Ke
alt = @Device Feature/0xFFFF0000/01*004 e

# System memory 28 KB at 0x1FFF0000 (AN2606, STM32L43xxx/44xxx section: UNCONFIRMED size).
rom = 0x1FFF0000 28672
# SRAM1 48 KB + SRAM2 16 KB from 0x20000000 (RM0394 memory map, L433).
ram = 0x20000000 65536

# Option bytes (RM0394 3.4.1, src/chip/ob_tables_lgh.c): OPTR, PCROP1SR, PCROP1ER, WRP1AR, WRP1BR,
# each a 32-bit value followed by its complement (40 bytes, as the alt string says). OPTR factory
# value 0xFFEFF8AA (RM0394 FLASH_OPTR reset value); the other defaults are UNCONFIRMED.
ob_default = AA F8 EF FF 55 07 10 00  FF FF FF FF 00 00 00 00  00 00 FF 7F FF FF 00 80  FF FF 00 FF 00 00 FF 00  FF FF 00 FF 00 00 FF 00
ob_rdp_offset = 0
# WRP areas A and B (RM0394 "Write protection": pages [WRP1x_STRT, WRP1x_END] protected when
# STRT <= END): WRP1AR at +0x18 (STRT byte 0x18, END byte 0x1A), WRP1BR at +0x20.
ob_wrp_area = 0x1FFF7818 0x1FFF781A 0xFF 0 128
ob_wrp_area = 0x1FFF7820 0x1FFF7822 0xFF 0 128
# OTP is programmed once per double word, one 0 bit locks all of it (RM0394/RM0351 "OTP area").
otp_unit = 8

feature_default = 00 FF FF FF

# Timing (DS11449 STM32L433 "Flash memory characteristics", typical): 64-bit programming 81.7 us,
# page (2 KB) erase 22 ms, mass erase 22.1 ms. UNCONFIRMED here (values as recalled from the
# datasheet table, not re-checked in this project).
timing = 1
prog_width = 8
t_prog_us = 81.7
t_erase = 2K 22
t_mass_erase = 22.1
t_reset = 230
# Reported polls: UNCONFIRMED (the F4 ROM's, protocol.md 2.7). L43x data DNLOADs above 1024 bytes
# fail (notes above: dfu-util works only with -t 1024); modelled by the strict helper's key.
poll_erase = 100
# Reported polls: UNCONFIRMED for L4 except one figure: "Poll timeout 21 ms" during a -t 1024 download
# (data/cubeprog/st-faq_and_L43x_notes_..., the operation not named); kept at the F4 values, docs/rom-quirks.md.
poll_program = 104
poll_after_busy = zero
poll_manifest = 1
# STM32L4 ROMs STALL a GETSTATUS sent while busy (dfu-util dfuse.c works around it, "some STM32L4
# bootloaders"; the L43x notes above show its "Poll timeout" warnings): OBSERVED by dfu-util.
busy_reply = stall
# Data DNLOADs above 1024 bytes: taken, then the GETSTATUS STALLs (OBSERVED, notes item 2: dfu-util
# "Error during download get_status", dfuse-tool "Pipe error"; dfu-util -t 1024 works).
max_dnload = 1024
# Option-byte reads shorter than the 40-byte block are served: CubeProgrammer uploads 36 bytes on
# an L43x (OBSERVED, protocol.md 2.6 and 6).
ob_upload = any

# USART bootloader (AN3155; docs/usart.md). Device ID 0x435: STM32L43x/L44x (RM0394
# DBGMCU_IDCODE; stm32flash 0.7 "STM32L43xxx/44xxx"). Version 3.1: OBSERVED on the L471 (0x415) of
# the same L4 ROM line (CubeProgrammer 2.5: "Chip ID: 0x415", "BootLoader protocol version: 3.1",
# community.st.com m-p/203248), DERIVED for the L43x; the v3.1 GET list (Extended Erase, no Get
# Checksum) DERIVED. The early L412/L422 ROM's double ACK (stm32flash 7c10bf8) is another ID (0x464).
# Rate: AN3155 2's 115200 (DOCUMENTED).
uart_device_id = 0x435
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x435: 0x20003100-0x2000C000, SRAM1 only (RM0394
# maps SRAM2 right after it at 0x2000C000; AN2606 lists SRAM1).
uart_ram = 0x20003100 0x8F00
uart_version = 0x31
uart_max_baud = 115200
