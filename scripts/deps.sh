#!/bin/sh
# Installs what stm32dfu needs to build and test on Debian 12, or says what is missing.
# Usage: scripts/deps.sh [--fuzz]   (--fuzz adds clang and its libFuzzer runtime)
set -eu
pkgs="meson ninja-build gcc pkg-config libcmocka-dev libusb-1.0-0-dev umockdev libumockdev-dev
libglib2.0-dev dfu-util usbutils binutils python3 python3-pytest man-db groff-base fwupd nettle-dev"
# the USART bootloader path: serial ports (libserialport), and stm32flash as its independent peer
pkgs="$pkgs libserialport-dev stm32flash"
# Node.js and npm run the webdfu peer test (tests/peer): Debian's packages, unless a node and an
# npm are already on PATH (for example NodeSource's node, which brings its own npm)
command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
# the programming log: SQLite, PostgreSQL's client (and its server, for the tests), SHA-256
pkgs="$pkgs libsqlite3-dev libpq-dev nettle-dev postgresql"
# a terminal emulator that replays the station's live table (tests/peer/stm32dfu_station_tty.sh)
pkgs="$pkgs python3-pyte"
[ "${1:-}" = "--fuzz" ] && pkgs="$pkgs clang libclang-rt-14-dev"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	:
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
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

# The npm packages of the peer tests, exactly as tests/peer/package-lock.json pins them, from the
# npm registry; again only when the lock file is newer than the installed tree.
peer="$(dirname "$0")/../tests/peer"
if [ ! -f "$peer/node_modules/.package-lock.json" ] ||
	[ -n "$(find "$peer/package-lock.json" -newer "$peer/node_modules/.package-lock.json")" ]; then
	echo "installing the npm packages of tests/peer (npm ci)"
	if ! (cd "$peer" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
		echo "npm ci in tests/peer failed; it needs the npm registry (run it there by hand)" >&2
		exit 1
	fi
fi
