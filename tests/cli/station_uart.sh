#!/bin/sh
# Issue 23: `station --port P1 --port P2 ...` (one board per serial port) and `write --port P1
# --port P2` over stm32dfu-sim --uart's pseudo-terminals. What the USB station proves, over USART:
# boards programmed and verified (read back through the emulator's USB door from their state
# files), one record each with link uart, its port and a distinct serial number, in the emulated
# chips' log only; a board left on its port is not programmed again (the emulator's own counters);
# a silent port (BOOT0 low) blocks no other; a chip gone mid-write fails alone; a cloned UID is
# quarantined; a second Ctrl-C stops every slot at a transfer boundary and says what each holds;
# bad input is refused before any port is touched.
# Usage: station_uart.sh STM32DFU  (env: STM32DFU_PROFILE_DIR, STM32DFU_BUILD_ROOT for stm32dfu-sim)
. "$(dirname "$0")/lib.sh"
simexe=${STM32DFU_BUILD_ROOT:-}/stm32dfu-sim
if [ ! -x "$simexe" ]; then
	echo "SKIP: no stm32dfu-sim in \$STM32DFU_BUILD_ROOT"
	exit 77
fi
# emulated chips: their records go to the emulated chips' log, never to the real one
export XDG_STATE_HOME="$work/state" STM32DFU_SIM_LOG="sqlite:$work/sim.sqlite3" STM32DFU_LOG="sqlite:$work/real.sqlite3"
head -c 2048 /dev/urandom >"$work/fw.bin"
head -c 32768 /dev/urandom >"$work/big.bin"
chip() { echo "l0-192k,timing=0,uid=$1AAAA5555BBBB6666,state=$work/$1.state"; }

# waits (bounded) until FILE holds PATTERN at least N times: a condition, not a delay
wait_for() {
	i=0
	while [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -lt "${3:-1}" ]; do
		i=$((i + 1))
		[ $i -gt 600 ] && return 1
		sleep 0.1
	done
	return 0
}
# stat DEVICE KEY: a counter of the emulator's --stats file
stat() { sed -n "s/^device=$1 .*$2=\([0-9]*\).*/\1/p" "$work/stats"; }

# ---- bad input: refused before any board is touched ----
run station "$work/fw.bin" --port "$work/no-such-tty" --port "$work/other"
check no-such-port 69 $? "$work/err" "no-such-tty"
absent no-such-port-before-work "$work/err" "waiting for boards"
run write "$work/fw.bin" -a 0x08000000 --port "$work/no-such-tty" --port "$work/other"
check write-no-such-port 69 $? "$work/err" "no-such-tty"
absent write-no-such-port-before-work "$work/out" "devices programmed"
run station "$work/fw.bin" -a 0x08000000 --reset-seq
check reset-seq-without-port 64 $? "$work/err" "give the fixture's ports"
run station "$work/fw.bin" -a 0x08000000 --port /dev/null -d 0483:df11
check port-and-usb 64 $? "$work/err" "not both"
run write "$work/fw.bin" -a 0x08000000 --port /dev/null --port /dev/null -S 57470000001
check write-ports-and-selector 64 $? "$work/err" "drop"
cat >"$work/bad.sh" <<EOF
set -- \$STM32DFU_TTYS
"$tool" station "$work/fw.bin" -a 0x08000000 --port "\$1" --port "\$1" >"$work/out" 2>"$work/err"; echo \$? >"$work/rc1"
"$tool" station "$work/fw.bin" -a 0x08000000 --port "\$1" --reset-seq >"$work/out2" 2>"$work/err2"; echo \$? >"$work/rc2"
EOF
"$simexe" --uart "$(chip 00000009)" -- sh "$work/bad.sh"
check port-twice "$(cat "$work/rc1")" 64 "$work/err" "given twice"
check reset-seq-pty 69 "$(cat "$work/rc2")" "$work/err2" "DTR and RTS"

# ---- two boards on two ports, a silent third port; serial numbers; JSON lines ----
cat >"$work/two.sh" <<EOF
set -- \$STM32DFU_TTYS
echo "\$1 \$2 \$3" >"$work/ttys"
exec "$tool" station "$work/fw.bin" -a 0x08000000 --port "\$3" --port "\$1" --port "\$2" --count 2 --json \
	--serial-number 0x08000800 --serial-start 500 --station lineU
EOF
timeout 120 "$simexe" --stats "$work/stats" --uart "$(chip 00000001)" --uart "$(chip 00000002)" \
	--uart l0-192k,timing=0,uart_mode=silent -- sh "$work/two.sh" >"$work/out" 2>"$work/err"
check two-boards 0 $?
python3 - "$work/out" "$work/ttys" <<'PY'; check two-boards-json 0 $?
import json, sys
lines = open(sys.argv[1]).read().splitlines()
t1, t2, t3 = open(sys.argv[2]).read().split()
boards = [json.loads(l) for l in lines[:-1]]
s = json.loads(lines[-1])["summary"]
assert len(boards) == 2 and s["done"] == 2 and s["failed"] == 0 and not s["hotplug"], lines
by = {b["uid"]: b for b in boards}
assert set(by) == {"00000001AAAA5555BBBB6666", "00000002AAAA5555BBBB6666"}, by
for uid, port in (("00000001AAAA5555BBBB6666", t1), ("00000002AAAA5555BBBB6666", t2)):
    b = by[uid]
    assert b["ok"] and b["verified"] and b["link"] == "uart" and b["port"] == port, b
    assert b["usb_path"] == "" and b["usb_serial"] == "" and b["station"] == "lineU" and b["command"] == "station", b
assert sorted(b["serial_number"] for b in boards) == [500, 501], boards
PY
# the emulator's own counters: each board programmed once (image + number), the silent one never
[ "$(stat 0 bytes_programmed)" -gt 2048 ] && [ "$(stat 1 bytes_programmed)" -gt 2048 ] && [ "$(stat 2 bytes_programmed)" = 0 ]
check two-boards-emulator-counters 0 $?
# read back through the emulator's USB door from each chip's state file: the image is there
for u in 00000001 00000002; do
	run --sim="$(chip $u)" verify "$work/fw.bin" -a 0x08000000; check "verify-$u-usb-door" 0 $?
done
run log --sim --json; check log-sim 0 $?
py "$work/out" 'assert len(d) == 2 and all(x["link"] == "uart" and x["port"].startswith("/dev/pts/") for x in d), d'
check log-records-uart 0 $?
# (the refused runs above may have opened it: no record may be there)
run log --json; check real-log 0 $?
py "$work/out" 'assert d == [], d'; check real-log-untouched 0 $?

# ---- boards left on their ports: programmed once, never again, until Ctrl-C ----
cat >"$work/stay.sh" <<EOF
set -- \$STM32DFU_TTYS
"$tool" station "$work/fw.bin" -a 0x08000000 --port "\$1" --port "\$2" >"$work/out" 2>"$work/err" &
pid=\$!
i=0
while [ "\$(grep -c ' ok ' "$work/out")" -lt 2 ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
# the boards stay: several of each slot's 1 s checks pass with nothing taken again
sleep 4
kill -INT \$pid
wait \$pid
EOF
timeout 120 "$simexe" --stats "$work/stats" --uart "$(chip 00000003)" --uart "$(chip 00000004)" \
	-- sh "$work/stay.sh"
check stay 0 $? "$work/out" "^2 boards: 2 programmed, 0 failed"
check stay-ctrl-c 0 0 "$work/out" "stopped by Ctrl-C"
absent stay-no-already "$work/out" "already programmed"
[ "$(stat 0 bytes_programmed)" = 2048 ] && [ "$(stat 1 bytes_programmed)" = 2048 ]
check stay-programmed-once 0 $?

# ---- a board whose ROM starts again on its slot (ACK, not the NACK of one still synchronised: a
# reset, as a fixture whose DTR drives NRST gives at every open of the port) is identified again by
# its UID and left alone: the board the slot held, not written, not reported, not counted ----
# the chip resets a few of its slot's checks after its write: the write's own bytes, counted from a
# trace of the same write on a fresh chip, plus the station's probes
cat >"$work/trace.sh" <<EOF
exec "$tool" write "$work/fw.bin" -a 0x08000000 --port "\$STM32DFU_TTY" --trace "$work/t.txt" -q --no-log
EOF
"$simexe" --uart "l0-192k,timing=0" -- sh "$work/trace.sh"; check reseat-trace 0 $?
n=$(awk '$2 == ">" { n += NF - 2 } END { print n + 40 }' "$work/t.txt")
cat >"$work/reseat.sh" <<EOF
"$tool" station "$work/fw.bin" -a 0x08000000 --port "\$STM32DFU_TTY" -v >"$work/out" 2>"$work/err" &
pid=\$!
i=0
while ! grep -q 'left alone' "$work/err" && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
kill -INT \$pid
wait \$pid
EOF
timeout 120 "$simexe" --stats "$work/stats" --uart "$(chip 0000000E),uart_reset_at=$n" -- sh "$work/reseat.sh"
check reseat 0 $? "$work/out" "^1 board: 1 programmed, 0 failed, in"
check reseat-fresh-rom 0 0 "$work/err" "a ROM that has just started"
check reseat-same-board 0 0 "$work/err" "is the one programmed there: its bootloader started again (a reset); left alone"
absent reseat-not-reported "$work/out" "already programmed"
[ "$(stat 0 bytes_programmed)" = 2048 ]; check reseat-not-rewritten 0 $?

# ---- a chip gone mid-write fails alone; the other slot's board is programmed ----
cat >"$work/gone.sh" <<EOF
set -- \$STM32DFU_TTYS
exec "$tool" station "$work/big.bin" -a 0x08000000 --port "\$1" --port "\$2" --count 2 --json
EOF
timeout 120 "$simexe" --stats "$work/stats" --uart "$(chip 00000005)" --uart "$(chip 00000006),uart_gone_at=20000" \
	-- sh "$work/gone.sh" >"$work/out" 2>"$work/err"
check gone-one-fails 1 $?
python3 - "$work/out" <<'PY'; check gone-json 0 $?
import json, sys
lines = open(sys.argv[1]).read().splitlines()
by = {json.loads(l)["uid"]: json.loads(l) for l in lines[:-1]}
assert by["00000005AAAA5555BBBB6666"]["ok"] and by["00000005AAAA5555BBBB6666"]["verified"], by
g = by["00000006AAAA5555BBBB6666"]
assert not g["ok"] and g["error"] and g["link"] == "uart", g
PY
[ "$(stat 0 bytes_programmed)" = 32768 ]; check gone-other-programmed 0 $?
run --sim="$(chip 00000005)" verify "$work/big.bin" -a 0x08000000; check gone-other-verified 0 $?

# ---- a cloned UID on two ports: one programmed, the other quarantined ----
cat >"$work/clone.sh" <<EOF
set -- \$STM32DFU_TTYS
exec "$tool" station "$work/fw.bin" -a 0x08000000 --port "\$1" --port "\$2" --count 2
EOF
timeout 120 "$simexe" --stats "$work/stats" --uart "l0-192k,timing=0,uid=00000007AAAA5555BBBB6666" \
	--uart "l0-192k,timing=0,uid=00000007AAAA5555BBBB6666" -- sh "$work/clone.sh" >"$work/out" 2>"$work/err"
check clone 1 $? "$work/out" "1 programmed, 1 failed (1 quarantined: cloned UID)"
check clone-warned 0 0 "$work/err" "WARNING: cloned UID 00000007AAAA5555BBBB6666"
[ $(( $(stat 0 bytes_programmed) + $(stat 1 bytes_programmed) )) = 2048 ]; check clone-one-written 0 $?

# ---- a second Ctrl-C stops both slots at a transfer boundary, saying what each holds ----
cat >"$work/int.sh" <<EOF
set -- \$STM32DFU_TTYS
"$tool" station "$work/big.bin" -a 0x08000000 --port "\$1" --port "\$2" -v >"$work/out" 2>"$work/err" &
pid=\$!
i=0
while [ "\$(grep -c 'plan:' "$work/err")" -lt 2 ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
kill -INT \$pid
# the second only once the first was taken (signals do not queue)
i=0
while ! grep -q 'no new board is taken' "$work/err" && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done
kill -INT \$pid
wait \$pid
EOF
timeout 120 "$simexe" --uart "$(chip 0000000A)" --uart "$(chip 0000000B)" -- sh "$work/int.sh"
check ctrl-c-twice 130 $? "$work/out" "^2 boards: 0 programmed, 2 failed"
[ "$(grep -c 'STM32DFU_E_CANCELED' "$work/out")" = 2 ]; check ctrl-c-each-board 0 $?
check ctrl-c-says-what-it-holds 0 0 "$work/out" "on the chip: sector"
check ctrl-c-first-said 0 0 "$work/err" "no new board is taken; the 2 in progress finish"
absent ctrl-c-no-usb-advice "$work/out" "USB port"

# ---- write --port P1 --port P2: one board per port, one record each ----
cat >"$work/fleet.sh" <<EOF
set -- \$STM32DFU_TTYS
exec "$tool" write "$work/fw.bin" -a 0x08000000 --port "\$1" --port "\$2" --json
EOF
timeout 120 "$simexe" --uart "$(chip 0000000C)" --uart "$(chip 0000000D)" -- sh "$work/fleet.sh" >"$work/out" 2>"$work/err"
check write-ports 0 $?
py "$work/out" 'assert len(d) == 2 and all(x["ok"] and x["verified"] and x["link"] == "uart" and x["port"].startswith("/dev/pts/") for x in d), d'
check write-ports-json 0 $?
for u in 0000000C 0000000D; do
	run --sim="$(chip $u)" verify "$work/fw.bin" -a 0x08000000; check "write-ports-$u-verified" 0 $?
done
run log --sim --json --uid 0000000CAAAA5555BBBB6666; check write-ports-log 0 $?
py "$work/out" 'assert len(d) == 1 and d[0]["link"] == "uart" and d[0]["command"] == "write", d'
check write-ports-record 0 $?

# ---- the in-process emulator over USART in a fleet write (--log-dir): its record says uart ----
run write "$work/fw.bin" -a 0x08000000 --sim=l0-192k,timing=0,link=uart,state="$work/f.state" --log-dir "$work/logs" --json
check fleet-sim-uart 0 $?
py "$work/out" 'assert len(d) == 1 and d[0]["ok"] and d[0]["link"] == "uart" and d[0]["port"] == "sim-uart", d'
check fleet-sim-uart-json 0 $?
run log --sim --json; check fleet-sim-uart-log 0 $?
py "$work/out" 'r = [x for x in d if x["port"] == "sim-uart"]; assert len(r) == 1 and r[0]["link"] == "uart" and r[0]["usb_path"] == "", d'
check fleet-sim-uart-record 0 $?

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
