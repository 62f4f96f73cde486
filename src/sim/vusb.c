/*
 * The virtual-USB adapter (see vusb.h and ../shared/reference/virtual-usb.md).
 *
 * Model: a port (1-1, 1-2, ...) holds one sim device; each enumeration of it is a "plug" with its
 * own device number, /dev node and ioctl handler. When the device leaves the bus (reset, leave,
 * unplug) its plug is marked gone at once, so that clients still holding the old fd get their
 * completed URBs and then ENODEV (as the kernel does with CAP_REAP_AFTER_DISCONNECT); the sysfs
 * removal and the re-plug run as jobs on our timer thread, never as sleeps in the ioctl handler.
 */
#include "sim/vusb.h"
#include "sim/vusb_int.h"

#include <errno.h>
#include <glib.h>
#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <umockdev.h>

#include "core/clock.h"
#include "core/log.h"
#include "sim/sim.h"

#define VUSB_PRELOAD "libumockdev-preload.so.0"

void vusb_seterr(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!errbuf || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/* ---- plugging (timer thread, or before any client runs) --------------------------------- */

void vusb_schedule(struct vusb *v, unsigned ms, GSourceFunc fn, gpointer data)
{
	GSource *src = ms ? g_timeout_source_new(ms) : g_idle_source_new();
	g_source_set_callback(src, fn, data, NULL);
	g_source_attach(src, v->ctx);
	g_source_unref(src);
}

/* Enumerates the port's device at a new device number (a re-plugged device never gets its old
 * one back, as on real USB; and umockdev cannot re-attach a node it still serves). Lock held. */
static bool vusb_plug_in(struct vusb_port *p, char *errbuf, size_t errlen)
{
	struct vusb *v = p->v;
	GError *gerr = NULL;
	unsigned devnum = v->next_devnum++;
	if (v->next_devnum > 127)
		v->next_devnum = 2;
	/* the kernel configures the device on enumeration (usb_set_configuration) */
	uint8_t setup[8] = {USB_RT_STD_OUT_DEVICE, USB_REQ_SET_CONFIGURATION, 1, 0, 0, 0, 0, 0};
	uint8_t dummy[1];
	uint16_t actual;
	struct usb_setup s = {setup[0], setup[1], 1, 0, 0};
	p->info.enum_transfers++;
	(void)sim_control(p->dev, &s, dummy, &actual);

	char *rec = vusb_sysfs_record(p->dev, p->sysname, devnum, &p->info.enum_transfers);
	if (!rec) {
		vusb_seterr(errbuf, errlen, "port %s: the model gave no device and configuration descriptors",
		            p->sysname);
		return false;
	}
	struct vusb_plug *pl = g_new0(struct vusb_plug, 1);
	pl->port = p;
	pl->devnum = devnum;
	snprintf(pl->devnode, sizeof pl->devnode, "/dev/bus/usb/001/%03u", devnum);
	/* device numbers wrap after 127: the plug that had this node left the bus 125 plugs ago, and
	 * only now is its handler taken off (see vusb_unplug_sysfs) */
	for (struct vusb_plug *old = v->plugs; old; old = old->next)
		if (!old->detached && old->gone && strcmp(old->devnode, pl->devnode) == 0) {
			umockdev_testbed_detach_ioctl(v->tb, old->devnode, NULL);
			old->detached = true;
		}
	pl->handler = umockdev_ioctl_base_new();
	g_signal_connect(pl->handler, "handle-ioctl", G_CALLBACK(vusb_on_ioctl), pl);
	pl->next = v->plugs;
	v->plugs = pl;
	/* serve the node before announcing it: a hotplug listener may open it at once */
	if (!umockdev_testbed_attach_ioctl(v->tb, pl->devnode, pl->handler, &gerr) ||
	    !umockdev_testbed_add_from_string(v->tb, rec, &gerr)) {
		vusb_seterr(errbuf, errlen, "port %s: %s", p->sysname, gerr ? gerr->message : "umockdev failed");
		g_clear_error(&gerr);
		g_free(rec);
		pl->gone = true;
		return false; /* the handler stays attached until vusb_free detaches it */
	}
	g_free(rec);
	p->cur = pl;
	p->info.devnum = devnum;
	p->info.plugs++;
	log_debug("vusb: %s plugged in as %s", p->sysname, pl->devnode);
	return true;
}

/* Takes a plug off the testbed: "remove" uevent first (it reads the properties from sysfs),
 * then the sysfs entry and its node. The node's ioctl handler stays attached (until vusb_free, or
 * until its device number comes round again): a client that opened the node just before it went
 * has connected to the handler's socket, and detaching closes that socket with the connection
 * still in its listen backlog, which resets it; the preload library then aborts the client
 * ("Error communicating with ioctl socket, errno: 104", SIGABRT). Attached, the handler accepts
 * it and answers ENODEV, as the kernel does for a device that left while its node was being
 * opened. Lock held. */
static void vusb_unplug_sysfs(struct vusb_port *p, struct vusb_plug *pl)
{
	umockdev_testbed_uevent(p->v->tb, p->syspath, "remove");
	umockdev_testbed_remove_device(p->v->tb, p->syspath);
	log_debug("vusb: %s (%s) unplugged", p->sysname, pl->devnode);
}

static gboolean vusb_job_replug(gpointer data)
{
	struct vusb_port *p = data;
	g_mutex_lock(&p->v->lock);
	p->replug_pending = false;
	if (!p->v->stopped && !p->pulled && !p->cur && sim_reconnect(p->dev)) {
		char err[256];
		if (!vusb_plug_in(p, err, sizeof err))
			log_msg(LOG_ERROR, "vusb: re-plug failed: %s", err);
	}
	g_mutex_unlock(&p->v->lock);
	return G_SOURCE_REMOVE;
}

/* The device left the bus: remove it, and if it is only resetting, bring it back when the model
 * says it re-enumerates. */
gboolean vusb_job_leave_bus(gpointer data)
{
	struct vusb_plug *pl = data;
	struct vusb_port *p = pl->port;
	struct vusb *v = p->v;
	g_mutex_lock(&v->lock);
	if (!v->stopped) {
		vusb_unplug_sysfs(p, pl);
		if (!p->pulled && !p->replug_pending && sim_link_state(p->dev) == SIM_LINK_RESETTING) {
			uint64_t now = clock_now_us(clock_real()), at = sim_reconnect_at_us(p->dev);
			uint64_t ms = at > now ? (at - now + 999) / 1000 : 0;
			p->replug_pending = true;
			vusb_schedule(v, (unsigned)(ms > 60000 ? 60000 : ms), vusb_job_replug, p);
		}
	}
	g_mutex_unlock(&v->lock);
	return G_SOURCE_REMOVE;
}

static gboolean vusb_job_pull(gpointer data)
{
	struct vusb_port *p = data;
	g_mutex_lock(&p->v->lock);
	if (!p->v->stopped && !p->pulled) {
		p->pulled = true;
		sim_unplug(p->dev);
		if (p->cur) {
			struct vusb_plug *pl = p->cur;
			pl->gone = true;
			p->cur = NULL;
			vusb_unplug_sysfs(p, pl);
		}
	}
	g_mutex_unlock(&p->v->lock);
	return G_SOURCE_REMOVE;
}

/* Link changes the model makes with time alone, without a transfer to notice them. */
static gboolean vusb_job_poll(gpointer data)
{
	struct vusb *v = data;
	g_mutex_lock(&v->lock);
	if (!v->stopped)
		for (int i = 0; i < v->nports; i++)
			vusb_check_link(v->ports[i]);
	g_mutex_unlock(&v->lock);
	return G_SOURCE_CONTINUE;
}

static gpointer vusb_thread(gpointer data)
{
	struct vusb *v = data;
	g_main_context_push_thread_default(v->ctx);
	g_main_loop_run(v->loop);
	g_main_context_pop_thread_default(v->ctx);
	return NULL;
}

/* ---- public ----------------------------------------------------------------------------- */

int vusb_ensure_preload(char **argv, char *errbuf, size_t errlen)
{
	/* Not umockdev_in_mock_environment(): it caches its first answer (pitfall 1). */
	const char *pre = getenv("LD_PRELOAD");
	if (pre && strstr(pre, "libumockdev-preload"))
		return 0;
	if (getenv("VUSB_REEXECED")) {
		vusb_seterr(errbuf, errlen, "LD_PRELOAD=%s did not survive the re-exec", VUSB_PRELOAD);
		return -1;
	}
	char *val = pre && *pre ? g_strdup_printf("%s:%s", VUSB_PRELOAD, pre) : g_strdup(VUSB_PRELOAD);
	setenv("LD_PRELOAD", val, 1);
	setenv("VUSB_REEXECED", "1", 1);
	g_free(val);
	execv("/proc/self/exe", argv);
	vusb_seterr(errbuf, errlen, "cannot re-exec under %s: %s", VUSB_PRELOAD, g_strerror(errno));
	return -1;
}

struct vusb *vusb_new(char *errbuf, size_t errlen)
{
	struct vusb *v = g_new0(struct vusb, 1);
	GError *gerr = NULL;
	unsetenv("VUSB_REEXECED");
	g_mutex_init(&v->lock);
	v->tb = umockdev_testbed_new();
	if (!v->tb) {
		vusb_seterr(errbuf, errlen, "cannot create the umockdev testbed");
		g_free(v);
		return NULL;
	}
	if (!vusb_sysfs_add_root_hub(v->tb, VUSB_MAX_PORTS, &gerr)) {
		vusb_seterr(errbuf, errlen, "root hub: %s", gerr ? gerr->message : "umockdev failed");
		g_clear_error(&gerr);
		g_object_unref(v->tb);
		g_free(v);
		return NULL;
	}
	v->next_devnum = 2;
	v->ctx = g_main_context_new();
	v->loop = g_main_loop_new(v->ctx, FALSE);
	v->thread = g_thread_new("vusb-timers", vusb_thread, v);
	vusb_schedule(v, VUSB_LINK_POLL_MS, vusb_job_poll, v);
	return v;
}

int vusb_add(struct vusb *v, struct sim_device *dev, char *errbuf, size_t errlen)
{
	if (v->nports >= VUSB_MAX_PORTS) {
		vusb_seterr(errbuf, errlen, "at most %d virtual devices", VUSB_MAX_PORTS);
		return -1;
	}
	struct vusb_port *p = g_new0(struct vusb_port, 1);
	p->v = v;
	p->dev = dev;
	p->index = v->nports;
	snprintf(p->sysname, sizeof p->sysname, "1-%d", p->index + 1);
	snprintf(p->syspath, sizeof p->syspath, "/sys" VUSB_PCI_PATH "/usb1/%s", p->sysname);
	snprintf(p->info.port, sizeof p->info.port, "%s", p->sysname);
	g_mutex_lock(&v->lock);
	v->ports[v->nports++] = p;
	bool ok = vusb_plug_in(p, errbuf, errlen);
	g_mutex_unlock(&v->lock);
	return ok ? p->index : -1;
}

void vusb_unplug_after(struct vusb *v, int idx, unsigned ms)
{
	if (idx >= 0 && idx < v->nports)
		vusb_schedule(v, ms, vusb_job_pull, v->ports[idx]);
}

int vusb_count(const struct vusb *v) { return v->nports; }

void vusb_get_info(struct vusb *v, int idx, struct vusb_dev_info *out)
{
	memset(out, 0, sizeof *out);
	if (idx < 0 || idx >= v->nports)
		return;
	g_mutex_lock(&v->lock);
	*out = v->ports[idx]->info;
	g_mutex_unlock(&v->lock);
}

static gboolean vusb_quit_loop(gpointer loop)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

void vusb_stop(struct vusb *v)
{
	if (!v || !v->thread)
		return;
	g_mutex_lock(&v->lock);
	v->stopped = true;
	g_mutex_unlock(&v->lock);
	/* Quit from inside the loop: a g_main_loop_quit() that comes before the thread has entered
	 * g_main_loop_run() is lost, and the join then waits forever (seen under load). */
	GSource *quit = g_idle_source_new();
	g_source_set_callback(quit, vusb_quit_loop, v->loop, NULL);
	g_source_attach(quit, v->ctx);
	g_source_unref(quit);
	g_thread_join(v->thread);
	v->thread = NULL;
}

void vusb_free(struct vusb *v)
{
	if (!v)
		return;
	vusb_stop(v);
	for (struct vusb_plug *pl = v->plugs; pl; pl = pl->next)
		if (!pl->detached)
			umockdev_testbed_detach_ioctl(v->tb, pl->devnode, NULL);
	g_object_unref(v->tb); /* removes the temporary root */
	while (v->plugs) {
		struct vusb_plug *pl = v->plugs;
		v->plugs = pl->next;
		g_object_unref(pl->handler);
		g_free(pl);
	}
	for (int i = 0; i < v->nports; i++)
		g_free(v->ports[i]);
	g_main_loop_unref(v->loop);
	g_main_context_unref(v->ctx);
	g_mutex_clear(&v->lock);
	g_free(v);
}
