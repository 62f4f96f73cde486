/* usb/: string descriptor decoding, the trace decorator (record, text round trip, replay, faults). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usb/tp_trace.h"

static void test_string_decode(void **state)
{
	(void)state;
	char out[64];
	/* "STM32  BOOTLOADER" as the F4 ROM sends it (two spaces) */
	const char *ascii = "STM32  BOOTLOADER";
	uint8_t d[2 + 2 * 17];
	d[0] = sizeof d;
	d[1] = USB_DT_STRING;
	for (int i = 0; i < 17; i++) {
		d[2 + 2 * i] = (uint8_t)ascii[i];
		d[3 + 2 * i] = 0;
	}
	assert_int_equal(tp_string_decode(d, sizeof d, out, sizeof out), 17);
	assert_string_equal(out, ascii);
	/* truncation keeps whole characters and the NUL */
	assert_int_equal(tp_string_decode(d, sizeof d, out, 6), 5);
	assert_string_equal(out, "STM32");
	/* bLength larger than what arrived: decode what arrived */
	assert_int_equal(tp_string_decode(d, 8, out, sizeof out), 3);
	/* odd length drops the half unit */
	d[0] = 7;
	assert_int_equal(tp_string_decode(d, 7, out, sizeof out), 2);
	/* non-ASCII: U+00E9, U+20AC, a surrogate pair U+1F600, an unpaired low surrogate, NUL */
	const uint8_t u[] = {14, 3, 0xE9, 0x00, 0xAC, 0x20, 0x3D, 0xD8, 0x00, 0xDE, 0x00, 0xDC, 0x00, 0x00};
	assert_int_equal(tp_string_decode(u, sizeof u, out, sizeof out), 2 + 3 + 4 + 1 + 1);
	assert_string_equal(out, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80??");
	/* a high surrogate at the end */
	const uint8_t h[] = {4, 3, 0x3D, 0xD8};
	assert_int_equal(tp_string_decode(h, sizeof h, out, sizeof out), 1);
	/* malformed headers */
	const uint8_t bad[] = {4, 2, 0x41, 0};
	assert_int_equal(tp_string_decode(bad, sizeof bad, out, sizeof out), STM32DFU_E_PROTOCOL);
	assert_int_equal(tp_string_decode(bad, 1, out, sizeof out), STM32DFU_E_PROTOCOL);
	const uint8_t empty[] = {2, 3};
	assert_int_equal(tp_string_decode(empty, 2, out, sizeof out), 0);
	/* the longest a device can send (bLength 254: 126 units) at 3 bytes each (U+20AC) fits
	 * TP_STRING_MAX whole: no USB string is cut (a hostile device's included) */
	uint8_t lng[254];
	lng[0] = 254;
	lng[1] = 3;
	for (int i = 0; i < 126; i++) {
		lng[2 + 2 * i] = 0xAC;
		lng[3 + 2 * i] = 0x20;
	}
	char whole[TP_STRING_MAX];
	assert_int_equal(tp_string_decode(lng, sizeof lng, whole, sizeof whole), 378);
	assert_int_equal(strlen(whole), 378);
	assert_memory_equal(whole + 375, "\xE2\x82\xAC", 3);
}

static void test_classify(void **state)
{
	(void)state;
	uint8_t sa[5] = {0x21, 0, 0, 0, 8}, er[5] = {0x41, 0, 0, 0, 8}, me[1] = {0x41}, ru[1] = {0x92};
	struct usb_setup s = {0x21, DFU_DNLOAD, 0, 0, 5};
	assert_int_equal(tp_classify(&s, sa), TP_REQ_SET_ADDRESS);
	assert_int_equal(tp_classify(&s, er), TP_REQ_ERASE);
	s.wLength = 1;
	assert_int_equal(tp_classify(&s, me), TP_REQ_MASS_ERASE);
	assert_int_equal(tp_classify(&s, ru), TP_REQ_READ_UNPROTECT);
	s.wValue = 2;
	s.wLength = 2048;
	assert_int_equal(tp_classify(&s, NULL), TP_REQ_DNLOAD_DATA);
	s.wLength = 0;
	assert_int_equal(tp_classify(&s, NULL), TP_REQ_DNLOAD_ZERO);
	struct usb_setup g = {0xA1, DFU_GETSTATUS, 0, 0, 6};
	assert_int_equal(tp_classify(&g, NULL), TP_REQ_GETSTATUS);
	struct usb_setup desc = {0x80, USB_REQ_GET_DESCRIPTOR, 0x0300, 0, 255};
	assert_int_equal(tp_classify(&desc, NULL), TP_REQ_STANDARD);
	assert_string_equal(tp_req_class_name(TP_REQ_SET_ADDRESS), "SET_ADDRESS");
}

/* a tiny device for the decorator: answers GETSTATUS with a counter, accepts everything else */
static unsigned fake_calls;
static int fake_control(struct tp *tp, const struct usb_setup *s, uint8_t *data, unsigned timeout_ms)
{
	(void)tp;
	(void)timeout_ms;
	fake_calls++;
	if (s->bmRequestType & USB_DIR_IN) {
		for (unsigned i = 0; i < s->wLength; i++)
			data[i] = (uint8_t)(fake_calls + i);
		return s->wLength;
	}
	return s->wLength;
}
static int fake_set_alt(struct tp *tp, uint8_t i, uint8_t a)
{
	(void)tp;
	(void)i;
	(void)a;
	return 0;
}
static void fake_close(struct tp *tp)
{
	tp_free(tp);
}
static const struct tp_ops fake_ops = {"fake", fake_control, fake_set_alt, NULL, NULL, fake_close};

static void test_trace_record_replay_faults(void **state)
{
	(void)state;
	struct tp *inner = tp_alloc(&fake_ops, NULL);
	struct tp *t = tp_trace_wrap(inner);
	assert_non_null(t);
	uint8_t sa[5] = {0x21, 0x00, 0x00, 0x00, 0x08}, st[6];
	struct usb_setup dn = {0x21, DFU_DNLOAD, 0, 0, 5}, gs = {0xA1, DFU_GETSTATUS, 0, 0, 6};
	fake_calls = 0;
	assert_int_equal(tp_control(t, &dn, sa, 100), 5);
	assert_int_equal(tp_control(t, &gs, st, 100), 6);
	assert_int_equal(tp_set_alt(t, 0, 1), 0);
	assert_int_equal(tp_reset(t), STM32DFU_E_UNSUPPORTED);
	/* faults: the 2nd GETSTATUS stalls without reaching the device; then a corrupted byte */
	struct tp_fault f = {.kind = TP_FAULT_STALL, .match = TP_REQ_GETSTATUS, .nth = 2};
	assert_int_equal(tp_trace_add_fault(t, &f), 0);
	struct tp_fault c = {.kind = TP_FAULT_CORRUPT, .match = TP_REQ_UPLOAD_DATA, .nth = 1, .offset = 3,
	                     .xor_mask = 0x01};
	assert_int_equal(tp_trace_add_fault(t, &c), 0);
	unsigned before = fake_calls;
	assert_int_equal(tp_control(t, &gs, st, 100), 6);
	assert_int_equal(tp_control(t, &gs, st, 100), STM32DFU_E_STALL);
	assert_int_equal(fake_calls, before + 1);
	assert_int_equal(tp_control(t, &gs, st, 100), 6);
	uint8_t up[8];
	struct usb_setup ul = {0xA1, DFU_UPLOAD, 2, 0, 8};
	assert_int_equal(tp_control(t, &ul, up, 100), 8);
	assert_int_equal(up[3], (uint8_t)((fake_calls + 3) ^ 1));
	/* a disconnect is sticky */
	struct tp_fault dc = {.kind = TP_FAULT_DISCONNECT, .match = TP_REQ_ANY, .nth = 1};
	tp_trace_clear_faults(t);
	assert_int_equal(tp_trace_add_fault(t, &dc), 0);
	assert_int_equal(tp_control(t, &gs, st, 100), STM32DFU_E_DISCONNECTED);
	assert_int_equal(tp_control(t, &dn, sa, 100), STM32DFU_E_DISCONNECTED);
	/* queries */
	assert_int_equal(tp_trace_count(t, TP_REQ_SET_ADDRESS), 2);
	assert_int_equal(tp_trace_count(t, TP_REQ_GETSTATUS), 5);
	assert_int_equal(tp_trace_count(t, TP_REQ_SET_ALT), 1);
	size_t n;
	const struct tp_rec *r = tp_trace_records(t, &n);
	assert_int_equal(n, 10);
	assert_true(r[5].injected);
	assert_int_equal(r[5].result, STM32DFU_E_STALL);

	/* the text transcript replays byte for byte */
	char *text = NULL;
	size_t tlen = 0;
	FILE *mf = open_memstream(&text, &tlen);
	assert_int_equal(tp_trace_write(t, mf), 0);
	fclose(mf);
	assert_non_null(strstr(text, "OUT 21 01 0000 0000 0005 | 21 00 00 00 08 -> 5\n"));
	assert_non_null(strstr(text, "-> STALL # injected\n"));
	struct tp *rp;
	struct err e;
	err_clear(&e);
	assert_int_equal(tp_trace_replay_text(text, tlen, &rp, &e), 0);
	uint8_t st2[6];
	assert_int_equal(tp_control(rp, &dn, sa, 100), 5);
	assert_int_equal(tp_control(rp, &gs, st2, 100), 6);
	assert_memory_equal(st2, r[1].data, 6);
	assert_int_equal(tp_set_alt(rp, 0, 1), 0);
	assert_int_equal(tp_reset(rp), STM32DFU_E_UNSUPPORTED);
	assert_int_equal(tp_control(rp, &gs, st2, 100), 6);
	assert_int_equal(tp_control(rp, &gs, st2, 100), STM32DFU_E_STALL);
	/* a request that differs from the recording fails */
	assert_int_equal(tp_control(rp, &dn, sa, 100), STM32DFU_E_PROTOCOL);
	assert_non_null(strstr(rp->err.msg, "replay: transfer 7 differs"));
	tp_close(rp);
	free(text);
	tp_close(t);
	/* malformed transcripts are rejected with the line number */
	const char *bad = "# x\nOUT 21 01 0000 0000 0005 | 21 00 -> 5\n";
	assert_int_equal(tp_trace_replay_text(bad, strlen(bad), &rp, &e), STM32DFU_E_FILE_FORMAT);
	assert_string_equal(e.msg, "replay: transcript line 2 is malformed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_decode),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_trace_record_replay_faults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
