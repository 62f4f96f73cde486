#!/usr/bin/env python3
"""Issue 24 item 1: every string the tool prints in JSON is exact. A property test over random
names: file names (bytes: valid UTF-8 of every length, controls, quotes, and bytes that are not
UTF-8) and device strings (UTF-8 set by the emulator's profile keys) go through `file info`,
`write`, `log` and `list`, and each must come back from Python's json, byte for byte (a byte that
is not UTF-8 as \\udcXX: surrogateescape, docs/json.md). The document itself must be valid UTF-8
that escapes only what JSON requires. Usage: json_text.py STM32DFU [SEED]"""
import json, os, random, subprocess, sys, tempfile

tool = sys.argv[1]
seed = int(sys.argv[2]) if len(sys.argv) > 2 else random.randrange(1 << 32)
rng = random.Random(seed)
fails = []

# pieces a name is made of: each kind of byte sequence a file system may hold
PIECES = [
    b"a", b"Z", b"0", b"-", b".", b" ", b'"', b"\\", b"'", b"\x7f",   # ASCII, DEL needs no escape
    b"\x01", b"\x1f", b"\t", b"\n",                                   # controls: escaped
    "é".encode(), "µ".encode(), "§".encode(), "€".encode(), "字".encode(), "😀".encode(),  # 2-4 bytes
    b"\xff", b"\x80", b"\xc3", b"\xe2\x82", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",  # not UTF-8
]
TEXT = ["é", "ü", "µ", "§", "€", "字", "😀", "Ω", "a", "B", "7", "-", "_", ".", "!", "\"", "\\"]


def run(args, env=None, cwd=None):
    p = subprocess.run([tool] + args, capture_output=True, env=env, cwd=cwd)
    out = p.stdout
    try:
        text = out.decode("utf-8")  # strict: the document is valid UTF-8
    except UnicodeDecodeError as e:
        fails.append(f"{args[:3]}: stdout is not valid UTF-8 ({e})")
        return p.returncode, None, out
    try:
        doc = json.loads(text)
    except ValueError as e:
        fails.append(f"{args[:3]}: not one JSON document ({e}): {text[:200]!r}")
        return p.returncode, None, out
    return p.returncode, doc, out


def back(s):
    return s.encode("utf-8", "surrogateescape")


def check_raw(name, out, what):
    """Only what JSON requires is escaped: valid non-ASCII appears as itself."""
    for piece in PIECES:
        try:
            ch = piece.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if len(piece) > 1 and piece in name and piece not in out:
            fails.append(f"{what}: {ch!r} is escaped in the document, JSON does not require it")


with tempfile.TemporaryDirectory() as work:
    wb = os.fsencode(work)
    env = dict(os.environ, XDG_STATE_HOME=os.path.join(work, "state"),
               STM32DFU_SIM_LOG="sqlite:" + os.path.join(work, "log.sqlite3"))
    sim = f"--sim=f746,timing=0,state={work}/chip.state"
    names, written = [], []
    while len(names) < 24:
        name = b"".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 8))) + b".bin"
        if name in names or name.startswith(b"-"):
            continue
        names.append(name)
    for i, name in enumerate(names):
        path = os.path.join(wb, name)
        with open(path, "wb") as f:
            f.write(bytes(rng.randrange(256) for _ in range(64)))
        rc, doc, out = run(["file", "info", os.fsdecode(path), "-a", "0x08000000", "--json"])
        if doc is not None:
            if back(doc.get("file", "")) != path:
                fails.append(f"file info {path!r}: file came back as {back(doc.get('file', ''))!r}")
            check_raw(name, out, f"file info {name!r}")
        if i % 4 == 0:
            rc, doc, out = run([sim, "write", os.fsdecode(path), "-a", "0x08000000", "--json"], env=env)
            if rc != 0 or doc is None:
                fails.append(f"write {name!r}: exit {rc}")
                continue
            if back(doc["file"]) != path:
                fails.append(f"write {name!r}: file came back as {back(doc['file'])!r}")
            written.append(path)
        if i % 6 == 1:
            # a failure document: the message names the file (missing), the hint may carry any text
            rc, doc, out = run([sim, "write", os.fsdecode(path) + "-missing", "--json"], env=env)
            if doc is not None and not back(doc.get("message", "")).count(name + b"-missing"):
                fails.append(f"write of a missing {name!r}: the message does not name it: {doc.get('message')!r}")
    rc, doc, out = run(["log", "--sim", "--json"], env=env)  # the emulated chips' log
    if doc is not None:
        images = [back(r["image"]) for r in doc if r.get("command") == "write"]
        if images != written:
            fails.append(f"log --json: images {images!r}, expected {written!r}")

    # device strings: the emulator's profile keys set them (UTF-8 in, UTF-16LE on the wire)
    for k in range(6):
        strings = {key: "".join(rng.choice(TEXT) for _ in range(rng.randrange(1, 12)))
                   for key in ("product", "manufacturer")}
        spec = f"--sim=f746,timing=0,state={work}/d{k}.state," + ",".join(f"{a}={b}" for a, b in strings.items())
        rc, doc, out = run([spec, "list", "--json"], env=env)
        if doc is not None:
            if rc != 0 or len(doc) != 1:
                fails.append(f"list {spec!r}: exit {rc}, {len(doc)} devices")
            elif doc[0].get("product") != strings["product"]:
                fails.append(f"list {spec!r}: product {doc[0].get('product')!r}, expected {strings['product']!r}")
            check_raw(strings["product"].encode(), out, f"list {spec!r}")
        rc, doc, out = run([spec, "info", "--json"], env=env)
        if doc is not None and doc.get("product") != strings["product"]:
            fails.append(f"info {spec!r}: product {doc.get('product')!r}, expected {strings['product']!r}")

for f in fails:
    print("FAIL", f)
print(f"seed {seed}: {len(fails)} failures")
sys.exit(1 if fails else 0)
