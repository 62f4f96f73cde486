#!/bin/bash
# stm32flash (Debian's 0.7) probes a profile's USART bootloader on a pseudo-terminal, cheaply (a few
# seconds: the full both-ways run is stm32flash_uart.sh, on the F4s):
#   - its chip block: Version, Option 1/2 and Device ID are what the profile's evidence says, and
#     the device ID is one stm32flash's own table knows (not "Unknown/unsupported device"); with a
#     REF log of the real chip, the whole block (the table's sizes too) is compared with it;
#   - stm32flash writes 1 KiB with its verify at the flash's start (its erase uses its own table's
#     page map), and `stm32dfu --port ... verify` (the map from chip/ by device ID) reads it back.
# Usage: stm32flash_probe.sh SIM PROFILE PID VERSION [REF]   (REF: a file under tests/peer/ref or data/uart)
. "$(dirname "$0")/lib.sh"
PROFILE=${1:?profile}
PID=${2:?device id, 0x0469}
VERSION=${3:?protocol version, 0x31}
REF=${4:-}
need stm32flash
find_stm32dfu
if [ -n "$REF" ]; then
	for c in "$(dirname "$0")/ref/$REF" "$DATA/uart/$REF"; do [ -f "$c" ] && REF=$(cd "$(dirname "$c")" && pwd)/$(basename "$c") && break; done
	[ -f "$REF" ] || skip "$REF is missing"
fi

cat >"$TMP/steps.sh" <<'EOS'
set -eu
T=$STM32DFU_TTY
M="-m 8n1" # a pseudo-terminal cannot hold even parity: stm32flash_uart.sh says why
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
stm32flash $M -b 115200 "$T" >probe.txt 2>&1 || { cat probe.txt; fail "stm32flash probe"; }
sed -n '/^ *Version/,/System RAM\|System memory/p' probe.txt | sed -e 's/^ *//' -e 's/: Up to /: /' >probe.block
grep -qx "Version      : $VERSION" probe.block || { cat probe.txt; fail "version, expected $VERSION"; }
grep -qx "Option 1     : 0x00" probe.block && grep -qx "Option 2     : 0x00" probe.block || { cat probe.txt; fail "option bytes of Get Version"; }
grep -q "^Device ID    : $(printf '0x%04x' "$PID") (STM32" probe.block || { cat probe.txt; fail "device ID $PID unknown to stm32flash"; }
if [ -n "$REF" ]; then
	sed -n '/^ *Version/,/System RAM\|System memory/p' "$REF" | sed -e 's/^ *//' -e 's/: Up to /: /' >real.block
	[ -s real.block ] || fail "no chip block in $REF"
	diff -u real.block probe.block || fail "stm32flash prints the emulated chip differently from the real one"
fi
head -c 1024 /dev/urandom >a.bin
stm32flash $M -b 115200 -w a.bin -v -S 0x08000000 "$T" >w.txt 2>&1 || { cat w.txt; fail "stm32flash -w -v"; }
grep -q "Wrote and verified address 0x08000400 (100.00%) Done." w.txt || { cat w.txt; fail "stm32flash did not verify"; }
"$STM32DFU" --port "$T" verify a.bin -a 0x08000000 >v.txt 2>&1 || { cat v.txt; fail "stm32dfu verify of stm32flash's write"; }
echo ok
EOS
mkdir -p "$TMP/work"
export WORK=$TMP/work REF PID VERSION STM32DFU
SIM_TIMEOUT=60 sim --uart "$PROFILE" -- bash "$TMP/steps.sh" || fail "see above"
