# STM32G474CE (G4 cat. 3: device ID 0x469, 512 KiB) ROM DFU bootloader.
# Matched against data/dfu-list/hausrack_G474CE_dfu-util-l_two-region-option-bytes.txt (WeAct
# G474CEU6 board): ver=0200, three spaces after each name, the option bytes as two regions in one
# string (bank 1 at 0x1FFF7800, bank 2 at 0x1FFFF800, 48 bytes each).
vid = 0x0483
pid = 0xDF11
# OBSERVED: ver=0200.
bcd_device = 0x0200
# The ver=0200 ROMs (G0C1, H750) show product "DFU in FS Mode" and bcdUSB 2.00 (data/dfu-list/
# st-community_G0C1VET6_..., nuttx-weact-stm32h750_...): DERIVED for the G474.
manufacturer = STMicroelectronics
product = DFU in FS Mode
bcd_usb = 0x0200
# OBSERVED on G4-class ROMs: wTransferSize 1024 (dfu-util 0.11 -v "Device returned transfer size
# 1024", 256 x 2048 layout, data/field/dfu-libusb-4_G4-class-512K_...), and a 2048-byte DNLOAD is
# STALLed on a G431 while 1024 works (data/field/web-stm32-updater-3_G431CBU6_...). The same log
# shows attributes 0x0b, detach timeout 255 ms and DFU version 011a.
transfer_size = 1024
detach_timeout = 255
dfu_attributes = 0x0B
dfu_version = 0x011A

# OBSERVED serial; G4 rule assumed HAL (UNCONFIRMED); made-up UID: 0x00400027 + 0x20193961 =
# 0x20593988, UID1 >> 16 = 0x5533.
serial = 205939885533
uid = 00400027 5533500C 20193961
# UID 0x1FFF7590, flash size 0x1FFF75E0 (RM0440 "Device electronic signature").
uid_addr = 0x1FFF7590
flash_size_addr = 0x1FFF75E0
flash_size_kb = 512

# OBSERVED strings. 256 x 2 KiB is the dual-bank view (DBANK = 1, the factory value, RM0440 3.3.1).
alt = @Internal Flash   /0x08000000/256*02Kg
alt = @Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e
alt = @OTP Memory   /0x1FFF7000/01*1024 e

# System memory 28 KB at 0x1FFF0000 (AN2606, STM32G47xxx/48xxx: UNCONFIRMED size).
rom = 0x1FFF0000 28672
# SRAM1 80 KB + SRAM2 16 KB from 0x20000000 (RM0440 memory map, G474).
ram = 0x20000000 98304

# Option bytes (RM0440 3.4.1, src/chip/ob_tables_lgh.c): bank-1 zone OPTR, PCROP1SR, PCROP1ER,
# WRP1AR, WRP1BR, SEC1R (value + complement each). OPTR factory value 0xFFEFF8AA (RM0440 FLASH_OPTR
# reset value); the other defaults are UNCONFIRMED. The bank-2 zone (PCROP2SR, PCROP2ER, WRP2AR,
# WRP2BR, SEC2R from 0x1FFFF808) gets the same defaults through `poke`; its first word is reserved.
ob_default = AA F8 EF FF 55 07 10 00  FF FF FF FF 00 00 00 00  00 00 FF 7F FF FF 00 80  FF FF 00 FF 00 00 FF 00  FF FF 00 FF 00 00 FF 00  00 FF FE FF FF 00 01 00
poke = 0x1FFFF800 FF FF FF FF 00 00 00 00  FF FF FF FF 00 00 00 00  00 00 FF 7F FF FF 00 80  FF FF 00 FF 00 00 FF 00  FF FF 00 FF 00 00 FF 00  00 FF FE FF FF 00 01 00
ob_rdp_offset = 0
# WRP areas (RM0440 "Write protection"): bank 1 WRP1AR/WRP1BR in the 0x1FFF7800 zone, bank 2
# WRP2AR/WRP2BR in the 0x1FFFF800 zone, page numbers counted within each bank of 128 x 2 KiB
# (DBANK = 1, the OPTR default above); STRT byte at +0x18/+0x20, END byte at +0x1A/+0x22.
ob_wrp_area = 0x1FFF7818 0x1FFF781A 0xFF 0 128
ob_wrp_area = 0x1FFF7820 0x1FFF7822 0xFF 0 128
ob_wrp_area = 0x1FFFF818 0x1FFFF81A 0xFF 128 128
ob_wrp_area = 0x1FFFF820 0x1FFFF822 0xFF 128 128
# OTP is programmed once per double word, one 0 bit locks all of it (RM0440 "OTP area").
otp_unit = 8

# Start state: no G4 session in the data; dfuIDLE, UNCONFIRMED.
start_state = dfuIDLE

# Timing (DS12288 STM32G474 "Flash memory characteristics", typical): 64-bit programming 85 us,
# page erase 22 ms, mass erase 22.1 ms. UNCONFIRMED here (not re-checked).
timing = 1
prog_width = 8
t_prog_us = 85
t_erase = 2K 22
t_mass_erase = 22.1
t_reset = 230
poll_erase = 100
poll_program = 104
poll_after_busy = zero
poll_manifest = 1
# Early GETSTATUS: no capture or log of this family shows it (protocol.md 2.7a: no data), so
# UNCONFIRMED; `busy` (dfuDNBUSY at once) makes a host prove its fallback to the poll.
busy_reply = busy

# USART bootloader (AN3155; docs/usart.md). Device ID 0x469 (RM0440 DBGMCU_IDCODE, category 3).
# Version 0x31, Option 1/2 0x00: OBSERVED, stm32flash 0.7 on a real G474 at 115200 8E1 ("Device ID
# : 0x0469 (STM32G47xxx/48xxx)", a public howto, GitHub file-index id 13010823679). The GET list:
# the G431's GET answers N = 0x0b (11 commands, data/uart/st-community_G431C8-0x468_...: its codes
# are cut off), the count of the v3.1 list with Extended Erase (00 01 02 11 21 31 44 63 73 82 92),
# DERIVED: no Get Checksum. Rate: AN3155 2's 115200 (DOCUMENTED); no faster G4 rate observed.
# The ROM keeps SRAM below 0x20004000 (a G474 user could not write there, qa-community 24359).
uart_device_id = 0x469
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x469: 0x20004000-0x20018000; OBSERVED below
# 0x20004000: qa-community 24359.
uart_ram = 0x20004000 0x14000
uart_version = 0x31
uart_max_baud = 115200
