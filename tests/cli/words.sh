#!/bin/sh
# Issue 24 items 3, 9, 10, 13: what a new user or a script meets: per-device logs that cannot be
# written, dfu-util's options, sizes and arguments, papercuts. Every check names the bad argument
# and the fix, before any work (the chip is compared byte for byte where a refusal must not touch it).
# Usage: words.sh STM32DFU  (env: STM32DFU_PROFILE_DIR)
. "$(dirname "$0")/lib.sh"
export XDG_STATE_HOME="$work/state" STM32DFU_LOG="sqlite:$work/log.sqlite3"
sim="--sim=f746,timing=0,state=$work/chip.state"
head -c 4096 /dev/urandom >"$work/fw.bin"

# --- item 3: --log-dir that cannot take the logs: said, in text and JSON; --strict-log fails ----
: >"$work/notadir"                        # a file where the folder should be (fails as root too)
run $sim write "$work/fw.bin" --log-dir "$work/notadir"
check logdir-warned 0 $? "$work/err" "warning: .*log"
run $sim write "$work/fw.bin" --log-dir "$work/notadir" --json
check logdir-json 0 $?
py "$work/out" 'assert d[0]["log"] is None and d[0]["log_error"], d' || { echo "FAIL logdir-json-field"; fails=$((fails + 1)); }
run $sim write "$work/fw.bin" --log-dir "$work/notadir" --strict-log --json
check logdir-strict 73 $? "$work/out" '"ok": false'
run $sim write "$work/fw.bin" --log-dir "$work/logs" --strict-log --json
check logdir-strict-ok 0 $?
py "$work/out" 'import os; assert os.path.getsize(d[0]["log"]) > 0 and d[0]["log_error"] is None, d' || { echo "FAIL logdir-ok-field"; fails=$((fails + 1)); }
run $sim write "$work/fw.bin" --strict-log
check strict-log-alone 64 $? "$work/err" "log-dir"

# --- item 9: dfu-util habits -------------------------------------------------------------------
run $sim write -a 0 "$work/fw.bin"
check dash-a-small 65 $? "$work/err" "-a is the address here; dfu-util's -a (alt setting) is --alt"
run $sim write -a 0x08000000 "$work/fw.bin"
check dash-a-address 0 $?
absent dash-a-address-no-hint "$work/err" "dfu-util"
for o in "-D fw.bin:stm32dfu write" "-U x.bin:stm32dfu read" "-s 0x08000000:-a ADDR" "-l:stm32dfu list" \
	"-e:stm32dfu leave" "-R:stm32dfu leave"; do
	opt=${o%%:*} answer=${o#*:}
	run $sim $opt
	check "dfu-util$opt" 64 $? "$work/err" "dfu-util"
	grep -q -- "$answer" "$work/err" || { echo "FAIL dfu-util$opt: '$answer' not in the answer"; cat "$work/err"; fails=$((fails + 1)); }
done
sim_tool="$(dirname "$tool")/stm32dfu-sim"
"$sim_tool" --help >"$work/out" 2>&1
absent sim-no-dash-p "$work/out" "-p, --profile"
"$sim_tool" -p f746 -- true >"$work/out" 2>"$work/err"
check sim-dash-p 2 $? "$work/err" "path selector"

# --- item 10: sizes and arguments ---------------------------------------------------------------
for a in "0:not 0" "1Q:unit" "0x:digits" "1.5K:whole" "99999999999:4 GiB"; do
	arg=${a%%:*} why=${a#*:}
	run $sim read 0x08000000 "$arg" -o "$work/r.bin"
	check "len-$arg" 64 $? "$work/err" "LEN $arg"
	grep -q -- "$why" "$work/err" || { echo "FAIL len-$arg: '$why' not said"; cat "$work/err"; fails=$((fails + 1)); }
done
run $sim read 0xZZ 16 -o "$work/r.bin"; check addr-bad 64 $? "$work/err" "ADDR 0xZZ"
run $sim read 0x08000000 64KiB -o "$work/r.bin"; check len-KiB 0 $?
[ "$(wc -c <"$work/r.bin")" = 65536 ] || { echo "FAIL len-KiB: not 65536 bytes"; fails=$((fails + 1)); }
run $sim read 0x08000000 1MiB -o "$work/r.bin"; check len-MiB 0 $?
run $sim read 0x08000000 2KB -o "$work/r.bin"; check len-KB 0 $?
run wirte; check did-you-mean 64 $? "$work/err" "did you mean 'write'"
absent did-you-mean-help "$work/err" "stm32dfu wirte --help"
run --json; check no-command 64 $? "$work/out" "no command"
: >"$work/empty.hex"
run $sim write "$work/empty.hex"; check empty-hex 65 $? "$work/err" "empty"
absent empty-hex-binary "$work/err" "binary data"
run $sim doctor --hse 8; check hse-unit 64 $? "$work/err" "unit"
run $sim recover --uid X; check recover-uid 64 $? "$work/err" "\-S"

# --- item 13: papercuts -------------------------------------------------------------------------
run $sim write "$work/fw.bin" --no-log; check one-sector 0 $?
absent one-sectors "$work/out" "1 sectors"
absent one-runs "$work/out" "1 runs"
long=$(printf 's%.0s' $(seq 80))
run $sim write "$work/fw.bin" --station "$long"; check station-long 64 $? "$work/err" "station"
run --sim=l43x,timing=0,state="$work/l4.state" write "$work/fw.bin" --vdd 3.3 --no-log
check vdd-l4 69 $? "$work/err" "no voltage range"
run --sim=l43x,timing=0,state="$work/l4.state" write "$work/fw.bin" --no-log; check vdd-l4-without 0 $?

# --- item 11: help per command ----------------------------------------------------------------
run write --help; check help-write 0 $? "$work/out" "skip the read-back check"
absent help-write-no-read "$work/out" "read:"
absent help-write-no-read-meaning "$work/out" "never confirm"
run read --help; check help-read 0 $? "$work/out" "never confirm by a second read"
grep -q '\.dfu' "$work/out" || { echo "FAIL help-read-dfu: read --help does not name .dfu"; fails=$((fails + 1)); }
absent help-read-no-write "$work/out" "skip the read-back"
absent help-read-no-write-force "$work/out" "suffix names another device"
run file --help; check help-file 0 $?
absent help-file-no-sim "$work/out" "--sim"
absent help-file-no-serial "$work/out" "--serial "
run help-man; check man 0 $?
python3 - "$work/out" <<'PY' || { echo "FAIL man-per-command"; fails=$((fails + 1)); }
import re, sys
man = open(sys.argv[1]).read()
write = man.split(".B write FILE")[1].split(".RE")[0]
assert "read:" not in write and "never confirm" not in write, write
PY
# docs/json.md: no table broken by a paragraph (a table, text, then rows again in one section)
python3 - "${STM32DFU_SOURCE_ROOT:-$(dirname "$0")/../..}/docs/json.md" <<'PY' || { echo "FAIL json.md-tables"; fails=$((fails + 1)); }
import sys
state, section, bad = "none", "", []
for line in open(sys.argv[1]):
    if line.startswith("#"):
        section, state = line.strip(), "none"
    elif line.startswith("|"):
        if state == "text-after-table" and not line.startswith("| field |"):
            bad.append(section)  # rows again without a header: the text split one table
        state = "table"
    elif line.strip() and state in ("table", "text-after-table"):
        state = "text-after-table"
assert not bad, f"tables broken by a paragraph in: {bad}"
PY

# --- item 12: progress on a terminal (a pseudo-terminal): no bar for a step with nothing to count,
# the confirming second read of `read` named for what it is ---------------------------------------
python3 - "$tool" "$work" <<'PY' || { echo "FAIL progress-pty"; fails=$((fails + 1)); }
import os, pty, subprocess, sys
tool, work = sys.argv[1:]
sim = f"--sim=f746,state={work}/pty.state"  # real timing: bars get drawn
def on_pty(args):
    master, slave = pty.openpty()
    p = subprocess.Popen([tool] + args, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait()
    os.close(master)
    return p.returncode, out.decode(errors="replace")
rc, w = on_pty([sim, "write", f"{work}/fw.bin", "--no-log", "--confirm-reads"])
assert rc == 0, w
assert "0/0 KiB" not in w, f"a bar for nothing: {w!r}"
draws = [x.split("[")[0].strip() for x in w.split("\r") if "[" in x and "%" in x]
assert draws and draws[0] in ("read", "confirm"), f"the first bar is {draws[:1]}: {w!r}"
rc, r = on_pty([sim, "read", "0x08000000", "64K", "-o", f"{work}/pty.bin", "--confirm-reads"])
assert rc == 0, r
assert "confirm " in r and "verify" not in r, f"the second read of read: {r!r}"
PY

# --- item 6: only a link fault is called one; the other causes are named for what they are ---------
head -c 200000 /dev/urandom >"$work/big.bin"
head -c 200000 /dev/urandom >"$work/big2.bin"
run --sim=f746,timing=0,state="$work/f1.state",fault_rate=0.02 write "$work/big.bin" --no-log
check link-fault 0 $? "$work/err" "the USB link is failing"
# a chip that wedges on its last 4 blocks (programmed, then busy until two CLRSTATUS) finishes...
run --sim=f746,timing=0,state="$work/f2.state",busy_stuck_after=0x0802F000 write "$work/big.bin" --no-log
check busy-stuck 0 $? "$work/err" "stayed busy"
absent busy-not-link "$work/err" "link is failing"
# ...one that wedges on every block gives up after a bounded number of wedges (each is a whole
# 5 s ceiling on a real chip), naming the cause, not one wedge per block
run --sim=f746,timing=0,state="$work/f5.state",busy_stuck_after=1 write "$work/big.bin" --no-log
check busy-every-block 74 $? "$work/err" "stayed busy past every poll 8 times in this session"
absent busy-every-block-not-link "$work/err" "link is failing"
run --sim=f746,timing=0,state="$work/f3.state",unplug_at=60 write "$work/big.bin" --no-log
check unplug 74 $? "$work/err" "gone from the bus"
absent unplug-not-link "$work/err" "link is failing"
absent unplug-not-doctor "$work/err" "doctor"
run --sim=f746,timing=0,state="$work/f4.state" write "$work/big.bin" --no-log
run --sim=f746,timing=0,state="$work/f4.state",worn_sector=0 write "$work/big2.bin" --no-log
check worn 10 $? "$work/err" "worn"
absent worn-not-link "$work/err" "link is failing"

# --- item 13: a serial counter never wraps (SQL integers are signed 64-bit) ------------------------
STM32DFU_SIM_LOG="sqlite:$work/sn.db" run $sim write "$work/fw.bin" --serial-number 0x080F0000:u64le --serial-start 18446744073709551615
check serial-start-max 64 $? "$work/err" "up to 9223372036854775806"
STM32DFU_SIM_LOG="sqlite:$work/sn.db" run $sim write "$work/fw.bin" --serial-number 0x080F0000:u64le --serial-start 9223372036854775806
check serial-last 0 $?
STM32DFU_SIM_LOG="sqlite:$work/sn.db" run --sim=f746,timing=0,state="$work/sn2.state",uid=000000011111222233334444 write "$work/fw.bin" \
	--serial-number 0x080F0000:u64le
check serial-exhausted 65 $? "$work/err" "last number"
python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute("select min(number) from serial_numbers").fetchone(); assert r[0] >= 0, r' \
	"$work/sn.db" || { echo "FAIL serial-negative"; fails=$((fails + 1)); }

# --- item 4: option-byte values mean one thing ----------------------------------------------------
run --sim=l43x,timing=0,state="$work/l4ob.state" ob set BOR_LEV=5 --dry-run
check ob-reserved 64 $? "$work/err" "reserved value"
grep -q "valid: 0 (BOR level 0" "$work/err" || { echo "FAIL ob-reserved-lists-valid"; cat "$work/err"; fails=$((fails + 1)); }
run $sim ob set BOR_LEV=1 BOR_LEV=2 --dry-run
check ob-twice 64 $? "$work/err" "given twice"
run $sim ob set BOOT_ADD0=0xC000 --dry-run --json
check ob-addr 0 $?
py "$work/out" 'c = [x for x in d["changes"] if x["field"] == "BOOT_ADD0"][0]; assert c["new"] == 3, c' ||
	{ echo "FAIL ob-addr-is-address"; fails=$((fails + 1)); }
run $sim ob set BOOT_ADD0=0x10000 --dry-run --json
check ob-addr-big 0 $?
py "$work/out" 'c = [x for x in d["changes"] if x["field"] == "BOOT_ADD0"][0]; assert c["new"] == 4, c' ||
	{ echo "FAIL ob-addr-big-is-address"; fails=$((fails + 1)); }
run $sim ob set BOOT_ADD0=0x2000 --dry-run
check ob-addr-unaligned 64 $? "$work/err" "raw:"
run $sim ob set BOOT_ADD0=raw:0x0040 --dry-run --json
check ob-addr-raw 0 $?
py "$work/out" 'c = [x for x in d["changes"] if x["field"] == "BOOT_ADD0"][0]; assert c["new"] == 0x40, c' ||
	{ echo "FAIL ob-addr-raw-value"; fails=$((fails + 1)); }
# the README's example says what it does on the family it names (F7)
grep -q "ob set BOR_LEV=level2 nWRP3=0 .*# F7: brown-out reset at 2.40-2.70 V" "${STM32DFU_SOURCE_ROOT:-.}/README.md" ||
	{ echo "FAIL readme-ob-example: not the line this test checks"; fails=$((fails + 1)); }
run $sim ob set BOR_LEV=level2 nWRP3=0 --dry-run --json
check readme-ob 0 $?
py "$work/out" 'c = [x for x in d["changes"] if x["field"] == "BOR_LEV"][0]; assert "2.40-2.70 V" in c["new_meaning"], c' ||
	{ echo "FAIL readme-ob-meaning"; fails=$((fails + 1)); }

# --- item 5: ob show keeps its columns with long field names (SWAP_BANK_OPT, RAM_PARITY_CHECK) ----
for p in h743 f0-32k; do
	run --sim=$p,timing=0,state="$work/col-$p.state" ob show
	check "ob-show-$p" 0 $?
	python3 - "$work/out" <<'PY' || { echo "FAIL ob-show-columns-$p"; sed 's/^/    /' "$work/out" | head -12; fails=$((fails + 1)); }
import sys
lines = open(sys.argv[1]).read().splitlines()
head = [l for l in lines if l.strip().startswith("field") and "value" in l][0]
col = head.index("value")
rows = lines[lines.index(head) + 1:]
rows = rows[:[i for i, l in enumerate(rows) if l.strip().startswith("(")][0]]
bad = [l for l in rows if l[col:col + 2] not in ("0x", "- ") and not l[col:].startswith("-")]
assert rows and not bad, bad
PY
done

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
