#!/bin/bash
# The write on the marginal link of f746-report (issue 22 item 9): a 256 KiB write with verify,
# the transfer size chosen from the measured loss against -t 64, in one run, at timing=1 (the
# emulator's real device and bus times, in real time, in-process). A report, never a test.
#   bench/marginal.sh [BUILD] [KIB]
set -eu
build=${1:-build}
kib=${2:-256}
here=$(cd "$(dirname "$0")/.." && pwd)
export STM32DFU_PROFILE_DIR="$here/profiles"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c $((kib * 1024)) /dev/urandom >"$work/img.bin"
for t in 64 auto; do
	rm -rf "$work/home" && mkdir -p "$work/home" # a fresh chip and no remembered link verdict
	opt=()
	[ "$t" = auto ] || opt=(-t "$t")
	start=$(date +%s.%N)
	HOME="$work/home" XDG_STATE_HOME="$work/home/state" "$build/stm32dfu" --sim=f746-report,timing=1 \
		write "$work/img.bin" -a 0x08000000 "${opt[@]}" >"$work/out" 2>&1 || { cat "$work/out"; exit 1; }
	end=$(date +%s.%N)
	secs=$(echo "$end - $start" | bc)
	[ "$t" = 64 ] && base=$secs
	printf '%-8s %7.2f s  ' "-t $t" "$secs"
	grep -E '^(program|retries) ' "$work/out" | tr '\n' ' ' | tr -s ' '
	echo
done
printf 'ratio (chosen / -t 64): %.2f\n' "$(echo "$secs / $base" | bc -l)"
# the sizes the choosers used, and the same write in virtual time (no machine load in it)
if [ -x "$build/tests/proto/stm32dfu-xfer-marginal" ]; then
	"$build/tests/proto/stm32dfu-xfer-marginal" f746-report,timing=1 "$kib" 64 1
	"$build/tests/proto/stm32dfu-xfer-marginal" f746-report,timing=1 "$kib" 0 1
fi
