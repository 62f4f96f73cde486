#!/usr/bin/env python3
"""Issue 24 item 14: every message and hint the library can produce, rendered in the library's words,
names no command-line option or command ("--force", "'stm32dfu ob set'", "-a ADDR"): those are the
command line's words, which it puts in place of the tokens ("{@force}", core/err.h).

The messages are found in the source: every string literal inside err_set, err_hint, err_prefix,
log_* and doctor's finding() calls, and every `return "..."` (texts handed back to be shown), in the
library's sources (src/ but the command line, the emulator's program and the modules only the command
line calls). Adjacent literals are joined, as C joins them. Each is rendered by words_render (the
library's own err_words) in both words: the library's must hold no command-line word, and neither may
keep a token (a misspelt one is left as written).
Usage: lib_words.py WORDS_RENDER SOURCE_ROOT"""
import os
import re
import subprocess
import sys

render, root = sys.argv[1], sys.argv[2]
src = os.path.join(root, "src")
# reached from src/cli only (fleet and station writes, the station's port slots, serial numbers, the
# programming log, serial ports and their reset sequences): no scanned file calls a function they
# define (checked below)
CLI_ONLY = ("ops/multi.c", "ops/serialno.c", "target/ports.c", "ops/station.c", "ops/slots.c", "store/")
SKIP_DIRS = ("cli", os.path.join("sim", "tool"))
CALL = re.compile(r"\b(err_set|err_hint|err_prefix|finding|say|log_msg|log_warn|log_info|log_debug|log_error|return)\b")
LIT = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def strip_comments(text):
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            out.append(" " * ((j if j >= 0 else n) + 2 - i))
            i = (j if j >= 0 else n) + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = j if j >= 0 else n
        elif text[i] in "\"'":
            q, j = text[i], i + 1
            while j < n and text[j] != q:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def call_span(text, start):
    """the text of the call (or return statement) starting at start, to its closing ')' or ';'"""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "'":
            i = text.index("'", i + 2 if text[i + 1] == "\\" else i + 1)
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
        elif c == ";" and depth == 0:
            return text[start:i]
        i += 1
    return text[start:]


def messages(path):
    text = strip_comments(open(path, encoding="utf-8").read())
    # calls are looked for outside string literals ("finding the chip" is no call of finding())
    masked = re.sub(r"'(?:\\.|[^'\\\n])'", lambda m: " " * len(m.group(0)), text)  # char literals ('"')
    masked = LIT.sub(lambda m: '"' + " " * (len(m.group(0)) - 2) + '"', masked)
    for m in CALL.finditer(masked):
        span = call_span(text, m.start())
        if m.group(1) == "return" and not re.match(r'return\s*"', span):
            continue
        # adjacent literals are one string
        for run in re.finditer(r'"(?:[^"\\\n]|\\.)*"(?:\s*"(?:[^"\\\n]|\\.)*")*', span):
            yield "".join(LIT.findall(run.group(0))).replace("\\n", " ").replace('\\"', '"')


found, scanned, cli_only = [], [], []
for d, _, files in os.walk(src):
    rel = os.path.relpath(d, src)
    if rel.startswith(SKIP_DIRS):
        continue
    for f in sorted(files):
        relf = os.path.join(rel, f)
        if not f.endswith(".c"):
            continue
        if relf.startswith(CLI_ONLY):
            cli_only.append(relf)
        else:
            scanned.append(relf)
            found += [(relf, t) for t in messages(os.path.join(d, f))]

failures = []
# the modules left out must really be the command line's alone: the functions they define are called
# from no scanned file
DEF = re.compile(r"^(?!static)[a-z][\w \*]*?\b([a-z_][a-z0-9_]*)\(", re.M)
defined = {}
for f in cli_only:
    for name in DEF.findall(strip_comments(open(os.path.join(src, f), encoding="utf-8").read())):
        defined[name] = f
for f in scanned:
    text = strip_comments(open(os.path.join(src, f), encoding="utf-8").read())
    for name in set(re.findall(r"\b([a-z_][a-z0-9_]*)\s*\(", text)) & defined.keys():
        failures.append(f"{f} calls {name}() of {defined[name]}: its messages must be scanned")

lines = "\n".join(t for _, t in found) + "\n"
lib = subprocess.run([render, "lib"], input=lines, capture_output=True, text=True, check=True).stdout.split("\n")
cli = subprocess.run([render, "cli"], input=lines, capture_output=True, text=True, check=True).stdout.split("\n")
COMMANDS = "list|info|read|write|verify|erase|ob|unprotect|leave|doctor|recover|log|file|station|fleet"
# dfu-suffix's options are its own; a bare option name is a table entry (stm32dfu_confirm_flag), not a message
CLI_WORD = re.compile(r"(?:^|[\s'\"(,;:])--[a-z]|\bstm32dfu (?:%s)\b|(?<!dfu-suffix)(?:^|[\s'(])-[aSpoty] (?:[A-Z<]|%%)" % COMMANDS)
FLAG = re.compile(r"--[a-z0-9-]+")
for (where, raw), l, c in zip(found, lib, cli):
    if CLI_WORD.search(l) and not FLAG.fullmatch(l):
        failures.append(f"{where}: command-line words in the library's rendering: {l!r}")
    for text, words in ((l, "library"), (c, "command line")):
        if "{@" in text:
            failures.append(f"{where}: a token the {words} cannot render: {text!r}")
print(f"{len(found)} messages scanned in {len(scanned)} files; {len(cli_only)} files of the command line alone, defining {len(defined)} functions")
for f in failures:
    print("FAIL", f)
sys.exit(1 if failures else 0)
