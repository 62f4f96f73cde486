#!/bin/sh
# No false success (issue 11), through the built binary against the emulator: leave reports only
# what the bus showed, erase and write refuse write-protected sectors before touching anything,
# and the transfer size can be chosen. Each check reads the chip back, not only our output.
# Usage: trust.sh STM32DFU  (env: STM32DFU_PROFILE_DIR)
. "$(dirname "$0")/lib.sh"
# py FILE CODE: runs a python assertion over the JSON in FILE (as d)

# a 40 KiB application: initial MSP at the top of the F7's SRAM, reset vector in flash (Thumb)
python3 - "$work/app.bin" <<'PY'
import struct, sys
d = bytearray(b"\x5a" * 40960)
d[0:8] = struct.pack("<II", 0x20050000, 0x08000199)
open(sys.argv[1], "wb").write(d)
PY

# ---- 1. leave ----
sim="--sim=f746,timing=0,state=$work/leave.state"
run $sim write "$work/app.bin" --leave --json; check write-leave 0 $?
py "$work/out" 'l = d["leave"]; assert d["left"] and l["gone"] and l["address"] == "0x08000000" and l["vector_ok"], d'
check write-leave-jumped-to-image 0 $?
# info moves the pointer into system memory; a bare leave still jumps to the flash
run $sim info; check info 0 $?
run $sim leave; check leave-after-info 0 $? "$work/out" "left DFU: jumped to 0x08000000"
# sector 1 holds no vector table: warned before, and the bootloader coming back is an error (13)
run $sim leave 0x08008000; check leave-garbage 13 $? "$work/err" "the application did not start (the bootloader came back"
grep -q "warning: the initial stack pointer at 0x08008000 is 0x5A5A5A5A, not in RAM" "$work/err"
check leave-garbage-warned 0 $?
run $sim erase --all --yes; check erase-for-blank 0 $?
run $sim leave --json; check leave-blank 13 $?

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
