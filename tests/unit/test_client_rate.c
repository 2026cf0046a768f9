/* cpd-client: parsing bandwidth limits (--bwlimit, bwlimit =). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../client/client.h"

#define KiB	1024ULL
#define MiB	(1024 * KiB)
#define GiB	(1024 * MiB)
#define TiB	(1024 * GiB)

static void
check_rate(const char *s, uint64_t want)
{
	uint64_t	 v = 12345;
	int		 r;

	r = human_parse_rate(s, &v);
	if (r != 0)
		fail_msg("'%s': error %d (%s)", s, r, strerror(r));
	if (v != want)
		fail_msg("'%s': %llu, expected %llu", s, (unsigned long long)v,
		    (unsigned long long)want);
}

/* s is refused with error; the output is left alone. */
static void
check_bad(const char *s, int error)
{
	uint64_t	 v = 12345;
	int		 r;

	r = human_parse_rate(s, &v);
	if (r != error)
		fail_msg("'%s': returned %d, expected %d", s, r, error);
	assert_true(v == 12345);
}

static void
test_plain_bytes(void **state)
{
	check_rate("0", 0);
	check_rate("1", 1);
	check_rate("1048576", MiB);
	check_rate("007", 7);
	check_rate("1048576B", MiB);
	check_rate("1048576/s", MiB);
	check_rate("1048576B/s", MiB);
}

static void
test_units(void **state)
{
	check_rate("800K", 800 * KiB);
	check_rate("50M", 50 * MiB);
	check_rate("2G", 2 * GiB);
	check_rate("3T", 3 * TiB);
	/* Either case; "B", "iB" and "/s" may follow. */
	check_rate("800k", 800 * KiB);
	check_rate("50m", 50 * MiB);
	check_rate("2g", 2 * GiB);
	check_rate("3t", 3 * TiB);
	check_rate("50MB", 50 * MiB);
	check_rate("50MiB", 50 * MiB);
	check_rate("50M/s", 50 * MiB);
	check_rate("50MB/s", 50 * MiB);
	check_rate("50MiB/s", 50 * MiB);
	check_rate("0K", 0);
	check_rate("0M/s", 0);
}

static void
test_fractions(void **state)
{
	check_rate("1.5G", GiB + GiB / 2);
	check_rate("1.5GiB/s", GiB + GiB / 2);
	check_rate("0.5K", 512);
	check_rate("2.25M", 2 * MiB + MiB / 4);
	check_rate("0.0M", 0);
	/* Rounded to the nearest byte: 102.4 and 102.6 bytes. */
	check_rate("0.1K", 102);
	check_rate("0.1001953125K", 103);	/* 102.6 */
	/* Half a byte rounds up: 0.00048828125 KiB is 0.5 bytes. */
	check_rate("0.00048828125K", 1);
	/* Digits beyond what can matter are accepted. */
	check_rate("1.00000000000000000000000000001K", KiB);
}

static void
test_invalid(void **state)
{
	static const char *const bad[] = {
		"", " ", "M", "K50", "-1", "+1", " 1", "1 ", "50 M", "1e6",
		"0x10", "1.", ".5M", "1..5M", "1.5.2M", "1,5M", "50MM",
		"50P", "50E", "50X", "50Mi", "50MiBs", "50MBB", "50Mb",
		"50mib", "50M/", "50M/S", "50M/sec", "50M/s/s", "50/s/s",
		"50iB", "50bps", "50KB ", "fast", "none",
		/* A fraction of a byte. */
		"1.5", "0.5", "1.5B", "1.0/s",
	};
	size_t	 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		check_bad(bad[i], EINVAL);
	check_bad(NULL, EINVAL);
}

static void
test_limits(void **state)
{
	/* The largest JSON int goes; one more does not. */
	check_rate("9223372036854775807", INT64_MAX);
	check_bad("9223372036854775808", ERANGE);
	check_bad("18446744073709551615", ERANGE);
	check_bad("18446744073709551616", ERANGE);
	check_bad("99999999999999999999999999999999999999999999", ERANGE);
	/* 2^63 - 2^40 is 8388607T; 8388608T is 2^63. */
	check_rate("8388607T", 8388607 * TiB);
	check_bad("8388608T", ERANGE);
	check_rate("8388607.5T", 8388607 * TiB + TiB / 2);
	/* 2^40 * (1 - 10^-18) bytes round up to 2^40. */
	check_bad("8388607.999999999999999999T", ERANGE);
	check_bad("9223372036854775807K", ERANGE);
	check_bad("17179869184G", ERANGE);	/* 2^34 GiB = 2^64 */
	/* Syntax is checked before size. */
	check_bad("99999999999999999999999x", EINVAL);
	/* Not zero, but less than half a byte. */
	check_bad("0.0001K", ERANGE);
	check_bad("0.4B", EINVAL);
}

static void
test_human_usec(void **state)
{
	char	 buf[32];

	assert_string_equal(human_usec(0, buf, sizeof buf), "0us");
	assert_string_equal(human_usec(12, buf, sizeof buf), "12us");
	assert_string_equal(human_usec(999, buf, sizeof buf), "999us");
	assert_string_equal(human_usec(1000, buf, sizeof buf), "1.0ms");
	assert_string_equal(human_usec(1249, buf, sizeof buf), "1.2ms");
	assert_string_equal(human_usec(1250, buf, sizeof buf), "1.3ms");
	assert_string_equal(human_usec(999949, buf, sizeof buf), "999.9ms");
	/* Never "1000.0ms". */
	assert_string_equal(human_usec(999950, buf, sizeof buf), "1.0s");
	assert_string_equal(human_usec(3400000, buf, sizeof buf), "3.4s");
	assert_string_equal(human_usec(UINT64_MAX, buf, sizeof buf),
	    "18446744073709.6s");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_bytes),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_fractions),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_human_usec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
