#!/bin/bash
# Fleet benchmark: `stm32dfu write --all` to 8 emulated F746 over virtual USB versus the same
# write to 1, at timing=1 (the chips' real erase/program/poll times). Goal: 8 take at most 1.15x
# the time of 1 (sessions are independent threads; the chips' busy times overlap).
# Usage: bench/fleet.sh [BUILD_DIR] [IMAGE_KIB]   (default build, 128 KiB)
set -eu
BUILD=${1:-build}
KIB=${2:-128}
SIM=$BUILD/stm32dfu-sim
TOOL=$BUILD/stm32dfu
[ -x "$SIM" ] && [ -x "$TOOL" ] || { echo "fleet.sh: build first (stm32dfu-sim needs umockdev)" >&2; exit 1; }
export STM32DFU_PROFILE_DIR=${STM32DFU_PROFILE_DIR:-$(cd "$(dirname "$0")/.." && pwd)/profiles}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
head -c $((KIB * 1024)) /dev/urandom >"$TMP/img.bin"
run() { # run N: milliseconds for write --all to N fresh chips
	local profiles=() i
	for ((i = 1; i <= $1; i++)); do
		profiles+=(--profile "f746,timing=1,serial=BE7C0000000$i,uid=0000000${i}AAAABBBBCCCCDDDD")
	done
	local t0 t1
	t0=$(date +%s%N)
	"$SIM" "${profiles[@]}" -- "$TOOL" write "$TMP/img.bin" --all -q >"$TMP/out.$1" 2>&1 ||
		{ cat "$TMP/out.$1" >&2; echo "fleet.sh: the write to $1 devices failed" >&2; exit 1; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
one=$(run 1)
eight=$(run 8)
python3 -c 'import sys; k, a, b = map(int, sys.argv[1:])
print(f"fleet write, {k} KiB image, timing=1: 1 device {a / 1000:.2f} s, 8 devices {b / 1000:.2f} s, "
      f"ratio {b / a:.2f}x (goal <= 1.15x)")' "$KIB" "$one" "$eight"
