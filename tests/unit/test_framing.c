/* NUL framing of Varlink messages: split, partial, oversized, growth. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cpd-protocol.h"

static void
feed(struct msgbuf *b, const char *data, size_t len)
{
	while (len > 0) {
		size_t	room;
		char	*p = msgbuf_space(b, &room);

		assert_non_null(p);
		if (room > len)
			room = len;
		memcpy(p, data, room);
		b->len += room;
		data += room;
		len -= room;
	}
}

static void
test_split(void **state)
{
	struct msgbuf b = { 0 };
	int full;

	feed(&b, "{\"a\":1}\0{\"b\":2}\0{\"c\"", 20);
	assert_string_equal(msgbuf_next(&b, &full), "{\"a\":1}");
	assert_true(msgbuf_pending(&b));
	assert_string_equal(msgbuf_next(&b, &full), "{\"b\":2}");
	assert_false(msgbuf_pending(&b));
	assert_null(msgbuf_next(&b, &full));
	assert_false(full);
	feed(&b, ":3}", 4);			/* includes the NUL */
	assert_string_equal(msgbuf_next(&b, &full), "{\"c\":3}");
	assert_null(msgbuf_next(&b, &full));
	msgbuf_free(&b);
}

static void
test_empty_message(void **state)
{
	struct msgbuf b = { 0 };
	int full;

	feed(&b, "\0", 1);
	assert_string_equal(msgbuf_next(&b, &full), "");
	msgbuf_free(&b);
}

/* Nothing received yet: no buffer at all (found by fuzzing: UB on NULL + 0). */
static void
test_nothing_yet(void **state)
{
	struct msgbuf b = { 0 };
	int full = 1;

	assert_null(msgbuf_next(&b, &full));
	assert_false(full);
	assert_false(msgbuf_pending(&b));
}

static void
test_oversized(void **state)
{
	static char big[CPD_MAX_MESSAGE];
	struct msgbuf b = { 0 };
	size_t room;
	int full;

	memset(big, 'x', sizeof(big));
	feed(&b, big, sizeof(big));
	assert_null(msgbuf_space(&b, &room));	/* at the limit, no NUL */
	assert_int_equal(room, 0);
	assert_null(msgbuf_next(&b, &full));
	assert_true(full);
	msgbuf_free(&b);
}

static void
test_largest_fits(void **state)
{
	static char big[CPD_MAX_MESSAGE];
	struct msgbuf b = { 0 };
	int full;
	char *m;

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	feed(&b, big, sizeof(big));
	m = msgbuf_next(&b, &full);
	assert_non_null(m);
	assert_int_equal(strlen(m), CPD_MAX_MESSAGE - 1);
	msgbuf_free(&b);
}

static void
test_compaction(void **state)
{
	struct msgbuf b = { 0 };
	int full;

	/* Many small messages through a buffer that never needs to grow. */
	for (int i = 0; i < 10000; i++) {
		feed(&b, "{}\0", 3);
		assert_string_equal(msgbuf_next(&b, &full), "{}");
	}
	assert_true(b.cap <= 1024);
	msgbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_nothing_yet),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_largest_fits),
		cmocka_unit_test(test_compaction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
