#!/bin/bash
# Benchmark (issue 23): for each profile whose ROM has a USART bootloader (uart_device_id), the
# fastest rate its ROM follows (uart_max_baud: what the emulator's autobaud locks to, with the
# evidence the profile cites for it) and a write with verify at that rate: min(1 MiB, the flash)
# of random bytes on a blank chip, in process (--sim=PROFILE,link=uart, a virtual clock: the
# model's time, the sum of the write's phases, independent of the machine's load), against the
# bound: the image on the wire once each way at that rate plus the flash's own busy time (from the
# run's byte trace: the time the exchange took less the wire time of every byte in it, since the
# protocol is half duplex). Reported, never asserted (bench/README.md).
#
# Usage: bench/uart_max_baud.sh [BUILD_DIR]
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$(cd "${1:-$root/build}" && pwd) || exit 2
S=$build/stm32dfu
[ -x "$S" ] || { echo "no $S" >&2; exit 2; }
export STM32DFU_PROFILE_DIR=${STM32DFU_PROFILE_DIR:-$root/profiles}
T=$(mktemp -d "${TMPDIR:-/tmp}/uartbaud.XXXXXX")
trap 'rm -rf "$T"' EXIT
export XDG_STATE_HOME=$T/state

echo "# $(date -u '+%Y-%m-%d %H:%M') UTC, commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null)"
printf '| profile | device ID | fastest rate (the profile'"'"'s evidence) | image | write + verify | bound: image each way + flash busy | ratio |\n'
printf '|---|---|---|---|---|---|---|\n'
# profile keys through the base chain (a profile's own key wins); the rate's evidence is what the
# comments of the profile that holds uart_max_baud say about the rate
python3 - "$STM32DFU_PROFILE_DIR" <<'EOF' >"$T/list"
import os, re, sys
d = sys.argv[1]
def load(name):
    keys, notes, allnotes = {}, [], []
    for line in open(os.path.join(d, name + ".profile")):
        s = line.strip()
        if s.startswith("#"):
            notes.append(s.lstrip("# "))
            allnotes.append(s.lstrip("# "))
            continue
        if "=" in s:
            k, v = (x.strip() for x in s.split("=", 1))
            keys[k] = v
            if k == "uart_max_baud":
                text = " ".join(allnotes)
                keys["_evidence"] = " ".join(s for s in re.split(r"(?<=[.;])\s+", text)
                                             if re.search(r"\b(115200|230400|460800|921600)\b( baud|\b)|\b[Rr]ate\b", s)
                                             and not re.search(r"stm32flash 0\.7 on|logs? ran at \d+ 8E1 \(", s))
    return keys
def resolve(name, depth=0):
    k = load(name)
    if "base" in k and depth < 8:
        b = resolve(k["base"], depth + 1)
        b.update(k)
        # a device ID the profile does not give itself belongs to its base's part, not to it
        if "uart_device_id" not in load(name):
            b.pop("uart_device_id", None)
        k = b
    return k
for f in sorted(os.listdir(d)):
    if not f.endswith(".profile"):
        continue
    n = f[:-8]
    k = resolve(n)
    if "uart_device_id" not in k:
        continue
    kb = min(1024, int(k.get("flash_size_kb", "1024"), 0))
    ev = k.get("_evidence", "").replace("|", "/")[:240] or "no rate evidence in the profile: AN3155's stated maximum, the default"
    print(n, k["uart_device_id"], k.get("uart_max_baud", "115200"), kb, ev, sep="\t")
EOF
while IFS=$'\t' read -r prof id baud kib ev; do
	python3 -c 'import random, sys; r = random.Random(23); open(sys.argv[1], "wb").write(bytes(r.getrandbits(8) for _ in range(int(sys.argv[2]) * 1024)))' "$T/img.bin" "$kib"
	if "$S" "--sim=$prof,link=uart,state=$T/$prof.state" --baud "$baud" --trace "$T/$prof.tr" --json write "$T/img.bin" \
		-a 0x08000000 >"$T/$prof.json" 2>"$T/$prof.err"; then
		python3 - "$T/$prof.json" "$T/$prof.tr" "$prof" "$id" "$baud" "$kib" "$ev" <<'EOF'
import json, sys
f, tr, prof, dev_id, baud, kib, ev = sys.argv[1:]
d = json.load(open(f))
t = sum(v for v in d["seconds"].values() if isinstance(v, (int, float)))
byte_s = 11 / int(baud)
first = last = None
n = 0
for line in open(tr):
    if not line.startswith("@"):
        continue
    ts, rest = line[1:].split(" ", 1)
    first = int(ts) if first is None else first
    last = int(ts)
    n += len(rest.split()) - 1
busy = (last - first) / 1e6 - (n - 1) * byte_s  # the first byte's time is before its stamp
bound = 2 * int(kib) * 1024 * byte_s + busy
print("| %s | %s | %s (%s) | %s KiB | %.2f s | %.2f s | %.3f |" % (prof, dev_id, baud, ev, kib, t, bound, t / bound))
EOF
	else
		printf '| %s | %s | %s (%s) | %s KiB | failed: %s | | |\n' "$prof" "$id" "$baud" "$ev" "$kib" "$(tail -1 "$T/$prof.err")"
	fi
done <"$T/list"
