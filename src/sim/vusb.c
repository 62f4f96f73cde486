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

#define VUSB_MAX_PORTS 32
#define VUSB_PRELOAD "libumockdev-preload.so.0"
/* How often the timer thread looks for link changes the model makes on its own (a chip that
 * resets some time after its last answer). Cheap: one mutex and one state read per port. */
#define VUSB_LINK_POLL_MS 5

struct vusb_port;

/* One enumeration of a device: one devnum, one /dev node, one handler. Freed with the testbed,
 * because clients of an old plug may still send ioctls to it. */
struct vusb_plug {
	struct vusb_port *port;
	unsigned devnum;
	char devnode[32];
	UMockdevIoctlBase *handler;
	bool gone;     /* off the bus for its clients */
	bool detached; /* off the testbed (sysfs entry and handler removed) */
	struct vusb_plug *next;
};

struct vusb_port {
	struct vusb *v;
	int index;
	struct sim_device *dev;
	char sysname[16];
	char syspath[96]; /* as umockdev names it: /sys/devices/... */
	struct vusb_plug *cur; /* NULL while off the bus */
	bool pulled;           /* unplugged for good (--unplug-after) */
	bool replug_pending;
	struct vusb_dev_info info;
};

struct vusb {
	UMockdevTestbed *tb;
	GMutex lock; /* guards everything below and every sim device */
	GMainContext *ctx;
	GMainLoop *loop;
	GThread *thread;
	struct vusb_port *ports[VUSB_MAX_PORTS];
	int nports;
	unsigned next_devnum;
	struct vusb_plug *plugs;
	bool stopped;
};

/* A URB a client submitted, from submit to reap. */
struct vusb_urb {
	UMockdevIoctlData *urb; /* the resolved struct usbdevfs_urb (our reference) */
	UMockdevIoctlData *buf; /* its resolved buffer: setup packet + data */
	int status;
	int actual;
	uint64_t ready_us; /* not reapable before: the transfer's full-speed bus time has passed */
	uint8_t *reply;    /* IN data, copied into buf at reap time (pitfall 4: flush once) */
};

/* Per open fd (umockdev client): URBs in flight and completed. */
struct vusb_client {
	GQueue pending; /* no answer yet (SIM_NO_ANSWER): the host will discard them */
	GQueue done;
};

static void vusb_seterr(char *errbuf, size_t errlen, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void vusb_seterr(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!errbuf || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

static void vusb_urb_free(gpointer p)
{
	struct vusb_urb *u = p;
	if (!u)
		return;
	if (u->urb)
		umockdev_ioctl_data_unref(u->urb);
	if (u->buf)
		umockdev_ioctl_data_unref(u->buf);
	g_free(u->reply);
	g_free(u);
}

static void vusb_client_free(gpointer p)
{
	struct vusb_client *c = p;
	g_queue_clear_full(&c->pending, vusb_urb_free);
	g_queue_clear_full(&c->done, vusb_urb_free);
	g_free(c);
}

static struct vusb_client *vusb_client_of(UMockdevIoctlClient *client)
{
	struct vusb_client *c = g_object_get_data(G_OBJECT(client), "vusb-client");
	if (!c) {
		c = g_new0(struct vusb_client, 1);
		g_queue_init(&c->pending);
		g_queue_init(&c->done);
		g_object_set_data_full(G_OBJECT(client), "vusb-client", c, vusb_client_free);
	}
	return c;
}

/* ---- the ioctl handler (umockdev worker thread) ------------------------------------------ */

static void vusb_schedule(struct vusb *v, unsigned ms, GSourceFunc fn, gpointer data);
static gboolean vusb_job_leave_bus(gpointer data);

/* After every transfer: a device that left the bus is gone for its clients at once; the sysfs
 * removal (and the re-plug) follow on the timer thread. Lock held. */
static void vusb_check_link(struct vusb_port *p)
{
	struct vusb_plug *pl = p->cur;
	if (!pl || sim_link_state(p->dev) == SIM_LINK_UP)
		return;
	pl->gone = true;
	p->cur = NULL;
	vusb_schedule(p->v, 0, vusb_job_leave_bus, pl);
}

/* One control transfer on behalf of a host program (lock held). */
static enum sim_result vusb_control(struct vusb_port *p, const uint8_t setup[8], uint8_t *data,
                                    uint16_t *actual)
{
	struct usb_setup s = {setup[0], setup[1], (uint16_t)(setup[2] | setup[3] << 8),
	                      (uint16_t)(setup[4] | setup[5] << 8), (uint16_t)(setup[6] | setup[7] << 8)};
	*actual = 0;
	p->info.host_transfers++;
	enum sim_result r = sim_control(p->dev, &s, data, actual);
	if (r == SIM_OK && !(s.bmRequestType & USB_DIR_IN))
		*actual = s.wLength;
	if (r == SIM_OK && *actual > s.wLength)
		*actual = s.wLength; /* never trust a length to stay in the buffer */
	vusb_check_link(p);
	return r;
}

static int vusb_errno_of(enum sim_result r)
{
	switch (r) {
	case SIM_OK:
		return 0;
	case SIM_STALL:
		return EPIPE;
	case SIM_NO_ANSWER:
		return ETIMEDOUT;
	default:
		return ENODEV;
	}
}

/* SUBMITURB: run the model now; the answer waits in the client's queue for its REAP. */
static int vusb_submit(struct vusb_port *p, UMockdevIoctlData *arg, struct vusb_client *c)
{
	UMockdevIoctlData *ud = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), NULL);
	if (!ud)
		return EFAULT;
	struct usbdevfs_urb *u = (struct usbdevfs_urb *)(void *)ud->data;
	if ((u->endpoint & 0x7f) != 0) {
		umockdev_ioctl_data_unref(ud);
		return ENOENT; /* the bootloader has no endpoint but EP0 */
	}
	if (u->type != USBDEVFS_URB_TYPE_CONTROL || u->buffer_length < 8) {
		umockdev_ioctl_data_unref(ud);
		return EINVAL;
	}
	UMockdevIoctlData *bd =
		umockdev_ioctl_data_resolve(ud, offsetof(struct usbdevfs_urb, buffer), (gsize)u->buffer_length, NULL);
	if (!bd) {
		umockdev_ioctl_data_unref(ud);
		return EFAULT;
	}
	const uint8_t *setup = bd->data;
	uint16_t wlen = (uint16_t)(setup[6] | setup[7] << 8);
	if ((int)wlen > u->buffer_length - 8) {
		umockdev_ioctl_data_unref(bd);
		umockdev_ioctl_data_unref(ud);
		return EINVAL;
	}
	struct vusb_urb *e = g_new0(struct vusb_urb, 1);
	e->urb = ud;
	e->buf = bd;
	bool in = setup[0] & USB_DIR_IN;
	uint8_t *data = g_malloc(wlen ? wlen : 1);
	if (!in && wlen)
		memcpy(data, bd->data + 8, wlen);
	uint16_t actual = 0;
	enum sim_result r = vusb_control(p, bd->data, data, &actual);
	/* The model gives the time its answer is complete: the transfer's bus time (scaled by the
	 * profile's timing), after any wait while a flash operation holds EP0 (busy_reply = hold).
	 * The device runs on the real clock here. No timer is needed: libusb polls REAPURBNDELAY
	 * until it gets the URB (the node never blocks poll()); a host that gives up first discards
	 * it (vusb_discard). */
	e->ready_us = sim_answer_at_us(p->dev);
	if (r == SIM_NO_ANSWER) {
		g_free(data);
		g_queue_push_tail(&c->pending, e);
		return 0;
	}
	e->status = -vusb_errno_of(r);
	if (r == SIM_DISCONNECTED)
		e->status = -ESHUTDOWN; /* what the host controller reports for a vanished device */
	e->actual = r == SIM_OK ? actual : 0;
	if (in && r == SIM_OK && actual)
		e->reply = data;
	else
		g_free(data);
	g_queue_push_tail(&c->done, e);
	return 0;
}

/* REAPURB(NDELAY): hand back the oldest completed URB. */
static int vusb_reap(struct vusb_plug *pl, UMockdevIoctlData *arg, struct vusb_client *c)
{
	if (pl->gone) {
		/* The kernel kills what is in flight on disconnect; those URBs are reaped like others. */
		struct vusb_urb *e;
		while ((e = g_queue_pop_head(&c->pending))) {
			e->status = -ESHUTDOWN;
			g_queue_push_tail(&c->done, e);
		}
	}
	struct vusb_urb *e = g_queue_peek_head(&c->done);
	if (!e)
		return pl->gone ? ENODEV : EAGAIN; /* pitfall 3: resolve nothing for EAGAIN */
	if (!pl->gone && e->ready_us > clock_now_us(clock_real()))
		return EAGAIN; /* still on the wire */
	UMockdevIoctlData *ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), NULL);
	if (!ptr)
		return EFAULT;
	g_queue_pop_head(&c->done);
	struct usbdevfs_urb *u = (struct usbdevfs_urb *)(void *)e->urb->data;
	u->status = e->status;
	u->actual_length = e->actual;
	if (e->reply)
		memcpy(e->buf->data + 8, e->reply, (size_t)e->actual);
	umockdev_ioctl_data_set_ptr(ptr, 0, e->urb);
	umockdev_ioctl_data_unref(ptr);
	vusb_urb_free(e);
	return 0;
}

/* DISCARDURB: the host gave up waiting (SIM_NO_ANSWER); it reaps the URB with -ENOENT. */
static int vusb_discard(UMockdevIoctlData *arg, struct vusb_client *c)
{
	gulong addr = arg->data_len >= (gint)sizeof(gulong) ? *(gulong *)(void *)arg->data : 0;
	/* an answer still on its way (held by the device, or on the wire) can be cancelled too: the
	 * device acted on the request, but its reply is lost, as on a chip */
	uint64_t now = clock_now_us(clock_real());
	for (GList *l = c->done.head; l; l = l->next) {
		struct vusb_urb *e = l->data;
		if (e->urb->client_addr == addr && e->ready_us > now) {
			e->status = -ENOENT;
			e->actual = 0;
			e->ready_us = now;
			g_free(e->reply);
			e->reply = NULL;
			return 0;
		}
	}
	for (GList *l = c->pending.head; l; l = l->next) {
		struct vusb_urb *e = l->data;
		if (e->urb->client_addr == addr) {
			g_queue_delete_link(&c->pending, l);
			e->status = -ENOENT;
			e->actual = 0;
			g_queue_push_tail(&c->done, e);
			return 0;
		}
	}
	return EINVAL; /* already completed: libusb treats this as "too late to cancel" */
}

/* A standard request the kernel sends on the host's behalf (SET_INTERFACE, SET_CONFIGURATION). */
static int vusb_std_out(struct vusb_port *p, uint8_t rt, uint8_t req, unsigned value, unsigned index)
{
	uint8_t setup[8] = {rt, req, (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)index, (uint8_t)(index >> 8), 0, 0};
	uint8_t dummy[1];
	uint16_t actual;
	return vusb_errno_of(vusb_control(p, setup, dummy, &actual));
}

/* USBDEVFS_CONTROL: a synchronous transfer (libusb uses it only without sysfs). */
static long vusb_sync_control(struct vusb_port *p, UMockdevIoctlData *arg, int *err)
{
	UMockdevIoctlData *cd = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_ctrltransfer), NULL);
	if (!cd) {
		*err = EFAULT;
		return -1;
	}
	struct usbdevfs_ctrltransfer *ct = (struct usbdevfs_ctrltransfer *)(void *)cd->data;
	uint8_t setup[8] = {ct->bRequestType, ct->bRequest, (uint8_t)ct->wValue, (uint8_t)(ct->wValue >> 8),
	                    (uint8_t)ct->wIndex, (uint8_t)(ct->wIndex >> 8), (uint8_t)ct->wLength,
	                    (uint8_t)(ct->wLength >> 8)};
	UMockdevIoctlData *dd = NULL;
	uint8_t scratch[1];
	uint8_t *data = scratch;
	if (ct->wLength) {
		dd = umockdev_ioctl_data_resolve(cd, offsetof(struct usbdevfs_ctrltransfer, data), ct->wLength, NULL);
		if (!dd) {
			umockdev_ioctl_data_unref(cd);
			*err = EFAULT;
			return -1;
		}
		data = dd->data;
	}
	uint16_t actual = 0;
	enum sim_result r = vusb_control(p, setup, data, &actual);
	if (dd)
		umockdev_ioctl_data_unref(dd);
	umockdev_ioctl_data_unref(cd);
	*err = vusb_errno_of(r);
	return r == SIM_OK ? actual : -1;
}

static gboolean vusb_on_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer user)
{
	struct vusb_plug *pl = user;
	struct vusb_port *p = pl->port;
	struct vusb *v = p->v;
	unsigned long req = umockdev_ioctl_client_get_request(client);
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
	struct vusb_client *c = vusb_client_of(client);
	UMockdevIoctlData *d;
	long res = 0;
	int err = 0;
	(void)base;

	g_mutex_lock(&v->lock);
	if (v->stopped)
		pl->gone = true;
	/* REAP and DISCARD work after a disconnect too: the host gets back what it submitted */
	if (req == USBDEVFS_REAPURBNDELAY || req == USBDEVFS_REAPURB) {
		/* libusb never uses the blocking REAPURB; answering it like NDELAY is the safe side */
		err = vusb_reap(pl, arg, c);
	} else if (req == USBDEVFS_DISCARDURB) {
		err = vusb_discard(arg, c);
	} else if (pl->gone) {
		err = ENODEV;
	} else {
		switch (req) {
		case USBDEVFS_SUBMITURB:
			err = vusb_submit(p, arg, c);
			break;
		case USBDEVFS_GET_CAPABILITIES:
			d = umockdev_ioctl_data_resolve(arg, 0, sizeof(uint32_t), NULL);
			if (!d) {
				err = EFAULT;
				break;
			}
			*(uint32_t *)(void *)d->data = USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_BULK_CONTINUATION |
			                               USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
			                               USBDEVFS_CAP_REAP_AFTER_DISCONNECT;
			umockdev_ioctl_data_unref(d);
			break;
		case USBDEVFS_SETINTERFACE:
			d = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_setinterface), NULL);
			if (!d) {
				err = EFAULT;
				break;
			}
			{
				const struct usbdevfs_setinterface *si = (const void *)d->data;
				/* the model must know the alternate setting: it selects the memory */
				err = vusb_std_out(p, USB_RT_STD_OUT_INTERFACE, USB_REQ_SET_INTERFACE, si->altsetting,
				                   si->interface);
			}
			umockdev_ioctl_data_unref(d);
			break;
		case USBDEVFS_SETCONFIGURATION:
			d = umockdev_ioctl_data_resolve(arg, 0, sizeof(unsigned), NULL);
			if (!d) {
				err = EFAULT;
				break;
			}
			err = vusb_std_out(p, USB_RT_STD_OUT_DEVICE, USB_REQ_SET_CONFIGURATION,
			                   *(unsigned *)(void *)d->data, 0);
			umockdev_ioctl_data_unref(d);
			break;
		case USBDEVFS_CONTROL:
			res = vusb_sync_control(p, arg, &err);
			break;
		case USBDEVFS_CLAIMINTERFACE:
		case USBDEVFS_RELEASEINTERFACE:
		case USBDEVFS_CLEAR_HALT:
		case USBDEVFS_RESETEP:
		case USBDEVFS_RESET: /* a bus reset keeps the ROM in DFU mode: nothing to model */
			break;
		case USBDEVFS_GET_SPEED:
			res = 2; /* USB_SPEED_FULL */
			break;
		case USBDEVFS_CONNECTINFO:
			d = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_connectinfo), NULL);
			if (!d) {
				err = EFAULT;
				break;
			}
			((struct usbdevfs_connectinfo *)(void *)d->data)->devnum = pl->devnum;
			((struct usbdevfs_connectinfo *)(void *)d->data)->slow = 0;
			umockdev_ioctl_data_unref(d);
			break;
		case USBDEVFS_GETDRIVER:
		case USBDEVFS_IOCTL:
			err = ENODATA; /* no kernel driver is bound to the interface */
			break;
		default:
			err = ENOTTY;
			break;
		}
	}
	g_mutex_unlock(&v->lock);
	if (err && err != EAGAIN) /* EAGAIN: the host polling for completions, thousands a second */
		log_trace("vusb %s: ioctl 0x%lx -> %s", pl->devnode, (unsigned long)req, g_strerror(err));
	umockdev_ioctl_client_complete(client, err ? -1 : res, err);
	return TRUE;
}

/* ---- plugging (timer thread, or before any client runs) --------------------------------- */

static void vusb_schedule(struct vusb *v, unsigned ms, GSourceFunc fn, gpointer data)
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
 * then the sysfs entry, then the node's handler (clients that hold the fd keep talking to it and
 * get ENODEV). Lock held. */
static void vusb_unplug_sysfs(struct vusb_port *p, struct vusb_plug *pl)
{
	umockdev_testbed_uevent(p->v->tb, p->syspath, "remove");
	umockdev_testbed_remove_device(p->v->tb, p->syspath);
	umockdev_testbed_detach_ioctl(p->v->tb, pl->devnode, NULL);
	pl->detached = true;
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
static gboolean vusb_job_leave_bus(gpointer data)
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
