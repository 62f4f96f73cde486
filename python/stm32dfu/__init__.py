"""stm32dfu: program STM32 chips through the ST ROM bootloader over USB DFU, from Python.

A thin ctypes binding over the installed libstm32dfu (no compiled extension)::

    import stm32dfu
    with stm32dfu.open(sim="f746,timing=0") as chip:
        print(chip.info()["chip"])
        chip.write("fw.hex", progress=lambda phase, done, total: None)
        data = chip.read(0x08000000, 256)

Errors raise subclasses of stm32dfu.Error carrying code, name, message and hint.
"""
import contextlib
import ctypes
import re
import os
import signal
import threading

from . import _native
from .errors import *  # noqa: F401,F403 (the exception classes are part of the package's API)
from .errors import BY_CODE, CanceledError, Error, Interrupted

__all__ = ["list", "open", "Chip", "Error", "Interrupted", "version", "PHASES", "CONFIRM", "SECTOR_STATES"] + \
    [c.__name__ for c in BY_CODE.values()]

_lib = _native.load()

#: progress phases, in the order a write goes through them
PHASES = ("read", "erase", "program", "verify")

#: confirmations for risky option-byte changes (names accepted by Chip.set_option_bytes)
CONFIRM = {"rdp2": 1 << 0, "rdp1": 1 << 1, "wrp_boot": 1 << 2, "no_bootloader": 1 << 3, "rdp0": 1 << 4}


def version():
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return _lib.stm32dfu_version().decode()


def _s(b):
    return b.decode("utf-8", "replace") if isinstance(b, (bytes, bytearray)) else b


# The library's messages and hints are the command line's words; in Python the same advice names
# this package's parameters (longest first, so "-a ADDR" is not taken for "-a").
_CLI_WORDS = sorted({
    "--force": "force=True", "--yes": "confirm=True", "--vdd": "vdd=", "--alt": "alt=", "-a ADDR": "address=",
    "-a FILE": "address=", "-S SERIAL": "serial=", "-p PATH": "path=", "--retries": "retries=",
    "--trace": "trace=", "--confirm-reads": "confirm_reads=True", "--format": "a file name that says its format",
    "--i-understand-otp-is-permanent": "otp_permanent=True", "--hse": "hse=", "--sectors": "sectors=",
    "--all": "all=True", "--leave": "leave=True", "--no-verify": "verify=False", "-t": "transfer_size=",
    "--transfer-size": "transfer_size=", "'stm32dfu info'": "Chip.info()", "'stm32dfu list'": "stm32dfu.list()",
    "'stm32dfu ob show'": "Chip.option_bytes(detail=True)", "'stm32dfu doctor'": "Chip.doctor()",
    "'stm32dfu recover'": "Chip.recover()",
}.items(), key=lambda kv: -len(kv[0]))


# The library's own words for an option or a call (core/err.c), as this package says them; the
# confirmations ("STM32DFU_CONFIRM_RDP2") are mapped from CONFIRM.
_LIB_WORDS = sorted({
    "the force option": "force=True", "the confirm_reads option": "confirm_reads=True", "the vdd option": "vdd=",
    "the alt option": "alt=", "the leave option": "leave=True", "the no_verify option": "verify=False",
    "the hse option": "hse=", "match.serial (the UID)": "serial=", "match.serial": "serial=", "match.path": "path=",
    "the otp_permanent option": "otp_permanent=True", "stm32dfu_info()": "Chip.info()",
    "stm32dfu_list()": "stm32dfu.list()", "stm32dfu_ob_read()": "Chip.option_bytes(detail=True)",
    "stm32dfu_doctor()": "Chip.doctor()", "stm32dfu_recover()": "Chip.recover()",
    "the address option": "address=", "the transfer_size option": "transfer_size=", "the retries option": "retries=", "the trace option": "trace=",
    "match.sim": "sim=", "stm32dfu_ob_set(": "Chip.set_option_bytes(", "stm32dfu_read()": "Chip.read()", "stm32dfu_unprotect()": "Chip.unprotect(confirm=True)",
    "stm32dfu_leave()": "Chip.leave(address=...)", "stm32dfu_erase_sectors()": "Chip.erase(sectors=...)",
    "stm32dfu_doctor() with the hse option": "Chip.doctor(hse=...)",
    "the reset_seq option": "reset_seq=", "the port option": "port=", "the baud option set to": "baud=",
    "the baud option": "baud=", "the recovery_dir option": "recovery_dir=",
    "stm32dfu_leave_reset()": "Chip.leave(reset=True)",
    "stm32dfu_doctor() on a session opened at each baud": "Chip.doctor() on a chip opened at each baud=",
}.items(), key=lambda kv: -len(kv[0]))


def _library_words(text):
    """text with the library's (and, where a hint still has them, the command line's) words for options
    and calls replaced by this package's parameters."""
    if not text:
        return text
    for name in CONFIRM:
        text = text.replace("STM32DFU_CONFIRM_" + name.upper(), f'confirm="{name}"')
    for lib, py in _LIB_WORDS:
        text = text.replace(lib, py)
    for bit, name in ((bit, name) for name, bit in CONFIRM.items()):
        flag = _s(_lib.stm32dfu_confirm_flag(bit))
        if flag:
            text = text.replace(flag, f'confirm="{name}"')
    for cli, py in _CLI_WORDS:
        text = re.sub(r"(?<![\w-])" + re.escape(cli) + r"(?![\w-])", py, text)
    return text


def _raise(code, session=None):
    info = _lib.stm32dfu_last_error(session)
    name = _s(_lib.stm32dfu_errname(code))
    message = _s(info.message) or _s(_lib.stm32dfu_strerror(code))
    cls = BY_CODE.get(code, Error)
    raise cls(code, name, _library_words(message), _library_words(_s(info.hint) or ""))


def _bad(param, value, want):
    """A bad argument: stm32dfu.UsageError (also a ValueError) naming the parameter."""
    raise UsageError(-1, "STM32DFU_E_USAGE", f"{param}={value!r}: {want}", "")  # noqa: F405


def _int(param, value, lo=0, hi=0xFFFFFFFF, none_ok=False):
    """value as an int in [lo, hi] (addresses and lengths are 32-bit), else UsageError naming param."""
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        _bad(param, value, f"expected an integer from {lo} to {hi:#x}" if hi > 0xFFFF else
             f"expected an integer from {lo} to {hi}")
    if not lo <= value <= hi:
        _bad(param, value, f"out of range: {lo} to {hi:#x}" if hi > 0xFFFF else f"out of range: {lo} to {hi}")
    return value


def _volts(param, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 10:
        _bad(param, value, "expected the supply voltage in volts, such as 3.3")
    return float(value)


def _match(vid=None, pid=None, serial=None, path=None, sim=None):
    _int("vid", vid, 0, 0xFFFF, none_ok=True)
    _int("pid", pid, 0, 0xFFFF, none_ok=True)
    for param, v in (("serial", serial), ("path", path), ("sim", sim)):
        if v is not None and not isinstance(v, str):
            _bad(param, v, "expected a string")
    m = _native.Match()
    m.vid, m.pid = vid or 0, pid or 0
    m.serial = serial.encode() if serial else None
    m.path = path.encode() if path else None
    m.sim = sim.encode() if sim is not None else None
    return m


def _identity(i):
    return {
        "family": _s(i.family), "chip": _s(i.chip), "confidence": _s(i.confidence), "reason": _s(i.reason),
        # the machine form, as --json, the log and serial= have it (the C API's text is spaced for people)
        "uid": _s(i.uid_text).replace(" ", "") if i.has_uid else None, "uid_bytes": bytes(i.uid) if i.has_uid else None,
        "flash_size": i.flash_size or None,
        "bootloader_id": i.bootloader_id if i.has_bootloader_id else None,
        "bootloader_version": _s(i.bootloader_version) or None,
        "serial_reported": _s(i.usb_serial), "serial_computed": _s(i.serial_computed) or None,
        "serial_verdict": _s(i.serial_verdict), "serial_explanation": _s(i.serial_explanation),
        "rdp_level": i.rdp_level if i.rdp_level >= 0 else None, "read_protected": bool(i.read_protected),
    }


def _alt(a):
    regions = []
    for r in a.regions[:a.n_regions]:
        regions.append({"start": r.start, "length": r.length,
                        "sectors": [{"count": g.count, "size": g.size,
                                     "readable": bool(g.access & 1), "erasable": bool(g.access & 2),
                                     "writable": bool(g.access & 4)} for g in r.groups[:r.n_groups]]})
    return {"alt": a.alt, "name": _s(a.name), "string": _s(a.raw), "regions": regions if a.has_layout else None}


def _device(d):
    return {
        "vid": d.vid, "pid": d.pid, "bcd_device": d.bcd_device, "path": _s(d.path),
        "manufacturer": _s(d.manufacturer), "product": _s(d.product), "serial": _s(d.serial),
        "opened": bool(d.opened), "error": _s(d.error) or None, "dfu_version": d.dfu_version,
        "transfer_size": d.transfer_size, "alts": [_alt(a) for a in d.alts[:d.n_alts]],
        "identity": _identity(d.identity) if d.has_identity else None, "serial_shared": bool(d.serial_shared),
    }


def _record(r):
    """A 0.5 device record (stm32dfu_device_rec): the device, what list found, identity; nothing cut."""
    alts = []
    for a in r.alts[:r.n_alts]:
        regions = [{"start": g.start, "length": g.length,
                    "sectors": [{"count": x.count, "size": x.size, "readable": bool(x.access & 1),
                                 "erasable": bool(x.access & 2), "writable": bool(x.access & 4)}
                                for x in g.groups[:g.n_groups]]} for g in a.regions[:a.n_regions]]
        alts.append({"alt": a.alt, "name": _s(a.name), "string": _s(a.raw),
                     "regions": regions if a.has_layout else None, "layout_error": _s(a.layout_error) or None})
    return {
        "vid": r.vid, "pid": r.pid, "bcd_device": r.bcd_device, "path": _s(r.path), "devnum": r.devnum,
        "manufacturer": _s(r.manufacturer), "product": _s(r.product), "serial": _s(r.serial),
        "opened": bool(r.opened), "error": _s(r.error) or None, "dfu_version": r.dfu_version,
        "transfer_size": r.transfer_size, "alts": alts, "alts_total": r.n_alts_total,
        "found_state": _s(r.found_state_name) or None, "found_status": _s(r.found_status_name) or None,
        "found_action": _s(r.found_action) or None,
        "identity": _identity(r.identity) if r.identity_known else None, "identity_read": bool(r.identity_read),
        "flash_size_source": _s(r.flash_size_source), "layout_flash_size": r.layout_flash_size,
        "rdp_from_note": bool(r.rdp_from_note), "serial_shared": bool(r.serial_shared),
        "uid_shared": bool(r.uid_shared),
    }


def _session_options(any_id=False, retries=None, trace=None, transfer_size=None, poll=None, confirm_reads=False,
                     sim_persist=False, port=None, baud=None, recovery_dir=None, reset_seq=None):
    o = _native.SessionOptions()
    o.size = ctypes.sizeof(o)
    o.any_id = 1 if any_id else 0
    _int("retries", retries, 0, 100, none_ok=True)
    _int("transfer_size", transfer_size, 1, 0xFFFF, none_ok=True)
    if retries is not None:
        o.has_retries, o.retries = 1, retries
    o.trace = os.fspath(trace).encode() if trace else None
    o.transfer_size = transfer_size or 0
    if poll not in (None, "auto", "spec"):
        raise UsageError(-1, "STM32DFU_E_USAGE", f"poll={poll!r}: expected 'auto' or 'spec'", "")  # noqa: F405
    o.poll = _native.POLL_SPEC if poll == "spec" else _native.POLL_AUTO
    o.confirm_reads = 1 if confirm_reads else 0
    o.sim_persist = 1 if sim_persist else 0
    _int("baud", baud, 1200, 10000000, none_ok=True)
    o.port = os.fspath(port).encode() if port else None
    o.baud = baud or 0
    o.recovery_dir = os.fspath(recovery_dir).encode() if recovery_dir else None
    if reset_seq is True:
        o.reset_seq = b""  # the default wiring (DTR to NRST, RTS to BOOT0: docs/usart.md)
    elif reset_seq in (None, False):
        o.reset_seq = None
    elif isinstance(reset_seq, str):
        o.reset_seq = reset_seq.encode()
    else:
        _bad("reset_seq", reset_seq, "expected True (the default wiring) or a sequence such as 'rts&dtr,-dtr,:-rts&dtr,-dtr'")
    return o


def list(vid=None, pid=None, serial=None, path=None, sim=None, detail=False, any_id=False):  # noqa: A001
    """Every DFU device that matches, as dicts (USB strings, alt settings with their memory maps, identity).
    vid/pid default to the ST ROM's 0483:df11; any_id=True lists every DFU device, as `stm32dfu list` does.
    detail=True adds what `stm32dfu list` prints beside them (stm32dfu_list_records): the DFU state each device
    was found in and what opening did to it, where the flash size came from, layout-string errors, and
    alts_total (a device may have more alt settings than the 32 kept). identity is None for a device that
    could not be opened."""
    m = _match(vid, pid, serial, path, sim)
    n = ctypes.c_size_t()
    if detail or any_id:
        o = _session_options(any_id=any_id)
        rout = ctypes.POINTER(_native.DeviceRec)()
        rc = _lib.stm32dfu_list_records(ctypes.byref(m), ctypes.byref(o), ctypes.byref(rout), ctypes.byref(n))
        if rc:
            _raise(rc)
        try:
            return [_record(rout[i]) for i in range(n.value)]
        finally:
            _lib.stm32dfu_list_records_free(rout)
    out = ctypes.POINTER(_native.Device)()
    rc = _lib.stm32dfu_list(ctypes.byref(m), ctypes.byref(out), ctypes.byref(n))
    if rc:
        _raise(rc)
    try:
        return [_device(out[i]) for i in range(n.value)]
    finally:
        _lib.stm32dfu_list_free(out)


def open(serial=None, path=None, vid=None, pid=None, sim=None, retries=None, trace=None,  # noqa: A001
         transfer_size=None, poll=None, confirm_reads=False, any_id=False, sim_persist=False, port=None, baud=None,
         recovery_dir=None, reset_seq=None):
    """Opens the one matching device (serial: the USB serial or the 24-digit UID); sim: the emulator.
    retries: per-transfer retries (default 3; 0 fails at the first error); trace: a file to record
    every USB request and reply in; transfer_size: bytes per data transfer (default the device's
    wTransferSize, e.g. 1024 for early L43x ROMs); poll: "auto" (default) or "spec" (wait every
    bwPollTimeout); confirm_reads: read everything twice; any_id: any VID:PID; sim_persist: keep the
    emulated chip between sessions, as `stm32dfu --sim` does (stm32dfu_open_session).
    port: the chip's USART bootloader (AN3155) on this serial port (a path such as /dev/ttyUSB0, or a
    name as the system lists it) instead of USB, at baud (default 115200, 8E1); sim="PROFILE,link=uart"
    is the emulator through its USART bootloader. Every method then works as over USB.
    reset_seq: over a serial port, a fixture that wires the adapter's DTR/RTS to NRST/BOOT0 resets the
    chip into its bootloader before the first 0x7F: True for the default wiring (DTR to NRST, RTS to
    BOOT0), or stm32flash's -i text "ENTRY[:EXIT]" (the exit part is what Chip.leave(reset=True) drives).
    recovery_dir: the folder for recovery files (the bytes a write keeps, on disk before any erase),
    instead of the state folder's."""
    m = _match(vid, pid, serial, path, sim)
    o = _session_options(any_id, retries, trace, transfer_size, poll, confirm_reads, sim_persist, port, baud,
                         recovery_dir, reset_seq)
    s = _native.SESSION()
    rc = _lib.stm32dfu_open_session(ctypes.byref(m), ctypes.byref(o), ctypes.byref(s))
    if rc:
        _raise(rc)
    uart = bool(port) or (sim is not None and "link=uart" in str(sim))
    return Chip(s, uart=uart)


def _image_args(data, address):
    """(path, None) for a file, (None, bytes) for data in memory."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        if address is None:
            raise UsageError(-1, "STM32DFU_E_USAGE", "data in memory needs address=", "")  # noqa: F405
        return None, bytes(data)
    return os.fspath(data), None


def _confirm_flags(confirm):
    flags = 0
    for c in ([confirm] if isinstance(confirm, str) else confirm):
        if c not in CONFIRM:
            raise UsageError(-1, "STM32DFU_E_USAGE", f"unknown confirmation {c!r}",
                             "one of " + ", ".join(CONFIRM))  # noqa: F405
        flags |= CONFIRM[c]
    return flags


_DANGER = ("safe", "caution", "danger")


def _ob_field(f):
    return {"name": _s(f.name), "width": f.width, "value": f.value, "default": bool(f.is_default),
            "default_value": f.default_value, "meaning": _s(f.meaning), "description": _s(f.description),
            "danger": _DANGER[f.danger] if 0 <= f.danger < 3 else f.danger, "on_this_chip": bool(f.on_this_chip),
            "absent_why": _s(f.absent_why) or None,
            "named_values": {_s(n.word): n.value for n in f.named[:f.n_named]}}


def _ob_word(w):
    return {"name": _s(w.name), "offset": w.offset, "bits": w.bits, "value": w.value,
            "complement": w.complement if w.has_complement else None,
            "expected": w.expected if w.has_complement else None, "ok": bool(w.ok)}


def _confirm_names(bits):
    return [name for name, bit in CONFIRM.items() if bits & bit]


def _ob_set_result(r):
    n = r.size
    return {"family": _s(r.family) or None, "checked": bool(r.checked),
            "changes": [{"field": _s(c.field), "width": c.width, "old": c.old_value, "new": c.new_value,
                         "old_meaning": _s(c.old_meaning), "new_meaning": _s(c.new_meaning)}
                        for c in r.changes[:r.n_changes]],
            "complements_repaired": r.complements_repaired,
            "confirmations_required": _confirm_names(r.confirmations_required),
            "confirmations_missing": _confirm_names(r.confirmations_missing),
            "confirmation_flags": [_s(_lib.stm32dfu_confirm_flag(bit)) for bit in CONFIRM.values()
                                   if r.confirmations_required & bit],
            "dry_run": bool(r.dry_run), "nothing_to_change": bool(r.nothing_to_change),
            "write_attempted": bool(r.write_attempted), "written": bool(r.written), "verified": bool(r.verified),
            "protection_active": bool(r.protection_active), "reset_seen": bool(r.reset_seen),
            "bootloader_gone": bool(r.bootloader_gone),
            "before": bytes(r.before[:n]) if n else None, "requested": bytes(r.requested[:n]) if r.checked else None,
            "after": bytes(r.after[:n]) if r.has_after else None, "option_bytes": None}


#: what a touched sector holds after a write (stm32dfu_sector_state)
SECTOR_STATES = ("old", "erased", "new", "partial")


#: how a leave's address was chosen (stm32dfu_leave_rule), as `--json` names it
LEAVE_RULES = ("given", "flash-start", "entry", "vector-table")


def _leave(r):
    return {"address": r.address, "sp": r.sp if r.vector_read else None, "reset": r.reset if r.vector_read else None,
            "vector_ok": bool(r.vector_ok), "confirmed": bool(r.confirmed), "gone": bool(r.gone),
            "rule": LEAVE_RULES[r.rule] if 0 <= r.rule < len(LEAVE_RULES) else "given"}


class Chip:
    """One open device. Use it from one thread at a time; close it (or use `with`)."""

    def __init__(self, session, uart=False):
        self._s = session
        self._progress = None
        self._uart = uart  # the USART bootloader (AN3155): doctor measures the serial link

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._s:
            _lib.stm32dfu_close(self._s)
            self._s = None

    def _check(self, rc):
        if rc:
            _raise(rc, self._s)

    def _session(self):
        if not self._s:
            raise UsageError(-1, "STM32DFU_E_USAGE", "the chip is closed", "")  # noqa: F405
        return self._s

    def info(self):
        """Chip, flash size, UID, serial verdict, RDP level, bootloader version."""
        i = _native.Identity()
        self._check(_lib.stm32dfu_info(self._session(), ctypes.byref(i)))
        return _identity(i)

    def device(self):
        """The device record (stm32dfu_device_record): USB strings, every alt setting kept with its whole
        memory map, what opening found, and the identity."""
        d = _native.DeviceRec()
        self._check(_lib.stm32dfu_device_record(self._session(), ctypes.byref(d)))
        return _record(d)

    @property
    def uid(self):
        """The chip's 96-bit UID as 24 hex digits, "002200363436510D33323730" (the form of the command
        line's --json, of the log and of serial=), or None if it could not be read."""
        return _s(_lib.stm32dfu_uid(self._session())).replace(" ", "") or None

    def read(self, address, length, alt=None, confirm=True, force=False):
        """Reads length bytes at address from whichever memory serves it (or through alt).
        confirm=False never confirms by a second read; force reads addresses known to hang the ROM."""
        _int("address", address)
        _int("length", length, 0, 0xFFFFFFFF - address + 1)
        _int("alt", alt, 0, 255, none_ok=True)
        o = _native.ReadOptions()
        if alt is not None:
            o.has_alt, o.alt = 1, alt
        o.no_confirm, o.force = int(not confirm), int(force)
        buf = ctypes.create_string_buffer(length or 1)
        with self._long_call() as state:
            rc = _lib.stm32dfu_read_ex(self._session(), ctypes.byref(o), address, buf, length)
        self._finish(state, rc, "report", None)
        return buf.raw[:length]

    def read_file(self, address, length, path):
        """Reads into a file whose format follows its name (.bin, .hex, .srec)."""
        _int("address", address)
        _int("length", length, 1, 0xFFFFFFFF - address + 1)
        self._check(_lib.stm32dfu_read_file(self._session(), address, length, os.fspath(path).encode()))

    def cancel(self):
        """Asks the call running on this chip (in another thread) to stop at the next transfer
        boundary; it then raises CanceledError with its report. Safe from any thread."""
        if self._s:
            _lib.stm32dfu_cancel(self._s)

    @contextlib.contextmanager
    def _long_call(self, progress=None):
        """Around a call that may take long (write, erase, recover, verify, read): SIGINT and an
        exception in progress() stop it at the next transfer boundary through stm32dfu_cancel, and
        the call's result is then raised as Interrupted / CanceledError (see _finish)."""
        session = self._session()
        state = {"exc": None, "sigint": False}

        def trampoline(_user, phase, done, total):
            # the library calls this between transfers: Python runs a pending SIGINT handler here
            if state["exc"] is not None or progress is None:
                return
            try:
                progress(PHASES[phase] if 0 <= phase < len(PHASES) else phase, done, total)
            except BaseException as e:  # noqa: BLE001 (it cannot cross the C frame: it stops the call)
                state["exc"] = e
                _lib.stm32dfu_cancel(session)

        def on_sigint(_signum, _frame):
            state["sigint"] = True
            _lib.stm32dfu_cancel(session)  # one atomic store: the call stops at its next boundary

        old = None
        if threading.current_thread() is threading.main_thread():
            try:
                old = signal.signal(signal.SIGINT, on_sigint)
            except (ValueError, OSError):  # not the main interpreter
                old = None
        _lib.stm32dfu_cancel_reset(session)
        self._progress = _native.PROGRESS_FN(trampoline)  # kept alive while the library may call it
        _lib.stm32dfu_set_progress(session, self._progress, None)
        try:
            yield state
        finally:
            _lib.stm32dfu_set_progress(session, _native.PROGRESS_FN(), None)
            self._progress = None
            _lib.stm32dfu_cancel_reset(session)
            if old is not None:
                signal.signal(signal.SIGINT, old)

    def _finish(self, state, rc, attr, value):
        """The result of a long call: Interrupted after SIGINT (even when the call had finished: the
        user asked to stop), CanceledError from a progress callback's exception, else as _checked."""
        if state["sigint"]:
            try:
                self._check(rc)
            except CanceledError as e:
                err = Interrupted(e.code, e.name, e.message, e.hint)
            except Error as e:
                err = Interrupted(e.code, e.name, "interrupted; the call had failed: " + e.message, e.hint)
            else:
                err = Interrupted(-20, "STM32DFU_E_CANCELED", "interrupted after the call had finished", "")
            setattr(err, attr, value)
            raise err
        if state["exc"] is not None:
            cause = state["exc"]
            try:
                self._check(rc)
            except Error as e:
                err = CanceledError(e.code, e.name, f"the progress callback raised {cause!r}: {e.message}", e.hint)
            else:
                err = CanceledError(-20, "STM32DFU_E_CANCELED",
                                    f"the progress callback raised {cause!r} after the call had finished", "")
            setattr(err, attr, value)
            raise err from cause
        return self._checked(rc, attr, value)

    @staticmethod
    def _write_options(verify=True, full=False, leave=False, leave_address=None, vdd=None, otp_permanent=False,
                       otp_after_flash=False, confirm=()):
        _int("leave_address", leave_address, none_ok=True)
        vdd = _volts("vdd", vdd)
        o = _native.WriteExOptions()
        o.no_verify, o.full, o.leave = int(not verify), int(full), int(leave)
        if leave_address is not None:
            o.has_leave_address, o.leave_address = 1, leave_address
        o.vdd, o.otp_permanent = float(vdd or 0), int(bool(otp_permanent))
        o.otp_after_flash, o.ob_confirm = int(bool(otp_after_flash)), _confirm_flags(confirm)
        return o

    @staticmethod
    def _file_options(address, force):
        _int("address", address, none_ok=True)
        o = _native.FileOptions()
        if address is not None:
            o.has_address, o.address = 1, address
        o.force = int(force)
        return o

    @staticmethod
    def _segment(address, blob, alt=None):
        """One segment over blob (a bytes object the caller keeps alive during the call)."""
        seg = _native.Segment()
        seg.address, seg.alt, seg.len = address, alt or 0, len(blob)
        seg.data = ctypes.cast(ctypes.c_char_p(blob), ctypes.c_void_p)
        return seg

    @staticmethod
    def _report(r):
        def phase(p):
            return {"bytes": p.bytes, "seconds": p.us / 1e6}
        return {
            "image_bytes": r.image_bytes, "bytes_programmed": r.bytes_programmed,
            "preserved_bytes": r.preserved_bytes, "sectors_touched": r.sectors_touched,
            "sectors_erased": r.sectors_erased, "sectors_skipped": r.sectors_skipped, "runs": r.runs,
            "blocks": r.blocks, "transfer_size": r.transfer_size, "verified": bool(r.verified), "otp": bool(r.otp),
            "canceled": bool(r.canceled),
            "memory": _s(r.memory) or None, "memory_address": r.memory_address if r.memory else None,
            "ob_protection_active": bool(r.ob_protection_active), "ob_bootloader_gone": bool(r.ob_bootloader_gone),
            "voltage_range": r.voltage_range if r.voltage_range >= 0 else None,
            "phases": {"read": phase(r.read), "erase": phase(r.erase), "program": phase(r.program),
                       "verify": phase(r.verify)},
            "seconds": (r.read.us + r.erase.us + r.program.us + r.verify.us) / 1e6,
            "mismatch_address": r.mismatch_address if r.mismatch else None,
            "blocked_sector": r.blocked_sector if r.blocked_sector >= 0 else None,
            "left": bool(r.left), "leave": _leave(r.leave) if r.leave.address else None,
            "retries": r.link.retries,
            "link": {k: getattr(r.link, k) for k, _ in _native.LinkCounters._fields_},
            "sectors": [{"index": x.index, "address": x.address, "size": x.size,
                         "state": SECTOR_STATES[x.state] if 0 <= x.state < len(SECTOR_STATES) else x.state}
                        for x in r.sectors[:min(r.n_sectors, _native.MAX_SECTOR_REPORTS)]],
            "recovery_file": _s(r.recovery_file) or None, "restored_from": _s(r.restored_from) or None,
            "restored_sectors": r.restored_sectors,
        }

    def _checked(self, rc, attr, value):
        """Raises the error of rc (if any) with value attached as attr; else returns value."""
        try:
            self._check(rc)
        except Error as e:
            setattr(e, attr, value)
            raise
        return value

    def write(self, data, address=None, progress=None, verify=True, full=False, leave=False, force=False,
              leave_address=None, vdd=None, otp_permanent=False, otp_after_flash=False, alt=None, confirm=()):
        """Writes a file (path; address places a raw .bin) or bytes (then address= is required; alt= sends
        them through that alternate setting). progress(phase, done, total); vdd: the board's supply in
        volts (widest flash parallelism, F2/F4/F7); otp_permanent: allow data in OTP memory, which is
        programmed once and never erased; confirm: the risks (stm32dfu.CONFIRM names) a raw
        option-byte block may carry. Returns the report (sectors and what each holds, or the other
        memory written; phases; recovery file); a failure's exception carries it as .report."""
        _int("address", address, none_ok=True)
        _int("alt", alt, 0, 255, none_ok=True)
        path, blob = _image_args(data, address)
        o = self._write_options(verify, full, leave, leave_address, vdd, otp_permanent, otp_after_flash, confirm)
        r = _native.WriteReport()
        with self._long_call(progress) as state:
            if path is not None:
                fo = self._file_options(address, force)
                rc = _lib.stm32dfu_write_file_ex(self._session(), path.encode(), ctypes.byref(fo), ctypes.byref(o),
                                                 ctypes.byref(r))
            else:
                seg = self._segment(address, blob, alt)
                rc = _lib.stm32dfu_write_ex(self._session(), ctypes.byref(seg), 1, ctypes.byref(o), ctypes.byref(r))
        return self._finish(state, rc, "report", self._report(r))

    def verify(self, data, address=None, force=False):
        """Checks the chip holds the file's (or the bytes') contents: returns bytes compared and seconds;
        raises VerifyError (with .report: mismatches, first_mismatch, expected, actual) if not."""
        path, blob = _image_args(data, address)
        r = _native.VerifyReport()
        with self._long_call() as state:
            if path is not None:
                fo = self._file_options(address, force)
                rc = _lib.stm32dfu_verify_file_ex(self._session(), path.encode(), ctypes.byref(fo), ctypes.byref(r))
            else:
                seg = self._segment(address, blob)
                rc = _lib.stm32dfu_verify_ex(self._session(), ctypes.byref(seg), 1, ctypes.byref(r))
        report = {"bytes": r.bytes, "match": bool(r.match), "mismatches": r.mismatches,
                  "first_mismatch": r.first_mismatch if r.mismatches else None,
                  "expected": r.expected if r.mismatches else None, "actual": r.actual if r.mismatches else None,
                  "seconds": r.seconds}
        return self._finish(state, rc, "report", report)

    def recover(self, vdd=None):
        """Puts back what an unfinished write saved for this chip (its recovery file), verified; the
        file is then deleted. Returns the report, or None when the chip has no recovery file."""
        o = self._write_options(vdd=vdd)
        r = _native.WriteReport()
        with self._long_call() as state:
            rc = _lib.stm32dfu_recover(self._session(), ctypes.byref(o), ctypes.byref(r))
        if rc == 1 and not state["sigint"]:
            return None
        return self._finish(state, 0 if rc == 1 else rc, "report", self._report(r))

    def erase(self, sectors=None, address=None, length=None, all=False, confirm=False, vdd=None,  # noqa: A002
              report=False):
        """Erases whole sectors: sectors (numbers), or every sector that [address, address+length) touches,
        all of each (more than length bytes when the range is not on sector bounds: report=True gives
        start and end of what was erased), or all (confirm=True). erase_bytes() erases exactly a range and
        keeps the rest of its sectors (the command line's `erase ADDR LEN`).
        vdd: the board's supply in volts, to erase with the widest flash parallelism it allows (F2/F4/F7).
        Returns the number of sectors erased (None for all); with report=True a dict: sectors_erased,
        start and end of the whole sectors a range erased, voltage_range and seconds."""
        chosen = sum(x is not None and x is not False for x in (sectors, address, all or None))
        if chosen != 1:
            raise UsageError(-1, "STM32DFU_E_USAGE", "erase needs exactly one of sectors=, address=/length= or all=True",
                             "")  # noqa: F405
        _int("address", address, none_ok=True)
        _int("length", length, 1, none_ok=True)
        if sectors is not None:
            if isinstance(sectors, (str, bytes)) or not hasattr(sectors, "__iter__"):
                _bad("sectors", sectors, "expected a list of sector numbers")
            sectors = [_int("sectors[]", x, 0, 0xFFFF) for x in sectors]
        o = _native.EraseOptions()
        o.vdd = _volts("vdd", vdd) or 0.0
        if all:
            o.mode, o.confirm = _native.ERASE_ALL, int(bool(confirm))
        elif sectors is not None:
            arr = (ctypes.c_uint * max(len(sectors), 1))(*sectors)
            o.mode, o.sectors, o.n_sectors = _native.ERASE_SECTORS, arr, len(sectors)
        else:
            o.mode, o.address, o.length = _native.ERASE_RANGE, address, length or 1
        r = _native.EraseResult()
        with self._long_call() as state:
            rc = _lib.stm32dfu_erase_ex(self._session(), ctypes.byref(o), ctypes.byref(r))
        self._finish(state, rc, "report", None)
        if report:
            return {"sectors_erased": r.sectors_erased, "start": r.start if r.end else None,
                    "end": r.end or None, "voltage_range": r.voltage_range if r.voltage_range >= 0 else None,
                    "seconds": r.seconds}
        return None if all else r.sectors_erased

    def erase_bytes(self, address, length, vdd=None, progress=None):
        """Erases exactly [address, address+length) of the flash; the other bytes of the sectors it
        touches are read back, saved to the recovery file, and written back after the erase, then
        verified (as write() keeps the bytes outside an image). Returns the report, as write() does."""
        r = _native.WriteReport()
        with self._long_call(progress) as state:
            rc = _lib.stm32dfu_erase_bytes(self._session(), address, length, float(vdd or 0), ctypes.byref(r))
        return self._finish(state, rc, "report", self._report(r))

    @staticmethod
    def _ob_dict(ob):
        return {_s(f.name): f.value for f in ob.fields[:ob.n_fields] if f.present}

    def option_bytes(self, detail=False):
        """{FIELD: raw value}; with detail=True, what `stm32dfu ob show` prints (stm32dfu_ob_read_ex): family,
        layout, address, alt, raw bytes, RDP level, the layout's note, whether it decoded (and why not),
        each field in the block (name, width, value, default, meaning, description, danger, whether this
        part has it and why not, the named values set_option_bytes takes) and each word's complement check."""
        if not detail:
            ob = _native.OptionBytes()
            self._check(_lib.stm32dfu_ob_read(self._session(), ctypes.byref(ob)))
            return self._ob_dict(ob)
        r = _native.ObReport()
        self._check(_lib.stm32dfu_ob_read_ex(self._session(), ctypes.byref(r)))
        fields = r.fields[:r.n_fields]
        return {"family": _s(r.family) or None, "family_name": _s(r.family_name) or None,
                "layout": _s(r.layout), "address": r.address, "alt": r.alt, "raw": bytes(r.raw[:r.size]),
                "decoded": bool(r.decoded), "decode_error": _s(r.decode_error) or None, "writable": bool(r.writable),
                "short_block": bool(r.short_block), "rdp_level": r.rdp_level if r.rdp_level >= 0 else None,
                "note": _s(r.note) or None, "complement_errors": r.complement_errors,
                "fields": [_ob_field(f) for f in fields if f.present],
                "not_in_block": [_s(f.name) for f in fields if not f.present],
                "words": [_ob_word(w) for w in r.words[:r.n_words] if w.present]}

    def set_option_bytes(self, confirm=(), dry_run=False, report=False, **fields):
        """Sets fields (BOR_LEV=0x1 raw, or a named value: BOR_LEV="off", RDP="level1") with the checks of
        `stm32dfu ob set`. Risky changes need their name in confirm (see stm32dfu.CONFIRM). Returns the
        option bytes read back after the write as {FIELD: value} (None when the chip no longer lets them
        be read, e.g. after RDP level 1). With report=True, or dry_run=True (checks only, writes nothing,
        so nothing is read back), returns what `ob set` prints instead (stm32dfu_ob_set_ex): the changes
        with both meanings, complements repaired, the confirmations required (CONFIRM names) and their
        command-line flags, dry_run, nothing_to_change, written, verified, protection_active, reset_seen,
        the blocks before, requested and read back, and option_bytes as above. A failure's exception
        carries that report as .result."""
        if not fields:
            raise UsageError(-1, "STM32DFU_E_USAGE", "no FIELD=VALUE given", "")  # noqa: F405
        o = _native.ObSetOptions()
        o.confirm, o.dry_run = _confirm_flags(confirm), int(bool(dry_run))
        assigns = [f"{k}={v:#x}" if isinstance(v, int) else f"{k}={v}" for k, v in fields.items()]
        arr = (ctypes.c_char_p * len(assigns))(*[a.encode() for a in assigns])
        r = _native.ObSetResult()
        rc = _lib.stm32dfu_ob_set_ex(self._session(), arr, len(assigns), ctypes.byref(o), ctypes.byref(r))
        result = _ob_set_result(r)
        self._checked(rc, "result", result)
        if r.has_after:  # the block read back, field by field (a read of its own: the set is done either way)
            ob = _native.OptionBytes()
            if _lib.stm32dfu_ob_read(self._session(), ctypes.byref(ob)) == 0:
                result["option_bytes"] = self._ob_dict(ob)
        return result if report or dry_run else result["option_bytes"]

    def unprotect(self, confirm=False):
        """Read Unprotect: the chip mass-erases its flash and lowers RDP to 0 (needs confirm=True)."""
        r = _native.UnprotectResult()
        self._check(_lib.stm32dfu_unprotect(self._session(), int(bool(confirm)), ctypes.byref(r)))
        return {"rdp_before": r.rdp_before if r.rdp_before >= 0 else None,
                "rdp_after": r.rdp_after if r.rdp_after >= 0 else None,
                "flash_erased": bool(r.flash_erased), "option_bytes_default": bool(r.ob_default)}

    def leave(self, address=None, reset=False):
        """Leaves DFU and starts the application (at address, else the start of flash). Returns what
        was found there and seen on the bus: address, sp, reset, vector_ok, confirmed, gone. A
        NotStartedError (the bootloader came back) carries the same dict as its .leave.
        reset=True (a serial port opened with reset_seq): drives the sequence's exit part instead (the
        default: BOOT0 low, an NRST pulse), so the chip starts its application from a real reset;
        nothing is sent on the line afterwards, so nothing confirms it runs, and the session's
        bootloader is gone: close the chip. Returns {"reset": True}."""
        if reset:
            if address is not None:
                _bad("address", address, "nothing with reset=True (the chip starts from its reset vector)")
            self._check(_lib.stm32dfu_leave_reset(self._session()))
            return {"reset": True}
        _int("address", address, none_ok=True)
        r = _native.LeaveResult()
        rc = _lib.stm32dfu_leave_ex(self._session(), int(address is not None), address or 0, ctypes.byref(r))
        return self._checked(rc, "leave", _leave(r))

    def doctor(self, count=None, hse=None):
        """Link test and chip checks: numbers and findings in plain words. Over USB, count transfers
        (default 200) and hse (the board's crystal, Hz). Over a serial port (stm32dfu_doctor_uart):
        count commands per baud rate (default 60), at every rate the family's ROM follows when the
        chip was opened with reset_seq (else the session's rate only); "uart" then holds the rates and
        the recommended baud, and hse is refused (the USART bootloader needs no crystal)."""
        if count is not None:
            _int("count", count, 3, 100000)
        if hse is not None and (isinstance(hse, bool) or not isinstance(hse, (int, float)) or hse <= 0):
            _bad("hse", hse, "expected the crystal's frequency in Hz, such as 25_000_000")
        r = _native.DoctorReport()
        u = None
        if self._uart:
            if hse is not None:
                _bad("hse", hse, "nothing over a serial port (the USART bootloader does not depend on the crystal)")
            u = _native.DoctorUart()
            self._check(_lib.stm32dfu_doctor_uart(self._session(), count or 0, ctypes.byref(r), ctypes.byref(u)))
        else:
            self._check(_lib.stm32dfu_doctor(self._session(), count or 200, float(hse or 0), ctypes.byref(r)))
        out = self._doctor_dict(r)
        if u is not None:
            out["uart"] = {
                "per_rate": u.per_rate, "session_baud": u.session_baud, "family_max_baud": u.family_max_baud,
                "recommended_baud": u.recommended_baud or None, "swept": bool(u.swept), "reads": bool(u.reads),
                "rates": [{"baud": x.baud, "tried": bool(x.tried), "why_not": _library_words(_s(x.why_not)) or None,
                           "synced": bool(x.synced), "commands": x.commands, "nacks": x.nacks,
                           "timeouts": x.timeouts, "errors": x.errors, "corrupt": x.corrupt,
                           "holds": bool(x.holds)} for x in u.rates[:min(u.n_rates, _native.DOCTOR_UART_RATES)]],
            }
        return out

    @staticmethod
    def _doctor_dict(r):
        sev = ("ok", "note", "warning", "bad")
        return {
            "transfers": r.transfers, "failures": r.failures, "link_bad": bool(r.link_bad),
            "link_marginal": bool(r.link_marginal),
            "link": [{"size": x.size, "attempts": x.attempts, "failures": x.failures, "corrupt": x.corrupt,
                      "latency_us": {"min": x.lat_min_us, "median": x.lat_median_us, "max": x.lat_max_us}}
                     for x in r.link],
            "hse_hz": r.hse_hz or None,
            "hsi_safe_band_pct": (r.safe_lo_pct, r.safe_hi_pct) if r.hse_hz else None,
            "worst": sev[r.worst] if 0 <= r.worst < 4 else r.worst,
            "emulated_clock": {"hsi_error_pct": r.emulated_hsi_error_pct, "detected_hz": r.emulated_detected_hz,
                               "usb_error_ppm": r.emulated_usb_error_ppm} if r.emulated_clock else None,
            "findings": [{"severity": sev[f.severity] if 0 <= f.severity < 4 else f.severity, "id": _s(f.id),
                          "text": _library_words(_s(f.text)), "advice": _library_words(_s(f.advice))}
                         for f in r.findings[:r.n_findings]],
        }
