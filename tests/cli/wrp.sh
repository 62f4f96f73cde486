#!/bin/sh
# Write protection through the built binary against the emulator (issue 11 items 2-3): erase and
# write refuse a protected sector before anything is erased, a mass erase with one is refused,
# an erase the chip did not do is a failure; text and --json name the option bytes. Each check
# reads the chip back (a dump of the whole flash before and after), not only our output.
# Usage: wrp.sh STM32DFU  (env: STM32DFU_PROFILE_DIR)
. "$(dirname "$0")/lib.sh"
export XDG_STATE_HOME="$work/xdg"
# py FILE CODE: a python assertion over the JSON in FILE (as d)

head -c 300000 /dev/urandom >"$work/old.bin"
head -c 40960 /dev/urandom >"$work/new.bin"

# ---- F746: one nWRP bit per sector ----
sim="--sim=f746,timing=0,state=$work/f7.state"
run $sim write "$work/old.bin"; check write-old 0 $?
run $sim ob set nWRP2=0; check protect-2 0 $?
run $sim read 0x08000000 1M -o "$work/before.bin"; check dump 0 $?

run $sim erase --sectors 2; check erase-protected 12 $? "$work/err" "sector 2 is write-protected (option bytes)"
grep -q "hint: lift the write protection with 'stm32dfu ob set nWRP2=1' (option bytes)" "$work/err"
check erase-protected-hint 0 $?
run $sim erase --sectors 1-3 --json; check erase-protected-json 12 $?
py "$work/out" 'assert d["ok"] is False and d["error"] == "STM32DFU_E_PROTECTED", d
assert "sector 2 is write-protected" in d["message"] and "nWRP2=1" in d["hint"] and "option bytes" in d["hint"], d'
check erase-protected-json-fields 0 $?
run $sim erase 0x08008000 64K; check erase-range-protected 12 $? "$work/err" "sector 2 is write-protected"
run $sim erase --all --yes; check mass-erase-protected 12 $? "$work/err" "does not mass-erase a flash with any protected sector"
grep -q "'stm32dfu erase --sectors 0-1,3-7'" "$work/err"; check mass-erase-names-the-others 0 $?
run $sim erase --all --yes --json; check mass-erase-protected-json 12 $?
py "$work/out" 'assert d["ok"] is False and d["error"] == "STM32DFU_E_PROTECTED" and "nWRP2=1" in d["hint"], d'
check mass-erase-json-fields 0 $?
run $sim read 0x08000000 1M -o "$work/after.bin"; check dump-after-erases 0 $?
same erase-changed-nothing "$work/before.bin" "$work/after.bin"

# write covering sectors 0-1 with sector 1 protected: nothing erased, nothing written
run $sim ob set nWRP2=1 nWRP1=0; check protect-1 0 $?
run $sim read 0x08000000 1M -o "$work/before.bin"; check dump2 0 $?
run $sim write "$work/new.bin"; check write-protected 12 $? "$work/err" "sector 1 is write-protected (option bytes)"
grep -q "stm32dfu ob set nWRP1=1" "$work/err" && ! grep -q "USB" "$work/err"; check write-hint-names-option-bytes 0 $?
run $sim write "$work/new.bin" --json; check write-protected-json 12 $?
py "$work/out" 'assert d["ok"] is False and d["error"] == "STM32DFU_E_PROTECTED" and "nWRP1=1" in d["hint"], d
assert d["sectors_erased"] == 0 and d["blocked_sector"] == 1 and d["recovery_file"] is None, d
assert [x["state"] for x in d["sectors"]] == ["old", "old"], d'
check write-protected-json-fields 0 $?
run $sim read 0x08000000 1M -o "$work/after.bin"; check dump-after-write 0 $?
same write-changed-nothing "$work/before.bin" "$work/after.bin"

# unprotected again: the same erase works and reads back blank
run $sim ob set nWRP1=1; check unprotect-1 0 $?
run $sim erase --sectors 1-2; check erase-ok 0 $? "$work/out" "erase    2 sectors"
run $sim read 0x08008000 64K -o "$work/blank.bin"; check dump-blank 0 $?
python3 -c "import sys; d=open(sys.argv[1],'rb').read(); assert d == b'\xff'*len(d)" "$work/blank.bin"
check erased-is-blank 0 $?

# ---- an erase the chip reports done but did not do (worn_sector): a failure naming the address ----
worn="--sim=f746,timing=0,state=$work/worn.state,worn_sector=3"
run $worn write "$work/old.bin"; check worn-write 0 $?
run $worn erase --sectors 3; check worn-erase 10 $? "$work/err" "sector 3 at 0x08018000 is not blank after the erase"
run $worn erase --all --yes --json; check worn-mass-erase 10 $?
py "$work/out" 'assert d["ok"] is False and d["error"] == "STM32DFU_E_VERIFY" and "sector 3 at 0x08018000" in d["message"], d'
check worn-mass-erase-json 0 $?
grep -q "erase    whole flash" "$work/out"; check worn-no-false-success 1 $?

# ---- the default read-back sees a sector's first and last transfer only; --blank-check reads all
# of it: a worn 256 KiB sector holding bytes only in its middle (issue 22) ----
mid="--sim=f746,timing=0,state=$work/mid.state,worn_sector=5"
head -c 4096 /dev/urandom >"$work/mid.bin"
run $mid write -a 0x08060000 "$work/mid.bin"; check mid-write 0 $?
run $mid erase --sectors 5; check mid-erase-default 0 $?
run $mid erase --sectors 5 --blank-check; check mid-erase-blank-check 10 $? "$work/err" "is not blank after the erase"

# ---- F0: one bit per 4 KiB group (4 pages of 1 KiB) ----
f0="--sim=f0-32k,timing=0,state=$work/f0.state"
head -c 32768 /dev/urandom >"$work/f0.bin"
run $f0 write "$work/f0.bin"; check f0-write 0 $?
run $f0 ob set WRP01=0; check f0-protect 0 $?
run $f0 erase --sectors 5; check f0-erase-protected 12 $? "$work/err" "stm32dfu ob set WRP01=1"
run $f0 erase --sectors 8-11; check f0-erase-others 0 $?
run $f0 erase --all --yes; check f0-mass-erase-protected 12 $? "$work/err" "sectors 4, 5, 6, 7 are write-protected"

# ---- G4 bank 2 (issue 22): `ob set` writes the 0x1FFFF800 zone of the option-byte alt; the
# protection it sets is read before an erase and lifted the same way ----
g4="--sim=g474,timing=0,state=$work/g4.state"
run $g4 ob set WRP2A_STRT=2 WRP2A_END=2; check g4-protect-bank2 0 $?
run $g4 ob show --json; check g4-ob-show 0 $?
py "$work/out" 'f = {x["name"]: x["value"] for x in d["fields"]}
assert f["WRP2A_STRT"] == 2 and f["WRP2A_END"] == 2 and f["WRP1A_STRT"] == 0xFF, f'
check g4-ob-show-bank2 0 $?
run $g4 erase --sectors 130; check g4-erase-bank2-protected 12 $? "$work/err" "sector 130 is write-protected"
grep -q "WRP2A_STRT=0xFF WRP2A_END=0x0" "$work/err"; check g4-bank2-hint 0 $?
run $g4 erase --sectors 129; check g4-erase-bank2-other 0 $?
run $g4 ob set WRP2A_STRT=0xFF WRP2A_END=0; check g4-unprotect-bank2 0 $?
run $g4 erase --sectors 130; check g4-erase-bank2-lifted 0 $?

# ---- G0C1 bank 2 (issue 22): its ROM offers no option bytes over DFU, its USART bootloader does.
# WRP2A = bank-2 pages [1, 1] = page 129 at 0x08040800 (poked into the emulated chip's option
# bytes at 0x1FFF7858). Over USART the write is refused before any erase and names what lifts it;
# over DFU the host cannot know, the ignored programming fails the verify, and the hint names the
# protection (not the USB link) ----
g0p="poke=0x1FFF7858 01FF01FFFE00FE00"
g0u="--sim=g0c1,timing=0,link=uart,state=$work/g0.state,$g0p"
g0d="--sim=g0c1,timing=0,state=$work/g0.state,$g0p"
head -c 4096 /dev/urandom >"$work/g0.bin"
run "$g0u" read 0x08040000 8192 -o "$work/g0-before.bin"; check g0-read-before 0 $?
run "$g0u" write "$work/g0.bin" -a 0x08040800; check g0-uart-refused 12 $? "$work/err" "sector 129 is write-protected"
grep -q "WRP2A_STRT=0x7F WRP2A_END=0x0" "$work/err"; check g0-uart-hint 0 $?
run "$g0u" read 0x08040000 8192 -o "$work/g0-after.bin"; check g0-read-after 0 $?
same g0-uart-nothing-erased "$work/g0-before.bin" "$work/g0-after.bin"
run "$g0d" write "$work/g0.bin" -a 0x08040800; check g0-dfu-verify-fails 10 $? "$work/err" "write-protected page"
absent g0-dfu-not-the-link "$work/err" "USB port"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
