/*
 * What `doctor` last found about a board's link, remembered between commands: a marginal link
 * makes later sessions confirm their reads by a second read (issue 13 "read once").
 *
 * The notes live in <records>/link/ (ops/recdir.h: the state folder for real chips, its sim/ for
 * emulated ones), one file per board, named by its UID as everything else is (boards share USB
 * serials: every F446 reports STM32FxSTM32). A chip whose UID cannot be read (every F0) is noted
 * under VID, PID and USB serial, so boards that share it share the note: that costs time, never
 * correctness. Each note says why the link is marginal:
 *   - "link": doctor's link test saw errors. A later doctor that finds the link clean, with no
 *     thin crystal margin, removes the note.
 *   - "hse": the link was clean but the crystal leaves the ROM's detection a thin margin
 *     (protocol.md 4.2-4.3), which fails on a hot or cold day. The crystal frequency is kept, and
 *     a later doctor without --hse judges the margin with it: only doctor --hse with another
 *     frequency (a board with another crystal) lifts the note.
 *
 * The UID costs a Set Address and an upload, so a session starts from the USB serial: if any note
 * carries its VID:PID and serial, the identity reads are confirmed; once the UID is read, only
 * that board's own note counts (ops_link_note_refine).
 */
#ifndef OPS_LINKNOTE_H
#define OPS_LINKNOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct ops_session;

enum ops_link_reason { OPS_LINK_HEALTHY = 0, OPS_LINK_ERRORS = 1, OPS_LINK_THIN_HSE = 2 };

struct ops_link_note {
	enum ops_link_reason reason;
	double hse_hz;        /* the crystal doctor judged the margin of, 0 if none was given */
};

/* The note's path for this session's board (by UID once identified). false if there is no place
 * for it (no state folder, or the path does not fit). */
bool ops_link_note_path(const struct ops_session *s, char *buf, size_t cap);

/* VID-PID-serial as a file name (letters, digits and '-' kept, other bytes as _hh): the key of
 * chips without a UID, and of the RDP-2 notes (rdpnote.h). */
void ops_note_usb_name(const struct ops_session *s, char *buf, size_t cap);

/* At session open, before the UID is read: true if any note carries this device's VID:PID and
 * serial (or this device is noted by serial). */
bool ops_link_note_suspect(const struct ops_session *s);
/* Once the identity is read: true if this board itself is noted. */
bool ops_link_note_refine(const struct ops_session *s);

/* This board's note (reason OPS_LINK_HEALTHY when there is none). */
void ops_link_note_read(const struct ops_session *s, struct ops_link_note *n);

/* Records doctor's verdict for this board: a marginal reason writes the note, HEALTHY removes it.
 * STM32DFU_E_FILE_IO on a write failure. */
int ops_link_note_record(const struct ops_session *s, const struct ops_link_note *n, struct err *e);

#endif
