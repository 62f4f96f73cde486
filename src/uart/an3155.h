/*
 * The ROM's USART bootloader protocol (AN3155) over a serial transport (serial/serial.h).
 *
 * Every command is a byte and its complement; the chip answers ACK 0x79 or NACK 0x1F; addresses
 * are 4 bytes MSB first and every frame the host sends ends with the XOR of its bytes. GET tells
 * which commands this ROM has (which erase, whether Get Checksum exists): the calls below use its
 * list and refuse (STM32DFU_E_UNSUPPORTED) a command the ROM did not list, never guessing.
 *
 * Each byte awaited has a timeout; a command that is safe to repeat (reads, GET, checksum, and
 * writes and erases, whose repetition leaves the same flash) is retried up to `retries` times
 * after re-synchronising the ROM's parser. Protection commands are never repeated: the chip
 * resets after them and an3155_resync finds it again. Facts and grades: docs/usart.md.
 */
#ifndef UART_AN3155_H
#define UART_AN3155_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "serial/serial.h"

#define AN3155_SYNC 0x7F
#define AN3155_ACK 0x79
#define AN3155_NACK 0x1F
/* Command codes (AN3155 Table 2; the no-stretch variants are I2C only). */
enum an3155_cmd {
	AN3155_GET = 0x00,
	AN3155_GET_VERSION = 0x01,
	AN3155_GET_ID = 0x02,
	AN3155_READ = 0x11,
	AN3155_GO = 0x21,
	AN3155_WRITE = 0x31,
	AN3155_ERASE = 0x43,
	AN3155_EXT_ERASE = 0x44,
	AN3155_WRITE_PROTECT = 0x63,
	AN3155_WRITE_UNPROTECT = 0x73,
	AN3155_READOUT_PROTECT = 0x82,
	AN3155_READOUT_UNPROTECT = 0x92,
	AN3155_GET_CHECKSUM = 0xA1,
};
#define AN3155_MAX_BLOCK 256u
/* Pages one erase command lists: Extended Erase under the smallest ROM limit known (L0: 511,
 * stm32flash e1536da; L1: 512, stm32flash's STM32L152 note), legacy Erase its one-byte count. */
#define AN3155_EXT_ERASE_MAX 500u
#define AN3155_ERASE_MAX 255u

/* Extended Erase special codes (AN3155 3.8). */
#define AN3155_EE_MASS 0xFFFFu
#define AN3155_EE_BANK1 0xFFFEu
#define AN3155_EE_BANK2 0xFFFDu

/* Timeouts, milliseconds (defaults: an3155_init). */
struct an3155_timeouts {
	unsigned sync_ms;       /* the answer to 0x7F (the ROM may still be starting) */
	unsigned byte_ms;       /* an answer's floor (adapter latency); an3155_answer_ms adds its wire time */
	unsigned write_ms;      /* a Write Memory block's programming, before its ACK */
	unsigned page_erase_ms; /* per page or sector in an erase list */
	unsigned mass_erase_ms; /* mass or bank erase, Readout Unprotect */
	unsigned ob_ms;         /* Write Protect/Unprotect, Readout Protect (option-byte programming) */
	unsigned reset_ms;      /* a reset until the ROM takes 0x7F again */
};

struct an3155_stats {
	uint64_t commands, nacks, timeouts, retries, resyncs;
};

struct an3155 {
	struct ser *ser;
	struct an3155_timeouts to;
	unsigned retries;       /* per command (default 3) */
	bool synced;            /* 0x7F was answered since the last reset */
	int sync_answer;        /* the byte that answered the last an3155_sync (ACK, NACK...), -1 none */
	/* from GET */
	bool have_get;
	uint8_t version;        /* protocol version, 0x31 = 3.1 */
	uint8_t cmds[32];
	size_t ncmds;
	/* from Get Version and Get ID */
	uint8_t option1, option2;
	uint16_t pid;
	struct an3155_stats stats;
	uint8_t lead_poison;    /* the first byte of the next resync, 0 for 0xFF (an3155.c resync()) */
	bool write_flash;       /* the next an3155_write is to flash: an unanswered block is read back
	                         * before it is sent again (an3155.c an3155_write) */
	bool write_whole;       /* the next an3155_write is one frame whatever it holds (option bytes: the
	                         * chip resets after the first frame) */
	size_t pending;         /* bytes sent since one was received: maybe still on the wire */
	/* with write_flash: called when a data frame got no answer, before another byte is sent
	 * (the next bytes may complete the frame); < 0 ends the write with that error (NULL: none) */
	int (*unsettled)(void *ctx, uint32_t addr, size_t len, struct err *e);
	void *unsettled_ctx;
	struct err err;
};

/* Binds b to ser (not owned) with the default timeouts and retries. */
void an3155_init(struct an3155 *b, struct ser *ser);

/* How long an answer of n bytes may take at the port's rate: to.byte_ms, plus twice the wire time
 * of the answer and of the bytes sent and not yet answered (a lost byte costs this, not a second). */
unsigned an3155_answer_ms(const struct an3155 *b, size_t n);

/* Autobaud: sends 0x7F and waits for ACK. A NACK means the ROM was already synchronised and took
 * 0x7F as a command byte: that is success too (stm32flash does the same). Silence: TIMEOUT, with a
 * hint naming BOOT0, RX/TX and the rate. An answer other than ACK/NACK (an echo of 0x7F, an
 * application talking): PROTOCOL. */
int an3155_sync(struct an3155 *b);

/* Brings the ROM's parser back to waiting for a command after a command failed (0xFF bytes until
 * a NACK: 0x7F is a command byte after autobaud). For callers that run commands with retries = 0
 * and count each failure themselves (doctor's link measurement). */
int an3155_resync(struct an3155 *b);

/* After a reset (WP, UW, RP, RU, an option-byte write): waits, then 0x7F until ACK, up to
 * to.reset_ms plus a few seconds. */
int an3155_resync_after_reset(struct an3155 *b);

/* GET: version and command list (kept in b). */
int an3155_get(struct an3155 *b);
/* Whether GET listed cmd (false before an3155_get). */
bool an3155_has(const struct an3155 *b, uint8_t cmd);
/* Get Version: version, option bytes 1 and 2 (kept in b). */
int an3155_get_version(struct an3155 *b);
/* Get ID: the device ID (kept in b->pid). */
int an3155_get_id(struct an3155 *b);
/* GET and Get ID asked until two answers in a row agree (no checksum on them: two flipped bits pass
 * the parity; a clean line costs one more ask of each), as an3155_connect asks them. */
int an3155_get_agreed(struct an3155 *b);
int an3155_get_id_agreed(struct an3155 *b);
/* Get ID after a reset: an answer equal to known (the chip's ID before) is taken at once, another
 * only when two in a row agree (no checksum: two flipped bits pass the parity), as an3155_connect. */
int an3155_get_id_expect(struct an3155 *b, uint16_t known);
/* sync + GET + Get Version + Get ID, the order stm32flash uses; GET and Get ID are asked until two
 * answers in a row agree (no checksum on them: two flipped bits pass the parity). */
int an3155_connect(struct an3155 *b);

/* Read Memory: 1..256 bytes. NACK on the command byte = read protection (PROTECTED); on the
 * address = no memory there (RANGE). */
int an3155_read(struct an3155 *b, uint32_t addr, uint8_t *buf, size_t len);
/* Any length, in 256-byte commands. */
int an3155_read_all(struct an3155 *b, uint32_t addr, uint8_t *buf, size_t len);
/* Write Memory: 4..256 bytes, a multiple of 4, at a 4-byte aligned address (USAGE otherwise,
 * before any byte is sent). A write to the option bytes resets the chip: call
 * an3155_resync_after_reset next. With b->write_flash, a block whose answer did not come is read
 * back before it is sent again: the bytes written (0), erased (sent again), else TIMEOUT with the
 * block left as it is: the flash holds other bytes there and only an erase puts that right. */
int an3155_write(struct an3155 *b, uint32_t addr, const uint8_t *buf, size_t len);
/* Go: ACKed address, then the chip runs the code there. */
int an3155_go(struct an3155 *b, uint32_t addr);
/* Erase pages/sectors by number through the erase command GET listed (0x44 two-byte numbers,
 * or legacy 0x43 one-byte numbers, at most 255 per command there). */
int an3155_erase_pages(struct an3155 *b, const uint16_t *pages, size_t n);
/* Mass erase (0x44 FFFF or 0x43 FF). Banks: 1 or 2 (0x44 only). */
int an3155_erase_mass(struct an3155 *b);
int an3155_erase_bank(struct an3155 *b, int bank);
/* Protection commands; each ends in a reset, after which the caller resyncs. */
int an3155_write_protect(struct an3155 *b, const uint8_t *sectors, size_t n);
int an3155_write_unprotect(struct an3155 *b);
int an3155_readout_protect(struct an3155 *b);
int an3155_readout_unprotect(struct an3155 *b);
/* Get Checksum (0xA1): the STM32 CRC of len bytes (a multiple of 4) at addr (4-byte aligned). */
int an3155_checksum(struct an3155 *b, uint32_t addr, uint32_t len, uint32_t *crc);

/* The CRC Get Checksum returns, computed on the host: poly 0x04C11DB7, init 0xFFFFFFFF, 32-bit
 * little-endian words, no reflection, no final XOR. Chain calls with the previous value; len a
 * multiple of 4. */
uint32_t an3155_crc(uint32_t crc, const uint8_t *p, size_t len);

/* "3.1" for 0x31 (buf >= 8). */
void an3155_version_text(uint8_t v, char *buf, size_t cap);

#endif
