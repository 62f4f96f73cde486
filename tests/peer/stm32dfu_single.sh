#!/bin/bash
# Our own stm32dfu through its real libusb backend (not --sim) against one virtual chip:
# list, info, doctor, write, verify, read, leave; the chip's records kept apart from real chips'.
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
# the chip is emulated (stm32dfu-sim sets STM32DFU_EMULATED): what the tool remembers of it stays
# apart from real chips' records (issue 21 item 7). doctor --hse 25M judges the margin thin and
# notes it, under the chip's UID, in the state folder's sim/link, never in its link/
run doctor.log "$STM32DFU" doctor --count 30 --hse 25M
[ "$(ls "$XDG_STATE_HOME/stm32dfu/sim/link" 2>/dev/null | wc -l)" = 1 ] && [ ! -e "$XDG_STATE_HOME/stm32dfu/link" ] ||
	{ find "$XDG_STATE_HOME"; fail "the emulated chip's link verdict is not kept apart (state folder's sim/link)"; }
# and a write over virtual USB logs to the emulated chips' log only (the real one stays absent)
# an image that looks like an application (initial MSP at the top of the F7's SRAM, reset vector
# in flash), so that after leave the chip runs it instead of coming back in the bootloader
{ printf '\000\000\002\040\001\001\000\010'; head -c 69992 /dev/urandom; } >"$TMP/img.bin"
run write.log "$STM32DFU" write "$TMP/img.bin" -a 0x08000000
[ -s "$XDG_STATE_HOME/stm32dfu/sim/log.sqlite3" ] && [ ! -e "$XDG_STATE_HOME/stm32dfu/log.sqlite3" ] ||
	{ find "$XDG_STATE_HOME"; fail "a write to an emulated chip reached the real log"; }
run verify.log "$STM32DFU" verify "$TMP/img.bin" -a 0x08000000
run read.log "$STM32DFU" read 0x08000000 70000 -o "$TMP/back.bin"
cmp "$TMP/img.bin" "$TMP/back.bin" || fail "read back differs from what was written"
run leave.log "$STM32DFU" leave
# The chip left the bus: it is gone, or back in the bootloader at a new device number (the
# model's choice, as a real chip resets into the ROM while BOOT0 is high). Not at devnum 2.
sleep 0.3
if command -v dfu-util >/dev/null; then
	dfu-util -l >"$TMP/list2.log" 2>&1
	grep -q 'devnum=2,' "$TMP/list2.log" && { cat "$TMP/list2.log"; fail "the chip did not leave the bus"; }
fi
echo "ok: list, info, write, verify, read, leave"
