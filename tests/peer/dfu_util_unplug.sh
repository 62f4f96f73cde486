#!/bin/bash
# A chip pulled off the bus in the middle of a download: dfu-util fails (LIBUSB_ERROR_NO_DEVICE
# or an I/O error), exits non-zero, and nothing hangs (the sim() wrapper bounds the time).
# Usage: dfu_util_unplug.sh SIM
. "$(dirname "$0")/lib.sh"
need dfu-util
rand_file "$TMP/img.bin" 262144
start=$(date +%s%N)
SIM_TIMEOUT=30 sim --profile f746,timing=1 --unplug-after 400 -- \
	dfu-util -a 0 -s 0x08000000 -D "$TMP/img.bin" >"$TMP/out" 2>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
cat "$TMP/out"
[ $rc = 124 ] && fail "dfu-util hung after the unplug"
[ $rc = 0 ] && fail "dfu-util reported success although the chip was unplugged at 400 ms"
grep -Eiq 'NO_DEVICE|No such device|error' "$TMP/out" || fail "no error message"
echo "ok: dfu-util exited with $rc after $ms ms"
