#!/bin/sh
# Installs what stm32dfu needs to build and test on Debian 12, or says what is missing.
# Usage: scripts/deps.sh [--fuzz]   (--fuzz adds clang and its libFuzzer runtime)
set -eu
pkgs="meson ninja-build gcc pkg-config libcmocka-dev libusb-1.0-0-dev umockdev libumockdev-dev
libglib2.0-dev dfu-util usbutils binutils python3 python3-pytest man-db groff-base"
[ "${1:-}" = "--fuzz" ] && pkgs="$pkgs clang libclang-rt-14-dev"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
	echo "missing Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install$missing" >&2
	exit 1
fi
