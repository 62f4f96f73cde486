# What the CLI test scripts share (sourced, POSIX sh): a work folder removed at exit, the tool under
# test, and pass/fail bookkeeping. A script ends with: echo "$passes passed, $fails failed"; [ "$fails" -eq 0 ]
set -u
tool=${1:?usage: SCRIPT STM32DFU}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0 passes=0

# check NAME EXPECTED_RC ACTUAL_RC [FILE PATTERN]: the exit code, and a pattern FILE must contain
check() {
	name=$1 want=$2 got=$3
	if [ "$got" != "$want" ]; then
		echo "FAIL $name: exit $got, expected $want"; sed 's/^/    /' "$work/out" "$work/err" | head -20
		fails=$((fails + 1)); return
	fi
	if [ $# -ge 5 ] && ! grep -q -- "$5" "$4"; then
		echo "FAIL $name: '$5' not in $(basename "$4")"; sed 's/^/    /' "$4" | head -20
		fails=$((fails + 1)); return
	fi
	passes=$((passes + 1))
}
# absent NAME FILE PATTERN: the pattern must not appear
absent() {
	if grep -q -- "$3" "$2"; then echo "FAIL $1: '$3' in $2"; sed 's/^/    /' "$2" | head; fails=$((fails + 1)); else passes=$((passes + 1)); fi
}
# same NAME A B: two dumps are byte for byte equal
same() {
	if cmp -s "$2" "$3"; then passes=$((passes + 1)); else echo "FAIL $1: the chip changed"; fails=$((fails + 1)); fi
}
# run ARGS...: the tool, its output in $work/out and $work/err
run() { "$tool" "$@" >"$work/out" 2>"$work/err"; }
# py FILE EXPR: a Python expression over the JSON document in FILE as d
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$1"; }
# json_ok: $work/out is one JSON document
json_ok() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/out"; }
