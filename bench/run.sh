#!/bin/bash
# Benchmark: stm32dfu against Debian's dfu-util on the same virtual F746 (stm32dfu-sim), for a
# full 1 MiB write (erase + program), a rewrite where 32 KiB changed, and a 1 MiB read.
# Reported, never asserted (design.md). See bench/README.md.
#
# Usage: bench/run.sh [BUILD_DIR]    (default: ./build; env TIMING=1 sets the model's time scale)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$(cd "${1:-$root/build}" && pwd) || exit 2
timing=${TIMING:-1}
SIM=$build/stm32dfu-sim
TOOL=$build/stm32dfu
[ -x "$SIM" ] || { echo "no $SIM (build with umockdev)" >&2; exit 2; }
tools="stm32dfu dfu-util"
[ -x "$TOOL" ] || { echo "warning: no $TOOL: measuring dfu-util alone" >&2; tools=dfu-util; }
command -v dfu-util >/dev/null || { echo "dfu-util is not installed" >&2; exit 2; }
export STM32DFU_PROFILE_DIR=${STM32DFU_PROFILE_DIR:-$root/profiles}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

base=0x08000000
head -c 1048576 /dev/urandom >"$tmp/a.bin"
cp "$tmp/a.bin" "$tmp/b.bin"
# 32 KiB changed in the middle of the image (inside the F746's first 256 KiB sector at 512 KiB)
head -c 32768 /dev/urandom | dd of="$tmp/b.bin" bs=1 seek=$((0x88000)) conv=notrunc status=none

# run NAME STATEFILE COMMAND...: one command in a fresh testbed whose chip starts from STATEFILE
# (the previous step's flash); records wall time of the command alone and the sim's counters.
run() {
	local name=$1 state=$2
	shift 2
	"$SIM" --profile "f746,timing=$timing,state=$state" --stats "$tmp/$name.stats" -- \
		bash -c 's=$(date +%s%N); "$@" >'"$tmp/$name.log"' 2>&1; rc=$?; echo $((($(date +%s%N) - s) / 1000)) >'"$tmp/$name.wall"'; exit $rc' \
		_ "$@" || { echo "$name failed:" >&2; tail -5 "$tmp/$name.log" >&2; }
}
stat_of() { [ -r "$tmp/$1.stats" ] && tr ' ' '\n' <"$tmp/$1.stats" | sed -n "s/^$2=//p" | head -1 | grep . || echo 0; }

for t in $tools; do
	st=$tmp/$t.state
	rm -f "$st"
	if [ $t = stm32dfu ]; then
		run "$t-write" "$st" "$TOOL" write "$tmp/a.bin" -a $base --no-verify
		run "$t-rewrite" "$st" "$TOOL" write "$tmp/b.bin" -a $base --no-verify
		run "$t-read" "$st" "$TOOL" read $base 1048576 -o "$tmp/$t-out.bin"
	else
		run "$t-write" "$st" dfu-util -a 0 -s $base -D "$tmp/a.bin"
		run "$t-rewrite" "$st" dfu-util -a 0 -s $base -D "$tmp/b.bin"
		run "$t-read" "$st" dfu-util -a 0 -s $base:1048576 -U "$tmp/$t-out.bin"
	fi
	cmp -s "$tmp/b.bin" "$tmp/$t-out.bin" || echo "warning: $t read back differs from the image" >&2
done

printf 'virtual F746 (profile f746, timing=%s), %s\n' "$timing" "$(date -u +%Y-%m-%d)"
printf '%-22s %10s %8s %10s %8s %10s %9s %9s\n' case "stm32dfu" xfers "dfu-util" xfers "ratio" "bound" "s/b d/b"
for c in write rewrite read; do
	ws=$(cat "$tmp/stm32dfu-$c.wall" 2>/dev/null || echo 0)
	wd=$(cat "$tmp/dfu-util-$c.wall" 2>/dev/null || echo 0)
	xs=$(stat_of "stm32dfu-$c" host_transfers)
	xd=$(stat_of "dfu-util-$c" host_transfers)
	# the bound: busy + bus time the model charged, the smaller of the two tools' (the least
	# device work that did the job), at the same time scale
	bs=$(($(stat_of "stm32dfu-$c" busy_us) + $(stat_of "stm32dfu-$c" bus_us)))
	bd=$(($(stat_of "dfu-util-$c" busy_us) + $(stat_of "dfu-util-$c" bus_us)))
	b=$bd
	[ -r "$tmp/stm32dfu-$c.stats" ] && [ "$bs" -lt "$bd" ] && b=$bs
	case $c in write) label="1 MiB write";; rewrite) label="rewrite, 32 KiB changed";; read) label="1 MiB read";; esac
	awk -v l="$label" -v ws="$ws" -v wd="$wd" -v xs="$xs" -v xd="$xd" -v b="$b" 'BEGIN {
		printf "%-22s %9.2fs %8d %9.2fs %8d %10.2f %8.2fs %4.1f %4.1f\n", l, ws / 1e6, xs, wd / 1e6, xd,
			(wd ? ws / wd : 0), b / 1e6, (b ? ws / b : 0), (b ? wd / b : 0) }'
done
echo "ratio = stm32dfu / dfu-util wall time; bound = device busy + bus time (model); s/b, d/b = each tool / bound"
