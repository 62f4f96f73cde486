#!/bin/bash
# Several virtual chips at once: dfu-util -l lists each on its own port with its own serial, and
# -S (serial) and -p (path) select one: what is written to one is read back from it, not the other.
# Usage: dfu_util_multi.sh SIM
. "$(dirname "$0")/lib.sh"
need dfu-util
S1=AAAA00000001
S2=BBBB00000002

if [ -z "${PEER_INNER:-}" ]; then
	PEER_INNER=1 sim --profile "f746,timing=0,serial=$S1" --profile "f746,timing=0,serial=$S2" \
		--profile "f0-32k,timing=0" -- "$0" "$SIM"
	exit $?
fi

dfu-util -l >"$TMP/l.log" 2>&1 || { cat "$TMP/l.log"; fail "dfu-util -l"; }
for want in "path=\"1-1\", alt=0, .*serial=\"$S1\"" "path=\"1-2\", alt=0, .*serial=\"$S2\"" \
	'path="1-3", alt=0, name="@Internal Flash  /0x08000000/032\*0001Kg"'; do
	grep -q "$want" "$TMP/l.log" || { cat "$TMP/l.log"; fail "no line matching $want"; }
done
[ "$(grep -c 'Found DFU' "$TMP/l.log")" -ge 10 ] || { cat "$TMP/l.log"; fail "expected 4 + 4 + 2 alt settings"; }

rand_file "$TMP/a.bin" 4096
rand_file "$TMP/b.bin" 4096
dfu-util -S "$S1" -a 0 -s 0x08000000 -D "$TMP/a.bin" >"$TMP/d1.log" 2>&1 || { cat "$TMP/d1.log"; fail "-S $S1 -D"; }
dfu-util -p 1-2 -a 0 -s 0x08000000 -D "$TMP/b.bin" >"$TMP/d2.log" 2>&1 || { cat "$TMP/d2.log"; fail "-p 1-2 -D"; }
dfu-util -p 1-1 -a 0 -s 0x08000000:4096 -U "$TMP/a2.bin" >"$TMP/u1.log" 2>&1 || { cat "$TMP/u1.log"; fail "-p 1-1 -U"; }
dfu-util -S "$S2" -a 0 -s 0x08000000:4096 -U "$TMP/b2.bin" >"$TMP/u2.log" 2>&1 || { cat "$TMP/u2.log"; fail "-S $S2 -U"; }
cmp "$TMP/a.bin" "$TMP/a2.bin" || fail "device $S1 (1-1) does not hold what was written to it"
cmp "$TMP/b.bin" "$TMP/b2.bin" || fail "device $S2 (1-2) does not hold what was written to it"
echo "ok: three devices listed; selection by serial and by path"
