# STM32F427/F429/F437/F439 (device ID 0x419, 2 MiB, two banks) ROM DFU bootloader.
# No `dfu-util -l` of an F42x is in the data: the strings are the F407's (profiles/f407.profile,
# OBSERVED there) with the flash string of the dual-bank part, DERIVED: the F40x map twice
# (RM0090 3.3 Table 6). The length of that string is what the field report measured:
# data/field/st-community_F42x_iInterface-string-bLength-166-vs-112-bytes.txt gives bLength 166,
# which is 2 + 2 x 82 characters, this string's length.
base = f407
name = f429
alt = @Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg,04*016Kg,01*064Kg,07*128Kg
alt = @Option Bytes  /0x1FFFC000/01*016 e
alt = @OTP Memory /0x1FFF7800/01*512 e,01*016 e
alt = @Device Feature/0xFFFF0000/01*004 e
# OBSERVED (same report): the ROM sends 112 bytes of that descriptor although bLength says 166; the
# F40x is not affected. 112 bytes are 55 characters: the string stops after the first bank
# ("...07*128Kg"), so a host that reads only what came sees a 1 MiB chip. String index 4 is the
# first alt's iInterface (the F4 descriptor set).
string_cut = 4 112
flash_size_kb = 2048
# A made-up UID and its F2/F4-rule serial (0x00290042 + 0x20323447 = 0x205B3489, UID1 >> 16 = 0x3336).
uid = 00290042 3336510B 20323447
serial = 205B34893336
# SRAM1-3 192 KB from 0x20000000 (RM0090 memory map, F42x).
ram = 0x20000000 196608

# USART bootloader (docs/usart.md): the F42x device ID (the F407's keys are inherited otherwise).
# Two banks: the Extended Erase bank codes FFFE/FFFD are taken (AN3155 3.8 lists them for dual-bank
# parts; that this ROM takes them is UNCONFIRMED).
uart_device_id = 0x419
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x419: 0x20003000-0x20030000.
uart_ram = 0x20003000 0x2D000
uart_banks = 2
