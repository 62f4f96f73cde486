/* Opening a session over the USART bootloader (session_uart.h). */
#include "ops/session_uart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ops/recdir.h"
#include "ops/rescue.h"
#include "sim/sim_uart.h"
#include "target/an3155_link.h"
#include "target/dfuse_link.h"

/* --sim=PROFILE,...,link=uart: the emulated chip behind its USART bootloader. Copies the spec
 * without the link key into rest; *uart tells which link it named (usb when none). With state
 * non-NULL, a state=FILE key goes there too (the USB door splits its own). */
int ops_sim_link(const char *spec, char *rest, size_t cap, bool *uart, char *state, size_t state_cap,
                    struct err *e)
{
	*uart = false;
	if (state)
		state[0] = '\0';
	size_t k = 0;
	rest[0] = '\0';
	for (const char *p = spec; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (state && p != spec && len > 6 && strncmp(p, "state=", 6) == 0) {
			if (len - 6 >= state_cap)
				return err_set(e, STM32DFU_E_USAGE, "{@sim}: the state file's path is too long");
			memcpy(state, p + 6, len - 6);
			state[len - 6] = '\0';
		} else if (len > 5 && strncmp(p, "link=", 5) == 0) {
			if (len == 9 && strncmp(p + 5, "uart", 4) == 0)
				*uart = true;
			else if (!(len == 8 && strncmp(p + 5, "usb", 3) == 0))
				return err_set(e, STM32DFU_E_USAGE, "{@sim}: link=%.*s: the link is usb or uart", (int)(len - 5),
				               p + 5);
		} else if (k + len + 2 < cap) {
			if (k)
				rest[k++] = ',';
			memcpy(rest + k, p, len);
			k += len;
			rest[k] = '\0';
		} else {
			return err_set(e, STM32DFU_E_USAGE, "{@sim}: the profile spec is too long");
		}
		p = end ? end + 1 : p + len;
	}
	return 0;
}

/* Builds the session's memory map from the target's regions (one memory per region, numbered
 * as the user names it with --alt), so that ops/ plans, checks ranges and names memories the same
 * way on both links; made again in place when there is one (callers keep their pointer to it). */
static int uart_map(struct ops_session *s, struct err *e)
{
	if (!s->map_own && !(s->map_own = calloc(1, sizeof *s->map_own)))
		return err_set(e, STM32DFU_E_NO_MEMORY, "out of memory");
	s->map = s->map_own;
	return target_map_build(s->t, s->map_own, e);
}

int ops_uart_remap(struct ops_session *s)
{
	if (s->link != OPS_LINK_UART || !s->map_own || !s->t)
		return 0;
	/* the target made its map again at the reset (target_an3155.c after_reset): the option bytes
	 * it read may choose another bank mode (F76x nDBANK, G4 DBANK, G0B1 DUAL_BANK) */
	struct target_region reg[TARGET_MAX_REGIONS];
	size_t n = 0;
	if (s->t->ops->regions(s->t, reg, TARGET_MAX_REGIONS, &n) < 0) {
		/* the bank mode cannot be read now (read protection raised): the map stays as it was */
		log_info("the memory map after the reset: %s; the map before it is kept", s->t->err.msg);
		return 0;
	}
	struct layout_map *keep = malloc(sizeof *keep);
	if (!keep)
		return err_set(&s->err, STM32DFU_E_NO_MEMORY, "out of memory");
	*keep = *s->map_own;
	struct err e;
	err_clear(&e);
	int rc = uart_map(s, &e);
	if (rc < 0) {
		*s->map_own = *keep;
		s->err = e;
	} else if (keep->n && strcmp(keep->mem[0].name, s->map->mem[0].name) != 0) {
		log_info("the flash's map changed at the reset (its bank mode): %s, was %s", s->map->mem[0].name,
		         keep->mem[0].name);
	}
	free(keep);
	return rc;
}

/* The state file a --sim chip is kept in by default (tp_sim.c's rule): the same file whichever
 * door (USB or USART) the chip is reached through, so that both see one chip. */
static int default_state(struct ops_session *s, const char *spec, const char *profile_dir, struct err *e)
{
	char eb[256];
	struct sim_profile *p = sim_profile_load(spec[0] ? spec : OPS_DEFAULT_SIM_PROFILE, profile_dir, eb, sizeof eb);
	if (!p)
		return err_set(e, STM32DFU_E_USAGE, "emulator profile '%s': %s", spec, eb);
	if (sim_state_default_path(p, s->uart_state, sizeof s->uart_state)) {
		char dir[1024];
		int rc = file_state_dir("sim", dir, sizeof dir, e);
		if (rc < 0) {
			s->uart_state[0] = '\0';
			sim_profile_free(p);
			return err_prefix(e, "sim state");
		}
	}
	sim_profile_free(p);
	return 0;
}

/* The USART bootloader (AN3155): the port (or the emulator's USART door), a trace when asked,
 * 0x7F and GET/Get Version/Get ID, then the target and its memory map (target/an3155_link.h). */
int ops_open_uart(struct ops_session *s, const struct ops_open_opts *o, const char *sim_rest, struct err *e)
{
	s->link = OPS_LINK_UART;
	unsigned baud = o->baud ? o->baud : SER_BAUD_DEFAULT;
	struct ser *raw = NULL;
	int rc;
	char prof[512];
	const struct clock *clk = o->clock;
	if (sim_rest) {
		if ((rc = ops_sim_link(sim_rest, prof, sizeof prof, &(bool){false}, s->uart_state, sizeof s->uart_state, e)) < 0)
			return rc;
		sim_rest = prof;
		if (!s->uart_state[0] && o->sim_persist && (rc = default_state(s, sim_rest, o->profile_dir, e)) < 0)
			return rc;
		if (!clk) {
			clock_fake_init(&s->uart_sim_clock);
			clk = &s->uart_sim_clock.clock;
		}
	}
	bool refused = false;
	rc = target_an3155_port(sim_rest ? NULL : o->port, baud, sim_rest && sim_rest[0] ? sim_rest : OPS_DEFAULT_SIM_PROFILE,
	                        o->profile_dir, clk, s->uart_state, &raw, &refused, e);
	if (refused)
		s->uart_state[0] = '\0'; /* never overwrite a file that could not be read */
	if (rc < 0)
		return rc;
	s->uart_sim = sim_rest != NULL;
	FILE *log = NULL;
	if (o->trace_path) {
		if ((rc = file_out_open(&s->trace_out, o->trace_path, 0666, e)) < 0) {
			target_an3155_port_close(raw);
			return err_prefix(e, "{@trace} %s", o->trace_path);
		}
		s->trace_open = true;
		log = s->trace_out.f;
		fprintf(log, "# stm32dfu serial trace: %s at %u baud, 8E1\n", raw->name, baud);
	}
	s->ser_raw = raw;
	struct target_uart_link link = {0};
	rc = target_an3155_connect(raw, log, o->retries, s->seq ? &s->seq->entry : NULL,
	                           sim_rest ? "the emulator's USART" : raw->name, baud, &link, e);
	s->ser = link.ser;
	s->bl = link.bl;
	s->t = link.t;
	if (rc < 0)
		return rc;
	ops_info_refresh(s);
	return uart_map(s, e);
}

/* The USART session after the bootloader answered: the recovery folder (an emulated chip that is
 * not kept has none, as on USB), and -S by UID (the chip is asked: there is no USB serial). */
int ops_open_uart_rest(struct ops_session *s, const struct ops_open_opts *o, const struct chip_selector *sel,
                          struct ops_session **out, struct err *e)
{
	s->t0_us = clock_now_us(ops_clock(s));
	if (o->rescue_dir) {
		snprintf(s->rescue_dir, sizeof s->rescue_dir, "%s", o->rescue_dir);
	} else if (!o->sim_spec || s->uart_state[0]) {
		/* a kept --sim chip keeps its files beside its state file; one behind stm32dfu-sim's
		 * pseudo-terminal apart from real chips' */
		char sim_dir[1024];
		const char *state = s->uart_state[0] ? s->uart_state : NULL;
		if (!state && ops_usb_emulated() && ops_state_folder("sim/chip", sim_dir, sizeof sim_dir))
			state = sim_dir;
		struct err de;
		err_clear(&de);
		if (rescue_dir(state, s->rescue_dir, sizeof s->rescue_dir, &de) < 0) {
			s->rescue_dir[0] = '\0';
			snprintf(s->rescue_why, sizeof s->rescue_why, "%.200s", de.msg);
		}
	}
	if (sel) {
		ops_identify(s);
		if (sel->kind != CHIP_SEL_UID || !chip_selector_matches(sel, NULL, s->id.has_uid ? s->id.uid : NULL)) {
			bool uid = sel->kind == CHIP_SEL_UID;
			ops_close(s);
			err_set(e, STM32DFU_E_NO_DEVICE, "{@sel}: the chip on the serial port %s", uid ? "has another UID" :
			        "has no USB serial: select it by its 24-digit UID");
			if (o->port)
				err_hint(e, "{@info-port %s} shows its UID", o->port);
			else
				err_hint(e, "{@info} shows its UID");
			return STM32DFU_E_NO_DEVICE;
		}
	}
	*out = s;
	return 0;
}

