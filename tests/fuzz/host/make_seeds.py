#!/usr/bin/env python3
"""Writes the seed corpus of the host_device fuzz target (fuzz_host_device.c) into
tests/fuzz/corpus/host_device/. Run it again after changing the input format; the files are
committed, so `make check` replays them without this script.

Seeds are of three kinds:
  plain-*    no rule: every reply comes from the emulator of a real ROM (recorded sessions, one per
             emulated family and session option);
  real-*     descriptors, strings and status answers real ROMs sent, from ../shared/data (the file
             is named beside each; the values are copied here so that CI needs no shared data);
  hostile-*  what a malicious or broken device could send: the 2^30-sector layout of issue 26,
             impossible descriptors, status answers that never end, short, long and garbled data,
             stalls, silence, unplugging at chosen points.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'corpus', 'host_device')

# enum cls and enum action of fuzz_host_device.c
(DEVICE, CONFIG, STRING, STD_OTHER, GETSTATUS, GETSTATE, UPLOAD_GET, UPLOAD, DNLOAD_CMD, DNLOAD,
 DNLOAD_ZERO, CLRSTATUS, ABORT, OTHER_CLASS, SET_ALT, REOPEN, ANY) = range(17)
(REPLY, STALL, TIMEOUT, IO, DISCONNECT, PATCH, SHORT, ACT_STALL, ACT_TIMEOUT) = range(9)
PROFILES = ['f746', 'f0-32k', 'l43x', 'g474', 'h743', 'f407', 'f401', 'l0-192k']
ALWAYS = 0


def from_nth(n):
    """nth byte for 'every matching transfer from the nth on'."""
    return 127 + n


def rule(cls, action, data=b'', key=0, nth=ALWAYS):
    return struct.pack('<BBBBH', cls, key, nth, action, len(data)) + data


def seed(profile, flags=0, *rules):
    return bytes([PROFILES.index(profile), flags]) + b''.join(rules)


def string_desc(text, blength=None):
    body = text.encode('utf-16-le')
    return bytes([blength if blength is not None else 2 + len(body), 3]) + body


def status(bstatus, state, poll_ms=0):
    return struct.pack('<B', bstatus) + struct.pack('<I', poll_ms)[:3] + bytes([state, 0])


def device_desc(vid=0x0483, pid=0xDF11, bcd_usb=0x0100, bcd_device=0x2200, mps=64, blength=18):
    return struct.pack('<BBHBBBBHHHBBBB', blength, 1, bcd_usb, 0, 0, 0, mps, vid, pid, bcd_device, 1, 2, 3, 1)


def config_desc(n_alts, transfer=2048, attrs=0x0B, first_string=4, total=None, bcd_dfu=0x011A, iface_len=9):
    body = b''
    for a in range(n_alts):
        body += struct.pack('<BBBBBBBBB', iface_len, 4, 0, a, 0, 0xFE, 1, 2, (first_string + a) & 0xFF)
    body += struct.pack('<BBBHHH', 9, 0x21, attrs, 255, transfer, bcd_dfu)
    wtotal = 9 + len(body) if total is None else total
    return struct.pack('<BBHBBBBB', 9, 2, wtotal, 1, 1, 0, 0xC0, 50) + body


# DFU states and statuses (DFU 1.1 §6.1.2)
dfuIDLE, dfuDNLOAD_SYNC, dfuDNBUSY, dfuDNLOAD_IDLE, dfuMANIFEST, dfuUPLOAD_IDLE, dfuERROR = 2, 3, 4, 5, 7, 9, 10
OK, errTARGET, errWRITE, errERASE, errVERIFY, errVENDOR, errFIRMWARE = 0, 1, 3, 4, 7, 0x0B, 0x0A

seeds = {}

# ---- plain: the emulator answers everything (recorded sessions of each family) ----
for p in PROFILES:
    seeds['plain-' + p] = seed(p)
for flags, what in [(1, 'full'), (2, 'no-verify'), (4, 'second-kb'), (8, 'confirm-reads'), (16, 'poll-spec'),
                    (32, 't1024')]:
    seeds['plain-f746-' + what] = seed('f746', flags)

# ---- real: what real ROMs sent ----
# lsusb/rust-dfu_lsusb_F4-512K_348435943539.txt: an F4 ROM's device and configuration descriptors
# (bcdUSB 1.00, bcdDevice 22.00, 4 alts with iInterface 4..7, bmAttributes 0x0B, wTransferSize 2048,
# bcdDFUVersion 1.1a) and its strings
f4_strings = {
    1: 'STMicroelectronics', 2: 'STM32  BOOTLOADER', 3: '348435943539',
    4: '@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg', 5: '@Option Bytes  /0x1FFFC000/01*016 e',
    6: '@OTP Memory /0x1FFF7800/01*512 e,01*016 e', 7: '@Device Feature/0xFFFF0000/01*004 e',
}
seeds['real-f4-lsusb'] = seed('f401', 0, rule(DEVICE, REPLY, device_desc()), rule(CONFIG, REPLY, config_desc(4)),
                              *[rule(STRING, REPLY, string_desc(t), key=i) for i, t in f4_strings.items()])
# captures/sigrok-dumps_stm32_dfu_install: an F0 ROM: string 4, serial FFFFFFFEFFFF, the first
# GETSTATUS in dfuERROR/errFIRMWARE, page erases answered dfuDNBUSY with 40 ms, data with 72 ms
seeds['real-f0-capture'] = seed(
    'f0-32k', 0,
    rule(STRING, REPLY, string_desc('@Internal Flash  /0x08000000/032*0001Kg'), key=4),
    rule(STRING, REPLY, string_desc('FFFFFFFEFFFF'), key=3),
    rule(GETSTATUS, REPLY, status(errFIRMWARE, dfuERROR), nth=1),
    rule(GETSTATUS, REPLY, status(OK, dfuDNBUSY, 40), nth=12),
    rule(GETSTATUS, REPLY, status(OK, dfuDNBUSY, 72), nth=20))
# dfu-list/unicorne-8_F411...: the ROM starts in dfuERROR with status 10
seeds['real-f411-dfuerror'] = seed('f401', 0, rule(GETSTATUS, REPLY, status(errFIRMWARE, dfuERROR), nth=1))
# field/st-community_F42x...: the flash string announces bLength 166 and 112 bytes arrive
f42x = string_desc('@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg,04*016Kg,01*064Kg,07*128Kg')
seeds['real-f42x-cut-string'] = seed('f407', 0, rule(STRING, REPLY, bytes([166]) + f42x[1:112], key=4))
# dfu-list/hausrack_G474CE...: option bytes in two regions of one string, three spaces after the name
seeds['real-g474-two-region-ob'] = seed(
    'g474', 0, rule(STRING, REPLY, string_desc('@Internal Flash   /0x08000000/256*02Kg'), key=4),
    rule(STRING, REPLY, string_desc('@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e'), key=5))
# dfu-list/bigclown...L0: no unit letter (128-byte pages)
seeds['real-l0-no-unit'] = seed('l0-192k', 0, rule(STRING, REPLY, string_desc('@Internal Flash  /0x08000000/1536*128g'), key=4))
# dfu-list/nuttx...H750: a ROM that advertises 16x128 KiB on a 128 KiB part
seeds['real-h750-advertises-more'] = seed('h743', 0,
                                          rule(STRING, REPLY, string_desc('@Internal Flash   /0x08000000/16*128Kg'), key=4))

# ---- hostile ----
flash = 4  # the flash alt's string index on the emulated ROMs (iInterface 4..)
seeds['hostile-layout-2p30'] = seed('f746', 0, rule(STRING, REPLY, string_desc('@Internal Flash /0x00000000/1073741824*1 g'), key=flash))
seeds['hostile-layout-2p30-at-flash'] = seed('f746', 0, rule(STRING, REPLY, string_desc('@Internal Flash /0x08000000/1073741824*1 g'), key=flash))
seeds['hostile-layout-wraps'] = seed('f746', 0, rule(STRING, REPLY, string_desc('@Internal Flash /0xFFFFF000/16*1Kg'), key=flash))
seeds['hostile-layout-overlap'] = seed('f746', 0, rule(STRING, REPLY, string_desc('@Internal Flash /0x08000000/4*32Kg/0x08004000/4*32Kg'), key=flash))
seeds['hostile-layout-zero'] = seed('f746', 0, rule(STRING, REPLY, string_desc('@Internal Flash /0x08000000/0*0Kg'), key=flash))
seeds['hostile-layout-huge-sector'] = seed('f746', 0, rule(STRING, REPLY, string_desc('@Internal Flash /0x08000000/1*4095Mg'), key=flash))
seeds['hostile-layout-empty-name'] = seed('f746', 0, rule(STRING, REPLY, string_desc('@/0x08000000/8*1Kg'), key=flash))
seeds['hostile-layout-options-as-flash'] = seed('f746', 0, rule(STRING, REPLY, string_desc('@Option Bytes /0x08000000/8*32Kg'), key=5))
seeds['hostile-strings-terminal'] = seed(
    'f746', 0, rule(STRING, REPLY, string_desc('\x1b]0;PWNED\x07\x1b[2J\x1b[31mEVIL'), key=3),
    rule(STRING, REPLY, string_desc('=cmd|\' /C calc\'!A0\r\n'), key=2),
    rule(STRING, REPLY, string_desc('@Internal Flash\x1b[2J /0x08000000/04*032Kg,01*128Kg,03*256Kg'), key=flash))
seeds['hostile-strings-surrogates'] = seed(
    'f746', 0, rule(STRING, REPLY, bytes([12, 3]) + struct.pack('<5H', 0xD800, 0x0041, 0xDC00, 0, 0xDBFF), key=3),
    rule(STRING, REPLY, bytes([255, 3]) + 'x'.encode('utf-16-le') * 126 + b'\xff', key=1))
seeds['hostile-string-bad-headers'] = seed(
    'f746', 0, rule(STRING, REPLY, bytes([1, 3]), key=3), rule(STRING, REPLY, bytes([10, 4, 65, 0]), key=2),
    rule(STRING, REPLY, b'', key=1), rule(STRING, REPLY, bytes([0, 3, 65, 0]), key=flash))
seeds['hostile-langid-stall'] = seed('f746', 0, rule(STRING, STALL, key=0))
seeds['hostile-device-desc-short'] = seed('f746', 0, rule(DEVICE, REPLY, device_desc()[:8]))
seeds['hostile-device-desc-blength-0'] = seed('f746', 0, rule(DEVICE, REPLY, device_desc(blength=0)))
seeds['hostile-device-desc-other-vid'] = seed('f746', 0, rule(DEVICE, REPLY, device_desc(vid=0x2E3C, pid=0xDF11, mps=8)))
seeds['hostile-config-total-huge'] = seed('f746', 0, rule(CONFIG, REPLY, config_desc(4, total=0xFFFF)))
seeds['hostile-config-total-short'] = seed('f746', 0, rule(CONFIG, REPLY, config_desc(4, total=9)))
seeds['hostile-config-iface-blength-0'] = seed('f746', 0, rule(CONFIG, REPLY, config_desc(4, iface_len=0)))
seeds['hostile-config-many-alts'] = seed('f746', 0, rule(CONFIG, REPLY, config_desc(200)))
seeds['hostile-config-no-functional'] = seed('f746', 0, rule(CONFIG, REPLY, config_desc(4)[:9 + 36]))
for t in (0, 1, 3, 0xFFFF):
    seeds['hostile-transfer-size-%d' % t] = seed('f746', 0, rule(CONFIG, REPLY, config_desc(4, transfer=t)))
seeds['hostile-dfu-1.0'] = seed('f746', 0, rule(CONFIG, REPLY, config_desc(4, bcd_dfu=0x0100, attrs=0)))
seeds['hostile-busy-forever-max-poll'] = seed('f746', 0, rule(GETSTATUS, REPLY, status(OK, dfuDNBUSY, 0xFFFFFF), nth=from_nth(3)))
seeds['hostile-busy-forever-zero-poll'] = seed('f746', 0, rule(GETSTATUS, REPLY, status(OK, dfuDNBUSY, 0), nth=from_nth(3)))
# 25 ms polls: 20,000 GETSTATUS for the whole run (1 ms made it 400,000: 20 s an input under ASan)
seeds['hostile-busy-forever-25ms'] = seed('f746', 0, rule(GETSTATUS, REPLY, status(OK, dfuDNBUSY, 25), nth=from_nth(3)))
seeds['hostile-status-stall-forever'] = seed('f746', 0, rule(GETSTATUS, STALL, nth=from_nth(3)))
seeds['hostile-status-error-forever'] = seed('f746', 0, rule(GETSTATUS, REPLY, status(errVENDOR, dfuERROR), nth=ALWAYS))
seeds['hostile-status-short'] = seed('f746', 0, rule(GETSTATUS, REPLY, bytes([0, 0])))
seeds['hostile-status-long'] = seed('f746', 0, rule(GETSTATUS, REPLY, status(OK, dfuIDLE) + b'\0'))
seeds['hostile-status-bad-state'] = seed('f746', 0, rule(GETSTATUS, REPLY, status(0xFF, 0xEE, 0x123456), nth=from_nth(2)))
seeds['hostile-status-upload-idle'] = seed('f746', 0, rule(GETSTATUS, REPLY, status(OK, dfuUPLOAD_IDLE), nth=from_nth(4)))
seeds['hostile-upload-short'] = seed('f746', 0, rule(UPLOAD, SHORT, b'\x03'))
seeds['hostile-upload-empty'] = seed('f746', 0, rule(UPLOAD, REPLY, b''))
seeds['hostile-upload-long'] = seed('f746', 0, rule(UPLOAD, REPLY, b'\xAA' * 4096))
seeds['hostile-upload-garbled'] = seed('f746', 0, rule(UPLOAD, PATCH, b'\x10\xFF\x01\x80', nth=from_nth(2)))
seeds['hostile-upload-flip-once'] = seed('f746', 8, rule(UPLOAD, PATCH, b'\x00\x01', nth=5))
seeds['hostile-upload-stall'] = seed('f746', 0, rule(UPLOAD, STALL, nth=from_nth(1)))
seeds['hostile-upload-vendor'] = seed('f746', 0, rule(UPLOAD, STALL), rule(GETSTATUS, REPLY, status(errVENDOR, dfuERROR), nth=from_nth(3)))
seeds['hostile-get-commands-garbage'] = seed('f746', 0, rule(UPLOAD_GET, REPLY, b'\x00\x21\x41\x92' + b'\xFF' * 60))
seeds['hostile-stall-all'] = seed('f746', 0, rule(ANY, STALL, nth=from_nth(1)))
seeds['hostile-timeout-all'] = seed('f746', 0, rule(ANY, TIMEOUT, nth=from_nth(1)))
seeds['hostile-io-all-after-open'] = seed('f746', 0, rule(ANY, IO, nth=from_nth(40)))
for n in (12, 30, 60, 90, 140, 200):
    seeds['hostile-unplug-at-%d' % n] = seed('f746', 0, rule(ANY, DISCONNECT, nth=n))
seeds['hostile-unplug-never-back'] = seed('f746', 0, rule(ANY, DISCONNECT, nth=100), rule(REOPEN, STALL))
seeds['hostile-dnload-stall-mid'] = seed('f746', 0, rule(DNLOAD, STALL, nth=1))
seeds['hostile-dnload-acted-timeout'] = seed('f746', 0, rule(DNLOAD, ACT_TIMEOUT, nth=from_nth(1)))
seeds['hostile-erase-acted-stall'] = seed('f746', 0, rule(DNLOAD_CMD, ACT_STALL, nth=from_nth(2)))
seeds['hostile-erase-error'] = seed('f746', 0, rule(DNLOAD_CMD, REPLY, nth=from_nth(2)),
                                    rule(GETSTATUS, REPLY, status(errERASE, dfuERROR), nth=from_nth(30)))
seeds['hostile-set-alt-lies'] = seed('f746', 0, rule(SET_ALT, REPLY, key=1), rule(SET_ALT, REPLY, key=0))
seeds['hostile-set-alt-stall'] = seed('f746', 0, rule(SET_ALT, STALL, key=1))
seeds['hostile-clrstatus-stall'] = seed('f746', 0, rule(GETSTATUS, REPLY, status(errFIRMWARE, dfuERROR), nth=1),
                                        rule(CLRSTATUS, STALL, nth=from_nth(1)))
seeds['hostile-abort-ignored'] = seed('f746', 0, rule(ABORT, REPLY, nth=from_nth(1)),
                                      rule(GETSTATUS, REPLY, status(OK, dfuUPLOAD_IDLE), nth=1))
seeds['hostile-getstate-garbage'] = seed('f746', 0, rule(GETSTATE, REPLY, b'\xEE\xEE'))

os.makedirs(OUT, exist_ok=True)
for name, data in sorted(seeds.items()):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
print('wrote %d seeds to %s' % (len(seeds), os.path.relpath(OUT)))
