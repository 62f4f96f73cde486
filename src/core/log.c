#include "core/log.h"

#include <stdatomic.h>
#include <stdio.h>

static _Atomic int log_level = LOG_WARN;
static _Atomic int log_cli_words;
static log_sink_fn log_sink;
static void *log_sink_ctx;
/* A per-thread sink comes first: a fleet write gives each device's thread its own log file. */
static _Thread_local log_sink_fn log_thread_sink;
static _Thread_local void *log_thread_sink_ctx;

void log_set_level(enum log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

void log_set_sink(log_sink_fn sink, void *ctx)
{
	log_sink = sink;
	log_sink_ctx = ctx;
}

void log_set_thread_sink(log_sink_fn sink, void *ctx)
{
	log_thread_sink = sink;
	log_thread_sink_ctx = ctx;
}

void log_set_cli_words(int cli)
{
	atomic_store(&log_cli_words, cli != 0);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if ((int)level > atomic_load(&log_level))
		return;
	char raw[1024], buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	err_words(raw, atomic_load(&log_cli_words), buf, sizeof buf);
	if (log_thread_sink) {
		log_thread_sink(level, buf, log_thread_sink_ctx);
		return;
	}
	if (log_sink) {
		log_sink(level, buf, log_sink_ctx);
		return;
	}
	static const char *const names[] = {"error", "warning", "info", "debug", "trace"};
	fprintf(stderr, "%s: %s\n", names[level], buf);
}
