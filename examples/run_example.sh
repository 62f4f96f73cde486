#!/bin/sh
# Runs an example program and checks its output holds a phrase (the example tests of make check).
# Usage: run_example.sh PROGRAM PHRASE [ARGS...]
set -eu
prog=$1 phrase=$2
shift 2
out=$("$prog" "$@") || { echo "$out"; echo "run_example: $prog failed" >&2; exit 1; }
echo "$out"
printf '%s\n' "$out" | grep -qF -- "$phrase" || { echo "run_example: output lacks '$phrase'" >&2; exit 1; }
