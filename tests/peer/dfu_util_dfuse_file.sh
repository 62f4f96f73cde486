#!/bin/bash
# A DfuSe .dfu file written by `stm32dfu file convert` is accepted by Debian's dfu-suffix, and
# `dfu-util -D` of it onto the emulated chip puts every element at its address (checked with
# dfu-util's own uploads, and with `stm32dfu verify` of the original HEX file).
# Usage: dfu_util_dfuse_file.sh SIM
. "$(dirname "$0")/lib.sh"
need dfu-util
need dfu-suffix
find_stm32dfu
need python3

if [ -z "${PEER_INNER:-}" ]; then
	# three elements with gaps between them, one in another sector (python writes the HEX and
	# the elements as separate .bin files to compare against)
	python3 - "$TMP" <<'PY'
import os, sys
d = sys.argv[1]
segs = [(0x08000000, 1000), (0x08004000, 3000), (0x08020010, 500)]
def rec(t, addr, data):
    b = [len(data), (addr >> 8) & 255, addr & 255, t] + list(data)
    return ":" + "".join("%02X" % x for x in b) + "%02X" % (-sum(b) & 255) + "\n"
out = []
for i, (a, n) in enumerate(segs):
    data = os.urandom(n)
    open(f"{d}/seg{i}.bin", "wb").write(data)
    out.append(rec(4, 0, bytes([a >> 24, (a >> 16) & 255])))
    for off in range(0, n, 16):
        out.append(rec(0, (a + off) & 0xFFFF, data[off:off + 16]))
out.append(rec(1, 0, b""))
open(f"{d}/img.hex", "w").write("".join(out))
PY
	"$STM32DFU" file convert "$TMP/img.hex" "$TMP/img.dfu" --vid 0x0483 --pid 0xdf11 -q || fail "file convert"
	dfu-suffix -c "$TMP/img.dfu" >"$TMP/suffix.log" 2>&1 || { cat "$TMP/suffix.log"; fail "dfu-suffix rejects our .dfu"; }
	PEER_INNER=1 PEER_TMP=$TMP sim --profile "f746,timing=0" -- "$0" "$SIM"
	exit $?
fi

T=$PEER_TMP
dfu-util -a 0 -D "$T/img.dfu" >"$T/dn.log" 2>&1 || { cat "$T/dn.log"; fail "dfu-util -D of our .dfu"; }
i=0
for spec in 0x08000000:1000 0x08004000:3000 0x08020010:500; do
	dfu-util -a 0 -s "$spec" -U "$T/up$i.bin" >"$T/up$i.log" 2>&1 || { cat "$T/up$i.log"; fail "upload $spec"; }
	cmp "$T/up$i.bin" "$T/seg$i.bin" || fail "element $i is not at ${spec%%:*}"
	i=$((i + 1))
done
"$STM32DFU" verify "$T/img.hex" -q || fail "stm32dfu verify of the HEX after dfu-util wrote the .dfu"
echo "3 elements at their addresses"
