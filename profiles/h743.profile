# STM32H743 rev V (device ID 0x450, 2 MiB, two banks of 8 x 128 KiB) ROM DFU bootloader.
# No `dfu-util -l` of an H743 is in the data. The H74x/H75x share one ROM and one die (AN2606), so the
# strings, descriptors and option-byte window are the H750's (profiles/h750.profile, OBSERVED there):
# DERIVED. The H750 listing already advertises 16*128Kg, which is this part's real flash.
# Evidence of this part: data/cubeprog/st-community_H743ZI-RevV_verbose-sector-erase-dfu-states.txt
# (sector erase about 0.9 s; sectors 8..15, the second bank, stay in dfuDNBUSY: the wedge).
base = h750
name = h743
flash_size_kb = 2048
# A made-up UID; the serial is not UID-derived on H7 (protocol.md 5.2), also made up here.
uid = 00410032 3532510A 31383131
serial = 2064365B3532
# SRAM1-3 in D2 (288 KB from 0x30000000) besides DTCM and AXI SRAM (RM0433 memory map).
ram = 0x20000000 131072
ram = 0x24000000 524288
ram = 0x30000000 294912
# The rev V erase wedge (OBSERVED, betaflight PR #1861 and PR #5348, data/cubeprog/...H743ZI-RevV...):
# an erase of sectors 8-15 (bank 2, from 0x08100000) erases, then stays in dfuDNBUSY until two
# CLRSTATUS. busy_reply = hold comes from h750.
erase_wedge = 0x08100000
