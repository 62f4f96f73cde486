#!/bin/sh
# A short fault campaign over virtual USB (bench/campaign_vusb.c): the real stm32dfu through
# libusb, selected by UID, serial and path, random faults and SIGINTs, every byte around the
# image checked from the emulator's state file. Usage: stm32dfu_campaign.sh SIM TOOL CAMPAIGN N SEED
set -u
work=$(mktemp -d "${TMPDIR:-/tmp}/campaign.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$3" "$1" "$2" "$work" "$4" "$5"
