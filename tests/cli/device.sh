#!/bin/sh
# The device commands through the built binary against the emulator: text, JSON and exit codes.
# Usage: device.sh STM32DFU  (env: STM32DFU_PROFILE_DIR, STM32DFU_SHARED_DATA)
. "$(dirname "$0")/lib.sh"
sim="--sim=f746,timing=0,state=$work/chip.state"

head -c 300000 /dev/urandom >"$work/a.bin"

run $sim list; check list 0 $? "$work/out" "Internal Flash"
grep -q "matches the UID (HAL rule)" "$work/out"; check list-serial-verdict 0 $?
run $sim list --json; check list-json 0 $?
python3 - "$work/out" <<'PY'; check list-json-fields 0 $?
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, list) and len(d) == 1, d
dev = d[0]
for k in ("vid", "pid", "serial", "path", "alts", "uid", "serial_reported", "serial_computed", "serial_verdict"):
    assert k in dev, k
assert dev["vid"] == 0x0483 and dev["pid"] == 0xDF11
a0 = dev["alts"][0]
assert a0["alt"] == 0 and a0["name"] == "Internal Flash", a0
r = a0["regions"][0]
assert r["start"] == "0x08000000" and r["size"] == 1048576 and r["sectors"] == 8, r
assert dev["serial_computed"] == dev["serial_reported"]
assert dev["serial_verdict"] == "match_hal", dev["serial_verdict"]
PY
run $sim info; check info 0 $? "$work/out" "STM32F74x"
grep -q "bootldr  V9.0" "$work/out"; check info-bootloader 0 $?
run $sim info --json; check info-json 0 $?; json_ok; check info-json-valid 0 $?

run $sim write "$work/a.bin"; check write 0 $? "$work/out" "verify   .*OK"
grep -q "erase    6 sectors" "$work/out"; check write-erase-count 0 $?
run $sim write "$work/a.bin" --json; check write-again 0 $?
python3 - "$work/out" <<'PY'; check write-again-nothing 0 $?
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] and d["sectors_erased"] == 0 and d["bytes_programmed"] == 0 and d["sectors_skipped"] == 6, d
PY
run $sim verify "$work/a.bin"; check verify 0 $? "$work/out" "the chip holds"
run $sim read 0x08000000 300000 -o "$work/back.bin"; check read 0 $?
cmp -s "$work/back.bin" "$work/a.bin"; check read-equals-written 0 $?
run $sim read 0x08000000 1K -o "$work/back.hex" --json; check read-hex-json 0 $? "$work/out" '"crc32"'
head -c 1024 "$work/a.bin" >"$work/a1k.bin"
"$tool" file convert "$work/back.hex" "$work/back1k.bin" -q >/dev/null 2>&1
cmp -s "$work/back1k.bin" "$work/a1k.bin"; check read-hex-content 0 $?

# a changed byte: verify fails with its own exit code (10) and names the address
# (the byte is inverted: a fixed value was already there once in 256 random files)
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[1000] ^= 0xFF; open(sys.argv[1], "wb").write(b)' "$work/a.bin"
run $sim verify "$work/a.bin"; check verify-mismatch 10 $? "$work/err" "0x080003E8"
run $sim erase --sectors 0-1; check erase-sectors 0 $? "$work/out" "2 sectors"
# erase ADDR LEN erases exactly those bytes (issue 21 item 4): the rest of the sector is read back,
# saved, erased and written back; a range across a sector boundary keeps both sectors' other bytes
run $sim erase 0x08010010 100; check erase-range 0 $? "$work/out" "(100 bytes) in [0-9.]* s: 1 sector erased; the rest of it kept"
run $sim erase 0x08017FF0 0x20 --json; check erase-range-json 0 $? "$work/out" '"sectors": 2'
run $sim read 0x08010000 64K -o "$work/s23.bin"; check erase-range-read 0 $?
python3 - "$work/a.bin" "$work/s23.bin" <<'PY'; check erase-range-exact 0 $?
import sys
a = bytearray(open(sys.argv[1], "rb").read()[0x10000:0x20000])
b = open(sys.argv[2], "rb").read()
a[0x10:0x10 + 100] = b"\xff" * 100
a[0x7FF0:0x8010] = b"\xff" * 0x20
sys.exit(0 if b == bytes(a) else 1)
PY
run $sim erase 0x08010010 100; check erase-range-blank 0 $? "$work/out" "was blank already (read back): nothing erased"
# cut off after its erase (unplugged at the Nth transfer, the first N that leaves the sector
# erased): the failure names the recovery file, and recover puts the kept bytes back
head -c 32768 /dev/urandom >"$work/k.bin"
"$tool" --sim=f746,timing=0,state=$work/k0.state write "$work/k.bin" -a 0x08000000 -q >/dev/null 2>&1
found=""
for n in $(seq 10 80); do
	cp "$work/k0.state" "$work/k.state"
	rm -rf "$work/recovery"
	"$tool" --sim=f746,timing=0,state=$work/k.state,unplug_at=$n erase 0x08000100 100 --retries 0 >"$work/out" 2>"$work/err"
	rc=$?
	if [ $rc != 0 ] && grep -q "recovery" "$work/err"; then found=$n; break; fi
done
[ -n "$found" ]; check erase-range-cut-names-recovery-file 0 $? "$work/err" "recovery"
run --sim=f746,timing=0,state=$work/k.state recover; check erase-range-recover 0 $?
run --sim=f746,timing=0,state=$work/k.state read 0x08000000 32K -o "$work/kb.bin"; check erase-range-recover-read 0 $?
python3 - "$work/k.bin" "$work/kb.bin" <<'PY'; check erase-range-recovered-bytes 0 $?
import sys
a, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
# every byte outside the range is back; inside it, what recover wrote (the old bytes) or erased
sys.exit(0 if a[:0x100] == b[:0x100] and a[0x164:] == b[0x164:] else 1)
PY
run $sim erase --all; check erase-all-needs-yes 11 $? "$work/err" "--yes"
run $sim erase --all --yes --json; check erase-all 0 $? "$work/out" '"mass_erase": true'
run $sim read 0x08000000 16 -o "$work/blank.bin"; check read-blank 0 $?
[ "$(od -An -tx1 "$work/blank.bin" | tr -d ' \n')" = "ffffffffffffffffffffffffffffffff" ]; check erased-is-ff 0 $?
run $sim leave; check leave-blank 13 $? "$work/err" "the application did not start"

# usage and data errors
run $sim write; check write-no-file 64 $?
run $sim write "$work/missing.hex"; check write-missing-file 66 $?
printf ':10000000FF\n' >"$work/bad.hex"
run $sim write "$work/bad.hex"; check write-bad-hex 65 $? "$work/err" "bad.hex"
run $sim write "$work/a.bin" -a 0x08100000; check write-outside-flash 65 $? "$work/err" "end of flash"
run $sim frobnicate; check unknown-command 64 $? "$work/err" "unknown command"
run $sim list --bogus; check unknown-option 64 $? "$work/err" "unknown option"
run $sim read 0x08000000; check read-missing-len 64 $?
run $sim list --leave; check option-scope 64 $? "$work/err" "does not apply"
run --sim=nosuchchip list; check unknown-profile 64 $? "$work/err" "nosuchchip"
run --help; check help 0 $? "$work/out" "Commands:"
run write --help; check write-help 0 $? "$work/out" "--no-verify"
run --version; check version 0 $? "$work/out" "stm32dfu"
run help-man; check man 0 $? "$work/out" ".SH EXIT STATUS"

# --vdd: the voltage range is set before erasing and reported; a bad voltage or a chip without
# Device Feature memory (F0) is refused before any work
head -c 4096 /dev/urandom >"$work/v.bin"
run --sim=f746,timing=0,state=$work/vdd.state write "$work/v.bin" --vdd 3.3
check vdd-text 0 $? "$work/out" "voltage range 3 (2.7-3.6 V, x32) set for --vdd"
head -c 4096 /dev/urandom >"$work/v.bin"
run --sim=f746,timing=0,state=$work/vdd.state write "$work/v.bin" --vdd 2.5V --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["voltage_range"] == 2, d' "$work/out"; check vdd-json 0 $?
run --sim=f746,timing=0,state=$work/vdd.state erase --sectors 1 --vdd 3.3 --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["voltage_range"] == 3, d' "$work/out"; check vdd-erase-json 0 $?
run --sim=f746,timing=0,state=$work/vdd.state write "$work/v.bin" --vdd 5; check vdd-too-high 64 $? "$work/err" "1.8 to 3.6 V"
run --sim=f746,timing=0,state=$work/vdd.state write "$work/v.bin" --vdd three; check vdd-not-a-number 64 $? "$work/err" "supply voltage in volts"
run --sim=f0-32k,timing=0,state=$work/f0.state write "$work/v.bin" --vdd 3.3; check vdd-f0 69 $? "$work/err" "no Device Feature memory"

# An erase that fails part-way says what the chip holds: the sectors erased before the failure, the
# one that failed, those not reached; the log record counts the erased ones. The failure is the
# board unplugged at the Nth transfer: the first N at which it hits sector 2's erase is searched
# for, so the test does not depend on how many transfers come before.
found=""
for n in $(seq 20 120); do
	rm -f "$work/unplug.state"
	STM32DFU_SIM_LOG="sqlite:$work/unplug-$n.db" "$tool" --sim=f746,timing=0,state=$work/unplug.state,unplug_at=$n \
		erase --sectors 0-3 --retries 0 >"$work/out" 2>"$work/err"
	rc=$?
	if grep -q "sector 2 at 0x08010000 failed" "$work/err"; then found=$n; break; fi
done
[ -n "$found" ]; check erase-fails-at-sector-2 0 $?
[ "$rc" = 74 ]; check erase-fails-exit 0 $?
grep -q "failed after sector(s) 0-1 were erased (acknowledged, not read back); not reached: 3: erase 0x08010000: " "$work/err"
check erase-fails-says-what-the-chip-holds 0 $? "$work/err" "not reached: 3"
STM32DFU_SIM_LOG="sqlite:$work/unplug-$found.db" "$tool" log --sim --json >"$work/out" 2>"$work/err"
python3 - "$work/out" <<'PY'; check erase-fails-log-counts 0 $?
import json, sys
recs = json.load(open(sys.argv[1]))
recs = recs.get("records", recs) if isinstance(recs, dict) else recs
r = [x for x in recs if x["command"] == "erase"][-1]
assert r["ok"] is False and r["sectors_erased"] == 2, r
PY

# the OS refusing the device (a host fault the emulator injects, worded by the code a real libusb
# refusal goes through): exit 77, the message says why, the hint names this platform's fix, and
# nothing reaches the chip (the state file is not even created)
rs="--sim=f746,timing=0,state=$work/refused.state"
run $rs,open_refused=driver info; check refused-driver 77 $? "$work/err" "bound to a driver libusb cannot use"
check refused-driver-hint 0 0 "$work/err" "hint: .*lsusb"
run $rs,open_refused=access write "$work/a.bin" -a 0x08000000; check refused-access 77 $? "$work/err" "udev rule"
run $rs,open_refused=busy read 0x08000000 16 -o "$work/r.bin" --json; check refused-busy 77 $?
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is False and d["error"] == "STM32DFU_E_ACCESS" and "another program" in d["message"], d' "$work/out"
check refused-busy-json 0 $?
[ ! -e "$work/refused.state" ] && [ ! -e "$work/r.bin" ]; check refused-nothing-touched 0 $?
run $rs,open_refused=winusb info; check refused-bad-value 64 $? "$work/err" "must be access, driver or busy"

# a page flash's sectors as runs (issue 23): 256 L0 pages on one line, not the first 32
l0="--sim=l0-192k,timing=0,state=$work/l0.state"
head -c 32768 /dev/urandom >"$work/l0.bin"
{ head -c 16384 "$work/l0.bin"; head -c 16384 /dev/urandom; } >"$work/l0b.bin"
STM32DFU_SIM_LOG="sqlite:$work/l0log.sqlite3" run $l0 write "$work/l0.bin" -a 0x08000000
check l0-sectors-runs 0 $? "$work/out" "^sectors  0-255 new$"
STM32DFU_SIM_LOG="sqlite:$work/l0log.sqlite3" run $l0 write "$work/l0b.bin" -a 0x08000000
check l0-sectors-half 0 $? "$work/out" "^sectors  0-127 old, 128-255 new$"

# a command refused before any work creates no programming log, nor its folder (issue 23): the log
# is opened once the input is checked and a device answers
nolog="sqlite:$work/nolog/sub/log.sqlite3"
STM32DFU_SIM_LOG=$nolog run $sim write "$work/missing.bin" -a 0x08000000; check nolog-write-missing 66 $?
STM32DFU_SIM_LOG=$nolog run $sim write "$work/a.bin" -a 0x08000000 --serial-start 5; check nolog-write-start-alone 64 $?
STM32DFU_SIM_LOG=$nolog run $sim erase; check nolog-erase-nothing 64 $?
STM32DFU_SIM_LOG=$nolog run $sim write "$work/a.bin" -a 0x08000000 --alt 9; check nolog-write-no-such-alt 64 $?
STM32DFU_SIM_LOG=$nolog run $sim ob set; check nolog-ob-set-nothing 64 $?
STM32DFU_SIM_LOG=$nolog run $sim write "$work/a.bin" -a 0x08000000 --serial-number 0x08000000:bogus
check nolog-write-bad-serial 64 $?
STM32DFU_LOG=$nolog run station "$work/a.bin" -a 0x08000000 --count 0; check nolog-station-count 64 $?
STM32DFU_LOG=$nolog run station "$work/a.bin" -a 0x08000000 --port "$work/no-such-tty"
check nolog-station-no-port 69 $?
[ ! -e "$work/nolog" ]; check nolog-nothing-created 0 $?
# a malformed log URL is still bad input said before any device is looked for
STM32DFU_LOG=bogus:x run write "$work/a.bin" -a 0x08000000; check nolog-bad-url 64 $? "$work/err" "expected sqlite:PATH"
# and a run that works creates it
STM32DFU_SIM_LOG=$nolog run $sim write "$work/a.bin" -a 0x08000000; check nolog-write-ok 0 $?
[ -s "$work/nolog/sub/log.sqlite3" ]; check nolog-created-by-work 0 $?

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
