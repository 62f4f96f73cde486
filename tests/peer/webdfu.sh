#!/bin/bash
# Flipper Zero's WebUSB DfuSe driver (npm `dfu`) in Node on node-usb's WebUSB (webdfu.mjs) against
# one virtual chip with its own timing: list, download of an image to flash (erase, program, then
# the driver's manifestation, after which the chip resets back into its bootloader), upload and
# compare, and leave with an application image (the chip runs it and is gone from the bus).
# The npm packages come from tests/peer/package-lock.json (`npm ci`, run by scripts/deps.sh).
# Usage: webdfu.sh SIM PROFILE LISTING LAYOUT ADDR SIZE START [XFER]
#   LISTING  real `dfu-util -l` of this chip (relative to the shared data dir, or ref/... beside
#            this script, as for dfu_list.sh), or - for none
#   LAYOUT   the flash's `layout alt=0 ...` line as the reference manual gives the sectors, or -
#   ADDR     - for the list step only; else where to download SIZE bytes (pick a range across a
#            sector boundary, and a SIZE that is not a multiple of wTransferSize; the polls of a
#            real ROM make each 2 KiB cost about 0.2 s, so keep it small)
#   START    the state the real chip starts in (`dfuERROR status=10` for the F0), or - where no
#            real data shows it; webdfu.mjs clears a dfuERROR (the driver does not)
#   XFER     download block size to give the driver instead of the descriptor's wTransferSize
#            (a chip that takes less than it announces: L43x, 1024)
. "$(dirname "$0")/lib.sh"
profile=${1:?profile}
listing=${2:?listing file or -}
layout=${3:?layout}
addr=${4:?address or -}
size=${5:-0}
start=${6:--}
xfer=${7:-}
here=$(cd "$(dirname "$0")" && pwd)
need node
if [ ! -d "$here/node_modules/dfu" ] || [ ! -d "$here/node_modules/usb" ]; then
	skip "npm packages missing: scripts/deps.sh runs \`npm ci\` in tests/peer (it needs the npm registry)"
fi

if [ -z "${PEER_INNER:-}" ]; then
	# node-usb must reach the virtual chips through umockdev's preload like any libusb program
	PEER_INNER=1 sim --profile "$profile" --stats "$TMP/stats" -- "$0" "$SIM" "$@"
	rc=$?
	[ $rc = 0 ] || exit $rc
	[ "$addr" = - ] && exit 0
	# the emulator saw the driver's work: at least the erases the image needs, and every byte
	grep -q 'erases=[1-9]' "$TMP/stats" || { cat "$TMP/stats"; fail "the emulator counted no erase"; }
	grep -q "bytes_programmed=$((size + 1024))" "$TMP/stats" || {
		cat "$TMP/stats"
		fail "the emulator did not program $size + 1024 bytes"
	}
	exit 0
fi

wd() { # wd LOG ARGS...: webdfu.mjs ARGS, failing the test with its log on a non-zero exit
	local log=$1
	shift
	node "$here/webdfu.mjs" "$@" >"$TMP/$log" 2>&1
	local rc=$?
	[ $rc = 0 ] || { cat "$TMP/$log"; fail "webdfu.mjs $* exited with $rc"; }
}

# 1. list: the driver finds the DFU interface and its alt settings with the real chip's strings,
# the DfuSe functional descriptor, and parses the flash's memory map into the manual's sectors
wd list.log list
cat "$TMP/list.log"
if [ "$listing" != - ]; then
	case $listing in
	ref/*) ref=$here/$listing ;; # as in dfu_list.sh: quoted listings kept beside the tests
	*) ref=$DATA/$listing ;;
	esac
	[ -r "$ref" ] || skip "no reference $ref"
	found_dfu "$ref" >"$TMP/want"
	found_dfu "$TMP/list.log" >"$TMP/got"
	if grep -q 'serial="<REDACTED>"' "$TMP/want"; then # the poster hid the serial: compare the rest
		grep -q 'serial=""' "$TMP/got" && fail "empty serial"
		sed -i 's/serial="[^"]*"/serial="<REDACTED>"/' "$TMP/got"
	fi
	if ! cmp -s "$TMP/want" "$TMP/got"; then
		# A ROM whose serial descriptor holds raw 8-bit characters (GD32VF103: `06 03 33 43 42 4A`,
		# docs/rom-quirks.md) reads differently in dfu-util, which has a quirk for it, and in WebUSB,
		# which decodes UTF-16LE as the USB spec says. Accept exactly that decoding of the serial.
		python3 -c 'import re,sys
f=lambda m: "serial=\"%s\"" % m.group(1).encode().decode("utf-16-le", "replace")
sys.stdout.write(re.sub(r"serial=\"([^\"]*)\"", f, sys.stdin.read()))' <"$TMP/want" >"$TMP/want16"
		if cmp -s "$TMP/want16" "$TMP/got"; then
			echo "note: WebUSB reads the raw 8-bit serial descriptor as UTF-16LE:" \
				"$(grep -o 'serial="[^"]*"' "$TMP/got" | head -1)"
		else
			diff -u "$TMP/want" "$TMP/got"
			fail "the driver's view of the alt settings differs from $listing"
		fi
	fi
fi
grep -q '^functional .*dfu_version=0x011a .*can_download=1 can_upload=1 .*dfuse=1$' "$TMP/list.log" ||
	fail "the driver did not see a DfuSe device that can download and upload"
# the transfer size the driver will use is the one lsusb reads from the same descriptor
if command -v lsusb >/dev/null; then
	lsusb -v 2>/dev/null | sed -n 's/^ *wTransferSize *\([0-9]*\) bytes.*/\1/p' | head -1 >"$TMP/ts"
	grep -q "^functional transfer_size=$(cat "$TMP/ts") " "$TMP/list.log" ||
		fail "the driver's transfer size differs from lsusb's wTransferSize $(cat "$TMP/ts")"
fi
if [ "$layout" != - ]; then
	grep -qxF "$layout" "$TMP/list.log" || fail "the driver's flash map is not: $layout"
fi
if [ "$addr" = - ]; then
	echo "ok: webdfu lists $profile as the real chip is listed"
	exit 0
fi

# 2. download: the driver's manifestation jumps to ADDR, which holds no vector table of an
# application (all 0xFF), so the chip resets into its bootloader and comes back on the bus
{ head -c 8 /dev/zero | tr '\0' '\377'; head -c $((size - 8)) /dev/urandom; } >"$TMP/img.bin"
# shellcheck disable=SC2086 # XFER is one optional word
wd write.log write "$addr" "$TMP/img.bin" $xfer
grep -q "written=$size\$" "$TMP/write.log" ||
	{ cat "$TMP/write.log"; fail "write did not report $size bytes"; }
if [ "$start" != - ]; then
	grep -qx "start state=$start" "$TMP/write.log" ||
		{ cat "$TMP/write.log"; fail "the chip did not start in $start"; }
fi

# 3. upload and compare (the driver waits for the chip to come back)
wd read.log read "$addr" "$size" "$TMP/back.bin"
cmp "$TMP/img.bin" "$TMP/back.bin" || fail "upload differs from the downloaded image"

# 4. leave: an application image (initial MSP 0x20000800, inside the SRAM of every STM32, and a
# reset vector in flash); the driver's manifestation starts it and the chip leaves the bus
{ printf '\000\010\000\040\001\001\000\010'; head -c 1016 /dev/urandom; } >"$TMP/app.bin"
wd leave.log write 0x08000000 "$TMP/app.bin"
sleep 0.5
wd count.log count
grep -qx 'devices=0' "$TMP/count.log" ||
	{ cat "$TMP/count.log"; fail "the chip is still on the bus after leave"; }
echo "ok: webdfu list, download, upload + compare, leave on $profile"
