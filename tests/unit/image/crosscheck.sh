#!/bin/sh
# Cross-checks of src/image with independent tools (binutils objcopy, Debian's dfu-suffix).
# usage: crosscheck.sh IMG_CONVERT SHARED_DATA_DIR. Exit 77 (skipped) when a tool is missing.
set -eu
conv=$1
data=$2
for t in objcopy dfu-suffix cmp od; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not installed"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*"; exit 1; }

# a random 100 KiB payload
head -c 102400 /dev/urandom >in.bin

# objcopy's ihex, srec and ELF of it give the same bytes as objcopy -O binary, through ours
objcopy -I binary -O ihex --change-addresses 0x08000000 in.bin ref.hex
objcopy -I binary -O srec --change-addresses 0x08000000 in.bin ref.srec
objcopy -I binary -O elf32-little --change-addresses 0x08000000 in.bin ref.elf
for f in ref.hex ref.srec ref.elf; do
	objcopy -O binary "$f" "$f.objcopy.bin" 2>/dev/null || objcopy -I ihex -O binary "$f" "$f.objcopy.bin"
	"$conv" "$f" "$f.ours.bin" || fail "ours cannot convert $f"
	cmp "$f.objcopy.bin" "$f.ours.bin" || fail "$f: ours differs from objcopy -O binary"
	cmp in.bin "$f.ours.bin" || fail "$f: not the original bytes"
done

# a linked ARM executable: .text in flash, .data with VMA in RAM and LMA in flash (AT>)
if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
	cat >fw.c <<'C'
int counter = 0x12345678;
const char banner[] = "stm32dfu cross-check";
int bss_var;
void Reset_Handler(void) { for (;;) { counter++; bss_var += banner[counter & 7]; } }
C
	cat >fw.ld <<'L'
MEMORY { FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 64K
         RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 16K }
ENTRY(Reset_Handler)
SECTIONS {
  .text : { *(.text*) *(.rodata*) } > FLASH
  .data : { *(.data*) } > RAM AT> FLASH
  .bss : { *(.bss*) *(COMMON) } > RAM
}
L
	arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -O1 -nostdlib -T fw.ld fw.c -o fw.elf
	arm-none-eabi-objcopy -O binary fw.elf fw.objcopy.bin
	"$conv" fw.elf fw.ours.bin || fail "ours cannot convert fw.elf"
	cmp fw.objcopy.bin fw.ours.bin || fail "fw.elf: ours differs from arm-none-eabi-objcopy"
	arm-none-eabi-objcopy -O ihex fw.elf fw.hex
	"$conv" fw.hex fw.hex.bin --fill 0
	cmp fw.objcopy.bin fw.hex.bin || fail "fw.hex: differs from objcopy -O binary"
else
	echo "note: arm-none-eabi-gcc not installed, linked-ELF check skipped"
fi

# our hex and srec are accepted by objcopy and give back the same bytes
"$conv" -a 0x08000000 in.bin ours.hex
"$conv" -a 0x08000000 in.bin ours.srec
objcopy -I ihex -O binary ours.hex ours.hex.objcopy.bin
objcopy -I srec -O binary ours.srec ours.srec.objcopy.bin
cmp in.bin ours.hex.objcopy.bin || fail "objcopy reads our hex differently"
cmp in.bin ours.srec.objcopy.bin || fail "objcopy reads our srec differently"

# a .dfu we write passes dfu-suffix -c (suffix and CRC)
"$conv" -a 0x08000000 in.bin ours.dfu --vid 0x0483 --pid 0xdf11 --name "Internal Flash"
dfu-suffix -c ours.dfu >check.txt 2>&1 || { cat check.txt; fail "dfu-suffix -c rejects our .dfu"; }
grep -qi '0483' check.txt || { cat check.txt; fail "dfu-suffix does not show our VID"; }
"$conv" "$data/firmware/fwupd_dev_VRBRAIN.dfu" vr.dfu
dfu-suffix -c vr.dfu >/dev/null 2>&1 || fail "dfu-suffix -c rejects our rewritten VRBRAIN"
cmp vr.dfu "$data/firmware/fwupd_dev_VRBRAIN.dfu" || fail "VRBRAIN round trip not byte-exact"

# a suffix dfu-suffix -a adds parses in ours, with its ids, to the original payload
cp in.bin added.dfu
dfu-suffix -v 0x0483 -p 0xdf11 -d 0x2200 -a added.dfu >/dev/null 2>&1 || fail "dfu-suffix -a failed"
"$conv" -a 0x08000000 added.dfu added.bin || fail "ours rejects a dfu-suffix -a file"
cmp in.bin added.bin || fail "payload of the dfu-suffix file differs"
# and ours carries its ids on to a DfuSe file
"$conv" -a 0x08000000 added.dfu added2.dfu
[ "$(od -An -tx1 -j$(( $(wc -c <added2.dfu) - 12 )) -N2 added2.dfu | tr -d ' ')" = 8304 ] \
	|| fail "VID not carried over from the dfu-suffix file"
dfu-suffix -c added2.dfu >/dev/null 2>&1 || fail "dfu-suffix -c rejects added2.dfu"

# a corrupted CRC is refused with a clear message and a failing exit code. The byte is inverted, not
# overwritten with a constant: in.bin is random, and a constant is already there 1 time in 256
cp ours.dfu bad.dfu
old=$(od -An -tu1 -j400 -N1 bad.dfu | tr -d ' ')
printf "\\$(printf %03o $((old ^ 255)))" | dd of=bad.dfu bs=1 seek=400 conv=notrunc 2>/dev/null
cmp -s ours.dfu bad.dfu && fail "the corruption did not change the file"
if "$conv" bad.dfu bad.bin 2>err.txt; then fail "bad CRC accepted"; fi
grep -q 'suffix CRC' err.txt || { cat err.txt; fail "no CRC message"; }
echo "crosscheck: all passed"
