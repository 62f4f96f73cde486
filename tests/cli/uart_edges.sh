#!/bin/sh
# The paths next to the USART happy path (issue 23, "prove the paths next to it"), through the
# built binary against the emulator, in process (--sim=PROFILE,link=uart) and on stm32dfu-sim's
# pseudo-terminals (--uart), each checked by reading the chip back:
#   1. a full disk: the recovery file cannot be written whole, so the write refuses before any
#      erase (exit 73, the hint names the room it needs), nothing lost, no partial file left;
#   2. no HOME and no XDG_STATE_HOME: refused before any erase (exit 73, the fix named), or the
#      runtime folder, STM32DFU_RECOVERY_DIR or --recovery-dir hold the file of a write that dies
#      after its erase, and the next write puts the kept bytes back (as rescue.sh part 3 on USB);
#   3. RAM the ROM keeps for itself or does not serve (AN2606's device table): refused before any
#      byte of it is sent, with the range named;
#   4. pages erased by lists: a few Extended (or legacy) Erase commands, not one per page, and the
#      chip read back blank.
# Usage: uart_edges.sh STM32DFU  (env: STM32DFU_PROFILE_DIR, STM32DFU_BUILD_ROOT for stm32dfu-sim)
. "$(dirname "$0")/lib.sh"
export XDG_STATE_HOME="$work/state"
simexe=${STM32DFU_BUILD_ROOT:-}/stm32dfu-sim
tool=$(realpath "$tool")
python3 -c "import random; r = random.Random(3); open('$work/r3k.bin', 'wb').write(bytes(r.randrange(256) for _ in range(3000)))"
prof="f407,timing=0,poke=0x08003F00 DEADBEEF"
bare() { env -u HOME -u XDG_STATE_HOME -u XDG_CACHE_HOME -u XDG_RUNTIME_DIR -u STM32DFU_RECOVERY_DIR "$@"; }
# onpty PROFILE CMD...: CMD (the tool's arguments) on stm32dfu-sim's pseudo-terminal, as the caller's shell runs it
onpty() {
	p=$1
	shift
	timeout -k 5 120 "$simexe" --uart "$p" -- sh -c "$*" >"$work/out" 2>"$work/err"
}
# kept NAME STATE: the chip in STATE still holds DEADBEEF at 0x08003F00 (the kept bytes)
kept() {
	run "--sim=f407,link=uart,timing=0,state=$2" read 0x08003F00 4 -o "$work/v.bin"
	[ "$(od -An -tx1 "$work/v.bin" | tr -d ' \n')" = deadbeef ]; check "$1" 0 $?
}
# untouched NAME STATE: nothing erased, nothing written (0x08000000 blank, the kept bytes there)
untouched() {
	run "--sim=f407,link=uart,timing=0,state=$2" read 0x08000000 4 -o "$work/v.bin"
	[ "$(od -An -tx1 "$work/v.bin" | tr -d ' \n')" = ffffffff ]; check "$1-blank" 0 $?
	kept "$1-kept" "$2"
}
no_files() {
	if [ -n "$(ls -A "$2" 2>/dev/null)" ]; then echo "FAIL $1: $(ls -A "$2")"; fails=$((fails + 1)); else passes=$((passes + 1)); fi
}

# ---- 1. a full disk (RLIMIT_FSIZE, SIGXFSZ ignored): the recovery file does not fit ----
# in process: the recovery file beside the state file
mkdir -m 700 "$work/ip"
run "--sim=$prof,link=uart,state=$work/ip/c.state" info; check full-ip-chip 0 $?
(trap '' XFSZ; ulimit -f 40; "$tool" "--sim=f407,link=uart,timing=0,state=$work/ip/c.state" write "$work/r3k.bin" \
	-a 0x08000000 --no-log) >"$work/out" 2>"$work/err"
check full-ip-refused 73 $? "$work/err" "nothing was erased: cannot write the recovery file"
grep -q "free about [0-9]* KiB where" "$work/err"; check full-ip-hint-room 0 $?
untouched full-ip "$work/ip/c.state"
no_files full-ip-no-partial "$work/ip/recovery"
if [ -x "$simexe" ]; then
	# on the pseudo-terminal: the emulator is another process, the tool alone has no room
	mkdir -m 700 "$work/rd"
	onpty "$prof,state=$work/pty.state" "trap '' XFSZ; ulimit -f 40; '$tool' --port \"\$STM32DFU_TTY\" --baud 921600 write '$work/r3k.bin' -a 0x08000000 --no-log --recovery-dir '$work/rd'"
	check full-pty-refused 73 $? "$work/err" "nothing was erased: cannot write the recovery file"
	grep -q "free about [0-9]* KiB where $work/rd" "$work/err"; check full-pty-hint-room 0 $?
	untouched full-pty "$work/pty.state"
	no_files full-pty-no-partial "$work/rd"
	# room again: the same write runs and keeps the bytes
	onpty "f407,timing=0,state=$work/pty.state" "'$tool' --port \"\$STM32DFU_TTY\" --baud 921600 write '$work/r3k.bin' -a 0x08000000 --no-log --recovery-dir '$work/rd'"
	check full-pty-then-room 0 $? "$work/out" "outside the image in erased sectors were kept"
	kept full-pty-then-kept "$work/pty.state"
else
	echo "SKIP the pseudo-terminal cases: no stm32dfu-sim in \$STM32DFU_BUILD_ROOT"
fi

# ---- 2. no HOME, no XDG_STATE_HOME over USART ----
if [ -x "$simexe" ]; then
	# none of them: refused before any erase, the hint names the options
	bare timeout -k 5 120 "$simexe" --uart "$prof,state=$work/n0.state" -- sh -c \
		"'$tool' --port \"\$STM32DFU_TTY\" --baud 921600 write '$work/r3k.bin' -a 0x08000000 --no-log" >"$work/out" 2>"$work/err"
	check nohome-refused 73 $? "$work/err" "recovery-dir"
	grep -q "STM32DFU_RECOVERY_DIR" "$work/err"; check nohome-hint-env 0 $?
	untouched nohome "$work/n0.state"
	# where the write dies: the host byte after its Extended Erase frame (from a transcript of the
	# same write in process), so the chip is gone once the sector is erased
	run "--sim=$prof,link=uart,state=$work/tr.state" write "$work/r3k.bin" -a 0x08000000 --no-log --baud 921600 --trace "$work/t.trace"
	check nohome-trace 0 $?
	gone=$(python3 - "$work/t.trace" <<'PY'
import sys
n = 0
lines = [l for l in open(sys.argv[1]) if l.startswith('@') and ' > ' in l]
for i, l in enumerate(lines):
    b = l.split(' > ')[1].split()
    n += len(b)
    if b[:2] == ['44', 'bb']:
        print(n + len(lines[i + 1].split(' > ')[1].split()) + 8)
        break
PY
)
	[ -n "$gone" ]; check nohome-erase-seen 0 $?
	for how in runtime env option; do
		d="$work/rd-$how"
		mkdir -m 700 "$d"
		case $how in
		runtime) envset="XDG_RUNTIME_DIR=$d" extra="" ;;
		env) envset="STM32DFU_RECOVERY_DIR=$d/here" extra="" ;;
		option) envset="STM32DFU_NOTHING=1" extra="--recovery-dir=$d/opt" ;;
		esac
		st="$work/n-$how.state"
		bare env "$envset" timeout -k 5 120 "$simexe" --uart "$prof,uart_gone_at=$gone,state=$st" -- sh -c \
			"'$tool' --port \"\$STM32DFU_TTY\" --baud 921600 write '$work/r3k.bin' -a 0x08000000 --no-log --retries 0 $extra" \
			>"$work/out" 2>"$work/err"
		check nohome-$how-dies 74 $? "$work/err" "the bytes to keep are saved in"
		find "$d" -name '*.recovery' | grep -q .; check nohome-$how-file 0 $?
		# the sector is erased on the chip: the kept bytes live only in the file
		run "--sim=f407,link=uart,timing=0,state=$st" read 0x08003F00 4 -o "$work/v.bin"
		[ "$(od -An -tx1 "$work/v.bin" | tr -d ' \n')" = ffffffff ]; check nohome-$how-erased 0 $?
		bare env "$envset" timeout -k 5 120 "$simexe" --uart "f407,timing=0,state=$st" -- sh -c \
			"'$tool' --port \"\$STM32DFU_TTY\" --baud 921600 write '$work/r3k.bin' -a 0x08000000 --no-log $extra" \
			>"$work/out" 2>"$work/err"
		check nohome-$how-restores 0 $? "$work/out" "restored"
		kept nohome-$how-kept "$st"
		[ -z "$(find "$d" -name '*.recovery')" ]; check nohome-$how-file-gone 0 $?
	done
fi

# ---- 3. RAM the ROM does not serve: refused before anything is sent ----
head -c 64 /dev/zero | tr '\0' Z >"$work/ram.bin"
ram() { # NAME PROFILE ADDR PATTERN
	run "--sim=$2,link=uart,timing=0,state=$work/ram-$1.state" write "$work/ram.bin" -a "$3" --trace "$work/ram.trace"
	check "ram-$1" 65 $? "$work/err" "$4"
	# no Write Memory (31 ce) went out
	if grep -q '> 31 ce' "$work/ram.trace"; then echo "FAIL ram-$1-nothing-sent"; fails=$((fails + 1)); else passes=$((passes + 1)); fi
}
ram g474-own g474 0x20000000 "in the RAM the STM32G4 bootloader uses itself (0x20000000-0x20003FFF)"
ram g474-own-end g474 0x20003FF0 "uses itself"
ram g474-above g474 0x20018000 "outside the RAM the STM32G4 bootloader serves (0x20004000-0x20017FFF)"
ram wb55-sram1 wb55 0x2000C000 "outside the RAM the STM32WB bootloader serves (0x20004000-0x2000BFFF)"
ram l43x-sram2 l43x 0x2000C000 "outside the RAM the STM32L4/L4+ bootloader serves (0x20003100-0x2000BFFF)"
ram f407-own f407 0x20002000 "uses itself (0x20000000-0x20002FFF)"
ram f042-none f0-32k 0x20001000 "has no RAM it serves"
# the RAM it serves: written and read back
run "--sim=g474,link=uart,timing=0,state=$work/ram-ok.state" write "$work/ram.bin" -a 0x20004000
check ram-g474-served 0 $? "$work/out" "verify   64 bytes"
# read and verify there: refused the same way, no Read Memory (11 ee) to an address in 0x2xxxxxxx
# (the identity's reads go to 0x1FFF....)
no_ram_read() { # NAME: the address frame after each Read Memory in ram.trace is not in the SRAM region
	if awk '/ > 11 ee$/ { n = 1; next } n && / > / { if ($3 ~ /^[23]/) bad = 1; n = 0 } END { exit bad }' "$work/ram.trace"
	then passes=$((passes + 1)); else echo "FAIL $1-nothing-sent"; fails=$((fails + 1)); fi
}
ramrd() { # NAME PROFILE ADDR PATTERN
	run "--sim=$2,link=uart,timing=0,state=$work/ram-$1.state" read "$3" 64 -o "$work/ramback.bin" --trace "$work/ram.trace"
	check "ramread-$1" 65 $? "$work/err" "$4"
	no_ram_read "ramread-$1"
	[ ! -e "$work/ramback.bin" ]; check "ramread-$1-no-file" 0 $?
}
ramrd g474-own g474 0x20000000 "read: 0x20000000-0x2000003F is in the RAM the STM32G4 bootloader uses itself (0x20000000-0x20003FFF)"
ramrd g474-straddle g474 0x20003FE0 "uses itself (0x20000000-0x20003FFF)"
ramrd g474-above g474 0x20018000 "outside the RAM the STM32G4 bootloader serves (0x20004000-0x20017FFF)"
ramrd f407-own f407 0x20002000 "uses itself (0x20000000-0x20002FFF)"
ramrd f042-none f0-32k 0x20001000 "has no RAM it serves"
run "--sim=g474,link=uart,timing=0,state=$work/ram-ok.state" verify "$work/ram.bin" -a 0x20000000 --trace "$work/ram.trace"
check ramverify-g474-own 65 $? "$work/err" "in the RAM the STM32G4 bootloader uses itself (0x20000000-0x20003FFF)"
no_ram_read ramverify-g474-own
# the RAM it serves is read and verified (one chip on the pseudo-terminal: RAM lives as long as it)
if [ -x "$simexe" ]; then
	rm -f "$work/ramback.bin"
	onpty "g474,timing=0" "'$tool' --port \"\$STM32DFU_TTY\" write '$work/ram.bin' -a 0x20004000 -q && '$tool' --port \"\$STM32DFU_TTY\" verify '$work/ram.bin' -a 0x20004000 && '$tool' --port \"\$STM32DFU_TTY\" read 0x20004000 64 -o '$work/ramback.bin'"
	check ram-g474-served-verify-read 0 $?
	cmp -s "$work/ram.bin" "$work/ramback.bin"; check ramread-g474-served-bytes 0 $?
fi

# ---- 4. pages erased by lists: one erase command names many pages (at most 500 and 32 KiB) ----
# erases TRACE CMD: "commands largest" for the page lists of erase command CMD (44 Extended, 43
# legacy) in TRACE, the special codes (mass, banks) left out
erases() {
	python3 - "$1" "$2" <<'PY'
import sys
lines = [l.split(' > ')[1].split() for l in open(sys.argv[1]) if l.startswith('@') and ' > ' in l]
cmd = sys.argv[2]
counts = [int(''.join(lines[i + 1][:2]), 16) + 1 if cmd == '44' else int(lines[i + 1][0], 16) + 1
          for i, b in enumerate(lines) if b[:2] == [cmd, '%02x' % (0xFF ^ int(cmd, 16))]]
counts = [c for c in counts if c <= 0xFFF0 and not (cmd == '43' and c == 256)]  # page lists, not the special codes
print(len(counts), max(counts) if counts else 0)
PY
}
pages() { # NAME SPEC LEN CMD COMMANDS: LEN bytes from 0x08000000 written, erased with COMMANDS commands, read back blank
	python3 -c "import os; open('$work/pg.bin', 'wb').write(os.urandom($3))"
	run "--sim=$2,state=$work/pg-$1.state" write "$work/pg.bin" -a 0x08000000 -q; check "pages-$1-fill" 0 $?
	run "--sim=$2,state=$work/pg-$1.state" erase 0x08000000 "$3" --trace "$work/pg.trace"; check "pages-$1-erase" 0 $?
	[ "$(erases "$work/pg.trace" "$4")" = "$5" ]; check "pages-$1-commands" 0 $? "$work/pg.trace" "."
	[ "$(erases "$work/pg.trace" "$4")" = "$5" ] || echo "    $1: $(erases "$work/pg.trace" "$4") (commands, largest), expected $5"
	run "--sim=$2,state=$work/pg-$1.state" read 0x08000000 "$3" -o "$work/pgback.bin"
	python3 -c "import sys; d = open('$work/pgback.bin', 'rb').read(); sys.exit(0 if d == b'\xff' * $3 else 1)"
	check "pages-$1-blank" 0 $?
}
pages l0 "l0-192k,link=uart,timing=0" 196608 44 "6 256"
pages l1 "l100rc,link=uart,timing=0" 65536 44 "2 128"
pages g474 "g474,link=uart,timing=0" 65536 44 "2 16"
# L0: no bootloader mass erase (the special code NACKed, stm32flash F_NO_ME): erase --all erases
# every page by lists instead (before: exit 65, "mass erase: NACK")
python3 -c "import os; open('$work/pg.bin', 'wb').write(os.urandom(196608))"
run "--sim=l0-192k,link=uart,timing=0,state=$work/l0all.state" write "$work/pg.bin" -a 0x08000000 -q; check l0-all-fill 0 $?
run "--sim=l0-192k,link=uart,timing=0,state=$work/l0all.state" erase --all --yes --trace "$work/pg.trace"
check l0-all-erase 0 $?
[ "$(erases "$work/pg.trace" 44)" = "6 256" ]; check l0-all-commands 0 $? # after the refused FFFF, 6 lists
grep -q '> ff ff 00' "$work/pg.trace"; check l0-all-mass-asked 0 $?
run "--sim=l0-192k,link=uart,timing=0,state=$work/l0all.state" read 0x08000000 196608 -o "$work/pgback.bin"
python3 -c "import sys; d = open('$work/pgback.bin', 'rb').read(); sys.exit(0 if d == b'\xff' * 196608 else 1)"
check l0-all-blank 0 $?
pages f0-legacy "f0-32k,link=uart,timing=0,uart_commands=00 01 02 11 21 31 43 63 73 82 92" 16384 43 "1 16"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
