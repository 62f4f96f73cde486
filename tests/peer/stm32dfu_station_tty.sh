#!/bin/bash
# The station's live table on a terminal (issue 14 item 1): two emulated F746 (timing=1, so the
# writes take seconds) plugged 0.5 s apart over virtual USB; the station runs with its standard
# output and error on a pseudo-terminal, as in a shell. What it draws is replayed through a real
# terminal emulator (pyte, Debian python3-pyte) and read back as screens:
#  - a row per board in progress, both boards at once, with its UID, phase and percent, KiB/s
#    while programming and an ETA, redrawn in place many times;
#  - per board, the phases in order (read, erase, program, verify; a phase shorter than the 100 ms
#    between redraws may be skipped) and the percent never going back within a phase, programming
#    shown at two values between 0 and 100 or more (updates, not just a start and an end);
#  - at the end no table row is left: the two result lines and the summary remain.
# Usage: stm32dfu_station_tty.sh SIM
. "$(dirname "$0")/lib.sh"
find_stm32dfu
PY=/usr/bin/python3
"$PY" -c 'import pyte' 2>/dev/null || skip "python3-pyte (Debian) is not installed"

if [ -z "${PEER_INNER:-}" ]; then
	PEER_INNER=1 SIM_TIMEOUT=100 sim --stats "$TMP/stats" \
		--plug "0.5:f746,timing=1,serial=5747000000A1,uid=000000A1AAAA5555BBBB6666" \
		--plug "1.0:f746,timing=1,serial=5747000000A2,uid=000000A2AAAA5555BBBB6666" -- "$0" "$SIM" "$TMP"
	exit $?
fi
export STM32DFU_SIM_LOG="sqlite:$TMP/log.sqlite3" XDG_STATE_HOME="$TMP/state"
rand_file "$TMP/fw.bin" 65536
"$PY" - "$STM32DFU" "$TMP/fw.bin" "$TMP/tty.raw" <<'PY' || fail "the live table is wrong (the raw terminal output is above)"
import os, pty, re, select, subprocess, sys, time
import pyte

tool, fw, raw_path = sys.argv[1:]
master, slave = pty.openpty()
proc = subprocess.Popen([tool, "station", fw, "--count", "2", "--station", "tty"], stdin=subprocess.DEVNULL,
                        stdout=slave, stderr=slave, close_fds=True)
os.close(slave)
raw = b""
deadline = time.monotonic() + 80
while time.monotonic() < deadline:
    r, _, _ = select.select([master], [], [], 0.5)
    if r:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        raw += chunk
    elif proc.poll() is not None:
        break
rc = proc.wait(timeout=20)
open(raw_path, "wb").write(raw)

def show():
    sys.stderr.write(raw.decode("utf-8", "replace").replace("\x1b", "ESC"))

if rc != 0:
    show()
    sys.exit(f"station exited {rc}")
text = raw.decode("utf-8", "replace")
# replay: each redraw starts with "cursor up N" (ESC[NA); the screen just before it is one frame
screen = pyte.Screen(132, 50)
stream = pyte.Stream(screen)
pieces = re.split(r"(?=\x1b\[\d+A)", text)
row_re = re.compile(r"^  (\S+)\s+(open|read|erase|program|verify)\s+(\d+)%(.*)$")
frames = []
for p in pieces:
    stream.feed(p)
    rows = [row_re.match(l.rstrip()) for l in screen.display]
    frames.append([m for m in rows if m])
redraws = len(pieces) - 1
order = {"open": 0, "read": 1, "erase": 2, "program": 3, "verify": 4}
errors = []
if redraws < 10:
    errors.append(f"only {redraws} redraws in place")
uid_re = re.compile(r"^000000A[12]AAAA5555BBBB6666$")
seen = {}
both = False
kib = eta = False
for f in frames:
    uids = [m.group(1) for m in f if uid_re.match(m.group(1))]
    both |= len(set(uids)) == 2
    for m in f:
        who, phase, pct, rest = m.group(1), m.group(2), int(m.group(3)), m.group(4)
        if pct > 100:
            errors.append(f"{who}: {pct}%")
        if phase == "program" and "KiB/s" in rest:
            kib = True
        eta |= "ETA" in rest
        if not uid_re.match(who):
            continue
        last = seen.get(who, [])
        if last and (order[phase], pct) < (order[last[-1][0]], last[-1][1]):
            errors.append(f"{who}: went back from {last[-1]} to {(phase, pct)}")
        if not last or last[-1] != (phase, pct):
            last.append((phase, pct))
        seen[who] = last
if sorted(seen) != ["000000A1AAAA5555BBBB6666", "000000A2AAAA5555BBBB6666"]:
    errors.append(f"rows named by UID: {sorted(seen)}")
for who, steps in seen.items():
    phases = {p for p, _ in steps}
    # a phase shorter than the 100 ms between redraws (a fast verify) may never be drawn
    if not {"erase", "program"} <= phases:
        errors.append(f"{who}: phases shown {sorted(phases)}")
    between = {pct for p, pct in steps if p == "program" and 0 < pct < 100}
    if len(between) < 2:
        errors.append(f"{who}: programming shown at {sorted(between)} only")
if not both:
    errors.append("the two boards were never shown in progress together")
if not kib:
    errors.append("no KiB/s while programming")
if not eta:
    errors.append("no ETA")
final = [l.rstrip() for l in screen.display if l.strip()]
if any(row_re.match(l) for l in final):
    errors.append(f"table rows left on the final screen: {final}")
done = [l for l in final if re.match(r"^000000A[12]AAAA5555BBBB6666 +5747000000A[12] .* ok ", l)]
if len(done) != 2:
    errors.append(f"result lines: {final}")
if not any(l.startswith("2 boards: 2 programmed, 0 failed") for l in final):
    errors.append(f"no summary: {final}")
if errors:
    show()
    sys.exit("\n".join(errors))
print(f"live table: {redraws} redraws, steps per board {[len(s) for s in seen.values()]}")
PY
echo "ok: the station's live table on a terminal"
