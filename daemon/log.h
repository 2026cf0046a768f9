#ifndef CPD_LOG_H
#define CPD_LOG_H

#include <syslog.h>

void	log_init(int debug);
void	log_setlevel(int level);
int	log_getlevel(void);
void	log_msg(int pri, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log_warn/fatal append ": strerror(errno)"; the x variants do not. */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
