#!/usr/bin/env python3
"""SIGINT delivered to the Python package during long calls (issue 21 item 8 and the campaign list).

Each session keeps an emulated F746 in a state file of its own, fills its first 256 KiB with a
background (the bytes to keep), then runs one long call through the package: a write of a random
image at an unaligned address, or erase_bytes() of an unaligned range. In most sessions Ctrl-C (a
real SIGINT to this process) arrives at a random progress callback. The checks:

  - an interrupted call raises stm32dfu.Interrupted (a KeyboardInterrupt) with .report, canceled
    set (or verified, when the signal came after the last transfer boundary), within two progress
    callbacks of the signal;
  - if any sector was erased, the report names a recovery file that exists (else NO FILE);
  - the same call run again, uninterrupted, succeeds; then every byte of the 256 KiB, read from the
    emulator's state file (not through our read path), is the background with the image (or the
    erased range) applied: a wrong byte inside the image or range is SILENT, outside it LOST;
  - anything else raised is a CRASH.

Usage: campaign_python.py SESSIONS SEED   (env: PYTHONPATH=python, STM32DFU_LIBRARY, STM32DFU_PROFILE_DIR)
"""
import os
import random
import signal
import struct
import sys
import tempfile

import stm32dfu

BASE, SPAN = 0x08000000, 256 * 1024


def flash_of(state_path):
    """The flash bytes [BASE, BASE+SPAN) from the emulator's state file (src/sim/state.c)."""
    b = open(state_path, "rb").read()
    assert b[:8] == b"SDFUSIM1", "not a state file"
    count = struct.unpack_from("<I", b, 12)[0]
    pos = 16
    for _ in range(count):
        base, size, _kind = struct.unpack_from("<III", b, pos)
        if base == BASE:
            return b[pos + 12:pos + 12 + SPAN]
        pos += 12 + size
    raise AssertionError("no flash record")


def session(rng, work):
    state = os.path.join(work, "chip.state")
    os.environ["XDG_STATE_HOME"] = os.path.join(work, "xdg")
    spec = f"f746,timing=0,state={state}"
    background = bytes(rng.getrandbits(8) for _ in range(SPAN))
    with stm32dfu.open(sim=spec, sim_persist=True) as c:
        c.write(background, address=BASE)
    erase = rng.random() < 0.4
    addr = BASE + rng.randrange(0, 160 * 1024)
    length = rng.randrange(1, 96 * 1024)
    image = b"\xff" * length if erase else bytes(rng.getrandbits(8) for _ in range(length))
    kill_at = rng.randrange(1, 60) if rng.random() < 0.85 else None
    calls = []

    def progress(phase, done, total):
        calls.append(phase)
        if kill_at is not None and len(calls) == kill_at:
            calls.append("SIGINT")
            os.kill(os.getpid(), signal.SIGINT)

    def run(with_progress):
        with stm32dfu.open(sim=spec, sim_persist=True) as c:
            if erase:
                return c.erase_bytes(addr, length, progress=progress if with_progress else None)
            return c.write(image, address=addr, progress=progress if with_progress else None)

    outcome = "ok"
    try:
        run(True)
    except stm32dfu.Interrupted as e:
        outcome = "stopped"  # before any erase (or after the call had finished)
        after = len(calls) - calls.index("SIGINT") - 1
        r = e.report
        # canceled, or the signal came after the last transfer boundary: the call had finished (verified)
        if not r or not (r["canceled"] or r["verified"]) or after > 2:
            return "CRASH", f"report {r and r['canceled']}, {after} callbacks after SIGINT"
        touched = any(s["state"] in ("erased", "partial") for s in r["sectors"])
        if touched and not (r["recovery_file"] and os.path.exists(r["recovery_file"])):
            return "NO FILE", str(r["sectors"])
        if touched:
            outcome = "stopped_after_erase"  # the recovery file named, and there
    except BaseException as e:  # noqa: BLE001 (the campaign counts whatever else escapes)
        return "CRASH", repr(e)
    if outcome != "ok" or rng.random() < 0.5:
        try:
            run(False)  # the clean second run: finishes the call (the recovery file applied first)
        except BaseException as e:  # noqa: BLE001
            return "CRASH", "second run: " + repr(e)
    want = bytearray(background)
    want[addr - BASE:addr - BASE + length] = image
    got = flash_of(state)
    if got != bytes(want):
        bad = next(i for i in range(SPAN) if got[i] != want[i])
        inside = addr - BASE <= bad < addr - BASE + length
        return ("SILENT" if inside else "LOST"), f"first wrong byte at 0x{BASE + bad:08X}"
    return outcome, ""


def main():
    n, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    counts = {}
    for i in range(n):
        with tempfile.TemporaryDirectory(prefix="campaign-py-") as work:
            what, why = session(rng, work)
        counts[what] = counts.get(what, 0) + 1
        if what not in ("ok", "stopped", "stopped_after_erase"):
            print(f"session {i}: {what}: {why}", file=sys.stderr)
    print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    return 0 if set(counts) <= {"ok", "stopped", "stopped_after_erase"} else 1


if __name__ == "__main__":
    sys.exit(main())
