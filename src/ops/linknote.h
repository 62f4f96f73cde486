/*
 * What `doctor` last found about a board's link, remembered between commands: a marginal link
 * makes later sessions confirm their reads by a second read (issue 13 "read once").
 *
 * The note lives in $XDG_STATE_HOME/stm32dfu/link/ (else ~/.local/state/stm32dfu/link/), one file
 * per VID:PID and USB serial, one line per chip (by UID) that doctor judged marginal. It is looked
 * up by the serial because the serial costs no transfer, while the UID costs a Set Address and an
 * upload. Serials can collide (some ROMs report "STM32FxSTM32"): then every board with that serial
 * confirms its reads while any of them is noted, which costs time, never correctness. A later
 * doctor that finds the link healthy removes its own chip's line.
 */
#ifndef OPS_LINKNOTE_H
#define OPS_LINKNOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct ops_session;

/* The note's path for this session's device. false if there is no place for it (no HOME). */
bool ops_link_note_path(const struct ops_session *s, char *buf, size_t cap);

/* true if doctor noted a marginal link for a board with this device's VID:PID and serial. */
bool ops_link_note_marginal(const struct ops_session *s);

/* Records doctor's verdict for this chip (the session's UID when known): marginal adds its line,
 * healthy removes it (and the file with its last line). STM32DFU_E_FILE_IO on a write failure. */
int ops_link_note_record(const struct ops_session *s, bool marginal, struct err *e);

#endif
