#!/bin/sh
# Packs a Windows build (make windows) into dist/stm32dfu-VERSION-win64.zip: the program, the
# library with its import library and header, the emulator's profiles and a README for Windows.
# Usage: scripts/windows-dist.sh BUILD_DIR
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: windows-dist.sh BUILD_DIR}
version=$(sed -n "s/^  version : '\([^']*\)'.*/\1/p" "$root/meson.build" | head -1)
name="stm32dfu-$version-win64"
stage="$root/dist/$name"
rm -rf "$stage" "$root/dist/$name.zip"
mkdir -p "$stage/include/stm32dfu" "$stage/profiles"
cp "$build/stm32dfu.exe" "$build/src/lib/libstm32dfu-0.dll" "$build/src/lib/libstm32dfu.dll.a" "$stage/"
cp "$root/include/stm32dfu/stm32dfu.h" "$stage/include/stm32dfu/"
cp "$root"/profiles/*.profile "$stage/profiles/"
# Windows' Notepad and type want CRLF line ends
sed 's/$/\r/' "$root/data/windows/README-windows.txt" >"$stage/README.txt"
(cd "$root/dist" && rm -f "$name.zip.tmp" && zip -q -r -X "$name.zip.tmp" "$name" && mv "$name.zip.tmp" "$name.zip")
echo "dist/$name.zip"
