#!/bin/sh
# Reliability campaign: N seeded, randomly faulted sessions (writes, reads, option-byte reads)
# against the in-process emulator; prints successes, clean failures and silent corruptions
# (which must be 0; the exit status is non-zero otherwise). Usage: bench/campaign.sh [N [SEED] [BUILD_DIR]]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000}
seed=${2:-1}
build=${3:-$here/build}
[ -x "$build/tests/proto/stm32dfu-campaign" ] || { meson setup "$build" "$here" >/dev/null; }
ninja -C "$build" tests/proto/stm32dfu-campaign >/dev/null
STM32DFU_PROFILE_DIR="$here/profiles" exec "$build/tests/proto/stm32dfu-campaign" "$n" "$seed"
