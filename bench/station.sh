#!/bin/bash
# Station benchmark: 16 emulated F746 plugged in 2 s apart (timing=1: the chips' real erase,
# program and poll times) while `stm32dfu station --count 16` runs, versus the same 16 boards
# programmed one at a time with `stm32dfu write` (one testbed and one command per board, as an
# operator with a one-board tool would). Reports boards per hour for both.
# Usage: bench/station.sh [BUILD_DIR] [IMAGE_KIB]   (default build, 128 KiB)
set -eu
BUILD=${1:-build}
KIB=${2:-128}
N=16
SIM=$BUILD/stm32dfu-sim
TOOL=$BUILD/stm32dfu
[ -x "$SIM" ] && [ -x "$TOOL" ] || { echo "station.sh: build first (stm32dfu-sim needs umockdev)" >&2; exit 1; }
export STM32DFU_PROFILE_DIR=${STM32DFU_PROFILE_DIR:-$(cd "$(dirname "$0")/.." && pwd)/profiles}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export XDG_STATE_HOME=$TMP/state STM32DFU_LOG=sqlite:$TMP/log.sqlite3
head -c $((KIB * 1024)) /dev/urandom >"$TMP/img.bin"
spec() { printf 'f746,timing=1,serial=57A7100000%02d,uid=%08XAAAABBBBCCCCDDDD' "$1" "$1"; }
ms() { date +%s%N | cut -c1-13; }

plugs=()
for ((i = 1; i <= N; i++)); do
	plugs+=(--plug "$((2 * (i - 1))):$(spec $i)")
done
t0=$(ms)
"$SIM" "${plugs[@]}" -- "$TOOL" station "$TMP/img.bin" --count $N >"$TMP/station.out" 2>&1 ||
	{ cat "$TMP/station.out" >&2; echo "station.sh: the station failed" >&2; exit 1; }
t1=$(ms)
station_ms=$((t1 - t0))

serial_ms=0
for ((i = 1; i <= N; i++)); do
	t0=$(ms)
	"$SIM" --profile "$(spec $i)" -- "$TOOL" write "$TMP/img.bin" -q >"$TMP/write.out" 2>&1 ||
		{ cat "$TMP/write.out" >&2; echo "station.sh: write to board $i failed" >&2; exit 1; }
	t1=$(ms)
	serial_ms=$((serial_ms + t1 - t0))
done
tail -n 1 "$TMP/station.out"
python3 -c 'import sys; n, k, a, b = map(int, sys.argv[1:])
print(f"{n} boards, {k} KiB image, timing=1, plugged 2 s apart:")
print(f"  station  {a / 1000:7.1f} s  {n * 3600000 / a:6.0f} boards/hour (arrivals alone take {2 * (n - 1)} s)")
print(f"  write x{n} {b / 1000:7.1f} s  {n * 3600000 / b:6.0f} boards/hour (one board at a time, no plugging time)")
print(f"  station / one-at-a-time: {b / a:.2f}x the boards per hour")' "$N" "$KIB" "$station_ms" "$serial_ms"
