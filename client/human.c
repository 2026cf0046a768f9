/* Human-readable sizes, rates, durations and times; parsing rates. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
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

char *
human_usec(uint64_t usec, char *buf, size_t len)
{
	uint64_t	 tenths;

	if (usec < 1000) {
		snprintf(buf, len, "%" PRIu64 "us", usec);
		return buf;
	}
	/* One decimal, rounded; "1000.0ms" reads better as "1.0s". */
	tenths = usec / 100 + (usec % 100 >= 50);
	if (tenths < 10000) {
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "ms", tenths / 10,
		    tenths % 10);
		return buf;
	}
	tenths = usec / 100000 + (usec % 100000 >= 50000);
	snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", tenths / 10,
	    tenths % 10);
	return buf;
}

/* Fraction digits that count; further ones are checked but ignored. */
#define HUMAN_FRAC_DIGITS	18

int
human_parse_rate(const char *s, uint64_t *out)
{
	static const char	 units[] = "KMGT";
	const char		*p = s, *unit;
	unsigned __int128	 ip = 0, frac = 0, scale = 1, mult = 1, v;
	size_t			 nfrac = 0;
	bool			 fraction = false, nonzero = false, big = false;

	if (s == NULL || !isdigit((unsigned char)*p))
		return EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		nonzero |= *p != '0';
		/* Past HUMAN_RATE_MAX the value only matters as too big. */
		if (!big)
			ip = ip * 10 + (unsigned)(*p - '0');
		if (ip > HUMAN_RATE_MAX)
			big = true;
	}
	if (*p == '.') {
		fraction = true;
		if (!isdigit((unsigned char)*++p))
			return EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			nonzero |= *p != '0';
			if (nfrac++ < HUMAN_FRAC_DIGITS) {
				frac = frac * 10 + (unsigned)(*p - '0');
				scale *= 10;
			}
		}
	}

	/* The unit: K, M, G or T, then "B" or "iB"; or just "B". */
	if (*p != '\0' && (unit = strchr(units, toupper((unsigned char)*p)))
	    != NULL) {
		mult = (unsigned __int128)1 << (10 * (unit - units + 1));
		p++;
		if (strncmp(p, "iB", 2) == 0)
			p += 2;
		else if (*p == 'B')
			p++;
	} else if (*p == 'B')
		p++;
	if (strcmp(p, "/s") == 0)
		p += 2;
	if (*p != '\0')
		return EINVAL;
	/* A fraction of a byte is meaningless. */
	if (fraction && mult == 1)
		return EINVAL;

	if (big)
		return ERANGE;
	/* At most 2^63 * 2^40 + 10^18 * 2^40: well within 128 bits. */
	v = ip * mult + (frac * mult + scale / 2) / scale;
	if (v > HUMAN_RATE_MAX || (v == 0 && nonzero))
		return ERANGE;
	*out = (uint64_t)v;
	return 0;
}
