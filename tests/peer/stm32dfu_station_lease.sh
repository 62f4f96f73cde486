#!/bin/bash
# --serial-lease N (issue 27 item 7): two stations, each on a machine of its own (a state folder of
# its own), share one PostgreSQL log (a real server) and one serial counter, each holding a lease
# of 4 numbers. The server stops in the middle: boards still get numbers, from the leases. Station
# B is killed (SIGKILL) during the outage with numbers handed out that the database has not heard
# of, restarted, and spends the rest of its lease; the board after that fails (the lease is spent),
# saying so. Once the server is back, each station's next run tells it what was handed out and
# ends its lease. Then: no number was ever given twice, every programmed board's number is the one
# the log holds for its UID, and every lease ended with its unused numbers given back or marked.
# Each step waits for an event (a record in the server, a record in the spool), never for a time.
# Usage: stm32dfu_station_lease.sh SIM   (skipped without PostgreSQL)
. "$(dirname "$0")/lib.sh"
find_stm32dfu
need python3
need psql
. "$(dirname "$0")/../lib/pgserver.sh"
pg_setup "$TMP"
rc=$?
[ $rc = 77 ] && skip "PostgreSQL is not installed"
[ $rc = 0 ] || fail "cannot start PostgreSQL"
trap 'pg_stop 2>/dev/null; rm -rf "$TMP"' EXIT
rand_file "$TMP/fw.bin" 16384

plugs() { # plugs LETTER FIRST LAST [GATE]: chips LETTER FIRST..LAST, staggered; after GATE exists if given
	local i
	[ -n "${4:-}" ] && printf -- '--after %s ' "$4"
	for i in $(seq "$2" "$3"); do
		printf -- '--plug 0.%s:f746,timing=0,serial=LS%s%s,uid=%08X%s222233334444 ' \
			"$(( (i - $2) * 3 ))" "$1" "$i" "$i" "$( [ "$1" = A ] && echo AAAA || echo BBBB)"
	done
}
station() { # station LETTER RUN PLUGS COUNT: station LETTER's run RUN, its pid in $TMP/LETTER.RUN.pid
	local l=$1 run=$2 plugs=$3 count=$4
	# shellcheck disable=SC2086
	XDG_STATE_HOME="$TMP/state$l" STM32DFU_SIM_LOG=$PG_URL SIM_TIMEOUT=100 sim $plugs -- \
		sh -c 'echo $$ >"$0"; exec "$@"' "$TMP/$l.$run.pid" "$STM32DFU" station "$TMP/fw.bin" --station "st$l" \
		--count "$count" --json --serial-number 0x08010000 --serial-start 1000 --serial-lease 4 \
		>"$TMP/$l.$run.out" 2>"$TMP/$l.$run.err"
}
server_records() { # how many records the server holds
	"$STM32DFU" log --log "$PG_URL" --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null ||
		echo 0
}
spooled() { # how many records wait in station LETTER's spool
	python3 - "$TMP/state$1/stm32dfu" <<'PY' 2>/dev/null || echo 0
import glob, sqlite3, sys
print(sum(sqlite3.connect(f).execute("select count(*) from records").fetchone()[0]
          for f in glob.glob(sys.argv[1] + "/spool-*.sqlite3")))
PY
}
alive() { kill -0 "$1" 2>/dev/null; }

# run 1: three boards each while the server answers; the rest only once it is stopped
station A 1 "$(plugs A 1 3) $(plugs A 4 6 "$TMP/down")" 6 &
pa=$!
# (B waits for a sixth board that never comes: it is killed at work, never after its end)
station B 1 "$(plugs B 1 3) $(plugs B 4 5 "$TMP/down")" 6 &
pb=$!
until [ "$(server_records)" -ge 6 ]; do
	alive $pa && alive $pb || break
	sleep 0.2
done
pg_stop
touch "$TMP/down"
# B is killed once its two boards of the outage are in its spool (numbers handed out, untold)
until [ "$(spooled B)" -ge 2 ]; do
	alive $pb || break
	sleep 0.2
done
kill -KILL "$(cat "$TMP/B.1.pid")"
wait $pb
wait $pa
rc=$?
# A ends during the outage: its records are spooled, its lease kept for its next run: exit 75
[ $rc = 75 ] || { cat "$TMP/A.1.err"; fail "station A (run 1) exited $rc, not 75"; }
grep -q "leased for outages" "$TMP/A.1.err" || { cat "$TMP/A.1.err"; fail "station A did not say it leased numbers"; }
grep -q "stay in .*lease-.*next run" "$TMP/A.1.err" || { cat "$TMP/A.1.err"; fail "station A did not say its lease is kept"; }
[ "$(grep -c '"ok": true' "$TMP/A.1.out")" = 6 ] || { cat "$TMP/A.1.out" "$TMP/A.1.err"; fail "station A: not 6 boards programmed"; }

# B again, the server still away: its lease still holds 1 number (4 held, 2 handed out after the
# first 3 boards refilled it to 4... then B4 and B5): B6 takes it, B7 finds the lease spent
station B 2 "$(plugs B 6 7)" 2
rc=$?
[ $rc = 1 ] || { cat "$TMP/B.2.err" "$TMP/B.2.out"; fail "station B (run 2) exited $rc, not 1 (one board failed)"; }
grep -q "does not answer: boards take their serial numbers from the 1 this station still holds" "$TMP/B.2.err" ||
	{ cat "$TMP/B.2.err"; fail "station B did not say it holds 1 leased number"; }
grep -q "serial lease (4 numbers) is spent" "$TMP/B.2.out" "$TMP/B.2.err" ||
	{ cat "$TMP/B.2.out" "$TMP/B.2.err"; fail "the board after the lease was spent did not say so"; }

# the server is back: each station's next run tells it what was handed out and ends its lease
pg_start || fail "cannot restart PostgreSQL"
station A 2 "$(plugs A 7 7)" 1 || { cat "$TMP/A.2.err"; fail "station A (run 2) failed"; }
grep -q "serial lease ended" "$TMP/A.2.err" || { cat "$TMP/A.2.err"; fail "station A did not end its lease"; }
station B 3 "$(plugs B 8 8)" 1 || { cat "$TMP/B.3.err"; fail "station B (run 3) failed"; }
grep -q "serial lease ended" "$TMP/B.3.err" || { cat "$TMP/B.3.err"; fail "station B did not end its lease"; }
for l in A B; do
	XDG_STATE_HOME="$TMP/state$l" "$STM32DFU" log --log "$PG_URL" --sync >"$TMP/sync$l.out" 2>&1 ||
		{ cat "$TMP/sync$l.out"; fail "log --sync ($l)"; }
done

"$STM32DFU" log --log "$PG_URL" --json >"$TMP/log.json" || fail "log --json"
psql "$PG_URL" -AtF, -c "select uid, number from serial_numbers where counter = 'default'" >"$TMP/numbers.csv" ||
	fail "psql serial_numbers"
psql "$PG_URL" -AtF, -c "select station, first_number, last_number, coalesce(unused_from, -1), given_back, ended from serial_leases" \
	>"$TMP/leases.csv" || fail "psql serial_leases"
psql "$PG_URL" -At -c "select next_number from serial_counters where name = 'default'" >"$TMP/next.txt" ||
	fail "psql serial_counters"
python3 - "$TMP" <<'PY' || { cat "$TMP/leases.csv" "$TMP/numbers.csv"; fail "serial numbers under leases"; }
import csv, json, sys
d = sys.argv[1]
recs = [r for r in json.load(open(d + "/log.json")) if r["command"] == "station"]
ok = [r for r in recs if r["ok"]]
# A1-A7, B1-B6 and B8 programmed (B7 failed: the lease was spent); each record exactly once
assert len(ok) == 14, [(r["usb_serial"], r["ok"]) for r in recs]
assert len({r["record_id"] for r in recs}) == len(recs)
nums = [r["serial_number"] for r in ok]
assert len(set(nums)) == len(nums), "a number was given twice: %s" % sorted(nums)
assert all(n >= 1000 for n in nums), nums
by_uid = {u: int(n) for u, n in csv.reader(open(d + "/numbers.csv"))}
for r in ok:  # the log knows each board's number, the one in its flash
    assert by_uid.get(r["uid"]) == r["serial_number"], (r["uid"], r["serial_number"], by_uid.get(r["uid"]))
assert len(set(by_uid.values())) == len(by_uid)
nxt = int(open(d + "/next.txt").read())
leases = list(csv.reader(open(d + "/leases.csv")))
assert leases and all(l[5] for l in leases), leases  # every lease ended
for st, first, last, unused_from, given_back, _ in leases:
    first, last, unused_from = int(first), int(last), int(unused_from)
    assert first <= unused_from <= last + 1, (first, last, unused_from)
    # numbers marked unused were never given; given back to the counter, they may be given later
    if given_back != "1":
        assert all(not (unused_from <= n <= last) for n in nums), (first, last, unused_from, sorted(nums))
# the parts of leases that were handed out never overlap; every number lies below the counter's next
spans = sorted((int(l[1]), int(l[3]) - 1) for l in leases if int(l[3]) > int(l[1]))
assert all(a[1] < b[0] for a, b in zip(spans, spans[1:])), spans
assert all(n < nxt for n in nums), (nums, nxt)
assert any(l[4] == "1" for l in leases), "no lease gave numbers back: %s" % leases
print("ok: %d boards, %d distinct numbers, %d leases ended" % (len(ok), len(set(nums)), len(leases)))
PY
echo "ok: two stations with leases of 4 through a database outage and a killed station: no number given twice, every board's number in the log, every lease ended"
