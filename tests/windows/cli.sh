#!/bin/bash
# The Windows build's command line under wine64, against the in-process emulator (--sim): every
# firmware format in and out, write/verify/read/erase, option bytes, JSON, the SQLite log, an
# interrupted write and its recovery, non-ASCII file names, and Windows-flavoured bad input.
# Usage: tests/windows/cli.sh BUILD_DIR   (make windows-check runs it)
set -u
build=$(cd "${1:?usage: cli.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
wine=${WINE:-/usr/lib/wine/wine64}
export WINEDEBUG=-all
winpath() { printf 'Z:%s' "$(printf '%s' "$1" | tr / '\\')"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# our state (emulated chips, recovery files, the log) in a folder of this run
export XDG_STATE_HOME; XDG_STATE_HOME=$(winpath "$work/state")
export STM32DFU_PROFILE_DIR; STM32DFU_PROFILE_DIR=$(winpath "$root/profiles")
sim="--sim=f746,timing=0,state=$(winpath "$work/f746.state")"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# run EXPECTED-RC ARGS...: stm32dfu.exe under wine; output in $out
run() {
	local want=$1; shift
	out=$("$wine" "$build/stm32dfu.exe" "$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ]; then ok; else bad "stm32dfu $* -> $rc (wanted $want): $out"; fi
}
W() { winpath "$work/$1"; }

head -c 70000 /dev/urandom >"$work/fw.bin"
run 0 --version
run 0 "$sim" list
grep -q "STM32F74x" <<<"$out" && ok || bad "list names the chip: $out"

# every format (ELF is read, not written: tests/unit/image covers ELF input): convert on Windows, write, verify, read back
run 0 "$sim" write "$(W fw.bin)" -a 0x08000000
run 0 "$sim" verify "$(W fw.bin)" -a 0x08000000
for f in hex srec dfu; do
	run 0 file convert "$(W fw.bin)" "$(W fw.$f)" -a 0x08000000
	run 0 file info "$(W fw.$f)"
	run 0 "$sim" verify "$(W fw.$f)"
done
run 0 "$sim" read 0x08000000 70000 -o "$(W back.bin)"
cmp -s "$work/fw.bin" "$work/back.bin" && ok || bad "read back differs from what was written"
run 0 "$sim" read 0x08000000 70000 -o "$(W back.hex)"
run 0 file convert "$(W back.hex)" "$(W back2.bin)"
cmp -s "$work/fw.bin" "$work/back2.bin" && ok || bad "hex read back differs"

# JSON parses, and says what happened
run 0 "$sim" verify "$(W fw.hex)" --json
python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); sys.exit(0 if d.get("ok") is True else 1)' <<<"$out" &&
	ok || bad "verify --json: $out"

# a byte changed on the chip: verify says so with exit 10
cp "$work/fw.bin" "$work/fw2.bin"
printf '%b' "\\x$(printf '%02x' $(( ($(od -An -tu1 -j100 -N1 "$work/fw.bin") + 1) % 256 )))" |
	dd of="$work/fw2.bin" bs=1 seek=100 count=1 conv=notrunc 2>/dev/null
run 10 "$sim" verify "$(W fw2.bin)" -a 0x08000000

# erase exactly a range; the rest of the sector is kept
run 0 "$sim" erase 0x08000100 0x100
run 0 "$sim" read 0x08000000 0x300 -o "$(W part.bin)"
head -c 256 "$work/fw.bin" | cmp -s - <(head -c 256 "$work/part.bin") && ok || bad "bytes before the erased range kept"
[ "$(dd if="$work/part.bin" bs=1 skip=256 count=256 2>/dev/null | od -v -An -tx1 | tr -d ' \n' | tr -d f)" = "" ] &&
	ok || bad "the erased range reads 0xFF"

# option bytes, decoded
run 0 "$sim" ob show
grep -q "RDP" <<<"$out" && ok || bad "ob show names RDP: $out"

# the programming log (SQLite) holds the writes of emulated chips
run 0 log --sim --json
python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); r=d if isinstance(d,list) else d.get("records",[]); sys.exit(0 if len(r)>0 else 1)' <<<"$out" &&
	ok || bad "log --sim --json has records: ${out:0:300}"

# an interrupted write names its recovery file; recover puts the kept bytes back
run 0 "$sim" write "$(W fw.bin)" -a 0x08000000
head -c 3000 /dev/urandom >"$work/small.bin"
# the transfer the unplug hits is searched for (the reads before the erase vary with the plan)
for u in 80 100 120 140 160; do
	out=$("$wine" "$build/stm32dfu.exe" "--sim=f746,timing=0,unplug_at=$u,state=$(winpath "$work/f746.state")" \
		write "$(W small.bin)" -a 0x08000000 --retries 0 2>&1)
	rc=$?
	grep -q "recovery/" <<<"$out" && break
done
[ "$rc" = 74 ] && grep -q "recovery/" <<<"$out" && ok || bad "a write cut off after its erase names its recovery file: $rc $out"
run 0 "$sim" recover
run 0 "$sim" read 0x08000000 32768 -o "$(W sector0.bin)"
cmp -s <(tail -c +3001 "$work/sector0.bin") <(head -c 32768 "$work/fw.bin" | tail -c +3001) &&
	ok || bad "recover put back the bytes of sector 0 outside the image"

# non-ASCII file names, in and out
cp "$work/fw.bin" "$work/fïrmwäre-µ.bin"
run 0 "$sim" write "$(W 'fïrmwäre-µ.bin')" -a 0x08000000
run 0 "$sim" read 0x08000000 70000 -o "$(W 'dümp-ß.bin')"
cmp -s "$work/fw.bin" "$work/dümp-ß.bin" && ok || bad "non-ASCII round trip"

# Windows-flavoured bad input: a missing drive, a reserved device name, a read-only file
run 66 "$sim" write 'Q:\nowhere\fw.bin' -a 0x08000000
cp "$work/fw.bin" "$work/ro.bin"
chmod 444 "$work/ro.bin"
"$wine" cmd /c attrib +r "$(W ro.bin)" >/dev/null 2>&1
run 73 "$sim" read 0x08000000 16 -o "$(W ro.bin)"
cmp -s "$work/fw.bin" "$work/ro.bin" && ok || bad "a read-only output file is left as it was"
run 73 "$sim" read 0x08000000 16 -o 'Q:\nowhere\out.bin'

echo "windows cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
