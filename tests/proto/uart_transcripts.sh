#!/bin/bash
# The USART leg of the proto suite: each command of the CLI over the in-process AN3155 emulator
# (--sim=PROFILE,link=uart, a virtual clock) with its byte trace (--trace FILE), compared byte for
# byte with the expected exchange in tests/proto/uart/NAME.txt. The times of the trace are left out
# (the bench measures time); every byte each way, its direction and its grouping are compared, so a
# changed, added or missing byte on the wire fails the case.
#
# Usage: uart_transcripts.sh STM32DFU [--regen]   (--regen rewrites the expected files: review the diff)
set -u
S=${1:?usage: $0 STM32DFU [--regen]}
S=$(cd "$(dirname "$S")" && pwd)/$(basename "$S")
REGEN=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
EXP=$HERE/uart
TMP=$(mktemp -d "${TMPDIR:-/tmp}/uartproto.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export XDG_STATE_HOME=$TMP/state
export STM32DFU_PROFILE_DIR=${STM32DFU_PROFILE_DIR:-$HERE/../../profiles}
cd "$TMP"
bad=0

# Deterministic images: a vector table (SP in SRAM, reset vector in flash) and a ramp; 100 bytes
# inside one page, so the planned write keeps the page's other bytes.
python3 - <<'EOF'
import struct
ramp = bytes((i * 37 + 11) & 255 for i in range(248))
open("fw.bin", "wb").write(struct.pack("<II", 0x20001000, 0x08000109) + ramp)
open("part.bin", "wb").write(bytes((i * 91 + 5) & 255 for i in range(100)))
open("page.bin", "wb").write(bytes((i * 53 + 7) & 255 for i in range(128)))
EOF

# case NAME PROFILE CLI-ARGS...: the command against the chip of this run's state file for PROFILE
# (CHIP=name picks another chip and state file; SPEC=... adds profile keys)
case_() {
	local name=$1 prof=$2
	shift 2
	local rc=0
	"$S" "--sim=$prof${SPEC:+,$SPEC},link=uart,state=$TMP/${CHIP:-$prof}.state" --trace "$name.tr" "$@" >"$name.out" 2>&1 || rc=$?
	# the transcript: directions and bytes, without the header line and the times
	sed -e '/^#/d' -e 's/^@[0-9]* //' "$name.tr" >"$name.txt"
	echo "exit $rc" >>"$name.txt"
	if [ "$REGEN" = --regen ]; then
		cp "$name.txt" "$EXP/$name.txt"
		echo "wrote $EXP/$name.txt"
	elif ! diff -u "$EXP/$name.txt" "$name.txt" >"$name.diff"; then
		echo "FAIL: $name: the bytes on the wire differ from tests/proto/uart/$name.txt ($*):"
		head -40 "$name.diff"
		cat "$name.out"
		bad=1
	else
		echo "ok: $name ($(grep -c . "$name.txt") lines)"
	fi
}

# Extended-erase ROM with 128-byte pages (L0): connect, identity, map
case_ info l0-192k info
# two whole pages: erase by page number (0x44), one 256-byte Write Memory, verify by Read Memory
case_ write l0-192k write fw.bin -a 0x08000100
# the compare before the plan: on pages that differ (blank here) the first Read Memory asks 16
# bytes, not a whole block (0x7F: 128), so the blank chip costs 28 bytes a page instead of 140
first_reads() { sed -n '/^> 44 bb$/q;/^> 08 00 0[0-9a-f] [0-9a-f][0-9a-f] [0-9a-f][0-9a-f]$/{n;n;p}' "$1.txt" | tail -n "$2" | tr '\n' ' '; }
[ "$(first_reads write 2)" = "> 0f f0 > 0f f0 " ] ||
	{ echo "FAIL: write: the compare of the blank pages reads '$(first_reads write 2)', not two 16-byte probes"; bad=1; }
# the same image again: equal pages. The first is probed (16 + 112 bytes), the next read whole at
# once (one 128-byte Read Memory): nothing erased or written
case_ same l0-192k write fw.bin -a 0x08000100
[ "$(sed -n '/^> 11 ee$/{n;n;n;n;p}' same.txt | tail -n 3 | tr '\n' ' ')" = "> 0f f0 > 6f 90 > 7f 80 " ] ||
	{ echo "FAIL: same: the compare of two equal pages is not 16 + 112 bytes, then 128"; bad=1; }
grep -q "^> 44 bb$" same.txt && { echo "FAIL: same: an equal image erased a page"; bad=1; }
# 100 bytes inside a page: the page read back twice (no Get Checksum: a second read confirms),
# erased, the kept and new bytes programmed, verified
case_ write_keep l0-192k write part.bin -a 0x08000410
case_ verify l0-192k verify fw.bin -a 0x08000100
case_ read l0-192k read 0x08000400 256 -o r.bin
# erase a range: the pages' other bytes are kept (none here: the range is whole pages)
case_ erase l0-192k erase 0x08000180 128
case_ leave l0-192k leave 0x08000100
# an F4 (16/64/128 KB sectors, flash-size register, option bytes at 0x1FFFC000)
case_ info_f446 f446 info

# no_cmd NAME CODE WHY: after the session's opening exchange (what info sends: connect, identity,
# option bytes), the transcript of NAME never sends command CODE (e.g. "11 ee", Read Memory)
no_cmd() {
	local open_lines
	open_lines=$(($(wc -l <"$OPEN.txt") - 1))
	head -n "$open_lines" "$1.txt" | cmp -s - <(head -n "$open_lines" "$OPEN.txt") ||
		{ echo "FAIL: $1 does not open as $OPEN does"; bad=1; }
	if tail -n +"$((open_lines + 1))" "$1.txt" | grep -q "^> $2\$"; then
		echo "FAIL: $1 sends $2: $3"
		bad=1
	fi
}

# Get Checksum (0xA1) listed: a sector is compared by CRC, not read back (ops/compare.c)
export CHIP=crc SPEC="uart_commands=00 01 02 11 21 31 44 63 73 82 92 a1"
case_ crc_info l0-192k info
OPEN=crc_info
# blank pages the image covers: the CRCs differ, nothing is read; the verify is by CRC too
case_ crc_write l0-192k write fw.bin -a 0x08000100
no_cmd crc_write "11 ee" "the image covers both pages and their CRC differs: nothing to read or keep"
# the same image again: equal CRCs, nothing read, erased or written
case_ crc_same l0-192k write fw.bin -a 0x08000100
no_cmd crc_same "11 ee" "both pages' CRC equals the image's"
no_cmd crc_same "44 bb" "nothing differs: nothing to erase"
# a page with data, then 100 bytes inside it: the covered range's CRC differs, so the page is read
# back (its other bytes are kept), erased, written; the kept bytes are still there afterwards
case_ crc_page l0-192k write page.bin -a 0x08000400
case_ crc_keep l0-192k write part.bin -a 0x08000410
grep -q "^> 11 ee$" crc_keep.txt || { echo "FAIL: crc_keep did not read the page whose bytes it keeps"; bad=1; }
case_ crc_keep_same l0-192k write part.bin -a 0x08000410
no_cmd crc_keep_same "11 ee" "the covered range's CRC equals the image's: the page is kept as it is, unread"
no_cmd crc_keep_same "44 bb" "nothing differs: nothing to erase"
"$S" "--sim=l0-192k,$SPEC,link=uart,state=$TMP/crc.state" read 0x08000400 128 -o kept.bin >/dev/null 2>&1
python3 - <<'EOF2' || bad=1
page, part, got = (open(f, "rb").read() for f in ("page.bin", "part.bin", "kept.bin"))
want = page[:16] + part + page[116:]
if got != want:
    print("FAIL: after the writes inside the page, it holds something else than the kept and new bytes")
    raise SystemExit(1)
EOF2
OPEN=crc_info
# stm32dfu verify: by CRC where it is equal (no read); a changed byte is read back and named (exit 10)
case_ crc_verify l0-192k verify kept.bin -a 0x08000400
# (verify opens without the identity reads: its one Read Memory is the flash-size register's)
[ "$(grep -c '^> 11 ee$' crc_verify.txt)" = 1 ] ||
	{ echo "FAIL: crc_verify reads memory although the CRC equals the file's"; bad=1; }
python3 -c 'import sys; b = bytearray(open("kept.bin", "rb").read()); b[40] ^= 1; open("bad.bin", "wb").write(b)'
case_ crc_verify_bad l0-192k verify bad.bin -a 0x08000400
grep -q "^exit 10$" crc_verify_bad.txt || { echo "FAIL: crc_verify_bad did not fail the verify (exit 10)"; bad=1; }
unset CHIP SPEC

# No Get Checksum: a page the image covers is read only up to its first differing block
case_ page_keep l0-192k write page.bin -a 0x08000400

# Write protection alone over a ROM whose GET lists 0x63 and 0x73 (the F7's v3.1 list): Write Protect
# with every sector to be protected (it replaces the set, AN3155 3.9), Write Unprotect when none is
# left (3.10); each ends in the chip's reset, 0x7F and Get ID, then the block read back and compared
export CHIP=wp
case_ wp_protect f746 ob set nWRP3=0
grep -q "^> 00 03 03$" wp_protect.txt || { echo "FAIL: wp_protect: not N=0, sector 3, XOR 3"; bad=1; }
case_ wp_protect2 f746 ob set nWRP1=0
grep -q "^> 01 01 03 03$" wp_protect2.txt || { echo "FAIL: wp_protect2: not both sectors 1 and 3"; bad=1; }
case_ wp_unprotect f746 ob set nWRP1=1 nWRP3=1
for t in wp_protect wp_protect2 wp_unprotect; do
	grep -q "^> 31 ce$" $t.txt && { echo "FAIL: $t writes the option-byte block (Write Memory)"; bad=1; }
	grep -q "^exit 0$" $t.txt || { echo "FAIL: $t failed"; bad=1; }
done
grep -q "^> 73 8c$" wp_unprotect.txt || { echo "FAIL: wp_unprotect does not send Write Unprotect"; bad=1; }
# a ROM whose GET does not list them: the option-byte block by Write Memory, as before
export CHIP=nowp SPEC="uart_commands=00 01 02 11 21 31 44 82 92"
case_ wp_block f746 ob set nWRP3=0
grep -q "^> 63 9c$" wp_block.txt && { echo "FAIL: wp_block sends Write Protect, which GET did not list"; bad=1; }
grep -q "^> 31 ce$" wp_block.txt || { echo "FAIL: wp_block does not write the block"; bad=1; }
# another option changes too: the block, even where 0x63 is listed
export CHIP=wp2
unset SPEC
case_ wp_mixed f746 ob set nWRP3=0 BOR_LEV=level1
grep -q "^> 63 9c$" wp_mixed.txt && { echo "FAIL: wp_mixed sends Write Protect for a change of more than nWRP"; bad=1; }
unset CHIP SPEC

# RAM and OTP data whose ends are not on a word (Write Memory takes whole words, AN3155 3.6): RAM's
# edge word read first (Read Memory of 4 bytes) and written back with the data; OTP's padded with
# 0xFF (no bit cleared), after the OTP read the write makes anyway
printf 'abcde' >five.bin
export CHIP=mem
case_ ram_rmw f746 write five.bin -a 0x20004001
# the head word and the tail word read (4 bytes each) before the 8-byte Write Memory at 0x20004000
[ "$(grep -c '^> 20 00 40 00 60$' ram_rmw.txt)" -ge 2 ] && grep -q "^> 20 00 40 04 64$" ram_rmw.txt &&
	grep -q "^> 07 " ram_rmw.txt || { echo "FAIL: ram_rmw does not read the edge words and write them whole"; bad=1; }
case_ otp_pad f746 write five.bin -a 0x1FF0F001 --i-understand-otp-is-permanent
grep -q "^> 07 ff 61 62 63 64 65 ff ff 99$" otp_pad.txt || { echo "FAIL: otp_pad does not pad the OTP words with 0xFF"; bad=1; }
unset CHIP

[ $bad = 0 ] || exit 1
