#!/bin/sh
# Converts a 16 MiB Intel HEX file to binary with objcopy and with ours (src/image through
# bench_img_convert), best of N runs each, and prints both times and the ratio.
# Target: ours not slower than objcopy (ratio <= 1.00). Reported, never asserted.
#
# usage: bench/hex2bin.sh [BUILD_DIR] [MIB] [RUNS]   (defaults: build 16 3)
set -eu
build=${1:-build}
mib=${2:-16}
runs=${3:-3}
conv=$build/tests/unit/image/bench_img_convert
[ -x "$conv" ] || { echo "hex2bin: $conv not found: build first (ninja -C $build)" >&2; exit 1; }
command -v objcopy >/dev/null || { echo "hex2bin: objcopy (binutils) is not installed" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c $((mib * 1024 * 1024)) /dev/urandom >"$tmp/in.bin"
objcopy -I binary -O ihex --change-addresses 0x08000000 "$tmp/in.bin" "$tmp/in.hex"

now() { date +%s.%N; }
# best wall time of $runs runs of the command
best() {
	b=
	i=0
	while [ $i -lt "$runs" ]; do
		t0=$(now)
		"$@" >/dev/null
		t1=$(now)
		b=$(echo "$t0 $t1 ${b:-}" | awk '{ d = $2 - $1; if ($3 == "" || d < $3) print d; else print $3 }')
		i=$((i + 1))
	done
	echo "$b"
}

t_objcopy=$(best objcopy -I ihex -O binary "$tmp/in.hex" "$tmp/objcopy.bin")
t_ours=$(best "$conv" "$tmp/in.hex" "$tmp/ours.bin")
cmp "$tmp/objcopy.bin" "$tmp/ours.bin" || { echo "hex2bin: outputs differ" >&2; exit 1; }
cmp "$tmp/in.bin" "$tmp/ours.bin" || { echo "hex2bin: output is not the input" >&2; exit 1; }

hex_mib=$(wc -c <"$tmp/in.hex" | awk '{ printf "%.1f", $1 / 1048576 }')
echo "hex2bin: $mib MiB of data, $hex_mib MiB of Intel HEX, best of $runs runs"
awk -v o="$t_objcopy" -v s="$t_ours" -v m="$mib" 'BEGIN {
	printf "  objcopy -I ihex -O binary : %7.3f s  (%6.1f MiB/s)\n", o, m / o
	printf "  stm32dfu src/image        : %7.3f s  (%6.1f MiB/s)\n", s, m / s
	printf "  ratio ours/objcopy        : %7.2f  (%s)\n", s / o, s <= o ? "not slower: target met" : "SLOWER than objcopy"
}'
