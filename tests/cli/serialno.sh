#!/bin/sh
# Serial numbers per board (--serial-number) against the emulator and a SQLite log of its own:
# the bytes land in flash and are verified, a board keeps its number, formats, and bad input
# refused before anything is written (the chip's flash is compared before and after).
# Emulated chips take their numbers from the emulated chips' log (STM32DFU_SIM_LOG), never from the
# real one (STM32DFU_LOG), whose counters a simulation must not advance (issue 21 item 7).
# Usage: serialno.sh STM32DFU  (env: STM32DFU_PROFILE_DIR)
set -u
tool=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export STM32DFU_SIM_LOG="sqlite:$work/log.sqlite3" STM32DFU_LOG="sqlite:$work/real.sqlite3" XDG_STATE_HOME="$work/state"
sim="--sim=f746,timing=0,state=$work/chip.state"
fails=0
fail() { echo "FAIL $*"; sed 's/^/    /' "$work/err" | head -5; fails=$((fails + 1)); }
run() { "$tool" "$@" >"$work/out" 2>"$work/err"; }
u32() { od -An -tu4 "$1" | tr -d ' '; }
head -c 3000 /dev/urandom >"$work/fw.bin"

run $sim write "$work/fw.bin" --serial-number 0x08010000 --serial-start 1000 || fail "write with a serial number"
grep -q "serial   1000 (counter 'default') at 0x08010000, written and verified" "$work/out" || fail "no serial line"
run $sim read 0x08010000 4 -o "$work/sn.bin" && [ "$(u32 "$work/sn.bin")" = 1000 ] || fail "1000 is not at 0x08010000"
# the same board (UID) keeps its number; --serial-start only counts on the counter's first use
run $sim write "$work/fw.bin" --serial-number 0x08010000 --serial-start 5 || fail "second write"
run $sim read 0x08010000 4 -o "$work/sn.bin" && [ "$(u32 "$work/sn.bin")" = 1000 ] || fail "the board did not keep 1000"
# another counter, ASCII digits, zero-padded
run $sim write "$work/fw.bin" --serial-number 0x08010008:ascii:6 --serial-counter lot7 --serial-start 42 || fail "ascii"
run $sim read 0x08010008 6 -o "$work/a.bin" && [ "$(cat "$work/a.bin")" = 000042 ] || fail "ascii:6 is not 000042"
# u64le
run $sim write "$work/fw.bin" --serial-number 0x08010010:u64le --serial-counter big --serial-start 0x100000000 || fail "u64le"
run $sim read 0x08010010 8 -o "$work/b.bin" && [ "$(od -An -tx1 "$work/b.bin" | tr -d ' \n')" = 0000000001000000 ] || fail "u64le bytes"

# bad input: each a clear error, exit code, and the flash untouched
run $sim read 0x08000000 0x20000 -o "$work/before.bin"
check_bad() { # EXPECTED_RC PATTERN ARGS...
	want=$1 pat=$2
	shift 2
	run $sim write "$work/fw.bin" "$@"
	rc=$?
	[ $rc = "$want" ] || fail "$*: exit $rc, expected $want"
	grep -q -- "$pat" "$work/err" || fail "$*: no '$pat' in the error"
}
check_bad 65 "lies inside the image" --serial-number 0x08000100
check_bad 65 "does not fit" --serial-number 0x08010020:ascii:3 --serial-counter c3 --serial-start 1000
check_bad 65 "does not fit" --serial-number 0x08010020 --serial-counter c4 --serial-start 0x100000000
check_bad 65 "outside this chip's writable flash" --serial-number 0x09000000 --serial-counter c5
check_bad 64 "FORMAT is u32le, u64le or ascii:N" --serial-number 0x08010020:u16
check_bad 64 "no-log" --serial-number 0x08010020 --no-log
check_bad 64 "go with --serial-number" --serial-counter x
# --serial-lease (issue 27 item 7): a station's, with --serial-number, on a shared PostgreSQL log only
check_bad 64 "does not apply" --serial-number 0x08010020 --serial-lease 4
# (STM32DFU_EMULATED=1: a station's chips emulated, as under stm32dfu-sim; each refusal comes before any USB)
STM32DFU_EMULATED=1 run station "$work/fw.bin" --count 1 --serial-lease 4
[ $? = 64 ] && grep -q "go with --serial-number" "$work/err" || fail "--serial-lease without --serial-number"
STM32DFU_EMULATED=1 run station "$work/fw.bin" --count 1 --serial-number 0x08010020 --serial-lease 4
[ $? = 64 ] && grep -q "a lease is for a shared PostgreSQL log" "$work/err" || fail "--serial-lease on a SQLite log"
STM32DFU_EMULATED=1 run station "$work/fw.bin" --count 1 --serial-number 0x08010020 --serial-lease 0
[ $? = 64 ] && grep -q "1 to 1000000" "$work/err" || fail "--serial-lease 0"
run $sim read 0x08000000 0x20000 -o "$work/after.bin"
cmp -s "$work/before.bin" "$work/after.bin" || fail "a refused write changed the flash"

# the real log was never touched: no record, no counter; nor the state folder's default one
[ ! -e "$work/real.sqlite3" ] || fail "a simulation wrote to the real log (STM32DFU_LOG)"
[ ! -e "$work/state/stm32dfu/log.sqlite3" ] || fail "a simulation wrote to the real default log"
# a --log URL typed on an emulated run (a production URL, perhaps) is refused before any work: emulated
# chips never reach a real chip's log or counters; STM32DFU_SIM_LOG names their log (issue 27 item 4)
run read 0x08000000 0x20000 -o "$work/before.bin" --sim=f746,timing=0,state=$work/chip.state
for cmd in "write $work/fw.bin --serial-number 0x08010018 --serial-counter explicit" "erase --sectors 7" \
	"station $work/fw.bin --count 1"; do
	# shellcheck disable=SC2086
	run $cmd --sim=f746,timing=0,state=$work/chip.state --log "sqlite:$work/explicit.sqlite3"
	rc=$?
	[ $rc = 64 ] || fail "--log with --sim ($cmd): exit $rc, expected 64"
	grep -q "emulated" "$work/err" && grep -q "STM32DFU_SIM_LOG" "$work/err" || fail "--log with --sim ($cmd): the refusal does not say why and what to do"
	# stm32dfu-sim's commands (STM32DFU_EMULATED=1), over libusb: the same
	# shellcheck disable=SC2086
	STM32DFU_EMULATED=1 "$tool" $cmd --log "sqlite:$work/explicit.sqlite3" >"$work/out" 2>"$work/err"
	rc=$?
	[ $rc = 64 ] || fail "--log under STM32DFU_EMULATED=1 ($cmd): exit $rc, expected 64"
	grep -q "STM32DFU_SIM_LOG" "$work/err" || fail "--log under STM32DFU_EMULATED=1 ($cmd): no STM32DFU_SIM_LOG in the refusal"
done
[ ! -e "$work/explicit.sqlite3" ] && [ ! -e "$work/real.sqlite3" ] || fail "a refused --log URL was opened"
run read 0x08000000 0x20000 -o "$work/after.bin" --sim=f746,timing=0,state=$work/chip.state
cmp -s "$work/before.bin" "$work/after.bin" || fail "a refused --log changed the flash"
# reading a log is no emulated chip's record: log --log URL stays allowed under stm32dfu-sim
STM32DFU_EMULATED=1 "$tool" log --log "$STM32DFU_SIM_LOG" --json >"$work/out" 2>"$work/err" || fail "log --log under STM32DFU_EMULATED=1"
# with no STM32DFU_SIM_LOG: the state folder's sim/log.sqlite3, never its log.sqlite3
env -u STM32DFU_SIM_LOG "$tool" write "$work/fw.bin" --sim=f746,timing=0,state=$work/chip.state --serial-number 0x08010018 \
	--serial-counter dflt >"$work/out" 2>"$work/err" || fail "write with the default emulated log"
[ -s "$work/state/stm32dfu/sim/log.sqlite3" ] && [ ! -e "$work/state/stm32dfu/log.sqlite3" ] && [ ! -e "$work/real.sqlite3" ] ||
	fail "the emulated chips' default log is the state folder's sim/log.sqlite3"
# the emulated chips' log holds the numbers
run log --sim --json || fail "log --sim --json"
python3 - "$work/out" <<'PY' || fail "log records"
import json, sys
recs = json.load(open(sys.argv[1]))
got = [(r["serial_counter"], r["serial_number"]) for r in recs if r["ok"]]
assert got == [("default", 1000), ("default", 1000), ("lot7", 42), ("big", 2**32)], got
assert all(r["serial_number"] is None for r in recs if not r["ok"]), recs
PY
[ $fails = 0 ] && echo "ok: serial numbers"
exit $((fails > 0))
