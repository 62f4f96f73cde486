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

# rand_file FILE N: N random bytes (a failure prints the differing offset, so no seed is needed).
rand_file() {
	head -c "$2" /dev/urandom >"$1"
}
