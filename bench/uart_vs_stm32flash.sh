#!/bin/bash
# Benchmark (issue 23): stm32dfu over USART against Debian's stm32flash 0.7 and against the bound, on
# the emulator with the profile's real timing, in one run. Reported, never asserted (bench/README.md).
#
# Usage: bench/uart_vs_stm32flash.sh [BUILD_DIR] [PROFILE] [KIB] [CHANGE_AT] [BAUD]
#   defaults: build f407 1024 0x80000 115200 (the 32 KiB changed start at this offset of the image;
#   every tool runs at BAUD, which the profile's ROM must follow: uart_max_baud)
#
#  - bound: the image on the wire once each way at BAUD (11 bits a byte at 8E1) plus the flash's
#    own erase and program time (bench_uart_write, the same model; the erase by sectors or by one
#    mass erase, whichever the profile makes faster);
#  - stm32dfu in process (--sim=PROFILE,link=uart, a virtual clock): the model's time, the sum of
#    the write's phases (--json), independent of the machine's load;
#  - on pseudo-terminals of one stm32dfu-sim --uart (real time: the same model, plus this machine's
#    scheduling), each on its own chip: stm32flash -w -v (write and verify) and -w (write only) on
#    blank chips, stm32dfu write (with its verify) on a blank chip and the rewrite on a chip that
#    holds the first image. Each gets two times: the wall clock, and the model's time of what it
#    sent and received (--stats: the bytes each way at the rate + the flash's busy time; the
#    protocol is half duplex, so that is its time on the model with a host that answers at once,
#    which is what the in-process figure is for stm32dfu). The targets are judged on the model's
#    times, like with like; the wall clock adds the pseudo-terminal's round trips on this machine,
#    which cost a tool that waits for more ACKs (stm32flash -v reads back after each block) more;
#  - the rewrite: the same image with 32 KiB changed, by a ROM without Get Checksum (the sectors
#    are compared by reading) and by one that lists it (0xA1, in process only).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$(cd "${1:-$root/build}" && pwd) || exit 2
prof=${2:-f407}
kib=${3:-1024}
chg=$((${4:-0x80000}))
baud=${5:-115200}
S=$build/stm32dfu
SIM=$build/stm32dfu-sim
BW=$build/tests/unit/uart/bench_uart_write
for x in "$S" "$SIM" "$BW"; do [ -x "$x" ] || { echo "no $x" >&2; exit 2; }; done
command -v stm32flash >/dev/null || { echo "stm32flash is not installed" >&2; exit 2; }
export STM32DFU_PROFILE_DIR=${STM32DFU_PROFILE_DIR:-$root/profiles}
T=$(mktemp -d "${TMPDIR:-/tmp}/uartbench.XXXXXX")
trap 'rm -rf "$T"' EXIT
export XDG_STATE_HOME=$T/state
CRC="uart_commands=00 01 02 11 21 31 44 63 73 82 92 a1"
cd "$T"
python3 - "$kib" "$chg" <<'EOF'
import random, sys
n, at = int(sys.argv[1]) * 1024, int(sys.argv[2])
r = random.Random(23)
a = bytes(r.getrandbits(8) for _ in range(n))
b = bytearray(a)
b[at:at + 32768] = bytes(r.getrandbits(8) for _ in range(32768))
open("a.bin", "wb").write(a)
open("b.bin", "wb").write(bytes(b))
EOF

echo "# $(date -u '+%Y-%m-%d %H:%M') UTC, $prof, $kib KiB at $baud, 32 KiB changed at +$(printf 0x%x "$chg"), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null)"
# the bound
# (the flash's time with the sectors erased one by one, and with one mass erase: the smaller is
# the bound, since a tool may choose either when the image covers the whole flash)
bw=$("$BW" "$prof" "$baud" "$kib") || exit 1
bwm=$("$BW" "$prof" "$baud" "$kib" mass) || bwm=$bw
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
bound=$(field payload_bound_s "$bw"); pbound=$(field protocol_bound_s "$bw")
mbound=$(field payload_bound_s "$bwm"); mpbound=$(field protocol_bound_s "$bwm")
echo "bound (image each way + flash), sector erases: $bound s (every protocol byte: $pbound s); one mass erase: $mbound s ($mpbound s)"
if [ "$(echo "$mbound < $bound" | bc)" = 1 ]; then bound=$mbound; pbound=$mpbound; fi
echo "bound: $bound s; with every protocol byte: $pbound s"

# stm32dfu in process: the sum of the write's phases (model time)
ours() { # STATE SPEC FILE
	"$S" "--sim=$prof${2:+,$2},link=uart,state=$T/$1.state" --baud "$baud" --json write "$3" -a 0x08000000 >"$1.$3.json" 2>"$1.$3.err" ||
		{ cat "$1.$3.err" >&2; echo "FAIL"; return; }
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
p = d["seconds"]
print("%.2f" % sum(v for v in p.values() if isinstance(v, (int, float))))' "$1.$3.json"
}
w_plain=$(ours plain "" a.bin)
cp "$T/plain.state" "$T/plain-a.state"
r_plain=$(ours plain "" b.bin)
w_crc=$(ours crc "$CRC" a.bin)
r_crc=$(ours crc "$CRC" b.bin)

# a chip that holds the first image, for the rewrite over the pseudo-terminal
cp "$T/plain-a.state" "$T/held.state"

# on pseudo-terminals (real time), one chip each; --stats gives each chip's bytes and busy time
cat >steps.sh <<'EOS'
set -- $STM32DFU_TTYS
t0=$(date +%s.%N); stm32flash -m 8n1 -b "$BAUD" -w a.bin -v -S 0x08000000 "$1" >fv.txt 2>&1 || echo "stm32flash -w -v failed" >&2
t1=$(date +%s.%N); stm32flash -m 8n1 -b "$BAUD" -w a.bin -S 0x08000000 "$2" >fw.txt 2>&1 || echo "stm32flash -w failed" >&2
t2=$(date +%s.%N); "$S" --port "$3" --baud "$BAUD" write a.bin -a 0x08000000 >dw.txt 2>&1 || echo "stm32dfu write failed" >&2
t3=$(date +%s.%N); "$S" --port "$4" --baud "$BAUD" write b.bin -a 0x08000000 >dr.txt 2>&1 || echo "stm32dfu rewrite failed" >&2
t4=$(date +%s.%N)
echo "$t0 $t1 $t2 $t3 $t4" >times.txt
EOS
export S BAUD=$baud
timeout 3600 "$SIM" --stats "$T/pty.stats" --uart "$prof" --uart "$prof" --uart "$prof" --uart "$prof,state=$T/held.state" -- bash steps.sh
read -r t0 t1 t2 t3 t4 <times.txt
wall() { echo "$2 - $1" | bc; }
sf_wv_wall=$(wall "$t0" "$t1"); sf_w_wall=$(wall "$t1" "$t2"); d_w_wall=$(wall "$t2" "$t3"); d_r_wall=$(wall "$t3" "$t4")
model() { # DEVICE: wire + busy of that chip, seconds
	python3 -c '
import sys
for line in open(sys.argv[1]):
    r = dict(kv.split("=", 1) for kv in line.split())
    if r.get("device") == sys.argv[2] and "wire_us" in r:
        print("%.2f" % ((int(r["wire_us"]) + int(r["busy_us"])) / 1e6))' "$T/pty.stats" "$1"
}
sf_wv=$(model 0); sf_w=$(model 1); d_w=$(model 2); d_r=$(model 3)

r() { echo "scale=3; $1 / $2" | bc; }
printf '| case | model time | ratio (model) | wall time on the pty |\n|---|---|---|---|\n'
printf '| stm32dfu write + verify, %s KiB, blank chip, in process | %.2f s | %s x bound, %s x stm32flash -w -v | |\n' "$kib" "$w_plain" "$(r "$w_plain" "$bound")" "$(r "$w_plain" "$sf_wv")"
printf '| same, over the pty | %.2f s | %s x bound | %.2f s (%s x stm32flash -w -v) |\n' "$d_w" "$(r "$d_w" "$bound")" "$d_w_wall" "$(r "$d_w_wall" "$sf_wv_wall")"
printf '| same, ROM with Get Checksum, in process | %.2f s | %s x bound | |\n' "$w_crc" "$(r "$w_crc" "$bound")"
printf '| stm32flash -w -v | %.2f s | %s x bound | %.2f s |\n' "$sf_wv" "$(r "$sf_wv" "$bound")" "$sf_wv_wall"
printf '| stm32flash -w | %.2f s | %s x bound | %.2f s |\n' "$sf_w" "$(r "$sf_w" "$bound")" "$sf_w_wall"
printf '| stm32dfu rewrite, 32 KiB changed, no Get Checksum, in process | %.2f s | %s x stm32flash -w -v, %s x stm32flash -w | |\n' "$r_plain" "$(r "$r_plain" "$sf_wv")" "$(r "$r_plain" "$sf_w")"
printf '| same, over the pty | %.2f s | %s x stm32flash -w | %.2f s (%s x stm32flash -w) |\n' "$d_r" "$(r "$d_r" "$sf_w")" "$d_r_wall" "$(r "$d_r_wall" "$sf_w_wall")"
printf '| stm32dfu rewrite, 32 KiB changed, Get Checksum, in process | %.2f s | %s x stm32flash -w -v, %s x stm32flash -w | |\n' "$r_crc" "$(r "$r_crc" "$sf_wv")" "$(r "$r_crc" "$sf_w")"
