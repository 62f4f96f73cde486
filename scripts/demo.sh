#!/bin/sh
# The main job on a simulated STM32F746: list it, write a sample image (with progress), verify,
# read it back, show the chip. The emulated chip keeps its flash in a state file under build/.
set -eu
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
tool="$build/stm32dfu"
export STM32DFU_PROFILE_DIR="$root/profiles"
export XDG_STATE_HOME="$build/demo-state"
rm -rf "$XDG_STATE_HOME"
# timing=0.05: the emulator's F746 timing model at 1/20 of real time, so the demo takes seconds
sim="--sim=f746,timing=0.05"
sample="$build/demo-sample.hex"
# a 200 KiB sample image in Intel HEX (the tool converts on the fly)
head -c 204800 /dev/urandom > "$build/demo-sample.bin"
"$tool" file convert -a 0x08000000 "$build/demo-sample.bin" "$sample" -q

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
step stm32dfu list $sim
"$tool" list $sim
step stm32dfu write "$sample" $sim
"$tool" write "$sample" $sim
step stm32dfu write "$sample" $sim "   # again: nothing changed, nothing erased"
"$tool" write "$sample" $sim
step stm32dfu verify "$sample" $sim
"$tool" verify "$sample" $sim
step stm32dfu read 0x08000000 200K -o "$build/demo-readback.bin" $sim
"$tool" read 0x08000000 200K -o "$build/demo-readback.bin" $sim
cmp "$build/demo-readback.bin" "$build/demo-sample.bin" && echo "read-back equals the sample image"
step stm32dfu info $sim
"$tool" info $sim
step stm32dfu doctor --sim=f746-report,timing=0 "   # the board this project started from (exit 74: bad link)"
"$tool" doctor --sim=f746-report,timing=0 || true
