# Shared helpers of the peer suite (sourced by each test; bash).
# Usage of a test: TEST.sh SIM_EXE [ARGS...]. Exit 0 pass, 1 fail, 77 skip (meson's convention).
set -u

SIM=${1:?usage: $0 STM32DFU_SIM_EXE [ARGS...]}
shift
DATA=${STM32DFU_SHARED_DATA:-$(dirname "$0")/../../../shared/data}
BUILD=${STM32DFU_BUILD_ROOT:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/peer.XXXXXX")
# recovery files (and default emulator state) of this test only
export XDG_STATE_HOME=$TMP/state
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
need() { command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"; }

# Runs a command in the testbed, bounded in time so that a hang fails instead of blocking the suite.
# sim ARGS... -- COMMAND...   (the exit status is the command's; 124 on timeout)
sim() { timeout -k 5 "${SIM_TIMEOUT:-60}" "$SIM" "$@"; }

# The `Found DFU:` lines of a dfu-util -l output, normalised for comparison: device number and
# path (bus topology of the machine) removed, sorted by alt (dfu-util versions list in different
# orders), one line per alt.
found_dfu() {
	grep -o 'Found DFU: .*' "$1" |
		sed -e 's/devnum=[0-9]*, //' -e 's/path="[^"]*", //' -e 's/[[:space:]]*$//' |
		sort -u
}

# The stm32dfu CLI, if the lead's tree has built it (top level or src/cli); else skip.
find_stm32dfu() {
	local c
	for c in "$BUILD/stm32dfu"; do
		if [ -n "$BUILD" ] && [ -x "$c" ]; then
			STM32DFU=$c
			return 0
		fi
	done
	skip "stm32dfu is not built"
}

# rand_file FILE N: N random bytes (a failure prints the differing offset, so no seed is needed),
# never starting like a dfu-util prefix (below).
rand_file() {
	# dfu-util takes a file whose first bytes b0 b1 have (b0 & 0x3f) == 0x1a and (b1 & 0x3f) == 0x3f
	# for an NXP LPC prefix and leaves its first 16 bytes out of the download (0.11, dfu_file.c
	# probe_prefix), and 01 00 with a fitting length for a TI Stellaris one: 1 random image in 4096
	# (the rare dfu-util-roundtrip-f0 failure: every byte shifted by 16). Draw again until the
	# first byte can start neither.
	local b0
	while :; do
		head -c "$2" /dev/urandom >"$1"
		b0=$(od -An -tu1 -N1 "$1" | tr -d ' ')
		[ -n "$b0" ] || return 0
		[ $((b0 & 0x3f)) != 26 ] && [ "$b0" != 1 ] && return 0
	done
}
