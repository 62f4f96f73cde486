#!/bin/sh
# Issue 15 item 4: write into the other memories the device lists. OTP (F746 profile, alt 2 at
# 0x1FF0F000, RM0385: one-time programmable, bits only clear): refused without
# --i-understand-otp-is-permanent, written and verified with it, a write needing a 0->1 bit
# refused with nothing written, an equal write a no-op, errors naming the memory.
# RAM (served without being listed, AN2606 Table 5) and the raw option-byte block (protocol.md
# 2.6, 7.2) by address or --alt N: RAM read back, never into the bootloader's own 16 KB (F7,
# protocol.md 2.3); option bytes only whole and behind ob set's flags; a serial number into OTP.
# Usage: memories.sh STM32DFU  (env: STM32DFU_PROFILE_DIR)
set -u
tool=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sim="--sim=f746,timing=0,state=$work/chip.state"
otp=0x1FF0F000
ok=--i-understand-otp-is-permanent
fails=0
fail() { echo "FAIL $*"; sed 's/^/    /' "$work/err" | head -5; fails=$((fails + 1)); }
run() { "$tool" "$@" >"$work/out" 2>"$work/err"; }
hex() { od -v -An -tx1 "$1" | tr -d ' \n'; }
otp_now() { run $sim read $otp 64 -o "$work/now.bin" || fail "read OTP"; hex "$work/now.bin"; }

blank=$(otp_now)
[ "$blank" = "$(printf 'ff%.0s' $(seq 64))" ] || fail "a fresh F746 OTP is not erased: $blank"
bytes() { python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$1" >"$2"; }
bytes 12345678a55a00f0 "$work/sn.bin"

# without the flag: refused, exit 11 (needs confirmation), nothing written
run $sim write "$work/sn.bin" -a $otp
rc=$?
[ $rc = 11 ] || fail "OTP write without the flag: exit $rc, expected 11"
grep -q "OTP Memory at 0x1FF0F000" "$work/err" || fail "the refusal does not name the OTP memory"
grep -q -- "$ok" "$work/err" || fail "the refusal does not name the flag"
[ "$(otp_now)" = "$blank" ] || fail "a refused OTP write changed the OTP"

# with it: programmed and verified by read-back
run $sim write "$work/sn.bin" -a $otp $ok || fail "OTP write with the flag"
grep -q "program  8 bytes" "$work/out" || fail "OTP write: not 8 bytes programmed"
grep -q "verify   8 bytes .*OK" "$work/out" || fail "OTP write: not verified"
grep -q "memory   OTP Memory at 0x1FF0F000: one-time programmable" "$work/out" || fail "OTP summary names no memory"
grep -Eq "sector|^erase|flash" "$work/out" && fail "the OTP summary speaks of flash sectors or erasing"
got=$(otp_now)
[ "${got%"${got#????????????????}"}" = 12345678a55a00f0 ] || fail "OTP holds $got"

# the same bytes again: nothing to program, still verified
run $sim write "$work/sn.bin" -a $otp $ok || fail "equal OTP write"
grep -q "program  0 bytes" "$work/out" || fail "an equal OTP write programmed something"
grep -q "nothing written" "$work/out" || fail "an equal OTP write does not say nothing was written"

# clearing more bits is allowed (0x12 -> 0x02 at the first byte)
bytes 0234 "$work/clear.bin"
run $sim write "$work/clear.bin" -a $otp $ok || fail "clearing OTP bits"
before=$(otp_now)
[ "${before%"${before#????}"}" = 0234 ] || fail "OTP after clearing holds $before"

# a 0->1 bit (byte 6 holds 0x00): refused before anything is written, even the bytes before it
bytes 345678a45a01 "$work/set.bin"
run $sim write "$work/set.bin" -a 0x1FF0F001 $ok
rc=$?
[ $rc = 65 ] || fail "a 0->1 OTP write: exit $rc, expected 65"
grep -q "OTP byte at 0x1FF0F006 holds 0x00 and cannot become 0x01" "$work/err" || fail "the 0->1 refusal names no address"
[ "$(otp_now)" = "$before" ] || fail "a refused 0->1 OTP write changed the OTP"

# past the end of the OTP memory (1024 + 16 bytes): named as OTP, not flash
head -c 32 /dev/zero >"$work/long.bin"
run $sim write "$work/long.bin" -a 0x1FF0F400 $ok
grep -q "runs past the end of OTP Memory at 0x1FF0F410" "$work/err" || fail "overrun not named as OTP"
grep -q "flash" "$work/err" && fail "an OTP overrun speaks of flash"
# OTP and flash in one file: refused
python3 - "$work/mixed.hex" <<'PY'
import sys
def rec(addr, typ, data):
    b = bytes([len(data), addr >> 8, addr & 255, typ]) + data
    return ":" + (b + bytes([-sum(b) & 255])).hex().upper() + "\n"
open(sys.argv[1], "w").write(rec(0, 4, b"\x1f\xf0") + rec(0xF000, 0, b"\x00\x00") + rec(0, 4, b"\x08\x00")
                             + rec(0, 0, b"\x11\xee") + rec(0, 1, b""))
PY
run $sim write "$work/mixed.hex" $ok
rc=$?
[ $rc = 64 ] || fail "OTP and flash in one file: exit $rc, expected 64"
grep -q "both in OTP Memory and in other memory" "$work/err" || fail "mixed file not explained"
[ "$(otp_now)" = "$before" ] || fail "a refused mixed write changed the OTP"

# a locked block (its lock byte programmed to 0x00) takes no more programming: the read-back
# catches it (exit 10) and names the address; block 0 stays writable
bytes 00 "$work/lock.bin"
run $sim write "$work/lock.bin" -a 0x1FF0F401 $ok || fail "programming lock byte 1"
bytes a5 "$work/b1.bin"
run $sim write "$work/b1.bin" -a 0x1FF0F040 $ok
rc=$?
[ $rc = 10 ] || fail "a write into a locked OTP block: exit $rc, expected 10"
grep -q "OTP Memory at 0x1FF0F040 reads 0xFF after programming 0xA5" "$work/err" || fail "locked block not named"
run $sim write "$work/b1.bin" -a 0x1FF0F03F $ok || fail "block 0 (not locked) no longer writable"

# --alt N: a raw binary without -a goes to the start of that memory (OTP: 0x1FF0F000); the bytes
# equal what the chip holds (byte 0 0x02 after the clearing above), so nothing is programmed
otp0=$(otp_now)
bytes "${otp0%"${otp0#????????}"}" "$work/alt.bin"
run $sim write "$work/alt.bin" --alt 2 $ok || fail "write --alt 2"
grep -q "memory   OTP Memory at 0x1FF0F000" "$work/out" || fail "--alt 2 did not write at the OTP start"
run $sim write "$work/alt.bin" --alt 9
rc=$?
[ $rc = 64 ] || fail "--alt 9: exit $rc, expected 64"
grep -q "the device has 4 alternate settings" "$work/err" || fail "--alt 9 does not say how many there are"

# RAM: written and read back in the same session (the JSON names the memory)
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 7 + 3) % 251 for i in range(5000)))' >"$work/ram.bin"
run $sim write "$work/ram.bin" -a 0x20010000 || fail "RAM write"
grep -q "memory   RAM at 0x20010000" "$work/out" || fail "RAM summary"
grep -q "verify   5000 bytes .*OK" "$work/out" || fail "RAM write not verified"
run $sim write "$work/ram.bin" -a 0x20010000 --json || fail "RAM write --json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["memory"] == "RAM" and d["verified"] and d["bytes_programmed"] == 5000, d' "$work/out" || fail "RAM JSON"
# an application loaded into RAM and started there (--leave: its own vector table, MSP in SRAM and
# a Thumb reset vector in RAM)
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<II", 0x20050000, 0x20004101) + bytes(248))' >"$work/app.bin"
run --sim=f746,timing=0,state=$work/ramapp.state write "$work/app.bin" -a 0x20004000 --leave || fail "RAM application with --leave"
grep -q "left DFU: jumped to 0x20004000" "$work/out" || fail "--leave after a RAM write did not jump to the RAM image"
# the bootloader's own RAM (F7: the first 16 KB): refused before anything is sent
run $sim write "$work/ram.bin" -a 0x20002000
rc=$?
[ $rc = 65 ] || fail "a write into the bootloader's RAM: exit $rc, expected 65"
grep -q "in the RAM the STM32F74x/F75x bootloader uses itself (0x20000000-0x20003FFF)" "$work/err" || fail "bootloader RAM not named"
grep -q "flash" "$work/err" && fail "a RAM refusal speaks of flash"
# past the SRAM region, and in no memory at all: named as such, not as flash
run $sim write "$work/ram.bin" -a 0x3FFFF000
grep -q "runs past the end of RAM" "$work/err" || fail "RAM overrun not named as RAM"
run $sim write "$work/ram.bin" -a 0x50000000
grep -q "0x50000000 lies in no memory this device writes" "$work/err" || fail "an address in no memory not explained"
# system memory (the ROM, 0x1FF00000 on F7, AN2606): not flash either
run $sim write "$work/ram.bin" -a 0x1FF00000
grep -q "0x1FF00000 lies in no memory this device writes" "$work/err" || fail "system memory taken for flash"

# option bytes: the whole 32-byte block only (read, change BOR_LEV, write back)
ob_hex() { run $sim read 0x1FFF0000 32 -o "$work/ob.bin" || fail "read OB"; hex "$work/ob.bin"; }
ob0=$(ob_hex)
[ "$ob0" = ffaa0055ffffffffffff0000ffffffff80007fffffffffff4000bfffffffffff ] || fail "OB of a fresh F746: $ob0"
head -c 16 "$work/ob.bin" >"$work/half.bin"
run $sim write "$work/half.bin" --alt 1
rc=$?
[ $rc = 65 ] || fail "half an OB block: exit $rc, expected 65"
grep -q "option bytes at 0x1FFF0000-0x1FFF000F; the block is 32 bytes at 0x1FFF0000: a partial block is refused" "$work/err" ||
	fail "partial OB block not explained"
head -c 64 /dev/zero >"$work/ob64.bin"
run $sim write "$work/ob64.bin" -a 0x1FFF0000
grep -q "runs past the end of Option Bytes at 0x1FFF0020" "$work/err" || fail "OB overrun not named as option bytes"
grep -q "flash" "$work/err" && fail "an OB overrun speaks of flash"
# RDP level 2 (byte 1 0xCC, its complement 0x33) needs the same flag as ob set
bytes "ffcc0033${ob0#ffaa0055}" "$work/rdp2.bin"
run $sim write "$work/rdp2.bin" -a 0x1FFF0000
rc=$?
[ $rc = 11 ] || fail "RDP 2 by a raw OB block: exit $rc, expected 11"
grep -q -- "--i-understand-rdp2-is-permanent" "$work/err" || fail "RDP 2 refusal names no flag"
[ "$(ob_hex)" = "$ob0" ] || fail "a refused OB block changed the option bytes"
# a wrong complement (byte 2 must be ~byte 0) is refused too
bytes "fbaa0055${ob0#ffaa0055}" "$work/badcpl.bin"
run $sim write "$work/badcpl.bin" --alt 1
grep -q "has a wrong complement in the file" "$work/err" || fail "a wrong OB complement was not refused"
# BOR_LEV = 1 (OPTCR[3:2] = 01: byte 0 0xF7, complement 0x08): written, the chip resets, read back
bytes "f7aa0855${ob0#ffaa0055}" "$work/bor.bin"
run $sim write "$work/bor.bin" --alt 1 || fail "raw OB block with BOR_LEV=1"
grep -q "memory   Option Bytes at 0x1FFF0000" "$work/out" || fail "OB summary"
grep -q "verify   32 bytes .*OK" "$work/out" || fail "OB block not verified"
run $sim ob show --json || fail "ob show"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); f={x["name"]: x["value"] for x in d["fields"]}; assert f["BOR_LEV"] == 1 and f["RDP"] == 0xAA, f' "$work/out" ||
	fail "BOR_LEV is not 1 after the raw OB write"
# H7 (issue 22 item 8): one rule for ob set and a raw block. The window at 0x5200201C is the FLASH
# option registers (RM0433), decode-only here: both refuse with the same reason, nothing written
h7="--sim=h743,timing=0,state=$work/h7.state"
run $h7 read 0x5200201C 128 -o "$work/h7ob.bin" || fail "reading the H7 option bytes"
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[0]=(b[0]&~3)|1; open(sys.argv[2],"wb").write(b)' \
	"$work/h7ob.bin" "$work/h7bor.bin"
run $h7 write "$work/h7bor.bin" --alt 1
rc=$?
[ $rc = 69 ] || fail "raw H7 option-byte block: exit $rc, expected 69 (decode-only)"
grep -q "option bytes are decode-only in stm32dfu, for 'ob set' and a raw block alike: .*OPTSTART" "$work/err" ||
	fail "raw H7 option-byte block: no reason given"
run $h7 ob set BOR_LEV=1
rc=$?
[ $rc = 69 ] || fail "H7 ob set: exit $rc, expected 69"
grep -q "option bytes are decode-only in stm32dfu, for 'ob set' and a raw block alike" "$work/err" ||
	fail "H7 ob set: not the raw write's reason"
run $h7 read 0x5200201C 128 -o "$work/h7ob2.bin" || fail "reading the H7 option bytes again"
cmp -s "$work/h7ob.bin" "$work/h7ob2.bin" || fail "a refused H7 option-byte write changed them"

# data for two memories in one file: refused, both named
python3 - "$work/two.hex" <<'PY'
import sys
def rec(addr, typ, data):
    b = bytes([len(data), addr >> 8, addr & 255, typ]) + data
    return ":" + (b + bytes([-sum(b) & 255])).hex().upper() + "\n"
open(sys.argv[1], "w").write(rec(0, 4, b"\x20\x01") + rec(0, 0, b"\x00\x00") + rec(0, 4, b"\x08\x00")
                             + rec(0, 0, b"\x11\xee") + rec(0, 1, b""))
PY
run $sim write "$work/two.hex"
rc=$?
[ $rc = 64 ] || fail "flash and RAM in one file: exit $rc, expected 64"
grep -q "data in Internal Flash at 0x08000000 and in RAM at 0x20010000" "$work/err" || fail "two memories not named"

# a serial number into OTP (issue 14 item 3): with the OTP flag only, read first, after the flash
export STM32DFU_SIM_LOG="sqlite:$work/log.sqlite3"
head -c 4096 /dev/urandom >"$work/fw.bin"
sn="--serial-number 0x1FF0F100:u32le --serial-start 0x1234"
run $sim write "$work/fw.bin" $sn
rc=$?
[ $rc = 11 ] || fail "a serial number in OTP without the flag: exit $rc, expected 11"
grep -q -- "$ok" "$work/err" || fail "serial in OTP: the refusal names no flag"
run $sim write "$work/fw.bin" $sn $ok --json || { cat "$work/out"; fail "serial number into OTP"; }
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["verified"] and d["serial_number"] == 0x1234 and d["memory"] is None, d' "$work/out" ||
	fail "write --json: serial number into OTP"
got=$(otp_now)
run $sim read 0x1FF0F100 4 -o "$work/snr.bin" || fail "read the OTP serial"
[ "$(hex "$work/snr.bin")" = 34120000 ] || fail "OTP holds $(hex "$work/snr.bin") for serial 0x1234"
run $sim read 0x08000000 4096 -o "$work/fwr.bin" || fail "read flash"
cmp -s "$work/fw.bin" "$work/fwr.bin" || fail "the firmware is not in flash next to the OTP serial"
# the same board again: the same number, nothing new in OTP; a number needing a 0->1 bit: refused
# before the flash is touched
run $sim write "$work/fw.bin" $sn $ok || fail "the same board again"
head -c 4096 /dev/zero >"$work/fw0.bin"
run $sim write "$work/fw0.bin" --serial-number 0x1FF0F100:u32le --serial-counter other --serial-start 0xFF $ok
rc=$?
[ $rc = 65 ] || fail "an OTP serial needing a 0->1 bit: exit $rc, expected 65"
grep -q "OTP byte at 0x1FF0F100 holds 0x34 and cannot become 0xFF" "$work/err" || fail "0->1 serial not explained"
run $sim read 0x08000000 4096 -o "$work/fwr.bin" || fail "read flash"
cmp -s "$work/fw.bin" "$work/fwr.bin" || fail "a refused OTP serial let the flash be rewritten"

# the same through write --all (one thread per chip): the number in OTP, the flag required
fleet="--sim=f746,timing=0,state=$work/fleet.state"
run $fleet write "$work/fw.bin" --all --json --serial-number 0x1FF0F200 --serial-counter fleet --serial-start 7
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))[0]; assert not d["ok"] and "is in OTP Memory" in d["message"], d' "$work/out" ||
	fail "write --all: a serial number in OTP without the flag"
run $fleet write "$work/fw.bin" --all --json --serial-number 0x1FF0F200 --serial-counter fleet --serial-start 7 $ok ||
	fail "write --all: serial number into OTP"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))[0]; assert d["ok"] and d["verified"] and d["serial_number"] == 7, d' "$work/out" ||
	fail "write --all: the board's record"
run $fleet read 0x1FF0F200 4 -o "$work/snf.bin" || fail "read the fleet OTP serial"
[ "$(hex "$work/snf.bin")" = 07000000 ] || fail "write --all: OTP holds $(hex "$work/snf.bin") for serial 7"

[ $fails = 0 ] && echo "ok: other memories"
