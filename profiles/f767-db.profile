# STM32F767/F769 (device ID 0x451, 2 MiB) ROM DFU bootloader with nDBANK = 0: the flash is two banks
# of 1 MiB, 24 sectors (per bank 4 x 16 KiB, 1 x 64 KiB, 7 x 128 KiB; RM0410 "Flash memory
# organization", dual-bank mode), and each nWRP bit protects two sectors: bit i = sectors 2i and
# 2i+1 (ST HAL stm32f7xx_hal_flash_ex.h OB_WRP_DB_SECTOR_0 and _1 are both 0x00010000, ..., _22 and
# _23 both 0x08000000). Issue 22 item 6.
# The option word at 0x1FFF0008 is the OBSERVED F767 dump with nDBANK = 0, "1fff0008 2000dfff"
# (protocol.md 7.2: community.st.com "dual bank mode built-in bootloader doesn't seem to work
# properly"). The ROM's layout string in dual-bank mode was not seen in any listing: the one below
# is the RM0410 sector list in the ROM's F7 format, UNCONFIRMED. Descriptors, timing and polls are
# the F746 profile's (UNCONFIRMED for F76x), the erase times per size too (the F746 values of the
# sector size each one replaces, longer than the real smaller sectors: UNCONFIRMED).
base = f746
name = f767-db
# a made-up UID whose HAL serial is the F765's application serial 356F34533438; the ROM adds 0x0A to
# the low byte of UID0 + UID2 (protocol.md 5.2, OBSERVED on F765): 356F345D3438
uid = 00350021 34385108 353A3432
serial = 356F345D3438
alt = @Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg,04*016Kg,01*064Kg,07*128Kg
alt = @Option Bytes  /0x1FFF0000/01*032 e
alt = @OTP Memory /0x1FF0F000/01*1024 e,01*016 e
alt = @Device Feature/0xFFFF0000/01*004 e
# bootloader ID 0x93 = F76x (protocol.md 6)
bootloader_id = 0x93
flash_size_kb = 2048
# DTCM 128 KiB + SRAM1 368 KiB + SRAM2 16 KiB from 0x20000000 (RM0410 memory map)
ram = 0x20000000 524288
ob_default = FF AA 00 55 FF FF FF FF  FF DF 00 20 FF FF FF FF  80 00 7F FF FF FF FF FF  40 00 BF FF FF FF FF FF
# nWRP is OPTCR[27:16]: bits 0-7 in byte 8, bits 8-11 in the low nibble of byte 9
ob_wrp_offsets = 8 9
ob_wrp_bits = 12
ob_wrp_sectors_per_bit = 2
# nDBANK (byte 9 bit 5 of the block: OPTCR bit 29 at 0x1FFF0008) = 1 after a reset: one bank of 12
# sectors, 4 x 32, 1 x 128, 7 x 256 KiB, one nWRP bit each (RM0410 3.3.2); alt 0 says so, in the F746
# ROM's format (the F76x single-bank string: UNCONFIRMED, no listing seen)
bank_alt = 9 0x20 0x20 1 @Internal Flash  /0x08000000/04*032Kg,01*128Kg,07*256Kg
t_erase = 16K 400 250 200
t_erase = 64K 1100 800 550
t_erase = 128K 2000 1500 1000
# USART bootloader: GET ID answers the F76x device ID (DBGMCU DEV_ID 0x451, protocol.md 3.3); the
# rest is the F746's
uart_device_id = 0x451
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x451: 0x20004000-0x20080000.
uart_ram = 0x20004000 0x7C000
