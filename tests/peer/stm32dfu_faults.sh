#!/bin/bash
# No path may crash under faults: stm32dfu through its real libusb backend, every request of the
# virtual chip failing (fault_rate=1), selected by UID, by USB serial, by path and by nothing.
# Each run must end with a clear error (exit below 128, a "stm32dfu:" line on stderr) and, with
# --json, exactly one JSON document {"ok": false, ...} on stdout.
# Usage: stm32dfu_faults.sh SIM
. "$(dirname "$0")/lib.sh"
find_stm32dfu
need python3

if [ -z "${PEER_INNER:-}" ]; then
	PEER_INNER=1 SIM_TIMEOUT=150 sim --profile "f746,timing=0,fault_rate=1" -- "$0" "$SIM" "$@"
	exit $?
fi

# the default f746 profile's UID and serial (profiles/f746)
uid=002200363436510D33323730
serial=335437663436
head -c 3000 /dev/urandom >"$TMP/img.bin"
n=0
for sel in "-S $uid" "-S $serial" "-p 1-1" ""; do
	for cmd in "info" "list" "read 0x08000000 64 -o $TMP/r.bin" "write $TMP/img.bin" "erase --sectors 1" "leave"; do
		for json in "" "--json"; do
			n=$((n + 1))
			# shellcheck disable=SC2086
			timeout 30 "$STM32DFU" $sel $cmd $json >"$TMP/out" 2>"$TMP/err"
			rc=$?
			what="stm32dfu $sel $cmd $json"
			[ $rc -ge 124 ] && { cat "$TMP/err"; fail "$what: exit $rc (crash or hang)"; }
			[ "$cmd" = list ] && [ $rc = 0 ] && continue # list reports a device it cannot open
			[ $rc = 0 ] && fail "$what succeeded although every transfer fails"
			grep -q '^stm32dfu: ' "$TMP/err" || { cat "$TMP/err"; fail "$what: no error message"; }
			if [ -n "$json" ]; then
				python3 - "$TMP/out" <<'PY' || fail "$what: stdout is not one failure document"
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert isinstance(d, dict) and d["ok"] is False and d["error"].startswith("STM32DFU_E_"), d
assert d["message"] and "hint" in d, d
PY
			fi
		done
	done
done
echo "ok: $n runs under fault_rate=1, no crash, each with an error (and one JSON document)"
