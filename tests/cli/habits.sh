#!/bin/sh
# Habits users bring from dfu-util and STM32CubeProgrammer (issue 15), through the built binary
# against the emulator: selection, progress, inputs checked before the work, other memories,
# option-byte values, docs and completion.
# Usage: habits.sh STM32DFU  (env: STM32DFU_PROFILE_DIR, STM32DFU_SHARED_DATA)
. "$(dirname "$0")/lib.sh"
sim="--sim=f746,timing=0,state=$work/chip.state"

# --- 1. selection: --sim honours -d, -p and -S as USB does --------------------------------------
run $sim -d 1234:5678 info; check sim-d-other 69 $? "$work/err" "the emulated device is 0483:df11"
run $sim -d 0483:df11 info; check sim-d-same 0 $?
run $sim -p 9-9 read 0x08000000 16 -o "$work/x.bin"; check sim-p-other 69 $? "$work/err" "no DFU device at path 9-9"
run $sim -p sim info; check sim-p-sim 0 $?
run $sim -S 000000000000000000000000 info; check sim-S-uid-other 69 $? "$work/err" "UID given with -S"
run $sim -S "00220036 3436510D 33323730" info; check sim-S-uid-same 0 $? "$work/out" "00220036 3436510D 33323730"
run $sim -S NOSUCHSERIAL info; check sim-S-serial-other 69 $? "$work/err" "serial is 335437663436"
run $sim -S 335437663436 info; check sim-S-serial-same 0 $?
# none found is exit 69 on every platform, said on stderr (stdout empty); --json prints the failure document
run $sim -d 1234:5678 list; check sim-list-d-other 69 $? "$work/err" "no DFU device matches the -d/-p/-S given"
[ ! -s "$work/out" ]; check sim-list-d-other-stdout-empty 0 $?
run $sim -p 9-9 list --json; check sim-list-p-other 69 $?
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is False and d["error"] == "STM32DFU_E_NO_DEVICE", d' "$work/out"; check sim-list-p-other-failure-doc 0 $?
# the F0 ROM is found in dfuERROR; list says so, and that it cleared it (docs/list.md)
run --sim=f0-32k,timing=0,state=$work/f0.state list; check list-found-state 0 $? "$work/out" "found in dfuERROR (errFIRMWARE), cleared to dfuIDLE"

# --- 2. progress people can follow --------------------------------------------------------------
# off a terminal (stderr is a file here): a line every few seconds per phase, with rate and ETA
head -c 400000 /dev/urandom >"$work/p.bin"
slow="--sim=f746,timing=0.2,state=$work/slow.state"
# (--poll spec: the bwPollTimeouts make the write last long enough for several lines)
run $slow write "$work/p.bin" --poll spec; check progress-lines 0 $? "$work/err" "^program:  *[0-9]*% [0-9]*/390 KiB .*KiB/s ETA 0:0"
grep -q "^program: 100% 390/390 KiB" "$work/err"; check progress-closing-line 0 $?
run $slow write "$work/p.bin" -q; check progress-quiet 0 $?
[ ! -s "$work/err" ]; check progress-quiet-silent 0 $?
# a mass erase answers busy until it is over: time-based progress from the family's typical time
# (DS10916: 16 s at the ROM's default x8 parallelism; the emulator runs 5 times faster here). The
# elapsed time is not asserted: a loaded machine prints the first line late
run $slow erase --all --yes; check progress-mass-erase 0 $? "$work/err" "^erase:  *[0-9]*% [1-9][0-9]* s of about 16 s typical"
grep -q "^erase: 100% done in [0-9.]* s" "$work/err"; check progress-mass-erase-done 0 $?
# on a terminal: the bar carries the ETA (script(1) gives the tool a terminal)
if command -v script >/dev/null 2>&1; then
	script -qec "'$tool' $slow write '$work/p.bin' --full" /dev/null >"$work/tty" 2>&1
	check progress-tty 0 $? "$work/tty" "program  \[#*\.*\]  *[0-9]*% .* ETA 0:0"
fi
# a failing link is named early, with doctor, not only at the end
run --sim=f746,timing=0,fault_rate=0.02,seed=3,state=$work/flaky.state write "$work/p.bin"
check retry-warning 0 $? "$work/err" "warning: the USB link is failing: 3 transfers had to be repeated so far (the work goes on); 'stm32dfu doctor'"

# --- 3. inputs checked before any work -----------------------------------------------------------
printf ':020000040800F2\n:10000000000102030405060708090A0B0C0D0E0F78\n:00000001FF\n' >"$work/fw.bin"
cp "$work/fw.bin" "$work/fw.hex"
run $sim write "$work/fw.bin"; check hex-named-bin 65 $? "$work/err" "fw.bin is named as a raw binary file but holds Intel HEX"
grep -q "\-\-format bin" "$work/err"; check hex-named-bin-hint 0 $?
run $sim write "$work/fw.bin" --format hex; check format-override 0 $? "$work/out" "verify"
run $sim verify "$work/fw.hex"; check hex-went-where-it-says 0 $?
run $sim write "$work/fw.hex" -a 0x08000000; check a-with-hex 64 $? "$work/err" "carries its own addresses"
run file info "$work/fw.hex" -a 0x08000000; check a-with-hex-file-info 64 $?
run $sim write /dev/zero; check not-regular 66 $? "$work/err" "/dev/zero is not a regular file"
if truncate -s 3G "$work/sparse.bin" 2>/dev/null; then
	start=$(date +%s)
	run $sim write "$work/sparse.bin"; check huge-file 65 $? "$work/err" "more than any firmware file can be"
	[ $(( $(date +%s) - start )) -le 2 ]; check huge-file-at-once 0 $?
	rm -f "$work/sparse.bin"
fi
# reads: the map and the alt count are checked before anything is sent, and the map is shown
run $sim read 0x080F0000 128K -o "$work/r.bin"; check read-past-flash 65 $? "$work/err" "runs past the end of Internal Flash at 0x08100000"
grep -q "alt 0  Internal Flash   0x08000000  1 MiB" "$work/err"; check read-past-flash-map 0 $?
run $sim read 0x08000000 16 --alt 7 -o "$work/r.bin"; check read-bad-alt 64 $? "$work/err" "the device has 4 alternate settings"
run $sim read 0x1FF0F420 12 -o "$work/uid.bin"; check read-uid-outside-map 0 $?
# RAM is served without being listed (AN2606 Table 5): readable without --force
run $sim read 0x20010000 256 -o "$work/ram.bin"; check read-ram 0 $?
[ "$(stat -c %s "$work/ram.bin")" = 256 ]; check read-ram-size 0 $?
[ "$(od -An -tx1 "$work/uid.bin" | tr -d ' \n')" = "36002200 0d513634 30373233" ] || [ "$(od -An -tx1 "$work/uid.bin" | tr -d ' \n')" = "360022000d51363430373233" ]; check read-uid-bytes 0 $?
run $sim read 0xE0042000 4 -o "$work/r.bin"; check read-hang-refused 65 $? "$work/err" "hangs the STM32F74x/F75x ROM bootloader"
run $sim read 0xE0042000 4 --force --retries 0 -o "$work/r.bin"; check read-hang-forced 74 $? "$work/err" "power-cycle the board"
run $sim read 0x08000000 1M -o "$work/no/such/dir/r.bin"; check read-out-dir 73 $? "$work/err" "cannot create the file in"
[ ! -s "$work/out" ]; check read-out-dir-before-read 0 $?
"$tool" $sim read 0x08000000 16 -o - >"$work/stdout.bin" 2>"$work/err"; check read-stdout 0 $? "$work/err" "into standard output"
"$tool" $sim read 0x08000000 16 -o "$work/file16.bin" -q; cmp -s "$work/stdout.bin" "$work/file16.bin"; check read-stdout-bytes 0 $?
run $sim read 0x08000000 16 -o "$work/x.elf"; check read-elf-out 64 $?
run $sim read 0x08000000 16 -o "$work/x.txt"; check read-txt-out 64 $?
# erase: exactly the range asked (the rest of its sector kept), each listed sector once
run $sim erase 0x08008000 100; check erase-span 0 $? "$work/out" "0x08008000-0x08008063 (100 bytes)"
run $sim erase --sectors 0-2,1,2 --json; check erase-dedupe 0 $? "$work/out" '"sectors": 3'
# wording
run $sim leave 0x30000000; check leave-once 76 $?
grep -q "leave: leave:" "$work/err"; check leave-no-double-prefix 1 $?
head -c 64 /dev/urandom >"$work/small.bin"
run file info "$work/small.bin"; check file-info-bin-at-flash 0 $? "$work/out" "span     0x08000000-0x0800003F"

# --- 5. option bytes: one meaning for FIELD=VALUE ------------------------------------------------
ob="--sim=f746,timing=0,state=$work/ob.state"
# a number is the raw field value, decimal or hex alike (RM0385: BOR_LEV 10 = level 1)
run $ob ob set BOR_LEV=2 --dry-run; check ob-decimal 0 $? "$work/out" "-> 0x2 (BOR level 1"
run $ob ob set BOR_LEV=0x2 --dry-run; check ob-hex 0 $? "$work/out" "-> 0x2 (BOR level 1"
# named values are words, and ob show lists them
run $ob ob set BOR_LEV=level2 --dry-run; check ob-word 0 $? "$work/out" "-> 0x1 (BOR level 2"
run $ob ob show; check ob-show-words 0 $? "$work/out" "BOR_LEV      level3, level2, level1, off"
grep -q "RDP          level0, level1, level2" "$work/out"; check ob-show-rdp-words 0 $?
run $ob ob show --json; check ob-show-json 0 $?
python3 -c 'import json,sys; f={x["name"]: x for x in json.load(open(sys.argv[1]))["fields"]}; assert f["BOR_LEV"]["named_values"] == ["level3","level2","level1","off"], f["BOR_LEV"]' "$work/out"
check ob-show-json-words 0 $?
# every field says what its value does, text and JSON alike, as the manual words it (issue 24 item 5):
# RM0351 §3.7.8 FLASH_OPTR on the L43x: BOR level 0 ~1.7 V, nRST_STOP = 1 no reset in Stop, SRAM2_RST
# = 1 SRAM2 kept, WRP area empty while start > end (§3.5.2)
l4="--sim=l43x,timing=0,state=$work/l4.state"
run $l4 ob show --json; check ob-show-l4-json 0 $?
python3 - "$work/out" <<'PY'
import json, re, sys
f = {x["name"]: x for x in json.load(open(sys.argv[1]))["fields"]}
assert "1.7 V" in f["BOR_LEV"]["meaning"], f["BOR_LEV"]
assert "no reset on entering Stop mode" == f["nRST_STOP"]["meaning"], f["nRST_STOP"]
assert "kept" in f["SRAM2_RST"]["meaning"], f["SRAM2_RST"]
assert "no write-protected area" in f["WRP1A_STRT"]["meaning"], f["WRP1A_STRT"]
for name, x in f.items():
    assert not re.fullmatch(r"0x[0-9A-Fa-f]+", x["meaning"]), (name, x["meaning"])
PY
check ob-show-l4-json-meanings 0 $?
run $l4 ob show; check ob-show-l4-text 0 $? "$work/out" "nBOOT1 .*with BOOT0 = 1: boot from system memory"
# the library's hints reach the command line in its words (issue 24 item 14): the flag, the command
run $ob ob set RDP=level2 --dry-run; check cli-words-confirm 11 $? "$work/err" "hint: add --i-understand-rdp2-is-permanent if this is what you want"
absent cli-words-no-lib-confirm "$work/err" "STM32DFU_CONFIRM"
run $ob read 0x60000000 16 -o "$work/x.bin"; check cli-words-force 65 $? "$work/err" "hint: the memory map is shown below; --force reads outside it"
absent cli-words-no-token "$work/err" "{@"
# RDP=1 would be the raw byte 0x01: refused, the word named
run $ob ob set RDP=1; check ob-rdp-digit 64 $? "$work/err" "RDP=1 is the raw byte 0x01"
grep -q "hint: RDP=level1" "$work/err"; check ob-rdp-digit-hint 0 $?
# -q: no diff, no result line
run $ob ob set BOR_LEV=level1 -q; check ob-quiet 0 $?
[ ! -s "$work/out" ]; check ob-quiet-silent 0 $?
run $ob ob show; check ob-quiet-written 0 $? "$work/out" "BOR_LEV      0x2"
# RDP level 2 disables the bootloader (issue 22 item 3; PM0059, RM0440, AN2606): after the
# option-byte launch the chip leaves the bus for good; ob set says so, and nothing later calls it
# level 1 or suggests unprotect: the chip is simply not there
rdp2="--sim=f746,timing=0,state=$work/rdp2.state,serial=HABITSRDP2"
XDG_STATE_HOME=$work/xdg run $rdp2 ob set RDP=level2 --i-understand-rdp2-is-permanent; check ob-rdp2 0 $? "$work/out" "left the bus for good"
XDG_STATE_HOME=$work/xdg run $rdp2 ob set RDP=level2 --i-understand-rdp2-is-permanent
check ob-rdp2-again-gone 69 $? "$work/err" "RDP level 2"
for cmd in info "ob show" "write $work/p.bin"; do
	XDG_STATE_HOME=$work/xdg run $rdp2 $cmd; check "rdp2-$cmd" 69 $? "$work/err" "disables the bootloader"
	! grep -q "unprotect" "$work/err" "$work/out"; check "rdp2-$cmd-no-unprotect" 0 $?
done
# another chip that refuses reads (level 1, never noted) still says level 1
rdp1="--sim=f746,timing=0,state=$work/rdp1.state,serial=HABITSRDP1"
XDG_STATE_HOME=$work/xdg run $rdp1 ob set RDP=level1 --i-understand-rdp1-needs-mass-erase -q; check ob-rdp1 0 $?
XDG_STATE_HOME=$work/xdg run $rdp1 info; check info-rdp1 0 $? "$work/out" "RDP      level 1 (read-protected)"

# --- 6. docs and completion ------------------------------------------------------------------------
run help-man; check man 0 $?
sed -n '/^\.SH SEE ALSO/,/^\.SH/p' "$work/out" | grep -o '^\.BR [^ ]*' | sed 's/^\.BR //; s/\\//g' >"$work/seealso"
absent man-no-sim-page "$work/seealso" "stm32dfu-sim"
[ -s "$work/seealso" ]; check man-see-also-nonempty 0 $?
if command -v man >/dev/null 2>&1 && man -w dfu-util >/dev/null 2>&1; then
	while read -r page; do man -w "$page" >/dev/null 2>&1; check "man-page-exists-$page" 0 $?; done <"$work/seealso"
fi
if command -v bash >/dev/null 2>&1; then
	"$tool" help-completion >"$work/comp.bash"
	mkdir -p "$work/bin" && ln -sf "$(readlink -f "$tool")" "$work/bin/stm32dfu"
	# complete LINE...: the words the completion offers for the last word of LINE
	complete_words() {
		PATH="$work/bin:$PATH" bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _stm32dfu; printf "%s\n" "${COMPREPLY[@]}"' _ "$work/comp.bash" "$@"
	}
	complete_words stm32dfu ob set "" >"$work/out"; check complete-ob-set 0 $? "$work/out" "^BOR_LEV=$"
	grep -q "^RDP=$" "$work/out"; check complete-ob-set-rdp 0 $?
	complete_words stm32dfu ob "" >"$work/out"; check complete-ob-sub 0 $? "$work/out" "^set$"
	complete_words stm32dfu --sim = "" >"$work/out"; check complete-sim-profiles 0 $? "$work/out" "^f746$"
	grep -q "^gd32vf103$\|^f0-32k$" "$work/out"; check complete-sim-profiles-more 0 $?
	complete_words stm32dfu --sim = f7 >"$work/out"; check complete-sim-prefix 0 $? "$work/out" "^f746$"
	absent complete-sim-prefix-only "$work/out" "^f407$"
	complete_words stm32dfu -S "" >"$work/out"; check complete-after-S 0 $?
	[ -z "$(tr -d '\n' <"$work/out")" ]; check complete-after-S-nothing 0 $?
	complete_words stm32dfu -S 0123 "" >"$work/out"; check complete-after-S-value 0 $? "$work/out" "^write$"
	complete_words stm32dfu -S 0123 info "" >"$work/out"; check complete-S-then-cmd 0 $? "$work/out" "^--json$"
	absent complete-S-then-cmd-no-subcommands "$work/out" "^write$"
	PATH="$work/bin:$PATH" bash -c '. "$1"; COMP_WORDS=(stm32dfu-sim --profile ""); COMP_CWORD=2; _stm32dfu_sim; printf "%s\n" "${COMPREPLY[@]}"' _ "$work/comp.bash" >"$work/out"
	check complete-sim-tool-profile 0 $? "$work/out" "^f746$"
fi
# the verify error path frees its session (LeakSanitizer found 1.5 MB under make asan)
"$tool" file convert "$work/small.bin" "$work/other.dfu" -a 0x08000000 --vid 0x1234 --pid 0x5678 -q >/dev/null 2>&1
run $sim verify "$work/other.dfu"; check verify-vid-mismatch 65 $? "$work/err" "is made for device 1234:5678"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
