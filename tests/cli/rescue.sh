#!/bin/sh
# Nothing lost, off the paths the other tests walk (issue 21 items 1, 2, 3, 5), through the built
# binary against the emulator, each recipe as the issue reproduced it. Every check reads the chip
# back (a dump compared byte for byte with what the sequence must leave), not only our output.
#   1. two F0s (no readable UID, one USB serial) in one state folder: A's recovery file is never
#      applied to B; B's write is refused, A's file kept; A's next write restores A's bytes;
#   2. write --no-verify, then a write elsewhere in the same sector: no stale restore;
#   3. no HOME and no XDG_STATE_HOME (stm32dfu-sim, the real USB path): the runtime folder, the
#      variable and --recovery-dir hold the file; with none, exit 73 before any erase; --no-log
#      changes nothing;
#   5. a bit flipped in the read-back of kept bytes is caught before the erase.
# Usage: rescue.sh STM32DFU  (env: STM32DFU_PROFILE_DIR, STM32DFU_BUILD_ROOT for stm32dfu-sim)
. "$(dirname "$0")/lib.sh"

# mk FILE SIZE BYTE|random SEED: a test image
mk() {
	python3 - "$@" <<'PY'
import random, sys
path, size, fill = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if fill == "random":
    r = random.Random(int(sys.argv[4]))
    d = bytes(r.randrange(256) for _ in range(size))
else:
    d = bytes([int(fill, 16)]) * size
open(path, "wb").write(d)
PY
}
# expect NAME DUMP BASE: DUMP (read at BASE) must equal the bytes given as OFFSET:FILE pairs over
# a fill byte: expect NAME DUMP FILL OFF:FILE ...
expect() {
	name=$1 dump=$2 fill=$3
	shift 3
	if python3 - "$dump" "$fill" "$@" <<'PY'; then passes=$((passes + 1)); else echo "FAIL $name"; fails=$((fails + 1)); fi
import sys
d = open(sys.argv[1], "rb").read()
want = bytearray([int(sys.argv[2], 16)]) * len(d)
for spec in sys.argv[3:]:
    off, path = spec.split(":", 1)
    b = open(path, "rb").read()
    off = int(off, 0)
    want[off:off + len(b)] = b
if bytes(want) != d:
    i = next(k for k in range(len(d)) if d[k] != want[k])
    print("    first difference at +0x%X: chip 0x%02X, expected 0x%02X" % (i, d[i], want[i]))
    sys.exit(1)
PY
}

# dies NAME STATE RUNNER RECOVERY_DIR: "RUNNER N" is a write with unplug_at=N (and --retries 0:
# an unplugged chip is not waited for); N goes up until
# the write fails after its erase (exit 74, its error naming the recovery file); the state file is
# put back and the recovery files the tries left are deleted between tries (those there before
# stay), so that each try starts the same
dies() {
	dname=$1 dstate=$2 drunner=$3 ddir=$4
	cp "$dstate" "$dstate.orig"
	find "$ddir" -name '*.recovery' 2>/dev/null | sort >"$work/dies.before"
	for n in 40 50 60 70 80 90 100 110 120 140 160 180 200 230 260 300; do
		cp "$dstate.orig" "$dstate"
		find "$ddir" -name '*.recovery' 2>/dev/null | sort | comm -13 "$work/dies.before" - | xargs -r rm -f
		$drunner $n
		drc=$?
		# failed after its erase: a recovery file of its own (not only another chip's, named in a warning)
		if [ $drc = 74 ] && [ -n "$(find "$ddir" -name '*.recovery' 2>/dev/null | sort | comm -13 "$work/dies.before" -)" ]; then
			passes=$((passes + 1)); return 0
		fi
		if [ $drc = 0 ]; then break; fi
	done
	echo "FAIL $dname: no unplug point failed the write after its erase"; sed 's/^/    /' "$work/err" | head
	fails=$((fails + 1))
}
# files DIR: the recovery files in DIR, one a line, sorted
files() { find "$1" -name '*.recovery' 2>/dev/null | sort; }
# nfiles NAME DIR N: DIR holds N recovery files
nfiles() {
	if [ "$(files "$2" | wc -l)" = "$3" ]; then passes=$((passes + 1)); else
		echo "FAIL $1: $(files "$2" | wc -l) recovery files in $2, expected $3"; files "$2" | sed 's/^/    /'; fails=$((fails + 1)); fi
}

mk "$work/r3k.bin" 3000 random 3
mk "$work/r3k2.bin" 3000 random 4
mk "$work/r3k3.bin" 3000 random 7
mk "$work/aa.bin" 32768 AA
mk "$work/bb.bin" 32768 BB
mk "$work/cc.bin" 32768 CC
printf '\022\064\126\170' >"$work/patch.bin"
# ab.bin: AA over the first 3 KiB (the sectors r3k.bin erases), BB after
python3 -c 'import sys; open(sys.argv[1], "wb").write(b"\xAA" * 3072 + b"\xBB" * (32768 - 3072))' "$work/ab.bin"

# ---- 1. two F0s share the key serial-FFFFFFFEFFFF ----
# A's file is never applied to B; B's write goes on when the flash outside the file's sectors
# proves B is not A (and says so), leaving A's file for A; A is restored (or refused) as before
mkdir "$work/f0"
A="--sim=f0-32k,timing=0,state=$work/f0/A.state"
B="--sim=f0-32k,timing=0,state=$work/f0/B.state"
R="$work/f0/recovery"
run $A write "$work/aa.bin" -a 0x08000000; check f0-fill-a 0 $?
run $B write "$work/bb.bin" -a 0x08000000; check f0-fill-b 0 $?
a_dies() { run "$A,unplug_at=$1" write "$work/r3k.bin" -a 0x08000000 --retries 0; }
dies f0-a-dies "$work/f0/A.state" a_dies "$R"
nfiles f0-a-file-saved "$R" 1
fa=$(files "$R")
case $fa in "$R"/serial-FFFFFFFEFFFF*.recovery) passes=$((passes + 1)) ;; *) echo "FAIL f0-a-file-name: $fa"; fails=$((fails + 1)) ;; esac
cp "$fa" "$work/fa.copy"
run $B write "$work/r3k.bin" -a 0x08000000; check f0-b-proceeds 0 $? "$work/err" "another chip"
grep -qF "$fa" "$work/err"; check f0-b-names-a-file 0 $?
absent f0-b-not-restored "$work/out" "restored"
cmp -s "$fa" "$work/fa.copy"; check f0-a-file-kept 0 $?
nfiles f0-b-leaves-no-file "$R" 1
run $B read 0x08000000 32768 -o "$work/b.bin"; check f0-b-read 0 $?
expect f0-b-written "$work/b.bin" BB "0:$work/r3k.bin"
# a second run, and one with --no-verify: the same, and A's file stays A's
run $B write "$work/r3k2.bin" -a 0x08000000 --no-verify; check f0-b-noverify 0 $? "$work/err" "another chip"
run $B write "$work/r3k3.bin" -a 0x08000000; check f0-b-again 0 $? "$work/err" "another chip"
cmp -s "$fa" "$work/fa.copy"; check f0-a-file-kept-2 0 $?
nfiles f0-b-no-file-2 "$R" 1
run $B read 0x08000000 32768 -o "$work/b.bin"; check f0-b-read-2 0 $?
expect f0-b-written-2 "$work/b.bin" BB "0:$work/r3k3.bin"
# recover on B: nothing of its own, A's file left and named
run $B recover; check f0-b-recover-none 0 $? "$work/out" "no recovery file"
grep -qF "$fa" "$work/err"; check f0-b-recover-names-a 0 $?
cmp -s "$fa" "$work/fa.copy"; check f0-a-file-kept-3 0 $?
# two files under one key: B's write dies too; each chip gets back its own bytes
b_dies() { run "$B,unplug_at=$1" write "$work/r3k.bin" -a 0x08000000 --retries 0; }
dies f0-b-dies "$work/f0/B.state" b_dies "$R"
nfiles f0-two-files "$R" 2
run $B write "$work/r3k.bin" -a 0x08000000; check f0-b-restored 0 $? "$work/out" "restored"
grep -qF "$fa" "$work/err"; check f0-b-restore-leaves-a 0 $?
run $B read 0x08000000 32768 -o "$work/b.bin"; check f0-b-read-3 0 $?
expect f0-b-kept "$work/b.bin" BB "0:$work/r3k.bin"
nfiles f0-b-file-done "$R" 1
cmp -s "$fa" "$work/fa.copy"; check f0-a-file-kept-4 0 $?
# two files that both fit one chip: which is its own cannot be told, nothing is written
cp "$fa" "$R/serial-FFFFFFFEFFFF.000000000000.recovery"
run $A read 0x08000000 32768 -o "$work/a-before.bin"; check f0-two-fit-read 0 $?
run $A write "$work/r3k.bin" -a 0x08000000; check f0-two-fit-refused 65 $? "$work/err" "serial-FFFFFFFEFFFF.000000000000"
run $A read 0x08000000 32768 -o "$work/a-after.bin"; check f0-two-fit-read-2 0 $?
same f0-two-fit-untouched "$work/a-before.bin" "$work/a-after.bin"
rm -f "$R/serial-FFFFFFFEFFFF.000000000000.recovery"
# A's own write: its bytes back
run $A write "$work/r3k.bin" -a 0x08000000; check f0-a-again 0 $? "$work/out" "restored"
run $A read 0x08000000 32768 -o "$work/a.bin"; check f0-a-read 0 $?
expect f0-a-kept "$work/a.bin" AA "0:$work/r3k.bin"
nfiles f0-file-done "$R" 0

# a line writing two F0s at once, with one firmware (the same bytes): A's file, saved before its
# erase and held while A's write runs, is not B's to take; B's own file gets a name of its own
mkdir "$work/f0h"
A="--sim=f0-32k,timing=0,state=$work/f0h/A.state"
B="--sim=f0-32k,timing=0,state=$work/f0h/B.state"
R="$work/f0h/recovery"
run $A write "$work/aa.bin" -a 0x08000000; check f0h-fill-a 0 $?
run $B write "$work/aa.bin" -a 0x08000000; check f0h-fill-b 0 $?
# A's write: every erase answered 3 s late; stopped (SIGSTOP: a hung run) once its file is saved
"$tool" "$A,erase_dnload_hold=3000" write "$work/r3k.bin" -a 0x08000000 >"$work/outa" 2>"$work/erra" &
apid=$!
for _ in $(seq 1 400); do
	[ -n "$(files "$R")" ] && break
	kill -0 $apid 2>/dev/null || break
	sleep 0.05
done
kill -STOP $apid 2>/dev/null
nfiles f0h-a-file-saved "$R" 1
fa=$(files "$R")
cp "$fa" "$work/fa.copy" 2>/dev/null
run $B write "$work/r3k.bin" -a 0x08000000; check f0h-b-written 0 $?
absent f0h-b-not-restored "$work/out" "restored"
cmp -s "$fa" "$work/fa.copy"; check f0h-a-file-kept 0 $?
nfiles f0h-only-a-file "$R" 1
run $B read 0x08000000 32768 -o "$work/b.bin"; check f0h-b-read 0 $?
expect f0h-b-right "$work/b.bin" AA "0:$work/r3k.bin"
kill -KILL $apid 2>/dev/null; wait $apid 2>/dev/null
# A killed: its next write finds its own file
run $A write "$work/r3k.bin" -a 0x08000000; check f0h-a-restored 0 $? "$work/out" "restored"
run $A read 0x08000000 32768 -o "$work/a.bin"; check f0h-a-read 0 $?
expect f0h-a-right "$work/a.bin" AA "0:$work/r3k.bin"
nfiles f0h-no-file "$R" 0

# a verify on another F0 whose erased sectors happen to hold what A's write would leave does not
# end A's file (before: it deleted it, and A's kept bytes were gone)
mkdir "$work/f0v"
A="--sim=f0-32k,timing=0,state=$work/f0v/A.state"
B="--sim=f0-32k,timing=0,state=$work/f0v/B.state"
R="$work/f0v/recovery"
run $B write "$work/ab.bin" -a 0x08000000; check f0v-fill-b 0 $?
run $B write "$work/r3k.bin" -a 0x08000000; check f0v-write-b 0 $?
run $A write "$work/aa.bin" -a 0x08000000; check f0v-fill-a 0 $?
a_dies() { run "$A,unplug_at=$1" write "$work/r3k.bin" -a 0x08000000 --retries 0; }
dies f0v-a-dies "$work/f0v/A.state" a_dies "$R"
run $B verify "$work/r3k.bin" -a 0x08000000; check f0v-b-verify 0 $?
nfiles f0v-a-file-kept "$R" 1
run $A write "$work/r3k.bin" -a 0x08000000; check f0v-a-restored 0 $? "$work/out" "restored"
run $A read 0x08000000 32768 -o "$work/a.bin"; check f0v-a-read 0 $?
expect f0v-a-kept "$work/a.bin" AA "0:$work/r3k.bin"

# the file's chip written by another tool since (here: ours, with its own recovery folder)
mkdir "$work/f0r"
A="--sim=f0-32k,timing=0,state=$work/f0r/A.state"
R="$work/f0r/recovery"
run $A write "$work/aa.bin" -a 0x08000000; check f0r-fill 0 $?
a_dies() { run "$A,unplug_at=$1" write "$work/r3k.bin" -a 0x08000000 --retries 0; }
dies f0r-a-dies "$work/f0r/A.state" a_dies "$R"
cp "$work/f0r/A.state" "$work/f0r/A.died"
#   only inside the file's sectors (the rest still A's): refused as before, nothing written
run $A write "$work/patch.bin" -a 0x08000900 --recovery-dir "$work/other"; check f0r-patch 0 $?
run $A read 0x08000000 32768 -o "$work/a-before.bin"; check f0r-read-1 0 $?
run $A write "$work/r3k.bin" -a 0x08000000; check f0r-refused 65 $? "$work/err" "belongs to another chip or another time"
grep -q "0x080009" "$work/err"; check f0r-names-byte 0 $?
run $A read 0x08000000 32768 -o "$work/a-after.bin"; check f0r-read-2 0 $?
same f0r-untouched "$work/a-before.bin" "$work/a-after.bin"
nfiles f0r-file-kept "$R" 1
#   all of it: the chip is no longer the file's; the write goes on, the file stays listed
cp "$work/f0r/A.died" "$work/f0r/A.state"
run $A write "$work/cc.bin" -a 0x08000000 --recovery-dir "$work/other"; check f0r-reflash 0 $?
run $A write "$work/r3k.bin" -a 0x08000000; check f0r-reflashed-proceeds 0 $? "$work/err" "another chip"
run $A read 0x08000000 32768 -o "$work/a.bin"; check f0r-read 0 $?
expect f0r-written "$work/a.bin" CC "0:$work/r3k.bin"
nfiles f0r-file-listed "$R" 1

# ---- 2. --no-verify, then a write elsewhere in the same sector ----
mk "$work/A.bin" 8192 random 5
mk "$work/B.bin" 4096 random 6
mkdir "$work/nv" "$work/flip"
S="--sim=f746,timing=0,state=$work/nv/chip.state"
run $S write "$work/A.bin" -a 0x08000000 --no-verify; check nv-write-a 0 $?
run $S verify "$work/A.bin" -a 0x08000000; check nv-verify-a 0 $?
run $S write "$work/B.bin" -a 0x08004000; check nv-write-b 0 $?
absent nv-no-restore "$work/out" "restored"
run $S verify "$work/A.bin" -a 0x08000000; check nv-a-still-there 0 $?
# a write that ran to its end (verified or not) leaves no recovery file behind
[ -z "$(find "$work/nv" -name '*.recovery')" ]; check nv-no-file 0 $?

# ---- 5. a flipped bit in the read-back of the kept bytes ----
mk "$work/fill.bin" 32768 5A
C="--sim=f746,timing=0,state=$work/flip/f.state"
run $C write "$work/fill.bin" -a 0x08000000; check flip-fill 0 $?
for at in 18 20 22; do
	cp "$work/flip/f.state" "$work/flip/f$at.state"
	run "--sim=f746,timing=0,state=$work/flip/f$at.state,corrupt_upload_at=$at" write "$work/r3k.bin" -a 0x08000000
	rc=$?
	run "--sim=f746,timing=0,state=$work/flip/f$at.state" read 0x08000000 32768 -o "$work/flipdump.bin"; check flip$at-read 0 $?
	# whatever the write said, the chip must hold the image over the kept 0x5A, or (a failure) say so
	if [ "$rc" = 0 ]; then expect flip$at-kept "$work/flipdump.bin" 5A "0:$work/r3k.bin"; fi
done

# ---- 3. no HOME, no XDG_STATE_HOME: the real USB path under stm32dfu-sim ----
simexe=${STM32DFU_BUILD_ROOT:-}/stm32dfu-sim
if [ -x "$simexe" ]; then
	prof="f746,timing=0,poke=0x08007F00 DEADBEEF"
	bare() { env -u HOME -u XDG_STATE_HOME -u XDG_CACHE_HOME -u XDG_RUNTIME_DIR -u STM32DFU_RECOVERY_DIR "$@"; }
	vrun() { timeout -k 5 60 "$simexe" "$@" >"$work/out" 2>"$work/err"; }
	# none of them: refused before any erase (exit 73), the hint names the options, the chip untouched
	vrun --profile "$prof,state=$work/v0.state" -- "$tool" info; check nohome-chip 0 $?
	bare "$simexe" --profile "$prof,state=$work/v0.state" -- "$tool" write "$work/r3k.bin" \
		-a 0x08000000 --no-log >"$work/out" 2>"$work/err"
	check nohome-refused 73 $? "$work/err" "recovery-dir"
	grep -q "STM32DFU_RECOVERY_DIR" "$work/err"; check nohome-hint-env 0 $?
	vrun --profile "f746,timing=0,state=$work/v0.state" -- "$tool" read 0x08000000 4 -o "$work/v.bin"
	check nohome-read 0 $?
	[ "$(od -An -tx1 "$work/v.bin" | tr -d ' \n')" = ffffffff ]; check nohome-nothing-erased-or-written 0 $?
	# each fallback: the write dies after its erase, the file is where it was asked to be, and the
	# next write (same environment) puts the bytes back
	for how in runtime env option; do
		d="$work/rd-$how"
		mkdir -m 700 "$d"
		case $how in
		runtime) envset="XDG_RUNTIME_DIR=$d" extra="" ;;
		env) envset="STM32DFU_RECOVERY_DIR=$d/here" extra="" ;;
		option) envset="STM32DFU_NOTHING=1" extra="--recovery-dir=$d/opt" ;;
		esac
		st="$work/v-$how.state"
		vrun --profile "$prof,state=$st" -- "$tool" info; check nohome-$how-chip 0 $?
		v_dies() {
			bare env "$envset" "$simexe" --profile "$prof,unplug_at=$1,state=$st" -- "$tool" write "$work/r3k.bin" \
				-a 0x08000000 --no-log --retries 0 $extra >"$work/out" 2>"$work/err"
		}
		dies nohome-$how-dies "$st" v_dies "$d"
		find "$d" -name '*.recovery' | grep -q .; check nohome-$how-file 0 $?
		bare env "$envset" "$simexe" --profile "f746,timing=0,state=$st" -- "$tool" write "$work/r3k.bin" \
			-a 0x08000000 --no-log $extra >"$work/out" 2>"$work/err"
		check nohome-$how-restores 0 $? "$work/out" "restored"
		vrun --profile "f746,timing=0,state=$st" -- "$tool" read 0x08007F00 4 -o "$work/v.bin"
		[ "$(od -An -tx1 "$work/v.bin" | tr -d ' \n')" = deadbeef ]; check nohome-$how-kept 0 $?
	done
	# an F0 unplugged while it is identified (the campaign's f0-pair leg found it): libusb 1.0.26 must
	# not be asked to set an alt on a device that left (libusb#1199): its libusb_close aborted (134)
	crashed=""
	for n in 15 20 25 30 35; do
		vrun --profile "f0-32k,timing=0,state=$work/f0u$n.state,unplug_at=$n" -- "$tool" write "$work/r3k.bin" \
			-a 0x08000000 --retries 0
		rc=$?
		[ $rc = 134 ] && crashed="$crashed $n"
	done
	[ -z "$crashed" ]; check f0-unplugged-no-abort 0 $? "$work/err" "."
else
	echo "SKIP part 3: no stm32dfu-sim in \$STM32DFU_BUILD_ROOT"
fi

# 6. a chip read-protected since its write failed (campaign usart seed 2702 session 238: RDP 1 set
#    mid-write): its UID reads as refused, so recover cannot match the pending file; it says so
#    (exit 12) instead of 'nothing to put back' (exit 0 before), over USB and USART alike
mk "$work/p.bin" 5000 random 6
rp="--sim=f746,timing=0,state=$work/rp.state"
run $rp,timeout_at=115 --retries 0 write "$work/p.bin" -a 0x08000100
check rdp-write-fails 74 $? "$work/err" "the bytes to keep are saved in"
run $rp ob set RDP=level1 --i-understand-rdp1-needs-mass-erase; check rdp-set 0 $?
run $rp recover; check rdp-recover-refused 12 $? "$work/err" "the chip is read-protected: its UID cannot be read"
run $rp,link=uart recover --json; check rdp-recover-uart-refused 12 $? "$work/out" '"error": "STM32DFU_E_PROTECTED"'
[ -f "$work/recovery/002200363436510D33323730.recovery" ]; check rdp-file-kept 0 $?

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
