/*
 * The virtual-USB adapter's ioctl side (split from vusb.c): what a libusb client's usbdevfs ioctls
 * do on a plugged device. SUBMITURB runs the control transfer on the model at once and keeps the
 * URB until its full-speed bus time has passed (or, for a held GETSTATUS, until the model answers);
 * REAPURB hands completed URBs back; DISCARDURB drops the ones the host gave up on. Runs on
 * umockdev's worker thread with the adapter's lock held around every model call.
 */
#include "sim/vusb.h"
#include "sim/vusb_int.h"

#include <errno.h>
#include <glib.h>
#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <umockdev.h>

#include "core/clock.h"
#include "core/log.h"
#include "sim/sim.h"

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


/* After every transfer: a device that left the bus is gone for its clients at once; the sysfs
 * removal (and the re-plug) follow on the timer thread. Lock held. */
void vusb_check_link(struct vusb_port *p)
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
	case SIM_IO_ERROR:
		return EPROTO; /* a garbled packet, as Linux's host controllers report it (docs/profiles.md) */
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

/* The kernel's timeout for the standard requests it sends itself (USB_CTRL_SET_TIMEOUT, ms). */
#define VUSB_KERNEL_CTRL_TIMEOUT_MS 5000u

/* A standard request the kernel sends on the host's behalf (SET_INTERFACE, SET_CONFIGURATION).
 * The ioctl is synchronous: while the device holds EP0 (busy_reply = hold, a flash operation
 * running) the caller waits for the answer, and gives up with ETIMEDOUT after the kernel's 5 s
 * (*wait_us: how long the ioctl must block before it completes, outside the lock). */
static int vusb_std_out(struct vusb_port *p, uint8_t rt, uint8_t req, unsigned value, unsigned index,
                        uint64_t *wait_us)
{
	uint8_t setup[8] = {rt, req, (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)index, (uint8_t)(index >> 8), 0, 0};
	uint8_t dummy[1];
	uint16_t actual;
	int err = vusb_errno_of(vusb_control(p, setup, dummy, &actual));
	uint64_t now = clock_now_us(clock_real()), at = p->dev ? sim_answer_at_us(p->dev) : now;
	*wait_us = at > now ? at - now : 0;
	if (*wait_us > VUSB_KERNEL_CTRL_TIMEOUT_MS * 1000ull) {
		*wait_us = VUSB_KERNEL_CTRL_TIMEOUT_MS * 1000ull;
		return ETIMEDOUT; /* the device acted on it later; the caller was told it timed out */
	}
	return err;
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

gboolean vusb_on_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer user)
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
	uint64_t wait_us = 0; /* a synchronous request the device holds: block this long */
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
				                   si->interface, &wait_us);
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
			                   *(unsigned *)(void *)d->data, 0, &wait_us);
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
	if (wait_us > 1000u) /* shorter: the bus time, which the other synchronous paths do not wait either */
		g_usleep((gulong)wait_us);
	if (err && err != EAGAIN) /* EAGAIN: the host polling for completions, thousands a second */
		log_trace("vusb %s: ioctl 0x%lx -> %s", pl->devnode, (unsigned long)req, g_strerror(err));
	umockdev_ioctl_client_complete(client, err ? -1 : res, err);
	return TRUE;
}

