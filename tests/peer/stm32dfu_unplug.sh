#!/bin/bash
# Unplug during a write: stm32dfu fails with a clear error naming the address it had reached,
# exits non-zero, and does not hang.
# Usage: stm32dfu_unplug.sh SIM
. "$(dirname "$0")/lib.sh"
find_stm32dfu
rand_file "$TMP/img.bin" 524288
# pulled at the 200th control transfer (mid-programming), not after a wall-clock delay: on a busy
# machine the write may not even have started after a fixed time
SIM_TIMEOUT=40 sim --profile f746,timing=1,unplug_at=200 -- \
	"$STM32DFU" write "$TMP/img.bin" -a 0x08000000 >"$TMP/out" 2>&1
rc=$?
cat "$TMP/out"
[ $rc = 124 ] && fail "stm32dfu hung after the unplug"
[ $rc = 0 ] && fail "stm32dfu reported success although the chip was unplugged"
grep -Eq '0x0[0-9A-Fa-f]{7}' "$TMP/out" || fail "the error does not name the address reached"
echo "ok: exit $rc with an address in the message"
