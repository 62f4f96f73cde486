/* What the public API's source files share: the session behind the opaque handle. Not installed. */
#ifndef LIB_API_INT_H
#define LIB_API_INT_H

#include "stm32dfu/stm32dfu.h"

#include "core/err.h"
#include "ops/session.h"

struct stm32dfu_session {
	struct ops_session *ops;
	stm32dfu_progress_fn progress;
	void *progress_user;
	struct err err;   /* the last failure of an API call (ops errors are copied here) */
	char uid[40];
	int cli_words; /* texts handed out as data (doctor's findings) in the command line's words */
	/* how the last stm32dfu_ob_set_ex wrote: 0 the option-byte block, else the AN3155 command
	 * (0x63 Write Protect, 0x73 Write Unprotect); kept here, not in the public result, so that
	 * struct stm32dfu_ob_set_result keeps its size (the command line shows it) */
	int ob_wp_command;
};

/* Copies the ops session's error into the API session (a generic sentence when it has none). */
int api_fail_from_ops(struct stm32dfu_session *s, int rc);
/* Sets the thread's error of a call that has no session (list). */
int api_fail_nosession(const struct err *e, int rc);
/* Clears the thread's error at the start of a call that has no session. */
void api_clear_nosession(void);
/* The ops options that a match and 0.5 session options (either may be NULL) ask for; e says what
 * is wrong with them (size, poll). */
int api_session_opts(const struct stm32dfu_match *match, const struct stm32dfu_session_options *options,
                     struct ops_open_opts *o, struct err *e);
struct ops_identity;
/* The public identity record of an ops identity. */
void api_convert_identity(const struct ops_identity *id, const char *usb_serial, struct stm32dfu_identity *out);
/* What opening did to a device found in DFU state `state`: "none", "cleared", "waited", "aborted". */
const char *api_found_action(unsigned state);
/* Copies a NUL-terminated string into a fixed field, always terminating it. */
void api_copy(char *dst, size_t cap, const char *src);
/* This thread's last failed open or list, both renderings (the command line takes its own words). */
const struct err *api_open_error(void);

/* Wraps an open ops session in an API handle that owns it (stm32dfu_close closes both): how the
 * CLI, which opens sessions with its own options, calls the public functions. */
int api_adopt(struct ops_session *ops, struct stm32dfu_session **out);
/* The ops session behind a handle, for the CLI's presentation of detail the API does not carry. */
struct ops_session *api_ops(struct stm32dfu_session *s);
/* The device part of an open session's record (identity unknown), for the CLI's printers. */
void api_device_rec_of(const struct ops_session *o, struct stm32dfu_device_rec *out);

struct img;
struct ops_leave_result;
struct ops_write_result;
/* The public report of a write (or of a recovery) over session s (whose link counters it takes). */
void api_write_report(const struct ops_session *s, const struct ops_write_result *in, struct stm32dfu_write_report *out);
void api_link_counters(const struct ops_session *s, struct stm32dfu_link_counters *out);
/* Loads a file as the file options say, checking a .dfu suffix against the device unless force. */
int api_load(struct stm32dfu_session *s, const char *path, const struct stm32dfu_file_options *o, struct img **img);
/* An internal image holding a copy of the segments (USAGE/RANGE for bad ones, before any work). */
int api_image(struct stm32dfu_session *s, const struct stm32dfu_segment *segs, size_t n, struct img **out);
/* The public record of a leave (also part of a write's report). */
void api_leave_result(const struct ops_leave_result *in, struct stm32dfu_leave_result *out);
/* Writes / verifies an image over the session (what the file and memory variants share). */
int api_write_img(struct stm32dfu_session *s, const struct img *img, const struct stm32dfu_write_options *options,
                  struct stm32dfu_write_result *result);
int api_verify_img(struct stm32dfu_session *s, const struct img *img, const char *what);

#endif
