#!/bin/sh
# The library exports exactly the committed symbol list, and every function the public header
# declares is among them (and nothing else is). A change to either list is an ABI change: update
# symbols.txt on purpose, and the version (MINOR for additions, MAJOR for removals).
# Usage: abi_check.sh LIBRARY SYMBOLS_TXT HEADER
set -eu
lib=$1 list=$2 header=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sed 's/@.*//' | sort -u >"$tmp/exported"
grep -v '^#' "$list" | sed '/^$/d' | sort -u >"$tmp/committed"
# function names declared in the header: an identifier stm32dfu_xxx followed by '('
grep -o 'stm32dfu_[a-z0-9_]*(' "$header" | tr -d '(' | sort -u >"$tmp/declared"
status=0
if ! diff -u "$tmp/committed" "$tmp/exported" >"$tmp/d1"; then
	echo "abi_check: exported symbols differ from $list (- committed, + exported):" >&2
	cat "$tmp/d1" >&2
	status=1
fi
if ! diff -u "$tmp/declared" "$tmp/exported" >"$tmp/d2"; then
	echo "abi_check: exported symbols differ from the functions the header declares (- header, + exported):" >&2
	cat "$tmp/d2" >&2
	status=1
fi
[ $status -eq 0 ] && echo "abi_check: $(wc -l <"$tmp/exported") symbols, as committed and declared"
exit $status
