# STM32U575/U585 (device ID 0x482, 2 MiB) ROM DFU bootloader.
# Matched against the U585 listing and dmesg of data/field/dfu-util-l_U585-U575_H7A3_256x8K-listings_
# leave-get_status-error.txt (zephyr STEVAL-STWINBX1 doc, dfu-util 0.9; the same three strings on a
# U575-class board with dfu-util 0.11): ver=0200, "DFU in FS Mode", three spaces after the names,
# the option bytes at the FLASH register block (0x40022040, 64 bytes), OTP 512 bytes.
vid = 0x0483
pid = 0xDF11
# OBSERVED (dmesg): bcdDevice= 2.00, Mfr=1, Product=2, SerialNumber=3, the three strings below.
bcd_device = 0x0200
manufacturer = STMicroelectronics
product = DFU in FS Mode
# bcdUSB 2.00: OBSERVED on the G0C1 ROM of the same generation; for the U5 DERIVED.
bcd_usb = 0x0200
# Not in the U5 transcripts: 1024 as on the H7A3 and G4 ROMs of this generation (DERIVED); the DFU
# descriptor fields are the F4 ROM's (UNCONFIRMED).
transfer_size = 1024
detach_timeout = 255
dfu_attributes = 0x0B
dfu_version = 0x011A

# OBSERVED serial (listing 1). The HAL rule is OBSERVED on a U585 (data/uid-serial/
# st-community_U585_uid-to-dfu-serial_...); the UID below is made up to give this serial:
# 0x00430021 + 0x202E3665 = 0x20713686, UID1 >> 16 = 0x3530.
serial = 207136863530
uid = 00430021 3530500B 202E3665
# UID at 0x0BFA0700, flash size at 0x0BFA07A0 (src/chip/families.c, RM0456, UNCONFIRMED there).
uid_addr = 0x0BFA0700
flash_size_addr = 0x0BFA07A0
flash_size_kb = 2048

# OBSERVED strings.
alt = @Internal Flash   /0x08000000/256*08Kg
alt = @Option Bytes   /0x40022040/01*64 e
alt = @OTP Memory   /0x0BFA0000/01*512 e

# SRAM1-3 768 KB from 0x20000000 (RM0456 memory map).
ram = 0x20000000 786432

# Option bytes: the FLASH registers from FLASH_OPTR (0x40022040, RM0456 "FLASH option register"):
# OPTR, NSBOOTADD0R, NSBOOTADD1R, SECBOOTADD0R, SECWM1R1, SECWM1R2, WRP1AR, WRP1BR, SECWM2R1,
# SECWM2R2, WRP2AR, WRP2BR, then OEM keys (write-only). RDP = OPTR[7:0] (0xAA level 0). OPTR,
# NSBOOTADDxR and WRP1xR hold the reset values of the host's table (src/chip/ob_tables_lwu.c,
# RM0456); the secure and bank-2 words are UNCONFIRMED (0xFF here). The host decodes this block
# (decode-only: ob_layout_u5, not writable).
ob_rdp_offset = 0
ob_default = AA F8 EF 1F  7F 00 00 08  7F 00 F9 0B  FF FF FF FF  FF FF FF FF  FF FF FF FF  FF 00 00 00  FF 00 00 00  FF FF FF FF  FF FF FF FF  FF FF FF FF  FF FF FF FF  FF FF FF FF  FF FF FF FF  FF FF FF FF  FF FF FF FF
ob_upload = any

start_state = dfuIDLE

# Timing: no U5 log (UNCONFIRMED). DS13086 flash: 8 KB page erase typ about 1.5 ms? not checked here:
# the G4 values below are placeholders, UNCONFIRMED.
timing = 1
prog_width = 8
t_prog_us = 59
t_erase = 8K 22
t_mass_erase = 22.1
t_reset = 230
poll_erase = 100
poll_program = 104
poll_after_busy = zero
poll_manifest = 1
busy_reply = busy
# Leave: "Submitting leave request..." then "dfu-util: Error during download get_status" on the
# U575-class board (listing 3) and on the H7A3 (OBSERVED): the ROM starts the application before
# it answers the GETSTATUS after the leave.
leave_status = none

# System memory at 0x0BF90000, 64 KB as stm32flash's 0x482 row has it (dev_table after 0.7, commit
# cae1bb8; RM0456 memory map: the size is UNCONFIRMED here).
rom = 0x0BF90000 65536

# USART bootloader (AN3155; docs/usart.md). Device ID 0x482 and protocol version 3.1: OBSERVED on a
# real U585CIU6 (CubeProgrammer 2.4.0 over UART: "Chip ID: 0x482", "BootLoader protocol version:
# 3.1", community.st.com td-p/648581, 2024-03-09). The GET list: the v3.1 default (no Get
# Checksum), UNCONFIRMED. Not in stm32flash 0.7's table (added after it). Rate: 115200 (AN3155 2).
uart_device_id = 0x482
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x482: 0x20004000-0x200C0000.
uart_ram = 0x20004000 0xBC000
uart_version = 0x31
uart_max_baud = 115200
