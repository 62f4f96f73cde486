#!/bin/bash
# The programming station over virtual USB: 8 emulated F746 plugged in at staggered times (two
# share a USB serial, told apart by UID). `stm32dfu station --count 8 --json` programs each once
# as it appears: 8 JSON lines, 8 distinct UIDs, serial numbers 500..507. A second station (no
# --count) takes the 8 attached boards once each and none again while they stay, until Ctrl-C.
# Bad input (a malformed log URL; an unreachable one with serial numbers) is refused before any
# chip is touched.
# Usage: stm32dfu_station.sh SIM
. "$(dirname "$0")/lib.sh"
find_stm32dfu
need python3

if [ -z "${PEER_INNER:-}" ]; then
	args=()
	for i in 1 2 3 4 5 6 7 8; do
		serial=5747000000$i
		[ $i = 3 ] && serial=57470000002 # a collision: the UID keeps them apart
		args+=(--plug "$(( i / 2 )).$(( (i % 2) * 5 )):f746,timing=0,serial=$serial,uid=0000000${i}AAAA5555BBBB6666")
	done
	PEER_INNER=1 SIM_TIMEOUT=100 sim --stats "$TMP/stats" "${args[@]}" -- "$0" "$SIM" "$TMP"
	rc=$?
	[ $rc = 0 ] || exit $rc
	# every chip was programmed by the first station, none by the second
	[ "$(grep -c 'bytes_programmed=[1-9]' "$TMP/stats")" = 8 ] || { cat "$TMP/stats"; fail "not every chip was programmed"; }
	echo "ok: 8 boards plugged at staggered times, each programmed exactly once"
	exit 0
fi
# the chips are emulated (stm32dfu-sim): their records go to the emulated chips' log, never to the
# real one, whose serial counters they must not advance (issue 21 item 7)
export STM32DFU_SIM_LOG="sqlite:$TMP/log.sqlite3" STM32DFU_LOG="sqlite:$TMP/real.sqlite3" XDG_STATE_HOME="$TMP/state"
rand_file "$TMP/fw.bin" 65536
# bad input first: nothing may be written
# (an unreachable log alone does not stop a station: it spools; serial numbers need the database)
STM32DFU_SIM_LOG="postgresql:///x?host=$TMP/nowhere" "$STM32DFU" station "$TMP/fw.bin" --serial-number 0x080F0000 \
	>"$TMP/bad.out" 2>"$TMP/bad.err"
[ $? = 69 ] || { cat "$TMP/bad.err"; fail "an unreachable log URL with --serial-number must exit 69"; }
grep -q "cannot connect" "$TMP/bad.err" || fail "the unreachable URL is not named"
STM32DFU_SIM_LOG="postgresql://[bad" "$STM32DFU" station "$TMP/fw.bin" >"$TMP/bad.out" 2>"$TMP/bad.err"
[ $? = 64 ] || { cat "$TMP/bad.err"; fail "a malformed log URL must exit 64"; }
# a --log URL typed by hand on emulated chips (a production database, perhaps) is refused before any
# work, naming the emulated chips' own setting (issue 27 item 4)
"$STM32DFU" station "$TMP/fw.bin" --count 1 --log "sqlite:$TMP/typed.sqlite3" >"$TMP/bad.out" 2>"$TMP/bad.err"
[ $? = 64 ] || { cat "$TMP/bad.err"; fail "station --log on emulated chips must exit 64"; }
grep -q "STM32DFU_SIM_LOG" "$TMP/bad.err" || { cat "$TMP/bad.err"; fail "the refusal does not name STM32DFU_SIM_LOG"; }
[ ! -e "$TMP/typed.sqlite3" ] || fail "the refused --log database was created"

timeout -s INT 60 "$STM32DFU" station "$TMP/fw.bin" --count 8 --json --serial-number 0x080F0000 --serial-start 500 \
	--station line1 >"$TMP/out.json" 2>"$TMP/err"
rc=$?
[ $rc = 0 ] || { cat "$TMP/err" "$TMP/out.json"; fail "station exited $rc"; }
python3 - "$TMP/out.json" <<'PY' || fail "the station's JSON lines are wrong"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
boards = [json.loads(l) for l in lines[:-1]]
summary = json.loads(lines[-1])["summary"]
assert len(boards) == 8, lines
assert len({b["uid"] for b in boards}) == 8, boards
assert all(b["ok"] and b["command"] == "station" and b["station"] == "line1" for b in boards), boards
assert sorted(b["serial_number"] for b in boards) == list(range(500, 508)), boards
assert sum(b["usb_serial"] == "57470000002" for b in boards) == 2, boards
assert summary["done"] == 8 and summary["failed"] == 0 and summary["boards_per_hour"] > 0, summary
PY
# a new station with the 8 boards attached takes each once, and none again while they stay
# attached (many 250 ms scans), until Ctrl-C
timeout --foreground --preserve-status -s INT 8 "$STM32DFU" station "$TMP/fw.bin" >"$TMP/again.out" 2>"$TMP/again.err"
rc=$?
[ $rc = 0 ] || { cat "$TMP/again.err"; fail "the second station exited $rc after Ctrl-C"; }
grep -q "^8 boards: 8 programmed, 0 failed" "$TMP/again.out" || { cat "$TMP/again.out"; fail "attached boards were taken again"; }
grep -q "stopped by Ctrl-C" "$TMP/again.out" || fail "the summary does not say Ctrl-C stopped it"
[ ! -e "$TMP/real.sqlite3" ] && [ ! -e "$TMP/state/stm32dfu/log.sqlite3" ] || fail "emulated boards reached the real log"
"$STM32DFU" log --json >"$TMP/log.json" || fail "log --json"
python3 - "$TMP/log.json" <<'PY' || fail "the log does not hold one record per board and station run"
import collections, json, sys
r = json.load(open(sys.argv[1]))
per_uid = collections.Counter(x["uid"] for x in r)
assert len(r) == 16 and len(per_uid) == 8 and set(per_uid.values()) == {2}, per_uid
PY
