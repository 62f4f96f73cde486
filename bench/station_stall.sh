#!/bin/bash
# Station benchmark under a database stall (issue 27): 16 emulated F746 plugged in 2 s apart
# (timing=1) while `stm32dfu station --count 16` logs to a real PostgreSQL server (started here, on
# a Unix socket), twice: undisturbed, and with the server's processes stopped (SIGSTOP) for 40 s
# from the 10th second. Reports boards/hour of both runs and their ratio (target >= 0.8), then
# sends the spooled records (`log --sync`) and checks that every board of both runs is in the
# database exactly once. Needs Debian's postgresql (as root, the server runs as `postgres`).
# Usage: bench/station_stall.sh [BUILD_DIR] [IMAGE_KIB]   (default build, 128 KiB)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
KIB=${2:-128}
N=16
SIM=$BUILD/stm32dfu-sim
TOOL=$BUILD/stm32dfu
[ -x "$SIM" ] && [ -x "$TOOL" ] || { echo "station_stall.sh: build first (stm32dfu-sim needs umockdev)" >&2; exit 1; }
export STM32DFU_PROFILE_DIR=${STM32DFU_PROFILE_DIR:-$here/profiles}
TMP=$(mktemp -d)
. "$here/tests/lib/pgserver.sh"
pg_setup "$TMP" || { echo "station_stall.sh: cannot start PostgreSQL" >&2; exit 1; }
trap 'pg_thaw 2>/dev/null; pg_stop 2>/dev/null; rm -rf "$TMP"' EXIT
export XDG_STATE_HOME=$TMP/state
head -c $((KIB * 1024)) /dev/urandom >"$TMP/img.bin"
spec() { printf 'f746,timing=1,serial=57A7%02d0000%02d,uid=%08X%04XBBBBCCCCDDDD' "$1" "$2" "$2" "$1"; }

run() { # run NAME RUN_DIGIT: the station's JSON summary line to $TMP/NAME.sum
	local plugs=() i
	for ((i = 1; i <= N; i++)); do
		plugs+=(--plug "$((2 * (i - 1))):$(spec "$2" $i)")
	done
	STM32DFU_SIM_LOG=$PG_URL "$SIM" "${plugs[@]}" -- "$TOOL" station "$TMP/img.bin" --count $N --station "$1" --json \
		>"$TMP/$1.out" 2>"$TMP/$1.err"
	local rc=$?
	tail -n 1 "$TMP/$1.out" >"$TMP/$1.sum"
	echo "$1: exit $rc"
}

run calm 1 || true
( sleep 10; pg_freeze; echo "stall: server stopped at $(date -u +%T)"; sleep 40; pg_thaw; echo "stall: server continued at $(date -u +%T)" ) &
staller=$!
run stall 2 || true
wait $staller
"$TOOL" log --log "$PG_URL" --sync || true
"$TOOL" log --log "$PG_URL" --json >"$TMP/log.json"
python3 - "$TMP/calm.sum" "$TMP/stall.sum" "$TMP/log.json" "$N" "$KIB" <<'PY'
import collections, json, sys
calm, stall = (json.load(open(p))["summary"] for p in sys.argv[1:3])
log = json.load(open(sys.argv[3]))
n, kib = int(sys.argv[4]), int(sys.argv[5])
per = collections.Counter(x["station"] for x in log)
uids = {s: {x["uid"] for x in log if x["station"] == s} for s in ("calm", "stall")}
ids = collections.Counter(x["record_id"] for x in log)
print(f"{n} boards, {kib} KiB image, timing=1, plugged 2 s apart, PostgreSQL log:")
for name, s in (("undisturbed", calm), ("40 s stall", stall)):
    print(f"  {name:12} {s['seconds']:6.1f} s  {s['boards_per_hour']:6.0f} boards/hour  "
          f"({s['done'] - s['failed']} programmed, {s['failed']} failed)")
ratio = stall["boards_per_hour"] / calm["boards_per_hour"] if calm["boards_per_hour"] else 0
print(f"  stalled / undisturbed: {ratio:.2f}x (target >= 0.8)")
once = all(v == 1 for v in ids.values())
print(f"  records: calm {per['calm']}, stall {per['stall']} (distinct UIDs {len(uids['calm'])}, {len(uids['stall'])});"
      f" every record_id once: {once}")
ok = ratio >= 0.8 and per["calm"] == n and per["stall"] == n and len(uids["stall"]) == n and once
sys.exit(0 if ok else 1)
PY
