#!/bin/bash
# stm32dfu with several virtual chips: list shows all; -S and -p select one.
# Usage: stm32dfu_multi.sh SIM
. "$(dirname "$0")/lib.sh"
find_stm32dfu
S1=AAAA00000001
S2=BBBB00000002

if [ -z "${PEER_INNER:-}" ]; then
	PEER_INNER=1 sim --profile "f746,timing=0,serial=$S1" --profile "f746,timing=0,serial=$S2" -- "$0" "$SIM"
	exit $?
fi
run() {
	local log=$1
	shift
	"$@" >"$TMP/$log" 2>&1
	local rc=$?
	[ $rc = 0 ] || { cat "$TMP/$log"; fail "$* exited with $rc"; }
}
run list.log "$STM32DFU" list
for s in "$S1" "$S2" 1-1 1-2; do
	grep -q "$s" "$TMP/list.log" || { cat "$TMP/list.log"; fail "list does not show $s"; }
done
rand_file "$TMP/a.bin" 4096
rand_file "$TMP/b.bin" 4096
run w1.log "$STM32DFU" -S "$S1" write "$TMP/a.bin" -a 0x08000000
run w2.log "$STM32DFU" -p 1-2 write "$TMP/b.bin" -a 0x08000000
run r1.log "$STM32DFU" -p 1-1 read 0x08000000 4096 -o "$TMP/a2.bin"
run r2.log "$STM32DFU" -S "$S2" read 0x08000000 4096 -o "$TMP/b2.bin"
cmp "$TMP/a.bin" "$TMP/a2.bin" || fail "device $S1 does not hold what was written to it"
cmp "$TMP/b.bin" "$TMP/b2.bin" || fail "device $S2 does not hold what was written to it"
# with two chips and no selection, a write must refuse rather than guess
"$STM32DFU" write "$TMP/a.bin" -a 0x08000000 >"$TMP/amb.log" 2>&1 && fail "write with two chips and no -S/-p succeeded"
echo "ok: two chips listed; selection by serial and by path"
