#!/bin/bash
# Our own stm32dfu through its real libusb backend (not --sim) against one virtual chip:
# list, info, write, verify, read, leave.
# Usage: stm32dfu_single.sh SIM PROFILE
. "$(dirname "$0")/lib.sh"
profile=${1:-f746}
find_stm32dfu

if [ -z "${PEER_INNER:-}" ]; then
	PEER_INNER=1 sim --profile "$profile,timing=0" -- "$0" "$SIM" "$@"
	exit $?
fi

run() { # run LOG ARGS...: fails the test with the log on a non-zero exit
	local log=$1
	shift
	"$@" >"$TMP/$log" 2>&1
	local rc=$?
	[ $rc = 0 ] || { cat "$TMP/$log"; fail "$* exited with $rc"; }
}

run list.log "$STM32DFU" list
grep -q '1-1' "$TMP/list.log" || { cat "$TMP/list.log"; fail "list does not show port 1-1"; }
run info.log "$STM32DFU" info
rand_file "$TMP/img.bin" 70000
run write.log "$STM32DFU" write "$TMP/img.bin" -a 0x08000000
run verify.log "$STM32DFU" verify "$TMP/img.bin" -a 0x08000000
run read.log "$STM32DFU" read 0x08000000 70000 -o "$TMP/back.bin"
cmp "$TMP/img.bin" "$TMP/back.bin" || fail "read back differs from what was written"
run leave.log "$STM32DFU" leave
sleep 0.2
if "$STM32DFU" list >"$TMP/list2.log" 2>&1 && grep -q '1-1' "$TMP/list2.log"; then
	cat "$TMP/list2.log"
	fail "the chip is still listed after leave"
fi
echo "ok: list, info, write, verify, read, leave"
