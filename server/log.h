/*
 * log: one line per event on stderr, "2026-11-28T05:54:25.123Z node LEVEL text".
 * Never pass a token, secret or key to these functions.
 */
#ifndef ROSTRUM_LOG_H
#define ROSTRUM_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the node name shown in every line (copied) and the lowest level
 * printed. */
void log_setup(const char *node_id, enum log_level min);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
