# Thin wrappers around Meson for the README's commands. The build itself is meson.build.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan
FUZZ_SECONDS ?= 20
WIN_BUILD ?= build-win
WIN_DEPS ?= build-win-deps

.PHONY: all deps build demo check asan tsan fuzz fuzz-long bench clean windows windows-check

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# list the simulated F746, write a sample image, verify, show the chip
demo: build
	@scripts/demo.sh $(BUILD)

# the whole test suite
check: build
	meson test -C $(BUILD) --print-errorlogs --num-processes 2

# the suite again under AddressSanitizer + UndefinedBehaviorSanitizer
asan: deps
	[ -f $(ASAN_BUILD)/build.ninja ] || meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
	ninja -C $(ASAN_BUILD)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0 \
		meson test -C $(ASAN_BUILD) --print-errorlogs --num-processes 2 --timeout-multiplier 4

# the library's threaded tests under ThreadSanitizer (sessions in threads, each with its own
# emulated chip; the log's concurrent serial numbers); kept short: only those tests, each run three
# times (a race shows only in some interleavings). report_signal_unsafe=0: cmocka's own handlers trip it.
tsan: deps
	[ -f $(TSAN_BUILD)/build.ninja ] || meson setup $(TSAN_BUILD) -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug -Dumockdev=disabled
	ninja -C $(TSAN_BUILD) tests/lib/test_api_threads tests/unit/store/test_store
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0 \
		meson test -C $(TSAN_BUILD) --no-rebuild --print-errorlogs --timeout-multiplier 4 --repeat 3 lib_api_threads store_sqlite

# every libFuzzer target for FUZZ_SECONDS each (clang); `make fuzz FUZZ_SECONDS=600` for a long run
fuzz:
	@scripts/deps.sh --fuzz
	[ -f $(FUZZ_BUILD)/build.ninja ] || CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dumockdev=disabled
	ninja -C $(FUZZ_BUILD)
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Windows x86-64, cross-built with mingw-w64: libusb, SQLite, nettle, libserialport and cmocka from
# Debian's sources (scripts/windows-deps.sh, pinned and hashed), then build-win/stm32dfu.exe,
# libstm32dfu-0.dll and dist/stm32dfu-VERSION-win64.zip
windows:
	scripts/windows-deps.sh $(CURDIR)/$(WIN_DEPS)
	[ -f $(WIN_BUILD)/build.ninja ] || meson setup $(WIN_BUILD) --cross-file $(WIN_DEPS)/cross.ini -Dumockdev=disabled
	ninja -C $(WIN_BUILD)
	scripts/windows-dist.sh $(WIN_BUILD)

# the Windows build under wine64: the portable cmocka suites, then the command line (tests/windows)
windows-check: windows
	WINEDEBUG=-all meson test -C $(WIN_BUILD) --suite windows --print-errorlogs --num-processes 2
	tests/windows/cli.sh $(WIN_BUILD)

bench: build
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD) $(WIN_BUILD) $(WIN_DEPS) dist
