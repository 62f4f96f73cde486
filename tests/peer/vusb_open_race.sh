#!/bin/bash
# A client that opens a device node just as the device leaves the bus (issue 27 item 9): 30 chips
# plugged and pulled in turn while 4 threads open every node and send it an ioctl. The node's
# umockdev handler must accept such a late connection and answer ENODEV; it used to be detached at
# the unplug, which reset the connection still in its socket's backlog, and the preload library
# aborted the client ("Error communicating with ioctl socket, errno: 104", exit 134), as it once
# aborted a 10-board station run.
# Usage: vusb_open_race.sh SIM
. "$(dirname "$0")/lib.sh"
need python3
# the plugging starts once the client's threads run (--after), so every node is met by them
args=(--after "$TMP/ready")
for i in $(seq 1 30); do
	t=$(( (i - 1) * 3 ))
	args+=(--plug "$((t / 10)).$((t % 10)):f746,timing=0,serial=RACE$i")
	args+=(--unplug "$(((t + 2) / 10)).$(((t + 2) % 10)):RACE$i")
done
# a 31st chip stays: its node (devnum 32, the 30 before took 2..31) tells the client to stop
args+=(--plug "9.0:f746,timing=0,serial=RACE31")
sim "${args[@]}" -- python3 "$(dirname "$0")/usbfs_hammer.py" "$TMP/ready" /dev/bus/usb/001/032 >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc = 0 ] || { grep -v '^$' "$TMP/err" | sort | uniq -c | head; fail "the client exited $rc while nodes came and went"; }
echo "ok: $(cat "$TMP/out") with 30 chips plugged and pulled, no connection reset"
