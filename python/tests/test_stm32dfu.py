"""The Python package against the emulator (sim=...): every method, each error class, progress.

Facts checked come from the F746 profile and protocol.md (layout 04*032Kg,01*128Kg,03*256Kg;
option bytes at 0x1FFF0000, 32 bytes, factory RDP 0xAA and BOR_LEV 3)."""
import ctypes
import os
import shutil
import subprocess

import pytest

import stm32dfu

SIM = "f746,timing=0"


@pytest.fixture(autouse=True)
def own_state_dir(tmp_path, monkeypatch):
    """doctor remembers its link verdict per board (the UID) in the state directory, and a marginal
    verdict makes later sessions confirm every read: each test gets its own, so no test (and no
    earlier run of the suite) changes what another one sees."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@pytest.fixture
def chip():
    with stm32dfu.open(sim=SIM) as c:
        yield c


def pattern(n, seed=0):
    return bytes((i * 7 + seed + (i >> 8)) & 0xFF for i in range(n))


def test_version_is_semantic():
    parts = stm32dfu.version().split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)


def test_list_shows_the_emulated_f746():
    devs = stm32dfu.list(sim=SIM)
    assert len(devs) == 1
    d = devs[0]
    assert (d["vid"], d["pid"]) == (0x0483, 0xDF11)
    assert d["dfu_version"] == 0x011A and d["transfer_size"] == 2048
    flash = d["alts"][0]
    assert flash["name"] == "Internal Flash"
    region = flash["regions"][0]
    assert region["start"] == 0x08000000 and region["length"] == 1 << 20
    assert [(s["count"], s["size"]) for s in region["sectors"]] == [(4, 32768), (1, 131072), (3, 262144)]
    assert d["identity"]["family"] == "F74x"


def test_list_detail_shows_the_f0_found_in_dferror():
    # profiles/f0-32k.profile starts in dfuERROR/errFIRMWARE (the ozseccon listing); opening clears it
    d, = stm32dfu.list(sim="f0-32k,timing=0", detail=True)
    assert (d["found_state"], d["found_status"], d["found_action"]) == ("dfuERROR", "errFIRMWARE", "cleared")
    assert d["identity"]["flash_size"] == 32 * 1024 and d["flash_size_source"] == "register"
    assert d["identity_read"] and not d["uid_shared"]
    f7, = stm32dfu.list(sim=SIM, detail=True)
    assert f7["found_action"] == "none" and f7["layout_flash_size"] == 1 << 20
    assert all(a["layout_error"] is None for a in f7["alts"])


def test_info(chip):
    info = chip.info()
    assert info["family"] == "F74x"
    assert info["flash_size"] == 1 << 20
    assert info["rdp_level"] == 0
    assert len(info["uid_bytes"]) == 12
    assert info["uid"] == chip.uid
    # one machine form: 24 hex digits, the three words in address order, as the CLI's --json and the log
    words = [int.from_bytes(info["uid_bytes"][k:k + 4], "little") for k in (0, 4, 8)]
    assert info["uid"] == "%08X%08X%08X" % tuple(words), info["uid"]
    assert chip.device()["serial"] == info["serial_reported"]


def test_write_bytes_read_verify_with_progress(chip):
    data = pattern(5000, 1)
    seen = []
    r = chip.write(data, address=0x08008000, progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert r["verified"] and r["image_bytes"] == 5000 and r["sectors_erased"] == 1
    assert chip.read(0x08008000, 5000) == data
    chip.verify(data, address=0x08008000)
    phases = {p for p, _, _ in seen}
    assert {"erase", "program", "verify"} <= phases
    done_program = [d for p, d, t in seen if p == "program"]
    assert done_program == sorted(done_program) and done_program[-1] > 0
    with pytest.raises(stm32dfu.VerifyError) as e:
        chip.verify(pattern(5000, 2), address=0x08008000)
    assert e.value.code == -15 and e.value.name == "STM32DFU_E_VERIFY"


def test_write_file_and_read_file(chip, tmp_path):
    fw = tmp_path / "fw.bin"
    fw.write_bytes(pattern(3000, 9))
    r = chip.write(fw, address=0x08000000)
    assert r["verified"]
    out = tmp_path / "back.srec"
    chip.read_file(0x08000000, 3000, out)
    assert out.read_text().startswith("S0")
    chip.verify(out)


def test_write_report_sectors_vdd_and_kept_bytes(chip):
    keep = pattern(256, 3)
    chip.write(keep, address=0x08004000)
    r = chip.write(pattern(1024, 4), address=0x08000000, vdd=3.0)
    # sector 0 (32 KiB) erased and rewritten; the non-blank bytes at 0x08004000 written back
    assert r["sectors"] == [{"index": 0, "address": 0x08000000, "size": 32768, "state": "new"}]
    assert r["preserved_bytes"] == sum(b != 0xFF for b in keep)
    assert r["voltage_range"] == 3 and chip.read(0xFFFF0000, 1) == b"\x03"  # 2.7-3.6 V: x32
    assert r["phases"]["verify"]["bytes"] >= 1024 and r["recovery_file"] is None
    assert chip.read(0x08004000, 256) == keep
    again = chip.write(pattern(1024, 4), address=0x08000000)
    assert again["sectors_erased"] == 0 and again["sectors"][0]["state"] == "old"


def test_verify_reports_where_it_differs(chip):
    data = pattern(600, 5)
    chip.write(data, address=0x08010000)
    assert chip.verify(data, address=0x08010000)["bytes"] == 600
    changed = bytearray(data)
    changed[77] ^= 0xFF
    with pytest.raises(stm32dfu.VerifyError) as e:
        chip.verify(bytes(changed), address=0x08010000)
    rep = e.value.report
    assert rep["mismatches"] == 1 and rep["first_mismatch"] == 0x08010000 + 77
    assert rep["expected"] == changed[77] and rep["actual"] == data[77]


def test_otp_needs_the_permanent_flag(chip):
    with pytest.raises(stm32dfu.NeedsConfirmationError):
        chip.write(pattern(16, 6), address=0x1FF0F000)
    assert chip.read(0x1FF0F000, 16) == b"\xff" * 16
    r = chip.write(pattern(16, 6), address=0x1FF0F000, otp_permanent=True)
    assert r["otp"] and r["verified"] and chip.read(0x1FF0F000, 16) == pattern(16, 6)
    assert "OTP" in r["memory"] and r["memory_address"] == 0x1FF0F000 and r["sectors"] == []


def test_failed_write_then_recover(tmp_path):
    """A write pulled from the bus once its erase began keeps the bytes outside the image in a
    recovery file (beside the emulated chip's state); recover() puts them back, once."""
    state = tmp_path / "chip.state"
    keep = pattern(256, 7)
    for at in range(20, 400, 5):
        state.unlink(missing_ok=True)
        with stm32dfu.open(sim=f"f746,timing=0,state={state}") as c:
            c.write(keep, address=0x08006000)
        with stm32dfu.open(sim=f"f746,timing=0,state={state},unplug_at={at}", retries=0) as c:
            try:
                c.write(pattern(16384, 8), address=0x08000100)
                continue
            except stm32dfu.Error as e:
                failed = e.report
        if failed["sectors"] and failed["sectors"][0]["state"] != "old":
            break
        assert failed["recovery_file"] is None  # failed before the erase: nothing to keep
    else:
        pytest.fail("no transfer count made the write fail during its erase")
    assert os.path.exists(failed["recovery_file"])
    with stm32dfu.open(sim=f"f746,timing=0,state={state}") as c:
        r = c.recover()
        assert r["verified"] and r["restored_sectors"] == 1 and r["restored_from"] == failed["recovery_file"]
        assert c.read(0x08006000, 256) == keep
        assert not os.path.exists(failed["recovery_file"])
        assert c.recover() is None


def test_erase_forms(chip):
    chip.write(pattern(256), address=0x08000000)
    chip.write(pattern(256), address=0x08010000)
    assert chip.erase(sectors=[0]) == 1
    assert chip.read(0x08000000, 256) == b"\xff" * 256
    assert chip.read(0x08010000, 256) == pattern(256)
    assert chip.erase(address=0x08010000, length=16) == 1
    assert chip.read(0x08010000, 256) == b"\xff" * 256
    chip.write(pattern(64), address=0x08040000)
    with pytest.raises(stm32dfu.NeedsConfirmationError):
        chip.erase(all=True)
    assert chip.read(0x08040000, 64) == pattern(64)
    chip.erase(all=True, confirm=True)
    assert chip.read(0x08040000, 64) == b"\xff" * 64
    with pytest.raises(stm32dfu.UsageError):
        chip.erase()


def test_option_bytes(chip):
    ob = chip.option_bytes()
    assert ob["RDP"] == 0xAA and ob["BOR_LEV"] == 3 and ob["BOOT_ADD1"] == 0x0040
    detail = chip.option_bytes(detail=True)
    assert detail["layout"] == "F74x" and detail["address"] == 0x1FFF0000 and len(detail["raw"]) == 32
    assert detail["rdp_level"] == 0 and detail["complement_errors"] == 0
    after = chip.set_option_bytes(BOR_LEV=1)
    assert after["BOR_LEV"] == 1 and after["RDP"] == 0xAA  # the block read back, field by field
    assert chip.option_bytes()["BOR_LEV"] == 1
    with pytest.raises(stm32dfu.NeedsConfirmationError) as e:
        chip.set_option_bytes(RDP=0xCC)
    assert "level 2" in e.value.message
    assert chip.option_bytes()["RDP"] == 0xAA
    with pytest.raises(stm32dfu.UsageError):
        chip.set_option_bytes(NO_SUCH_FIELD=1)
    with pytest.raises(stm32dfu.UsageError):
        chip.set_option_bytes(confirm=["not-a-risk"], BOR_LEV=2)


def test_option_bytes_detail_f746_defaults(chip):
    """RM0385 (FLASH_OPTCR/OPTCR1): BOR_LEV is OPTCR[3:2], 0b11 = BOR off from the factory; RDP 0xAA is
    level 0; BOOT_ADD0 0x0080 boots from flash via ITCM, BOOT_ADD1 0x0040 from system memory."""
    d = chip.option_bytes(detail=True)
    assert d["family"] == "F74x" and d["layout"] == "F74x" and d["decoded"] and d["writable"]
    assert d["alt"] == 1 and d["decode_error"] is None and d["not_in_block"] == []
    assert "UNCONFIRMED" in d["note"]
    f = {x["name"]: x for x in d["fields"]}
    bor = f["BOR_LEV"]
    assert (bor["width"], bor["value"], bor["default_value"], bor["default"]) == (2, 3, 3, True)
    assert bor["named_values"] == {"level3": 0, "level2": 1, "level1": 2, "off": 3}
    assert bor["on_this_chip"] and bor["absent_why"] is None and bor["danger"] == "caution"
    assert f["RDP"]["named_values"] == {"level0": 0xAA, "level1": 0x55, "level2": 0xCC}
    assert (f["BOOT_ADD0"]["default_value"], f["BOOT_ADD1"]["value"]) == (0x0080, 0x0040)
    # OPTCR[15:0] = 0xAAFF stored with its complement in the upper half-word
    w = d["words"][0]
    assert (w["offset"], w["bits"], w["value"], w["complement"], w["ok"]) == (0, 16, 0xAAFF, 0x5500, True)
    assert d["raw"][:4] == bytes([0xFF, 0xAA, 0x00, 0x55])


def test_option_bytes_detail_names_what_the_part_lacks():
    # RM0368: the F401 has no dual-bank boot; BFB2 belongs to the F42x table
    with stm32dfu.open(sim="f401,timing=0") as f401:
        f = {x["name"]: x for x in f401.option_bytes(detail=True)["fields"]}
        assert not f["BFB2"]["on_this_chip"] and "exists only on F42x" in f["BFB2"]["absent_why"]
        assert f["RDP"]["on_this_chip"]


def test_set_option_bytes_dry_run_writes_nothing(chip):
    before = chip.option_bytes(detail=True)["raw"]
    r = chip.set_option_bytes(BOR_LEV="level1", dry_run=True)
    assert r["dry_run"] and r["checked"] and not r["written"] and not r["write_attempted"]
    assert r["changes"] == [{"field": "BOR_LEV", "width": 2, "old": 3, "new": 2,
                             "old_meaning": "BOR off (1.62-2.10 V)", "new_meaning": "BOR level 1 (2.10-2.40 V)"}]
    assert r["before"] == before and r["after"] is None and r["option_bytes"] is None
    # 0xAAFF with BOR_LEV = 10: 0xAAFB, complement 0x5504
    assert r["requested"][:4] == bytes([0xFB, 0xAA, 0x04, 0x55]) and r["requested"][4:] == before[4:]
    assert chip.option_bytes(detail=True)["raw"] == before
    r = chip.set_option_bytes(BOR_LEV="level1", report=True)
    assert r["written"] and r["verified"] and r["reset_seen"] and not r["protection_active"]
    assert r["after"] == r["requested"] and r["option_bytes"]["BOR_LEV"] == 2
    r = chip.set_option_bytes(BOR_LEV=2, report=True)
    assert r["nothing_to_change"] and not r["write_attempted"] and r["changes"] == []


def test_set_option_bytes_missing_confirmation(chip):
    with pytest.raises(stm32dfu.NeedsConfirmationError) as e:
        chip.set_option_bytes(RDP="level2", confirm=["rdp1"])
    err = e.value
    assert err.code == -16 and err.name == "STM32DFU_E_NEEDS_CONFIRMATION"
    assert 'confirm="rdp2"' in err.hint  # the package's words (issue 24 item 14); the flag is in confirmation_flags
    res = err.result
    assert res["confirmations_required"] == ["rdp2"] and res["confirmations_missing"] == ["rdp2"]
    assert res["confirmation_flags"] == ["--i-understand-rdp2-is-permanent"]
    assert res["changes"][0]["old"] == 0xAA and res["changes"][0]["new"] == 0xCC and not res["written"]
    assert chip.option_bytes()["RDP"] == 0xAA
    with pytest.raises(stm32dfu.UsageError) as e:
        chip.set_option_bytes(BOR_LEV=4)  # two bits
    assert not e.value.result["checked"]
    assert chip.set_option_bytes(RDP="level1", confirm=["rdp1"]) is None  # nothing readable any more
    with pytest.raises(stm32dfu.ProtectedError):
        chip.option_bytes()


def test_set_option_bytes_report_of_rdp1(chip):
    r = chip.set_option_bytes(RDP="level1", confirm=["rdp1"], report=True)
    assert r["written"] and r["protection_active"] and not r["verified"] and r["option_bytes"] is None
    with pytest.raises(stm32dfu.ProtectedError):
        chip.option_bytes(detail=True)


def test_option_bytes_the_part_lacks_are_refused():
    """BFB2 is a dual-bank bit of the F42x/F43x/F469, reserved on the F407: refused, nothing written."""
    with stm32dfu.open(sim="f407,timing=0") as f407:
        before = f407.option_bytes(detail=True)["raw"]
        with pytest.raises(stm32dfu.UsageError) as e:
            f407.set_option_bytes(BFB2=1)
        assert "does not exist on this chip" in e.value.message
        assert f407.option_bytes(detail=True)["raw"] == before


def test_doctor(chip):
    d = chip.doctor(count=30, hse=25e6)
    assert d["transfers"] >= 30 and d["failures"] == 0 and not d["link_bad"]
    lo, hi = d["hsi_safe_band_pct"]
    assert -2.0 < lo < -1.5 and 1.5 < hi < 2.0  # protocol.md 4.3, 25 MHz row
    assert d["findings"]


def test_erase_report_and_vdd(chip):
    chip.write(pattern(256), address=0x08007F00)
    chip.write(pattern(256), address=0x08010000)
    # 32 bytes across the sector 0/1 boundary (32 KiB sectors): both whole sectors, nothing more
    r = chip.erase(address=0x08007FF0, length=0x20, report=True)
    assert r["sectors_erased"] == 2 and r["start"] == 0x08000000 and r["end"] == 0x08010000
    assert r["voltage_range"] is None
    assert chip.read(0x08007F00, 256) == b"\xff" * 256
    assert chip.read(0x08010000, 256) == pattern(256)
    # 3.3 V allows range 3 (2.7-3.6 V, x32), which the Device Feature byte then holds
    r = chip.erase(sectors=[2], vdd=3.3, report=True)
    assert r["sectors_erased"] == 1 and r["voltage_range"] == 3 and r["end"] is None
    assert chip.read(0xFFFF0000, 1) == b"\x03"
    assert chip.read(0x08010000, 256) == b"\xff" * 256
    with pytest.raises(stm32dfu.UsageError):
        chip.erase(sectors=[3], vdd=5.0)
    with pytest.raises(stm32dfu.UsageError):
        chip.erase(sectors=[])


def test_erase_vdd_unsupported_on_f0():
    with stm32dfu.open(sim="f0-32k,timing=0") as f0:
        with pytest.raises(stm32dfu.UnsupportedError):
            f0.erase(sectors=[0], vdd=3.3)


def test_leave_after_a_runnable_vector_table(chip):
    chip.write(bytes([0x00, 0x00, 0x05, 0x20, 0x01, 0x01, 0x00, 0x08]), address=0x08000000)
    r = chip.leave(0x08000000)
    assert r == {"address": 0x08000000, "sp": 0x20050000, "reset": 0x08000101, "vector_ok": True,
                 "confirmed": r["confirmed"], "gone": True, "rule": "given"}


def test_leave_to_a_blank_table_reports_what_it_found(chip):
    with pytest.raises(stm32dfu.NotStartedError) as e:
        chip.leave(0x08008000)
    assert e.value.leave["address"] == 0x08008000 and e.value.leave["sp"] == 0xFFFFFFFF
    assert not e.value.leave["vector_ok"] and not e.value.leave["gone"]


def test_errors_carry_code_message_and_hint():
    with pytest.raises(stm32dfu.NoDeviceError) as e:
        stm32dfu.open(sim=SIM, serial="NO-SUCH-SERIAL")
    assert e.value.code == -2 and e.value.message
    assert isinstance(e.value, stm32dfu.Error)
    with pytest.raises(stm32dfu.UsageError):
        with stm32dfu.open(sim=SIM) as c:
            c.write(b"\x00" * 4)  # bytes need address=
    with pytest.raises(stm32dfu.FileError):
        with stm32dfu.open(sim=SIM) as c:
            c.write("/nonexistent/fw.hex")


def test_every_error_class_maps_its_code():
    from stm32dfu.errors import BY_CODE
    assert sorted(BY_CODE) == list(range(-21, 0))
    for code, cls in BY_CODE.items():
        assert issubclass(cls, stm32dfu.Error)
        assert cls.__name__ in stm32dfu.__all__


def test_closed_chip_refuses():
    c = stm32dfu.open(sim=SIM)
    c.close()
    with pytest.raises(stm32dfu.UsageError):
        c.info()


def test_library_found_through_environment():
    assert os.environ.get("STM32DFU_LIBRARY") or stm32dfu.version()


def test_unprotect_needs_confirmation_then_erases(chip):
    chip.write(pattern(64), address=0x08000000)
    with pytest.raises(stm32dfu.NeedsConfirmationError):
        chip.unprotect()
    assert chip.read(0x08000000, 64) == pattern(64)
    chip.set_option_bytes(RDP=0x55, confirm=["rdp1"])
    assert chip.info()["rdp_level"] == 1
    with pytest.raises(stm32dfu.ProtectedError):
        chip.read(0x08000000, 64)
    r = chip.unprotect(confirm=True)
    assert r["rdp_before"] == 1 and r["rdp_after"] == 0 and r["flash_erased"] and r["option_bytes_default"]
    assert chip.read(0x08000000, 64) == b"\xff" * 64


@pytest.mark.skipif(not shutil.which("cc"), reason="no C compiler to measure the C structures")
def test_mirrored_structures_match_the_header(tmp_path):
    """Each ctypes structure has the size and field offsets the C compiler gives the header's."""
    from stm32dfu import _native
    include = os.path.join(os.path.dirname(__file__), "..", "..", "include")
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <stm32dfu/stm32dfu.h>", "int main(void) {"]
    for cname, cls in _native.STRUCTS.items():
        lines.append(f'printf("{cname} %zu\\n", sizeof(struct {cname}));')
        for fname, _ in cls._fields_:
            lines.append(f'printf("{cname}.{fname} %zu\\n", offsetof(struct {cname}, {fname}));')
    lines.append("return 0; }")
    src = tmp_path / "sizes.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "sizes"
    subprocess.run(["cc", "-I", include, "-o", str(exe), str(src)], check=True)
    got = dict(line.split() for line in subprocess.run([str(exe)], check=True, capture_output=True,
                                                        text=True).stdout.splitlines())
    for cname, cls in _native.STRUCTS.items():
        assert int(got[cname]) == ctypes.sizeof(cls), cname
        for fname, _ in cls._fields_:
            assert int(got[f"{cname}.{fname}"]) == getattr(cls, fname).offset, f"{cname}.{fname}"


def test_trace_records_the_session(tmp_path):
    trace = tmp_path / "t.trace"
    with stm32dfu.open(sim=SIM, trace=trace) as c:
        c.read(0x08000000, 16)
    text = trace.read_text()
    assert "a1 02 0002 0000 0010 -> 16" in text  # UPLOAD (request 2), block 2, 16 bytes


def _fails_with(cls, sim, action, retries=0):
    with pytest.raises(cls) as e:
        with stm32dfu.open(sim=sim, retries=retries) as c:
            action(c)
    assert e.value.code < 0 and e.value.name.startswith("STM32DFU_E_") and e.value.message
    return e.value


# Each error class the emulator can provoke, from the faults its profile keys inject (docs/profiles.md).
def test_error_classes_from_the_emulator(tmp_path):
    bad_hex = tmp_path / "bad.hex"
    bad_hex.write_text(":10000000ZZ\n")
    _fails_with(stm32dfu.FileFormatError, SIM, lambda c: c.write(bad_hex))
    _fails_with(stm32dfu.FileError, SIM, lambda c: c.write(tmp_path / "missing.hex"))
    _fails_with(stm32dfu.RangeError, SIM, lambda c: c.write(b"\x00" * 16, address=0x08100000))
    # a transfer that is never answered, then one that stalls, then the chip going away
    _fails_with(stm32dfu.DeviceTimeoutError, SIM + ",timeout_at=30", lambda c: c.read(0x08000000, 65536))
    _fails_with(stm32dfu.StallError, SIM + ",stall_at=30", lambda c: c.read(0x08000000, 65536))
    _fails_with((stm32dfu.DisconnectedError, stm32dfu.UsbError), SIM + ",disconnect_at=30",
                lambda c: c.read(0x08000000, 65536))


def test_read_checks_the_map_and_alts_before_sending(chip):
    with pytest.raises(stm32dfu.RangeError):
        chip.read(0x08100000 - 8, 16)  # runs past the 1 MiB flash
    with pytest.raises(stm32dfu.RangeError):
        chip.read(0xE0042000, 4)  # DBGMCU_IDCODE hangs the F7 ROM (protocol.md 2.3)
    with pytest.raises(stm32dfu.UsageError):
        chip.read(0x08000000, 4, alt=9)  # the F746 lists alts 0 to 3
    uid = chip.read(0x1FF0F420, 12)
    assert uid == chip.info()["uid_bytes"]


def _trace_count(path, needle):
    with open(path) as f:
        return sum(needle in line for line in f)


def test_open_transfer_size_sets_the_block_length(tmp_path):
    data = pattern(8192, 3)
    for size, blocks in ((1024, 8), (None, 4)):
        trace = tmp_path / f"t{size}.trace"
        with stm32dfu.open(sim=SIM, transfer_size=size, trace=trace) as c:
            r = c.write(data, address=0x08000000, full=True)
            assert r["transfer_size"] == (size or 2048) and r["blocks"] == blocks
        # every data DNLOAD on the wire ("... 0000 LEN | data") is that long
        assert _trace_count(trace, " 0000 %04x | " % (size or 2048)) == blocks
    with pytest.raises(stm32dfu.UsageError, match="2048"):
        stm32dfu.open(sim=SIM, transfer_size=4096)


def test_open_confirm_reads_reads_twice(tmp_path, monkeypatch):
    # a state folder of its own: doctor (above) may have noted this board's link as marginal, which
    # makes every read confirmed whatever confirm_reads says
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    uploads = []
    for confirm in (False, True):
        trace = tmp_path / f"c{confirm}.trace"
        with stm32dfu.open(sim=SIM, confirm_reads=confirm, trace=trace) as c:
            assert len(c.read(0x08000000, 4096)) == 4096
        uploads.append(_trace_count(trace, " IN  a1 02 "))
    assert uploads[1] == uploads[0] + 2  # the 4 KiB read's two UPLOADs, again


def test_open_poll_spec_never_asks_early(tmp_path):
    def early(path):  # GETSTATUS sooner after a dfuDNBUSY reply than the bwPollTimeout it asked for
        n = busy = 0
        last = None
        for line in open(path):
            if not line.startswith("@") or " IN  a1 03 " not in line:
                continue
            at, b = int(line[1:].split()[0]), line.split("|")[1].split()
            if last and at - last[0] < last[1]:
                n += 1
            last = (at, 1000 * int(b[3] + b[2] + b[1], 16)) if b[4] == "04" else None
            busy += b[4] == "04"
        return n, busy
    counts = {}
    for mode in ("auto", "spec"):
        trace = tmp_path / f"{mode}.trace"
        with stm32dfu.open(sim="f746,timing=0.02,busy_reply=hold", poll=mode, trace=trace) as c:
            assert c.write(pattern(16384, 9), address=0x08000000, full=True)["verified"]
        counts[mode] = early(trace)
    assert counts["spec"][0] == 0 and counts["spec"][1] >= 8
    assert counts["auto"][0] >= counts["auto"][1] // 2 > 0
    with pytest.raises(stm32dfu.UsageError):
        stm32dfu.open(sim=SIM, poll="sometimes")


def test_any_id_lists_and_opens_a_non_st_device():
    gd = "gd32vf103,timing=0"
    assert stm32dfu.list(sim=gd) == []  # a zero VID:PID is the ST ROM's 0483:df11
    d, = stm32dfu.list(sim=gd, any_id=True)
    assert (d["vid"], d["pid"]) == (0x28E9, 0x0189) and d["identity_read"] is False
    assert d["identity"]["serial_verdict"] == "no_uid" and d["identity"]["rdp_level"] is None
    with pytest.raises(stm32dfu.NoDeviceError):
        stm32dfu.open(sim=gd)
    with stm32dfu.open(sim=gd, any_id=True) as c:
        assert c.device()["vid"] == 0x28E9


def test_device_record_holds_a_hostile_device_whole(tmp_path):
    prof = tmp_path / "hostile.profile"
    lines = ["base = f746", "product = " + "P" * 126,
             "alt = @Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg", "alt = @Option Bytes  /0x1FFF0000/01*032 e",
             "alt = @OTP Memory /0x1FF0F000/01*1024 e,01*016 e", "alt = @Device Feature/0xFFFF0000/01*004 e",
             "alt = @Groups/0x61000000/" + ",".join("1*%dKa" % (k + 1) for k in range(12)),
             "alt = @" + "N" * 100 + "/0x62000000/1*1Ka"] + ["alt = @Spare/0x63000000/1*1Ka"] * 34
    prof.write_text("\n".join(lines) + "\n")
    with stm32dfu.open(sim=f"{prof},timing=0") as c:
        d = c.device()
    assert len(d["product"]) == 126 and len(d["alts"]) == 32 and d["alts_total"] == 40
    assert len(d["alts"][4]["regions"][0]["sectors"]) == 12 and d["alts"][5]["name"] == "N" * 100
    x, = stm32dfu.list(sim=f"{prof},timing=0", detail=True)
    assert x["alts_total"] == 40 and x["found_state"] == "dfuIDLE"



# ---- Ctrl-C and exceptions in progress() stop a long call safely (issue 21 item 8) ----

def _kept_chip(tmp_path):
    """A chip kept in a state file: its recovery files are kept beside it."""
    return stm32dfu.open(sim=f"f746,timing=0,state={tmp_path / 'chip.state'}", sim_persist=True)


def test_sigint_stops_a_write_within_a_transfer(tmp_path):
    import signal
    calls = []

    def progress(phase, done, total):
        calls.append(phase)
        if calls.count("program") == 3 and "kill" not in calls:
            calls.append("kill")
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends

    data = pattern(100000, 4)
    with _kept_chip(tmp_path) as c:
        with pytest.raises(KeyboardInterrupt) as ei:
            c.write(data, address=0x08000100, progress=progress)
        e = ei.value
        assert isinstance(e, stm32dfu.Interrupted) and isinstance(e, stm32dfu.CanceledError)
        assert e.name == "STM32DFU_E_CANCELED"
        after = calls[calls.index("kill") + 1:]
        assert len(after) <= 2, after  # the interrupt arrives within about one transfer
        r = e.report
        assert r["canceled"]
        assert {s["state"] for s in r["sectors"]} & {"partial", "erased"}, r["sectors"]
        assert r["recovery_file"] and os.path.exists(r["recovery_file"]), r
        # the handler is put back, and the session goes on: the same write completes and verifies
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        done = c.write(data, address=0x08000100)
        assert done["verified"] and done["restored_from"] == r["recovery_file"]
        assert c.read(0x08000100, len(data)) == data


def test_an_exception_in_progress_stops_the_call(tmp_path, capfd):
    calls = []

    def progress(phase, done, total):
        calls.append(phase)
        if phase == "program":
            raise RuntimeError("stop here")

    with _kept_chip(tmp_path) as c:
        with pytest.raises(stm32dfu.CanceledError) as ei:
            c.write(pattern(100000, 5), address=0x08000100, progress=progress)
        e = ei.value
        assert isinstance(e.__cause__, RuntimeError) and "stop here" in e.message
        assert not isinstance(e, KeyboardInterrupt)
        assert calls.count("program") == 1, calls  # called once, and the call stopped there
        assert e.report["canceled"] and e.report["recovery_file"]
    assert "Exception ignored" not in capfd.readouterr().err


def test_cancel_from_another_thread(tmp_path):
    import threading

    with _kept_chip(tmp_path) as c:
        def progress(phase, done, total):
            if phase == "program":
                t = threading.Thread(target=c.cancel)
                t.start()
                t.join()

        with pytest.raises(stm32dfu.CanceledError) as ei:
            c.write(pattern(100000, 6), address=0x08000100, progress=progress)
        assert not isinstance(ei.value, KeyboardInterrupt) and ei.value.report["canceled"]
        # the next call starts afresh (the request is reset)
        assert c.write(pattern(100000, 6), address=0x08000100)["verified"]


def test_erase_bytes_keeps_the_rest_of_the_sectors(chip):
    data = pattern(0x10000, 8)
    chip.write(data, address=0x08000000)
    r = chip.erase_bytes(0x08007FF0, 0x20)
    assert r["verified"] and r["sectors_erased"] == 2
    want = bytearray(data)
    want[0x7FF0:0x8010] = b"\xff" * 0x20
    assert chip.read(0x08000000, 0x10000) == bytes(want)


# --- issue 24 item 14: the package's own words, bad arguments, emulated state ----------------------
@pytest.mark.parametrize("call, param", [
    (lambda c: c.read(0x08000000, -1), "length"),
    (lambda c: c.read("0x08000000", 4), "address"),
    (lambda c: c.read(0x08000000, 16, alt=300), "alt"),
    (lambda c: c.read(-4, 16), "address"),
    (lambda c: c.read_file(0x08000000, 0, "x.bin"), "length"),
    (lambda c: c.write(b"\x00" * 4, address=-8), "address"),
    (lambda c: c.write(b"\x00" * 4, address=0x08000000, alt=999), "alt"),
    (lambda c: c.write(b"\x00" * 4, address=0x08000000, vdd="3.3"), "vdd"),
    (lambda c: c.erase(sectors=[-1]), "sectors"),
    (lambda c: c.erase(sectors="1"), "sectors"),
    (lambda c: c.erase(address=0x08000000, length=0), "length"),
    (lambda c: c.leave(address=1.5), "address"),
    (lambda c: c.doctor(count=1), "count"),
    (lambda c: c.doctor(hse="25M"), "hse"),
])
def test_bad_arguments_raise_usage_error_naming_the_parameter(chip, call, param):
    before = chip.read(0x08000000, 64)
    with pytest.raises(stm32dfu.UsageError) as e:
        call(chip)
    assert isinstance(e.value, stm32dfu.Error) and isinstance(e.value, ValueError)
    assert e.value.message.startswith(param), e.value.message
    assert chip.read(0x08000000, 64) == before  # refused before anything was sent


@pytest.mark.parametrize("kwargs, param", [({"retries": -1}, "retries"), ({"transfer_size": 0x10000}, "transfer_size"),
                                           ({"vid": 0x10000}, "vid"), ({"serial": 1234}, "serial")])
def test_bad_open_arguments_name_the_parameter(kwargs, param):
    with pytest.raises(stm32dfu.UsageError) as e:
        stm32dfu.open(sim=SIM, **kwargs)
    assert e.value.message.startswith(param + "="), e.value.message


def no_cli_words(e):
    text = e.message + " " + e.hint
    assert "--" not in text and "-S SERIAL" not in text and "-p PATH" not in text, text


def test_hints_name_the_package_parameters(chip):
    with pytest.raises(stm32dfu.Error) as e:  # outside the map: the hint says how to read it anyway
        chip.read(0x60000000, 16)
    assert "force=True" in e.value.hint, e.value.hint
    no_cli_words(e.value)
    with pytest.raises(stm32dfu.NeedsConfirmationError) as e:
        chip.set_option_bytes(RDP="level2", dry_run=True)
    assert 'confirm="rdp2"' in e.value.message + e.value.hint, (e.value.message, e.value.hint)
    no_cli_words(e.value)
    with pytest.raises(stm32dfu.NeedsConfirmationError) as e:
        chip.erase(all=True)
    no_cli_words(e.value)


def test_hints_with_arguments_and_doctor_findings_name_the_package(chip):
    """hints that quote a call with its arguments ('stm32dfu ob set nWRP=...' on the command line) and
    doctor's advice come in the package's words"""
    chip.set_option_bytes(nWRP=0xFD)  # sector 1 write-protected
    with pytest.raises(stm32dfu.ProtectedError) as e:
        chip.write(pattern(64), address=0x08008000)
    assert "lift the write protection with Chip.set_option_bytes(nWRP1=1) (option bytes)" in e.value.hint, e.value.hint
    no_cli_words(e.value)
    d = chip.doctor(count=10)
    wrp = [f for f in d["findings"] if f["id"] == "wrp"]
    assert wrp and wrp[0]["advice"] == ("Chip.option_bytes(detail=True) lists the sectors; "
                                        "Chip.set_option_bytes() clears them"), wrp
    for f in d["findings"]:
        assert "--" not in f["text"] + f["advice"] and "stm32dfu " not in f["text"] + f["advice"], f
    chip.set_option_bytes(RDP=0x55, confirm=["rdp1"])
    with pytest.raises(stm32dfu.ProtectedError) as e:
        chip.read(0x08000000, 16)
    assert "Chip.unprotect(confirm=True) removes it" in e.value.hint, e.value.hint
    no_cli_words(e.value)


def test_emulated_chips_are_fresh_unless_kept_and_kept_ones_are_the_clis(tmp_path):
    data = pattern(256, seed=24)
    with stm32dfu.open(sim=SIM) as c:
        c.write(data, address=0x08004000)
    with stm32dfu.open(sim=SIM) as c:  # a fresh chip: nothing of the last session
        assert c.read(0x08004000, 256) == b"\xff" * 256
    with stm32dfu.open(sim=SIM, sim_persist=True) as c:
        c.write(data, address=0x08004000)
    tool = os.path.join(os.environ.get("STM32DFU_BUILD_ROOT", ""), "stm32dfu")
    if not os.access(tool, os.X_OK):
        pytest.skip("the command line is not built here")
    out = tmp_path / "cli.bin"
    subprocess.run([tool, "--sim=" + SIM, "read", "0x08004000", "256", "-o", str(out)], check=True,
                   capture_output=True)
    assert out.read_bytes() == data  # the command line's --sim sees the chip Python kept
    with stm32dfu.open(sim=SIM, sim_persist=True) as c:
        assert c.read(0x08004000, 256) == data


def test_windows_library_names(tmp_path, monkeypatch):
    """On Windows the package looks for libstm32dfu-0.dll (meson's name there): in the install's bin
    folder, beside stm32dfu.exe (the zip's layout), then on PATH; never a .so. Only the names are
    checked here: no Windows Python runs on this machine (docs/platforms.md)."""
    from stm32dfu import _config, _native

    monkeypatch.delenv("STM32DFU_LIBRARY", raising=False)
    monkeypatch.setattr(_config, "LIBDIR", "/opt/stm32dfu/lib")
    exe_dir = tmp_path / "stm32dfu-win64"
    exe_dir.mkdir()
    exe = exe_dir / "stm32dfu.exe"
    exe.write_bytes(b"MZ")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(exe_dir))
    names = list(_native._candidates(windows=True))
    dll = "libstm32dfu-" + _config.SOVERSION + ".dll"
    assert names == [os.path.join("/opt/stm32dfu", "bin", dll), str(exe_dir / dll), dll], names
    assert not any(".so" in n for n in names)
