#!/bin/bash
# list and selection over virtual USB, as a dfu-util user expects (issue 15, part 1): every DFU
# device is listed (a non-ST DfuSe device too, with its layout, no UID read from it), the state
# each was found in, a warning for two chips with one UID, and a device nobody can open does not
# match every -S SERIAL.
# Usage: stm32dfu_list.sh SIM
. "$(dirname "$0")/lib.sh"
find_stm32dfu
need python3
S1=AAAA00000001
S2=BBBB00000002
if [ -z "${PEER_INNER:-}" ]; then
	# two F746 with the profile's one UID (a clone pair), and a GD32VF103-like DfuSe device
	# (28e9:0189, its ROM's layout string as dfu-util lists it)
	PEER_INNER=1 sim --profile "f746,timing=0,serial=$S1" --profile "f0-32k,timing=0,serial=$S2" \
		--profile "f746,timing=0,serial=CCCC00000003" \
		--profile "vid=0x28e9,pid=0x0189,manufacturer=GigaDevice,product=GD32 DFU,serial=3CBJ,alt=@Internal Flash  /0x08000000/128*001Kg" \
		-- "$0" "$SIM"
	exit $?
fi
"$STM32DFU" list >"$TMP/list" 2>"$TMP/err" || { cat "$TMP/list" "$TMP/err"; fail "list exited with $?"; }
want() { grep -q -- "$2" "$TMP/$1" || { cat "$TMP/$1"; fail "'$2' not in $1"; }; }
want list '\[28e9:0189\] GD32 DFU  path 1-4  3CBJ'
want list 'not an STM32 ROM bootloader'
want list 'alt 0  Internal Flash   0x08000000  128 KiB   (128 x 1 KiB)'
# the F0 ROM starts in dfuERROR (see dfu_util_dfuerror.sh); list says so and what it did about it
want list 'found in dfuERROR (errFIRMWARE), cleared to dfuIDLE'
want list 'found in dfuIDLE'
want err 'warning: 1-1 has UID 00220036 3436510D 33323730 like another attached device'
want err 'warning: 1-3 has UID'
# paths in order
[ "$(grep -o 'path 1-[0-9]' "$TMP/list" | tr '\n' ' ')" = "path 1-1 path 1-2 path 1-3 path 1-4 " ] ||
	{ cat "$TMP/list"; fail "devices not listed in path order"; }
"$STM32DFU" list --json >"$TMP/list.json" || fail "list --json"
python3 - "$TMP/list.json" <<'PY' || fail "list --json content"
import json, sys
d = {r["path"]: r for r in json.load(open(sys.argv[1]))}
assert sorted(d) == ["1-1", "1-2", "1-3", "1-4"], sorted(d)
gd = d["1-4"]
assert gd["vid"] == 0x28e9 and gd["pid"] == 0x0189 and gd["identity_read"] is False and gd["uid"] is None, gd
assert gd["alts"][0]["regions"][0] == {"start": "0x08000000", "size": 131072, "sectors": 128}, gd["alts"]
# the first list cleared the F0's dfuERROR (docs/list.md says so): now it is found idle
assert d["1-2"]["initial_state"] == "dfuIDLE" and d["1-2"]["initial_status"] == "OK", d["1-2"]
assert d["1-1"]["initial_state"] == "dfuIDLE" and d["1-1"]["uid_shared"] and d["1-3"]["uid_shared"]
assert not d["1-2"]["uid_shared"] and d["1-1"]["identity_read"]
PY
# -d narrows the list as dfu-util's does
"$STM32DFU" list -d 28e9:0189 >"$TMP/list-d" || fail "list -d"
[ "$(grep -c '^\[' "$TMP/list-d")" = 1 ] || { cat "$TMP/list-d"; fail "list -d 28e9:0189 shows other devices"; }

# a fleet write to the two chips with one UID: a warning, and one log per device, not one shared file
rand_file "$TMP/a.bin" 2048
"$STM32DFU" write "$TMP/a.bin" -p 1-1 -p 1-3 --log-dir "$TMP/logs" >"$TMP/fleet" 2>"$TMP/fleet.err" ||
	{ cat "$TMP/fleet" "$TMP/fleet.err"; fail "fleet write to 1-1 and 1-3"; }
want fleet.err 'warning: 1-1 has UID 00220036 3436510D 33323730 like another device of this run'
[ "$(ls "$TMP/logs" | tr '\n' ' ')" = "002200363436510D33323730-path-1-1.log 002200363436510D33323730-path-1-3.log " ] ||
	{ ls "$TMP/logs"; fail "the two chips with one UID do not have one log each"; }
for p in 1-1 1-3; do
	[ "$(grep -c '^.* device path ' "$TMP/logs/002200363436510D33323730-path-$p.log")" = 1 ] ||
		{ cat "$TMP/logs/"*; fail "log of $p holds another device's lines"; }
	grep -q "device path $p " "$TMP/logs/002200363436510D33323730-path-$p.log" || fail "log of $p names another path"
done

# the GD32-like device can no longer be opened (its device node is gone): it is listed as such,
# and it does not match every -S, so a unique serial stays unique
node=$(ls "$UMOCKDEV_DIR/dev/bus/usb/001/" | sort -n | tail -1)
rm -f "$UMOCKDEV_DIR/dev/bus/usb/001/$node"
"$STM32DFU" list >"$TMP/list2" 2>&1 || fail "list with an unopenable device"
want list2 'path 1-4'
want list2 'cannot open: opening 1-4'
# what could not be asked is unknown (null), not the values of an empty record (match_hal, RDP 0)
"$STM32DFU" list --json >"$TMP/list2.json" 2>/dev/null || fail "list --json with an unopenable device"
python3 - "$TMP/list2.json" <<'PY' || fail "list --json: the unopenable device's unknowns are not null"
import json, sys
d = {r["path"]: r for r in json.load(open(sys.argv[1]))}
gd = d["1-4"]
assert gd["opened"] is False and gd["error"].startswith("opening 1-4"), gd
for k in ("serial_verdict", "serial_explanation", "rdp_level", "uid", "chip", "serial_computed", "initial_state"):
    assert gd[k] is None, (k, gd[k])
# an opened one keeps its verdict (its serial was set by hand, so it does not match the UID)
assert d["1-1"]["serial_verdict"] == "mismatch" and d["1-1"]["rdp_level"] == 0, d["1-1"]
PY
"$STM32DFU" -d '*' -S "$S2" info >"$TMP/info" 2>&1 || { cat "$TMP/info"; fail "-S $S2 with an unopenable device attached"; }
want info "$S2"
"$STM32DFU" -d '*' -S NOSUCHSERIAL info >"$TMP/info2" 2>&1
rc=$?
[ $rc = 77 ] || { cat "$TMP/info2"; fail "-S NOSUCHSERIAL with an unopenable device: exit $rc, expected 77"; }
want info2 'could not be opened to read theirs: 1-4'
want info2 'hint: no permission: install the udev rule 60-stm32dfu.rules'
echo "ok: every DFU device listed with its state; shared UID warned; unopenable device matches no serial"
