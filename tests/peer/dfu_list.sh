#!/bin/bash
# dfu-util -l against one profile prints the same `Found DFU:` lines as the real chip whose
# listing is in ../shared/data/dfu-list/ (device number and path aside).
# Usage: dfu_list.sh SIM PROFILE DATA_FILE (relative to the shared data dir; `ref/...` is relative
# to this directory: listings quoted from public sources that are not in the shared data)
. "$(dirname "$0")/lib.sh"
profile=${1:?profile}
case ${2:?reference file} in
ref/*) ref=$(dirname "$0")/$2 ;;
*) ref=$DATA/$2 ;;
esac
need dfu-util
[ -r "$ref" ] || skip "no reference $ref"

sim --profile "$profile,timing=0" -- dfu-util -l >"$TMP/out" 2>&1
rc=$?
[ $rc = 0 ] || {
	cat "$TMP/out"
	fail "dfu-util -l exited with $rc"
}
found_dfu "$ref" >"$TMP/want"
found_dfu "$TMP/out" >"$TMP/got"
# A reference whose poster redacted the serial compares every other field; the emulator's serial
# must still be a real one (not empty, not the placeholder).
if grep -q 'serial="<REDACTED>"' "$TMP/want"; then
	grep -q 'serial="<REDACTED>"' "$TMP/got" && fail "the profile's serial is the redaction placeholder"
	grep -q 'serial=""' "$TMP/got" && fail "empty serial"
	sed -i 's/serial="[^"]*"/serial="<REDACTED>"/' "$TMP/got"
fi
[ -s "$TMP/want" ] || fail "no Found DFU lines in $ref"
if ! diff -u "$TMP/want" "$TMP/got"; then
	echo "--- full dfu-util output:"
	cat "$TMP/out"
	fail "dfu-util -l differs from $2"
fi
# the path is the port the device sits on
grep -q 'path="1-1"' "$TMP/out" || fail "no path=\"1-1\" in the listing"
echo "ok: $(wc -l <"$TMP/got") alt settings as on the real chip"
