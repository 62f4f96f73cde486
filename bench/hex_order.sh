#!/bin/sh
# Loads a MIB MiB Intel HEX file (16-byte records) in ascending and in descending address order
# through src/image (bench_img_convert) and prints both times and their ratio (issue 26 item 6:
# loading is O(n log n) whatever the record order; target: descending <= 2 x ascending).
# Reported, never asserted.
#
# usage: bench/hex_order.sh [BUILD_DIR] [MIB] [RUNS]   (defaults: build 16 3)
set -eu
build=${1:-build}
mib=${2:-16}
runs=${3:-3}
conv=$build/tests/unit/image/bench_img_convert
[ -x "$conv" ] || { echo "hex_order: $conv not found: build first (ninja -C $build)" >&2; exit 1; }
command -v objcopy >/dev/null || { echo "hex_order: objcopy (binutils) is not installed" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c $((mib * 1024 * 1024)) /dev/urandom >"$tmp/in.bin"
objcopy -I binary -O ihex --change-addresses 0x08000000 "$tmp/in.bin" "$tmp/asc.hex"
# the same records, last address first: each data record keeps the type-04 base it follows
python3 - "$tmp/asc.hex" "$tmp/desc.hex" <<'PY'
import sys
recs, base = [], None
for line in open(sys.argv[1]):
    line = line.strip()
    t = line[7:9]
    if t == "04":
        base = line
    elif t == "00":
        recs.append((base, line))
out, cur = [], None
for base, rec in reversed(recs):
    if base != cur:
        out.append(base)
        cur = base
    out.append(rec)
out.append(":00000001FF")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY

now() { date +%s.%N; }
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
t_asc=$(best "$conv" "$tmp/asc.hex" "$tmp/asc.bin")
t_desc=$(best "$conv" "$tmp/desc.hex" "$tmp/desc.bin")
cmp "$tmp/in.bin" "$tmp/asc.bin" && cmp "$tmp/in.bin" "$tmp/desc.bin" || { echo "hex_order: outputs differ" >&2; exit 1; }
hex_mib=$(wc -c <"$tmp/asc.hex" | awk '{ printf "%.1f", $1 / 1048576 }')
echo "$mib MiB of data ($hex_mib MiB of HEX), best of $runs:"
echo "  ascending   ${t_asc} s"
echo "  descending  ${t_desc} s"
echo "$t_asc $t_desc" | awk '{ printf "  descending / ascending = %.2f (target <= 2.00)\n", $2 / $1 }'
