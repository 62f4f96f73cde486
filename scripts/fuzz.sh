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
	echo "fuzzing $name for ${seeds:+$seconds s}"
	"$exe" -max_total_time="$seconds" -max_len=65536 -print_final_stats=0 "$work" "$seeds" >"$work.log" 2>&1 \
		|| { echo "fuzz_$name FAILED"; tail -40 "$work.log"; status=1; }
	rm -rf "$work" "$work.log"
done
exit $status
