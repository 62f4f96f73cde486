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
# the wine prefix's links this script adds (a UNC share, two COM ports) go with it. The prefix may be
# shared with another run of this script (or any wine program): its COM ports are claimed here, each
# by creating its link (symlink(2) fails on one that exists), and the share is named by this run;
# with one fixed COM7 two runs at once once talked to each other's emulator
dd="${WINEPREFIX:-$HOME/.wine}/dosdevices"
mkdir -p "$dd"
share="stm32dfu-test-$$"
claim() { local n; for n in $(seq 20 250); do ln -s "$1" "$dd/com$n" 2>/dev/null && { echo "$n"; return; }; done; }
com=$(claim /dev/null)                         # pointed at the emulator's pseudo-terminal below
nocom=$(claim "$work/no-such-tty")             # a COM port whose device does not exist
trap 'rm -rf "$work"; rm -f "$dd/unc/localhost/$share" ${com:+"$dd/com$com"} ${nocom:+"$dd/com$nocom"}' EXIT
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

# no device: libusb's Windows backend under wine sees no USB device at all; one rule on every
# platform: exit 69, said on stderr; --json prints the failure document (docs/json.md)
run 69 list
grep -q "no DFU device found" <<<"$out" && ok || bad "list with no device says so: $out"
out=$("$wine" "$build/stm32dfu.exe" list --json 2>/dev/null); rc=$?
[ "$rc" = 69 ] && python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); sys.exit(0 if d["ok"] is False and d["error"] == "STM32DFU_E_NO_DEVICE" else 1)' <<<"$out" && ok || bad "list --json with no device: $rc '$out'"

# a device bound to a driver libusb cannot use (the emulator injects the refusal; the wording is
# the real one's): exit 77, the fix named is WinUSB through Zadig or ST's own driver
run 77 "$sim,open_refused=driver" info
grep -q "bind WinUSB to it" <<<"$out" && grep -q "Zadig: Options > List All Devices" <<<"$out" &&
	grep -q "STM32Bootloader.bat" <<<"$out" && ok || bad "a device on the wrong driver names the fix: $out"
run 77 "$sim,open_refused=busy" read 0x08000000 16 -o "$(W busy.bin)"
grep -q "one program at a time" <<<"$out" && [ ! -e "$work/busy.bin" ] && ok || bad "a device held by another program: $out"

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

# Windows-flavoured bad input: a missing drive, a read-only file
run 66 "$sim" write 'Q:\nowhere\fw.bin' -a 0x08000000
cp "$work/fw.bin" "$work/ro.bin"
chmod 444 "$work/ro.bin"
"$wine" cmd /c attrib +r "$(W ro.bin)" >/dev/null 2>&1
run 73 "$sim" read 0x08000000 16 -o "$(W ro.bin)"
cmp -s "$work/fw.bin" "$work/ro.bin" && ok || bad "a read-only output file is left as it was"
run 0 file info "$(W ro.bin)" # a read-only input reads
run 73 file convert "$(W fw2.bin)" "$(W ro.bin)" -a 0x08000000 --format bin
cmp -s "$work/fw.bin" "$work/ro.bin" && ok || bad "file convert left the read-only file as it was"
run 73 "$sim" read 0x08000000 16 -o 'Q:\nowhere\out.bin'

# device names (CON, NUL, AUX, COM1, LPT1, with any extension) are not files: refused before any
# transfer, naming the device; nothing is created (the emulated chip's state is not even read)
for o in NUL "$(W nul.bin)" "$(W con.hex)" "$(W lpt1.srec)"; do
	run 73 "$sim" read 0x08000000 16 -o "$o" --format bin
	grep -q "is a Windows device name, not a file" <<<"$out" && ok || bad "-o $o: $out"
done
ls "$work" | grep -qiE '^(nul|con|lpt1)\.' && bad "a file was created under a device name: $(ls "$work")" || ok
run 66 "$sim" write CON -a 0x08000000 </dev/null
grep -q "CON is a Windows device name" <<<"$out" && ok || bad "write CON: $out"
run 73 file convert "$(W fw.bin)" "$(W aux.hex)" -a 0x08000000
grep -q "AUX is a Windows device name" <<<"$out" && ok || bad "file convert to aux.hex: $out"

# UNC paths (\\server\share\...): wine serves \\localhost\share from dosdevices/unc, no network.
# A firmware file on a share is written; a read lands on the share (temp file and rename there);
# a share that does not exist is a missing input (66) or an uncreatable output (73), named as typed
unc="${WINEPREFIX:-$HOME/.wine}/dosdevices/unc/localhost"
mkdir -p "$unc" && ln -sfn "$work" "$unc/$share"
run 0 "$sim" write "\\\\localhost\\$share\\fw.bin" -a 0x08000000
run 0 "$sim" read 0x08000000 70000 -o "\\\\localhost\\$share\\unc-back.bin"
cmp -s "$work/fw.bin" "$work/unc-back.bin" && ok || bad "a read onto a UNC path"
run 0 "$sim" read 0x08000000 70000 -o "\\\\?\\$(W unc-back2.bin)"
cmp -s "$work/fw.bin" "$work/unc-back2.bin" && ok || bad "a read onto a \\\\?\\ path"
rm -f "$unc/$share"
run 66 "$sim" write '\\nosuchhost\share\fw.bin' -a 0x08000000
grep -qF '\\nosuchhost\share\fw.bin' <<<"$out" && ok || bad "the UNC path is named as typed (not escaped): $out"
run 73 "$sim" read 0x08000000 16 -o '\\nosuchhost\share\out.bin'

# a file another program holds open without sharing (an editor, a virus scan): a sharing
# violation, said as such, before the chip is touched; the held file is left as it was and no
# temporary file is left beside it
cp "$work/fw.bin" "$work/held.bin"
mkfifo "$work/hold.ctl"
"$wine" "$build/tests/windows/hold.exe" "$(W held.bin)" <"$work/hold.ctl" >"$work/hold.out" 2>&1 &
hold_pid=$!
exec 7>"$work/hold.ctl"
for _ in $(seq 300); do grep -q held "$work/hold.out" && break; sleep 0.1; done
if grep -q held "$work/hold.out"; then
	run 66 "$sim" write "$(W held.bin)" -a 0x08000000
	grep -q "in use by another program (a sharing violation)" <<<"$out" && ok || bad "write of a held file: $out"
	run 73 "$sim" read 0x08000000 16 -o "$(W held.bin)"
	grep -q "in use by another program" <<<"$out" && ok || bad "read onto a held file: $out"
	run 73 file convert "$(W fw.bin)" "$(W held.bin)" -a 0x08000000 --format bin
	grep -q "in use by another program" <<<"$out" && ok || bad "file convert onto a held file: $out"
	cmp -s "$work/fw.bin" "$work/held.bin" && ! ls "$work" | grep -q '^held.bin.tmp' && ok ||
		bad "the held file changed, or a temporary file was left"
else
	bad "the holding program did not start: $(cat "$work/hold.out")"
fi
exec 7>&-
wait "$hold_pid"

# COM ports through libserialport's Windows backend (built from Debian's source). wine maps COMn
# to a Unix tty through dosdevices/comN, so the USART bootloader emulator's pseudo-terminal
# (stm32dfu-sim --uart, the Linux build's) becomes the COM port this run claimed: a probe crosses the whole Windows path,
# CreateFile and the DCB included. A port that does not exist is 69. (A port another program holds
# cannot be shown here: wine does not enforce CreateFile's no-sharing on a serial device.)
dd="${WINEPREFIX:-$HOME/.wine}/dosdevices"
run 0 list --ports
run 69 list --ports --probe --port "COM$nocom"
grep -q "serial port COM$nocom: no such port" <<<"$out" && ok || bad "a missing COM port: $out"
simtool=${STM32DFU_SIM:-$root/build/stm32dfu-sim}
if [ -x "$simtool" ]; then
	cat >"$work/com.sh" <<'EOS'
set -u
r() { echo "$1" >>"$work/com.results"; }
ln -sfn "$STM32DFU_TTY" "$dd/com$com"
out=$("$wine" "$build/stm32dfu.exe" list --probe --port COM$com --json 2>&1); rc=$?
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); p=d[0]["probe"]; sys.exit(0 if p["answer"] == "ack" and p["device_id"] == 0x449 and p["family"] == "F74x" else 1)' "$out" 2>/dev/null &&
	[ "$rc" = 0 ] && r ok || r "bad: probe of COM$com (the F746 USART emulator): $rc $out"
# successive sessions on the same COM port, each a new process as a user's script runs them: the
# ROM stays synchronised between them, so each one's first 0x7F is taken as a command byte and only
# its second is answered (NACK): the read that times out on the first must give back "nothing
# came", which wine reports as a failed read (ERROR_TIMEOUT; serial/ser_sp.c). Before that was
# handled every other session failed with "sync: COM$com: read: Timeout."
w() { printf 'Z:%s' "$(printf '%s' "$work/$1" | tr / '\\')"; }
i=0
for step in "write A" "verify A" "write B" "verify B" "write A" "verify A" "read A"; do
	i=$((i + 1))
	set -- $step
	case $1 in
	read) args=(read 0x08000000 3000 -o "$(w com-back.bin)") ;;
	*) args=("$1" "$(w "com-$2.bin")" -a 0x08000000) ;;
	esac
	out=$("$wine" "$build/stm32dfu.exe" "${args[@]}" --port COM$com --trace "$(w "com-t$i")" 2>&1); rc=$?
	answer=$(grep -m1 '^@[0-9]* <' "$work/com-t$i" | cut -d' ' -f3)
	[ "$rc" = 0 ] && { [ "$answer" = 79 ] || [ "$answer" = 1f ]; } && r ok ||
		r "bad: session $i ($step) over COM$com: rc $rc, first answer '$answer': $out $(head -4 "$work/com-t$i")"
done
cmp -s "$work/com-A.bin" "$work/com-back.bin" && r ok || r "bad: the bytes read back over COM$com differ from the image written last"
ln -sfn /dev/null "$dd/com$com" # still ours until the end
EOS
	: >"$work/com.results"
	head -c 3000 /dev/urandom >"$work/com-A.bin"
	head -c 3000 /dev/urandom >"$work/com-B.bin"
	work=$work dd=$dd com=$com wine=$wine build=$build "$simtool" --uart f746 -- bash "$work/com.sh" >"$work/com.log" 2>&1
	[ "$(grep -c '^ok$' "$work/com.results")" = 9 ] && ok || bad "COM ports: $(cat "$work/com.results") $(tail -5 "$work/com.log")"
	pass=$((pass + $(grep -c '^ok$' "$work/com.results")))
else
	bad "no stm32dfu-sim at $simtool (build the Linux tree first, or set STM32DFU_SIM): COM ports not checked"
fi

# PostgreSQL stays optional: libpq.dll is loaded only when a postgresql:// log is asked for, and
# its absence is said plainly (69) before any work
run 69 log --log postgresql://127.0.0.1:1/none
grep -q "a PostgreSQL log needs libpq: libpq.dll is not installed" <<<"$out" && ok || bad "no libpq.dll: $out"

# Ctrl-C: wine hands a console program's SIGINT to the handlers SetConsoleCtrlHandler installed, as
# CTRL_C_EVENT on a thread of their own (what Windows does for Ctrl-C in a console window). The
# write stops at a transfer boundary, says what each sector holds and where the kept bytes are,
# exits 130; recover then puts them back. timing=1: the emulated write takes seconds.
head -c 300000 /dev/urandom >"$work/big.bin"
isim="--sim=f746,timing=1,state=$(winpath "$work/int.state")"
"$wine" "$build/stm32dfu.exe" "$isim" write "$(W big.bin)" -a 0x08000000 >"$work/int.out" 2>"$work/int.err" &
pid=$!
# the stop is asked once programming is under way (its progress line), whatever the machine's speed
for _ in $(seq 1500); do
	grep -q '^program:' "$work/int.err" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.2
done
kill -INT "$pid"
wait "$pid"
rc=$?
ierr=$(tr -d '\r' <"$work/int.err")
[ "$rc" = 130 ] && grep -q "stopped on request" <<<"$ierr" && grep -q "on the chip: sectors .*partial" <<<"$ierr" &&
	grep -q "recovery" <<<"$ierr" && ok || bad "Ctrl-C (CTRL_C_EVENT) stops at a boundary, exit 130, says what the chip holds: $rc $ierr"
# after a signal to wine, a command substitution once waited forever on its pipe with no wine
# process left (seen once in three runs, cause not found): these read files, under a time limit
runf() {
	local want=$1; shift
	timeout 300 "$wine" "$build/stm32dfu.exe" "$@" >"$work/runf.out" 2>&1
	rc=$?
	out=$(cat "$work/runf.out")
	if [ "$rc" = "$want" ]; then ok; else bad "stm32dfu $* -> $rc (wanted $want): $out"; fi
}
runf 0 "--sim=f746,timing=0,state=$(winpath "$work/int.state")" recover
runf 0 "--sim=f746,timing=0,state=$(winpath "$work/int.state")" write "$(W big.bin)" -a 0x08000000
runf 0 "--sim=f746,timing=0,state=$(winpath "$work/int.state")" verify "$(W big.bin)" -a 0x08000000

echo "windows cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
