# STM32H7A3/H7B3 (device ID 0x480, 2 MiB of 8 KiB sectors) ROM DFU bootloader.
# Matched against the H7A3ZIT6 listing of data/field/dfu-util-l_U585-U575_H7A3_256x8K-listings_
# leave-get_status-error.txt (markus-zzz/m64-misc README): ver=0200, three alts, serial
# 336D396B3434, "Device returned transfer size 1024", and the leave answered by no GETSTATUS.
base = h750
name = h7a3
# OBSERVED: "Device returned transfer size 1024", DFU version 011a, first status dfuIDLE.
transfer_size = 1024
serial = 336D396B3434
# A made-up UID (the H7 serial is not UID-derived, protocol.md 5.2); UID at 0x08FFF800 and flash
# size at 0x08FFF80C (src/chip/families.c, RM0455, UNCONFIRMED there).
uid = 00200031 3434510B 32303338
uid_addr = 0x08FFF800
flash_size_addr = 0x08FFF80C
flash_size_kb = 2048
alt = @Internal Flash   /0x08000000/256*08Kg
alt = @Option Bytes   /0x5200201C/01*297 e
alt = @OTP Memory   /0x08FFF000/01*1024 e
# System memory 128 KB at 0x1FF00000 (AN2606, UNCONFIRMED size); AXI SRAM 1 MB from 0x24000000 and
# DTCM 128 KB (RM0455 memory map).
rom = 0x1FF00000 131072
ram = 0x20000000 131072
ram = 0x24000000 1048576
msp_range = 0x20000000 0x24100000
# Option bytes: the FLASH option registers from OPTSR_CUR (RM0455), RDP = OPTSR[15:8]; the 297-byte
# window's first 128 bytes are the h750's (WPSN_CUR1R at +0x1C reads FF: nothing protected), the
# rest UNCONFIRMED (0); WRP is not modelled
# (RM0455 groups sectors per WPSN bit; the grouping is not checked here).
ob_default = D0 AA 06 00 D0 AA 06 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 FF 00 00 00 FF 00 00 00 00 08 F0 1F 00 08 F0 1F 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
ob_rdp_offset = 1
ob_wrp_bits = 0
# Timing: no H7A3 log. 8 KiB sector erase and program times UNCONFIRMED (the h750's per-KiB figure
# scaled: 900 ms per 128 KiB, about 56 ms per 8 KiB).
t_erase = 8K 56
t_mass_erase = 14400

# USART bootloader (AN3155; docs/usart.md). Device ID 0x480 (RM0455 DBGMCU_IDCODE, H7A3/H7B3/H7B0),
# set here so that the h750 base's 0x450 is not inherited. Version 0x31 and the v3.1 GET list:
# UNCONFIRMED (no H7A3 USART log; the H750's ROM of the same series answers 0x31, OBSERVED there).
# Not in stm32flash 0.7's table ("Unknown/unsupported device"). Rate: 115200 (AN3155 2).
uart_device_id = 0x480
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x480, a row commented out in stm32flash 0.7:
# 0x20004100-0x20020000; AXI SRAM as h750.
uart_ram = 0x20004100 0x1BF00
uart_version = 0x31
uart_max_baud = 115200
