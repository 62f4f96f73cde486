#!/bin/bash
# Debian's dfu-util drives a virtual chip through a whole session: upload, download + upload
# round trip, mass erase, and :leave (after which the chip runs its application and is gone).
# All steps run inside one testbed, so each sees what the previous one did.
# Usage: dfu_util_roundtrip.sh SIM PROFILE FLASH_BASE SIZE (SIZE: bytes of flash to use)
. "$(dirname "$0")/lib.sh"
profile=${1:?profile}
base=${2:-0x08000000}
size=${3:-65536}
part=$((size * 3 / 4 + 333)) # not a multiple of the transfer size: the last block is short
need dfu-util

if [ -z "${PEER_INNER:-}" ]; then
	PEER_INNER=1 sim --profile "$profile,timing=0" -- "$0" "$SIM" "$@"
	exit $?
fi

run() { # run LOG dfu-util ARGS...: fails the test with the log on a non-zero exit
	local log=$1
	shift
	"$@" >"$TMP/$log" 2>&1
	local rc=$?
	[ $rc = 0 ] || { cat "$TMP/$log"; fail "$* exited with $rc"; }
}

# 1. upload from a fresh chip
run up0.log dfu-util -a 0 -s "$base:$size" -U "$TMP/fresh.bin"
[ "$(stat -c %s "$TMP/fresh.bin")" = "$size" ] || fail "upload gave $(stat -c %s "$TMP/fresh.bin") bytes"

# 2. download then upload: the same bytes come back (the last block is a short one)
rand_file "$TMP/img.bin" "$part"
run dn.log dfu-util -a 0 -s "$base" -D "$TMP/img.bin"
run up1.log dfu-util -a 0 -s "$base:$part" -U "$TMP/back.bin"
# differ FILE: what a mismatch looks like, so that a failure carries its own evidence (which
# bytes, and whether they are the old flash, erased flash or shifted data) and the two logs
differ() {
	local n first last
	n=$(cmp -l "$TMP/img.bin" "$1" 2>/dev/null | wc -l)
	first=$(cmp -l "$TMP/img.bin" "$1" 2>/dev/null | head -1 | awk '{print $1 - 1}')
	last=$(cmp -l "$TMP/img.bin" "$1" 2>/dev/null | tail -1 | awk '{print $1 - 1}')
	echo "$n bytes differ, offsets $first to $last; sizes $(stat -c %s "$TMP/img.bin") and $(stat -c %s "$1")" >&2
	head -c "$part" "$TMP/fresh.bin" | cmp -s - "$1" && echo "the upload is the chip's old contents" >&2
	[ -z "$(tr -d '\377' <"$1" | head -c 1)" ] && echo "the upload is all 0xFF" >&2
	cat "$TMP/dn.log" "$TMP/up1.log" >&2
}
cmp "$TMP/img.bin" "$TMP/back.bin" || { differ "$TMP/back.bin"; fail "download/upload round trip differs"; }

# 3. mass erase, then a small download: the rest reads erased
rand_file "$TMP/small.bin" 1000
run me.log dfu-util -a 0 -s "$base:mass-erase:force" -D "$TMP/small.bin"
run up2.log dfu-util -a 0 -s "$base:$size" -U "$TMP/after.bin"
head -c 1000 "$TMP/after.bin" | cmp - "$TMP/small.bin" || fail "data after mass erase differs"
tail -c +1001 "$TMP/after.bin" | tr -d '\377' | head -c 1 | grep -q . && fail "flash not erased after mass erase"

# 4. :leave with an image that looks like an application (initial MSP in SRAM, reset vector in
# flash): dfu-util succeeds and the chip leaves the bus. Whether it comes back (in the bootloader,
# at a new device number) is the model's business; at devnum 2 it must not be any more.
{ printf '\000\000\002\040\001\001\000\010'; head -c 992 /dev/zero; } >"$TMP/app.bin"
run leave.log dfu-util -a 0 -s "$base:leave" -D "$TMP/app.bin"
sleep 0.3
dfu-util -l >"$TMP/l.log" 2>&1
grep -q 'Found DFU.*devnum=2,' "$TMP/l.log" && { cat "$TMP/l.log"; fail "the chip did not leave the bus after :leave"; }
if grep -q 'Found DFU' "$TMP/l.log"; then
	echo "note: the chip re-enumerated: $(grep -o 'devnum=[0-9]*' "$TMP/l.log" | sort -u | tr '\n' ' ')"
fi
echo "ok: upload, round trip, mass erase, leave"
