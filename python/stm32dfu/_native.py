"""ctypes mirror of include/stm32dfu/stm32dfu.h: the structures and function signatures.

Kept in one place so that a change to the C header has one Python counterpart to update; the
tests compare the sizes below with the library's own view through a round trip of each call.
"""
import ctypes
import ctypes.util
import os
import shutil

from . import _config

c_u8, c_u16, c_u32, c_u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64
c_int, c_uint, c_size, c_double, c_char = ctypes.c_int, ctypes.c_uint, ctypes.c_size_t, ctypes.c_double, ctypes.c_char

MAX_ALTS, MAX_REGIONS, MAX_GROUPS = 16, 4, 8
OB_MAX_FIELDS, OB_MAX_BYTES = 48, 512
OB_MAX_WORDS, OB_MAX_NAMED = 16, 16
DOCTOR_SIZES, DOCTOR_MAX_FINDINGS = 3, 8


class Match(ctypes.Structure):
    _fields_ = [("vid", c_u16), ("pid", c_u16), ("serial", ctypes.c_char_p), ("path", ctypes.c_char_p),
                ("sim", ctypes.c_char_p)]


class OpenOptions(ctypes.Structure):
    _fields_ = [("has_retries", c_int), ("retries", c_uint), ("trace", ctypes.c_char_p)]


POLL_AUTO, POLL_SPEC = 0, 1


class SessionOptions(ctypes.Structure):
    """0.5: sized by the caller (size = ctypes.sizeof(SessionOptions)); cancel is a sig_atomic_t pointer;
    recovery_dir (0.6): the folder for recovery files, None for the default; port and baud (0.7): the
    USART bootloader on a serial port (open(port=..., baud=...)), and reset_seq (0.7) the fixture's DTR/RTS
    sequence (open(reset_seq=...))."""
    _fields_ = [("size", c_size), ("any_id", c_int), ("has_retries", c_int), ("retries", c_uint),
                ("trace", ctypes.c_char_p), ("transfer_size", c_uint), ("poll", c_int), ("confirm_reads", c_int),
                ("sim_persist", c_int), ("cancel", ctypes.c_void_p), ("first_answer_ms", c_uint),
                ("on_held", ctypes.c_void_p), ("held_user", ctypes.c_void_p), ("recovery_dir", ctypes.c_char_p),
                ("port", ctypes.c_char_p), ("baud", c_uint), ("reset_seq", ctypes.c_char_p)]


class ReadOptions(ctypes.Structure):
    _fields_ = [("has_alt", c_int), ("alt", c_uint), ("no_confirm", c_int), ("force", c_int)]


class ErrorInfo(ctypes.Structure):
    _fields_ = [("code", c_int), ("message", ctypes.c_char_p), ("hint", ctypes.c_char_p)]


class WriteOptions(ctypes.Structure):
    _fields_ = [("no_verify", c_int), ("full", c_int), ("leave", c_int), ("force", c_int),
                ("has_address", c_int), ("address", c_u32)]


class WriteResult(ctypes.Structure):
    _fields_ = [("image_bytes", c_u64), ("bytes_programmed", c_u64), ("sectors_erased", c_uint),
                ("sectors_skipped", c_uint), ("verified", c_int), ("retries", c_uint), ("seconds", c_double)]


class SectorGroup(ctypes.Structure):
    _fields_ = [("count", c_u32), ("size", c_u32), ("access", c_uint)]


class Region(ctypes.Structure):
    _fields_ = [("start", c_u32), ("length", c_u64), ("n_groups", c_uint), ("groups", SectorGroup * MAX_GROUPS)]


class Alt(ctypes.Structure):
    _fields_ = [("alt", c_uint), ("name", c_char * 128), ("raw", c_char * 256), ("has_layout", c_int),
                ("n_regions", c_uint), ("n_regions_total", c_uint), ("regions", Region * MAX_REGIONS)]


class Identity(ctypes.Structure):
    _fields_ = [("family", c_char * 16), ("chip", c_char * 64), ("confidence", c_char * 16),
                ("reason", c_char * 256), ("has_uid", c_int), ("uid", c_u8 * 12), ("uid_text", c_char * 32),
                ("flash_size", c_u32), ("has_bootloader_id", c_int), ("bootloader_id", c_u8),
                ("bootloader_version", c_char * 8), ("usb_serial", c_char * 128), ("serial_verdict", c_char * 24),
                ("serial_explanation", c_char * 256), ("serial_computed", c_char * 16), ("rdp_level", c_int),
                ("read_protected", c_int)]


class Device(ctypes.Structure):
    _fields_ = [("vid", c_u16), ("pid", c_u16), ("bcd_device", c_u16), ("path", c_char * 32),
                ("manufacturer", c_char * 128), ("product", c_char * 128), ("serial", c_char * 128),
                ("opened", c_int), ("error", c_char * 256), ("dfu_version", c_u16), ("transfer_size", c_u16),
                ("n_alts", c_uint), ("n_alts_total", c_uint), ("alts", Alt * MAX_ALTS), ("has_identity", c_int),
                ("identity", Identity), ("serial_shared", c_int)]


class Listed(ctypes.Structure):
    _fields_ = [("device", Device), ("found_state", c_uint), ("found_status", c_uint),
                ("found_state_name", c_char * 24), ("found_status_name", c_char * 24), ("found_action", c_char * 16),
                ("devnum", c_uint), ("uid_shared", c_int), ("identity_read", c_int), ("flash_size_source", c_char * 16),
                ("layout_flash_size", c_u32), ("rdp_from_note", c_int), ("layout_error", (c_char * 128) * MAX_ALTS)]


STRING_MAX, REC_MAX_ALTS, REC_MAX_REGIONS, REC_MAX_GROUPS = 384, 32, 8, 16


class RegionRec(ctypes.Structure):
    _fields_ = [("start", c_u32), ("length", c_u64), ("n_groups", c_uint), ("groups", SectorGroup * REC_MAX_GROUPS)]


class AltRec(ctypes.Structure):
    _fields_ = [("alt", c_uint), ("name", c_char * STRING_MAX), ("raw", c_char * STRING_MAX), ("has_layout", c_int),
                ("layout_error", c_char * 128), ("n_regions", c_uint), ("regions", RegionRec * REC_MAX_REGIONS)]


class DeviceRec(ctypes.Structure):
    _fields_ = [("vid", c_u16), ("pid", c_u16), ("bcd_device", c_u16), ("path", c_char * 32), ("devnum", c_uint),
                ("manufacturer", c_char * STRING_MAX), ("product", c_char * STRING_MAX),
                ("serial", c_char * STRING_MAX), ("opened", c_int), ("error", c_char * 256),
                ("dfu_version", c_u16), ("transfer_size", c_u16), ("n_alts", c_uint), ("n_alts_total", c_uint),
                ("alts", AltRec * REC_MAX_ALTS), ("found_state", c_uint), ("found_status", c_uint),
                ("found_state_name", c_char * 24), ("found_status_name", c_char * 24), ("found_action", c_char * 16),
                ("identity_known", c_int), ("identity_read", c_int), ("identity", Identity),
                ("flash_size_source", c_char * 16), ("layout_flash_size", c_u32), ("rdp_from_note", c_int),
                ("serial_shared", c_int), ("uid_shared", c_int)]


class ObField(ctypes.Structure):
    _fields_ = [("name", c_char * 24), ("value", c_u32), ("is_default", c_int), ("present", c_int),
                ("dangerous", c_int), ("meaning", c_char * 96), ("description", c_char * 96)]


class OptionBytes(ctypes.Structure):
    _fields_ = [("layout", c_char * 16), ("address", c_u32), ("len", c_size), ("raw", c_u8 * OB_MAX_BYTES),
                ("complement_errors", c_uint), ("rdp_level", c_int), ("n_fields", c_size),
                ("fields", ObField * OB_MAX_FIELDS)]


class ObNamed(ctypes.Structure):
    _fields_ = [("word", c_char * 32), ("value", c_u32), ("meaning", c_char * 96)]


class ObFieldInfo(ctypes.Structure):
    _fields_ = [("name", c_char * 24), ("width", c_uint), ("present", c_int), ("value", c_u32),
                ("default_value", c_u32), ("is_default", c_int), ("on_this_chip", c_int),
                ("absent_why", c_char * 128), ("meaning", c_char * 96), ("description", c_char * 128),
                ("danger", c_int), ("n_named", c_uint), ("named", ObNamed * OB_MAX_NAMED)]


class ObWord(ctypes.Structure):
    _fields_ = [("name", c_char * 32), ("offset", c_uint), ("bits", c_uint), ("present", c_int), ("value", c_u32),
                ("has_complement", c_int), ("complement", c_u32), ("expected", c_u32), ("ok", c_int)]


class ObReport(ctypes.Structure):
    _fields_ = [("family", c_char * 16), ("family_name", c_char * 64), ("address", c_u32), ("alt", c_uint),
                ("size", c_size), ("raw", c_u8 * OB_MAX_BYTES), ("decoded", c_int), ("decode_error", c_char * 256),
                ("layout", c_char * 16), ("writable", c_int), ("short_block", c_int), ("rdp_level", c_int),
                ("note", c_char * 512), ("complement_errors", c_uint), ("n_fields", c_size),
                ("fields", ObFieldInfo * OB_MAX_FIELDS), ("n_words", c_size), ("words", ObWord * OB_MAX_WORDS)]


class ObSetOptions(ctypes.Structure):
    _fields_ = [("confirm", c_uint), ("dry_run", c_int)]


class ObChange(ctypes.Structure):
    _fields_ = [("field", c_char * 24), ("width", c_uint), ("old_value", c_u32), ("new_value", c_u32),
                ("old_meaning", c_char * 96), ("new_meaning", c_char * 96)]


class ObSetResult(ctypes.Structure):
    _fields_ = [("family", c_char * 16), ("checked", c_int), ("n_changes", c_size),
                ("changes", ObChange * OB_MAX_FIELDS), ("complements_repaired", c_uint),
                ("confirmations_required", c_uint), ("confirmations_missing", c_uint), ("dry_run", c_int),
                ("nothing_to_change", c_int), ("write_attempted", c_int), ("written", c_int), ("verified", c_int),
                ("protection_active", c_int), ("reset_seen", c_int), ("size", c_size),
                ("before", c_u8 * OB_MAX_BYTES), ("requested", c_u8 * OB_MAX_BYTES), ("has_after", c_int),
                ("after", c_u8 * OB_MAX_BYTES), ("bootloader_gone", c_int)]


class LinkSize(ctypes.Structure):
    _fields_ = [("size", c_u16), ("attempts", c_uint), ("failures", c_uint), ("corrupt", c_uint),
                ("lat_min_us", c_u64), ("lat_median_us", c_u64), ("lat_max_us", c_u64)]


class Finding(ctypes.Structure):
    _fields_ = [("severity", c_int), ("id", c_char * 24), ("text", c_char * 512), ("advice", c_char * 512)]


class DoctorReport(ctypes.Structure):
    _fields_ = [("link", LinkSize * DOCTOR_SIZES), ("transfers", c_uint), ("failures", c_uint), ("link_bad", c_int),
                ("hse_hz", c_double), ("safe_lo_pct", c_double), ("safe_hi_pct", c_double),
                ("misdetect_usb_error_pct", c_double), ("worst", c_int), ("n_findings", c_size),
                ("findings", Finding * DOCTOR_MAX_FINDINGS), ("emulated_clock", c_int),
                ("emulated_hsi_error_pct", c_double), ("emulated_detected_hz", c_double),
                ("emulated_usb_error_ppm", c_double), ("link_marginal", c_int), ("link_noted", c_int)]


DOCTOR_UART_RATES = 6


class UartRate(ctypes.Structure):
    _fields_ = [("baud", c_uint), ("tried", c_int), ("why_not", c_char * 160), ("synced", c_int),
                ("commands", c_uint), ("nacks", c_uint), ("timeouts", c_uint), ("errors", c_uint),
                ("corrupt", c_uint), ("holds", c_int)]


class DoctorUart(ctypes.Structure):
    _fields_ = [("per_rate", c_uint), ("session_baud", c_uint), ("family_max_baud", c_uint),
                ("recommended_baud", c_uint), ("swept", c_int), ("n_rates", c_size),
                ("rates", UartRate * DOCTOR_UART_RATES), ("reads", c_int)]


class UnprotectResult(ctypes.Structure):
    _fields_ = [("rdp_before", c_int), ("rdp_after", c_int), ("flash_erased", c_int), ("ob_default", c_int),
                ("checked_addr", c_u32), ("checked_len", c_u32)]


class EraseOptions(ctypes.Structure):
    _fields_ = [("mode", c_int), ("sectors", ctypes.POINTER(c_uint)), ("n_sectors", c_size), ("address", c_u32),
                ("length", c_u32), ("confirm", c_int), ("vdd", c_double)]


class EraseResult(ctypes.Structure):
    _fields_ = [("sectors_erased", c_uint), ("start", c_u32), ("end", c_u64), ("voltage_range", c_int),
                ("seconds", c_double)]


class LeaveResult(ctypes.Structure):
    _fields_ = [("address", c_u32), ("vector_read", c_int), ("sp", c_u32), ("reset", c_u32), ("sp_in_ram", c_int),
                ("reset_in_code", c_int), ("reset_thumb", c_int), ("vector_ok", c_int), ("confirmed", c_int),
                ("gone", c_int), ("rule", c_int)]


ERASE_SECTORS, ERASE_RANGE, ERASE_ALL = 0, 1, 2
MAX_SECTOR_REPORTS, PATH_MAX = 256, 1024


class Segment(ctypes.Structure):
    _fields_ = [("address", c_u32), ("alt", c_uint), ("data", ctypes.c_void_p), ("len", c_size)]


class WriteExOptions(ctypes.Structure):
    _fields_ = [("no_verify", c_int), ("full", c_int), ("leave", c_int), ("has_leave_address", c_int),
                ("leave_address", c_u32), ("vdd", c_double), ("otp_permanent", c_int), ("otp_after_flash", c_int),
                ("ob_confirm", c_uint), ("has_entry", c_int), ("entry", c_u32)]


class FileOptions(ctypes.Structure):
    _fields_ = [("has_address", c_int), ("address", c_u32), ("force", c_int)]


class SectorReport(ctypes.Structure):
    _fields_ = [("index", c_uint), ("address", c_u32), ("size", c_u32), ("state", c_int)]


class PhaseTime(ctypes.Structure):
    _fields_ = [("bytes", c_u64), ("us", c_u64)]


class LinkCounters(ctypes.Structure):
    _fields_ = [("retries", c_uint), ("resyncs", c_uint), ("reconnects", c_uint), ("rewrites", c_uint),
                ("transfer_splits", c_uint)]


class WriteReport(ctypes.Structure):
    _fields_ = [("image_bytes", c_u64), ("bytes_programmed", c_u64), ("preserved_bytes", c_u64),
                ("sectors_touched", c_uint), ("sectors_erased", c_uint), ("sectors_skipped", c_uint),
                ("runs", c_uint), ("blocks", c_uint), ("transfer_size", c_u32), ("verified", c_int), ("otp", c_int),
                ("memory", c_char * 64),
                ("memory_address", c_u32), ("ob_protection_active", c_int), ("canceled", c_int),
                ("voltage_range", c_int), ("read", PhaseTime), ("erase", PhaseTime), ("program", PhaseTime),
                ("verify", PhaseTime), ("mismatch", c_int), ("mismatch_address", c_u32), ("expected", c_u8),
                ("actual", c_u8), ("blocked_sector", c_int), ("left", c_int), ("leave", LeaveResult),
                ("link", LinkCounters), ("n_sectors", c_uint), ("sectors", SectorReport * MAX_SECTOR_REPORTS),
                ("recovery_file", c_char * PATH_MAX), ("restored_from", c_char * PATH_MAX),
                ("restored_sectors", c_uint), ("ob_bootloader_gone", c_int)]


class VerifyReport(ctypes.Structure):
    _fields_ = [("bytes", c_u64), ("match", c_int), ("mismatches", c_u64), ("first_mismatch", c_u32),
                ("expected", c_u8), ("actual", c_u8), ("seconds", c_double)]


PROGRESS_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, c_int, c_u64, c_u64)
SESSION = ctypes.c_void_p

#: every structure mirrored here, by its C name (the tests compare each size with the C compiler's)
STRUCTS = {"stm32dfu_match": Match, "stm32dfu_open_options": OpenOptions, "stm32dfu_read_options": ReadOptions,
           "stm32dfu_error": ErrorInfo, "stm32dfu_write_options": WriteOptions,
           "stm32dfu_write_result": WriteResult, "stm32dfu_sector_group": SectorGroup, "stm32dfu_region": Region,
           "stm32dfu_alt": Alt, "stm32dfu_identity": Identity, "stm32dfu_device": Device,
           "stm32dfu_listed": Listed, "stm32dfu_session_options": SessionOptions,
           "stm32dfu_region_rec": RegionRec, "stm32dfu_alt_rec": AltRec, "stm32dfu_device_rec": DeviceRec,
           "stm32dfu_ob_field": ObField, "stm32dfu_option_bytes": OptionBytes, "stm32dfu_link_size": LinkSize,
           "stm32dfu_finding": Finding, "stm32dfu_doctor_report": DoctorReport,
           "stm32dfu_uart_rate": UartRate, "stm32dfu_doctor_uart": DoctorUart,
           "stm32dfu_unprotect_result": UnprotectResult, "stm32dfu_erase_options": EraseOptions,
           "stm32dfu_erase_result": EraseResult, "stm32dfu_leave_result": LeaveResult,
           "stm32dfu_segment": Segment, "stm32dfu_write_ex_options": WriteExOptions,
           "stm32dfu_file_options": FileOptions, "stm32dfu_sector_report": SectorReport,
           "stm32dfu_phase_time": PhaseTime, "stm32dfu_link_counters": LinkCounters,
           "stm32dfu_write_report": WriteReport, "stm32dfu_verify_report": VerifyReport,
           "stm32dfu_ob_named": ObNamed, "stm32dfu_ob_field_info": ObFieldInfo, "stm32dfu_ob_word": ObWord,
           "stm32dfu_ob_report": ObReport, "stm32dfu_ob_set_options": ObSetOptions, "stm32dfu_ob_change": ObChange,
           "stm32dfu_ob_set_result": ObSetResult}
P = ctypes.POINTER

_SIGNATURES = {
    "stm32dfu_version": (ctypes.c_char_p, []),
    "stm32dfu_strerror": (ctypes.c_char_p, [c_int]),
    "stm32dfu_errname": (ctypes.c_char_p, [c_int]),
    "stm32dfu_open": (c_int, [P(Match), P(SESSION)]),
    "stm32dfu_open_ex": (c_int, [P(Match), P(OpenOptions), P(SESSION)]),
    "stm32dfu_close": (None, [SESSION]),
    "stm32dfu_last_error": (ErrorInfo, [SESSION]),
    "stm32dfu_uid": (ctypes.c_char_p, [SESSION]),
    "stm32dfu_set_progress": (None, [SESSION, PROGRESS_FN, ctypes.c_void_p]),
    "stm32dfu_write_file": (c_int, [SESSION, ctypes.c_char_p, P(WriteOptions), P(WriteResult)]),
    "stm32dfu_verify_file": (c_int, [SESSION, ctypes.c_char_p, P(WriteOptions)]),
    "stm32dfu_list": (c_int, [P(Match), P(P(Device)), P(c_size)]),
    "stm32dfu_list_free": (None, [P(Device)]),
    "stm32dfu_list_ex": (c_int, [P(Match), P(P(Listed)), P(c_size)]),
    "stm32dfu_list_ex_free": (None, [P(Listed)]),
    "stm32dfu_open_session": (c_int, [P(Match), P(SessionOptions), P(SESSION)]),
    "stm32dfu_list_records": (c_int, [P(Match), P(SessionOptions), P(P(DeviceRec)), P(c_size)]),
    "stm32dfu_list_records_free": (None, [P(DeviceRec)]),
    "stm32dfu_device_record": (c_int, [SESSION, P(DeviceRec)]),
    "stm32dfu_info": (c_int, [SESSION, P(Identity)]),
    "stm32dfu_device_info": (c_int, [SESSION, P(Device)]),
    "stm32dfu_read": (c_int, [SESSION, c_u32, ctypes.c_void_p, c_size]),
    "stm32dfu_read_ex": (c_int, [SESSION, P(ReadOptions), c_u32, ctypes.c_void_p, c_size]),
    "stm32dfu_read_file": (c_int, [SESSION, c_u32, c_size, ctypes.c_char_p]),
    "stm32dfu_erase_sectors": (c_int, [SESSION, P(c_uint), c_size]),
    "stm32dfu_erase_range": (c_int, [SESSION, c_u32, c_u32, P(c_uint)]),
    "stm32dfu_erase_all": (c_int, [SESSION, c_int]),
    "stm32dfu_write_mem": (c_int, [SESSION, c_u32, ctypes.c_void_p, c_size, P(WriteOptions), P(WriteResult)]),
    "stm32dfu_verify_mem": (c_int, [SESSION, c_u32, ctypes.c_void_p, c_size]),
    "stm32dfu_ob_read": (c_int, [SESSION, P(OptionBytes)]),
    "stm32dfu_ob_set": (c_int, [SESSION, P(ctypes.c_char_p), c_size, c_uint, P(OptionBytes)]),
    "stm32dfu_ob_read_ex": (c_int, [SESSION, P(ObReport)]),
    "stm32dfu_ob_set_ex": (c_int, [SESSION, P(ctypes.c_char_p), c_size, P(ObSetOptions), P(ObSetResult)]),
    "stm32dfu_confirm_flag": (ctypes.c_char_p, [c_uint]),
    "stm32dfu_unprotect": (c_int, [SESSION, c_int, P(UnprotectResult)]),
    "stm32dfu_leave": (c_int, [SESSION, c_int, c_u32]),
    "stm32dfu_doctor": (c_int, [SESSION, c_uint, c_double, P(DoctorReport)]),
    "stm32dfu_doctor_uart": (c_int, [SESSION, c_uint, P(DoctorReport), P(DoctorUart)]),
    "stm32dfu_leave_reset": (c_int, [SESSION]),
    "stm32dfu_erase_ex": (c_int, [SESSION, P(EraseOptions), P(EraseResult)]),
    "stm32dfu_leave_ex": (c_int, [SESSION, c_int, c_u32, P(LeaveResult)]),
    "stm32dfu_write_ex": (c_int, [SESSION, P(Segment), c_size, P(WriteExOptions), P(WriteReport)]),
    "stm32dfu_write_file_ex": (c_int, [SESSION, ctypes.c_char_p, P(FileOptions), P(WriteExOptions), P(WriteReport)]),
    "stm32dfu_verify_ex": (c_int, [SESSION, P(Segment), c_size, P(VerifyReport)]),
    "stm32dfu_verify_file_ex": (c_int, [SESSION, ctypes.c_char_p, P(FileOptions), P(VerifyReport)]),
    "stm32dfu_recover": (c_int, [SESSION, P(WriteExOptions), P(WriteReport)]),
    "stm32dfu_cancel": (None, [SESSION]),
    "stm32dfu_cancel_reset": (None, [SESSION]),
    "stm32dfu_erase_bytes": (c_int, [SESSION, c_u32, c_u32, c_double, P(WriteReport)]),
}


def _candidates(windows=None):
    """Where libstm32dfu may be, in order. windows: as on Windows (default: this system)."""
    env = os.environ.get("STM32DFU_LIBRARY")
    if env:
        yield env
        return
    if os.name == "nt" if windows is None else windows:
        # Windows: meson names the DLL libstm32dfu-SOVERSION.dll and installs it in bin\, and the
        # zip (make windows) keeps it beside stm32dfu.exe; a bare name is then looked up on PATH
        dll = "libstm32dfu-" + _config.SOVERSION + ".dll"
        if _config.LIBDIR:
            yield os.path.join(os.path.dirname(_config.LIBDIR), "bin", dll)
        exe = shutil.which("stm32dfu.exe") or shutil.which("stm32dfu")
        if exe:
            yield os.path.join(os.path.dirname(exe), dll)
        yield dll
        return
    if _config.LIBDIR:
        yield os.path.join(_config.LIBDIR, "libstm32dfu.so." + _config.SOVERSION)
    found = ctypes.util.find_library("stm32dfu")
    if found:
        yield found
    yield "libstm32dfu.so." + _config.SOVERSION


def load():
    """Loads libstm32dfu: $STM32DFU_LIBRARY, else where meson installed it, else the linker's search."""
    errors = []
    for name in _candidates():
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError as e:
            errors.append(f"{name}: {e}")
    else:
        raise OSError("libstm32dfu not found (" + "; ".join(errors) +
                      "); install it (meson install) or set STM32DFU_LIBRARY to its path")
    for fn, (restype, argtypes) in _SIGNATURES.items():
        f = getattr(lib, fn)
        f.restype = restype
        f.argtypes = argtypes
    return lib
