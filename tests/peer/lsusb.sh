#!/bin/bash
# lsusb -v -d 0483:df11 shows the descriptors of the real F4 ROM in ../shared/data/lsusb/.
# Compared: every descriptor field from "Device Descriptor:" to bcdDFUVersion, with the names that
# lsusb takes from the hwdb or usb.ids removed (this machine may have none), the serial masked,
# and the alt 0 layout string masked (the reference chip is a 512 KiB F4, not the profile's).
# Usage: lsusb.sh SIM PROFILE DATA_FILE
. "$(dirname "$0")/lib.sh"
profile=${1:?profile}
ref=$DATA/${2:?reference file}
need lsusb
[ -r "$ref" ] || skip "no reference $ref"

norm() {
	sed -n '/^Device Descriptor:/,/bcdDFUVersion/p' "$1" | awk '
		{ $1 = $1 }   # collapse white space
		/^(idVendor|idProduct|bDeviceClass|bDeviceSubClass|bDeviceProtocol|bInterfaceClass|bInterfaceSubClass|bInterfaceProtocol) / { $0 = $1 " " $2 }
		/^iSerial / { $0 = $1 " " $2 " SERIAL" }
		/^bAlternateSetting / { alt = $2 }
		/^iInterface / && alt == 0 { $0 = $1 " " $2 " LAYOUT" }
		{ print }'
}

sim --profile "$profile,timing=0" -- lsusb -v -d 0483:df11 >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc = 0 ] || {
	cat "$TMP/out" "$TMP/err"
	fail "lsusb exited with $rc"
}
norm "$ref" >"$TMP/want"
norm "$TMP/out" >"$TMP/got"
[ -s "$TMP/want" ] || fail "no descriptor lines in $ref"
if ! diff -u "$TMP/want" "$TMP/got"; then
	echo "--- full lsusb output:"
	cat "$TMP/out" "$TMP/err"
	fail "lsusb -v differs from $2"
fi
grep -q '^Bus 001 Device 002: ID 0483:df11' "$TMP/out" || fail "no 'Bus 001 Device 002: ID 0483:df11' line"
echo "ok: $(wc -l <"$TMP/got") descriptor lines as on the real chip"
