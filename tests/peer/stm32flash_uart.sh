#!/bin/bash
# stm32flash (Debian's, 0.7) against the emulator's USART bootloader on a pseudo-terminal
# (stm32dfu-sim --uart), both ways with our own USART stack (uart_tool):
#   - what stm32flash prints about the chip (version, option bytes, device ID, memory sizes) is what
#     it printed for the real chip in ../shared/data/uart (the REALLOG argument);
#   - stm32flash writes with verify, our stack verifies; our stack writes, stm32flash reads it back;
#   - the same both ways with the stm32dfu CLI (--port): `stm32dfu verify` passes on what stm32flash
#     wrote and fails (exit 10) once one byte differs; stm32flash reads back what `stm32dfu write` wrote
#     (a planned write that keeps the sector's other bytes: stm32flash reads those as they were);
#   - stm32flash's erase, go, readout protect (-j) and unprotect (-k) act on the emulated chip;
#   - write protection that stm32dfu set with Write Protect is lifted by stm32flash's -u.
# Usage: stm32flash_uart.sh SIM UART_TOOL PROFILE REALLOG PID
. "$(dirname "$0")/lib.sh"
TOOL=$(cd "$(dirname "${1:?uart_tool}")" && pwd)/$(basename "$1")
PROFILE=${2:?profile}
REAL=$DATA/uart/${3:?real stm32flash log}
PID=${4:?device id, as uart_tool prints it}
need stm32flash
[ -f "$REAL" ] || skip "$REAL is missing"
find_stm32dfu

# Everything runs in one testbed, so the chip keeps its memories from step to step.
cat >"$TMP/steps.sh" <<'EOS'
set -eu
T=$STM32DFU_TTY
# A pseudo-terminal cannot hold even parity (Linux's pty_set_termios clears PARENB) and stm32flash
# checks that its settings took, so it runs at 8n1 here; the emulator takes the bytes as 8E1.
M="-m 8n1"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. the probe: stm32flash's chip block, compared with the real chip's
stm32flash $M -b 115200 "$T" >probe.txt 2>&1 || { cat probe.txt; fail "stm32flash probe"; }
grep -q "Interface serial_posix: 115200 8N1" probe.txt || fail "stm32flash's interface line"
# (stm32flash 0.7 prints the device table's sizes as "Up to N", 0.5 as "N": compared without it)
sed -n '/^ *Version/,/System RAM\|System memory/p' probe.txt | sed -e 's/^ *//' -e 's/: Up to /: /' >probe.block
sed -n '/^ *Version/,/System RAM\|System memory/p' "$REAL" | sed -e 's/^ *//' -e 's/: Up to /: /' >real.block
[ -s real.block ] || fail "no chip block in $REAL"
diff -u real.block probe.block || fail "stm32flash prints the emulated chip differently from the real one"

# 2. stm32flash writes (with its per-block verify), our stack verifies
head -c 20480 /dev/urandom >a.bin
stm32flash $M -b 115200 -w a.bin -v -S 0x08000000 "$T" >w.txt 2>&1 || { cat w.txt; fail "stm32flash -w -v"; }
grep -q "Wrote and verified address 0x08005000 (100.00%) Done." w.txt || { cat w.txt; fail "stm32flash did not verify"; }
"$TOOL" "$T" 115200 verify 0x08000000 a.bin || fail "our stack does not read back what stm32flash wrote"

# 2b. the CLI verifies what stm32flash wrote; one changed byte fails it (exit 10, VERIFY_FAILED)
"$STM32DFU" --port "$T" verify a.bin -a 0x08000000 >v.txt 2>&1 || { cat v.txt; fail "stm32dfu verify of stm32flash's write"; }
cp a.bin a2.bin
printf '\x%02x' $(( ( $(od -An -tu1 -j 12345 -N1 a.bin) + 1 ) % 256 )) | dd of=a2.bin bs=1 seek=12345 conv=notrunc 2>/dev/null
cmp -s a.bin a2.bin && fail "the changed copy is not changed"
rc=0; "$STM32DFU" --port "$T" verify a2.bin -a 0x08000000 >v2.txt 2>&1 || rc=$?
[ "$rc" = 10 ] || { cat v2.txt; fail "stm32dfu verify of a changed byte: exit $rc, expected 10"; }

# 2c. the CLI writes into the sector stm32flash wrote (0x08004800..0x08005000 of sector 1, the end of
# a.bin); stm32flash reads back the new bytes and the ones the planned write kept around them
head -c 2048 /dev/urandom >c.bin
"$STM32DFU" --port "$T" write c.bin -a 0x08004800 >cw.txt 2>&1 || { cat cw.txt; fail "stm32dfu write"; }
stm32flash $M -b 115200 -r c.back -S 0x08004000:8192 "$T" >cr.txt 2>&1 || { cat cr.txt; fail "stm32flash -r"; }
{ head -c 18432 a.bin | tail -c 2048; cat c.bin; head -c 4096 /dev/zero | tr '\0' '\377'; } >c.want
cmp c.want c.back || fail "stm32flash reads something else than stm32dfu wrote (or the kept bytes changed)"

# 3. our stack writes, stm32flash reads it back
head -c 8192 /dev/urandom >b.bin
"$TOOL" "$T" 115200 write 0x08010000 b.bin || fail "our stack's write"
stm32flash $M -b 115200 -r b.back -S 0x08010000:8192 "$T" >r.txt 2>&1 || { cat r.txt; fail "stm32flash -r"; }
cmp b.bin b.back || fail "stm32flash reads something else than our stack wrote"

# 4. stm32flash's erase of the first 16 KiB sector: blank by both readers
stm32flash $M -b 115200 -o -S 0x08000000:16384 "$T" >e.txt 2>&1 || { cat e.txt; fail "stm32flash -o"; }
head -c 16384 /dev/zero | tr '\0' '\377' >blank.bin
"$TOOL" "$T" 115200 verify 0x08000000 blank.bin || fail "sector 0 is not blank after stm32flash's erase"
head -c 4096 c.want >s1.bin # sector 1 as stm32flash and then stm32dfu wrote it
"$TOOL" "$T" 115200 verify 0x08004000 s1.bin || fail "stm32flash's erase reached sector 1"

# 4b. write protection: stm32dfu sets it with Write Protect (the ROM lists 0x63: AN3155 3.9), an erase
# of that sector is refused; stm32flash's -u (Write Unprotect, 3.10) lifts it, as stm32dfu reads back
"$STM32DFU" --port "$T" ob set nWRP2=0 --trace wp.tr >wp.txt 2>&1 || { cat wp.txt; fail "stm32dfu ob set nWRP2=0"; }
grep -q "> 63 9c" wp.tr || fail "stm32dfu did not send Write Protect"
rc=0; "$STM32DFU" --port "$T" erase --sectors 2 >we.txt 2>&1 || rc=$?
[ "$rc" = 12 ] || { cat we.txt; fail "erase of the protected sector: exit $rc, expected 12"; }
stm32flash $M -b 115200 -u "$T" >u.txt 2>&1 || { cat u.txt; fail "stm32flash -u"; }
"$STM32DFU" --port "$T" ob show --json >obs.json 2>obs.err || { cat obs.err; fail "ob show after stm32flash -u"; }
python3 -c 'import json,sys; f={x["name"]: x for x in json.load(open(sys.argv[1]))["fields"]}; v=f["nWRP"]["value"]; assert v == (1 << 12) - 1 or v == 0xFF, v' obs.json ||
	fail "stm32flash -u did not lift the protection stm32dfu set"

# 5. readout protect (-j): reads refused; unprotect (-k): the flash is erased and readable
stm32flash $M -b 115200 -j "$T" >j.txt 2>&1 || { cat j.txt; fail "stm32flash -j"; }
# the chip resets after the command (t_reset); our stack's connect waits for it to take 0x7F again
"$TOOL" "$T" 115200 info >info.txt || fail "the chip does not come back after Readout Protect"
grep -q "pid $PID" info.txt || fail "Get ID under RDP"
if stm32flash $M -b 115200 -r p.bin -S 0x08010000:256 "$T" >p.txt 2>&1; then fail "read allowed under RDP"; fi
grep -q "0x11" p.txt || { cat p.txt; fail "the read was not refused by a NACK on Read Memory"; }
stm32flash $M -b 115200 -k "$T" >k.txt 2>&1 || { cat k.txt; fail "stm32flash -k"; }
"$TOOL" "$T" 115200 info >/dev/null || fail "the chip does not come back after Readout Unprotect"
head -c 8192 /dev/zero | tr '\0' '\377' >blank8.bin
"$TOOL" "$T" 115200 verify 0x08010000 blank8.bin || fail "Readout Unprotect did not erase the flash"

# 6. Go: a vector table (SP in SRAM, Thumb reset vector in flash) and the chip leaves the bootloader
printf '\x00\x00\x02\x20\x09\x00\x00\x08\xfe\xe7\xfe\xe7\xfe\xe7\xfe\xe7' >app.bin
stm32flash $M -b 115200 -w app.bin -S 0x08000000 -g 0x08000000 "$T" >g.txt 2>&1 || { cat g.txt; fail "stm32flash -g"; }
grep -q "Starting execution at address 0x08000000... done." g.txt || { cat g.txt; fail "no Go"; }
if timeout 20 stm32flash $M -b 115200 "$T" >after.txt 2>&1; then fail "the bootloader still answers after Go"; fi
echo ok
EOS
mkdir -p "$TMP/work"
export WORK=$TMP/work REAL TOOL PID STM32DFU
SIM_TIMEOUT=240 sim --uart "$PROFILE" -- bash "$TMP/steps.sh" || fail "see above"
