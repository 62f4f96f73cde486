#!/bin/sh
# Reliability campaigns (a report, never a test; the exit status is non-zero on any violation):
#  1. in-process: N seeded, randomly faulted sessions against the in-process emulator, in the legs
#     of the virtual-USB run (faults: writes, reads, option-byte reads; no-home; no-verify; flip;
#     f0-pair; erase-range), each failed write followed by a clean run; SILENT, LOST, NO FILE and
#     WRONG CHIP must be 0 (bench/campaign.c);
#  2. over virtual USB: N sessions of the real stm32dfu through libusb under stm32dfu-sim, selected
#     by UID, serial and path, with random faults and SIGINTs; every byte around the image is
#     checked from the emulator's state file, and after a failure a clean run must bring back every
#     byte outside the image (bench/campaign_vusb.c). Skipped without stm32dfu-sim (umockdev).
#  3. the Python package: N/4 sessions of write() and erase_bytes() (unaligned) with SIGINT at a
#     random progress callback; every byte checked from the state file after a clean second run
#     (bench/campaign_python.py). Skipped without python3.
# Usage: bench/campaign.sh [N [SEED [BUILD_DIR [N_VUSB [JOBS]]]]]  (N_VUSB default N; JOBS parallel
# workers for the virtual-USB run, default 2, each with its own seed SEED*10+k and N_VUSB/JOBS sessions)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000}
seed=${2:-1}
build=${3:-$here/build}
nv=${4:-$n}
jobs=${5:-2}
[ -x "$build/tests/proto/stm32dfu-campaign" ] || { meson setup "$build" "$here" >/dev/null; }
ninja -C "$build" tests/proto/stm32dfu-campaign >/dev/null
export STM32DFU_PROFILE_DIR="$here/profiles"
status=0
"$build/tests/proto/stm32dfu-campaign" "$n" "$seed" || status=1
if command -v python3 >/dev/null; then
	ninja -C "$build" src/lib/libstm32dfu.so >/dev/null 2>&1 || true
	lib=$(ls "$build"/src/lib/libstm32dfu.so.*.*.* | head -1)
	echo "python package, SIGINT: $((n / 4)) sessions"
	PYTHONPATH="$here/python" STM32DFU_LIBRARY="$lib" python3 "$here/bench/campaign_python.py" $((n / 4)) "$seed" || status=1
fi
[ -x "$build/stm32dfu-sim" ] || { echo "no stm32dfu-sim (umockdev): virtual-USB campaign skipped"; exit $status; }
ninja -C "$build" tests/proto/stm32dfu-campaign-vusb stm32dfu stm32dfu-sim >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/campaign.XXXXXX")
trap 'rm -rf "$work"' EXIT
k=1
while [ $k -le "$jobs" ]; do
	mkdir "$work/$k"
	"$build/tests/proto/stm32dfu-campaign-vusb" "$build/stm32dfu-sim" "$build/stm32dfu" "$work/$k" \
		$((nv / jobs)) $((seed * 10 + k)) >"$work/$k.out" 2>"$work/$k.err" &
	k=$((k + 1))
done
wait || true
k=1
while [ $k -le "$jobs" ]; do
	tail -10 "$work/$k.out"
	grep -v '^[0-9]* sessions$' "$work/$k.err" >&2 || true
	# the last five columns: SILENT, LOST, CRASH, NO FILE, WRONG CHIP
	grep '^total' "$work/$k.out" | tail -1 | grep -q ' 0 *0 *0 *0 *0$' || status=1
	k=$((k + 1))
done
exit $status
