/*
 * The client side of a Varlink connection: one JSON object per message,
 * each followed by a NUL byte, over a Unix stream socket.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"

int
vl_connect(const char *path, struct vl **out)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct vl		*vl;
	socklen_t		 salen;
	size_t			 len = strlen(path);
	int			 fd, saved;

	*out = NULL;
	if (len == 0)
		return EINVAL;
	if (len >= sizeof sun.sun_path)
		return ENAMETOOLONG;
	memcpy(sun.sun_path, path, len);
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	if (path[0] == '@') {
		/* An abstract socket, as systemd and ss write them. */
		sun.sun_path[0] = '\0';
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return errno;
	while (connect(fd, (struct sockaddr *)&sun, salen) == -1) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		return saved;
	}

	vl = malloc(sizeof *vl);
	if (vl == NULL || (vl->path = strdup(path)) == NULL) {
		free(vl);
		close(fd);
		return ENOMEM;
	}
	vl->fd = fd;
	vl->error = 0;
	vl->intr_at = 0;
	memset(&vl->buf, 0, sizeof vl->buf);
	vl->buf.max = CPD_MAX_REPLY;	/* replies may be large: a long List */
	*out = vl;
	return 0;
}

void
vl_close(struct vl *vl)
{
	if (vl == NULL)
		return;
	close(vl->fd);
	msgbuf_free(&vl->buf);
	free(vl->path);
	free(vl);
}

void
vl_set_interrupt(struct vl *vl, int count)
{
	vl->intr_at = count;
}

static bool
vl_interrupted(struct vl *vl)
{
	return vl->intr_at > 0 && client_signal_count >= vl->intr_at;
}

int
vl_send(struct vl *vl, const char *method, struct json_object *params,
    bool more)
{
	struct json_object	*call;
	const char		*text;
	size_t			 len, off;
	ssize_t			 n;
	int			 status = VL_OK;

	call = json_object_new_object();
	if (call == NULL)
		goto nomem;
	json_object_object_add(call, "method", json_object_new_string(method));
	json_object_object_add(call, "parameters", params != NULL ?
	    json_object_get(params) : json_object_new_object());
	if (more)
		json_object_object_add(call, "more",
		    json_object_new_boolean(1));
	text = json_object_to_json_string_ext(call, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL) {
		json_object_put(call);
		goto nomem;
	}

	/* The terminating NUL of the string is the message delimiter. */
	len = strlen(text) + 1;
	if (len > CPD_MAX_MESSAGE) {
		json_object_put(call);
		vl->error = EMSGSIZE;
		return VL_EIO;
	}
	for (off = 0; off < len; off += (size_t)n) {
		n = send(vl->fd, text + off, len - off, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			vl->error = errno;
			status = errno == EPIPE || errno == ECONNRESET ?
			    VL_ECLOSED : VL_EIO;
			break;
		}
	}
	json_object_put(call);
	return status;

nomem:
	vl->error = ENOMEM;
	return VL_EIO;
}

/* Parse one message into reply. */
static int
vl_parse(char *msg, struct vl_reply *reply)
{
	struct json_tokener	*tok;
	struct json_object	*root, *v;
	size_t			 len = strlen(msg), end;

	tok = json_tokener_new();
	if (tok == NULL)
		return VL_EPROTO;
	root = json_tokener_parse_ex(tok, msg, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (root == NULL || json_tokener_get_error(tok) != json_tokener_success
	    || !json_object_is_type(root, json_type_object)) {
		json_tokener_free(tok);
		json_object_put(root);
		return VL_EPROTO;
	}
	json_tokener_free(tok);
	/* Nothing but white space may follow the object. */
	for (; end < len; end++)
		if (strchr(" \t\r\n", msg[end]) == NULL) {
			json_object_put(root);
			return VL_EPROTO;
		}

	reply->root = root;
	reply->error = NULL;
	reply->continues = false;
	if (json_object_object_get_ex(root, "error", &v)) {
		if (!json_object_is_type(v, json_type_string))
			goto bad;
		reply->error = json_object_get_string(v);
	}
	if (json_object_object_get_ex(root, "continues", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			goto bad;
		reply->continues = json_object_get_boolean(v);
	}
	if (!json_object_object_get_ex(root, "parameters", &v) ||
	    json_object_is_type(v, json_type_null)) {
		/* Absent parameters are empty ones; keep them in root. */
		v = json_object_new_object();
		if (v == NULL)
			goto bad;
		json_object_object_add(root, "parameters", v);
	} else if (!json_object_is_type(v, json_type_object))
		goto bad;
	reply->params = v;
	return VL_OK;

bad:
	json_object_put(root);
	reply->root = NULL;
	return VL_EPROTO;
}

/* Wait until fd is readable, letting the caught signals in meanwhile. */
static int
vl_wait(struct vl *vl)
{
	struct pollfd	 pfd = { .fd = vl->fd, .events = POLLIN };

	for (;;) {
		if (vl_interrupted(vl))
			return VL_EINTR;
		if (ppoll(&pfd, 1, NULL, client_signals_waitmask()) >= 0)
			return VL_OK;
		if (errno != EINTR) {
			vl->error = errno;
			return VL_EIO;
		}
	}
}

int
vl_recv(struct vl *vl, struct vl_reply *reply)
{
	char		*msg, *space;
	size_t		 room;
	ssize_t		 n;
	int		 full, r;

	memset(reply, 0, sizeof *reply);
	for (;;) {
		msg = msgbuf_next(&vl->buf, &full);
		if (msg != NULL)
			return vl_parse(msg, reply);
		if (full)
			return VL_ETOOBIG;

		if ((r = vl_wait(vl)) != VL_OK)
			return r;
		if ((space = msgbuf_space(&vl->buf, &room)) == NULL) {
			/* Not at the limit (msgbuf_next said so): no memory. */
			vl->error = ENOMEM;
			return VL_EIO;
		}
		n = recv(vl->fd, space, room, MSG_DONTWAIT);
		if (n == 0)
			return VL_ECLOSED;
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			vl->error = errno;
			return errno == ECONNRESET ? VL_ECLOSED : VL_EIO;
		}
		vl->buf.len += (size_t)n;
	}
}

void
vl_reply_free(struct vl_reply *reply)
{
	json_object_put(reply->root);
	memset(reply, 0, sizeof *reply);
}

int
vl_report(struct vl *vl, int status)
{
	switch (status) {
	case VL_EINTR:
		return client_error(CLIENT_EXIT_FAIL, "interrupted");
	case VL_ECLOSED:
		return client_error(CLIENT_EXIT_CONNECT,
		    "the daemon at %s closed the connection unexpectedly",
		    vl->path);
	case VL_EPROTO:
		return client_error(CLIENT_EXIT_CONNECT,
		    "malformed reply from the daemon at %s", vl->path);
	case VL_ETOOBIG:
		return client_error(CLIENT_EXIT_CONNECT,
		    "oversized reply from the daemon at %s (more than %d bytes)",
		    vl->path, CPD_MAX_REPLY);
	case VL_EIO:
		if (vl->error == EMSGSIZE)
			return client_error(CLIENT_EXIT_USAGE,
			    "request too large (more than %d bytes): "
			    "too many or too long arguments", CPD_MAX_MESSAGE);
		return client_error(CLIENT_EXIT_CONNECT,
		    "cannot talk to the daemon at %s: %s", vl->path,
		    strerror(vl->error));
	default:
		return CLIENT_EXIT_OK;
	}
}

/* A parameter of an error as text, or NULL. */
static const char *
vl_error_param(const struct vl_reply *reply, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(reply->params, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

int
vl_report_error(const struct vl_reply *reply)
{
	const char	*name = reply->error, *p;

	if (strcmp(name, CPD_ERR_NO_SUCH_JOB) == 0) {
		p = vl_error_param(reply, "id");
		return client_error(CLIENT_EXIT_FAIL, "no such job: %s",
		    p != NULL ? p : "?");
	}
	if (strcmp(name, CPD_ERR_PERMISSION_DENIED) == 0) {
		p = vl_error_param(reply, "reason");
		return client_error(CLIENT_EXIT_FAIL, "permission denied%s%s",
		    p != NULL ? ": " : "", p != NULL ? p : "");
	}
	if (strcmp(name, CPD_ERR_TOO_MANY_JOBS) == 0) {
		p = vl_error_param(reply, "limit");
		if (p != NULL)
			return client_error(CLIENT_EXIT_FAIL,
			    "too many unfinished jobs (the limit is %s)", p);
		return client_error(CLIENT_EXIT_FAIL, "too many unfinished jobs");
	}
	if (strcmp(name, CPD_ERR_SHUTTING_DOWN) == 0)
		return client_error(CLIENT_EXIT_FAIL,
		    "the daemon is shutting down and takes no new jobs");
	if (strcmp(name, VARLINK_ERR_INVALID_PARAMETER) == 0) {
		p = vl_error_param(reply, "parameter");
		return client_error(CLIENT_EXIT_FAIL, "invalid parameter: %s",
		    p != NULL ? p : "?");
	}
	if (strcmp(name, VARLINK_ERR_METHOD_NOT_FOUND) == 0 ||
	    strcmp(name, VARLINK_ERR_METHOD_NOT_IMPL) == 0) {
		/* Such as Pause, asked of a daemon older than the client. */
		p = vl_error_param(reply, "method");
		return client_error(CLIENT_EXIT_FAIL, "the daemon does not "
		    "support %s (is it older than %s?)",
		    p != NULL ? p : "this call", CLIENT_NAME);
	}
	if (json_object_object_length(reply->params) > 0)
		return client_error(CLIENT_EXIT_FAIL, "%s %s", name,
		    json_object_to_json_string_ext(reply->params,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	return client_error(CLIENT_EXIT_FAIL, "%s", name);
}
