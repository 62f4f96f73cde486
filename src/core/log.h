/* Logging: a level and a sink. The only global state in the library (design.md). */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include "core/err.h"

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3, LOG_TRACE = 4 };

typedef void (*log_sink_fn)(enum log_level level, const char *msg, void *ctx);

/* Messages above level are dropped. Default: LOG_WARN. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Where messages go; NULL restores the default (stderr). */
void log_set_sink(log_sink_fn sink, void *ctx);
/* The calling thread's own sink, used instead of the process one (NULL: back to that). */
void log_set_thread_sink(log_sink_fn sink, void *ctx);
/* Whose words a message's tokens ("{@doctor}", core/err.h) are rendered in: the C API's by
 * default, the command line's once the command line says so. */
void log_set_cli_words(int cli);
void log_msg(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);

#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_trace(...) log_msg(LOG_TRACE, __VA_ARGS__)

#endif
