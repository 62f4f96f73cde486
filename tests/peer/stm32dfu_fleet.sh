#!/bin/bash
# Fleet write over virtual USB: 8 emulated F746, two of them sharing a USB serial, one with an
# injected fault (a bit flipped in one read-back, with --retries 0 so it is not recovered).
# `stm32dfu write --all` must program and verify the other 7, name the failed one by its UID, exit
# with the verify-failure code, and leave one log per device (named by UID) in --log-dir.
# Usage: stm32dfu_fleet.sh SIM
. "$(dirname "$0")/lib.sh"
find_stm32dfu
need python3

if [ -z "${PEER_INNER:-}" ]; then
	profiles=()
	for i in 1 2 3 4 5 6 7 8; do
		serial=F1EE7000000$i
		[ $i = 2 ] && serial=F1EE70000001 # the collision: boards must be told apart by UID
		fault=""
		[ $i = 5 ] && fault=",corrupt_upload_at=60"
		profiles+=(--profile "f746,timing=0,serial=$serial,uid=0000000${i}1111222233334444$fault")
	done
	PEER_INNER=1 sim "${profiles[@]}" -- "$0" "$SIM"
	exit $?
fi
rand_file "$TMP/img.bin" 65536
"$STM32DFU" write "$TMP/img.bin" --all --retries 0 --json --log-dir "$TMP/logs" >"$TMP/out.json" 2>"$TMP/err.log"
rc=$?
cat "$TMP/err.log" >&2
[ $rc = 10 ] || { cat "$TMP/out.json"; fail "write --all exited with $rc, expected 10 (one device failed verify)"; }
python3 - "$TMP/out.json" "$TMP/logs" <<'PY' || fail "the fleet result is wrong"
import json, os, sys
recs = json.load(open(sys.argv[1]))
assert len(recs) == 8, f"{len(recs)} records, expected 8"
uids = sorted(r["uid"] for r in recs)
assert len(set(uids)) == 8, f"UIDs not distinct: {uids}"
bad = [r for r in recs if not r["ok"]]
assert len(bad) == 1 and bad[0]["uid"] == "000000051111222233334444", f"failed: {bad}"
assert bad[0]["error"] == "STM32DFU_E_VERIFY", bad[0]
good = [r for r in recs if r["ok"]]
assert all(r["verified"] and r["image_bytes"] == 65536 for r in good), good
shared = [r for r in good if r["serial"] == "F1EE70000001"]
assert len(shared) == 2, f"the two boards sharing a serial: {shared}"
for r in recs:
    assert os.path.exists(r["log"]), r["log"]
    assert r["uid"].replace(" ", "") in os.path.basename(r["log"]), r["log"]
logs = os.listdir(sys.argv[2])
assert len(logs) == 8, logs
failed_log = open(os.path.join(sys.argv[2], "000000051111222233334444.log")).read()
assert "FAILED" in failed_log, failed_log
PY
grep -q "device UID 00000005 11112222 33334444 .*failed" "$TMP/err.log" || fail "stderr does not name the failed device by UID"
# the 7 good boards hold the image (by path; read back through the single-device path)
for p in 1-1 1-2 1-3 1-4 1-6 1-7 1-8; do
	"$STM32DFU" -p $p verify "$TMP/img.bin" -q >"$TMP/v.log" 2>&1 || { cat "$TMP/v.log"; fail "device $p does not hold the image"; }
done
# repeated selectors: a UID and a path pick two boards, the one sharing its serial is left alone
rand_file "$TMP/img2.bin" 4096
"$STM32DFU" write "$TMP/img2.bin" -S 000000011111222233334444 -p 1-3 --json >"$TMP/sel.json" 2>"$TMP/sel.log" ||
	{ cat "$TMP/sel.log"; fail "write with -S UID -p PATH failed"; }
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert sorted(x["path"] for x in r if x["ok"]) == ["1-1", "1-3"], r' \
	"$TMP/sel.json" || fail "-S UID -p PATH did not select exactly 1-1 and 1-3"
"$STM32DFU" -p 1-2 verify "$TMP/img.bin" -q >"$TMP/v.log" 2>&1 || { cat "$TMP/v.log"; fail "1-2 (same serial as 1-1) was touched"; }
# a selector that matches nothing stops the run before any board is written
"$STM32DFU" write "$TMP/img2.bin" -p 1-1 -p 9-9 >"$TMP/none.log" 2>&1
[ $? = 69 ] || { cat "$TMP/none.log"; fail "an unmatched -p must exit 69"; }
echo "ok: 8 devices, 7 programmed and verified, the faulty one named by UID"
