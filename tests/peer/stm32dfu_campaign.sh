#!/bin/sh
# A short fault campaign over virtual USB (bench/campaign_vusb.c): the real stm32dfu through
# libusb, selected by UID, serial and path, random faults and SIGINTs, every byte around the
# image checked from the emulator's state file. Usage: stm32dfu_campaign.sh SIM TOOL CAMPAIGN N SEED
# The campaign's folder is given relative to the current one, as a user types it: the campaign
# must make it absolute (a relative XDG_STATE_HOME is ignored by the tool, which then kept its
# files under HOME: false NO FILE and LOST), so nothing may appear under HOME.
set -u
sim=$(readlink -f "$1") tool=$(readlink -f "$2") camp=$(readlink -f "$3")
work=$(mktemp -d "${TMPDIR:-/tmp}/campaign.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/home"
cd "$work" || exit 1
HOME="$work/home" "$camp" "$sim" "$tool" run "$4" "$5"
rc=$?
if [ -n "$(ls -A "$work/home")" ]; then
	echo "stm32dfu_campaign.sh: the tool kept files under HOME, not in the campaign's folder:" >&2
	find "$work/home" >&2
	exit 1
fi
exit $rc
