#!/bin/sh
# Issue 23: every command over the USART bootloader (AN3155), through the built binary: the
# in-process emulator (--sim=PROFILE,link=uart, one chip with the USB door when they share a state
# file) and stm32dfu-sim --uart's pseudo-terminal (--port, the real serial path). Each check reads
# the chip back, through the other door where it can, not only our output.
# Usage: uart.sh STM32DFU  (env: STM32DFU_PROFILE_DIR, STM32DFU_BUILD_ROOT for stm32dfu-sim)
. "$(dirname "$0")/lib.sh"

st="$work/chip.state"
usb="--sim=f746,timing=0,state=$st"
ua="--sim=f746,timing=0,link=uart,state=$st"
head -c 40000 /dev/urandom >"$work/a.bin"
head -c 5000 /dev/urandom >"$work/b.bin"

# ---- info, text and JSON: the chip from Get ID, the map from the family table ----
run $ua info; check info 0 $? "$work/out" "USART bootloader on sim at 115200 baud, 8E1"
grep -q "device ID 0x449 (AN3155 Get ID)" "$work/out"; check info-device-id 0 $?
grep -q "alt 0  Internal Flash   0x08000000  1 MiB     (4 x 32 KiB, 1 x 128 KiB, 3 x 256 KiB)" "$work/out"
check info-map 0 $?
absent info-no-usb-serial "$work/out" "(USB)"
# the ROM's version from its ID byte, as over USB (V9.0, AN2606), not AN3155's protocol version
grep -q "bootldr  V9.0 (ID byte 0x90)" "$work/out"; check info-bootldr-uart 0 $?
run $ua info --json; check info-json 0 $?
py "$work/out" 'assert d["link"] == "uart" and d["port"] == "sim-uart" and d["baud"] == 115200 and d["device_id"] == 0x449 and d["protocol"] == "3.1", d'
check info-json-link 0 $?
run $usb info --json; check info-json-usb 0 $?
py "$work/out" 'assert d["link"] == "usb", d'; check info-json-usb-link 0 $?

# ---- write over USART, verify and read through USB: one chip ----
run $ua write "$work/a.bin" --json; check write 0 $?
py "$work/out" 'assert d["verified"] and d["sectors_erased"] == 2, d'; check write-json 0 $?
# AN3155 has no status polling: no DfuSe poll report over USART
py "$work/out" 'assert d["poll"] is None, d["poll"]'; check write-json-no-poll 0 $?
run $usb verify "$work/a.bin"; check verify-usb-door 0 $? "$work/out" "the chip holds"
run $ua verify "$work/a.bin"; check verify-uart 0 $? "$work/out" "the chip holds"
run $usb read 0x08000000 40000 -o "$work/r-usb.bin"; check read-usb 0 $?
same read-usb-same "$work/r-usb.bin" "$work/a.bin"
run $ua read 0x08000000 40000 -o "$work/r-ua.bin"; check read-uart 0 $?
same read-uart-same "$work/r-ua.bin" "$work/a.bin"
# read: Read Memory data carries no checksum, so a read is confirmed (docs/usart.md)
grep -q "confirmed by a second read" "$work/out"; check read-uart-confirmed 0 $?
# where the ROM lists Get Checksum (0xA1), the chip's CRC confirms it instead
run "--sim=f746,timing=0,link=uart,state=$st,uart_commands=00 01 02 11 21 31 44 63 73 82 92 A1" \
	read 0x08000000 40000 -o "$work/r-ck.bin"
check read-checksum 0 $? "$work/out" "confirmed by the chip's checksum"
same read-checksum-same "$work/r-ck.bin" "$work/a.bin"
# a noisy serial line: the retries' warning names the serial link, not USB (campaign usart 2702).
# The image is fixed like the noise's seed: at 0.3 % of the bytes lost the write's outcome depends
# on where they fall, and a random image made this case fail now and then (a lone NACK taken for a
# refusal; data run as commands after a lost length byte: both fixed, docs/usart.md)
# (its own folder: a failure's recovery file, keyed by the profile's UID, lies beside the state
# file and must meet no other emulated chip with that UID)
mkdir -p "$work/noisy"
python3 -c 'import random,sys; r=random.Random(7); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(40000)))' >"$work/noisy/a.bin"
run --sim=f746,timing=0,link=uart,state=$work/noisy/chip.state,seed=3,uart_noise=0.003 write "$work/noisy/a.bin"
check write-noisy-warning 0 $? "$work/err" "warning: the serial link is failing: 3 transfers had to be repeated"
absent write-noisy-not-usb "$work/err" "USB link"

# ---- a planned write keeps the bytes outside the image (sector 1 half covered) ----
run $ua write "$work/b.bin" -a 0x08009000 -v; check write-partial 0 $?
absent write-no-poll-line "$work/out" "GETSTATUS"
run $usb read 0x08008000 0x1000 -o "$work/kept.bin"; check read-kept 0 $?
dd if="$work/a.bin" of="$work/kept-want.bin" bs=1 skip=32768 count=4096 2>/dev/null
same kept-bytes "$work/kept.bin" "$work/kept-want.bin"
run $usb verify "$work/b.bin" -a 0x08009000; check write-partial-usb 0 $?
run $ua verify "$work/a.bin"; check verify-mismatch 10 $?
# an image whose last block ends in erased bytes: the plan trims them on DfuSe (F7 writes bytes), but
# Write Memory takes a multiple of 4 bytes (AN3155 3.6): 1021 bytes, the last not 0xFF, on an erased
# sector (before: 'Write Memory: 253 bytes ... a multiple of 4', exit 64 after the erase)
python3 -c 'import random,sys; r=random.Random(5); sys.stdout.buffer.write(bytes(r.randrange(255) for _ in range(1021)))' >"$work/odd.bin"
run $ua write "$work/odd.bin" -a 0x08010000; check write-odd-tail 0 $?
run $usb verify "$work/odd.bin" -a 0x08010000; check write-odd-tail-usb 0 $?
run $usb read 0x080103FD 3 -o "$work/odd-after.bin"; check read-odd-after 0 $?
printf '\377\377\377' >"$work/ff3.bin"; same odd-tail-erased-after "$work/odd-after.bin" "$work/ff3.bin"

# ---- an image whose length is no multiple of 4, in an erased sector: Write Memory takes whole words
# (AN3155 3.6), so the last block is padded with the erased bytes after it ----
printf 'abc' >"$work/three.bin"
run $ua write "$work/three.bin" -a 0x08040000; check write-3-bytes 0 $?
run $usb verify "$work/three.bin" -a 0x08040000; check write-3-bytes-usb 0 $?
run $usb read 0x08040003 1 -o "$work/after3.bin"; check write-3-bytes-read 0 $?
printf '\377' >"$work/after3-want.bin"
same write-3-bytes-erased-after "$work/after3.bin" "$work/after3-want.bin"

# ---- RAM and OTP of any length: whole words on the wire (AN3155 3.6), the bytes around kept (RAM:
# read first; F7 OTP: 0xFF, which clears no bit). RAM over USART was refused as "SRAM (alt 3)" ----
printf 'abcde' >"$work/five.bin"
run $ua write "$work/five.bin" -a 0x20004001; check ram-5-bytes 0 $? "$work/out" "verify   5 bytes"
run $ua write "$work/five.bin" -a 0x1FF0F001; check otp-needs-flag 11 $? "$work/err" "i-understand-otp-is-permanent"
run $ua write "$work/five.bin" -a 0x1FF0F001 --i-understand-otp-is-permanent; check otp-5-bytes 0 $?
printf '\022' >"$work/one.bin"
run $ua write "$work/one.bin" -a 0x1FF0F000 --i-understand-otp-is-permanent; check otp-1-byte 0 $?
run $usb read 0x1FF0F000 8 -o "$work/otp8.bin"; check otp-read 0 $?
printf '\022abcde\377\377' >"$work/otp8-want.bin"
same otp-bytes-kept "$work/otp8.bin" "$work/otp8-want.bin"

# ---- a bank-mode change over USART (F76x nDBANK, RM0410 3.3.2): the chip resets into the other
# organisation and both doors list it (the emulator's bank_alt) ----
db="$work/db.state"
run --sim=f767-db,timing=0,link=uart,state=$db ob set nDBANK=1; check nDBANK-1 0 $? "$work/out" "verified"
run --sim=f767-db,timing=0,state=$db info; check nDBANK-1-usb 0 $? "$work/out" "(4 x 32 KiB, 1 x 128 KiB, 7 x 256 KiB)"
run --sim=f767-db,timing=0,link=uart,state=$db info; check nDBANK-1-uart 0 $? "$work/out" "(4 x 32 KiB, 1 x 128 KiB, 7 x 256 KiB)"
run --sim=f767-db,timing=0,link=uart,state=$db ob set nDBANK=0; check nDBANK-0 0 $?
run --sim=f767-db,timing=0,state=$db info; check nDBANK-0-usb 0 $? "$work/out" "7 x 128 KiB, 4 x 16 KiB"

# ---- erase: a range keeps the rest of its sector; a mass erase reads back blank ----
run $ua erase 0x08009000 100; check erase-range 0 $? "$work/out" "the rest of it kept"
run $usb verify "$work/b.bin" -a 0x08009064 --force 2>/dev/null
run $ua erase --all --yes; check erase-all 0 $? "$work/out" "erase    whole flash"
run $usb read 0x08000000 40000 -o "$work/blank.bin"; check read-blank 0 $?
python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); assert d == b"\xff"*len(d)' "$work/blank.bin"
check erase-all-blank 0 $?

# ---- leave: Go acknowledged, said as such (nothing is sent after it) ----
run $ua leave 0x08000000; check leave 0 $? "$work/out" "acknowledged the Go command"

# ---- option bytes and protection over USART: the same ops/ code and guards as USB ----
# ob set: Write Memory to the option bytes, the chip resets, 0x7F again, read back; the USB door
# reads the same chip's new value
run $ua ob set BOR_LEV=level1 --json; check ob-set 0 $?
py "$work/out" 'assert d["written"] and d["verified"] and d["ok"] and d["method"] == "block", d'; check ob-set-json 0 $?
run $usb ob show --json; check ob-show-usb-door 0 $?
py "$work/out" 'f = {x["name"]: x for x in d["fields"]}; assert f["BOR_LEV"]["value"] == 2, f["BOR_LEV"]'
check ob-set-seen-through-usb 0 $?
# write protection set over USART: an erase of that sector is refused before anything is sent
run $ua write "$work/a.bin"; check ob-wrp-write 0 $?
# (the F7 ROM's GET lists Write Protect 0x63 and Write Unprotect 0x73: a change of nWRP alone is one
# of them, AN3155 3.9-3.10, not a Write Memory of the block; the block is read back after the reset)
run $ua ob set nWRP1=0 --trace "$work/wp.tr"; check ob-wrp-set 0 $? "$work/out" "verified"
grep -q "by the ROM's Write Protect command (0x63)" "$work/out"; check ob-wrp-set-says-how 0 $?
grep -q "> 63 9c" "$work/wp.tr" && ! grep -q "> 31 ce" "$work/wp.tr"; check ob-wrp-by-write-protect 0 $?
run $usb ob show --json; check ob-wrp-usb-door 0 $?
py "$work/out" 'f = {x["name"]: x for x in d["fields"]}; assert f["nWRP"]["value"] == 0xFD, f["nWRP"]'
check ob-wrp-seen-through-usb 0 $?
run $ua erase --sectors 1; check ob-wrp-erase-refused 12 $? "$work/err" "sector 1 is write-protected (option bytes)"
run $usb verify "$work/a.bin"; check ob-wrp-kept 0 $?
run $ua ob set nWRP1=1 --trace "$work/wu.tr" --json; check ob-wrp-lifted 0 $? "$work/out" '"verified": true'
py "$work/out" 'assert d["method"] == "write_unprotect", d'; check ob-wrp-lifted-json 0 $?
grep -q "> 73 8c" "$work/wu.tr" && ! grep -q "> 31 ce" "$work/wu.tr"; check ob-wrp-by-write-unprotect 0 $?
# a ROM that does not list them: the block, by Write Memory
nowp="--sim=f746,timing=0,link=uart,state=$work/nowp.state,uart_commands=00 01 02 11 21 31 44 82 92"
run "$nowp" ob set nWRP2=0 --trace "$work/nowp.tr"; check ob-wrp-no-63 0 $? "$work/out" "verified"
grep -q "by a write of the option-byte block" "$work/out"; check ob-wrp-no-63-says-how 0 $?
grep -q "> 31 ce" "$work/nowp.tr" && ! grep -q "> 63 9c" "$work/nowp.tr"; check ob-wrp-no-63-block 0 $?
# the guards: RDP 1 and RDP 2 need their flags, checked before any byte is written
run $ua ob set RDP=level1; check rdp1-needs-flag 11 $? "$work/err" "i-understand-rdp1-needs-mass-erase"
run $usb verify "$work/a.bin"; check rdp1-refused-changed-nothing 0 $?
run $ua ob set RDP=level1 --i-understand-rdp1-needs-mass-erase --json; check rdp1-set 0 $?
py "$work/out" 'assert d["written"] and d["protection_active"] and d["ok"], d'; check rdp1-set-json 0 $?
run $ua read 0x08000000 16 -o "$work/r-rdp.bin"; check rdp1-read-refused 12 $? "$work/err" "unprotect --yes"
run $ua info --json; check rdp1-info 0 $?
py "$work/out" 'assert d["rdp_level"] == 1, d'; check rdp1-info-level 0 $?
# unprotect: Readout Unprotect (mass erase, reset, 0x7F again): level 0, blank flash, defaults
run $ua unprotect; check unprotect-needs-yes 11 $? "$work/err" "add --yes"
run $ua unprotect --yes --json; check unprotect 0 $?
py "$work/out" 'assert d["rdp_after"] == 0 and d["flash_erased"] and d["option_bytes_default"] and d["reconnects"] == 1, d'
check unprotect-json 0 $?
run $usb read 0x08000000 40000 -o "$work/unprot.bin"; check unprotect-read-usb 0 $?
python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); assert d == b"\xff"*len(d)' "$work/unprot.bin"
check unprotect-flash-blank 0 $?
# RDP 2 over USART: refused without its flag; with it, an F407 resets into no bootloader at all
# (RM0090 3.7.3: no boot from system memory), the host says so, and nothing answers 0x7F after
st2="$work/rdp2.state"
f4="--sim=f407,timing=0,link=uart,state=$st2"
run $f4 ob set RDP=level2; check rdp2-needs-flag 11 $? "$work/err" "i-understand-rdp2-is-permanent"
run $f4 ob set RDP=level2 --i-understand-rdp2-is-permanent --json; check rdp2-set 0 $?
py "$work/out" 'assert d["written"] and d["bootloader_gone"], d'; check rdp2-gone 0 $?
run $f4 info; check rdp2-no-bootloader 74 $? "$work/err" "no answer to 0x7F"
# the F74x ROM still boots at level 2 and answers Get, Get Version and Get ID only (AN2606 F74x,
# protocol.md 3.5): the write is confirmed by the refused reads, and info says level 2
st3="$work/rdp2-f7.state"
f7="--sim=f746,timing=0,link=uart,state=$st3"
run $f7 ob set RDP=level2 --i-understand-rdp2-is-permanent --json; check rdp2-f7-set 0 $?
py "$work/out" 'assert d["written"] and d["protection_active"] and not d["bootloader_gone"], d'
check rdp2-f7-json 0 $?
run $f7 info --json; check rdp2-f7-info 0 $?
py "$work/out" 'assert d["rdp_level"] == 2 and d["device_id"] == 0x449, d'; check rdp2-f7-level 0 $?
run $f7 read 0x08000000 16 -o "$work/r2.bin"; check rdp2-f7-read-refused 12 $?

# ---- --trace: every byte each way, complete ----
run $ua info --trace "$work/trace.txt"; check trace 0 $?
grep -q "> 7f" "$work/trace.txt" && grep -q "< 79" "$work/trace.txt"; check trace-bytes 0 $?

# ---- bad input and faults: clear errors, docs/exit-codes.md codes ----
run --port "$work/no-such-tty" info; check no-port 69 $? "$work/err" "no such port"
run --sim=f746,uart_mode=silent,link=uart info; check silent 74 $? "$work/err" "is BOOT0 high"
grep -q "TX and RX crossed" "$work/err"; check silent-rxtx-hint 0 $?
grep -q "DTR/RTS to NRST/BOOT0 needs --reset-seq" "$work/err"; check silent-reset-seq-hint 0 $?
run --sim=f746,uart_mode=echo,link=uart info; check echo 76 $? "$work/err" "BOOT0 low"
run --sim=f746,link=uart --baud 460800 info; check baud-too-fast 74 $? "$work/err" "try --baud"
run --baud 9600 info; check baud-without-port 64 $? "$work/err" "give --port"
run --port /dev/null --sim info; check port-and-sim 64 $? "$work/err" "two different chips"
run --sim=f746,link=radio info; check bad-link 64 $? "$work/err" "usb or uart"

# ---- the real serial path: stm32dfu-sim --uart's pseudo-terminal ----
simexe=${STM32DFU_BUILD_ROOT:-}/stm32dfu-sim
if [ -x "$simexe" ]; then
	cat >"$work/pty.sh" <<PTY
set -u
t="$tool"
"\$t" --port "\$STM32DFU_TTY" write "$work/b.bin" -a 0x08008000 -q || exit 11
"\$t" --port "\$STM32DFU_TTY" verify "$work/b.bin" -a 0x08008000 -q || exit 12
"\$t" --port "\$STM32DFU_TTY" read 0x08008000 5000 -o "$work/pty-r.bin" -q || exit 13
cmp -s "$work/pty-r.bin" "$work/b.bin" || exit 14
"\$t" --port "\$STM32DFU_TTY" --json info >"$work/pty-info.json" || exit 15
exit 0
PTY
	"$simexe" --uart f746,timing=0 -- sh "$work/pty.sh" >"$work/out" 2>"$work/err"
	check pty-write-verify-read 0 $?
	py "$work/pty-info.json" 'assert d["link"] == "uart" and d["port"].startswith("/dev/pts/"), d'
	check pty-info-port 0 $?
else
	echo "SKIP pty part: no stm32dfu-sim in \$STM32DFU_BUILD_ROOT"
fi

# ---- a line too noisy for the retries: the warning and the hint name the serial line, not USB ----
# (each chip in a folder of its own: a failed write's recovery file, keyed by the profile's UID,
# lies beside its state file and must not meet another emulated chip with the same UID)
mkdir -p "$work/giveup" "$work/worn"
run "--sim=f746,timing=0,link=uart,state=$work/giveup/chip.state,uart_noise=0.03,seed=3" write "$work/noisy/a.bin"
check noisy-gives-up 74 $? "$work/err" "the serial line keeps failing"
absent noisy-not-usb "$work/err" "USB"
absent noisy-not-upload "$work/err" "UPLOAD"
# a sector that does not erase (worn_sector): the chip's refusal is named in USART's words
run "--sim=f746,timing=0,link=uart,state=$work/worn/chip.state" write "$work/a.bin"; check worn-first 0 $?
head -c 40000 /dev/urandom >"$work/c.bin"
run "--sim=f746,timing=0,link=uart,state=$work/worn/chip.state,worn_sector=1" write "$work/c.bin"
check worn-verify 10 $? "$work/err" "a NACK, or a sector that reads back wrong"
absent worn-not-dfu "$work/err" "DFU error status"

# ---- a write of the F407's whole flash, nothing kept: one mass erase (Extended Erase 0xFFFF), 16 s
# against 16.8 s of sectors (DS8626); the chip then holds the image, read through the USB door. The
# F746's sectors are faster (8.7 s against 16 s, DS10916): no mass erase there ----
head -c 1048576 /dev/urandom >"$work/full.bin"
run "--sim=f407,timing=0,link=uart,state=$work/f407.state" -v write "$work/full.bin" -a 0x08000000
check write-full-mass 0 $? "$work/err" "plan: one mass erase (typically 16000 ms) instead of 12 sector erases (16800 ms; DS8626)"
run "--sim=f407,timing=0,state=$work/f407.state" verify "$work/full.bin" -a 0x08000000; check write-full-mass-usb 0 $?
run "--sim=f746,timing=0,link=uart,state=$work/f746full.state" -v write "$work/full.bin" -a 0x08000000
check write-full-f746 0 $?
absent write-full-f746-sectors "$work/err" "mass erase"
# the G474 (dual bank, 256 x 2 KiB): the mass erase needs the write protection of both banks, whose
# option bytes are two zones (0x1FFF7800, 0x1FFFF800); 22 ms against 256 x 22 ms (DS12288)
head -c 524288 "$work/full.bin" >"$work/full512.bin"
run "--sim=g474,timing=0,link=uart,state=$work/g474full.state" -v write "$work/full512.bin" -a 0x08000000
check write-full-g474-mass 0 $? "$work/err" "plan: one mass erase (typically 22 ms) instead of 256 sector erases (5632 ms; DS12288)"
run "--sim=g474,timing=0,state=$work/g474full.state" verify "$work/full512.bin" -a 0x08000000; check write-full-g474-usb 0 $?
run "--sim=g474,timing=0,link=uart,state=$work/g474full.state" info
check info-g474-ob-zones 0 $? "$work/out" "Option Bytes.*0x1FFF7800"
grep -q "0x1FFFF800" "$work/out"; check info-g474-ob-zone2 0 $? "$work/out" "."
# bank 2's write protection is read from that zone: with page 128 (bank 2's first) protected, a
# whole-flash write is refused before any erase, naming it
run "--sim=g474,timing=0,link=uart,state=$work/g474full.state" ob set WRP2A_STRT=0 WRP2A_END=0
check ob-g474-wrp2 0 $?
tail -c 524288 "$work/full.bin" >"$work/full512b.bin" # other bytes: every page to erase again
run "--sim=g474,timing=0,link=uart,state=$work/g474full.state" write "$work/full512b.bin" -a 0x08000000 --no-log
check write-full-g474-wrp2 12 $? "$work/err" "sector 128 is write-protected (option bytes)"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
