#!/bin/sh
# A device descriptor is outside input: list and info on an emulated device with 40 alt settings
# (the library keeps 32), a layout of six regions and one of twelve sector groups, and 100- and
# 126-character strings. Nothing is cut without saying so: the strings and maps whole, and the
# alt settings past 32 counted in text and JSON.
# Usage: hostile.sh STM32DFU
. "$(dirname "$0")/lib.sh"
export XDG_STATE_HOME="$work/state"
p=$work/hostile.profile
{
	echo "base = f746"
	printf 'product = %0126d\n' 0 | tr 0 P
	echo "alt = @Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg"
	echo "alt = @Option Bytes  /0x1FFF0000/01*032 e"
	echo "alt = @OTP Memory /0x1FF0F000/01*1024 e,01*016 e"
	echo "alt = @Device Feature/0xFFFF0000/01*004 e"
	echo "alt = @Regions/0x60000000/1*1Ka/0x60001000/1*1Ka/0x60002000/1*1Ka/0x60003000/1*1Ka/0x60004000/1*1Ka/0x60005000/1*1Ka"
	echo "alt = @Groups/0x61000000/1*1Ka,1*2Ka,1*3Ka,1*4Ka,1*5Ka,1*6Ka,1*7Ka,1*8Ka,1*9Ka,1*10Ka,1*11Ka,1*12Ka"
	echo "alt = @$(printf '%0100d' 0 | tr 0 N)/0x62000000/1*1Ka"
	i=7
	while [ $i -lt 40 ]; do echo "alt = @Spare/0x63000000/1*1Ka"; i=$((i + 1)); done
} >"$p"
sim="--sim=$p,timing=0"
run "$sim" list; check list 0 $? "$work/out" "8 more alt settings, not shown (the device has 40; stm32dfu keeps the first 32)"
check list-groups 0 0 "$work/out" "(1 x 1 KiB, 1 x 2 KiB, 1 x 3 KiB, 1 x 4 KiB, 1 x 5 KiB, 1 x 6 KiB, 1 x 7 KiB, 1 x 8 KiB, 1 x 9 KiB, 1 x 10 KiB, 1 x 11 KiB, 1 x 12 KiB)"
check list-region6 0 0 "$work/out" "alt 4                   0x60005000  1 KiB"
check list-name 0 0 "$work/out" "alt 6  $(printf '%0100d' 0 | tr 0 N) 0x62000000"
run "$sim" info; check info 0 $? "$work/out" "8 more alt settings, not shown"
for cmd in list info; do
	run "$sim" $cmd --json; check "$cmd-json" 0 $?
	py "$work/out" '
r = d[0] if isinstance(d, list) else d
assert len(r["alts"]) == 32 and r["alts_total"] == 40, (len(r["alts"]), r["alts_total"])
assert len(r["product"]) == 126 and r["alts"][6]["name"] == "N" * 100
assert len(r["alts"][4]["regions"]) == 6 and r["alts"][5]["regions"][0]["sectors"] == 12
assert r["alts"][5]["regions"][0]["size"] == 78 * 1024
'; check "$cmd-json-content" 0 $?
done
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
