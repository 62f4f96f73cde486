# STM32F446 (device ID 0x421, 512 KiB) ROM DFU bootloader.
# Matched against data/dfu-list/ok-STM32F4_F446-bootloaderID-0x90_dfu-util-l_serial-STM32FxSTM32.txt:
# alt strings, and the constant serial STM32FxSTM32 (also the FYSETC Spider's, data/uid-serial/
# rom-serial-anomalies_...). The README there gives "Bootloader ID: 0x90" at 0x1FFF76DE (AN2606).
base = f401
bcd_device = 0x2200
# OBSERVED: the ROM reports this constant, not a UID-derived serial. The UID is made up.
serial = STM32FxSTM32
uid = 00360021 3436470B 32383839
bootloader_id_addr = 0x1FFF76DE
bootloader_id = 0x90
# SRAM 128 KB (RM0390 memory map).
ram = 0x20000000 131072
# Start state: no F446 session in the data; dfuIDLE (the F407 default) is UNCONFIRMED.
start_state = dfuIDLE
start_status = OK
# Early GETSTATUS (docs/rom-quirks.md): held until the flash work ends, as on the F407/F746 models:
# pydfu polls F4 ROMs at once and needs dfuDNLOAD-IDLE (OBSERVED by its use); ST-MW runs the work in
# the USB interrupt (DERIVED); protocol.md 2.7a.
busy_reply = hold

# USART bootloader (AN3155; stm32dfu-sim --uart, docs/usart.md). GET ID answers the device ID;
# protocol version 0x31 (OBSERVED: stm32flash headers of real F405/F407/F411/F446 in data/uart);
# 921600 baud followed by a real F405 (OBSERVED: data/uart/betaflight-configurator-376_...), so the F4 profiles allow it.
# The GET list is the v3.1 one (00 01 02 11 21 31 44 63 73 82 92, the default): no Get Checksum.
uart_device_id = 0x421
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x421: 0x20003000-0x20020000.
uart_ram = 0x20003000 0x1D000
uart_version = 0x31
uart_max_baud = 921600
