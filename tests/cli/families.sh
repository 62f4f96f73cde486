#!/bin/sh
# `info` on every family profile made from a real listing (profiles/, issue 12 item 4): the chip is
# identified, its serial judged, its option bytes decoded; a non-ST DfuSe device is not named an
# STM32; `ob show` marks the fields the part does not have and `ob set` refuses them (issue 15 item 5).
# Usage: families.sh STM32DFU  (env: STM32DFU_PROFILE_DIR)
set -u
tool=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_STATE_HOME="$work/state"
fails=0 passes=0
bad() { echo "FAIL $1"; sed 's/^/    /' "$work/out" "$work/err" | head -30; fails=$((fails + 1)); }

# profile  family  serial_verdict  OB decoded (yes/no/none)  RDP level
while read -r prof fam verdict ob rdp; do
	"$tool" --sim="$prof,timing=0" info --json >"$work/out" 2>"$work/err" || { bad "info $prof: exit $?"; continue; }
	if python3 - "$work/out" "$fam" "$verdict" "$ob" "$rdp" <<'PY'; then passes=$((passes + 1)); else bad "info $prof"; fi
import json, sys
d = json.load(open(sys.argv[1]))
fam, verdict, ob, rdp = sys.argv[2:]
assert d["chip"]["family"] == fam, ("family", d["chip"])
assert d["serial_verdict"] == verdict, ("serial", d["serial_verdict"], d["serial_explanation"])
if ob == "none":
    assert d["option_bytes"] is None, d["option_bytes"]
else:
    o = d["option_bytes"]
    assert o["decoded"] is True and o["complement_errors"] == 0, o
    assert "RDP" in o["fields"] and o["fields"]["RDP"] == 0xAA, o["fields"]
    assert d["rdp_level"] == int(rdp), d["rdp_level"]
PY
done <<'EOF2'
f401 F401 match_hal yes 0
f411 F411 match_hal yes 0
f446 F446 known_quirk yes 0
h750 H74x known_quirk yes 0
h743 H74x known_quirk yes 0
l43x L4 match_hal yes 0
l0-192k L0 match_hal yes 0
l100rc L1 match_hal yes 0
g474 G4 match_hal yes 0
g0c1 G0 match_hal none -
EOF2

# the H750's layout advertises 2 MiB; the flash-size register says 128 KiB and wins
"$tool" --sim=h750,timing=0 info >"$work/out" 2>"$work/err"
grep -q 'flash    128 KiB (flash-size register); the bootloader advertises 2 MiB' "$work/out" && passes=$((passes + 1)) ||
	bad "h750 flash size"

# GD32VF103 (28e9:0189): listed with its serial (raw UTF-8 on the wire), never named an STM32
"$tool" --sim=gd32vf103,timing=0 -d 28e9:0189 info --json >"$work/out" 2>"$work/err" || bad "info gd32: exit $?"
python3 - "$work/out" <<'PY' && passes=$((passes + 1)) || bad "info gd32"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["vid"] == 0x28E9 and d["chip"] is None and d["uid"] is None, d
assert d["serial_reported"] == "3CBJ", d["serial_reported"]
assert d["option_bytes"] is None
PY
"$tool" --sim=gd32vf103,timing=0 -d 28e9:0189 list >"$work/out" 2>"$work/err"
grep -q 'not an ST device' "$work/out" && ! grep -q 'STM32[A-Z]' "$work/out" && passes=$((passes + 1)) ||
	bad "list gd32 names an STM32 family"

# fields the part does not have: marked by ob show, refused by ob set (exit 64), nothing written
"$tool" --sim=f407,timing=0 ob show >"$work/out" 2>"$work/err"
for f in BFB2 DB1M SPRMOD; do
	grep -q "^  - $f .*not on this chip" "$work/out" && passes=$((passes + 1)) || bad "ob show f407 $f not marked"
done
grep -q '^    nWRP ' "$work/out" && passes=$((passes + 1)) || bad "ob show f407 nWRP marked"
"$tool" --sim=f407,timing=0 ob show --json >"$work/out" 2>"$work/err"
python3 - "$work/out" <<'PY' && passes=$((passes + 1)) || bad "ob show --json on_this_chip"
import json, sys
f = {x["name"]: x for x in json.load(open(sys.argv[1]))["fields"]}
assert not f["BFB2"]["on_this_chip"] and not f["DB1M"]["on_this_chip"] and not f["SPRMOD"]["on_this_chip"]
assert f["nWRP"]["on_this_chip"] and f["RDP"]["on_this_chip"]
PY
"$tool" --sim=f407,timing=0 ob set BFB2=1 >"$work/out" 2>"$work/err"
rc=$?
[ $rc = 64 ] && grep -q 'BFB2: this field does not exist on this chip' "$work/err" && passes=$((passes + 1)) ||
	bad "ob set BFB2 on f407: exit $rc"
"$tool" --sim=f446,timing=0 ob show >"$work/out" 2>"$work/err"
grep -q '^    SPRMOD ' "$work/out" && grep -q '^  - BFB2 ' "$work/out" && passes=$((passes + 1)) || bad "ob show f446"
# F0 32 KiB: WRP1 guards 0x08008000 and up, which this part does not have
"$tool" --sim=f0-32k,timing=0 ob set WRP1=0 >"$work/out" 2>"$work/err"
rc=$?
[ $rc = 64 ] && grep -q 'WRP1: .*guards 0x08008000 and up, past this part.s 32 KiB of flash' "$work/err" &&
	passes=$((passes + 1)) || bad "ob set WRP1=0 on f0-32k: exit $rc"
"$tool" --sim=f0-32k,timing=0 ob show --json >"$work/out" 2>"$work/err"
python3 - "$work/out" <<'PY' && passes=$((passes + 1)) || bad "f0 WRP1 unchanged"
import json, sys
f = {x["name"]: x for x in json.load(open(sys.argv[1]))["fields"]}
assert f["WRP1"]["value"] == 0xFF and not f["WRP1"]["on_this_chip"] and f["WRP0"]["on_this_chip"], f["WRP1"]
PY
# L1 256 KiB: WRP89 and WRP1011 guard flash past the part
"$tool" --sim=l100rc,timing=0 ob show >"$work/out" 2>"$work/err"
grep -q '^  - WRP89 ' "$work/out" && grep -q '^    WRP67 ' "$work/out" && passes=$((passes + 1)) || bad "ob show l100rc"

echo "families: $passes passed, $fails failed"
[ $fails = 0 ]
