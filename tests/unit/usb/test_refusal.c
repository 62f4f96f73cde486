/* usb/: the OS refusing us a device (transport.h tp_refused, tp_libusb.h tp_libusb_refusal): which
 * libusb errors are refusals, and that each is worded with this platform's fix, whole. Runs on
 * Linux (suite unit) and, cross-built, under wine (suite windows), where the fix is WinUSB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "usb/transport.h"
#ifdef HAVE_LIBUSB
#include <libusb.h>

#include "usb/tp_libusb.h"
#endif

#define assert_has(hay, needle)                                                                      \
	do {                                                                                             \
		if (!strstr((hay), (needle)))                                                                \
			fail_msg("'%s' not in: %s", (needle), (hay));                                            \
	} while (0)

static void test_libusb_errors(void **state)
{
	(void)state;
#ifdef HAVE_LIBUSB
	enum tp_refusal why = TP_REFUSED_BUSY;
	/* Windows: a device bound to any driver but WinUSB, libusbK or libusb0 fails libusb_open so */
	assert_true(tp_libusb_refusal(LIBUSB_ERROR_NOT_SUPPORTED, &why));
	assert_int_equal(why, TP_REFUSED_DRIVER);
	assert_true(tp_libusb_refusal(LIBUSB_ERROR_ACCESS, &why));
	assert_int_equal(why, TP_REFUSED_ACCESS);
	assert_true(tp_libusb_refusal(LIBUSB_ERROR_BUSY, &why));
	assert_int_equal(why, TP_REFUSED_BUSY);
	/* link faults are not refusals: they keep their own codes */
	assert_false(tp_libusb_refusal(LIBUSB_ERROR_PIPE, &why));
	assert_false(tp_libusb_refusal(LIBUSB_ERROR_TIMEOUT, &why));
	assert_false(tp_libusb_refusal(LIBUSB_ERROR_NO_DEVICE, &why));
	assert_false(tp_libusb_refusal(LIBUSB_ERROR_IO, &why));
	assert_int_equal(tp_libusb_map_error(LIBUSB_ERROR_NO_DEVICE), STM32DFU_E_DISCONNECTED);
#else
	skip();
#endif
}

static void test_wording(void **state)
{
	(void)state;
	struct err e;
	err_clear(&e);
	assert_int_equal(tp_refused(&e, TP_REFUSED_DRIVER, "opening 1-4", "LIBUSB_ERROR_NOT_SUPPORTED"), STM32DFU_E_ACCESS);
	assert_int_equal(e.code, STM32DFU_E_ACCESS);
	assert_has(e.msg, "opening 1-4");
	assert_has(e.msg, "LIBUSB_ERROR_NOT_SUPPORTED");
	assert_has(e.msg, "driver libusb cannot use");
#ifdef _WIN32
	/* the fix in the message itself (list shows only the message), the steps in the hint */
	assert_has(e.msg, "WinUSB");
	assert_has(e.hint, "Zadig");
	assert_has(e.hint, "STM32 BOOTLOADER");
	assert_has(e.hint, "STM32Bootloader.bat");
	assert_has(e.hint, "STTub30");
#elif !defined(__APPLE__)
	assert_has(e.hint, "lsusb");
#endif
	/* a hint cut by the buffer would lose the fix: each fits whole */
	for (int w = TP_REFUSED_ACCESS; w <= TP_REFUSED_BUSY; w++)
		assert_true(strlen(tp_refusal_hint((enum tp_refusal)w)) < ERR_HINT_MAX - 1);
	assert_string_equal(e.hint, tp_refusal_hint(TP_REFUSED_DRIVER));

	err_clear(&e);
	tp_refused(&e, TP_REFUSED_ACCESS, "opening 1-4", "LIBUSB_ERROR_ACCESS");
	assert_int_equal(e.code, STM32DFU_E_ACCESS);
#ifdef _WIN32
	assert_has(e.hint, "one program at a time");
#elif !defined(__APPLE__)
	assert_has(e.hint, "udev");
#endif
	err_clear(&e);
	tp_refused(&e, TP_REFUSED_BUSY, "claiming interface 0 of 1-4", "LIBUSB_ERROR_BUSY");
	assert_has(e.msg, "another program holds it");
}

static void test_parse(void **state)
{
	(void)state;
	enum tp_refusal why;
	assert_int_equal(tp_refusal_parse("driver", &why), 0);
	assert_int_equal(why, TP_REFUSED_DRIVER);
	assert_int_equal(tp_refusal_parse("access", &why), 0);
	assert_int_equal(why, TP_REFUSED_ACCESS);
	assert_int_equal(tp_refusal_parse("busy", &why), 0);
	assert_int_equal(why, TP_REFUSED_BUSY);
	assert_int_equal(tp_refusal_parse("winusb", &why), -1);
	assert_int_equal(tp_refusal_parse(NULL, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libusb_errors),
		cmocka_unit_test(test_wording),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
