/*
 * Replays the real F0 ROM session (data/captures/sigrok-dumps_stm32_dfu_install.derived-usb_request.txt,
 * sigrok-dumps, public domain) against the f0-32k profile: every request from the file, every
 * reply compared byte for byte, STALLs included, until the chip leaves for its application.
 * Between polls the fake clock advances by the bwPollTimeout the device reported, as dfu-util does.
 */
#include "sim_test.h"

#define CAPTURE SHARED_DATA_DIR "/captures/sigrok-dumps_stm32_dfu_install.derived-usb_request.txt"

struct rec {
	bool in;
	uint8_t setup[8];
	uint8_t data[4096];
	size_t len;
	bool stall;
};

static size_t parse_hex_list(const char *s, const char *end, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (s < end && n < cap) {
		while (s < end && *s == ' ')
			s++;
		if (s >= end)
			break;
		unsigned v;
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* "usb_request-1: SETUP in: [ 80 06 ... ][ data ] : ACK" */
static bool parse_line(const char *line, struct rec *r)
{
	const char *p = strstr(line, "SETUP ");
	if (!p)
		return false;
	r->in = strncmp(p + 6, "in:", 3) == 0;
	const char *a = strchr(p, '['), *b = a ? strchr(a, ']') : NULL;
	const char *c = b ? strchr(b, '[') : NULL, *e = c ? strchr(c, ']') : NULL;
	if (!a || !b || !c || !e || parse_hex_list(a + 1, b, r->setup, 8) != 8)
		return false;
	r->len = parse_hex_list(c + 1, e, r->data, sizeof(r->data));
	r->stall = strstr(e, "STALL") != NULL;
	return true;
}

static void test_replay_f0_capture(void **state)
{
	(void)state;
	FILE *f = fopen(CAPTURE, "r");
	assert_non_null(f);
	struct simt *t = simt_new("f0-32k");
	static char line[32768];
	struct rec r;
	unsigned replayed = 0, statuses = 0;
	uint32_t last_poll = 0;
	while (fgets(line, sizeof(line), f)) {
		if (!parse_line(line, &r))
			continue;
		struct usb_setup s = {r.setup[0], r.setup[1], (uint16_t)(r.setup[2] | r.setup[3] << 8),
				      (uint16_t)(r.setup[4] | r.setup[5] << 8), (uint16_t)(r.setup[6] | r.setup[7] << 8)};
		if (s.bRequest == DFU_GETSTATUS && s.bmRequestType == USB_RT_CLASS_IN_INTERFACE) {
			simt_advance_ms(t, last_poll); /* the host waits as told */
			statuses++;
		}
		uint8_t buf[4096];
		uint16_t actual = 0;
		if (!r.in)
			memcpy(buf, r.data, r.len);
		enum sim_result res = sim_control(t->d, &s, buf, &actual);
		replayed++;
		if (r.stall) {
			if (res != SIM_STALL)
				fail_msg("request %u (%02X %02X %04X): want STALL, got %d", replayed, s.bmRequestType,
					 s.bRequest, s.wValue, res);
			continue;
		}
		if (res != SIM_OK)
			fail_msg("request %u (%02X %02X %04X): want ACK, got %d", replayed, s.bmRequestType, s.bRequest,
				 s.wValue, res);
		if (r.in) {
			if (actual != r.len || memcmp(buf, r.data, r.len) != 0)
				fail_msg("request %u (%02X %02X %04X): reply differs (%u vs %zu bytes)", replayed,
					 s.bmRequestType, s.bRequest, s.wValue, actual, r.len);
			if (s.bRequest == DFU_GETSTATUS && s.bmRequestType == USB_RT_CLASS_IN_INTERFACE)
				last_poll = (uint32_t)buf[1] | (uint32_t)buf[2] << 8 | (uint32_t)buf[3] << 16;
		}
		if (sim_link_state(t->d) != SIM_LINK_UP)
			break; /* the leave: the rest of the capture is the application enumerating */
	}
	fclose(f);
	/* the whole ROM part of the capture: 2 sessions and the leave */
	assert_true(replayed >= 100);
	assert_true(statuses >= 60);
	/* the application's vector table at 0x08002000 has MSP 0x20001800: it runs */
	assert_int_equal(sim_link_state(t->d), SIM_LINK_GONE);
	uint8_t v[8];
	assert_true(sim_mem_read(t->d, 0x08002000, v, 8));
	assert_int_equal(v[0] | v[1] << 8 | v[2] << 16 | (uint32_t)v[3] << 24, 0x20001800);
	simt_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_f0_capture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
