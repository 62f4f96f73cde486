#!/bin/bash
# Transfer size and timeouts (issue 11 item 7) through our real libusb backend (not --sim), one
# virtual chip per step: -t bounds the data DNLOADs on the wire (--trace); the L43x model's
# refusal of 2048-byte blocks is met with smaller blocks and the write verifies by a read-back;
# an erase whose DNLOAD the device holds 6 s (past libusb's 5 s default) completes within the
# erase's ceiling; the F0's refused UID probe costs no retry and no link warning.
# Usage: stm32dfu_xfer.sh SIM
. "$(dirname "$0")/lib.sh"
find_stm32dfu

# dnloads TRACE: "count longest" of the data DNLOADs (OUT 21 01, wValue >= 2, wLength > 0)
dnloads() {
	python3 - "$1" <<'PY'
import sys
n = m = 0
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) > 6 and f[1:4] == ["OUT", "21", "01"] and int(f[4], 16) >= 2 and int(f[6], 16) > 0:
        n += 1
        m = max(m, int(f[6], 16))
print(n, m)
PY
}

if [ -z "${PEER_INNER:-}" ]; then
	head -c 40960 /dev/urandom >"$TMP/app.bin"
	head -c 16384 /dev/urandom >"$TMP/f0.bin"
	export XFER_DIR=$TMP # the inner runs get their own TMP from lib.sh
	for step in t512 l43x hold f0; do
		case $step in
		t512) p="f746,timing=0" ;;
		l43x) p="l43x,timing=0" ;;
		hold) p="f746,timing=0,erase_dnload_hold=6000" ;;
		f0) p="f0-32k,timing=0" ;;
		esac
		PEER_INNER=$step sim --profile "$p" -- "$0" "$SIM" || exit 1
	done
	echo "ok: -t on the wire, L43x smaller blocks, a held erase DNLOAD, F0 without retries (libusb)"
	exit 0
fi

W=$XFER_DIR
run() { # run LOG ARGS...: fails the test with the log on a non-zero exit
	local log=$1
	shift
	"$@" >"$W/$log" 2>&1
	local rc=$?
	[ $rc = 0 ] || { cat "$W/$log"; fail "$* exited with $rc"; }
}

case $PEER_INNER in
t512)
	run t512.log "$STM32DFU" write "$W/app.bin" -t 512 --no-log --trace "$W/t512.trace"
	[ "$(dnloads "$W/t512.trace")" = "80 512" ] || fail "-t 512: data DNLOADs $(dnloads "$W/t512.trace"), want 80 of 512"
	;;
l43x)
	run l43x.log "$STM32DFU" write "$W/app.bin" --retries 0 --no-log --json
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["verified"] and d["transfer_size"] == 1024 and d["retries"] == 0, d' "$W/l43x.log" ||
		fail "L43x write: $(cat "$W/l43x.log")"
	run l43x-read.log "$STM32DFU" read 0x08000000 40960 -o "$W/l43x-back.bin"
	cmp -s "$W/app.bin" "$W/l43x-back.bin" || fail "L43x: the chip does not hold the image"
	;;
hold)
	t0=$(date +%s)
	run hold.log "$STM32DFU" erase --sectors 0 --retries 0 --no-log
	t1=$(date +%s)
	[ $((t1 - t0)) -ge 6 ] || fail "the erase took $((t1 - t0)) s: the 6 s hold was not modelled"
	;;
f0)
	run f0.log "$STM32DFU" write "$W/f0.bin" --no-log
	grep -q "^retries" "$W/f0.log" && { cat "$W/f0.log"; fail "F0 write reports retries"; }
	grep -q "link is failing" "$W/f0.log" && { cat "$W/f0.log"; fail "F0 write warns of a failing link"; }
	run f0-read.log "$STM32DFU" read 0x08000000 16384 -o "$W/f0-back.bin"
	cmp -s "$W/f0.bin" "$W/f0-back.bin" || fail "F0: the chip does not hold the image"
	;;
esac
exit 0
