# STM32G0C1VE (G0: device ID 0x467, 512 KiB) ROM DFU bootloader.
# Matched against data/dfu-list/st-community_G0C1VET6_dfu-util-l_lsusb-head_all-alts-same.txt: all
# three alt settings advertise the same flash string (so the option bytes and OTP are not offered
# by name), ver=0200; lsusb: bcdUSB 2.00, bMaxPacketSize0 64, product "DFU in FS Mode". The poster
# redacted the serial.
vid = 0x0483
pid = 0xDF11
# OBSERVED (lsusb): bcdUSB 2.00, bcdDevice 2.00, iManufacturer STMicroelectronics, iProduct
# "DFU in FS Mode".
bcd_device = 0x0200
bcd_usb = 0x0200
manufacturer = STMicroelectronics
product = DFU in FS Mode
# UNCONFIRMED: the F4 ROM's values (the stored lsusb copy ends before the interface descriptors).
transfer_size = 2048
detach_timeout = 255
dfu_attributes = 0x0B
dfu_version = 0x011A

# The serial was redacted; the HAL rule is assumed (UNCONFIRMED) over a made-up UID.
uid = 00360044 3532500E 20344D35
# UID 0x1FFF7590, flash size 0x1FFF75E0 (RM0444 "Device electronic signature").
uid_addr = 0x1FFF7590
flash_size_addr = 0x1FFF75E0
flash_size_kb = 512

# OBSERVED: the same string, one space after the name, on alts 0, 1 and 2. 256 x 2 KiB pages.
alt = @Internal Flash /0x08000000/256*02Kg
alt = @Internal Flash /0x08000000/256*02Kg
alt = @Internal Flash /0x08000000/256*02Kg

# System memory 28 KB at 0x1FFF0000 (AN2606, STM32G0B1xx/0C1xx: UNCONFIRMED size).
rom = 0x1FFF0000 28672
# SRAM 144 KB from 0x20000000 (RM0444 memory map, G0B1/G0C1).
ram = 0x20000000 147456

# Option bytes (RM0444 3.4.1, src/chip/ob_tables_lgh.c): OPTR, PCROP1ASR, PCROP1AER, WRP1AR, WRP1BR
# from 0x1FFF7800, each word followed by its complement, then PCROP1BSR/BER, 16 reserved bytes,
# PCROP2ASR/AER and bank 2's WRP2AR/WRP2BR (0x1FFF7858, 0x1FFF7860), 104 bytes: past WRP1BR the
# addresses are DERIVED from the register offsets (docs.rs stm32g0 RegisterBlock: WRP2AR 0x4C) at
# the 8-byte stride of the first rows; the reserved bytes' values are UNCONFIRMED. No alt offers
# them (the listing above), so over DFU the ROM is taken to refuse them as an address it does not
# serve (UNCONFIRMED: the least kind choice; the poster's option-byte write failed with a pipe
# error); the chip still has them, and the USART front end serves them.
# OPTR 0xFFFFFEAA (RM0444 FLASH_OPTR reset value: DUAL_BANK = 1), WRP areas empty (start 0x7F > end 0).
ob_unlisted = 0x1FFF7800 104
ob_default = AA FE FF FF 55 01 00 00  FF FF FF FF 00 00 00 00  00 00 00 00 FF FF FF FF  FF 00 00 00 00 FF FF FF  FF 00 00 00 00 FF FF FF  FF FF FF FF 00 00 00 00  00 00 00 00 FF FF FF FF  FF FF FF FF 00 00 00 00  FF FF FF FF 00 00 00 00  FF FF FF FF 00 00 00 00  00 00 00 00 FF FF FF FF  FF 00 00 00 00 FF FF FF  FF 00 00 00 00 FF FF FF
ob_rdp_offset = 0
# WRP areas A and B of each bank (RM0444 "Write protection"): pages [WRPxy_STRT, WRPxy_END] of 2 KiB,
# 7-bit fields (docs.rs stm32g0 WRP1AR: bits 0:6, 16:22); STRT byte at +0x18/+0x20 (bank 1),
# +0x58/+0x60 (bank 2, counting from bank 2's first page, 128: the dual-bank G0C1 is two banks of
# 256 KiB), END byte two further. An erase of a page inside one is ignored without an error
# (AN3156 Table 4 note 1). The model is the dual-bank mode only (DUAL_BANK = 1, the default).
ob_wrp_area = 0x1FFF7818 0x1FFF781A 0x7F 0 128
ob_wrp_area = 0x1FFF7820 0x1FFF7822 0x7F 0 128
ob_wrp_area = 0x1FFF7858 0x1FFF785A 0x7F 128 128
ob_wrp_area = 0x1FFF7860 0x1FFF7862 0x7F 128 128

# Start state: no G0 session in the data; dfuIDLE, UNCONFIRMED.
start_state = dfuIDLE

# Timing (DS13560 STM32G0C1 "Flash memory characteristics", typical): 64-bit programming 85 us,
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

# USART bootloader (AN3155; docs/usart.md): device ID 0x467 (AN2606 STM32G0B1xx/G0C1xx; RM0444
# DBGMCU_IDCODE). Over USART the option bytes are served (Read Memory of 0x1FFF7800), so the host
# reads both banks' write protection before an erase there. Protocol version 3.1 and the default
# GET list (no Get Checksum): OBSERVED on a G071 (0x460: "Bootloader version: 0x31", commands 0x0
# 0x1 0x2 0x11 0x21 0x31 0x44 0x63 0x73 0x82 0x92, stm32loader -V, github.com/florisla/stm32loader
# PR 32, 2019-12-21), DERIVED for the G0C1 (no G0B1/G0C1 USART log found).
uart_device_id = 0x467
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x467: 0x20004000-0x20020000, below the 144 KB
# SRAM's end.
uart_ram = 0x20004000 0x1C000
uart_version = 0x31
uart_max_baud = 115200
