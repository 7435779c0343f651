/* ekv_log: one-line log records on stderr.
 *
 * Each line carries a UTC timestamp, the level and the program name set by ekv_log_init().
 * Malformed input from the network is logged at WARN and never ends the process. */
#ifndef EKV_LOG_H
#define EKV_LOG_H

enum { EKV_LOG_DEBUG, EKV_LOG_INFO, EKV_LOG_WARN, EKV_LOG_ERROR };

/* Sets the program name shown in each line and the lowest level printed. */
void ekv_log_init(const char *program, int min_level);
void ekv_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ekv_debug(...) ekv_log(EKV_LOG_DEBUG, __VA_ARGS__)
#define ekv_info(...)  ekv_log(EKV_LOG_INFO, __VA_ARGS__)
#define ekv_warn(...)  ekv_log(EKV_LOG_WARN, __VA_ARGS__)
#define ekv_error(...) ekv_log(EKV_LOG_ERROR, __VA_ARGS__)

#endif
