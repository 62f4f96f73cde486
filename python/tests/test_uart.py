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
