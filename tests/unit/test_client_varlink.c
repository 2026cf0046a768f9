/* cpd-client: reading Varlink replies (over a socketpair) and sending calls. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../client/client.h"

struct pair {
	struct vl	*vl;		/* the client's end */
	int		 peer;		/* the daemon's end */
};

static int
setup(void **state)
{
	struct pair	*p = calloc(1, sizeof *p);
	int		 fds[2];

	if (p == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1)
		return -1;
	p->vl = calloc(1, sizeof *p->vl);
	if (p->vl == NULL)
		return -1;
	p->vl->fd = fds[0];
	p->vl->path = strdup("/test.sock");
	p->peer = fds[1];
	*state = p;
	return 0;
}

static int
teardown(void **state)
{
	struct pair	*p = *state;

	vl_close(p->vl);
	if (p->peer != -1)
		close(p->peer);
	free(p);
	return 0;
}

static void
peer_write(struct pair *p, const char *data, size_t len)
{
	assert_int_equal(write(p->peer, data, len), (ssize_t)len);
}

/* Write a message and its NUL. */
static void
peer_send(struct pair *p, const char *msg)
{
	peer_write(p, msg, strlen(msg) + 1);
}

static void
test_reply(void **state)
{
	struct pair	*p = *state;
	struct vl_reply	 r;

	peer_send(p, "{\"parameters\": {\"job\": {\"id\": 3, \"state\": "
	    "\"queued\"}}}");
	assert_int_equal(vl_recv(p->vl, &r), VL_OK);
	assert_null(r.error);
	assert_false(r.continues);
	assert_non_null(job_from_params(r.params));
	assert_true(job_u64(job_from_params(r.params), "id") == 3);
	vl_reply_free(&r);
}

static void
test_stream_in_one_write(void **state)
{
	struct pair	*p = *state;
	struct vl_reply	 r;
	const char	 two[] = "{\"parameters\": {\"n\": 1}, \"continues\": true}"
	    "\0{\"parameters\": {\"n\": 2}}";

	peer_write(p, two, sizeof two);	/* both NULs */
	assert_int_equal(vl_recv(p->vl, &r), VL_OK);
	assert_true(r.continues);
	assert_true(job_u64(r.params, "n") == 1);
	vl_reply_free(&r);
	assert_int_equal(vl_recv(p->vl, &r), VL_OK);
	assert_false(r.continues);
	assert_true(job_u64(r.params, "n") == 2);
	vl_reply_free(&r);
}

static void
test_split_message(void **state)
{
	struct pair	*p = *state;
	struct vl_reply	 r;
	const char	*msg = "{\"parameters\": {\"n\": 42}}";

	/* Half now; a non-blocking look finds nothing whole yet. */
	peer_write(p, msg, 10);
	peer_write(p, msg + 10, strlen(msg + 10) + 1);
	assert_int_equal(vl_recv(p->vl, &r), VL_OK);
	assert_true(job_u64(r.params, "n") == 42);
	vl_reply_free(&r);
}

static void
test_error_reply(void **state)
{
	struct pair	*p = *state;
	struct vl_reply	 r;

	peer_send(p, "{\"error\": \"io.cpd.Manager.NoSuchJob\", "
	    "\"parameters\": {\"id\": 9}}");
	assert_int_equal(vl_recv(p->vl, &r), VL_OK);
	assert_string_equal(r.error, CPD_ERR_NO_SUCH_JOB);
	assert_int_equal(vl_report_error(&r), CLIENT_EXIT_FAIL);
	vl_reply_free(&r);

	/* Parameters may be left out. */
	peer_send(p, "{\"error\": \"io.cpd.Manager.ShuttingDown\"}");
	assert_int_equal(vl_recv(p->vl, &r), VL_OK);
	assert_string_equal(r.error, CPD_ERR_SHUTTING_DOWN);
	assert_non_null(r.params);
	assert_int_equal(json_object_object_length(r.params), 0);
	vl_reply_free(&r);
}

static void
test_malformed(void **state)
{
	struct pair	*p = *state;
	struct vl_reply	 r;

	peer_send(p, "{\"parameters\": nope}");
	assert_int_equal(vl_recv(p->vl, &r), VL_EPROTO);
	peer_send(p, "[1, 2]");
	assert_int_equal(vl_recv(p->vl, &r), VL_EPROTO);
	peer_send(p, "{\"parameters\": {}} trailing");
	assert_int_equal(vl_recv(p->vl, &r), VL_EPROTO);
	peer_send(p, "{\"parameters\": 5}");
	assert_int_equal(vl_recv(p->vl, &r), VL_EPROTO);
	peer_send(p, "{\"error\": 5}");
	assert_int_equal(vl_recv(p->vl, &r), VL_EPROTO);
	peer_send(p, "{\"parameters\": {}, \"continues\": \"yes\"}");
	assert_int_equal(vl_recv(p->vl, &r), VL_EPROTO);
	peer_send(p, "");
	assert_int_equal(vl_recv(p->vl, &r), VL_EPROTO);
	/* After all that, a good one still reads. */
	peer_send(p, "{\"parameters\": {}}\n");
	assert_int_equal(vl_recv(p->vl, &r), VL_OK);
	vl_reply_free(&r);
}

static void
test_oversized(void **state)
{
	struct pair	*p = *state;
	struct vl_reply	 r;
	char		*big = malloc(CPD_MAX_MESSAGE + 10);
	pid_t		 pid;
	int		 wstatus;

	assert_non_null(big);
	memset(big, ' ', CPD_MAX_MESSAGE + 10);
	/* The writer blocks until the reader gives up: write from a child. */
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		ssize_t n = write(p->peer, big, CPD_MAX_MESSAGE + 10);
		_exit(n > 0 ? 0 : 1);
	}
	assert_int_equal(vl_recv(p->vl, &r), VL_ETOOBIG);
	assert_int_equal(vl_report(p->vl, VL_ETOOBIG), CLIENT_EXIT_CONNECT);
	/* Let the child finish its write: drain what is left. */
	close(p->peer);
	p->peer = -1;
	while (read(p->vl->fd, big, CPD_MAX_MESSAGE) > 0)
		;
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	free(big);
}

static void
test_closed(void **state)
{
	struct pair	*p = *state;
	struct vl_reply	 r;

	peer_write(p, "{\"param", 7);	/* and then nothing */
	close(p->peer);
	p->peer = -1;
	assert_int_equal(vl_recv(p->vl, &r), VL_ECLOSED);
	assert_int_equal(vl_report(p->vl, VL_ECLOSED), CLIENT_EXIT_CONNECT);
}

static void
test_send(void **state)
{
	struct pair		*p = *state;
	struct json_object	*params, *call, *v;
	char			 buf[1024];
	ssize_t			 n;

	params = json_object_new_object();
	json_object_object_add(params, "id", json_object_new_int(4));
	assert_int_equal(vl_send(p->vl, CPD_METHOD("Wait"), params, true),
	    VL_OK);
	json_object_put(params);

	n = read(p->peer, buf, sizeof buf);
	assert_true(n > 1);
	assert_int_equal(buf[n - 1], '\0');	/* one message, NUL-ended */
	assert_int_equal(strlen(buf), (size_t)n - 1);
	call = json_tokener_parse(buf);
	assert_non_null(call);
	assert_true(json_object_object_get_ex(call, "method", &v));
	assert_string_equal(json_object_get_string(v), "io.cpd.Manager.Wait");
	assert_true(json_object_object_get_ex(call, "more", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(call, "parameters", &v));
	assert_true(job_u64(v, "id") == 4);
	json_object_put(call);

	/* Without more and without parameters. */
	assert_int_equal(vl_send(p->vl, CPD_METHOD("List"), NULL, false),
	    VL_OK);
	n = read(p->peer, buf, sizeof buf);
	assert_true(n > 1);
	call = json_tokener_parse(buf);
	assert_false(json_object_object_get_ex(call, "more", &v));
	assert_true(json_object_object_get_ex(call, "parameters", &v));
	assert_int_equal(json_object_object_length(v), 0);
	json_object_put(call);
}

static void
test_send_too_big(void **state)
{
	struct pair		*p = *state;
	struct json_object	*params;
	char			*s = malloc(CPD_MAX_MESSAGE);

	assert_non_null(s);
	memset(s, 'a', CPD_MAX_MESSAGE - 1);
	s[CPD_MAX_MESSAGE - 1] = '\0';
	params = json_object_new_object();
	json_object_object_add(params, "destination",
	    json_object_new_string(s));
	assert_int_equal(vl_send(p->vl, CPD_METHOD("Copy"), params, false),
	    VL_EIO);
	assert_int_equal(p->vl->error, EMSGSIZE);
	assert_int_equal(vl_report(p->vl, VL_EIO), CLIENT_EXIT_USAGE);
	json_object_put(params);
	free(s);
}

static void
test_connect_errors(void **state)
{
	struct vl	*vl;
	char		 longpath[200];

	assert_int_equal(vl_connect("/nonexistent/cpd.sock", &vl), ENOENT);
	assert_null(vl);
	memset(longpath, 'x', sizeof longpath - 1);
	longpath[0] = '/';
	longpath[sizeof longpath - 1] = '\0';
	assert_int_equal(vl_connect(longpath, &vl), ENAMETOOLONG);
	assert_int_equal(vl_connect("", &vl), EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_in_one_write, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_split_message, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_error_reply, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_too_big, setup,
		    teardown),
		cmocka_unit_test(test_connect_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
