#!/bin/bash
# A chip that resets (here: an option-byte write of its own option bytes) leaves the bus and
# re-enumerates in the bootloader with a new device number, as real hardware does.
# Usage: dfu_util_reenum.sh SIM PROFILE OB_ADDR OB_LEN
. "$(dirname "$0")/lib.sh"
profile=${1:?profile}
ob=${2:?option-byte address}
oblen=${3:?option-byte length}
need dfu-util

if [ -z "${PEER_INNER:-}" ]; then
	PEER_INNER=1 sim --profile "$profile,timing=0" -- "$0" "$SIM" "$@"
	exit $?
fi
dfu-util -l >"$TMP/l0" 2>&1
grep -q 'devnum=2,' "$TMP/l0" || { cat "$TMP/l0"; fail "device not at devnum 2 at start"; }
dfu-util -a 1 -s "$ob:$oblen" -U "$TMP/ob.bin" >"$TMP/u.log" 2>&1 || { cat "$TMP/u.log"; fail "OB upload"; }
# the write makes the chip reset: dfu-util may or may not see an error after the last status
dfu-util -a 1 -s "$ob" -D "$TMP/ob.bin" >"$TMP/d.log" 2>&1
for _ in $(seq 50); do
	dfu-util -l >"$TMP/l1" 2>&1
	grep -q 'devnum=3,' "$TMP/l1" && break
	sleep 0.1
done
grep -q 'devnum=3,' "$TMP/l1" || { cat "$TMP/d.log" "$TMP/l1"; fail "no re-enumeration at devnum 3"; }
grep -q 'path="1-1"' "$TMP/l1" || fail "re-enumerated on another port"
echo "ok: re-enumerated as devnum 3 on port 1-1"
