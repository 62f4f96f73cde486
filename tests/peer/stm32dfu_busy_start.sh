#!/bin/bash
# A new session meeting a chip still busy with flash work an earlier host left running, over
# virtual USB with one daemon that outlives the host processes (what a board on a cable does).
# F746 model at timing=2: a mass erase takes 32 s, DS10916's maximum tME at x8. `stm32dfu erase
# --all` is SIGKILLed once its trace shows the erase running (its first GETSTATUS answered
# dfuDNBUSY; the next one is held by the ROM, busy_reply = hold). Then:
#  - dfu-util (anchor, when installed) gives up while the chip erases: its string requests and its
#    SET_INTERFACE time out; it is not asked to succeed, only to show the chip was still busy;
#  - `stm32dfu info` waits for the chip's first answer, says on stderr that it is waiting for
#    flash work an earlier session started, and succeeds when the erase is over;
#  - `stm32dfu read` finds the first and the last bytes of the flash erased;
#  - a second killed erase, then `stm32dfu list`: the listing's string reads are the device's first
#    answers, so list waits the same way and lists the chip with its strings whole.
# Events are ordered by what is observed (the trace line, the processes' ends), not by sleeps.
# Usage: stm32dfu_busy_start.sh SIM
. "$(dirname "$0")/lib.sh"
find_stm32dfu

if [ -z "${PEER_INNER:-}" ]; then
	PEER_INNER=1 SIM_TIMEOUT=230 sim --profile "f746,timing=2,poke=0x08000000 11223344,poke=0x080FFFFC 55667788" \
		-- "$0" "$SIM" "$@"
	exit $?
fi

"$STM32DFU" read 0x080FFFFC 4 -o "$TMP/before.bin" >"$TMP/before.log" 2>&1 || { cat "$TMP/before.log"; fail "read before"; }
[ "$(od -An -tx1 "$TMP/before.bin" | tr -d ' \n')" = 55667788 ] || fail "the poked bytes are not there before the erase"

# erase_and_kill: starts a mass erase and SIGKILLs it once the chip is erasing
erase_and_kill() {
	rm -f "$TMP/erase.trace"
	"$STM32DFU" erase --all --yes --no-log --trace "$TMP/erase.trace" >"$TMP/erase.log" 2>&1 &
	local pid=$! running=
	for _ in $(seq 1 600); do
		# the erase runs on the chip once its progress line appears (every 2 s off a terminal);
		# (the transcript is live too, in erase.trace.tmp-*, flushed after every request; the
		# progress line is what a user sees, and what this test waits for)
		if grep -q '^erase: *[0-9]*%' "$TMP/erase.log" 2>/dev/null; then
			running=1
			break
		fi
		kill -0 $pid 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$running" ] || { cat "$TMP/erase.log" "$TMP/erase.trace"; fail "the mass erase never reported progress"; }
	kill -9 $pid
	wait $pid 2>/dev/null
	echo "erase killed while the chip erases (its held GETSTATUS outstanding)"
}
erase_and_kill

if command -v dfu-util >/dev/null 2>&1; then
	t0=$(date +%s%N)
	dfu-util -a 0 -s 0x08000000:16 -U "$TMP/du.bin" >"$TMP/du.log" 2>&1
	rc=$?
	t1=$(date +%s%N)
	tail -2 "$TMP/du.log"
	[ $rc != 0 ] || fail "dfu-util read the chip during its erase: the chip was not busy"
	echo "dfu-util (anchor) gave up after $(((t1 - t0) / 1000000)) ms with status $rc while the chip erased"
fi

t0=$(date +%s%N)
"$STM32DFU" info -v --json >"$TMP/info.json" 2>"$TMP/info.err"
rc=$?
t1=$(date +%s%N)
cat "$TMP/info.err"
[ $rc = 0 ] || { cat "$TMP/info.json"; fail "info after the killed erase exited with $rc"; }
grep -q 'waiting for the chip to finish flash work an earlier session started' "$TMP/info.err" ||
	fail "info did not say it was waiting for the chip's earlier flash work"
grep -q 'the device answered after [0-9]* ms' "$TMP/info.err" || fail "info did not report the late first answer"
python3 - "$TMP/info.json" <<'PY' || fail "info's JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["product"] == "STM32  BOOTLOADER", d["product"]
assert d["chip"]["family"] == "F74x", d["chip"]
assert d["initial_state"] == "dfuDNLOAD-IDLE", d["initial_state"]
PY

for a in 0x08000000 0x080FFFFC; do
	"$STM32DFU" read $a 4 -o "$TMP/after.bin" >"$TMP/after.log" 2>&1 || { cat "$TMP/after.log"; fail "read $a after"; }
	[ "$(od -An -tx1 "$TMP/after.bin" | tr -d ' \n')" = ffffffff ] || fail "$a is not erased: $(od -An -tx1 "$TMP/after.bin")"
done
waited_info=$(((t1 - t0) / 1000000))

erase_and_kill
t0=$(date +%s%N)
"$STM32DFU" list --json >"$TMP/list.json" 2>"$TMP/list.err"
rc=$?
t1=$(date +%s%N)
cat "$TMP/list.err"
[ $rc = 0 ] || { cat "$TMP/list.json"; fail "list after the killed erase exited with $rc"; }
grep -q 'waiting for the chip to finish flash work an earlier session started' "$TMP/list.err" ||
	fail "list did not say it was waiting for the chip's earlier flash work"
python3 - "$TMP/list.json" <<'PY' || fail "list's JSON: the chip is not listed whole"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 1, d
dev = d[0]
assert dev["product"] == "STM32  BOOTLOADER" and dev["opened"], dev
assert dev["serial"] and dev["serial"] == dev["serial_computed"], dev
PY
echo "ok: info waited $waited_info ms and list $(((t1 - t0) / 1000000)) ms for the chip's earlier mass erase, then succeeded; the flash reads erased"
