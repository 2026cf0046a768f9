/*
 * cpd-client: GetStatus's devices as a table (daemon-status), and the
 * device a queued job waits for (status).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../client/client.h"
#include "print_fixture.h"

static void
test_devices_table(void **state)
{
	char *out = daemon_status("{\"jobs_done\": 2, \"devices\": ["
	    "{\"name\": \"sda\", \"dev\": \"8:0\", \"class\": \"rotational\", "
	    "\"running\": 1, \"queued\": 2, \"read_bytes\": 1073741824, "
	    "\"written_bytes\": 0, \"read_rate\": 104857600, \"write_rate\": 0}, "
	    "{\"name\": \"0:45\", \"dev\": \"0:45\", \"class\": \"other\", "
	    "\"running\": 0, \"queued\": 0, \"read_bytes\": 0, "
	    "\"written_bytes\": 1536, \"read_rate\": 0, \"write_rate\": 512}], "
	    "\"journal\": \"ok\"}");

	assert_string_equal(out,
	    "jobs_done: 2\n"
	    "devices:\n"
	    "  NAME       CLASS      RUN QUEUED      READ   WRITTEN      READ/S     WRITE/S\n"
	    "  sda        rotational   1      2   1.0 GiB       0 B 100.0 MiB/s       0 B/s\n"
	    "  0:45       other        0      0       0 B   1.5 KiB       0 B/s     512 B/s\n"
	    "journal: ok\n");
	free(out);
}

static void
test_devices_none_or_odd(void **state)
{
	char *out = daemon_status("{\"devices\": []}");

	assert_string_equal(out, "devices: -\n");
	free(out);
	/* Not a list of objects (a future daemon's): shown as it is. */
	out = daemon_status("{\"devices\": [\"sda\"]}");
	assert_string_equal(out, "devices: sda\n");
	free(out);
	/* A device with fields missing. */
	out = daemon_status("{\"devices\": [{\"name\": \"vdb\"}]}");
	assert_non_null(strstr(out, "  vdb        ?            0      0       0 B       0 B"));
	free(out);
}

/* status: a queued job held by a device says which. */
static void
test_status_waiting(void **state)
{
	char *out = printed(cmd_status_print, "{\"id\": 3, \"state\": \"queued\", "
	    "\"waiting_for_device\": \"sda\", \"priority\": \"bulk\"}");

	assert_non_null(strstr(out, "state: queued\nwaiting_for_device: sda\npriority: bulk\n"));
	free(out);
	out = printed(cmd_status_print, "{\"id\": 3, \"state\": \"queued\"}");
	assert_null(strstr(out, "waiting_for_device"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devices_table),
		cmocka_unit_test(test_devices_none_or_odd),
		cmocka_unit_test(test_status_waiting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
