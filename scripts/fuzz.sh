#!/bin/sh
# Runs every fuzz_* target in BUILD for SECONDS each, starting from its seed corpus.
set -eu
build=$1 seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for exe in $(find "$build/tests/fuzz" -type f -name 'fuzz_*' -perm -u+x | sort); do
	name=$(basename "$exe" | sed 's/^fuzz_//')
	seeds="$root/tests/fuzz/corpus/$name"
	work=$(mktemp -d)
	# a target's own libFuzzer flags (limits on memory, time per input), one line
	opts=""
	[ -f "$root/tests/fuzz/corpus/$name.options" ] && opts=$(cat "$root/tests/fuzz/corpus/$name.options")
	echo "fuzzing $name for ${seconds} s${opts:+ ($opts)}"
	# shellcheck disable=SC2086
	"$exe" -max_total_time="$seconds" -max_len=65536 -print_final_stats=0 $opts "$work" "$seeds" >"$work.log" 2>&1 \
		|| { echo "fuzz_$name FAILED"; tail -40 "$work.log"; status=1; }
	rm -rf "$work" "$work.log"
done
exit $status
