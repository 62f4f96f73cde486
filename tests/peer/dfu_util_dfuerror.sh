#!/bin/bash
# The F0 ROM starts in dfuERROR (status 10, errFIRMWARE); dfu-util clears it as with the real chip
# (../shared/data/dfu-list/ozseccon2019-badge_F0-32K_dfu-util-l_and_dfuse-download.txt).
# Usage: dfu_util_dfuerror.sh SIM PROFILE
. "$(dirname "$0")/lib.sh"
profile=${1:?profile}
need dfu-util
sim --profile "$profile,timing=0" -- dfu-util -a 0 -s 0x08000000:1024 -U "$TMP/up.bin" >"$TMP/out" 2>&1
rc=$?
[ $rc = 0 ] || {
	cat "$TMP/out"
	fail "dfu-util exited with $rc"
}
# dfu-util 0.8 (the reference) says "state = dfuERROR, status = 10" / "dfuERROR, clearing status";
# 0.11 says the same in other words. Accept either wording, in this order.
want_one() {
	grep -qE "$1" "$TMP/out" || { cat "$TMP/out"; fail "no line matching '$1' in the dfu-util output"; }
}
want_one 'state = dfuERROR, status = 10|DFU state\(10\) = dfuERROR, status\(10\)'
want_one 'dfuERROR, clearing status|^Clearing status'
want_one 'state = dfuIDLE, status = 0|DFU state\(2\) = dfuIDLE, status\(0\)'
[ "$(stat -c %s "$TMP/up.bin")" = 1024 ] || fail "upload size"
echo "ok: dfuERROR cleared, upload done"
