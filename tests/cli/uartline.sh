#!/bin/sh
# Issue 23 (helper uartline): what the fixture and the line give a USART session, through the built
# binary on the in-process emulator (--sim=PROFILE,link=uart): --reset-seq on every --port command,
# leave --reset, doctor's rate sweep over USART, and records that name the link and the port.
# Usage: uartline.sh STM32DFU  (env: STM32DFU_PROFILE_DIR)
. "$(dirname "$0")/lib.sh"

export XDG_STATE_HOME="$work/state"
wired="--sim=f407,timing=0,link=uart,state=$work/f407.state,uart_nrst=dtr,uart_boot0=rts"

# ---- --reset-seq on the --port open path: the fixture holds NRST while the port is open ----
run $wired info; check wired-held 74 $? "$work/err" "no answer to 0x7F"
run $wired --reset-seq info; check wired-reset-seq 0 $? "$work/out" "device ID 0x413"
run $wired --reset-seq=-rts\&dtr,-dtr, info; check wired-boot0-low 74 $?
run $wired --reset-seq=brk info; check reset-seq-bad 64 $? "$work/err" "brk"
run --sim=f407,timing=0 --reset-seq info; check reset-seq-usb 64 $? "$work/err" "needs --port"
# leave --reset: the exit sequence, said as what it is (nothing confirms the application runs)
run $wired --reset-seq leave --reset --json; check leave-reset 0 $?
py "$work/out" 'assert d["left"] is True and d["by"] == "reset" and d["confirmed"] is False, d'
check leave-reset-json 0 $?
run $wired --reset-seq=rts\&dtr,-dtr, leave --reset; check leave-reset-no-exit 64 $? "$work/err" "no exit sequence"
run --sim=f407,timing=0,link=uart leave --reset; check leave-reset-no-seq 64 $? "$work/err" "needs --port with --reset-seq"
run --sim=f407,timing=0,link=uart,uart_nrst=dtr,uart_boot0=rts --reset-seq leave --reset 0x08000000
check leave-reset-addr 64 $? "$work/err" "no ADDR"

# ---- records name the link and the port (log --json, --csv, write --json) ----
head -c 3000 /dev/urandom >"$work/a.bin"
run --sim=f407,timing=0,link=uart,state=$work/r.state write "$work/a.bin" --json; check write-uart 0 $?
py "$work/out" 'assert d["link"] == "uart" and d["port"] == "sim-uart", d'; check write-json-link 0 $?
run --sim=f407,timing=0,state=$work/r.state write "$work/a.bin" --json; check write-usb 0 $?
py "$work/out" 'assert d["link"] == "usb" and "port" not in d, d'; check write-json-usb 0 $?
run log --sim --json; check log-json 0 $?
py "$work/out" 'w = [x for x in d if x["command"] == "write"]; assert [(x["link"], x["port"], x["usb_path"]) for x in w] == [("uart", "sim-uart", ""), ("usb", "", "sim")], w'
check log-json-link 0 $?
run log --sim --csv; check log-csv 0 $?
python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1], newline=""))); assert [(x["link"], x["port"]) for x in r] == [("uart", "sim-uart"), ("usb", "")], r' "$work/out"
check log-csv-link 0 $?
run log --sim; check log-text 0 $? "$work/out" "over USART sim-uart"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
