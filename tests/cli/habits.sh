#!/bin/sh
# Habits users bring from dfu-util and STM32CubeProgrammer (issue 15), through the built binary
# against the emulator: selection, progress, inputs checked before the work, other memories,
# option-byte values, docs and completion.
# Usage: habits.sh STM32DFU  (env: STM32DFU_PROFILE_DIR, STM32DFU_SHARED_DATA)
set -u
tool=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sim="--sim=f746,timing=0,state=$work/chip.state"
fails=0 passes=0
check() { # check NAME EXPECTED_RC ACTUAL_RC [file-that-must-contain pattern]
	name=$1 want=$2 got=$3
	if [ "$got" != "$want" ]; then
		echo "FAIL $name: exit $got, expected $want"; sed 's/^/    /' "$work/out" "$work/err" | head -20
		fails=$((fails + 1)); return
	fi
	if [ $# -ge 5 ] && ! grep -q -- "$5" "$4"; then
		echo "FAIL $name: '$5' not in $4"; sed 's/^/    /' "$4" | head -20
		fails=$((fails + 1)); return
	fi
	passes=$((passes + 1))
}
run() { "$tool" "$@" >"$work/out" 2>"$work/err"; }
absent() { # absent NAME FILE PATTERN: the pattern must not appear
	if grep -q -- "$3" "$2"; then echo "FAIL $1: '$3' in $2"; sed 's/^/    /' "$2" | head; fails=$((fails + 1)); else passes=$((passes + 1)); fi
}

# --- 1. selection: --sim honours -d, -p and -S as USB does --------------------------------------
run $sim -d 1234:5678 info; check sim-d-other 69 $? "$work/err" "the emulated device is 0483:df11"
run $sim -d 0483:df11 info; check sim-d-same 0 $?
run $sim -p 9-9 read 0x08000000 16 -o "$work/x.bin"; check sim-p-other 69 $? "$work/err" "no DFU device at path 9-9"
run $sim -p sim info; check sim-p-sim 0 $?
run $sim -S 000000000000000000000000 info; check sim-S-uid-other 69 $? "$work/err" "UID given with -S"
run $sim -S "00220036 3436510D 33323730" info; check sim-S-uid-same 0 $? "$work/out" "00220036 3436510D 33323730"
run $sim -S NOSUCHSERIAL info; check sim-S-serial-other 69 $? "$work/err" "serial is 335437663436"
run $sim -S 335437663436 info; check sim-S-serial-same 0 $?
run $sim -d 1234:5678 list; check sim-list-d-other 0 $? "$work/out" "no DFU device found"
run $sim -p 9-9 list --json; check sim-list-p-other 0 $?
[ "$(tr -d ' \n' <"$work/out")" = "[]" ]; check sim-list-p-other-empty 0 $?
# the F0 ROM is found in dfuERROR; list says so, and that it cleared it (docs/list.md)
run --sim=f0-32k,timing=0,state=$work/f0.state list; check list-found-state 0 $? "$work/out" "found in dfuERROR (errFIRMWARE), cleared to dfuIDLE"

# --- 2. progress people can follow --------------------------------------------------------------
# off a terminal (stderr is a file here): a line every few seconds per phase, with rate and ETA
head -c 400000 /dev/urandom >"$work/p.bin"
slow="--sim=f746,timing=0.2,state=$work/slow.state"
# (--poll spec: the bwPollTimeouts make the write last long enough for several lines)
run $slow write "$work/p.bin" --poll spec; check progress-lines 0 $? "$work/err" "^program:  *[0-9]*% [0-9]*/390 KiB .*KiB/s ETA 0:0"
grep -q "^program: 100% 390/390 KiB" "$work/err"; check progress-closing-line 0 $?
run $slow write "$work/p.bin" -q; check progress-quiet 0 $?
[ ! -s "$work/err" ]; check progress-quiet-silent 0 $?
# a mass erase answers busy until it is over: time-based progress from the family's typical time
# (DS10916: 16 s at the ROM's default x8 parallelism; the emulator runs 5 times faster here)
run $slow erase --all --yes; check progress-mass-erase 0 $? "$work/err" "^erase:  *[0-9]*% 2 s of about 16 s typical"
grep -q "^erase: 100% done in 3\.[0-9] s" "$work/err"; check progress-mass-erase-done 0 $?
# on a terminal: the bar carries the ETA (script(1) gives the tool a terminal)
if command -v script >/dev/null 2>&1; then
	script -qec "'$tool' $slow write '$work/p.bin' --full" /dev/null >"$work/tty" 2>&1
	check progress-tty 0 $? "$work/tty" "program  \[#*\.*\]  *[0-9]*% .* ETA 0:0"
fi
# a failing link is named early, with doctor, not only at the end
run --sim=f746,timing=0,fault_rate=0.02,seed=3,state=$work/flaky.state write "$work/p.bin"
check retry-warning 0 $? "$work/err" "warning: the USB link is failing: 3 transfers had to be repeated so far (the work goes on); 'stm32dfu doctor'"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
