#!/bin/sh
# A shared machine and a full disk (issue 26 item 9, issue 21 item 6). Our state folders are ours:
# a symlink another user planted in a shared XDG_STATE_HOME is refused by name and receives nothing;
# a relative XDG_STATE_HOME is ignored; records are 0600 in 0700 folders; the emulator's state file
# is never written through a planted <state>.tmp symlink. Every output file (read -o, file convert,
# --trace, per-device logs) is complete or absent: a full disk (RLIMIT_FSIZE, SIGXFSZ ignored)
# leaves the old file byte for byte and no temporary file.
# Usage: shared_machine.sh STM32DFU
. "$(dirname "$0")/lib.sh"
export XDG_STATE_HOME="$work/state"
mode() { stat -c %a "$1"; }
# no file but those named in the folder ($1) matches *.tmp-*
no_temp() { if ls -A "$2" | grep -q 'tmp'; then echo "FAIL $1: $(ls -A "$2")"; fails=$((fails + 1)); else passes=$((passes + 1)); fi; }
# full ARGS...: the tool with at most 20 KiB per file (ulimit -f counts 512-byte blocks in sh)
full() { (trap '' XFSZ; ulimit -f 40; "$tool" "$@") >"$work/out" 2>"$work/err"; }

# ---- records: 0600 files in 0700 folders ----
printf '\132%.0s' $(seq 1 4096) >"$work/app.bin"
sim="--sim=f746,timing=0"
run $sim write "$work/app.bin" -a 0x08000000; check write 0 $?
[ "$(mode "$work/state/stm32dfu")" = 700 ]; check state-folder-0700 0 $?
# an emulated chip's records are in the state folder's sim/ (docs/architecture.md)
[ "$(mode "$work/state/stm32dfu/sim")" = 700 ]; check sim-folder-0700 0 $?
[ "$(mode "$work/state/stm32dfu/sim/log.sqlite3")" = 600 ]; check log-0600 0 $?
for f in "$work"/state/stm32dfu/sim/sim-*.state; do [ "$(mode "$f")" = 600 ]; check sim-state-0600 0 $?; done

# ---- a symlink planted where our folder goes: refused, nothing sent to it ----
mkdir -p "$work/shared" "$work/attacker"; chmod 1777 "$work/shared"
ln -s "$work/attacker" "$work/shared/stm32dfu"
XDG_STATE_HOME="$work/shared" run $sim write "$work/app.bin" -a 0x08000000
check symlink-refused 66 $? "$work/err" "shared/stm32dfu is a symbolic link"
[ -z "$(ls -A "$work/attacker")" ]; check symlink-got-nothing 0 $?
# a folder of ours that others can read: refused, the fix named
mkdir -p "$work/open/stm32dfu"; chmod 755 "$work/open/stm32dfu"
XDG_STATE_HOME="$work/open" run $sim write "$work/app.bin" -a 0x08000000
check open-refused 66 $? "$work/err" "chmod 700"

# ---- a relative XDG_STATE_HOME is ignored (the XDG spec), HOME is used ----
mkdir -p "$work/cwd" "$work/home"
tool=$(realpath "$tool")
(cd "$work/cwd" && XDG_STATE_HOME=rel HOME="$work/home" "$tool" $sim write "$work/app.bin" -a 0x08000000) >"$work/out" 2>"$work/err"
check relative-xdg 0 $?
[ ! -e "$work/cwd/rel" ] && [ -d "$work/home/.local/state/stm32dfu" ]; check relative-xdg-ignored 0 $?

# ---- the emulator's state file: a planted <state>.tmp symlink is not followed ----
echo victim >"$work/victim"
ln -s "$work/victim" "$work/chip.state.tmp"
run "--sim=f746,timing=0,state=$work/chip.state" write "$work/app.bin" -a 0x08000000; check state-write 0 $?
[ "$(cat "$work/victim")" = victim ] && [ -s "$work/chip.state" ]; check state-tmp-symlink 0 $?

# ---- a full disk: old outputs whole, no partial or temporary file ----
sim="--sim=f746,timing=0,state=$work/chip.state"
mkdir "$work/out1"
run $sim read 0x08000000 60000 -o "$work/out1/backup.bin"; check read 0 $?
cp "$work/out1/backup.bin" "$work/good.bin"
full $sim read 0x08000000 128K -o "$work/out1/backup.bin"; check read-full-disk 73 $? "$work/err" "backup.bin"
same read-old-kept "$work/out1/backup.bin" "$work/good.bin"
no_temp read-no-temp "$work/out1"
# file convert: the old file kept, no 0-byte file
mkdir "$work/out2"
head -c 65536 /dev/urandom >"$work/big.bin"
run file convert "$work/big.bin" "$work/out2/big.hex" -a 0x08000000; check convert 0 $?
cp "$work/out2/big.hex" "$work/good.hex"
full file convert "$work/big.bin" "$work/out2/big.hex" -a 0x08000000; check convert-full-disk 73 $?
same convert-old-kept "$work/out2/big.hex" "$work/good.hex"
full file convert "$work/big.bin" "$work/out2/new.srec" -a 0x08000000; check convert-new-full-disk 73 $?
[ ! -e "$work/out2/new.srec" ]; check convert-no-partial 0 $?
no_temp convert-no-temp "$work/out2"
# --trace: a transcript that did not fit leaves the old one
mkdir "$work/out3"
echo "old transcript" >"$work/out3/t.trace"
full $sim read 0x08000000 64K -o "$work/x.bin" --trace "$work/out3/t.trace"
[ "$(cat "$work/out3/t.trace")" = "old transcript" ]; check trace-old-kept 0 $?
no_temp trace-no-temp "$work/out3"
run $sim read 0x08000000 1K -o /dev/null --format bin --trace "$work/out3/t.trace"; check trace 0 $?
grep -q "stm32dfu transcript" "$work/out3/t.trace"; check trace-written 0 $?
# --trace is written live to FILE.tmp-XXXXXX beside FILE and renamed at the end: a run killed while
# the chip erases (a hung run, as far as the user can tell) leaves FILE as it was and its transcript
# so far, the erase command included, in FILE.tmp-* (what a bug report needs most)
mkdir "$work/out4"
echo "old transcript" >"$work/out4/k.trace"
# (a mass erase of 10 minutes: the tool is still at it when it is killed, whatever the load)
"$tool" --sim=f746,timing=1,t_mass_erase=600000 erase --all --yes --no-log --trace "$work/out4/k.trace" \
	>"$work/out" 2>"$work/err" &
pid=$! seen=
for _ in $(seq 1 400); do
	# the mass erase's DNLOAD (command 0x41) is in the transcript while the chip erases
	if grep -Eqs 'OUT .*\| 41 -> ' "$work"/out4/k.trace.tmp-*; then seen=1; break; fi
	kill -0 $pid 2>/dev/null || break
	sleep 0.05
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
[ -n "$seen" ]; check trace-live 0 $?
[ "$(cat "$work/out4/k.trace")" = "old transcript" ]; check trace-killed-old-kept 0 $?
[ "$(ls "$work"/out4/k.trace.tmp-* 2>/dev/null | wc -l)" = 1 ]; check trace-killed-partial-left 0 $?
head -1 "$work"/out4/k.trace.tmp-* 2>/dev/null | grep -q "stm32dfu transcript"; check trace-partial-header 0 $?
# a run that ends (here: stopped by SIGTERM at a transfer boundary) renames it into place, whole
rm -f "$work"/out4/k.trace.tmp-*
"$tool" --sim=f746,timing=1,t_mass_erase=2000 erase --all --yes --no-log --trace "$work/out4/k.trace" >"$work/out" 2>"$work/err" &
pid=$! seen=
for _ in $(seq 1 600); do
	if grep -Eqs 'OUT .*\| 41 -> ' "$work"/out4/k.trace.tmp-*; then seen=1; break; fi
	kill -0 $pid 2>/dev/null || break
	sleep 0.05
done
kill -TERM $pid 2>/dev/null; wait $pid; rc=$?
[ -n "$seen" ] && [ $rc != 0 ]; check trace-term-stopped 0 $?
grep -Eq 'OUT .*\| 41 -> ' "$work/out4/k.trace"; check trace-term-whole 0 $?
no_temp trace-term-no-temp "$work/out4"
# per-device logs (--log-dir): appended to whole, or left as they were
mkdir "$work/logs"
run $sim write "$work/app.bin" -a 0x08000000 --all --log-dir "$work/logs" --no-log; check fleet-log 0 $?
log=$(ls "$work"/logs/*.log); lines=$(wc -l <"$log")
# 20400 bytes: room under the 20 KiB limit for a few bytes of this run's lines, not all of them
head -c $((20400 - $(wc -c <"$log"))) /dev/zero | tr '\0' x >>"$log"; cp "$log" "$work/good.log"
full $sim write "$work/app.bin" -a 0x08000000 --all --log-dir "$work/logs" --no-log
same fleet-log-old-kept "$log" "$work/good.log"
no_temp fleet-log-no-temp "$work/logs"
run $sim write "$work/app.bin" -a 0x08000000 --all --log-dir "$work/logs" --no-log; check fleet-log-again 0 $?
[ "$(head -n "$lines" "$log")" = "$(head -n "$lines" "$work/good.log")" ] && [ "$(wc -c <"$log")" -gt "$(wc -c <"$work/good.log")" ]
check fleet-log-appended 0 $?


# ---- recover changes flash: it keeps a record, and takes --no-log (issue 26 item 8) ----
rsim="--sim=f746,timing=0,state=$work/rec.state"
head -c 32768 /dev/urandom >"$work/fill.bin"
# cut a write after its erase (transfer 80: a program block), leaving a recovery file
cut() {
	run $rsim write "$work/fill.bin" -a 0x08000000 --no-log
	run "$rsim,timeout_at=80" --retries 0 write "$work/app.bin" -a 0x08000100 --no-log
	[ $? = 74 ] && grep -q "recovery" "$work/err"
}
cut; check rec-write-cut 0 $?
run $rsim recover --no-log; check rec-no-log-accepted 0 $?
cut; check rec-write-cut-again 0 $?
STM32DFU_SIM_LOG="sqlite:$work/rec.sqlite3" run $rsim recover --station line7; check rec-recover 0 $?
run log --log "sqlite:$work/rec.sqlite3" --json; check rec-log 0 $?
py "$work/out" 'r = d[-1]; assert r["command"] == "recover" and r["ok"] and r["station"] == "line7" and r["uid"], r'
check rec-logged 0 $?
# nothing to put back: the chip is not changed, no record
STM32DFU_SIM_LOG="sqlite:$work/rec.sqlite3" run $rsim recover; check rec-nothing 0 $?
run log --log "sqlite:$work/rec.sqlite3" --json; py "$work/out" 'assert len(d) == 1, d'; check rec-one-record 0 $?

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
