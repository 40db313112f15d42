/* Levelled logging to stderr (or a file), text or JSON lines. */
#ifndef HUSK_LOG_H
#define HUSK_LOG_H

enum husk_log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Program name shown in every line ("husk-vsockd"). */
void log_init(const char *progname);
void log_set_level(enum husk_log_level level);
enum husk_log_level log_get_level(void);
/* Parses "error|warn|info|debug"; returns -1 on anything else. */
int log_parse_level(const char *s, enum husk_log_level *out);
/* Writes lines to fd instead of stderr; json selects {"level":..,"msg":..,"time":..} lines. */
void log_set_output(int fd, int json);

void log_msg(enum husk_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_get_level() >= LOG_LEVEL_DEBUG)                                            \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                                     \
	} while (0)

#endif
