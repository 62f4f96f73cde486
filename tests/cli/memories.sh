#!/bin/sh
# Issue 15 item 4: write into the other memories the device lists. OTP (F746 profile, alt 2 at
# 0x1FF0F000, RM0385: one-time programmable, bits only clear): refused without
# --i-understand-otp-is-permanent, written and verified with it, a write needing a 0->1 bit
# refused with nothing written, an equal write a no-op, errors naming the memory.
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

[ $fails = 0 ] && echo "ok: other memories"
