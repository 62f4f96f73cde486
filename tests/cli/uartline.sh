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
run $wired --reset-seq=-rts\&dtr,-dtr, info; check wired-boot0-low 74 $? "$work/err" "after the reset sequence"
grep -q -- "--reset-seq ENTRY:EXIT" "$work/err"; check wired-boot0-low-hint 0 $?
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

# ---- doctor over USART: which rates hold (a reset between rates: --reset-seq on a wired fixture) ----
f4w="--sim=f407,timing=0,link=uart,uart_nrst=dtr,uart_boot0=rts"
# rates: [(baud, tried, synced, holds, nacks + timeouts + errors)]
rates='r = [(x["baud"], x["tried"], x["synced"], x["holds"], x["nacks"] + x["timeouts"] + x["errors"]) for x in d["uart"]["rates"]]'
nousb='ids = {f["id"] for f in d["findings"]}; assert not ids & {"link", "usb_clock", "hse_margin", "usart", "serial"}, ids; assert d["hse"] is None, d'
run $f4w --reset-seq doctor --json; check doctor-f4 0 $?
py "$work/out" "$rates; $nousb"'
assert d["ok"] and d["uart"]["swept"] and d["uart"]["family_max_baud"] == 921600, d["uart"]
assert [b for b, t, s, h, f in r if h] == [57600, 115200, 230400, 460800, 921600], r
assert d["uart"]["recommended_baud"] == 921600 and d["verdict"] == "healthy", d'
check doctor-f4-all-hold 0 $?
# no USB serial over USART: the identity's verdict says so, not "match_hal" (issue 23)
py "$work/out" 'assert d["serial_verdict"] == "no_usb_serial" and d["serial_reported"] == "" and d["serial_computed"] is None, d
assert "USART" in d["serial_explanation"], d["serial_explanation"]'
check doctor-no-usb-serial 0 $?
run $f4w --reset-seq info --json; check info-uart 0 $?
py "$work/out" 'assert d["serial_verdict"] == "no_usb_serial", d["serial_verdict"]'; check info-no-usb-serial 0 $?
# the ROM's own ceiling: faster 0x7F goes unanswered, and the fastest that holds is recommended
run $f4w,uart_max_baud=230400 --reset-seq doctor --json; check doctor-ceiling 0 $?
py "$work/out" "$rates"'
assert r[3][:4] == (460800, True, False, False) and r[4][:4] == (921600, True, False, False), r
assert d["uart"]["recommended_baud"] == 230400, d["uart"]'
check doctor-ceiling-230400 0 $?
# a line that is noisy above 230400: those rates are refused with their NACKs and timeouts counted
run $f4w,uart_noise=0.01,uart_noise_above=230400 --reset-seq doctor --json; check doctor-noise 0 $?
py "$work/out" "$rates"'
assert [h for b, t, s, h, f in r] == [True, True, True, False, False], r
assert r[3][4] > 0 and r[4][4] > 0 and r[2][4] == 0, r
assert d["uart"]["recommended_baud"] == 230400, d["uart"]
f = [x for x in d["findings"] if x["id"] == "uart_link"][0]
assert "230400" in f["text"] and "holds" in f["text"] and "--baud 230400" in f["advice"], f'
check doctor-noise-refused 0 $?
run $f4w,uart_noise=0.01,uart_noise_above=230400 --reset-seq doctor
check doctor-noise-text 0 $? "$work/out" "recommended: --baud 230400"
grep -q "460800  ACK .* refused" "$work/out"; check doctor-noise-text-refused 0 $?
# a family with no evidence above 115200: the faster rates are not tried, and said so
run --sim=f746,timing=0,link=uart,uart_nrst=dtr,uart_boot0=rts,uart_max_baud=921600 --reset-seq doctor --json
check doctor-f7 0 $?
py "$work/out" "$rates"'
assert [(b, t) for b, t, s, h, f in r] == [(57600, True), (115200, True), (230400, False), (460800, False), (921600, False)], r
assert "115200" in d["uart"]["rates"][2]["why_not"] and d["uart"]["recommended_baud"] == 115200, d["uart"]'
check doctor-f7-ceiling 0 $?
# without a reset between rates only the session's rate is measured, and the note says why
run --sim=f746-report,timing=0,link=uart --baud 57600 doctor --json; check doctor-no-reset 0 $?
py "$work/out" "$rates; $nousb"'
assert [b for b, t, s, h, f in r if t] == [57600] and not d["uart"]["swept"], r
assert "uart_rates" in {f["id"] for f in d["findings"]}, d["findings"]'
check doctor-no-reset-note 0 $?
# no rate holds: exit 74, the failure document
run --sim=f746,timing=0,link=uart,uart_noise=0.01 doctor --json; check doctor-bad 74 $?
py "$work/out" 'assert d["ok"] is False and d["error"] == "STM32DFU_E_USB_IO" and d["verdict"] == "link_bad" and d["uart"]["recommended_baud"] is None, d'
check doctor-bad-json 0 $?
run --sim=f746,timing=0,link=uart doctor --hse 25M; check doctor-uart-hse 64 $? "$work/err" "needs no crystal"

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

# ---- station and fleet writes take one board per --port (tests/cli/station_uart.sh); a --port that is
# no serial port is refused before any work (no station started, no board written) ----
run station "$work/a.bin" --port /dev/null --count 1 --no-log; check station-port 69 $? "$work/err" "port /dev/null"
absent station-port-before-work "$work/err" "waiting for boards"
run write "$work/a.bin" --all --port /dev/null --no-log; check fleet-port 69 $? "$work/err" "port /dev/null"
absent fleet-port-before-work "$work/out" "devices programmed"

# ---- doctor over USART under read protection (after the log checks: it adds an ob record) ----
# under RDP level 1 the ROM serves Get, Get Version and Get ID only (AN3155 Table 2 note 2): doctor
# says the chip is protected, what it could not read (flash-size register, UID, option bytes),
# measures the link with GET and Get ID only (Read Memory would be NACKed, which is no line fault)
# and names the command that lifts it
rst="$work/rdp1.state"
run --sim=f746,timing=0,link=uart,state=$rst ob set RDP=level1 --i-understand-rdp1-needs-mass-erase
check doctor-rdp1-set 0 $?
run --sim=f746,timing=0,link=uart,state=$rst doctor --json; check doctor-rdp1 0 $?
py "$work/out" 'f = {x["id"]: x for x in d["findings"]}
assert d["rdp_level"] == 1 and d["uid"] is None and d["chip"]["flash_size_source"] == "layout", d
assert d["uart"]["reads"] is False and d["uart"]["recommended_baud"] == 115200, d["uart"]
assert "Get ID only" in f["rdp"]["text"] and "cannot be read" in f["rdp"]["text"], f["rdp"]
assert "unprotect --yes" in f["rdp"]["advice"], f["rdp"]
assert "read protection refuses Read Memory" in f["uart_link"]["text"] and "same data" not in f["uart_link"]["text"], f'
check doctor-rdp1-json 0 $?
run --sim=f746,timing=0,link=uart,state=$rst doctor; check doctor-rdp1-text 0 $? "$work/out" "GET and Get ID in turn: read protection refuses Read Memory"
grep -q "flash    1 MiB (the family's largest: the flash-size register was not read)" "$work/out"
check doctor-rdp1-text-flash 0 $?
grep -q "bootldr  V3.1 (USART protocol version, from GET)" "$work/out"; check doctor-rdp1-text-bootldr 0 $?
absent doctor-rdp1-no-id-byte "$work/out" "ID byte"
grep -q "RDP      level 1" "$work/out"; check doctor-rdp1-text-level 0 $?
grep -q "'stm32dfu unprotect --yes' (Readout Unprotect) removes it and erases the flash" "$work/out"
check doctor-rdp1-text-advice 0 $?

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
