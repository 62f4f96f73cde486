# STM32F0 32 KiB part (F042/F072-class USB ROM) DFU bootloader.
# Matched against data/captures/sigrok-dumps_stm32_dfu_install.derived-usb_request.txt (a real
# ROM session, byte for byte), data/dfu-list/EugenePY-AKIRA_F0-32K_... and ozseccon2019-badge_F0...
vid = 0x0483
pid = 0xDF11
bcd_device = 0x2200
manufacturer = STMicroelectronics
product = STM32  BOOTLOADER
transfer_size = 2048
detach_timeout = 255
dfu_attributes = 0x0B
dfu_version = 0x011A

# All three sources show this constant serial (protocol.md 5.2: F3 rule on all-0xFF words).
serial = FFFFFFFEFFFF

alt = @Internal Flash  /0x08000000/032*0001Kg
alt = @Option Bytes  /0x1FFFF800/01*016 e

# SRAM 6 KB (F042) from 0x20000000; the captured application's MSP is 0x20001800.
ram = 0x20000000 6144
# UID at 0x1FFFF7AC, flash size at 0x1FFFF7CC (RM0091 "Device electronic signature"); left
# unmapped here, as the ROM serial suggests it reads erased words.
flash_size_addr = 0x1FFFF7CC
flash_size_kb = 32

# Option bytes (RM0091 4 "Option bytes", Table 11): RDP nRDP USER nUSER Data0 nData0 Data1 nData1
# WRP0 nWRP0 WRP1 nWRP1 WRP2 nWRP2 WRP3 nWRP3; ST production value 0x00FF55AA at 0x1FFFF800.
ob_default = AA 55 FF 00 FF 00 FF 00  FF 00 FF 00 FF 00 FF 00
ob_rdp_offset = 0
# WRPx bit = 0 protects (RM0091 4.1.3); on 32 KB parts each bit guards 4 pages of 1 KB.
ob_wrp_offsets = 8 10
ob_wrp_bits = 8
ob_wrp_sectors_per_bit = 4

# Starts in dfuERROR / errFIRMWARE (capture line 6; ozseccon listing "state = dfuERROR, status = 10").
start_state = dfuERROR
start_status = errFIRMWARE

# Timing: STM32F042 datasheet (DS10360) "Flash memory characteristics": tPROG 16-bit 40..53.5..60 us
# (typ 53.5), tERASE page 20..40 ms, tME 20..40 ms; we use typ 53.5 us and the 40 ms maxima.
timing = 1
prog_width = 2
t_prog_us = 53.5
t_erase = 1K 40
t_mass_erase = 40
t_ob = 40
t_reset = 230
# Reported polls, OBSERVED in the capture: erase 40 ms (0x28), set address and every data block
# 72 ms (0x48), and the dfuDNLOAD-IDLE status that follows repeats it; leave: 1 ms in dfuMANIFEST.
poll_erase = 40
poll_program = 72
poll_set_address = 72
poll_after_busy = same
poll_manifest = 1
# Early GETSTATUS: STALLed, OBSERVED on an STM32F072 (data/field/openmv-1508_F072_...: pydfu sends
# the second GETSTATUS after a data DNLOAD at once and gets a pipe error; dfu-util, which waits the
# poll, works on the same chip). The state after the STALL is UNCONFIRMED: dfuERROR/errSTALLEDPKT
# here (the least kind; the block's programming still runs to its end).
busy_reply = stall_error

# USART bootloader (AN3155; docs/usart.md). Device ID 0x445: STM32F04x (RM0091 DBGMCU_IDCODE;
# stm32flash 0.7 names it "STM32F04xxx/F070x6"). Version 0x31 and Option 1/2 0x00: OBSERVED on the
# F072 of the same F0 ROM generation (data/uart/UNRESOLVED-REPO_klipper-adxl-ru_F072-0x448_...,
# stm32flash 0.5 header), DERIVED for the F04x. The GET list is the v3.1 one (Extended Erase 0x44,
# no Get Checksum: AN3155 3.1, the F072's stm32flash erased with it), DERIVED. Rate: AN3155 2's
# 115200 maximum (DOCUMENTED); the F072 log ran at 57600.
# System memory: 13 KB at 0x1FFFC400 on the F04x (RM0091 Table 3; stm32flash 0.7 prints "System
# RAM : 13KiB" for 0x445), in chip/memmap.c for the USART map; not modelled here as a `rom` region,
# since it would map the UID words above (0x1FFFF7AC lies inside it) that this profile leaves unmapped.
uart_device_id = 0x445
# The RAM this USART ROM serves to Write/Read Memory (the rest NACKed, its own RAM included):
# AN2606's device table as stm32flash's dev_table.c has it
# (data/uart/stm32flash-devtable-numbers.md), 0x445: 0x20001800-0x20001800, none left for a host.
uart_ram = 0x20001800 0
uart_version = 0x31
uart_max_baud = 115200
