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

# issue 22 item 1: configuration data at 0x08004000 and the application at 0x08008000 in one HEX
# with a start-linear-address record (type 05): the jump goes to the application's vector table
python3 - "$work/cfg-app.hex" "$work/cfg-only.hex" <<'PY'
import struct, sys
def rec(t, a, data):
    b = bytes([len(data), a >> 8, a & 255, t]) + data
    return ":" + b.hex().upper() + "%02X" % (-sum(b) & 255) + "\n"
def hexfile(chunks, entry):
    out = rec(4, 0, bytes([0x08, 0x00]))
    for addr, data in chunks:
        for o in range(0, len(data), 16):
            out += rec(0, (addr + o) & 0xFFFF, data[o:o + 16])
    if entry is not None:
        out += rec(5, 0, struct.pack(">I", entry))
    return out + ":00000001FF\n"
cfg = (0x08004000, b"\x5a" * 256)
app = (0x08008000, struct.pack("<II", 0x20050000, 0x08008199) + b"\xa5" * 248)
open(sys.argv[1], "w").write(hexfile([cfg, app], 0x08008199))
open(sys.argv[2], "w").write(hexfile([cfg], None))
PY
sim="--sim=f746,timing=0,state=$work/leave2.state"
run $sim write "$work/cfg-app.hex" --leave --json; check write-leave-entry 0 $?
py "$work/out" 'l = d["leave"]; assert d["left"] and l["address"] == "0x08008000" and l["rule"] == "entry", d'
check write-leave-entry-rule 0 $?
run $sim write "$work/cfg-app.hex" --leave
check write-leave-entry-text 0 $? "$work/out" "jumped to 0x08008000 (the vector table whose reset vector is the file's entry point)"
run $sim write "$work/cfg-only.hex" --leave; check write-leave-no-table 64 $? "$work/err" "leave ADDR"
grep -q "nothing was written" "$work/err"; check write-leave-no-table-said 0 $?

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
