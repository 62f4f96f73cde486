#!/bin/sh
# Checks what `meson install` puts in place (CI runs it after make check):
# the programs, the library with its header and pkg-config file, the udev rule, the man page,
# bash completion, the emulator's profiles and the Python package; the man page renders, the rule
# parses, the examples build against the installed library through pkg-config, and the installed
# Python package imports and writes.
# Usage: scripts/install-check.sh [BUILD_DIR]
set -eu
BUILD=${1:-build}
DEST=$(mktemp -d "${TMPDIR:-/tmp}/stm32dfu-install.XXXXXX")
trap 'rm -rf "$DEST"' EXIT
meson install -C "$BUILD" --destdir "$DEST" --quiet
PREFIX=$(meson introspect "$BUILD" --buildoptions | python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
LIBDIR=$(meson introspect "$BUILD" --buildoptions | python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="libdir"))')
case $LIBDIR in /*) ;; *) LIBDIR=$PREFIX/$LIBDIR ;; esac
R=$DEST$PREFIX
fail() { echo "install-check: FAIL: $*" >&2; exit 1; }
for f in bin/stm32dfu bin/stm32dfu-sim include/stm32dfu/stm32dfu.h share/man/man1/stm32dfu.1 \
	share/bash-completion/completions/stm32dfu share/stm32dfu/profiles/f746.profile lib/udev/rules.d/60-stm32dfu.rules; do
	[ -e "$R/$f" ] || fail "$f is not installed"
done
ls "$DEST$LIBDIR"/libstm32dfu.so* >/dev/null 2>&1 || fail "libstm32dfu is not installed in $LIBDIR"
PC=$(find "$DEST$LIBDIR" -name stm32dfu.pc | head -1)
[ -n "$PC" ] || fail "stm32dfu.pc is not installed"

# the man page renders (man-db's man -l; else groff directly)
if command -v man >/dev/null 2>&1; then
	MANWIDTH=80 man -l "$R/share/man/man1/stm32dfu.1" 2>"$DEST/man.err" | grep -q "write" || { cat "$DEST/man.err"; fail "man -l does not render the page"; }
	[ ! -s "$DEST/man.err" ] || { cat "$DEST/man.err"; fail "man -l warns"; }
elif command -v groff >/dev/null 2>&1; then
	groff -man -Tutf8 -ww -z "$R/share/man/man1/stm32dfu.1" || fail "groff rejects the page"
else
	echo "install-check: man and groff missing: page not rendered" >&2
fi

# the completion is valid bash and completes the commands
bash -n "$R/share/bash-completion/completions/stm32dfu" || fail "the completion is not valid bash"

# the udev rule: udevadm verify where it exists (systemd 254+), else a syntax check of our own
RULE=$R/lib/udev/rules.d/60-stm32dfu.rules
if command -v udevadm >/dev/null 2>&1 && udevadm verify --help >/dev/null 2>&1; then
	udevadm verify --resolve-names=never "$RULE" || fail "udevadm verify rejects the rule"
else
	# every non-comment line: comma-separated KEY{ATTR}OP"VALUE" with a match and an assignment
	awk '
		/^[ \t]*(#|$)/ { next }
		{
			n = split($0, parts, /, */); match_ok = 0; assign_ok = 0
			for (i = 1; i <= n; i++) {
				p = parts[i]
				if (p !~ /^[A-Z_]+(\{[A-Za-z_]+\})?(==|!=|\+=|=|:=)"[^"]*"$/) { print "bad field: " p; exit 1 }
				if (p ~ /(==|!=)"/) match_ok = 1; else assign_ok = 1
			}
			if (!match_ok || !assign_ok) { print "line needs a match and an assignment: " $0; exit 1 }
		}' "$RULE" || fail "the udev rule does not parse"
	grep -q 'ATTR{idVendor}=="0483", ATTR{idProduct}=="df11", TAG+="uaccess"' "$RULE" || fail "no rule for 0483:df11"
fi

# every example builds and runs against the installed library, found through pkg-config
EX=$(cd "$(dirname "$0")/.." && pwd)/examples
PKG_CONFIG_PATH=$(dirname "$PC") PKG_CONFIG_SYSROOT_DIR=$DEST pkg-config --cflags --libs stm32dfu >"$DEST/flags" ||
	fail "pkg-config does not know stm32dfu"
for ex in write_verify list_identify read_memory; do
	# shellcheck disable=SC2046
	cc -Wall -Werror -o "$DEST/$ex" "$EX/$ex.c" $(cat "$DEST/flags") || fail "examples/$ex.c does not build against the installed library"
done
run() { STM32DFU_PROFILE_DIR=$R/share/stm32dfu/profiles LD_LIBRARY_PATH=$DEST$LIBDIR "$@"; }
run "$DEST/write_verify" "$EX/write_verify.c" f746,timing=0 >/dev/null 2>&1 || fail "write_verify does not run"
run "$DEST/list_identify" f746,timing=0 | grep -q 'STM32F74x' || fail "list_identify does not identify the F746"
run "$DEST/list_identify" gd32vf103,timing=0 | grep -q 'not an STM32 ROM' || fail "list_identify does not list every DFU device"
run "$DEST/read_memory" 0x08000000 64 "$DEST/r.hex" f746,timing=0 >/dev/null || fail "read_memory does not run"

# the Python package imports from where meson installed it, and writes through the installed library
PYDIR=$(find "$DEST" -type d -name stm32dfu -path '*-packages/*' | head -1)
[ -n "$PYDIR" ] || fail "the Python package is not installed"
grep -q "LIBDIR = \"$LIBDIR\"" "$PYDIR/_config.py" || fail "the installed package does not know the library's directory"
run env PYTHONPATH="$(dirname "$PYDIR")" STM32DFU_LIBRARY="$DEST$LIBDIR/libstm32dfu.so.0" python3 -c '
import stm32dfu
with stm32dfu.open(sim="f746,timing=0") as chip:
    r = chip.write(bytes(range(256)) * 8, address=0x08000000)
    assert r["verified"] and chip.read(0x08000000, 4) == bytes([0, 1, 2, 3]), r
' || fail "the installed Python package does not write"
echo "install-check: ok ($(cd "$R" && find . -type f | wc -l) files under $PREFIX)"
