#!/bin/sh
# The udev rule's reach (issue 26 item 10): the rule file is matched the way udev matches it (every
# key of a line must match; ==, shell glob) against devices as udev describes them. A device in DFU
# mode and the ROM bootloaders we know get "uaccess"; a keyboard, dock or webcam that only offers a
# DFU runtime interface (fe0101) does not.
# Usage: udev.sh STM32DFU   (the rule is found from the source root)
. "$(dirname "$0")/lib.sh"
rules=${STM32DFU_SOURCE_ROOT:?}/data/60-stm32dfu.rules
python3 - "$rules" <<'PY'; check udev-reach 0 $?
import fnmatch, re, sys
rules = []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    keys = re.findall(r'(\w+(?:\{\w+\})?)(==|\+=)"([^"]*)"', line)
    rules.append([(k, v) for k, op, v in keys if op == "=="])
def tagged(dev):
    return any(all(fnmatch.fnmatchcase(dev.get(k, ""), v) for k, v in r) for r in rules)
base = {"SUBSYSTEM": "usb", "ENV{DEVTYPE}": "usb_device"}
cases = [
    ("ST ROM", {"ATTR{idVendor}": "0483", "ATTR{idProduct}": "df11", "ENV{ID_USB_INTERFACES}": ":fe0102:"}, True),
    ("ST ROM, interfaces not yet known", {"ATTR{idVendor}": "0483", "ATTR{idProduct}": "df11"}, True),
    ("Artery ROM", {"ATTR{idVendor}": "2e3c", "ATTR{idProduct}": "df11"}, True),
    ("GD32 ROM", {"ATTR{idVendor}": "28e9", "ATTR{idProduct}": "0189"}, True),
    ("another vendor's bootloader in DFU mode", {"ATTR{idVendor}": "1209", "ATTR{idProduct}": "db42", "ENV{ID_USB_INTERFACES}": ":fe0102:"}, True),
    ("keyboard with a DFU runtime interface", {"ATTR{idVendor}": "046d", "ATTR{idProduct}": "c52b", "ENV{ID_USB_INTERFACES}": ":030101:030102:fe0101:"}, False),
    ("dock with a DFU runtime interface", {"ATTR{idVendor}": "17ef", "ATTR{idProduct}": "3083", "ENV{ID_USB_INTERFACES}": ":090000:fe0101:ff0000:"}, False),
    ("webcam", {"ATTR{idVendor}": "046d", "ATTR{idProduct}": "0825", "ENV{ID_USB_INTERFACES}": ":0e0100:0e0200:010100:010200:fe0101:"}, False),
    ("ST's own application (a VCP), not the ROM", {"ATTR{idVendor}": "0483", "ATTR{idProduct}": "5740", "ENV{ID_USB_INTERFACES}": ":020201:0a0000:"}, False),
]
bad = 0
for name, dev, want in cases:
    d = dict(base, **dev)
    if tagged(d) != want:
        print(f"FAIL {name}: uaccess {'given' if not want else 'not given'}")
        bad += 1
sys.exit(1 if bad else 0)
PY
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
