#!/bin/sh
# --poll auto|spec through the built binary: the mode the session ended in is reported by -v and
# --json, for each busy model of the emulator (profile key busy_reply), and the write verifies.
# Usage: poll.sh STM32DFU
. "$(dirname "$0")/lib.sh"
head -c 20000 /dev/urandom >"$work/a.bin"

run --sim=f746,timing=0 --poll later info; check bad-mode 64 $? "$work/err" "poll later: expected auto or spec"
# mode, asked, fallback per busy model (timing 0.02: the flash takes time, the test does not)
for case in "hold auto auto null" "busy spec auto busy" "stall spec auto stall" "hold spec spec null"; do
	set -- $case
	sim="--sim=f746,timing=0.02,busy_reply=$1,state=$work/$1.state"
	run $sim write "$work/a.bin" --poll "$3" --json; check "write-$1-$3" 0 $?
	python3 - "$work/out" "$2" "$3" "$4" <<'PY'; check "json-$1-$3" 0 $?
import json, sys
d = json.load(open(sys.argv[1]))
p = d["poll"]
want_fb = None if sys.argv[4] == "null" else sys.argv[4]
assert d["ok"] and d["verified"], d
assert (p["mode"], p["asked"], p["fallback"]) == (sys.argv[2], sys.argv[3], want_fb), p
assert (p["early_polls"] > 0) == (sys.argv[3] == "auto"), p
PY
	rm -f "$work/$1.state"
done
run --sim=f746,timing=0.02,state=$work/v.state write "$work/a.bin" -v; check verbose-auto 0 $? "$work/out" "^poll     auto ("
rm -f "$work/v.state"
run --sim=f746,timing=0.02,busy_reply=busy,state=$work/v.state write "$work/a.bin" -v
check verbose-fallback 0 $? "$work/out" "^poll     spec (asked auto; the chip answered dfuDNBUSY"
echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
