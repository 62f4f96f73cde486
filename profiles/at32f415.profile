# Artery AT32F415 (not ST) ROM DfuSe bootloader, VID:PID 2e3c:df11.
# Matched against the AT32F415 listings of data/field/nonST_AT32_dfu-util-l_2e3c-df11_listings-and-
# READ_UNPROTECT.txt (listing 2, a Gotek; the same two strings on a CIDOO V65 AT32F415RBT7, listing 3):
# ver=0200, serial "AT32", "@Option Byte   " (singular, three spaces), "@Internal Flash  " (two)
# and "/ 128*1Kg" (a space before the count).
vid = 0x2E3C
pid = 0xDF11
# OBSERVED: ver=0200; fwupd names the device "DFU in FS Mode", version 2.0, vendor Artery-Tech.
bcd_device = 0x0200
product = DFU in FS Mode
# The manufacturer string is UNCONFIRMED (lsusb's "Artery-Tech" may come from its ID database).
manufacturer = Artery-Tech
# bcdUSB and the DFU descriptor fields other than the transfer size: UNCONFIRMED (ST ROM values).
bcd_usb = 0x0200
# OBSERVED: "Device returned transfer size 2048", "Device DFU version 011a".
transfer_size = 2048
dfu_version = 0x011A
detach_timeout = 255
dfu_attributes = 0x0B
serial = AT32
alt = @Internal Flash  /0x08000000/ 128*1Kg
alt = @Option Byte   /0x1FFFF800/02*016 e
# SRAM 32 KB from 0x20000000 (AT32F415 datasheet, UNCONFIRMED here).
ram = 0x20000000 32768
start_state = dfuIDLE
# OBSERVED (listing 2): the GETSTATUS after READ_UNPROTECT answers dfuDNLOAD-IDLE/OK, not dfuDNBUSY
# (dfu-util 0.11: "Wrong state after command READ_UNPROTECT download"), and the unprotect takes
# effect (the later download works). The chip then resets, as an ST ROM does (DERIVED). The option
# bytes are not decoded: no host table for Artery parts (decode-only, the AT32 reference manual's
# layout is not in the evidence), and RDP is not modelled (its level-0 value is not 0xAA).
unprotect_reply = idle
# Timing: no AT32 log (UNCONFIRMED): ST F1-class values.
timing = 1
prog_width = 4
t_prog_us = 50
t_erase = 1K 20
t_mass_erase = 40
t_reset = 230
poll_erase = 100
poll_program = 104
poll_after_busy = zero
poll_manifest = 1
busy_reply = busy

# USART: no `uart_device_id` on purpose. Artery's ISP loader is often said to be AN3155-compatible,
# but no log of an AT32F415 USART session (its Get ID answer, version and GET list) was found, and
# Artery's device IDs are not ST's: `--uart at32f415` is refused rather than guessed.
