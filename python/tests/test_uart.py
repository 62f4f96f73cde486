"""The Python package over the USART bootloader (AN3155): the emulator's USART door in process
(sim="PROFILE,link=uart") and a pseudo-terminal served by stm32dfu-sim --uart (port=...).

Facts checked: the L0 profile (l0-192k: device ID 0x447, 192 KiB of 128-byte pages, AN3155 protocol
3.1) and the F446's (0x421, 16 KiB first sector); docs/usart.md."""
import os
import subprocess

import pytest

import stm32dfu


@pytest.fixture(autouse=True)
def own_state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def pattern(n, seed=0):
    return bytes((i * 13 + seed + (i >> 8)) & 0xFF for i in range(n))


def roundtrip(chip, base, page):
    """A write that keeps its page's other bytes, read back and verified; a changed byte fails verify."""
    old = chip.read(base, 2 * page)
    data = pattern(100, 3)
    chip.write(data, address=base + 16)
    got = chip.read(base, 2 * page)
    assert got[16:116] == data
    assert got[:16] == old[:16] and got[116:] == old[116:]  # the kept bytes
    chip.verify(data, address=base + 16)
    bad = bytearray(data)
    bad[50] ^= 0x01
    with pytest.raises(stm32dfu.VerifyError) as e:
        chip.verify(bytes(bad), address=base + 16)
    assert e.value.report["first_mismatch"] == base + 16 + 50


def test_open_sim_link_uart_identity_and_map():
    with stm32dfu.open(sim="l0-192k,link=uart") as chip:
        info = chip.info()
        assert info["family"] == "L0" and "0x447" in info["reason"]
        assert info["flash_size"] == 192 * 1024  # the flash-size register, read over USART
        assert info["rdp_level"] == 0 and len(info["uid"]) == 24  # the machine form, as --json
        assert info["bootloader_version"] == "V3.1"  # GET's version byte (l0-192k: uart_version 0x31)
        flash = chip.device()["alts"][0]
        assert flash["name"] == "Internal Flash"
        r = flash["regions"][0]
        assert r["start"] == 0x08000000 and r["sectors"][0]["count"] == 1536 and r["sectors"][0]["size"] == 128


def test_sim_link_uart_write_read_verify():
    with stm32dfu.open(sim="l0-192k,link=uart") as chip:
        chip.write(pattern(256, 1), address=0x08000400)
        roundtrip(chip, 0x08000400, 128)


def test_baud_is_checked():
    with pytest.raises(stm32dfu.UsageError):
        stm32dfu.open(sim="l0-192k,link=uart", baud=12)


def _sim_tool():
    root = os.environ.get("STM32DFU_BUILD_ROOT")
    exe = os.path.join(root, "stm32dfu-sim") if root else None
    if not exe or not os.access(exe, os.X_OK):
        pytest.skip("stm32dfu-sim is not built")
    return exe


def test_port_on_a_pty_from_stm32dfu_sim():
    """stm32dfu-sim --uart serves the chip on a pseudo-terminal for as long as its command runs: the
    command prints the terminal's path and waits for its stdin to close."""
    exe = _sim_tool()
    env = dict(os.environ, STM32DFU_PROFILE_DIR=os.environ.get("STM32DFU_PROFILE_DIR", ""))
    p = subprocess.Popen([exe, "--uart", "f446", "--", "sh", "-c", 'echo "$STM32DFU_TTY"; cat >/dev/null'],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    try:
        tty = p.stdout.readline().strip()
        assert tty.startswith("/dev/pts/"), tty
        with stm32dfu.open(port=tty, baud=115200) as chip:
            assert chip.info()["family"] == "F446" and "0x421" in chip.info()["reason"]
            assert chip.device()["alts"][0]["regions"][0]["start"] == 0x08000000
            chip.write(pattern(1024, 5), address=0x08000000)
            assert chip.read(0x08000000, 1024) == pattern(1024, 5)
            chip.verify(pattern(1024, 5), address=0x08000000)
            with pytest.raises(stm32dfu.VerifyError):
                chip.verify(pattern(1024, 6), address=0x08000000)
    finally:
        p.stdin.close()
        p.wait(timeout=30)


# ---- issue 23's loose ends: reset_seq, leave(reset=True), doctor and recovery_dir over USART ----

WIRED = "f407,timing=0,link=uart,uart_nrst=dtr,uart_boot0=rts"  # DTR holds NRST, RTS drives BOOT0


def test_reset_seq_opens_a_wired_fixture_and_the_silent_hint_names_it():
    """The fixture holds NRST low while the port is open (Linux asserts DTR): without reset_seq no ROM
    answers, and the hint names reset_seq= in this package's words; with it, the chip answers."""
    with pytest.raises(stm32dfu.DeviceTimeoutError) as e:
        stm32dfu.open(sim=WIRED)
    assert "reset_seq=" in e.value.hint and "BOOT0" in e.value.hint, e.value.hint
    with stm32dfu.open(sim=WIRED, reset_seq=True) as chip:
        assert "0x413" in chip.info()["reason"]
    # a sequence that keeps BOOT0 low starts the application: the hint then asks about the wiring
    with pytest.raises(stm32dfu.DeviceTimeoutError) as e:
        stm32dfu.open(sim=WIRED, reset_seq="-rts&dtr,-dtr,")
    assert "after the reset sequence" in e.value.hint and "reset_seq=" in e.value.hint, e.value.hint
    with pytest.raises(stm32dfu.UsageError):
        stm32dfu.open(sim=WIRED, reset_seq=5)


def test_leave_reset_drives_the_exit_sequence():
    with stm32dfu.open(sim=WIRED, reset_seq=True) as chip:
        with pytest.raises(stm32dfu.UsageError):
            chip.leave(address=0x08000000, reset=True)
        assert chip.leave(reset=True) == {"reset": True}
    with stm32dfu.open(sim="f407,timing=0,link=uart") as chip:  # no reset_seq: nothing to drive
        with pytest.raises(stm32dfu.UsageError):
            chip.leave(reset=True)


def test_doctor_over_usart_measures_the_rates():
    """With reset_seq the chip is reset between rates: every rate up to the F4's 921600 is tried and
    holds, 921600 is recommended; no USB finding; hse means nothing over a serial port."""
    with stm32dfu.open(sim=WIRED, reset_seq=True) as chip:
        d = chip.doctor(count=6)
        u = d["uart"]
        assert u["swept"] and u["per_rate"] == 6 and u["family_max_baud"] == 921600 and u["reads"] is True
        assert u["recommended_baud"] == 921600, u
        assert [r["baud"] for r in u["rates"] if r["holds"]][-1] == 921600
        ids = {f["id"] for f in d["findings"]}
        assert not ids & {"link", "usb_clock", "hse_margin", "usart", "serial"}, ids
        with pytest.raises(stm32dfu.UsageError):
            chip.doctor(hse=25_000_000)
    with stm32dfu.open(sim="f407,timing=0,link=uart") as chip:  # no reset: the session's rate only
        u = chip.doctor(count=6)["uart"]
        assert not u["swept"] and [r["baud"] for r in u["rates"] if r["tried"]] == [115200], u


def test_recovery_dir_over_usart(tmp_path):
    """A write stopped after its erase keeps the sector's other bytes in a recovery file, in the
    folder recovery_dir names; the next write finds it there and brings them back."""
    folder = tmp_path / "rescue"
    folder.mkdir()
    folder.chmod(0o700)  # records only in folders of stm32dfu's own
    state = tmp_path / "chip.state"
    keep = pattern(256, 7)
    spec = f"f746,timing=0,link=uart,state={state}"
    with stm32dfu.open(sim=spec, sim_persist=True, recovery_dir=folder) as chip:
        chip.write(keep, address=0x08006000)

        def progress(phase, done, total):
            if phase == "program":
                raise RuntimeError("stop here")

        with pytest.raises(stm32dfu.CanceledError) as e:
            chip.write(pattern(4096, 8), address=0x08000100, progress=progress)
        f = e.value.report["recovery_file"]
        assert f and os.path.dirname(f) == str(folder) and os.path.exists(f), f
        done = chip.write(pattern(4096, 8), address=0x08000100)
        assert done["verified"] and done["restored_from"] == f
        assert chip.read(0x08006000, 256) == keep


def test_bank_mode_change_rebuilds_the_map():
    """F76x (f767-db: nDBANK = 0, two banks of 4 x 16, 1 x 64, 7 x 128 KiB, RM0410 3.3.2): setting
    nDBANK = 1 over USART resets the chip into single-bank mode, and the session's map follows it
    (4 x 32, 1 x 128, 7 x 256 KiB), read from the option bytes after the reset."""
    def runs(chip):
        return [(g["count"], g["size"] // 1024) for g in chip.device()["alts"][0]["regions"][0]["sectors"]]

    with stm32dfu.open(sim="f767-db,timing=0,link=uart") as chip:
        assert runs(chip) == [(4, 16), (1, 64), (7, 128)] * 2
        r = chip.set_option_bytes(nDBANK=1)
        assert r["nDBANK"] == 1
        assert runs(chip) == [(4, 32), (1, 128), (7, 256)]
        # the chip is sectored so too (the emulator's bank_alt): sector 0 is 32 KiB, erased whole
        chip.write(pattern(40960, 2), address=0x08000000)
        chip.erase(sectors=[0])
        assert chip.read(0x08000000, 32768) == b"\xff" * 32768
        assert chip.read(0x08008000, 8192) == pattern(40960, 2)[32768:]
        chip.set_option_bytes(nDBANK=0)
        assert runs(chip) == [(4, 16), (1, 64), (7, 128)] * 2


def test_ram_and_otp_writes_of_any_length():
    """AN3155 Write Memory takes whole words (3.6): RAM data whose ends are not on a word is written
    as the words around it, the bytes it does not cover read first and kept; OTP bytes around a span
    are programmed with 0xFF, which clears no bit (RM0385 "OTP": bits only clear), so what they hold
    stays."""
    with stm32dfu.open(sim="f746,timing=0,link=uart") as chip:
        base = 0x20004000
        chip.write(pattern(16, 1), address=base)
        chip.write(b"\xA5\x5A\x3C\xC3\x99", address=base + 3)  # 5 bytes, both ends inside a word
        want = bytearray(pattern(16, 1))
        want[3:8] = b"\xA5\x5A\x3C\xC3\x99"
        assert chip.read(base, 16) == bytes(want)
        chip.write(b"\x11\x22\x33", address=base + 13)  # the tail word alone
        want[13:16] = b"\x11\x22\x33"
        assert chip.read(base, 16) == bytes(want)
        otp = 0x1FF0F000
        with pytest.raises(stm32dfu.NeedsConfirmationError):
            chip.write(b"abcde", address=otp + 1)  # irreversible: its flag, as before
        chip.write(b"abcde", address=otp + 1, otp_permanent=True)
        assert chip.read(otp, 8) == b"\xffabcde\xff\xff"
        chip.write(b"\x12", address=otp, otp_permanent=True)  # its word holds 'abc': they stay
        assert chip.read(otp, 8) == b"\x12abcde\xff\xff"


def test_long_reads_report_progress_as_they_go():
    """Over USART a 128 KiB sector takes 11 s to read at 115200: the write's compare and its verify
    say how far they are within the sector, in order, not only when it is done (f407: sector 5
    is 128 KiB at 0x08020000, RM0090 3.3 Table 5)."""
    img = pattern(128 * 1024, 5)
    with stm32dfu.open(sim="f407,timing=0,link=uart") as chip:
        seen = []
        chip.write(img, address=0x08020000, progress=lambda ph, d, t: seen.append((ph, d, t)))
        verify = [(d, t) for ph, d, t in seen if ph == "verify"]
        assert [d for d, t in verify] == sorted(d for d, t in verify), verify
        assert any(0 < d < t for d, t in verify), verify  # inside the sector, before its end
        assert verify[-1][0] == verify[-1][1] == len(img), verify
        # the same image again: the compare reads the whole sector, equal, and says so as it goes
        seen.clear()
        done = chip.write(img, address=0x08020000, progress=lambda ph, d, t: seen.append((ph, d, t)))
        assert done["sectors_erased"] == 0, done
        read = [(d, t) for ph, d, t in seen if ph == "read"]
        assert [d for d, t in read] == sorted(d for d, t in read), read
        assert any(0 < d < t for d, t in read), read
        assert read[-1][0] == read[-1][1] == len(img), read
