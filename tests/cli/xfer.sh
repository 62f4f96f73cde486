#!/bin/sh
# Transfer size and retries (issue 11 item 7), through the built binary against the emulator:
# -t bounds every data transfer on the wire (read from the --trace transcript), a -t the device
# cannot take is refused before any memory is touched (JSON too), a ROM that STALLs long data
# blocks is written in smaller ones and verified, and the F0's refused UID probe is not taken for
# a failing link. Each write is checked by reading the chip back.
# Usage: xfer.sh STM32DFU  (env: STM32DFU_PROFILE_DIR)
. "$(dirname "$0")/lib.sh"
# xfers TRACE OUT|IN: "count longest" of the data DNLOADs (OUT 21 01, wValue >= 2, wLength > 0) or
# data UPLOADs (IN a1 02, wValue >= 2) in a --trace transcript
xfers() {
	python3 - "$1" "$2" <<'PY'
import sys
want = {"OUT": ("21", "01"), "IN": ("a1", "02")}[sys.argv[2]]
n = m = 0
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) > 6 and f[1] == sys.argv[2] and (f[2], f[3]) == want and int(f[4], 16) >= 2 and int(f[6], 16) > 0:
        n += 1
        m = max(m, int(f[6], 16))
print(n, m)
PY
}
dnloads() { xfers "$1" OUT; }
uploads() { xfers "$1" IN; }

head -c 40960 /dev/urandom >"$work/app.bin"

# ---- 1. -t is honoured on the wire, for the write, its verify and a read ----
sim="--sim=f746,timing=0,state=$work/f7.state"
run $sim write "$work/app.bin" -t 512 --json --no-log --trace "$work/t512"; check t512-write 0 $?
py "$work/out" 'assert d["ok"] and d["verified"] and d["transfer_size"] == 512 and d["blocks"] == 80, d'
check t512-json 0 $?
[ "$(dnloads "$work/t512")" = "80 512" ]; check t512-dnloads 0 $?
[ "$(uploads "$work/t512" | cut -d' ' -f2)" = 512 ]; check t512-uploads 0 $?
run $sim read 0x08000000 40960 -o "$work/back.bin" --transfer-size 1024 --trace "$work/r1024"; check t1024-read 0 $?
cmp -s "$work/app.bin" "$work/back.bin"; check t1024-read-same 0 $?
[ "$(uploads "$work/r1024")" = "40 1024" ]; check t1024-uploads 0 $?
# OTP (F7): the same bound, each short block at its own address
head -c 32 /dev/urandom >"$work/otp.bin"
run $sim write "$work/otp.bin" -a 0x1FF0F000 --i-understand-otp-is-permanent -t 16 --no-log --trace "$work/otp"
check otp-t16 0 $?
[ "$(dnloads "$work/otp")" = "2 16" ]; check otp-t16-dnloads 0 $?
run $sim read 0x1FF0F000 32 -o "$work/otpback.bin"; cmp -s "$work/otp.bin" "$work/otpback.bin"; check otp-t16-holds 0 $?

# ---- 2. a -t the device cannot take: refused before any work, with the fix ----
cp "$work/f7.state" "$work/f7.before"
run $sim write "$work/app.bin" -t 4096 --no-log --trace "$work/t4096"; check t4096 64 $? "$work/err" "at most 2048 bytes per transfer"
grep -q "hint: give -t 2048 or less" "$work/err"; check t4096-hint 0 $?
[ "$(dnloads "$work/t4096")" = "0 0" ] && [ "$(uploads "$work/t4096")" = "0 0" ]; check t4096-no-transfer 0 $?
cmp -s "$work/f7.state" "$work/f7.before"; check t4096-chip-unchanged 0 $?
run $sim write "$work/app.bin" -t 4096 --json --no-log; check t4096-json 64 $?
py "$work/out" 'assert not d["ok"] and d["error"] == "STM32DFU_E_USAGE" and "wTransferSize" in d["message"] and d["hint"], d'
check t4096-json-doc 0 $?
run --sim=h743,timing=0,state=$work/h7.state write "$work/app.bin" -t 1000 --no-log; check h7-t1000 64 $? "$work/err" "32-byte flash programming units"
run $sim write "$work/app.bin" -t lots --no-log; check t-syntax 64 $? "$work/err" "expected a transfer size in bytes"
run $sim info -t 1024; check t-not-for-info 64 $? "$work/err" "does not apply to 'info'"

# ---- 3. a ROM that STALLs data blocks above 512 bytes: smaller blocks, no retry, verified ----
run --sim=f746,timing=0,max_dnload=512,state=$work/m512.state write "$work/app.bin" --retries 0 --json --no-log
check max512-write 0 $?
py "$work/out" 'assert d["ok"] and d["verified"] and d["transfer_size"] == 512 and d["retries"] == 0, d'
check max512-json 0 $?
run --sim=f746,timing=0,max_dnload=512,state=$work/m512.state read 0x08000000 40960 -o "$work/m512.bin"
cmp -s "$work/app.bin" "$work/m512.bin"; check max512-chip-holds 0 $?
# the L43x model (1024) with -t 1024: nothing refused
run --sim=l43x,timing=0,state=$work/l4.state write "$work/app.bin" -t 1024 --retries 0 --no-log --trace "$work/l4"; check l43x-t1024 0 $?
[ "$(dnloads "$work/l4")" = "40 1024" ]; check l43x-t1024-dnloads 0 $?

# ---- 4. F0: the refused UID probe is no retry and no link warning; a real fault still is ----
f0="--sim=f0-32k,timing=0,state=$work/f0.state"
head -c 16384 /dev/urandom >"$work/f0.bin"
run $f0 write "$work/f0.bin" --no-log; check f0-write 0 $?
absent f0-no-retries "$work/out" "^retries"
absent f0-no-link-warning "$work/err" "link is failing"
run $f0 write "$work/f0.bin" --full --json --no-log; check f0-json 0 $?
py "$work/out" 'assert d["ok"] and d["retries"] == 0, d'; check f0-json-retries 0 $?
head -c 16384 /dev/urandom >"$work/f0b.bin"
run --sim=f0-32k,timing=0,fault_rate=0.02,seed=5,state=$work/f0.state write "$work/f0b.bin" --json --no-log
check f0-faults 0 $?
py "$work/out" 'assert d["ok"] and d["verified"] and d["retries"] > 0, d'; check f0-faults-retried 0 $?

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
