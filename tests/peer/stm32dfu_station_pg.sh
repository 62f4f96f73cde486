#!/bin/bash
# Two stations, one PostgreSQL database (a real server, started here on a Unix socket): 8
# emulated chips each, plugged at staggered times; 16 records and 16 distinct serial numbers.
# Then the server stops in the middle of a third station's run: its records are spooled
# locally (the station says so) and reach PostgreSQL after `stm32dfu log --sync`.
# Usage: stm32dfu_station_pg.sh SIM   (skipped without PostgreSQL)
. "$(dirname "$0")/lib.sh"
find_stm32dfu
need python3
. "$(dirname "$0")/../lib/pgserver.sh"
pg_setup "$TMP"
rc=$?
[ $rc = 77 ] && skip "PostgreSQL is not installed"
[ $rc = 0 ] || fail "cannot start PostgreSQL"
trap 'pg_stop 2>/dev/null; rm -rf "$TMP"' EXIT
export XDG_STATE_HOME="$TMP/state"
rand_file "$TMP/fw.bin" 32768

plugs() { # plugs STATION_DIGIT N [GATE]: N chips with UIDs of their own, staggered; from the 5th on,
	# only once the file GATE exists (stm32dfu-sim --after: an order, not a time)
	local i
	for i in $(seq 1 "$2"); do
		[ "$i" = 5 ] && [ -n "${3:-}" ] && printf -- '--after %s ' "$3"
		printf -- '--plug %s:f746,timing=0,serial=PG%s%s,uid=%08X1111222233334444 ' \
			"$(( i / 3 )).$(( (i % 3) * 3 ))" "$1" "$i" $(( $1 * 16 + i ))
	done
}
st3_records() { # how many of station 3's records the server holds (0 while it cannot say)
	"$STM32DFU" log --log "$PG_URL" --json 2>/dev/null |
		python3 -c 'import json,sys; print(sum(1 for x in json.load(sys.stdin) if x["station"]=="st3"))' 2>/dev/null ||
		echo 0
}
station() { # station NAME GATE EXTRA...: a station in its own testbed of 8 chips (GATE: see plugs)
	local name=$1 gate=$2
	shift 2
	# shellcheck disable=SC2046
	# emulated chips: their log is named by STM32DFU_SIM_LOG (a --log would be refused)
	STM32DFU_SIM_LOG=$PG_URL SIM_TIMEOUT=100 sim $(plugs "$name" 8 "$gate") -- "$STM32DFU" station "$TMP/fw.bin" \
		--station "st$name" "$@" >"$TMP/st$name.out" 2>"$TMP/st$name.err"
}
station 1 "" --count 8 --serial-number 0x08010000 --serial-start 1 &
p1=$!
station 2 "" --count 8 --serial-number 0x08010000 --serial-start 1 &
p2=$!
wait $p1 || { cat "$TMP/st1.err"; fail "station 1 failed"; }
wait $p2 || { cat "$TMP/st2.err"; fail "station 2 failed"; }
"$STM32DFU" log --log "$PG_URL" --json >"$TMP/log.json" || fail "log --json from PostgreSQL"
python3 - "$TMP/log.json" <<'PY' || fail "two stations, one database: wrong records"
import json, sys
r = json.load(open(sys.argv[1]))
assert len(r) == 16, len(r)
assert {x["station"] for x in r} == {"st1", "st2"}, r
assert len({x["uid"] for x in r}) == 16, r
nums = sorted(x["serial_number"] for x in r)
assert nums == list(range(1, 17)), nums
assert all(x["ok"] for x in r), [x for x in r if not x["ok"]]
PY

# the server goes away in the middle of a run: nothing is lost. Four boards arrive, the server is
# stopped once it holds one of their records, and the other four are plugged only then (an order,
# not a margin: a fixed 20 s wait once failed on a loaded machine, issue 27 item 5)
station 3 "$TMP/pg-stopped" --count 8 &
st3=$!
until [ "$(st3_records)" -ge 1 ]; do
	kill -0 $st3 2>/dev/null || break # the station ended first: its exit code says why, below
	sleep 0.2
done
pg_stop
touch "$TMP/pg-stopped"
wait $st3
rc=$?
# a station that ends with records still spooled says so and exits 75 (docs/exit-codes.md)
[ $rc = 75 ] || { cat "$TMP/st3.err"; fail "station 3 exited $rc, not 75 (records left in the spool)"; }
grep -q "spooled locally" "$TMP/st3.err" || { cat "$TMP/st3.err"; fail "the station did not say it was spooling"; }
grep -q "wait in the local spool" "$TMP/st3.err" || { cat "$TMP/st3.err"; fail "the station did not say records are left"; }
# issue 27 item 7: a station starts while the database is down (no serial numbers), says so, spools
station 4 "" --count 8
rc=$?
[ $rc = 75 ] || { cat "$TMP/st4.err"; fail "station 4 (database down at the start) exited $rc, not 75"; }
grep -q "starting anyway" "$TMP/st4.err" || { cat "$TMP/st4.err"; fail "station 4 did not say the database is down"; }
pg_start || fail "cannot restart PostgreSQL"
"$STM32DFU" log --log "$PG_URL" --sync >"$TMP/sync.out" 2>&1 || { cat "$TMP/sync.out"; fail "log --sync"; }
grep -q "sent to .*, 0 left" "$TMP/sync.out" || { cat "$TMP/sync.out"; fail "log --sync left records"; }
"$STM32DFU" log --log "$PG_URL" --json >"$TMP/log.json" || fail "log --json after sync"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); s3=[x for x in r if x["station"]=="st3"]; s4=[x for x in r if x["station"]=="st4"]; assert len(r)==32 and len(s3)==8 and len(s4)==8 and len({x["uid"] for x in s3})==8 and len({x["record_id"] for x in r})==32, (len(r), len(s3), len(s4))' \
	"$TMP/log.json" || fail "the spooled records did not all reach PostgreSQL"
# issue 23: a station on serial ports (two emulated chips on stm32dfu-sim --uart pseudo-terminals)
# takes its numbers from the same counter and writes its records, link uart and port, to the same log
rand_file "$TMP/fw-u.bin" 2048
STM32DFU_SIM_LOG=$PG_URL sim --uart l0-192k,timing=0,uid=00000005AAAA111122223333 \
	--uart l0-192k,timing=0,uid=00000006AAAA111122223333 -- sh -c 'f=$1; set -- $STM32DFU_TTYS;
	exec "$0" station "$f" -a 0x08000000 --port "$1" --port "$2" --count 2 --station st5 \
		--serial-number 0x08000800 --serial-start 1' "$STM32DFU" "$TMP/fw-u.bin" \
	>"$TMP/st5.out" 2>"$TMP/st5.err" || { cat "$TMP/st5.err"; fail "the station on serial ports failed"; }
"$STM32DFU" log --log "$PG_URL" --json >"$TMP/log.json" || fail "log --json after the serial-port station"
python3 - "$TMP/log.json" <<'PY' || fail "the serial-port station's records are wrong"
import json, sys
r = json.load(open(sys.argv[1]))
s5 = [x for x in r if x["station"] == "st5"]
assert len(r) == 34 and len(s5) == 2, (len(r), len(s5))
assert all(x["ok"] and x["link"] == "uart" and x["port"].startswith("/dev/pts/") and x["usb_path"] == "" for x in s5), s5
nums = sorted(x["serial_number"] for x in r if x["serial_number"] is not None)
assert nums == list(range(1, 19)), nums
PY
echo "ok: 16 boards on two stations, 16 serial numbers; records spooled while the server was down (also from a station started then) reached it after log --sync, once each; 2 boards on serial ports took numbers 17 and 18"
