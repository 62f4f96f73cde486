#!/bin/sh
# The contract of docs/exit-codes.md and docs/json.md: runs a fixed set of commands against the
# emulator (good runs, bad inputs, injected faults), then checks that every documented exit code
# was returned and every documented JSON field was produced by the command it is documented for.
# Usage: contract.sh STM32DFU  (env: STM32DFU_SOURCE_ROOT, STM32DFU_PROFILE_DIR)
set -u
tool=$1
root=${STM32DFU_SOURCE_ROOT:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# doctor remembers its link verdict per board in the state directory: keep it to this script
export XDG_STATE_HOME="$work/state"
mkdir "$work/json" "$work/stdout"
sim="--sim=f746,timing=0,state=$work/chip.state"
# sector 0 write-protected (nWRP bit 0 clear): writes there fail with PROTECTED
wrp="--sim=f746,timing=0,state=$work/wrp.state,ob_default=FF AA 00 55 FF FF FF FF FE FF 00 00 FF FF FF FF 80 00 7F FF FF FF FF FF 40 00 BF FF FF FF FF FF"
n=0
# every record of this run goes to a log of its own (emulated chips: STM32DFU_SIM_LOG)
STM32DFU_SIM_LOG=sqlite:$work/log.sqlite3
export STM32DFU_SIM_LOG
# r KEY ARGS...: runs the tool; KEY names the docs/json.md section its --json output belongs to ("-": none)
r() {
	key=$1
	shift
	n=$((n + 1))
	"$tool" "$@" >"$work/out" 2>"$work/err"
	rc=$?
	echo "$rc $*" >>"$work/codes"
	cp "$work/out" "$work/stdout/$n"
	echo "$n $rc $*" >>"$work/runs"
	[ "$key" = - ] || cp "$work/out" "$work/json/$n.$key.json"
}
head -c 200000 /dev/urandom >"$work/a.bin"
head -c 4096 /dev/urandom >"$work/b.bin"
python3 - "$work/entry.hex" <<'PY'
import sys
def rec(t, addr, data):
    b = [len(data), addr >> 8, addr & 255, t] + list(data)
    return ":" + "".join("%02X" % x for x in b) + "%02X" % (-sum(b) & 255) + "\n"
open(sys.argv[1], "w").write(rec(4, 0, b"\x08\x00") + rec(0, 0, bytes(range(16))) + rec(5, 0, b"\x08\x00\x01\x01") + rec(1, 0, b""))
PY
printf ':10000000ZZ\n' >"$work/bad.hex"

r list $sim list --json
r info $sim info --json
r write $sim write "$work/a.bin" --json
r read $sim read 0x08000000 1K -o "$work/r.bin" --json
r verify $sim verify "$work/a.bin" --json
r verify $sim verify "$work/b.bin" --json                 # 10: differs
r erase $sim erase --sectors 7 --json
r erase $sim erase 0x08008000 100 --json                  # exactly 100 bytes; the rest of the sector kept
r erase $sim erase --all --yes --json
r - $sim erase --all                                      # 11: needs --yes
# an application's vector table at the start (MSP in SRAM, Thumb reset vector in flash): it runs
printf '\000\000\005\040\231\001\000\010' | dd of="$work/a.bin" conv=notrunc 2>/dev/null
r write $sim write "$work/a.bin" --json --leave
r leave $sim leave --json
r COMMAND $sim leave 0x08008000 --json                    # 13: no vector table there, the bootloader comes back
r write "$wrp" write "$work/b.bin" --json                 # 12: write-protected (refused before any erase)
# a sector that no longer erases (worn_sector): the verify finds the old bits, exit 10
worn="--sim=f746,timing=0,state=$work/worn.state,worn_sector=0"
r - "$worn" write "$work/a.bin"
r write "$worn" write "$work/b.bin" --json                # 10: mismatch_address, blocked_sector null
r "write --all" $sim write "$work/b.bin" --all --json --log-dir "$work/logs"
r "write --all" "$wrp" write "$work/b.bin" --all --json
r "write --all" $sim write "$work/b.bin" --all --json --serial-number 0x080F0000
r write $sim write "$work/b.bin" --json --serial-number 0x080F0000   # serial_number
r write $sim write "$work/a.bin" -a 0x20010000 --json    # memory: RAM
r - $sim write --no-such-option                           # 64
r - "file" info "$work/bad.hex"                           # 65
r - $sim write "$work/missing.bin"                        # 66
r - -d 1234:5678 info                                     # 69: no such device
r - $sim read 0x08000000 16 -o "$work/no/such/dir/x.bin"  # 73
r - --sim=f746,timing=0,fault_rate=1 info                 # 74: no answer
r - $sim read 0x30000000 16 --force -o "$work/x.bin"      # 76: errTARGET (--force: past the map check)
r "file info" file info "$work/a.bin" -a 0x08000000 --json
r "file info" file info "$work/entry.hex" --json
r "file convert" file convert "$work/a.bin" "$work/a.dfu" -a 0x08000000 --json
r "file info" file info "$work/a.dfu" --json
r "ob show" $sim ob show --json
r "ob set" $sim ob set BOR_LEV=1 --json
r "ob set" $sim ob set RDP=level1 --i-understand-rdp1-needs-mass-erase --json
r unprotect $sim unprotect --yes --json
r log log --sim --json
r "log --sync" log --sim --sync --json
r doctor --sim=f746,timing=0 doctor --hse 25M --json
r doctor --sim=f746-report,timing=0 doctor --json        # 74: the link is bad
# failures answer in JSON too (docs/json.md, "on failure"): usage, confirmation, device, leave
r COMMAND $sim write --no-such-option --json              # 64, found before the command
r COMMAND --json $sim erase --all                         # 11: needs --yes
r COMMAND --json $sim leave 0xZZ                          # 64: bad address
r COMMAND --json $sim frobnicate                          # 64: no such command
r COMMAND --json -d 1234:5678 info                        # 69
r COMMAND --sim=f746,timing=0,fault_rate=1 leave --json   # 74: leave fails
r COMMAND $sim write "$work/missing.bin" --json           # 66
r COMMAND $sim read 0x30000000 16 --force -o "$work/x.bin" --json # 76
r COMMAND --json $sim unprotect                           # 11
# a write that fails after its erase saves what it must not lose; recover puts it back. Transfer 115
# is a program block (no doctor verdict is noted for this board: f746-report is another UID)
r write --sim=f746,timing=0,state=$work/rescue.state,timeout_at=115 --retries 0 write "$work/b.bin" -a 0x08000100 --json # 74
r recover --sim=f746,timing=0,state=$work/rescue.state recover --json
# SIGINT: stops at a transfer boundary, exit 130 (timing=1: the write takes seconds)
n=$((n + 1))
"$tool" --sim=f746,timing=1,state=$work/chip.state write "$work/a.bin" --json >"$work/out" 2>"$work/err" &
pid=$!
sleep 1
kill -INT $pid
wait $pid
rc=$?
echo "$rc write (SIGINT)" >>"$work/codes"
cp "$work/out" "$work/stdout/$n"
echo "$n $rc write --json (SIGINT)" >>"$work/runs"
cp "$work/out" "$work/json/$n.write.json"

python3 - "$root/docs/exit-codes.md" "$root/docs/json.md" "$work/codes" "$work/json" "$work/runs" "$work/stdout" <<'PY'
import json, os, re, sys
codes_doc, json_doc, codes_file, json_dir, runs_file, stdout_dir = sys.argv[1:]
# codes that only a real OS produces, so the emulator cannot: say why, and keep the list short
not_reachable = {
    70: "an internal error is a bug: no input is meant to produce it",
    77: "a permission refusal comes from the OS; the tests run as the device's owner",
    75: "station's records left in the spool need virtual USB and PostgreSQL: peer stm32dfu-station-pg checks it",
}
errors = []
seen_codes = {}
for line in open(codes_file):
    code, cmd = line.rstrip("\n").split(" ", 1)
    seen_codes.setdefault(int(code), cmd)
documented = [int(m.group(1)) for m in re.finditer(r"^\| (\d+) \|", open(codes_doc).read(), re.M)]
assert documented, "no codes parsed from exit-codes.md"
for c in documented:
    if c not in seen_codes and c not in not_reachable:
        errors.append(f"exit code {c} is documented but no command of the contract run returned it")
for c in seen_codes:
    if c not in documented:
        errors.append(f"exit code {c} (from: {seen_codes[c]}) is not documented")

def flat(v, prefix, out):
    if isinstance(v, dict):
        for k, x in v.items():
            out.add(prefix + k)
            flat(x, prefix + k + ".", out)
    elif isinstance(v, list):
        for x in v:
            flat(x, prefix[:-1] + "[]." if prefix else "[].", out)

produced = {}
for name in sorted(os.listdir(json_dir)):
    key = name.split(".", 1)[1].rsplit(".", 1)[0]
    text = open(os.path.join(json_dir, name)).read()
    try:
        doc = json.loads(text)
    except ValueError as e:
        errors.append(f"{name}: not JSON ({e}): {text[:200]!r}")
        continue
    out = produced.setdefault(key, set())
    if isinstance(doc, list):
        for x in doc:
            flat(x, "", out)
    else:
        flat(doc, "", out)

# sections: "## `stm32dfu KEY --json`"; the shared blocks count for list and info
section, fields = None, {}
shared = []
for line in open(json_doc):
    m = re.match(r"^## `stm32dfu (.+?) --json`", line)
    if m:
        section = m.group(1)
        fields.setdefault(section, []).extend(shared if section in ("list", "info") else [])
        continue
    if line.startswith("## "):
        section = "shared"
        continue
    m = re.match(r"^\| `([^`]+)` \|", line)
    if m and section:
        (shared if section == "shared" else fields[section]).append(m.group(1))
assert fields, "no sections parsed from json.md"
for section, names in fields.items():
    if section not in produced:
        errors.append(f"json.md documents `{section} --json` but the contract run does not produce it")
        continue
    for f in names:
        if f not in produced[section]:
            errors.append(f"json.md: `{section} --json` field {f} was never produced")
# every failing run with --json printed exactly one document with the failure fields
def failure_fields(rec, where):
    if rec.get("ok") is not False:
        errors.append(f"{where}: failed but its document does not say \"ok\": false")
    if not str(rec.get("error", "")).startswith("STM32DFU_E_"):
        errors.append(f"{where}: no error symbol")
    if not rec.get("message"):
        errors.append(f"{where}: no message")
    if "hint" not in rec:
        errors.append(f"{where}: no hint field")
failures_checked = 0
for line in open(runs_file):
    num, rc, cmd = line.rstrip("\n").split(" ", 2)
    if rc == "0" or "--json" not in cmd.split():
        continue
    failures_checked += 1
    text = open(os.path.join(stdout_dir, num)).read()
    try:
        doc = json.loads(text)  # raises on no document and on two documents
    except ValueError as e:
        errors.append(f"exit {rc} of `{cmd}`: stdout is not exactly one JSON document ({e}): {text[:200]!r}")
        continue
    if isinstance(doc, list):
        for rec in doc:
            if rec.get("ok") is False:
                failure_fields(rec, f"`{cmd}` record {rec.get('path')}")
    else:
        failure_fields(doc, f"exit {rc} of `{cmd}`")
if failures_checked < 10:
    errors.append(f"only {failures_checked} failing --json runs checked")
for e in errors:
    print("FAIL", e)
total = sum(len(v) for v in fields.values())
print(f"{failures_checked} failing --json runs each printed one failure document")
print(f"{len(documented)} exit codes ({len(not_reachable)} not reachable without real hardware), {total} JSON fields in {len(fields)} commands checked")
sys.exit(1 if errors else 0)
PY
