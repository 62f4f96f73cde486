#!/bin/bash
# fwupd's DFU plugin (Debian's fwupdtool, no daemon) against one virtual chip with its own timing:
# get-devices finds the chip, then install-blob writes a DfuSe file onto it, checked with
# dfu-util's uploads (the image at its address; a sector the image does not touch kept) and the
# emulator's counters (the manifestation reset the chip).
# fwupdtool runs with every state/cache/lock directory in the test's temporary directory, so it
# needs no root and leaves the machine's fwupd alone.
#
# Workaround (README, "Peers"): fwupd 2.0.20 reads the interfaces from the sysfs `descriptors`
# attribute with its own parser, which on the STM32 ROM's descriptor set (four alt settings, one
# DFU functional descriptor after the last, as ../shared/data/lsusb/rust-dfu_lsusb_F4-512K_...
# shows) keeps alts 0 and 2 only and takes the functional descriptor for a HID descriptor. It then
# sends 64-byte blocks while the ROM places block N at pointer + (N - 2) * wTransferSize (2048,
# AN3156), so the image lands scattered and fwupd reports success. A quirk file gives fwupd the
# chip's real wTransferSize (DfuForceTransferSize, a key of fwupd's own DFU plugin).
# Usage: fwupd.sh SIM PROFILE ADDR SIZE
#   ADDR  where the image goes: not at a sector start, since fwupd 2.0.20 also erases the sector
#         before one that begins exactly at the image's first address
. "$(dirname "$0")/lib.sh"
profile=${1:?profile}
addr=${2:?address}
size=${3:?size}
need fwupdtool
need dfu-util
find_stm32dfu

if [ -z "${PEER_INNER:-}" ]; then
	head -c "$size" /dev/urandom >"$TMP/img.bin"
	"$STM32DFU" file convert "$TMP/img.bin" "$TMP/img.dfu" -a "$addr" --vid 0x0483 --pid 0xdf11 -q ||
		fail "stm32dfu file convert"
	mkdir -p "$TMP/quirks.d"
	# the F4 ROM's functional descriptor says wTransferSize 2048 (data/lsusb/rust-dfu_lsusb_F4-...)
	printf '[USB\\VID_0483&PID_DF11]\nDfuForceTransferSize = 0x800\n' >"$TMP/quirks.d/stm32dfu-test.quirk"
	PEER_INNER=1 PEER_TMP=$TMP sim --profile "$profile" --stats "$TMP/stats" -- "$0" "$SIM" "$@"
	rc=$?
	[ $rc = 0 ] || exit $rc
	# fwupd's manifestation left the bootloader (a reset back into it: the image is no application)
	grep -q 'resets=[1-9]' "$TMP/stats" || { cat "$TMP/stats"; fail "the chip never reset after the install"; }
	exit 0
fi

T=$PEER_TMP
for d in state cache var lock run; do mkdir -p "$T/$d"; done
fwupd() {
	STATE_DIRECTORY=$T/state CACHE_DIRECTORY=$T/cache RUNTIME_DIRECTORY=$T/run FWUPD_LOCALSTATEDIR=$T/var \
		FWUPD_LOCKDIR=$T/lock FWUPD_LOCALSTATEDIR_QUIRKS=$T/quirks.d fwupdtool --plugins dfu "$@"
}
up() { # up ADDR:LEN FILE: dfu-util upload, retried while the chip comes back from a reset
	local _
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		dfu-util -a 0 -s "$1" -U "$2" >"$T/up.log" 2>&1 && return 0
		rm -f "$2"
		sleep 0.3
	done
	cat "$T/up.log"
	fail "dfu-util upload of $1"
}

# 1. get-devices: fwupd sees the chip as an updatable STM32 bootloader with its serial
# (fwupdtool exits 2 when it finds nothing; its -vv log then says why)
fwupd get-devices >"$T/get.log" 2>&1
rc=$?
[ $rc = 0 ] || [ $rc = 2 ] || { tail -20 "$T/get.log"; fail "fwupdtool get-devices exited with $rc"; }
serial=$(dfu-util -l 2>/dev/null | sed -n 's/.*serial="\([^"]*\)".*/\1/p' | head -1)
if ! grep -q "Serial Number: *$serial\$" "$T/get.log"; then
	fwupd get-devices -vv >"$T/why.log" 2>&1
	why=$(grep -o "ignoring: failed.*\|No detected devices" "$T/why.log" | sort -u | tr "\n" ";")
	skip "fwupdtool does not list the virtual chip (serial $serial): ${why:-no reason in its log}"
fi
id=$(sed -n 's/^ *Device ID: *//p' "$T/get.log" | head -1)
grep -q 'Is in bootloader mode' "$T/get.log" || fail "fwupd does not see a bootloader"
grep -q 'Updatable' "$T/get.log" || fail "fwupd does not offer to update the chip"

# 2. a sentinel in the sector before the image, which the install must not touch
head -c 1000 /dev/urandom >"$T/sentinel.bin"
dfu-util -a 0 -s 0x08000000 -D "$T/sentinel.bin" >"$T/dn.log" 2>&1 ||
	{ cat "$T/dn.log"; fail "dfu-util -D of the sentinel"; }

# 3. install: erase, program, manifestation (the chip resets into its bootloader: no application)
fwupd install-blob "$T/img.dfu" "$id" --force -v >"$T/install.log" 2>&1
rc=$?
[ $rc = 0 ] || { grep -v '…' "$T/install.log" | tail -30; fail "fwupdtool install-blob exited with $rc"; }
grep -q "TransferSize: *0x800$" "$T/install.log" ||
	fail "fwupd did not take the transfer size from the quirk file"

# 4. dfu-util reads back the image and the sentinel
up "$addr:$size" "$T/back.bin"
cmp "$T/img.bin" "$T/back.bin" || fail "the image fwupd installed differs from the file"
up 0x08000000:1000 "$T/sent-back.bin"
cmp "$T/sentinel.bin" "$T/sent-back.bin" || fail "the sector before the image changed"
echo "ok: fwupd get-devices and install-blob of $size bytes at $addr on $profile"
