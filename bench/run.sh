#!/bin/bash
# Benchmark: stm32dfu against Debian's dfu-util on the same virtual chips (stm32dfu-sim), per case
# (a profile and its busy-reply behaviour): a full write (erase + program), a rewrite where a part
# changed, and a read of the whole flash. Reported, never asserted (design.md). See bench/README.md.
#
# Usage: bench/run.sh [BUILD_DIR] [CASE...]
#   cases: f746-hold f746-busy f746-stall f407 f0 (default: all); env TIMING=1 sets the time scale
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$(cd "${1:-$root/build}" && pwd) || exit 2
shift $(($# > 0 ? 1 : 0))
cases=${*:-f746-hold f746-busy f746-stall f407 f0}
timing=${TIMING:-1}
reps=${READ_REPS:-5} # reads are short: the median of this many runs
SIM=$build/stm32dfu-sim
TOOL=$build/stm32dfu
[ -x "$SIM" ] || { echo "no $SIM (build with umockdev)" >&2; exit 2; }
[ -x "$TOOL" ] || { echo "no $TOOL" >&2; exit 2; }
command -v dfu-util >/dev/null || { echo "dfu-util is not installed" >&2; exit 2; }
export STM32DFU_PROFILE_DIR=${STM32DFU_PROFILE_DIR:-$root/profiles}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export XDG_STATE_HOME=$tmp/xdg # no link note of a real doctor run changes what is measured
base=0x08000000

spec_of() {
	case $1 in
	f746-hold) echo "f746,busy_reply=hold" ;;
	f746-busy) echo "f746,busy_reply=busy" ;;
	f746-stall) echo "f746,busy_reply=stall" ;;
	f407) echo "f407" ;;
	f0) echo "f0-32k" ;;
	*) echo "unknown case $1" >&2; exit 2 ;;
	esac
}
# the whole flash, and the changed part of the rewrite (inside one large sector, or two F0 pages)
size_of() { [ "$1" = f0 ] && echo 32768 || echo 1048576; }
change_of() { [ "$1" = f0 ] && echo "2048 16384" || echo "32768 $((0x88000))"; }

# run NAME SPEC STATE COMMAND...: one command in a fresh testbed whose chip starts from STATE (the
# previous step's flash); records the command's wall time alone and the emulator's counters.
run() {
	local name=$1 spec=$2 state=$3
	shift 3
	rm -f "$tmp/$name.wall"
	"$SIM" --profile "$spec,timing=$timing,state=$state" --stats "$tmp/$name.stats" -- \
		bash -c 's=$(date +%s%N); "$@" >'"$tmp/$name.log"' 2>&1; rc=$?; echo $((($(date +%s%N) - s) / 1000)) >'"$tmp/$name.wall"'; exit $rc' \
		_ "$@" || { echo "$name failed:" >&2; tail -3 "$tmp/$name.log" >&2; echo failed >"$tmp/$name.wall"; }
}
# best NAME N COMMAND...: a read is short, so its wall time is the median of N runs (on the same
# chip state; the counters are those of the last run, identical each time)
median_run() {
	local name=$1 n=$2 spec=$3 state=$4 i
	shift 4
	: >"$tmp/$name.walls"
	for ((i = 0; i < n; i++)); do
		run "$name" "$spec" "$state" "$@"
		cat "$tmp/$name.wall" >>"$tmp/$name.walls"
	done
	grep -q failed "$tmp/$name.walls" && { echo failed >"$tmp/$name.wall"; return; }
	sort -n "$tmp/$name.walls" | sed -n "$(((n + 1) / 2))p" >"$tmp/$name.wall"
}
stat_of() { [ -r "$tmp/$1.stats" ] && tr ' ' '\n' <"$tmp/$1.stats" | sed -n "s/^$2=//p" | head -1 | grep . || echo 0; }
wall_of() { cat "$tmp/$1.wall" 2>/dev/null || echo failed; }
bound_of() { echo $(($(stat_of "$1" busy_us) + $(stat_of "$1" bus_us))); }

# row LABEL OURS THEIRS: one line of the table; the bound is the smaller device work (busy + bus
# time) of the two runs, or OURS' own with --vdd (the chip then does less work than dfu-util asks)
row() {
	local label=$1 s=$2 d=$3 own=${4:-}
	local ws wd xs xd b bs bd
	ws=$(wall_of "$s") wd=$(wall_of "$d")
	xs=$(stat_of "$s" host_transfers) xd=$(stat_of "$d" host_transfers)
	bs=$(bound_of "$s") bd=$(bound_of "$d")
	b=$bd
	{ [ "$wd" = failed ] || [ "$bs" -lt "$bd" ] || [ -n "$own" ]; } && b=$bs
	awk -v l="$label" -v ws="$ws" -v wd="$wd" -v xs="$xs" -v xd="$xd" -v b="$b" 'BEGIN {
		fs = ws == "failed" ? sprintf("%9s", "failed") : sprintf("%8.2fs", ws / 1e6)
		fd = wd == "failed" ? sprintf("%9s", "failed") : sprintf("%8.2fs", wd / 1e6)
		r = (ws != "failed" && wd != "failed" && wd > 0) ? sprintf("%6.2f", ws / wd) : sprintf("%6s", "-")
		rb = (ws != "failed" && b > 0) ? sprintf("%5.2f", ws / b) : sprintf("%5s", "-")
		printf "%-36s %s %6d %s %6d %s %8.2fs %s\n", l, fs, xs, fd, xd, r, b / 1e6, rb }'
}

out=$tmp/table
printf 'stm32dfu vs dfu-util on virtual chips (stm32dfu-sim, timing=%s), %s\n' "$timing" "$(date -u +%Y-%m-%d)" >"$out"
printf '%-36s %9s %6s %9s %6s %6s %9s %5s\n' case stm32dfu xfers dfu-util xfers s/d bound s/b >>"$out"
for c in $cases; do
	spec=$(spec_of "$c") || exit 2
	size=$(size_of "$c")
	read -r clen coff <<<"$(change_of "$c")"
	head -c "$size" /dev/urandom >"$tmp/$c-a.bin"
	cp "$tmp/$c-a.bin" "$tmp/$c-b.bin"
	head -c "$clen" /dev/urandom | dd of="$tmp/$c-b.bin" bs=1 seek="$coff" conv=notrunc status=none
	for t in stm32dfu dfu-util; do
		st=$tmp/$c-$t.state
		rm -f "$st"
		if [ $t = stm32dfu ]; then
			run "$c-$t-write" "$spec" "$st" "$TOOL" write "$tmp/$c-a.bin" -a $base --no-verify
			run "$c-$t-rewrite" "$spec" "$st" "$TOOL" write "$tmp/$c-b.bin" -a $base --no-verify
			median_run "$c-$t-read" "$reps" "$spec" "$st" "$TOOL" read $base "$size" -o "$tmp/$c-$t-out.bin"
		else
			run "$c-$t-write" "$spec" "$st" dfu-util -a 0 -s $base -D "$tmp/$c-a.bin"
			run "$c-$t-rewrite" "$spec" "$st" dfu-util -a 0 -s $base -D "$tmp/$c-b.bin"
			rm -f "$tmp/$c-$t-out.bin"
			median_run "$c-$t-read" "$reps" "$spec" "$st" sh -c 'rm -f "$1"; exec dfu-util -a 0 -s "$2" -U "$1"' _ \
				"$tmp/$c-$t-out.bin" "$base:$size"
		fi
		[ -r "$tmp/$c-$t-out.bin" ] && ! cmp -s "$tmp/$c-b.bin" "$tmp/$c-$t-out.bin" &&
			echo "warning: $c: $t read back differs from the image" >&2
	done
	k=$((size / 1024))
	[ "$k" -ge 1024 ] && what="$((k / 1024)) MiB" || what="$k KiB"
	row "$c: $what write" "$c-stm32dfu-write" "$c-dfu-util-write" >>"$out"
	row "$c: rewrite, $((clen / 1024)) KiB changed" "$c-stm32dfu-rewrite" "$c-dfu-util-rewrite" >>"$out"
	row "$c: $what read" "$c-stm32dfu-read" "$c-dfu-util-read" >>"$out"
	case $c in
	f746-hold)
		# --vdd 3.3: the Device Feature range 3 (x32), on a fresh chip, against dfu-util's write at x8
		rm -f "$tmp/$c-vdd.state"
		run "$c-vdd-write" "$spec" "$tmp/$c-vdd.state" "$TOOL" write "$tmp/$c-a.bin" -a $base --no-verify --vdd 3.3
		row "$c: $what write --vdd 3.3" "$c-vdd-write" "$c-dfu-util-write" own >>"$out"
		;;
	f746-busy)
		# the same work with --poll spec (every bwPollTimeout waited): adaptive polling must not lose
		rm -f "$tmp/$c-spec.state"
		run "$c-spec-write" "$spec" "$tmp/$c-spec.state" "$TOOL" write "$tmp/$c-a.bin" -a $base --no-verify --poll spec
		run "$c-spec-rewrite" "$spec" "$tmp/$c-spec.state" "$TOOL" write "$tmp/$c-b.bin" -a $base --no-verify --poll spec
		row "$c: $what write, auto vs spec" "$c-stm32dfu-write" "$c-spec-write" >>"$out"
		row "$c: rewrite, auto vs spec" "$c-stm32dfu-rewrite" "$c-spec-rewrite" >>"$out"
		;;
	f746-stall)
		# completes and verifies: a verify of the written image against the chip
		run "$c-verify" "$spec" "$tmp/$c-stm32dfu.state" "$TOOL" verify "$tmp/$c-b.bin" -a $base
		grep -q "the chip holds" "$tmp/$c-verify.log" && v=verified || v="NOT verified"
		echo "$c: after write and rewrite the chip holds the image: $v" >>"$out.notes"
		;;
	esac
done
cat "$out"
[ -r "$out.notes" ] && cat "$out.notes"
echo "s/d = stm32dfu / dfu-util wall time (auto vs spec rows: --poll auto / --poll spec); bound = device busy + bus"
echo "time of the less work of the two (model); s/b = stm32dfu / bound; xfers = control transfers;"
echo "read rows: median of $reps runs"
