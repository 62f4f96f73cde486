# STM32H750 (device ID 0x450, 128 KiB) ROM DFU bootloader.
# Matched against data/dfu-list/nuttx-weact-stm32h750_H750_dmesg_dfu-util-l_download.txt (WeAct
# board): dmesg (bcdDevice 2.00, product "DFU in FS Mode", manufacturer, serial), dfu-util -l (two alt
# settings, three spaces after the names), and the download transcript (transfer size 1024, DFU
# version 011a, first status dfuIDLE).
vid = 0x0483
pid = 0xDF11
# OBSERVED (dmesg): bcdDevice= 2.00, Product: DFU in FS Mode, Manufacturer: STMicroelectronics.
bcd_device = 0x0200
manufacturer = STMicroelectronics
product = DFU in FS Mode
# bcdUSB 2.00: OBSERVED on the G0C1 ROM of the same generation (data/dfu-list/st-community_G0C1VET6_...,
# lsusb); for the H750 DERIVED.
bcd_usb = 0x0200
# OBSERVED: "Device returned transfer size 1024", "DFU mode device DFU version 011a".
transfer_size = 1024
dfu_version = 0x011A
# Not in the transcript: the F4 ROM's values (dfu-util prints no attributes there), UNCONFIRMED.
detach_timeout = 255
dfu_attributes = 0x0B

# OBSERVED: the ROM serial 200000500000 is not derived from the UID (H7, protocol.md 5.2; the
# H745 case in data/uid-serial/rom-serial-anomalies_... gives the UID and a serial that is not its
# HAL form). No UID was published for this board: the one below is made up.
serial = 200000500000
uid = 00300021 3439510F 30363532
uid_addr = 0x1FF1E800

# OBSERVED: the ROM advertises the die's 16 x 128 KiB on a 128 KiB part (the flash-size register
# below says 128). How the ROM treats writes past 128 KiB is UNCONFIRMED: modelled as the die's flash.
alt = @Internal Flash   /0x08000000/16*128Kg
alt = @Option Bytes   /0x5200201C/01*128 e

# Flash-size register (RM0433 "Flash size", 0x1FF1E880), KiB.
flash_size_addr = 0x1FF1E880
flash_size_kb = 128
# System memory 128 KB at 0x1FF00000 (AN2606, STM32H74xxx/75xxx section: UNCONFIRMED size).
rom = 0x1FF00000 131072
# AXI SRAM 512 KB from 0x24000000 and DTCM 128 KB from 0x20000000 (RM0433 memory map); the
# application's initial MSP may point into either.
ram = 0x20000000 131072
ram = 0x24000000 524288
msp_range = 0x20000000 0x24080000

# Option bytes: the FLASH option registers from OPTSR_CUR (RM0433 4.9; src/chip/ob_tables_lgh.c):
# +0x00 OPTSR_CUR, +0x04 OPTSR_PRG, +0x1C WPSN_CUR1R, +0x20 WPSN_PRG1R, +0x24 BOOT_CURR,
# +0x28 BOOT_PRGR; other words read 0 here (UNCONFIRMED). RDP = OPTSR[15:8]; nWRP = WPSN[7:0].
ob_default = D0 AA 06 00 D0 AA 06 00 00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00 00 00 00 00 FF 00 00 00  FF 00 00 00 00 08 F0 1F 00 08 F0 1F 00 00 00 00  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
ob_rdp_offset = 1
ob_wrp_offsets = 28
ob_wrp_bits = 8

# OBSERVED: "DFU state(2) = dfuIDLE, status(0)" as the first status.
start_state = dfuIDLE

# Timing: sector erase about 0.9 s per 128 KiB sector, OBSERVED on an H743 rev V
# (data/cubeprog/st-community_H743ZI-RevV_...: erase request 13:05:04:122, status 13:05:05:025).
# Program time per 256-bit flash word: UNCONFIRMED (the F4 value per byte is kept).
timing = 1
t_erase = 128K 900
# Mass erase: about 6.5 s on an H743 (the same die) over UART with CubeProgrammer 2.9, its
# page-wise erase about 4.8 s (data/uart/NOTES-behaviour-from-prose.md, restating a log held back:
# OBSERVED in prose only); 16 sectors at the sector time above would be 14.4 s, so the banks are
# not erased sector by sector.
t_mass_erase = 6500
t_reset = 230
# Reported polls: UNCONFIRMED for H7 (the F4 ROM's, protocol.md 2.7).
poll_erase = 100
poll_program = 104
poll_after_busy = zero
poll_manifest = 1
# The ROM does not answer while the flash works, and it is the FIRST GETSTATUS that waits. OBSERVED
# on an H743 (same ROM, data/cubeprog/st-community_H743ZI-RevV_...): each sector erase's dfuDNBUSY
# reply reaches CubeProgrammer 0.9 s after the request, dfuDNLOAD-IDLE 1-2 ms later; for the H750
# DERIVED (one ROM for H74x/H75x, AN2606). Any other request meanwhile also waits (as `hold`).
busy_reply = hold_first
# Option-byte reads longer than the alt string's 128 bytes are served: CubeProgrammer reads 308
# bytes at 0x5200201C on an H743 (0x450) on connect (OBSERVED, protocol.md 6). Past the block: 0xFF, UNCONFIRMED.
ob_upload = any
# Leave: the ROM resets before it answers the GETSTATUS after the leave request (OBSERVED, the
# nuttx transcript: "Submitting leave request..." then "dfu-util: Error during download get_status",
# which the board doc says to ignore).
leave_status = none

# USART bootloader (AN3155; docs/usart.md). Device ID 0x450 (RM0433 DBGMCU_IDCODE, H74x/H75x).
# Version 0x31: OBSERVED on a real H750 by stm32loader ("Bootloader version: 0x31", "Chip id:
# 0x450", github.com/florisla/stm32loader issue 67, 2023-10-09), which then erased with Extended
# Erase 0x44; the same ROM let it read the UID (0x1FF1E800) and the flash-size register (0x1FF1E880:
# "Flash size: 128 KiB", the issue's comment of 2023-10-13), which the USART map is cut to here.
# The rest of the GET list is the v3.1 default (no Get Checksum), DERIVED; Option 1/2
# 0x00 UNCONFIRMED (no H7 stm32flash header found). Rate: AN3155 2's 115200 (DOCUMENTED).
# Writes over USART are whole 32-byte flash words on H7 (a 16-byte write leaves every second one
# 0xFF, NOTES-behaviour-from-prose.md, H742): the host's write_align (chip/families.c) is 32.
uart_device_id = 0x450
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x450: 0x20004100-0x20020000, the DTCM only: whether
# the ROM takes the AXI SRAM is UNCONFIRMED, the least kind choice NACKs it.
uart_ram = 0x20004100 0x1BF00
uart_version = 0x31
uart_max_baud = 115200
