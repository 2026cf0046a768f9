/* Human-readable sizes, rates, durations and times. */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "client.h"

static const char *const human_units[] = {
	"KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
};
#define HUMAN_NUNITS (sizeof(human_units) / sizeof(human_units[0]))

char *
human_size(uint64_t n, char *buf, size_t len)
{
	uint64_t	 unit = 1024, tenths;
	size_t		 u = 0;

	if (n < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", n);
		return buf;
	}
	/*
	 * One decimal, rounded to nearest; move up a unit when the rounded
	 * value would read 1024.0. Integer arithmetic keeps it exact:
	 * tenths = round(n * 10 / unit), computed without overflow.
	 */
	for (;;) {
		tenths = (n / unit) * 10 + ((n % unit) * 10 + unit / 2) / unit;
		if (tenths < 10240 || u == HUMAN_NUNITS - 1)
			break;
		unit *= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 ".%" PRIu64 " %s", tenths / 10,
	    tenths % 10, human_units[u]);
	return buf;
}

char *
human_rate(uint64_t n, char *buf, size_t len)
{
	char	 size[32];

	snprintf(buf, len, "%s/s", human_size(n, size, sizeof size));
	return buf;
}

char *
human_clock(uint64_t s, char *buf, size_t len)
{
	uint64_t	 d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;

	s %= 60;
	if (d > 0)
		snprintf(buf, len, "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64
		    ":%02" PRIu64, d, h, m, s);
	else if (h > 0)
		snprintf(buf, len, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
		    h, m, s);
	else
		snprintf(buf, len, "%" PRIu64 ":%02" PRIu64, m, s);
	return buf;
}

char *
human_duration(uint64_t s, char *buf, size_t len)
{
	uint64_t	 d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;

	s %= 60;
	if (d > 0)
		snprintf(buf, len, "%" PRIu64 "d %" PRIu64 "h %" PRIu64 "m %"
		    PRIu64 "s", d, h, m, s);
	else if (h > 0)
		snprintf(buf, len, "%" PRIu64 "h %" PRIu64 "m %" PRIu64 "s",
		    h, m, s);
	else if (m > 0)
		snprintf(buf, len, "%" PRIu64 "m %" PRIu64 "s", m, s);
	else
		snprintf(buf, len, "%" PRIu64 "s", s);
	return buf;
}

char *
human_time(uint64_t usec, char *buf, size_t len)
{
	time_t		 t = (time_t)(usec / 1000000);
	struct tm	 tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%" PRIu64, usec);
	return buf;
}
