/*
 * Logging to stderr. Under systemd (JOURNAL_STREAM set) each line carries
 * a "<N>" syslog priority prefix, which journald turns into the entry's
 * priority; on a terminal it reads "cpd: message".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int	log_level = LOG_INFO;
static int	log_journal;

void
log_init(int debug)
{
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	log_level = debug ? LOG_DEBUG : LOG_INFO;
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

static void
log_vmsg(int pri, const char *fmt, va_list ap, const char *err)
{
	char	line[2048];

	if (pri > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_journal)
		fprintf(stderr, "<%d>%s%s%s\n", pri, line, err ? ": " : "", err ? err : "");
	else
		fprintf(stderr, "cpd: %s%s%s\n", line, err ? ": " : "", err ? err : "");
}

void
log_msg(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(pri, fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
