#!/usr/bin/env python3
# Opens every device node of the testbed (the root hub's 001/001 aside) in a loop and asks each
# for its capabilities (one ioctl through umockdev's socket), in 4 threads. Touches READY once the
# threads run (stm32dfu-sim --after READY starts the plugging then) and stops when the node LAST
# appears. Usage: usbfs_hammer.py READY LAST   (under stm32dfu-sim)
import fcntl, glob, os, sys, threading

USBDEVFS_GET_CAPABILITIES = 0x8004551A
ready, last = sys.argv[1], sys.argv[2]
seen, opens, lock = set(), [0], threading.Lock()


def work():
    while not os.path.exists(last):
        for p in glob.glob("/dev/bus/usb/*/*"):
            if p.endswith("/001/001"):
                continue
            with lock:
                seen.add(p)
            try:
                fd = os.open(p, os.O_RDWR)
            except OSError:
                continue  # gone between the listing and the open
            try:
                fcntl.ioctl(fd, USBDEVFS_GET_CAPABILITIES, b"\0" * 4)
            except OSError:
                pass  # ENODEV: it left meanwhile
            os.close(fd)
            with lock:
                opens[0] += 1


threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads:
    t.start()
open(ready, "w").close()
for t in threads:
    t.join()
print("opens %d nodes %d" % (opens[0], len(seen)))
