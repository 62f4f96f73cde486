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
# r KEY CODE ARGS...: runs the tool; KEY names the docs/json.md section its --json output belongs to
# ("-": none), CODE the exit code docs/exit-codes.md gives for the case (checked below)
r() {
	key=$1
	want=$2
	shift 2
	n=$((n + 1))
	"$tool" "$@" >"$work/out" 2>"$work/err"
	rc=$?
	echo "$rc $*" >>"$work/codes"
	cp "$work/out" "$work/stdout/$n"
	cp "$work/err" "$work/stderr.$n"
	echo "$n $rc $want $*" >>"$work/runs"
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

r list 0 $sim list --json
r list 69 $sim -d 1234:5678 list --json                   # 69: none found; the failure document
r - 77 "$sim,open_refused=access" info --json             # 77: the OS refuses the device (injected)
r info 0 $sim info --json
r info 0 --sim=f746,timing=0,link=uart info --json
r write 0 $sim write "$work/a.bin" --json
r write 0 --sim=f746,timing=0,link=uart write "$work/a.bin" --json   # link uart, port
r read 0 $sim read 0x08000000 1K -o "$work/r.bin" --json
r verify 0 $sim verify "$work/a.bin" --json
r verify 10 $sim verify "$work/b.bin" --json                 # 10: differs
r erase 0 $sim erase --sectors 7 --json
r erase 0 $sim erase 0x08008000 100 --json                  # exactly 100 bytes; the rest of the sector kept
r erase 0 $sim erase --all --yes --json
r - 11 $sim erase --all                                      # 11: needs --yes
# an application's vector table at the start (MSP in SRAM, Thumb reset vector in flash): it runs
printf '\000\000\005\040\231\001\000\010' | dd of="$work/a.bin" conv=notrunc 2>/dev/null
r write 0 $sim write "$work/a.bin" --json --leave
r leave 0 $sim leave --json
r COMMAND 13 $sim leave 0x08008000 --json                    # 13: no vector table there, the bootloader comes back
r write 12 "$wrp" write "$work/b.bin" --json                 # 12: write-protected (refused before any erase)
# a sector that no longer erases (worn_sector): the verify finds the old bits, exit 10
worn="--sim=f746,timing=0,state=$work/worn.state,worn_sector=0"
r - 0 "$worn" write "$work/a.bin"
r write 10 "$worn" write "$work/b.bin" --json                # 10: mismatch_address, blocked_sector null
r "write --all" 0 $sim write "$work/b.bin" --all --json --log-dir "$work/logs"
r "write --all" 12 "$wrp" write "$work/b.bin" --all --json
r "write --all" 0 $sim write "$work/b.bin" --all --json --serial-number 0x080F0000
r write 0 $sim write "$work/b.bin" --json --serial-number 0x080F0000   # serial_number
r write 0 $sim write "$work/a.bin" -a 0x20010000 --json    # memory: RAM
r - 64 $sim write --no-such-option                           # 64
r - 65 "file" info "$work/bad.hex"                           # 65
r - 66 $sim write "$work/missing.bin"                        # 66
r - 69 -d 1234:5678 info                                     # 69: no such device
r - 73 $sim read 0x08000000 16 -o "$work/no/such/dir/x.bin"  # 73
r - 74 --sim=f746,timing=0,fault_rate=1 info                 # 74: no answer
r - 76 $sim read 0x30000000 16 --force -o "$work/x.bin"      # 76: errTARGET (--force: past the map check)
r "file info" 0 file info "$work/a.bin" -a 0x08000000 --json
r "file info" 0 file info "$work/entry.hex" --json
r "file convert" 0 file convert "$work/a.bin" "$work/a.dfu" -a 0x08000000 --json
r "file info" 0 file info "$work/a.dfu" --json
r "ob show" 0 $sim ob show --json
r "ob set" 0 $sim ob set BOR_LEV=1 --json
r "ob set" 0 $sim ob set RDP=level1 --i-understand-rdp1-needs-mass-erase --json
r unprotect 0 $sim unprotect --yes --json
r log 0 log --sim --json
r "log --sync" 0 log --sim --sync --json
r doctor 0 --sim=f746,timing=0 doctor --hse 25M --json
r doctor 74 --sim=f746-report,timing=0 doctor --json        # 74: the link is bad
r doctor 0 --sim=f407,timing=0,link=uart,uart_nrst=dtr,uart_boot0=rts --reset-seq doctor --json   # over USART: the rates
r doctor 74 --sim=f746,timing=0,link=uart,uart_noise=0.01 doctor --json   # 74: no rate holds
# failures answer in JSON too (docs/json.md, "on failure"): usage, confirmation, device, leave
r COMMAND 64 $sim write --no-such-option --json              # 64, found before the command
r COMMAND 11 --json $sim erase --all                         # 11: needs --yes
r COMMAND 64 --json $sim leave 0xZZ                          # 64: bad address
r COMMAND 64 --json $sim frobnicate                          # 64: no such command
r COMMAND 69 --json -d 1234:5678 info                        # 69
r COMMAND 74 --sim=f746,timing=0,fault_rate=1 leave --json   # 74: leave fails
r COMMAND 66 $sim write "$work/missing.bin" --json           # 66
r COMMAND 76 $sim read 0x30000000 16 --force -o "$work/x.bin" --json # 76
r COMMAND 11 --json $sim unprotect                           # 11
# every command's failure answers with one document, and the code exit-codes.md gives (issue 24)
r COMMAND 64 $sim list --json --uid X                     # 64: an option list does not take
# list --ports: a port that does not exist is probed as named (every field present, errors said)
r "list --ports" 69 list --ports --probe --port "$work/no-such-tty" --json
r COMMAND 69 -d 1234:5678 info --json                     # 69
r COMMAND 69 --port "$work/no-such-tty" info --json
r COMMAND 74 --sim=f746,uart_mode=silent,link=uart info --json
r COMMAND 76 --sim=f746,uart_mode=echo,link=uart info --json
r COMMAND 65 $sim read 0x60000000 16 -o "$work/x.bin" --json  # 65: outside the map
r COMMAND 66 $sim verify "$work/missing.bin" --json       # 66
r write 65 $sim write "$work/b.bin" -a 0x60000000 --json  # 65: outside the map, image_bytes still 4096
r COMMAND 64 $sim erase 0x08000000 --json                 # 64: no LEN
r COMMAND 65 file convert "$work/bad.hex" "$work/c.bin" --json  # 65
r COMMAND 73 file convert "$work/a.bin" "$work/no/such/dir/c.bin" -a 0x08000000 --json # 73
r COMMAND 64 $sim ob set NO_SUCH_FIELD=1 --json           # 64
r COMMAND 64 $sim ob frob --json                          # 64
r COMMAND 69 --sim=f746,timing=0,state=$work/none.state,pid=0xdf12 ob show --json # 69: no device of 0483:df11
r COMMAND 64 $sim doctor --hse 8 --json                   # 64: no unit
r COMMAND 64 $sim recover --uid XYZ --json                # 64
r COMMAND 64 $sim station --json                          # 64: no FILE
r COMMAND 64 log --since yesterday --json                 # 64
r COMMAND 64 --json                                       # 64: no command
grep -q '"message": "no command' "$work/out" || { echo "FAIL --json alone: the message does not say 'no command'"; cat "$work/out"; exit 1; }
# a .dfu whose suffix CRC is wrong: described, and failed (65) in the same document
cp "$work/a.dfu" "$work/badcrc.dfu"
printf 'X' | dd of="$work/badcrc.dfu" bs=1 seek=100 conv=notrunc 2>/dev/null
r "file info" 65 file info "$work/badcrc.dfu" --json
# --trace names an output file: one that cannot be made is 73, before the device is opened
r COMMAND 73 $sim --trace "$work/no/such/dir/t" info --json
# the log database: not writable, or not a database, is 69 (nothing programmed)
mkdir "$work/rodb"
: >"$work/rodb/log.sqlite3"
printf 'this is not a database, it is a text file of some length\n%.0s' 1 2 3 4 5 6 7 8 >"$work/notdb.sqlite3"
STM32DFU_SIM_LOG="sqlite:$work/notdb.sqlite3" r COMMAND 69 $sim write "$work/b.bin" --json
r COMMAND 69 log --json --log "sqlite:$work/notdb.sqlite3"
chmod 0500 "$work/rodb"
chmod 0400 "$work/rodb/log.sqlite3"
if [ "$(id -u)" != 0 ]; then # root writes anyway
	STM32DFU_SIM_LOG="sqlite:$work/rodb/log.sqlite3" r COMMAND 69 $sim write "$work/b.bin" --json
fi
STM32DFU_SIM_LOG="sqlite:$work/notdb.sqlite3/log.sqlite3" r COMMAND 69 $sim erase --sectors 7 --json # its folder is a file
chmod 0700 "$work/rodb"
# station (JSON lines): a board that fails is exit 1 (BOARDS_FAILED); its line carries the failure
n=$((n + 1))
"$(dirname "$tool")/stm32dfu-sim" --plug "0:${wrp#--sim=}" -- "$tool" station "$work/b.bin" --count 1 --json --no-log \
	>"$work/out" 2>"$work/err"
rc=$?
echo "$rc station" >>"$work/codes"
cp "$work/out" "$work/station.jsonl"
cp "$work/err" "$work/stderr.$n"
: >"$work/stdout/$n"
echo "$n $rc 1 station --count 1 (JSON lines)" >>"$work/runs"
# a write that fails after its erase saves what it must not lose; recover puts it back. Transfer 115
# is a program block (no doctor verdict is noted for this board: f746-report is another UID)
r write 74 --sim=f746,timing=0,state=$work/rescue.state,timeout_at=115 --retries 0 write "$work/b.bin" -a 0x08000100 --json # 74
r recover 0 --sim=f746,timing=0,state=$work/rescue.state recover --json
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
cp "$work/err" "$work/stderr.$n"
echo "$n $rc 130 write --json (SIGINT)" >>"$work/runs"
cp "$work/out" "$work/json/$n.write.json"

"$tool" help-exit-codes >"$work/table.md"
"$tool" --help >"$work/help.txt"
"$tool" help-man >"$work/man.txt"
python3 - "$root/docs/exit-codes.md" "$root/docs/json.md" "$work/codes" "$work/json" "$work/runs" "$work/stdout" "$work" <<'PY'
import json, os, re, sys
codes_doc, json_doc, codes_file, json_dir, runs_file, stdout_dir, work = sys.argv[1:]
# codes that only a real OS produces, so the emulator cannot: say why, and keep the list short
not_reachable = {
    70: "an internal error is a bug: no input is meant to produce it",
    75: "records left in the spool need a PostgreSQL log that goes away mid-run (stm32dfu-station-pg checks it)",
    75: "station's records left in the spool need virtual USB and PostgreSQL: peer stm32dfu-station-pg checks it",
}
errors = []
seen_codes = {}
for line in open(codes_file):
    code, cmd = line.rstrip("\n").split(" ", 1)
    seen_codes.setdefault(int(code), cmd)
# one table (src/cli/exits.def) makes the page's table, --help and the man page
table = open(os.path.join(work, "table.md")).read()
if table not in open(codes_doc).read():
    errors.append("docs/exit-codes.md: its table is not the one 'stm32dfu help-exit-codes' prints (regenerate it)")
documented = [int(m.group(1)) for m in re.finditer(r"^\| (\d+) \|", table, re.M)]
assert documented, "no codes parsed from help-exit-codes"
help_text = open(os.path.join(work, "help.txt")).read()
man_text = open(os.path.join(work, "man.txt")).read()
for c in documented:
    if not re.search(rf"^\s*{c}\s", help_text, re.M):
        errors.append(f"--help does not list exit code {c}")
    if f".B {c}\n" not in man_text:
        errors.append(f"the man page does not list exit code {c}")
# the man page's ENVIRONMENT names every variable the code reads (VUSB_REEXECED: the emulator's own
# re-exec marker, set and read by itself), and FILES the state it keeps
import glob
read_vars = set()
for path in glob.glob(os.path.join(os.path.dirname(codes_doc), "..", "src", "**", "*.c"), recursive=True):
    for call in re.findall(r'getenv\(([^;]*?)\)', open(path, errors="replace").read()):
        read_vars.update(re.findall(r'"([A-Z][A-Z0-9_]+)"', call))
env_section = man_text.split(".SH ENVIRONMENT\n")[1].split(".SH ")[0] if ".SH ENVIRONMENT\n" in man_text else ""
for v in sorted(read_vars - {"VUSB_REEXECED"}):
    if f".B {v}\n" not in env_section:
        errors.append(f"the man page's ENVIRONMENT does not name {v}, which the tool reads")
files_section = man_text.split(".SH FILES\n")[1].split(".SH ")[0] if ".SH FILES\n" in man_text else ""
for f in ("recovery", "log.sqlite3", "spool", "link", "profiles"):
    if f not in files_section:
        errors.append(f"the man page's FILES does not name the {f} file(s)")
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
failed_commands = set()
names = {}
for m in re.finditer(r"^\| (\d+) \| (\w+) \|", table, re.M):
    names[int(m.group(1))] = m.group(2)
commands = re.findall(r"^  (\w+)\b", help_text.split("Commands:")[1].split("Common options:")[0], re.M)
for line in open(runs_file):
    num, rc, want, cmd = line.rstrip("\n").split(" ", 3)
    if rc != want:
        errors.append(f"`{cmd}` exited {rc} ({names.get(int(rc), '?')}), docs/exit-codes.md says {want} ({names.get(int(want), '?')}): "
                      + open(os.path.join(work, f"stderr.{num}"), errors="replace").read()[:300])
    if rc == "0" or "--json" not in cmd.split():
        continue
    words = [w for w in cmd.split() if not w.startswith("-")]
    failed_commands.update(w for w in words if w in commands)
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
if len(commands) < 10:
    errors.append(f"commands not read from --help: {commands}")
for k in commands:
    if k not in failed_commands:
        errors.append(f"no failing `{k} --json` run: its failure document is not checked")

# issue 24 item 2: what the failure documents carry
docs = {}
for name in sorted(os.listdir(json_dir), key=lambda x: int(x.split(".")[0])):
    try:
        docs[name] = json.load(open(os.path.join(json_dir, name)))
    except ValueError:
        pass
badcrc = [d for n, d in docs.items() if isinstance(d, dict) and d.get("file", "").endswith("badcrc.dfu")]
if not badcrc or badcrc[0].get("ok") is not False or badcrc[0].get("error") != "STM32DFU_E_FILE_FORMAT" \
        or "suffix" not in badcrc[0]:
    errors.append(f"file info of a bad-CRC .dfu: not the file's document with the failure fields: {badcrc}")
for n, d in docs.items():
    for rec in d if isinstance(d, list) else [d]:
        if isinstance(rec, dict) and rec.get("ok") is False and rec.get("image_bytes") == 0 \
                and os.path.exists(rec.get("file", "")):
            errors.append(f"{n}: a failure document says image_bytes 0 for a file that was read")
# one UID spelling for machines: 24 hex digits in info, list, the fleet and the log
uid_re = re.compile(r"^[0-9A-F]{24}$")
seen_uids = {}
for n, d in docs.items():
    for rec in d if isinstance(d, list) else [d]:
        if isinstance(rec, dict) and isinstance(rec.get("uid"), str) and rec["uid"]:
            seen_uids.setdefault(n.split(".", 1)[1], set()).add(rec["uid"])
            if not uid_re.match(rec["uid"]):
                errors.append(f"{n}: uid {rec['uid']!r} is not 24 hex digits")
seen_uids = {k[:-5]: v for k, v in seen_uids.items()}
for k in ("info", "list", "write --all", "log"):
    if k not in seen_uids:
        errors.append(f"no uid seen in `{k} --json`")
if not (seen_uids.get("info", set()) & seen_uids.get("log", set())):
    errors.append(f"the UID of info is not spelled as in the log: {seen_uids.get('info')} vs {seen_uids.get('log')}")
lines = [json.loads(x) for x in open(os.path.join(work, "station.jsonl")).read().splitlines()]
if len(lines) != 2 or lines[0].get("ok") is not False or not lines[0].get("error") or lines[1]["summary"]["failed"] != 1:
    errors.append(f"station: the failed board's line and the summary: {lines}")
failed_commands.add("station")  # JSON lines, checked just above
for e in errors:
    print("FAIL", e)
total = sum(len(v) for v in fields.values())
print(f"{failures_checked} failing --json runs each printed one failure document")
print(f"{len(documented)} exit codes ({len(not_reachable)} not reachable without real hardware), {total} JSON fields in {len(fields)} commands checked")
sys.exit(1 if errors else 0)
PY
