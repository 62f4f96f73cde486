/*
 * Where a session's records live: doctor's link notes, the RDP-2 notes, recovery files and the
 * programming log. Emulated chips never share a real chip's records (design.md "Where we stand
 * apart"): a real chip's go to the state folder ($XDG_STATE_HOME/stm32dfu, else
 * ~/.local/state/stm32dfu), an emulated chip's to its sim/ folder (its log: sim/log.sqlite3; the
 * --sim chips' default state files and their recovery files are there too; a --sim chip given its
 * own state file keeps its recovery files beside it).
 *
 * How the tool knows a device is emulated. --sim and the library's sims are emulated by
 * construction. A device reached over USB is emulated when the process runs under stm32dfu-sim,
 * which sets STM32DFU_EMULATED=1 in its command's environment (virtual USB, and pseudo-terminals
 * for the USART front end), or inside any umockdev testbed: umockdev sets UMOCKDEV_DIR, and its
 * preload library then replaces /sys and /dev/bus/usb, so no real USB device can be seen. The
 * descriptors carry no marker on purpose: the emulator shows what the ROM shows.
 */
#ifndef OPS_RECDIR_H
#define OPS_RECDIR_H

#include <stdbool.h>
#include <stddef.h>

struct ops_session;

/* true under stm32dfu-sim (STM32DFU_EMULATED=1) or inside a umockdev testbed (UMOCKDEV_DIR):
 * every device this process sees is emulated */
bool ops_usb_emulated(void);

/* The state folder ("" sub) or a folder below it ("sim", "link"...). false: neither XDG_STATE_HOME
 * (absolute) nor HOME is set, or the path does not fit. Only computed, never created. */
bool ops_state_folder(const char *sub, char *buf, size_t cap);

/* true if the session's chip is emulated (--sim, the library's sims, or virtual USB) */
bool ops_session_emulated(const struct ops_session *s);

/* The folder under which this session's notes (link/, rdp2/) go: the state folder for a real chip,
 * its sim/ for an emulated one. false when there is no state folder. */
bool ops_records_base(const struct ops_session *s, char *buf, size_t cap);

#endif
