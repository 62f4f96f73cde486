# STM32F411xC/E (device ID 0x431, 512 KiB) ROM DFU bootloader.
# Evidence: data/dfu-list/unicorne-8_F411_dfu-util-download_dfuERROR-status10.txt (dfu-util 0.9
# download): the ROM starts in dfuERROR with status 10 (errFIRMWARE), dfu-util clears it, transfer
# size 2048, DfuSe interface name "Internal Flash  " (two spaces). No `dfu-util -l` listing of an
# F411 is in the data: the alt strings are the F401's (same 512 KiB sector map, RM0383 3.3), DERIVED.
base = f401
# Serial: the HAL rule (protocol.md 5.1); the UID is made up (no F411 UID was published).
serial = 3358577A3137
uid = 00250041 3137510E 33335739
# Bootloader ID 0xD0 (AN2606 Table 3, STM32F411xx: UNCONFIRMED, as in src/chip/families.c).
bootloader_id = 0xD0
# SRAM 128 KB (RM0383 memory map).
ram = 0x20000000 131072
# OBSERVED (unicorne-8 above): "Determining device status: state = dfuERROR, status = 10".
start_state = dfuERROR
start_status = errFIRMWARE
# Early GETSTATUS (docs/rom-quirks.md): held until the flash work ends, as on the F407/F746 models:
# pydfu polls F4 ROMs at once and needs dfuDNLOAD-IDLE (OBSERVED by its use); ST-MW runs the work in
# the USB interrupt (DERIVED); protocol.md 2.7a.
busy_reply = hold

# USART bootloader (AN3155; stm32dfu-sim --uart, docs/usart.md). GET ID answers the device ID;
# protocol version 0x31 (OBSERVED: stm32flash headers of real F405/F407/F411/F446 in data/uart);
# 921600 baud followed by a real F405 (OBSERVED: data/uart/betaflight-configurator-376_...), so the F4 profiles allow it.
# The GET list is the v3.1 one (00 01 02 11 21 31 44 63 73 82 92, the default): no Get Checksum.
uart_device_id = 0x431
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x431: 0x20003000-0x20020000.
uart_ram = 0x20003000 0x1D000
uart_version = 0x31
uart_max_baud = 921600
