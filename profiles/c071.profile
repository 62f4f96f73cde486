# STM32C071 (device ID 0x493, 128 KiB) ROM DFU bootloader.
# No `dfu-util -l`, lsusb or CubeProgrammer log of a C0 ROM was found (data/ has none; searched again
# 2026-12-07 in public issues, pages, code and docs for C071/C031 DFU listings, "DFU in FS Mode" with
# C0, the C071's 64*02Kg string, the device ID 0x493 in CubeProgrammer logs: only a C071 board that
# never enumerated, and application DFU stacks on C071): the descriptors and the
# string are the G0 ROM's of the same generation (data/dfu-list/st-community_G0C1VET6_...: ver=0200,
# "DFU in FS Mode", every alt the flash string, three spaces after the name), with the C071's
# 64 x 2 KiB flash (RM0490 flash memory organisation). UNCONFIRMED as a whole, except the leave rule.
vid = 0x0483
pid = 0xDF11
bcd_device = 0x0200
bcd_usb = 0x0200
manufacturer = STMicroelectronics
product = DFU in FS Mode
transfer_size = 1024
detach_timeout = 255
dfu_attributes = 0x0B
dfu_version = 0x011A
# Made up (HAL rule assumed, UNCONFIRMED).
serial = 2061346E3030
uid = 00210041 3030500E 20403432
uid_addr = 0x1FFF7550
flash_size_addr = 0x1FFF75A0
flash_size_kb = 128
alt = @Internal Flash   /0x08000000/64*02Kg
# SRAM 24 KB from 0x20000000 (RM0490 memory map).
ram = 0x20000000 24576
start_state = dfuIDLE
# OBSERVED (data/field/LibUsbDfu-13_C071G8U6_...): a zero-length DNLOAD that does not follow a Set
# Address ends in dfuERROR at its GETSTATUS; CubeProgrammer (and dfu-util's :leave) send Set Address
# 0x08000000 first, which makes it work. The status is UNCONFIRMED ("reason: ?"): errUNKNOWN here.
leave_needs_address = 1
# Timing: no C0 log (UNCONFIRMED); the G0 ROM generation's values are not known either: the F4
# reported polls and the datasheet-free defaults below.
timing = 1
prog_width = 8
t_prog_us = 85
t_erase = 2K 22
t_mass_erase = 22
t_reset = 230
poll_erase = 100
poll_program = 104
poll_after_busy = zero
poll_manifest = 1
busy_reply = busy

# USART bootloader (AN3155; stm32dfu-sim --uart, docs/usart.md). Device ID 0x493: STM32C071
# (RM0490 DBGMCU_IDCODE, as recalled: UNCONFIRMED; not in stm32flash 0.7's table). No C0 USART log
# was found (a C071 board that never answered 0x7F, community.st.com td-p/821894, is a wiring case:
# its poster names USART1 PA9/PA10). Protocol version 3.1 and the v3.1 GET list (no Get Checksum)
# are UNCONFIRMED: the least kind choice (a host that reads back is never wrong where 0xA1 exists).
# Rate: AN3155 2's 115200 maximum (DOCUMENTED); no C0 faster rate observed.
uart_device_id = 0x493
uart_version = 0x31
uart_max_baud = 115200
