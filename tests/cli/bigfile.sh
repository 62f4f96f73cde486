#!/bin/sh
# A file that cannot fit the device is refused before it is loaded (issue 24 item 13): its extent is
# found from its size or headers, or by streaming its records, and checked against the device's
# memory map first. A sparse 200 MB binary and files whose addresses are out of range are refused
# with the problem and the fix named, while the tool's peak memory stays small and the chip
# untouched; a file the probe cannot read cheaply still gets its parse error before the device.
# Usage: bigfile.sh STM32DFU
. "$(dirname "$0")/lib.sh"
export XDG_STATE_HOME="$work/state"
sim="--sim=f446,timing=0,state=$work/chip.state"
# peak RSS (KiB) of the tool running ARGS; its exit code in $work/rc, output in $work/out, $work/err
peak() {
	python3 -c '
import resource, subprocess, sys
work = sys.argv[1]
with open(work + "/out", "wb") as o, open(work + "/err", "wb") as e:
    rc = subprocess.call(sys.argv[2:], stdout=o, stderr=e)
open(work + "/rc", "w").write(str(rc))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$work" "$tool" "$@" >"$work/rss"
}
# the chip before: its first sector, to see that nothing was written
head -c 4096 /dev/urandom >"$work/fw.bin"
run $sim write "$work/fw.bin" -q; check setup-write 0 $?
run $sim read 0x08000000 0x4000 -o "$work/before.bin"; check setup-read 0 $?

# a sparse 200 MB binary (no disk blocks): 0x08000000 + 200 MiB runs past the F446's 512 KiB flash
truncate -s 200M "$work/big.bin"
peak $sim write "$work/big.bin"
check big-write 65 "$(cat "$work/rc")" "$work/err" "big.bin: its data at 0x08000000-0x147FFFFF (200 MiB) runs past the end of Internal Flash at 0x08080000"
check big-write-not-loaded 0 0 "$work/err" "the file was not loaded, nothing was written"
check big-write-hint 0 0 "$work/err" "hint: a raw binary (200 MiB) is placed whole from its base address 0x08000000"
# loading it whole took 415 MB; refusing it from its size takes what the tool needs anyway
[ "$(cat "$work/rss")" -lt 102400 ]; check big-write-memory-small 0 $?
[ "$(cat "$work/rss")" -lt 102400 ] || echo "    peak RSS $(cat "$work/rss") KiB"
absent big-write-no-erase "$work/err" "^erase"
peak $sim verify "$work/big.bin" --json
check big-verify 65 "$(cat "$work/rc")" "$work/out" '"error": "STM32DFU_E_RANGE"'
[ "$(cat "$work/rss")" -lt 102400 ]; check big-verify-memory-small 0 $?
# -a names another base: the same check, from there
peak $sim write "$work/big.bin" -a 0x08040000
check big-write-a 65 "$(cat "$work/rc")" "$work/err" "0x08040000-0x1483FFFF (200 MiB) runs past the end of Internal Flash"

# Intel HEX and S-record of 17 MB whose addresses no memory of the chip holds (0x09000000 on): found
# by streaming the records, refused before the file is loaded (a file under 16 MiB is loaded first,
# as always: the checks after the load name the memory more precisely)
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
def ihex(n, ty, addr, data):
    body = bytes([n, addr >> 8 & 0xFF, addr & 0xFF, ty]) + data
    return ":" + body.hex().upper() + "%02X\n" % (-sum(body) & 0xFF)
def srec(addr, data):
    body = bytes([len(data) + 5]) + addr.to_bytes(4, "big") + data
    return "S3" + body.hex().upper() + "%02X\n" % (~sum(body) & 0xFF)
data = bytes(range(32))
with open(work + "/far.hex", "w") as f:
    a = 0x09000000
    while f.tell() < 17 << 20:
        if a & 0xFFFF == 0:
            f.write(ihex(2, 4, 0, (a >> 16).to_bytes(2, "big")))
        f.write(ihex(32, 0, a & 0xFFFF, data))
        a += 32
    f.write(":00000001FF\n")
with open(work + "/far.srec", "w") as f:
    a = 0x09000000
    while f.tell() < 17 << 20:
        f.write(srec(a, data))
        a += 32
    f.write("S70500000000FA\n")
PY
peak $sim write "$work/far.hex"
check far-hex 65 "$(cat "$work/rc")" "$work/err" "far.hex: its data at 0x09000000-0x09[0-9A-F]* is outside the device's memory map"
check far-hex-hint 0 0 "$work/err" "hint: the file's addresses are not this chip's"
[ "$(cat "$work/rss")" -lt 102400 ]; check far-hex-memory-small 0 $?
peak $sim write "$work/far.srec"
check far-srec 65 "$(cat "$work/rc")" "$work/err" "far.srec: its data at 0x09000000-0x09[0-9A-F]* is outside the device's memory map"
[ "$(cat "$work/rss")" -lt 102400 ]; check far-srec-memory-small 0 $?
# a 17 MB DfuSe file: the element headers say where, the data is not read
python3 - "$work/far.dfu" <<'PY'
import struct, sys, zlib
elem = struct.pack("<II", 0x09000000, 17 << 20) + bytes(17 << 20)
target = b"Target" + bytes([0]) + struct.pack("<I", 1) + b"far".ljust(255, b"\0") + struct.pack("<II", len(elem), 1)
body = target + elem
prefix = b"DfuSe" + bytes([1]) + struct.pack("<I", 11 + len(body)) + bytes([1])
data = prefix + body + struct.pack("<HHHH", 0xFFFF, 0xDF11, 0x0483, 0x011A) + b"UFD" + bytes([16])
open(sys.argv[1], "wb").write(data + struct.pack("<I", ~zlib.crc32(data) & 0xFFFFFFFF))
PY
peak $sim write "$work/far.dfu"
check far-dfu 65 "$(cat "$work/rc")" "$work/err" "far.dfu: its data at 0x09000000-0x0A0FFFFF is outside the device's memory map"

# nothing of it reached the chip
run $sim read 0x08000000 0x4000 -o "$work/after.bin"; check after-read 0 $?
same chip-untouched "$work/before.bin" "$work/after.bin"

# files that fit are written as before
printf ':020000040800F2\n:0400000001020304F2\n:00000001FF\n' >"$work/near.hex"
run $sim write "$work/near.hex"; check near-hex 0 $?
run $sim verify "$work/near.hex"; check near-hex-verify 0 $?

# a malformed file is still refused for what it is before any device is looked for (-d names
# none here): the probe leaves it to the parser, which runs first
printf ':0400000001020304F3\n:00000001FF\n' >"$work/bad.hex"
run $sim -d 1234:5678 write "$work/bad.hex"; check bad-hex-first 65 $? "$work/err" "checksum"
run $sim -d 1234:5678 write "$work/nosuch.hex"; check missing-file-first 66 $?
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
