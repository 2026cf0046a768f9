/* daemon-status: the daemon's GetStatus, one "key: value" per line. */
#include <inttypes.h>
#include <string.h>

#include "client.h"

/* Keys whose values read better in human units. */
static void
cmd_daemon_print(const char *key, struct json_object *v)
{
	char		 buf[64];
	uint64_t	 n;
	size_t		 i, len;

	if (json_object_is_type(v, json_type_null)) {
		printf("%s: -\n", key);
		return;
	}
	if (json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v) > 0 ?
		    (uint64_t)json_object_get_int64(v) : 0;
		if (strcmp(key, "uptime_usec") == 0) {
			printf("uptime: %s\n", human_duration(n / 1000000, buf,
			    sizeof buf));
			return;
		}
		if (strcmp(key, "rate") == 0) {
			printf("%s: %s\n", key, human_rate(n, buf, sizeof buf));
			return;
		}
		if (strcmp(key, "bytes_copied") == 0 && n >= 1024) {
			printf("%s: %s (%" PRIu64 " bytes)\n", key,
			    human_size(n, buf, sizeof buf), n);
			return;
		}
		if (strcmp(key, "bytes_copied") == 0) {
			printf("%s: %s\n", key, human_size(n, buf, sizeof buf));
			return;
		}
	}
	if (json_object_is_type(v, json_type_array)) {
		/* A list of words, such as the features. */
		printf("%s:", key);
		len = json_object_array_length(v);
		for (i = 0; i < len; i++)
			printf("%s %s", i > 0 ? "," : "", json_object_get_string(
			    json_object_array_get_idx(v, i)));
		printf("%s\n", len == 0 ? " -" : "");
		return;
	}
	printf("%s: %s\n", key, json_object_get_string(v));
}

int
cmd_daemon_status(struct client *c, const struct cmd_entry *cmd, int argc,
    char **argv)
{
	struct vl_reply	 reply;
	int		 status;

	if (cmd_parse_simple(c, cmd, argc, argv, 0, &status) == -1)
		return status;
	status = client_call(c, CPD_METHOD("GetStatus"), NULL, &reply);
	if (status != CLIENT_EXIT_OK)
		return status;
	if (c->json)
		client_print_json(reply.params);
	else {
		/* Every field, in the daemon's order, known or not. */
		json_object_object_foreach(reply.params, key, v)
			cmd_daemon_print(key, v);
	}
	vl_reply_free(&reply);
	return CLIENT_EXIT_OK;
}
