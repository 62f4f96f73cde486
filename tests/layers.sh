#!/bin/sh
# ops/ talks to target/ only (design.md: "ops/ never names either dfu/ or uart/: a feature written
# once in ops/ works over USB and USART"). No file of src/ops/ includes a dfu/, uart/, usb/ or
# serial/ header, or calls a dfu_, dfuse_, funcdesc_, an3155_, tp_ or ser_ function or the DfuSe
# layout string's parser (layout_parse; the map it fills, chip/layout.h, is data that ops/ uses on
# both links), but what tests/layers.allow lists, each with the reason it has not moved yet.
# Anything new fails: move it behind target/ (target/target.h; target/dfuse_link.h,
# target/an3155_link.h for the links themselves), or, if it cannot move yet, list it there with
# its reason.
# Usage: layers.sh [SOURCE_ROOT]
set -eu
root=${1:-${STM32DFU_SOURCE_ROOT:-$(dirname "$0")/..}}
cd "$root"
allow=${LAYERS_ALLOW:-tests/layers.allow}
found=$(mktemp "${TMPDIR:-/tmp}/layers.XXXXXX")
trap 'rm -f "$found" "$found.allow"' EXIT
for f in src/ops/*.c src/ops/*.h; do
	# includes, then calls outside comments (a line's /* ... */ and the lines of a block comment)
	grep -oE '^#include "(dfu|uart|usb|serial)/[^"]+"' "$f" | sed -E "s|^#include \"(.*)\"$|$f \\1|" || true
	sed -E -e 's|/\*.*\*/||g' -e '/^[[:space:]]*(\/\*|\*)/d' "$f" |
		grep -oE '(^|[^A-Za-z0-9_])((dfu|dfuse|funcdesc|an3155|tp|ser)_[a-z0-9_]+|layout_parse)\(' |
		sed -E "s|^[^a-z]*||; s|\($||; s|^|$f |" || true
done | sort -u >"$found"
sed -E 's/[[:space:]]*#.*$//; /^[[:space:]]*$/d; s/[[:space:]]+/ /g' "$allow" | sort -u >"$found.allow"
new=$(comm -23 "$found" "$found.allow")
gone=$(comm -13 "$found" "$found.allow")
if [ -n "$gone" ]; then
	echo "note: these are gone from ops/; remove them from $allow:"
	echo "$gone" | sed 's/^/  /'
fi
if [ -n "$new" ]; then
	echo "FAIL: ops/ names a layer below target/ (design.md: ops/ talks to target/ only):"
	echo "$new" | sed 's/^/  /'
	echo "move each behind target/ (target/target.h, target/dfuse_link.h, target/an3155_link.h), or list it"
	echo "in $allow with the reason it cannot move yet"
	exit 1
fi
echo "ops/ names below target/ only what $allow lists ($(wc -l <"$found") entries)"
