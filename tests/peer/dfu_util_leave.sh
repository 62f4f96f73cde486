#!/bin/bash
# dfu-util -s ADDR:leave -D against a profile whose ROM leaves without answering the last GETSTATUS
# prints what it printed on the real chip: the H750 (../shared/data/dfu-list/nuttx-weact-stm32h750_...)
# "Submitting leave request..." then "Error during download get_status", after a good download.
# Usage: dfu_util_leave.sh SIM PROFILE REFERENCE (relative to the shared data dir)
. "$(dirname "$0")/lib.sh"
profile=${1:?profile}
ref=$DATA/${2:?reference}
need dfu-util
[ -r "$ref" ] || skip "no reference $ref"
rand_file "$TMP/fw.bin" 4096
# a vector table: initial MSP in RAM, reset vector in flash, so the application "starts"
printf '\x00\x00\x02\x20\x01\x01\x00\x08' | dd of="$TMP/fw.bin" conv=notrunc status=none
sim --profile "$profile,timing=0" -- dfu-util -a 0 -s 0x08000000:leave -D "$TMP/fw.bin" >"$TMP/out" 2>&1
rc=$?
for line in 'File downloaded successfully' 'Submitting leave request...' 'Error during download get_status'; do
	grep -qF -- "$line" "$ref" || fail "the reference does not show '$line'"
	grep -qF -- "$line" "$TMP/out" || { cat "$TMP/out"; fail "no '$line' from dfu-util"; }
done
# dfu-util's exit status on the real chip is not recorded; it treats the lost status as an error
[ $rc != 0 ] || { cat "$TMP/out"; fail "dfu-util exited 0: the leave status was answered"; }
echo "ok: download, then the leave status is lost as on the real H750"
