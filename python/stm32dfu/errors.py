"""Exceptions: one class per error code of the C library, all under stm32dfu.Error."""


class Error(Exception):
    """A failure reported by libstm32dfu: code (negative int), name, message and hint."""

    code = None
    name = "STM32DFU_E_UNKNOWN"

    def __init__(self, code, name, message, hint=""):
        super().__init__(message + (f" (hint: {hint})" if hint else ""))
        self.code = code
        self.name = name
        self.message = message
        self.hint = hint


class UsageError(Error, ValueError):
    """A bad argument or option."""


class NoDeviceError(Error):
    """No device matched."""


class AmbiguousError(Error):
    """More than one device matched: give a serial, UID or path."""


class AccessError(Error, PermissionError):
    """Permission denied opening the device."""


class UsbError(Error, IOError):
    """A USB transfer failed."""


class DeviceTimeoutError(Error, TimeoutError):
    """A transfer or a wait timed out."""


class StallError(UsbError):
    """The device stalled a request."""


class DisconnectedError(UsbError):
    """The device went away."""


class DfuStatusError(Error):
    """The device reported a DFU error status."""


class ProtocolError(Error):
    """An unexpected DFU state or a malformed reply."""


class FileError(Error, IOError):
    """A file could not be read or written."""


class FileFormatError(Error, ValueError):
    """A file is malformed or made for another device."""


class RangeError(Error, ValueError):
    """An address outside the memory map, or not writable."""


class ProtectedError(Error):
    """Read or write protection prevents the operation."""


class VerifyError(Error):
    """What the chip holds differs from what was written."""


class NeedsConfirmationError(Error):
    """A risky step needs an explicit confirmation."""


class OutOfMemoryError(Error, MemoryError):
    """An allocation failed."""


class InternalError(Error):
    """A bug in stm32dfu."""


class UnsupportedError(Error):
    """The device or file does not support this."""


class CanceledError(Error):
    """Stopped on request (SIGINT or SIGTERM, Chip.cancel(), or an exception in a progress callback,
    which is its __cause__) at a transfer boundary. .report says what each sector holds and names
    the recovery file."""


class Interrupted(CanceledError, KeyboardInterrupt):
    """Ctrl-C (SIGINT) during a long call: the call stopped at a transfer boundary. Caught by
    `except KeyboardInterrupt` as well as by `except stm32dfu.Error`; .report as for CanceledError."""


class NotStartedError(Error):
    """After leaving DFU the bootloader came back: the application did not start."""


# the C enum's values (include/stm32dfu/stm32dfu.h), in order from -1
BY_CODE = {
    -1: UsageError, -2: NoDeviceError, -3: AmbiguousError, -4: AccessError, -5: UsbError,
    -6: DeviceTimeoutError, -7: StallError, -8: DisconnectedError, -9: DfuStatusError, -10: ProtocolError,
    -11: FileError, -12: FileFormatError, -13: RangeError, -14: ProtectedError, -15: VerifyError,
    -16: NeedsConfirmationError, -17: OutOfMemoryError, -18: InternalError, -19: UnsupportedError,
    -20: CanceledError, -21: NotStartedError,
}
