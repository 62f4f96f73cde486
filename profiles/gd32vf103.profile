# GigaDevice GD32VF103CB (RISC-V, 128 KiB): a non-ST DfuSe bootloader in ROM, VID:PID 28e9:0189.
# No listing of it is in ../shared/data; the facts come from public sources, graded:
#  - dfu-util -l of a bare GD32VF103CBT6 (github.com/riscv-mcu/gd32-dfu-utils issue 5, elfmimi):
#      Found DFU: [28e9:0189] ver=0100, ... alt=0, name="@Internal Flash  /0x08000000/128*001Kg",
#      serial="3CBJ"                                           -> OBSERVED (copied in tests/peer/ref/)
#  - fwupd's recording of the same kind of device (github.com/fwupd/fwupd
#    plugins/dfu/tests/dfu-gd32vf103-setup.json): bcdDevice 0x0100, bcdUSB 0x0200, one DFU
#    interface (FE/01/02), and the serial string descriptor bytes 06 03 33 43 42 4A: the serial is
#    sent as raw UTF-8 "3CBJ", not UTF-16                         -> OBSERVED
#  - dfu-util's quirk table (quirks.c) for 28e9:0189: UTF-8 serial, a DfuSe layout it corrects from
#    the serial's part number, and a leave that gets no GETSTATUS   -> DERIVED (a peer's workaround)
#  - dfu-util 0.11 -v on one (sourceforge.net/p/dfu-util/tickets/148): DFU version 011a,
#    attributes 0x0b, detach timeout 255 ms, transfer size 2048, erase polls 60 ms then 0 ms
#                                                                  -> OBSERVED
vid = 0x28E9
pid = 0x0189
bcd_device = 0x0100
bcd_usb = 0x0200
# Strings 1 and 2: UNCONFIRMED (no published descriptor dump shows them).
manufacturer = GigaDevice
product = GD32 Device in DFU Mode
serial = 3CBJ
serial_encoding = utf8
transfer_size = 2048
detach_timeout = 255
dfu_attributes = 0x0B
dfu_version = 0x011A

alt = @Internal Flash  /0x08000000/128*001Kg

# SRAM 32 KB from 0x20000000 (GD32VF103 datasheet, CB parts).
ram = 0x20000000 32768

# Polls OBSERVED in ticket 148: 60 ms for a page erase, then 0 once done. Program poll and all
# device times: UNCONFIRMED (erase taken equal to the reported poll).
timing = 1
prog_width = 2
t_erase = 1K 60
poll_erase = 60
poll_program = 60
poll_after_busy = zero
poll_manifest = 1
# Early GETSTATUS: no data for this non-ST DfuSe clone: UNCONFIRMED; `busy` (dfuDNBUSY at once)
# makes a host prove its fallback to the poll.
busy_reply = busy
# Leave: dfu-util's quirk table sends no GETSTATUS after a GD32VF103's leave request ("They also
# 'leave' without a DFU_GETSTATUS request", quirks.c QUIRK_DFUSE_LEAVE): the device is gone at once.
# DERIVED from that peer's workaround.
leave_status = none

# USART: no `uart_device_id` on purpose. GigaDevice's ISP loaders are said to follow AN3155, and a
# GD32VF103 one is reported to list an extra command 0x06 in GET (data/uart/NOTES-behaviour-from-
# prose.md; a GD32VW553's lists 00 11 21 31 44 63 73 82 92 without 0x01 and 0x02, stm32loader PR 102),
# but no public log gives this part's Get ID answer, version or full GET list: a model of it would
# be made up. `--uart gd32vf103` is refused (uart_device_id needed) rather than guessed.
