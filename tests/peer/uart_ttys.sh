#!/bin/bash
# stm32dfu-sim with several --uart chips: one pseudo-terminal each, $STM32DFU_TTY the first,
# $STM32DFU_TTYS all in order; each terminal is its own chip (its device ID answers), and a chip
# not in its bootloader (uart_mode=silent) gives our stack's timeout with the BOOT0 hint.
# Usage: uart_ttys.sh SIM UART_TOOL
. "$(dirname "$0")/lib.sh"
TOOL=$(cd "$(dirname "${1:?uart_tool}")" && pwd)/$(basename "$1")
cat >"$TMP/steps.sh" <<'EOS'
set -eu
set -- $STM32DFU_TTYS
[ $# = 3 ] || { echo "FAIL: STM32DFU_TTYS has $# paths: $STM32DFU_TTYS" >&2; exit 1; }
[ "$1" = "$STM32DFU_TTY" ] || { echo "FAIL: STM32DFU_TTY is not the first" >&2; exit 1; }
"$TOOL" "$1" 115200 info | grep -q "pid 0x449" || { echo "FAIL: first is not the F746" >&2; exit 1; }
"$TOOL" "$2" 115200 info | grep -q "pid 0x413" || { echo "FAIL: second is not the F407" >&2; exit 1; }
if "$TOOL" "$3" 115200 info 2>"$ERR"; then echo "FAIL: a silent chip answered" >&2; exit 1; fi
grep -q "BOOT0" "$ERR" || { cat "$ERR"; echo "FAIL: no BOOT0 hint" >&2; exit 1; }
echo ok
EOS
export TOOL ERR=$TMP/err.txt
sim --stats "$TMP/stats" --uart f746 --uart f407 --uart f446,uart_mode=silent -- bash "$TMP/steps.sh" || fail "see above"
# --stats: one line per --uart chip, its pseudo-terminal, the bytes each way and their exact wire
# time at the host's rate (11 bits a byte at 115200: the time a host takes on the model)
python3 - "$TMP/stats" <<'EOF' || fail "--stats of the --uart chips"
import sys
rows = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[1]) if "uart_bytes_in=" in line]
assert len(rows) == 3, rows
for r in rows:
    assert r["port"].startswith("/dev/pts/"), r
    n = int(r["uart_bytes_in"]) + int(r["uart_bytes_out"])
    assert int(r["wire_us"]) == (n * 11 * 1000000 + 115199) // 115200, r
a, b, c = rows
assert int(a["uart_bytes_in"]) > 0 and int(a["uart_bytes_out"]) > 0 and int(a["acks"]) > 0, a
assert int(c["uart_bytes_out"]) == 0, c  # the silent chip never answered
EOF
