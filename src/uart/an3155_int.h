/*
 * What an3155.c (memory commands), an3155_erase.c (erase, protection) and an3155_conn.c (connection) share: the byte layer. Callers
 * outside uart/ use an3155.h.
 */
#ifndef UART_AN3155_INT_H
#define UART_AN3155_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uart/an3155.h"

#define R_NACK 1 /* the chip answered NACK (callers map it to what it means there) */

/* n bytes to the chip (counted as waiting for an answer: an3155_recv's timeout covers them). */
int an3155_send(struct an3155 *b, const uint8_t *p, size_t n);
/* Exactly n bytes, or TIMEOUT after the answer's time (an3155_answer_ms) plus work_ms for what
 * the chip does before it answers (programming, erasing). */
int an3155_recv(struct an3155 *b, uint8_t *p, size_t n, unsigned work_ms, const char *what);
/* One ACK (0) or NACK (R_NACK), or an error. */
int an3155_ack(struct an3155 *b, unsigned work_ms, const char *what);
/* A command byte and its complement, then its ACK. */
int an3155_cmd(struct an3155 *b, uint8_t cmd);

/* GET has listed cmd (asked first if need be), else UNSUPPORTED naming it. */
int an3155_need(struct an3155 *b, uint8_t cmd, const char *name);
/* A NACK to a memory command's byte: read protection (AN3155 Table 2 note 2); PROTECTED. */
int an3155_refused(struct an3155 *b, const char *what);
/* A NACK is the chip's answer only when the same stage of a command got it twice (r: R_NACK or
 * not; *stage_seen: the stage of the last NACK, -1 none). */
bool an3155_nack_twice(int r, int stage, int *stage_seen);

#endif
