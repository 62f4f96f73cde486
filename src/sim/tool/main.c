/*
 * stm32dfu-sim: runs a command against virtual STM32 ROM bootloaders on virtual USB.
 *
 *   stm32dfu-sim [--profile P[,key=value...]]... [--unplug-after MS] -- COMMAND [ARGS]
 *   stm32dfu-sim --uart P[,key=value...]... -- COMMAND [ARGS]
 *
 * Each --profile adds one device (ports 1-1, 1-2, ...; F746 if none is given). The command, and
 * everything it starts, sees them through libusb as real hardware. The exit status is the
 * command's. A profile with state=FILE loads its memories from FILE and saves them back at the
 * end; otherwise the chips live only as long as this program. Each --uart adds a chip whose USART
 * bootloader (AN3155) answers on a pseudo-terminal: the first one's path is in $STM32DFU_TTY, all
 * of them (space-separated) in $STM32DFU_TTYS, for the command.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/file.h"
#include "core/log.h"
#include "sim/sim.h"
#include "sim/sim_uart.h"
#include "sim/vusb.h"
#include "plug.h"
#include "pty.h"

extern char **environ;

#define SIM_TOOL_MAX 32

struct simtool_dev {
	const char *spec;
	char *model_spec; /* spec without state=, which is ours, not the model's */
	char *state;      /* the state=FILE value, or NULL */
	struct sim_profile *profile;
	struct sim_device *dev;
	long unplug_ms; /* -1: never */
	long plug_ms;   /* -1: plugged before the command starts; else --plug's time */
	int vidx;       /* index on the virtual bus, -1 while never plugged */
	struct sim_stats before;
	bool uart;        /* --uart: on a pseudo-terminal, not on virtual USB */
	char tty[64];     /* --uart: its pseudo-terminal's path */
	struct sim_uart *u;
};

static volatile sig_atomic_t simtool_child;
static volatile sig_atomic_t simtool_stop; /* a stop signal came before the command started */

/* Splits "NAME,k=v,state=FILE,..." into the model's spec and the state file (kept in this tool:
 * the state file is a matter of the testbed's lifetime, not of the chip). */
static int simtool_split_spec(struct simtool_dev *d)
{
	size_t n = strlen(d->spec);
	d->model_spec = malloc(n + 1);
	if (!d->model_spec)
		return -1;
	d->model_spec[0] = '\0';
	const char *p = d->spec;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len > 6 && !strncmp(p, "state=", 6)) {
			free(d->state);
			d->state = strndup(p + 6, len - 6);
			if (!d->state)
				return -1;
		} else {
			if (d->model_spec[0])
				strcat(d->model_spec, ",");
			strncat(d->model_spec, p, len);
		}
		p = e ? e + 1 : p + len;
	}
	return 0;
}

/* Passes a signal on to the command. A terminal's ^C (sent by the kernel) reaches the whole
 * process group, the command included, so only signals another process sent are passed on:
 * the command gets each stop request once. */
static void simtool_forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (simtool_child <= 0)
		simtool_stop = sig;
	else if ((sig == SIGTERM || sig == SIGHUP || !si || si->si_code == SI_USER ||
	                          si->si_code == SI_QUEUE))
		kill((pid_t)simtool_child, sig);
}

static void simtool_usage(FILE *f)
{
	fputs("usage: stm32dfu-sim [OPTIONS] -- COMMAND [ARGS...]\n"
	      "Runs COMMAND with virtual STM32 ROM DFU bootloaders on virtual USB; exits with its status.\n"
	      "\n"
	      "      --profile SPEC      add a device: NAME_OR_FILE[,key=value...] (repeatable;\n"
	      "                          default f746); state=FILE keeps its memories in FILE\n"
	      "  -u, --unplug-after MS   pull the device of the preceding --profile (else the first)\n"
	      "                          off the bus MS milliseconds after COMMAND starts\n"
	      "      --plug T:SPEC       plug a device (SPEC as for --profile) T seconds after\n"
	      "                          COMMAND starts (repeatable)\n"
	      "      --unplug T:KEY      at T seconds, pull every plugged device whose serial or\n"
	      "                          UID is KEY off the bus\n"
	      "      --after FILE        the --plug and --unplug times that follow count from when\n"
	      "                          FILE exists, not from COMMAND's start (--after '' ends it)\n"
	      "      --uart SPEC         add a chip whose USART bootloader answers on a pseudo-terminal\n"
	      "                          (repeatable; SPEC as for --profile, with uart_device_id set);\n"
	      "                          $STM32DFU_TTY is the first one's path, $STM32DFU_TTYS all\n"
	      "      --profile-dir DIR   where profile names are looked up\n"
	      "      --stats FILE        write per-device counters (key=value lines) at the end\n"
	      "                          (--uart chips: port=TTY, erases, bytes_programmed, the\n"
	      "                          bytes each way, their wire_us at the rate, busy_us)\n"
	      "  -v, --verbose           log plugging and counters to stderr (-vv: every failed ioctl)\n"
	      "  -h, --help              this text\n"
	      "  -V, --version           version\n",
	      f);
}

/* A --uart chip's line: the bytes each way, their wire time at the host's rate and the flash's
 * busy time. The protocol is half duplex, so wire_us + busy_us is what the exchange takes on the
 * model with a host that answers at once: a host's time on the model, without this machine's
 * scheduling of the pseudo-terminal (bench/uart_vs_stm32flash.sh compares stm32flash by it). */
static void simtool_stats_uart(FILE *f, const struct simtool_dev *d, int i)
{
	struct sim_uart_stats us;
	struct sim_stats s;
	memset(&us, 0, sizeof us);
	if (d->u)
		sim_uart_get_stats(d->u, &us);
	sim_get_stats(d->dev, &s);
	fprintf(f,
	        "device=%d port=%s profile=%s erases=%llu mass_erases=%llu bytes_programmed=%llu "
	        "uart_bytes_in=%llu uart_bytes_out=%llu wire_us=%llu acks=%llu nacks=%llu busy_us=%llu\n",
	        i, d->tty[0] ? d->tty : "-", sim_profile_name(d->profile), (unsigned long long)(s.erases - d->before.erases),
	        (unsigned long long)(s.mass_erases - d->before.mass_erases),
	        (unsigned long long)(s.bytes_programmed - d->before.bytes_programmed),
	        (unsigned long long)us.bytes_in,
	        (unsigned long long)us.bytes_out,
	        (unsigned long long)(d->u ? sim_uart_wire_us(d->u, us.bytes_in + us.bytes_out) : 0),
	        (unsigned long long)us.acks, (unsigned long long)us.nacks,
	        (unsigned long long)(s.busy_us - d->before.busy_us));
}

/* One line per device: the adapter's counters and the model's (since COMMAND started). */
static void simtool_stats(FILE *f, struct vusb *v, struct simtool_dev *d, int n)
{
	for (int i = 0; i < n; i++) {
		struct vusb_dev_info vi;
		struct sim_stats s;
		if (d[i].uart) {
			simtool_stats_uart(f, &d[i], i);
			continue;
		}
		if (d[i].vidx < 0)
			continue;
		vusb_get_info(v, d[i].vidx, &vi);
		sim_get_stats(d[i].dev, &s);
		fprintf(f,
		        "device=%d port=%s profile=%s devnum=%u plugs=%u host_transfers=%llu enum_transfers=%llu "
		        "control_transfers=%llu bytes_in=%llu bytes_out=%llu erases=%llu mass_erases=%llu "
		        "bytes_programmed=%llu busy_us=%llu bus_us=%llu resets=%llu\n",
		        i, vi.port, sim_profile_name(d[i].profile), vi.devnum, vi.plugs,
		        (unsigned long long)vi.host_transfers, (unsigned long long)vi.enum_transfers,
		        (unsigned long long)(s.control_transfers - d[i].before.control_transfers),
		        (unsigned long long)(s.bytes_in - d[i].before.bytes_in),
		        (unsigned long long)(s.bytes_out - d[i].before.bytes_out),
		        (unsigned long long)(s.erases - d[i].before.erases),
		        (unsigned long long)(s.mass_erases - d[i].before.mass_erases),
		        (unsigned long long)(s.bytes_programmed - d[i].before.bytes_programmed),
		        (unsigned long long)(s.busy_us - d[i].before.busy_us),
		        (unsigned long long)(s.bus_us - d[i].before.bus_us),
		        (unsigned long long)(s.resets - d[i].before.resets));
	}
}

/* Runs the command and waits for it; returns its status the way a shell reports it. */
static int simtool_run(char **cmd)
{
	pid_t pid;
	/* every device the command sees is emulated: stm32dfu keeps their records apart from real
	 * chips' (src/ops/recdir.h); other programs ignore it */
	setenv("STM32DFU_EMULATED", "1", 1);
	int rc = posix_spawnp(&pid, cmd[0], NULL, NULL, cmd, environ);
	if (rc) {
		fprintf(stderr, "stm32dfu-sim: %s: %s\n", cmd[0], strerror(rc));
		return rc == ENOENT ? 127 : 126;
	}
	simtool_child = pid;
	if (simtool_stop) /* it came while the command was being started */
		kill(pid, (int)simtool_stop);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "stm32dfu-sim: waitpid: %s\n", strerror(errno));
			return 125;
		}
	}
	simtool_child = 0;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 125;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"profile", required_argument, NULL, 'p'},  {"unplug-after", required_argument, NULL, 'u'},
		{"profile-dir", required_argument, NULL, 'D'}, {"stats", required_argument, NULL, 'S'},
		{"verbose", no_argument, NULL, 'v'},          {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},          {"plug", required_argument, NULL, 'P'},
		{"unplug", required_argument, NULL, 'U'},     {"uart", required_argument, NULL, 'A'},
		{"after", required_argument, NULL, 'W'},      {NULL, 0, NULL, 0},
	};
	struct simtool_dev devs[SIM_TOOL_MAX];
	int ndev = 0, verbose = 0, nuart = 0;
	long first_unplug = -1;
	const char *profile_dir = NULL, *stats_path = NULL;
	char err[512];
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = simtool_forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	/* never ignored: an ignored signal is inherited by the command, which could then not be
	 * stopped; we wait for the command to stop, then clean up */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	int c;
	struct simtool_event events[SIMTOOL_MAX_EVENTS];
	int nev = 0;
	const char *after = NULL; /* --after FILE: the --plug/--unplug times that follow count from it */
	struct simtool_plugdev plugdevs[SIM_TOOL_MAX];

	memset(devs, 0, sizeof devs);
	/* "+": stop at the first non-option, so COMMAND's own options stay its own */
	while ((c = getopt_long(argc, argv, "+u:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (ndev == SIM_TOOL_MAX) {
				fprintf(stderr, "stm32dfu-sim: at most %d devices\n", SIM_TOOL_MAX);
				return 2;
			}
			devs[ndev].spec = optarg;
			devs[ndev].unplug_ms = -1;
			devs[ndev].plug_ms = -1;
			ndev++;
			break;
		case 'A':
			if (ndev == SIM_TOOL_MAX) {
				fprintf(stderr, "stm32dfu-sim: at most %d devices\n", SIM_TOOL_MAX);
				return 2;
			}
			devs[ndev].spec = optarg;
			devs[ndev].unplug_ms = -1;
			devs[ndev].plug_ms = -1;
			devs[ndev].uart = true;
			ndev++;
			nuart++;
			break;
		case 'P':
		case 'U': {
			long ms;
			const char *rest;
			if (!simtool_parse_timed(optarg, &ms, &rest)) {
				fprintf(stderr, "stm32dfu-sim: --%s %s: expected SECONDS:%s\n", c == 'P' ? "plug" : "unplug",
				        optarg, c == 'P' ? "PROFILE[,key=value...]" : "SERIAL_OR_UID");
				return 2;
			}
			if (nev == SIMTOOL_MAX_EVENTS || (c == 'P' && ndev == SIM_TOOL_MAX)) {
				fprintf(stderr, "stm32dfu-sim: at most %d devices and %d plug events\n", SIM_TOOL_MAX,
				        SIMTOOL_MAX_EVENTS);
				return 2;
			}
			struct simtool_event *ev = &events[nev++];
			memset(ev, 0, sizeof *ev);
			ev->ms = ms;
			ev->after = after;
			ev->plug = c == 'P';
			if (c == 'P') {
				devs[ndev].spec = rest;
				devs[ndev].unplug_ms = -1;
				devs[ndev].plug_ms = ms;
				ev->dev = ndev++;
			} else {
				snprintf(ev->key, sizeof ev->key, "%s", rest);
			}
			break;
		}
		case 'u': {
			char *end;
			errno = 0;
			long ms = strtol(optarg, &end, 10);
			if (errno || *end || ms < 0 || ms > 86400000L) {
				fprintf(stderr, "stm32dfu-sim: --unplug-after: '%s' is not a time in milliseconds\n",
				        optarg);
				return 2;
			}
			if (ndev)
				devs[ndev - 1].unplug_ms = ms;
			else
				first_unplug = ms;
			break;
		}
		case 'W':
			after = *optarg ? optarg : NULL;
			break;
		case 'D':
			profile_dir = optarg;
			break;
		case 'S':
			stats_path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			simtool_usage(stdout);
			return 0;
		case 'V':
			printf("stm32dfu-sim %s\n", STM32DFU_VERSION);
			return 0;
		default:
			if (optopt == 'p')
				fputs("stm32dfu-sim: -p is stm32dfu's USB path selector; a profile is --profile SPEC here\n",
				      stderr);
			simtool_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs("stm32dfu-sim: no COMMAND given (put it after --)\n", stderr);
		simtool_usage(stderr);
		return 2;
	}
	/* chips on pseudo-terminals only: no virtual USB, no preload */
	bool usb = ndev == 0 || ndev > nuart;
	if (usb && vusb_ensure_preload(argv, err, sizeof err) < 0) {
		fprintf(stderr, "stm32dfu-sim: %s\n", err);
		return 125;
	}
	if (verbose)
		log_set_level(verbose > 1 ? LOG_TRACE : LOG_DEBUG);
	/* Each emulated ioctl ends in a usleep(0) in the preload library; the default 50 us timer
	 * slack made that the main cost (virtual-usb.md, pitfall 7). Children inherit the setting. */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

	if (!ndev) {
		devs[0].spec = "f746";
		devs[0].unplug_ms = -1;
		devs[0].plug_ms = -1;
		ndev = 1;
	}
	for (int i = 0; i < ndev; i++)
		devs[i].vidx = -1;
	if (first_unplug >= 0 && devs[0].unplug_ms < 0)
		devs[0].unplug_ms = first_unplug;

#ifdef SIMTOOL_SOURCE_PROFILES
	/* Run from the build tree with nothing configured: the source tree's profiles. */
	if (!profile_dir && !getenv("STM32DFU_PROFILE_DIR") && access(SIMTOOL_SOURCE_PROFILES, R_OK) == 0)
		profile_dir = SIMTOOL_SOURCE_PROFILES;
#endif
	int status = 125;
	struct simtool_pty ptys[SIM_TOOL_MAX];
	int npty = 0;
	struct simtool_ptyserver *ptyserver = NULL;
	char ttys[SIM_TOOL_MAX * 64] = "";
	struct vusb *v = NULL;
	for (int i = 0; i < ndev; i++) {
		if (simtool_split_spec(&devs[i]) < 0) {
			fputs("stm32dfu-sim: out of memory\n", stderr);
			goto out;
		}
		devs[i].profile = sim_profile_load(devs[i].model_spec, profile_dir, err, sizeof err);
		if (!devs[i].profile) {
			fprintf(stderr, "stm32dfu-sim: profile '%s': %s\n", devs[i].spec, err);
			goto out;
		}
		devs[i].dev = sim_device_new(devs[i].profile, clock_real(), err, sizeof err);
		if (!devs[i].dev) {
			fprintf(stderr, "stm32dfu-sim: profile '%s': %s\n", devs[i].spec, err);
			goto out;
		}
		const char *state = devs[i].state;
		if (state && sim_state_load(devs[i].dev, state, err, sizeof err) < 0) {
			fprintf(stderr, "stm32dfu-sim: state file %s: %s\n", state, err);
			goto out;
		}
	}
	for (int i = 0; i < ndev; i++) {
		if (!devs[i].uart)
			continue;
		devs[i].u = sim_uart_new(devs[i].dev, devs[i].profile, err, sizeof err);
		if (!devs[i].u || simtool_pty_open(&ptys[npty], devs[i].u, err, sizeof err) < 0) {
			fprintf(stderr, "stm32dfu-sim: --uart '%s': %s\n", devs[i].spec, err);
			goto out;
		}
		snprintf(devs[i].tty, sizeof devs[i].tty, "%s", ptys[npty].path);
		if (!npty)
			setenv("STM32DFU_TTY", ptys[npty].path, 1);
		size_t tl = strlen(ttys), pl = strlen(ptys[npty].path);
		if (tl + pl + 2 < sizeof ttys) { /* 32 paths of under 64 bytes always fit */
			if (tl)
				ttys[tl++] = ' ';
			memcpy(ttys + tl, ptys[npty].path, pl + 1);
		}
		npty++;
	}
	if (npty) {
		setenv("STM32DFU_TTYS", ttys, 1);
		if (!(ptyserver = simtool_pty_serve(ptys, npty))) {
			fputs("stm32dfu-sim: cannot start the pseudo-terminal server\n", stderr);
			goto out;
		}
	}
	v = usb ? vusb_new(err, sizeof err) : NULL;
	if (usb && !v) {
		fprintf(stderr, "stm32dfu-sim: %s\n", err);
		goto out;
	}
	for (int i = 0; i < ndev; i++) {
		if (devs[i].plug_ms >= 0 || devs[i].uart)
			continue; /* --plug: later; --uart: not on the bus */
		if ((devs[i].vidx = vusb_add(v, devs[i].dev, err, sizeof err)) < 0) {
			fprintf(stderr, "stm32dfu-sim: device %d (%s): %s\n", i + 1, devs[i].spec, err);
			goto out;
		}
	}
	/* Counters start with the command: enumeration by the adapter is not the command's work. */
	for (int i = 0; i < ndev; i++) {
		sim_get_stats(devs[i].dev, &devs[i].before);
		if (devs[i].unplug_ms >= 0 && devs[i].vidx >= 0)
			vusb_unplug_after(v, devs[i].vidx, (unsigned)devs[i].unplug_ms);
		plugdevs[i] = (struct simtool_plugdev){devs[i].dev, devs[i].profile, devs[i].vidx};
	}
	struct simtool_sched *sched = NULL;
	if (nev && !(sched = simtool_sched_start(v, plugdevs, ndev, events, nev))) {
		fputs("stm32dfu-sim: cannot start the plug timer\n", stderr);
		goto out;
	}

	if (simtool_stop) {
		/* stopped while the testbed was being set up: the command never ran */
		fprintf(stderr, "stm32dfu-sim: stopped by signal %d before the command started\n", (int)simtool_stop);
		status = 128 + (int)simtool_stop;
	} else {
		status = simtool_run(argv + optind);
	}

	simtool_sched_stop(sched);
	simtool_pty_stop(ptyserver);
	ptyserver = NULL;
	for (int i = 0; i < ndev; i++)
		devs[i].vidx = plugdevs[i].vidx;
	if (v)
		vusb_stop(v);

	if (verbose)
		simtool_stats(stderr, v, devs, ndev);
	if (stats_path) {
		struct file_out f;
		struct err e;
		err_clear(&e);
		if (file_out_open(&f, stats_path, 0666, &e) == 0) {
			simtool_stats(f.f, v, devs, ndev);
			file_out_commit(&f, &e);
		}
		if (e.code)
			fprintf(stderr, "stm32dfu-sim: --stats: %s\n", e.msg);
	}
	for (int i = 0; i < ndev; i++) {
		const char *state = devs[i].state;
		if (state && sim_state_save(devs[i].dev, state, err, sizeof err) < 0) {
			fprintf(stderr, "stm32dfu-sim: state file %s: %s\n", state, err);
			if (!status)
				status = 125;
		}
	}
out:
	simtool_pty_stop(ptyserver);
	for (int i = 0; i < npty; i++)
		simtool_pty_close(&ptys[i]);
	vusb_free(v);
	for (int i = 0; i < ndev; i++) {
		sim_uart_free(devs[i].u);
		if (devs[i].dev)
			sim_device_free(devs[i].dev);
		if (devs[i].profile)
			sim_profile_free(devs[i].profile);
		free(devs[i].model_spec);
		free(devs[i].state);
	}
	return status;
}
