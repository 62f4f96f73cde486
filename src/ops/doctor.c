#include "ops/doctor.h"
#include "ops/linknote.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chip/hse.h"
#include "chip/ob.h"
#include "core/log.h"
#include "sim/sim.h"
#include "target/an3155_link.h"
#include "target/dfuse_link.h"

/* Findings are sentences built from sentences; a long one is cut, which is fine for prose. */
static void say(char *buf, size_t cap, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void say(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

/* USB 2.0 §7.1.11: a full-speed-only device's data rate is 12 Mb/s +-0.25 %. */
#define USB_FS_TOLERANCE_PCT 0.25

static void finding(struct ops_doctor_report *r, enum doctor_severity sev, const char *id, const char *text,
                    const char *advice)
{
	if (r->n_findings >= DOCTOR_MAX_FINDINGS)
		return;
	struct ops_doctor_finding *f = &r->findings[r->n_findings++];
	f->severity = sev;
	snprintf(f->id, sizeof f->id, "%s", id);
	snprintf(f->text, sizeof f->text, "%s", text);
	snprintf(f->advice, sizeof f->advice, "%s", advice ? advice : "");
	if (sev > r->worst)
		r->worst = sev;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * Raw UPLOADs of one readable place, without the recovery layer, so every error counts: the point
 * is to measure the link, not to get through it.
 */
static void link_test(struct ops_session *s, unsigned count, struct ops_doctor_report *r)
{
	static const uint16_t sizes[DOCTOR_SIZES] = {16, 256, 2048};
	const struct layout_mem *fa = ops_flash_alt(s);
	uint32_t addr = fa && fa->have_layout && fa->layout.n_regions ? fa->layout.regions[0].start : 0x08000000;
	uint16_t ts = s->t->max_transfer;
	uint8_t *ref = malloc(ts), *buf = malloc(ts);
	size_t ref_len = 0; /* the longest answer so far: later answers must agree with it */
	uint64_t *lat[DOCTOR_SIZES];
	unsigned per = count / DOCTOR_SIZES + 1;
	for (int k = 0; k < DOCTOR_SIZES; k++)
		lat[k] = calloc(per, sizeof **lat);
	bool ready = ref && buf && lat[0] && lat[1] && lat[2];
	/* the raw exchanges are target/'s (dfuse_link.h): every failure counts, none is retried */
	bool synced = ready && target_dfuse_link_ready(s->dfu, fa ? (int)fa->alt : -1, addr) == 0;
	for (int k = 0; k < DOCTOR_SIZES; k++) {
		r->link[k].size = sizes[k] < ts ? sizes[k] : ts;
		r->link[k].lat_min_us = UINT64_MAX;
	}
	unsigned resync_failures = 0;
	for (unsigned i = 0; ready && i < count && resync_failures < 20; i++) {
		int k = (int)(i % DOCTOR_SIZES);
		struct ops_link_size *ls = &r->link[k];
		ls->attempts++;
		r->transfers++;
		/* a failed re-sync is itself a failed exchange of the link test */
		if (!synced && !(synced = target_dfuse_link_ready(s->dfu, -1, addr) == 0)) {
			ls->failures++;
			r->failures++;
			resync_failures++;
			continue;
		}
		uint64_t t0 = clock_now_us(ops_clock(s));
		int rc = target_dfuse_link_upload(s->dfu, buf, ls->size);
		uint64_t dt = clock_now_us(ops_clock(s)) - t0;
		if (rc != (int)ls->size) {
			ls->failures++;
			r->failures++;
			synced = false;
			continue;
		}
		size_t common = ref_len < ls->size ? ref_len : ls->size;
		if (common && memcmp(buf, ref, common) != 0)
			ls->corrupt++;
		if (ls->size > ref_len) {
			memcpy(ref, buf, ls->size);
			ref_len = ls->size;
		}
		lat[k][ls->attempts - ls->failures - 1] = dt;
		if (dt < ls->lat_min_us)
			ls->lat_min_us = dt;
		if (dt > ls->lat_max_us)
			ls->lat_max_us = dt;
		ops_report(s, OPS_PHASE_LINK_TEST, i + 1, count, "transfers");
	}
	for (int k = 0; k < DOCTOR_SIZES; k++) {
		struct ops_link_size *ls = &r->link[k];
		unsigned ok = ls->attempts - ls->failures;
		if (ok && lat[k]) {
			qsort(lat[k], ok, sizeof **lat, cmp_u64);
			ls->lat_median_us = lat[k][ok / 2];
		} else {
			ls->lat_min_us = 0;
		}
		free(lat[k]);
	}
	target_dfuse_link_done(s->dfu);
	free(ref);
	free(buf);
}

static double rate(const struct ops_link_size *l)
{
	return l->attempts ? 100.0 * (double)(l->failures + l->corrupt) / (double)l->attempts : 0.0;
}

/* The ROM's detection margin for the crystal is thin: it fails when the HSI drifts (hot, cold). */
static bool hse_margin_thin(const struct ops_doctor_report *r)
{
	return r->have_hse && r->safe_lo_pct > -2.5;
}

static void diagnose_link(struct ops_doctor_report *r)
{
	const struct ops_link_size *shortest = &r->link[0], *longest = &r->link[DOCTOR_SIZES - 1];
	char text[512], advice[512];
	unsigned bad = r->failures;
	for (int k = 0; k < DOCTOR_SIZES; k++)
		bad += r->link[k].corrupt;
	if (r->transfers == 0) {
		r->link_bad = true;
		finding(r, DOCTOR_BAD, "link", "the link test could not run: the device did not take a single upload",
		        "check the cable and try another port or a hub");
		return;
	}
	if (bad == 0 && hse_margin_thin(r)) {
		/* not "healthy": the verdict (and what is remembered) is a marginal link */
		say(text, sizeof text, "no errors in this link test: %u transfers of %u to %u bytes; the crystal's thin "
		         "margin (below) can still fail on a hot or cold board", r->transfers, shortest->size, longest->size);
		finding(r, DOCTOR_OK, "link", text, NULL);
		return;
	}
	if (bad == 0) {
		say(text, sizeof text, "link healthy: %u transfers of %u to %u bytes, no errors", r->transfers,
		         shortest->size, longest->size);
		finding(r, DOCTOR_OK, "link", text, NULL);
		return;
	}
	r->link_bad = true;
	bool length_dependent = rate(longest) > 2.0 * rate(shortest) + 1.0;
	bool hse_suspect = (r->have_sim_clock && fabs(r->sim_usb_error_ppm) > USB_FS_TOLERANCE_PCT * 1e4) ||
	                   (r->have_hse && r->hse_hz >= 20e6) || (!r->have_hse && length_dependent);
	say(text, sizeof text,
	         "%u of %u transfers failed: %.1f %% of %u-byte, %.1f %% of %u-byte and %.1f %% of %u-byte uploads",
	         bad, r->transfers, rate(&r->link[0]), r->link[0].size, rate(&r->link[1]), r->link[1].size,
	         rate(&r->link[2]), r->link[2].size);
	if (length_dependent && hse_suspect) {
		char why[200] = "";
		if (r->have_sim_clock && r->sim_detected_hz > 0 && fabs(r->sim_detected_hz - r->hse_hz) > 1.0)
			say(why, sizeof why, " The ROM took the %.0f MHz crystal for %.0f MHz, so USB runs %.1f %% off (%.0fx the 0.25 %% USB allows).",
			         r->hse_hz / 1e6, r->sim_detected_hz / 1e6, r->sim_usb_error_ppm / 1e4,
			         fabs(r->sim_usb_error_ppm / 1e4) / USB_FS_TOLERANCE_PCT);
		else if (r->have_hse)
			say(why, sizeof why, " A %.0f MHz crystal is detected right only while the HSI is within %.2f..%+.2f %%; one MHz off puts USB about %.1f %% off.",
			         r->hse_hz / 1e6, r->safe_lo_pct, r->safe_hi_pct, r->misdetect_usb_error_pct);
		char t2[512];
		say(t2, sizeof t2, "%s. Long transfers fail far more than short ones: the USB clock is off, most likely because the ROM mis-detected the HSE crystal.%s",
		         text, why);
		say(advice, sizeof advice,
		         "try another USB port or a USB 2.0 hub; let the board reach room temperature (the HSI drifts with "
		         "heat); for the next board revision, an 8 MHz crystal (AN2606: low HSE frequencies are detected "
		         "with a larger margin); or program a custom USB bootloader once and use it instead of the ROM");
		finding(r, DOCTOR_BAD, "usb_clock", t2, advice);
		return;
	}
	finding(r, DOCTOR_BAD, "link", text,
	        "check the cable and try another port or a hub; run {@doctor-hse} with the board's "
	        "crystal frequency to check the ROM's clock detection");
}

static void diagnose_hse_margin(struct ops_doctor_report *r)
{
	if (!r->have_hse || r->link_bad)
		return;
	char text[512];
	say(text, sizeof text,
	         "the ROM detects a %.0f MHz crystal right while its HSI is within %.2f..%+.2f %% (HSI is trimmed to 1 %% "
	         "at 25 C and drifts with temperature); one MHz off puts USB %.1f %% off",
	         r->hse_hz / 1e6, r->safe_lo_pct, r->safe_hi_pct, r->misdetect_usb_error_pct);
	if (r->hse_remembered) {
		size_t k = strlen(text);
		say(text + k, sizeof text - k, " (the crystal frequency an earlier {@doctor-hse} gave for this board)");
	}
	finding(r, hse_margin_thin(r) ? DOCTOR_WARN : DOCTOR_NOTE, "hse_margin", text,
	        hse_margin_thin(r) ? "the margin is thin: expect failures on hot or cold boards; AN2606 advises a "
	                                "lower crystal frequency (8 MHz) for the USB bootloader"
	                              : NULL);
}

static void diagnose_chip(struct ops_session *s, struct ops_doctor_report *r)
{
	const struct ops_identity *id = &s->id;
	char text[512];
	const struct chip_serial_result *sr = &id->serial;
	if (!ops_dfuse(s)) {
		/* no USB serial to compare with the UID over USART */
	} else if (sr->verdict == CHIP_SERIAL_MISMATCH) {
		say(text, sizeof text, "the USB serial %s does not match the one computed from the UID (%s)",
		         ops_info(s)->serial, sr->has_computed ? sr->computed.hal : "?");
		finding(r, DOCTOR_WARN, "serial", text, "identify boards by UID: {@list} shows it; {@sel-uid} selects it");
	} else if (sr->verdict == CHIP_SERIAL_KNOWN_QUIRK) {
		say(text, sizeof text, "the USB serial %s is not the UID-derived one: %s", ops_info(s)->serial,
		         sr->explanation);
		finding(r, DOCTOR_NOTE, "serial", text, "identify boards by UID: {@list} shows it; {@sel-uid} selects it");
	}
	if (id->rdp_level > 0 && !ops_dfuse(s)) {
		/* AN3155 Table 2 note 2: under read protection the ROM serves Get, Get Version and Get ID
		 * (and at level 1 Readout Unprotect) only */
		say(text, sizeof text, "read protection is on (RDP level %d): the USART bootloader answers Get, Get Version "
		    "and Get ID only; the flash, the UID and the option bytes cannot be read, written or erased",
		    id->rdp_level);
		finding(r, DOCTOR_WARN, "rdp", text,
		        id->rdp_level == 1 ? "{@unprotect} (Readout Unprotect) removes it and erases the flash"
		                           : "level 2 is permanent");
	} else if (id->rdp_level > 0) {
		say(text, sizeof text, "read protection is on (RDP level %d): reads, writes and erases are refused",
		         id->rdp_level);
		finding(r, DOCTOR_WARN, "rdp", text,
		        id->rdp_level == 1 ? "{@unprotect} removes it and erases the flash"
		                           : "level 2 is permanent");
	}
	const struct chip_family *fam = id->chip.family;
	struct ob_decoded dec;
	if (id->has_ob && fam && fam->ob && ob_decode(fam, id->ob, id->ob_len, &dec, NULL) == 0) {
		for (size_t i = 0; i < dec.n_fields; i++) {
			const struct ob_field_value *fv = &dec.fields[i];
			if (!fv->present || fv->field->kind != OB_K_NWRP)
				continue;
			uint32_t all = fv->field->width >= 32 ? 0xFFFFFFFFu : (1u << fv->field->width) - 1u;
			if ((fv->value & all) != all) {
				say(text, sizeof text, "write protection is on (%s = 0x%X): writes to those sectors are silently ignored",
				         fv->field->name, fv->value);
				finding(r, DOCTOR_WARN, "wrp", text, "{@ob-show} lists the sectors; {@ob-set} clears them");
			}
		}
		if (dec.complement_errors) {
			say(text, sizeof text, "%u option-byte word(s) do not match their stored complement", dec.complement_errors);
			finding(r, DOCTOR_WARN, "ob_complement", text, "{@ob-show} names them; rewriting any field repairs them");
		}
	}
}

/* A marginal USB link: the same ROM's USART bootloader needs no crystal (it measures the host's rate
 * from 0x7F, AN3155 2; AN2606: USART uses the HSI), so name this family's pins and the command. */
static void diagnose_usart(const struct ops_session *s, struct ops_doctor_report *r)
{
	if (!r->link_marginal)
		return;
	const struct chip_family *f = s->id.chip.family;
	const char *pins = chip_usart_pins(f);
	char text[512];
	say(text, sizeof text,
	    "%s%s ROM also has a USART bootloader, which does not depend on the crystal: %s (AN2606)",
	    f ? "this " : "the ", f ? f->name : "STM32", pins ? pins : "USART1 TX PA9, RX PA10 on most families");
	finding(r, DOCTOR_NOTE, "usart", text,
	        "wire a 3.3 V USB serial adapter (its RX to the chip's TX, its TX to the chip's RX, GND), keep BOOT0 "
	        "high and reset the board, then find it with {@list-ports-probe}");
}

/* ---- over USART: which rates hold ---- */

/* The rates doctor tries over USART, slowest first (the usual PC rates around AN3155's 115200). */
static const unsigned uart_rates[] = {57600, 115200, 230400, 460800, 921600};

/* The fastest rate a family's ROM is known to follow (docs/usart.md "Rate"): AN3155 states 115200;
 * an F405 ROM (BL 3.1) followed 921600 (OBSERVED, betaflight-configurator #376), which the F4
 * profiles model; no other family has evidence above 115200. */
static unsigned uart_family_max(uint16_t dev_id)
{
	static const uint16_t f4[] = {0x413, 0x419, 0x421, 0x423, 0x431, 0x433};
	for (size_t i = 0; i < sizeof f4 / sizeof f4[0]; i++)
		if (f4[i] == dev_id)
			return 921600;
	return 115200;
}

/* count commands at the port's present rate, each sent once (no retry: target/an3155_link.h),
 * counted as it came back */
static void uart_measure(struct ops_session *s, unsigned count, uint32_t addr, const uint8_t *ref, bool reads,
                         struct ops_uart_rate *rt, unsigned *done, unsigned total)
{
	uint8_t buf[AN3155_MAX_BLOCK];
	unsigned failed = 0;
	for (unsigned i = 0; i < count && !ops_canceled(s); i++) {
		static const enum target_uart_try kinds[] = {TARGET_UART_TRY_GET, TARGET_UART_TRY_ID, TARGET_UART_TRY_READ};
		enum target_uart_try kind = kinds[i % (reads ? 3u : 2u)];
		rt->commands++;
		enum target_uart_outcome out = target_an3155_try(s->bl, kind, addr, buf);
		ops_report(s, OPS_PHASE_LINK_TEST, ++*done, total, "commands");
		if (out == TARGET_UART_OK) {
			if (kind == TARGET_UART_TRY_READ && memcmp(buf, ref, sizeof buf) != 0)
				rt->corrupt++;
			continue;
		}
		if (out == TARGET_UART_NACK)
			rt->nacks++;
		else if (out == TARGET_UART_TIMEOUT)
			rt->timeouts++;
		else
			rt->errors++;
		/* a rate this bad is refused already: stop paying a timeout per command */
		if (++failed >= 8 || target_an3155_try_resync(s->bl) < 0) {
			*done += count - i - 1;
			break;
		}
	}
}

static void uart_link(struct ops_session *s, const struct ops_doctor_opts *o, struct ops_doctor_report *r)
{
	struct an3155 *b = s->bl;
	r->uart = true;
	r->uart_per_rate = o->count ? o->count : 60;
	r->uart_session_baud = s->ser->cfg.baud;
	r->uart_family_max_baud = uart_family_max(b->pid);
	bool can_reset = s->seq != NULL;
	r->uart_swept = can_reset;
	/* the rates: the usual ones, and the session's if it is another */
	unsigned list[DOCTOR_UART_RATES];
	size_t n = 0;
	bool have_session = false;
	for (size_t i = 0; i < sizeof uart_rates / sizeof uart_rates[0]; i++) {
		if (!have_session && r->uart_session_baud < uart_rates[i]) {
			list[n++] = r->uart_session_baud;
			have_session = true;
		}
		have_session |= uart_rates[i] == r->uart_session_baud;
		list[n++] = uart_rates[i];
	}
	if (!have_session)
		list[n++] = r->uart_session_baud;
	r->n_rates = n;
	unsigned total = 0;
	for (size_t i = 0; i < n; i++) {
		struct ops_uart_rate *rt = &r->rates[i];
		rt->baud = list[i];
		bool session = list[i] == r->uart_session_baud;
		if (!session && list[i] > r->uart_family_max_baud)
			say(rt->why_not, sizeof rt->why_not, "above the %u baud this family's ROM is known to follow "
			    "(docs/usart.md)", r->uart_family_max_baud);
		else if (!session && !can_reset)
			say(rt->why_not, sizeof rt->why_not, "the ROM keeps the rate of its first 0x7F until it is reset: "
			    "a reset sequence (a fixture wired to NRST and BOOT0) lets doctor reset it between rates");
		else
			rt->tried = true;
		total += rt->tried ? r->uart_per_rate : 0;
	}
	/* the reference read, at the session's rate with the usual retries and confirmation; under read
	 * protection Read Memory is refused (a NACK that is not the line's), so only GET and Get ID run */
	const struct layout_mem *fa = ops_flash_alt(s);
	uint32_t addr = fa && fa->have_layout && fa->layout.n_regions ? fa->layout.regions[0].start : 0x08000000;
	uint8_t ref[AN3155_MAX_BLOCK], again[AN3155_MAX_BLOCK];
	bool reads = s->id.rdp_level <= 0 && target_an3155_read(b, addr, ref, sizeof ref) == 0 &&
	             target_an3155_read(b, addr, again, sizeof again) == 0 && memcmp(ref, again, sizeof ref) == 0;
	r->uart_reads = reads;
	unsigned done = 0;
	for (size_t i = 0; i < n && !ops_canceled(s); i++) {
		struct ops_uart_rate *rt = &r->rates[i];
		if (!rt->tried)
			continue;
		if (can_reset) {
			int rc = target_an3155_restart(s->ser, &s->seq->entry, s->bl, rt->baud);
			rt->synced = rc == 0;
			if (rc < 0) {
				rt->commands = 1;
				if (rc == STM32DFU_E_TIMEOUT)
					rt->timeouts = 1;
				else
					rt->errors = 1;
				done += r->uart_per_rate;
				continue;
			}
		} else {
			rt->synced = true; /* the session opened at this rate */
		}
		uart_measure(s, r->uart_per_rate, addr, ref, reads, rt, &done, total);
		rt->holds = rt->synced && rt->commands == r->uart_per_rate && !rt->nacks && !rt->timeouts && !rt->errors &&
		            !rt->corrupt;
		if (rt->holds)
			r->uart_recommended_baud = rt->baud;
	}
	/* back where the session was: reset and synchronised at its own rate */
	if (can_reset && target_an3155_restart(s->ser, &s->seq->entry, s->bl, r->uart_session_baud) < 0)
		log_warn("doctor: the chip did not answer again at %u baud after the rate test: %s", r->uart_session_baud,
		         b->err.msg);
	for (size_t i = 0; i < n; i++) {
		r->transfers += r->rates[i].commands;
		r->failures += r->rates[i].nacks + r->rates[i].timeouts + r->rates[i].errors;
	}
}

static void diagnose_uart(struct ops_doctor_report *r)
{
	char text[512], advice[512];
	const struct ops_uart_rate *session = NULL, *best = NULL;
	for (size_t i = 0; i < r->n_rates; i++) {
		if (r->rates[i].baud == r->uart_session_baud)
			session = &r->rates[i];
		if (r->rates[i].holds)
			best = &r->rates[i];
	}
	/* what "holds" means, said once with the numbers */
	char crit[200];
	say(crit, sizeof crit, "a rate holds when the ROM answers 0x7F there and all %u commands (%s) come back right: "
	    "no NACK, no timeout%s", r->uart_per_rate,
	    r->uart_reads ? "GET, Get ID and a 256-byte Read Memory in turn"
	                  : "GET and Get ID in turn: read protection refuses Read Memory",
	    r->uart_reads ? ", the same data" : "");
	if (!r->uart_swept) {
		say(text, sizeof text, "only %u baud was measured: the ROM keeps the rate of its first 0x7F until it is "
		    "reset", r->uart_session_baud);
		finding(r, DOCTOR_NOTE, "uart_rates", text,
		        "give {@reset-seq} (a fixture wiring DTR/RTS to NRST/BOOT0) to measure every rate, or reset the "
		        "board and run {@doctor-baud} for each rate");
	}
	if (!best) {
		r->link_bad = true;
		say(text, sizeof text, "no rate tried holds over this serial link (%s)", crit);
		finding(r, DOCTOR_BAD, "uart_link", text,
		        "check the wiring (the adapter's TX to the chip's RX, RX to TX, a common GND, 3.3 V levels), "
		        "shorten the cable, and try {@baud 57600} or lower");
		return;
	}
	const struct ops_uart_rate *fastest_tried = NULL;
	for (size_t i = 0; i < r->n_rates; i++)
		if (r->rates[i].tried)
			fastest_tried = &r->rates[i];
	say(text, sizeof text, "the fastest rate that holds is %u baud (%s)", best->baud, crit);
	if (fastest_tried && fastest_tried != best) {
		size_t k = strlen(text);
		say(text + k, sizeof text - k, "; %u baud does not: %u of %u commands NACKed, %u timed out%s",
		    fastest_tried->baud, fastest_tried->nacks, fastest_tried->commands, fastest_tried->timeouts,
		    fastest_tried->synced ? "" : ", no answer to 0x7F");
	}
	say(advice, sizeof advice, "use {@baud %u} for this board on this link", best->baud);
	bool session_bad = session && session->tried && !session->holds;
	finding(r, session_bad ? DOCTOR_WARN : DOCTOR_OK, "uart_link", text, advice);
}

int ops_doctor(struct ops_session *s, const struct ops_doctor_opts *o, struct ops_doctor_report *r)
{
	if (!ops_dfuse(s)) {
		/* over USART: the rates that hold, and the chip's checks; nothing about USB */
		memset(r, 0, sizeof *r);
		err_clear(&s->err);
		ops_identify(s);
		uart_link(s, o, r);
		if (ops_canceled(s))
			return s->err.code;
		diagnose_uart(r);
		diagnose_chip(s, r);
		return 0;
	}
	memset(r, 0, sizeof *r);
	err_clear(&s->err);
	ops_identify(s);
	struct sim_device *sim = target_usb_sim_device(s->tp);
	if (sim) {
		struct sim_clock_report cr;
		sim_clock_report(sim, &cr);
		if (cr.hse_hz > 0 || cr.usb_error_ppm != 0) {
			r->have_sim_clock = true;
			r->sim_hsi_error_pct = cr.hsi_error_pct;
			r->sim_detected_hz = cr.detected_hse_hz;
			r->sim_usb_error_ppm = cr.usb_error_ppm;
			if (cr.hse_hz > 0 && !o->have_hse) {
				r->have_hse = true;
				r->hse_hz = cr.hse_hz;
			}
		}
	}
	/* what doctor found before: a crystal given once stays this board's crystal until another is given */
	struct ops_link_note prev;
	ops_link_note_read(s, &prev);
	if (o->have_hse) {
		r->have_hse = true;
		r->hse_hz = o->hse_hz;
	} else if (!r->have_hse && prev.hse_hz > 0) {
		r->have_hse = true;
		r->hse_hz = prev.hse_hz;
		r->hse_remembered = true;
	}
	if (r->have_hse) {
		chip_hse_safe_band(r->hse_hz, &r->safe_lo_pct, &r->safe_hi_pct);
		r->misdetect_usb_error_pct = chip_hse_usb_error_pct(r->hse_hz, r->hse_hz - 1e6);
	}
	link_test(s, o->count ? o->count : 200, r);
	diagnose_link(r);
	diagnose_hse_margin(r);
	diagnose_chip(s, r);
	/* the verdict and what is remembered are one thing */
	r->link_marginal = r->link_bad || hse_margin_thin(r);
	diagnose_usart(s, r);
	struct ops_link_note note = {
		.reason = r->link_bad ? OPS_LINK_ERRORS : r->link_marginal ? OPS_LINK_THIN_HSE : OPS_LINK_HEALTHY,
		.hse_hz = r->have_hse ? r->hse_hz : 0,
	};
	/* remembered per board: later commands confirm their reads (or stop doing so) */
	struct err ne;
	err_clear(&ne);
	r->link_noted = ops_link_note_record(s, &note, &ne) == 0;
	s->link_marginal = r->link_marginal;
	if (!r->link_noted)
		log_warn("%s", ne.msg);
	return 0;
}
