#!/bin/sh
# list --ports and --probe (issue 23 item 1) against stm32dfu-sim --uart pseudo-terminals.
# What this can check honestly: libserialport 0.1.1 does not enumerate /dev/pts, so the system's
# list cannot contain the emulated ports; the probe is checked on named pty paths, and that a
# listing sends nothing is checked by the ROM's own state (a ROM that saw 0x7F answers the next
# 0x7F with NACK, a fresh one with ACK).
# Usage: ports.sh STM32DFU STM32DFU_SIM
. "$(dirname "$0")/lib.sh"
sim=${2:?usage: ports.sh STM32DFU STM32DFU_SIM}
export tool work

# the system's list: a JSON array of port records, text says what it found
run list --ports --json
check "list --ports --json" 0 $?
if py "$work/out" 'assert isinstance(d, list); assert all(p["listed"] and p["probe"] is None for p in d)'; then
	passes=$((passes + 1)); else echo "FAIL list --ports: not an array of listed, unprobed ports"; fails=$((fails + 1)); fi
run list --ports
check "list --ports text" 0 $?
run list --ports --baud 9600
check "--baud without --probe" 64 $? "$work/err" "give --probe"
run list --ports --probe --baud 12
check "--baud out of range" 64 $? "$work/err" "from 1200"
run list --ports --probe --port "$work/no-such-tty"
check "named port missing" 69 $? "$work/err" "no such port"
# --reset-seq: stm32flash's -i grammar for the modem lines; GPIO numbers and brk said, not taken
run list --probe --port "$work/no-such-tty" --reset-seq=4,-3,3
check "reset-seq GPIO numbers" 64 $? "$work/err" "host GPIO numbers"
run list --probe --port "$work/no-such-tty" --reset-seq=brk
check "reset-seq brk" 64 $? "$work/err" "brk"
run list --ports --reset-seq
check "reset-seq without probe" 64 $? "$work/err" "give --probe too"

cat >"$work/steps.sh" <<'EOS'
set -u
. "$LIB"
set -- $STM32DFU_TTYS
f746=$1 silent=$2 echo=$3 slow=$4
# shown without --probe: nothing sent, so the probe after it is the ROM's first 0x7F (ACK, not NACK)
run list --ports --port "$f746" --json
check "named, not probed" 0 $?
py "$work/out" 'assert d[0]["probe"] is None and d[0]["listed"] is False' || { echo "FAIL named: $(cat "$work/out")"; fails=$((fails + 1)); }
run list --ports --probe --port "$f746" --json
check "probe f746" 0 $?
py "$work/out" '
p = d[0]["probe"]
assert p["answer"] == "ack", p
assert p["baud"] == 115200 and p["device_id"] == 0x449 and p["family"] == "F74x", p
assert p["bootloader_version"] == "3.1" and p["commands"][:3] == [0, 1, 2] and 0x44 in p["commands"], p
assert p["option_bytes"] == [0, 0] and p["error"] is None, p' || { echo "FAIL probe f746: $(cat "$work/out")"; fails=$((fails + 1)); }
# the ROM is synchronised now: its answer to the next 0x7F pair is NACK, and the identity still comes
run list --probe --port "$f746"
check "probe again" 0 $? "$work/out" "NACK (a bootloader already synchronised)"
check "probe again: chip" 0 0 "$work/out" "device ID 0x449: STM32F74x/F75x"
# BOOT0 low (silent), an echo, and a rate above the ROM's autobaud range: never taken for a ROM
run list --probe --port "$silent" --port "$echo" --port "$slow" --baud 230400 --json
check "probe the others" 0 $?
py "$work/out" '
a = [p["probe"]["answer"] for p in d]
assert a == ["none", "other", "none"], a
assert d[1]["probe"]["byte"] == 0x7F and d[1]["probe"]["device_id"] is None, d[1]' || { echo "FAIL others: $(cat "$work/out")"; fails=$((fails + 1)); }
run list --probe --port "$echo"
check "echo text" 0 $? "$work/out" "0x7f: not an STM32 bootloader answer"
# --reset-seq on a port without modem lines (a pty): refused before any byte, with the reason
run list --probe --port "$f746" --reset-seq
check "reset-seq on a pty" 69 $? "$work/err" "needs a port with DTR and RTS"
run list --probe --port "$f746" --reset-seq --json
py "$work/out" 'p = d[0]["probe"]; assert p["answer"] == "failed" and p["reset_seq"] is False and p["error"] == "STM32DFU_E_UNSUPPORTED", p' || { echo "FAIL reset-seq json: $(cat "$work/out")"; fails=$((fails + 1)); }
echo "$passes $fails" >"$work/counts"
EOS
LIB="$(cd "$(dirname "$0")" && pwd)/lib.sh"
# lib.sh's own work folder and trap belong to this script: the inner shell reuses ours
cat >"$work/lib_inner.sh" <<EOS
set -u
fails=0 passes=0
$(sed -n '/^check()/,$p' "$LIB")
EOS
LIB=$work/lib_inner.sh "$sim" --uart f746 --uart f407,uart_mode=silent --uart f446,uart_mode=echo \
	--uart f411,uart_max_baud=115200 -- sh "$work/steps.sh"
rc=$?
[ $rc -eq 0 ] && [ -f "$work/counts" ] || { echo "FAIL: the emulated run ended with $rc"; fails=$((fails + 1)); }
if [ -f "$work/counts" ]; then
	read p f <"$work/counts"
	passes=$((passes + p)) fails=$((fails + f))
fi
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
