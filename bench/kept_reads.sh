#!/bin/sh
# The cost of confirming the kept bytes (issue 21 item 5): a sector the image covers only partly is
# read a second time before its erase, and the reads must agree. A report, never a test. Per case,
# on a chip holding 0x5A everywhere (so the sector's other bytes must be kept), median of RUNS:
# UPLOAD requests in the write (from --trace) and the read phase's seconds (the JSON 'seconds.read',
# TIMING=1: the emulator charges the bus time in real time), for each tool given.
# Usage: bench/kept_reads.sh [RUNS [TOOL...]]   (default: 5 build/stm32dfu; env STM32DFU_PROFILE_DIR)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- "$here/build/stm32dfu"
export STM32DFU_PROFILE_DIR="${STM32DFU_PROFILE_DIR:-$here/profiles}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kept.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'PY'
import random, sys
t = sys.argv[1]
r = random.Random(1)
open(t + "/fill.bin", "wb").write(b"\x5a" * 32768)
open(t + "/part.bin", "wb").write(bytes(r.randrange(256) for _ in range(3000)))
open(t + "/whole32k.bin", "wb").write(bytes(r.randrange(256) for _ in range(32768)))
open(t + "/whole3k.bin", "wb").write(bytes(r.randrange(256) for _ in range(3072)))
PY
printf '%-44s %-28s %8s %10s\n' case tool uploads "read s"
for tool in "$@"; do
	for c in "f746 part.bin 3000 B in sector 0 (32 KiB)" "f746 whole32k.bin sector 0 whole (32 KiB)" \
		"f0-32k part.bin 3000 B over pages 0-2 (1 KiB)" "f0-32k whole3k.bin pages 0-2 whole"; do
		set -- $c
		prof=$1 img=$2
		shift 2
		what="$prof: $*"
		i=0
		: >"$tmp/res"
		while [ $i -lt "$runs" ]; do
			st="$tmp/$prof-$i.state"
			"$tool" --sim="$prof,timing=1,state=$st" write "$tmp/fill.bin" -a 0x08000000 -q
			"$tool" --sim="$prof,timing=1,state=$st" write "$tmp/$img" -a 0x08000000 --json --trace "$tmp/tr" >"$tmp/o.json"
			up=$(grep -c ' IN  a1 02 ' "$tmp/tr" || true)
			rd=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"]["read"])' "$tmp/o.json")
			echo "$up $rd" >>"$tmp/res"
			i=$((i + 1))
		done
		med=$(sort -k2 -g "$tmp/res" | sed -n "$(( (runs + 1) / 2 ))p")
		printf '%-44s %-28s %8s %10.3f\n' "$what" "$(basename "$(dirname "$tool")")/$(basename "$tool")" ${med% *} ${med#* }
	done
done
