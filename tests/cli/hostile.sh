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

# ---- device strings reach the terminal escaped (issue 26 item 3) ----
# a serial that retitles the terminal, clears it and paints the rest red; a product and an alt name
# with a cursor move and a carriage return that could overwrite "DOES NOT MATCH"
esc=$(printf '\033') bel=$(printf '\007') bs=$(printf '\010')
evil="$work/evil.profile"
{
	echo "base = f746"
	echo "serial = ${esc}]0;PWNED${bel}${esc}[2J${esc}[31mEVIL"
	echo "product = STM32 ${esc}[1A${bs}BOOTLOADER"
	echo "alt = @Internal ${esc}[2KFlash  /0x08000000/04*032Kg,01*128Kg,03*256Kg"
	echo "alt = @Option Bytes  /0x1FFF0000/01*032 e"
	echo "alt = @OTP Memory /0x1FF0F000/01*1024 e,01*016 e"
	echo "alt = @Device Feature/0xFFFF0000/01*004 e"
} >"$evil"
has_ctl() { LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$1"; }
clean() { if has_ctl "$2"; then echo "FAIL $1: a control character reached the output"; od -c "$2" | head -5; fails=$((fails + 1)); else passes=$((passes + 1)); fi; }
esim="--sim=$evil,timing=0,state=$work/evil.state"
for cmd in list info; do
	run "$esim" $cmd; check "evil-$cmd" 0 $? "$work/out" '\\x1b]0;PWNED\\x07\\x1b\[2J\\x1b\[31mEVIL'
	clean "evil-$cmd-clean" "$work/out"
	grep -q 'STM32 \\x1b\[1A\\x08BOOTLOADER' "$work/out"; check "evil-$cmd-product" 0 $?
done
grep -q 'Internal \\x1b\[2KFlash' "$work/out"; check evil-alt-name 0 $?
# JSON keeps the string exact (escaped by JSON's rules)
run "$esim" list --json; check evil-json 0 $?
py "$work/out" 'assert d[0]["serial"] == "\x1b]0;PWNED\x07\x1b[2J\x1b[31mEVIL", d[0]["serial"]'; check evil-json-exact 0 $?
# the log keeps the device's serial: shown escaped
printf '\132%.0s' $(seq 1 1024) >"$work/app.bin"
STM32DFU_SIM_LOG="sqlite:$work/log.sqlite3" run "$esim" write "$work/app.bin" -a 0x08000000; check evil-write 0 $?
run log --log "sqlite:$work/log.sqlite3"; check evil-log 0 $? "$work/out" '\\x1b]0;PWNED'
clean evil-log-clean "$work/out"
# CSV: a field a spreadsheet would run as a formula is quoted with a leading ' (issue 26 item 7)
fprofile="$work/formula.profile"
printf 'base = f746\nserial = =cmd|%s /C calc%s!A0\n' "'" "'" >"$fprofile"
STM32DFU_SIM_LOG="sqlite:$work/log.sqlite3" run "--sim=$fprofile,timing=0,state=$work/formula.state" write "$work/app.bin" \
	-a 0x08000000 --station '@SUM(1+1)'; check formula-write 0 $?
run log --log "sqlite:$work/log.sqlite3" --csv; check formula-csv 0 $?
python3 - "$work/out" <<'PY'; check formula-csv-neutral 0 $?
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
last = rows[-1]
assert last["usb_serial"] == "'=cmd|' /C calc'!A0", last["usb_serial"]
assert last["station"] == "'@SUM(1+1)", last["station"]
for r in rows:
    for k, v in r.items():
        assert not v or v[0] not in "=+-@\t\r", (k, v)
PY
# the PostgreSQL password never printed, whatever form it takes (issue 26 item 1); --log with a
# password warns and names the ways that keep it out of the process list
for url in 'postgresql://line@127.0.0.1:1/stm32?password=s3cr3tPW' 'postgresql://line:s3cr3tPW@127.0.0.1:1/stm32' \
	'postgres://127.0.0.1:1/stm32?sslmode=disable&password=s3cr3tPW'; do
	run log --log "$url"; check "pg-unreachable" 69 $?
	run log --log "$url" --json; check "pg-unreachable-json" 69 $?
	cat "$work/err" >>"$work/all"; cat "$work/out" >>"$work/all"
	run log --sync --log "$url"
	cat "$work/err" >>"$work/all"; cat "$work/out" >>"$work/all"
done
run log --log 'host=127.0.0.1 port=1 password=s3cr3tPW'; check pg-keyword-value 64 $? "$work/err" "password=\*\*\*"
cat "$work/err" >>"$work/all"
absent pg-no-secret "$work/all" s3cr3t
for word in STM32DFU_LOG PGPASSFILE PGSERVICEFILE sslmode 'process list'; do
	grep -q "$word" "$work/all"; check "pg-warning-$word" 0 $?
done
STM32DFU_LOG='postgresql://line:s3cr3tPW@127.0.0.1:1/stm32' run log; check pg-env 69 $?
absent pg-env-no-secret "$work/err" s3cr3t
absent pg-env-no-warning "$work/err" "process list"
# errors quote device strings escaped too
run "$esim" write "$work/app.bin" -a 0x08000000 -S "nope"; check evil-error 69 $?
clean evil-error-clean "$work/err"
# file info: a DfuSe target name from the file
run file convert "$work/app.bin" "$work/evil.dfu" -a 0x08000000 --name "T${esc}]2;X${bel}"; check evil-dfu 0 $?
run file info "$work/evil.dfu"; check evil-file-info 0 $? "$work/out" 'name "T\\x1b]2;X\\x07"'
clean evil-file-info-clean "$work/out"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
