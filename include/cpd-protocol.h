/*
 * The wire protocol shared by cpd and cpd-client: Varlink over a Unix
 * stream socket. Each message is one JSON object followed by a NUL byte.
 * The interface itself (methods, types, errors) is io.cpd.Manager.varlink
 * beside this file; cpd-varlink(7) documents both.
 */
#ifndef CPD_PROTOCOL_H
#define CPD_PROTOCOL_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define CPD_VERSION		"0.1.0"
#define CPD_DEFAULT_SOCKET	"/run/cpd/io.cpd.Manager"
#ifndef CPD_SYSCONFDIR			/* make SYSCONFDIR=... sets it */
#define CPD_SYSCONFDIR		"/etc"
#endif
#define CPD_INTERFACE		"io.cpd.Manager"
#define CPD_METHOD(m)		CPD_INTERFACE "." m

/*
 * Largest call the daemon accepts, and largest reply the client accepts
 * (a List of many jobs is large), terminating NUL included.
 */
#define CPD_MAX_MESSAGE		(64 * 1024)
#define CPD_MAX_REPLY		(16 * 1024 * 1024)

#define VARLINK_SERVICE		"org.varlink.service"
#define VARLINK_ERR_INTERFACE_NOT_FOUND	VARLINK_SERVICE ".InterfaceNotFound"
#define VARLINK_ERR_METHOD_NOT_FOUND	VARLINK_SERVICE ".MethodNotFound"
#define VARLINK_ERR_METHOD_NOT_IMPL	VARLINK_SERVICE ".MethodNotImplemented"
#define VARLINK_ERR_INVALID_PARAMETER	VARLINK_SERVICE ".InvalidParameter"

#define CPD_ERR_NO_SUCH_JOB		CPD_INTERFACE ".NoSuchJob"
#define CPD_ERR_PERMISSION_DENIED	CPD_INTERFACE ".PermissionDenied"
#define CPD_ERR_TOO_MANY_JOBS		CPD_INTERFACE ".TooManyJobs"
#define CPD_ERR_SHUTTING_DOWN		CPD_INTERFACE ".ShuttingDown"

/*
 * A receive buffer that yields whole NUL-terminated messages. Both sides
 * read into it and take messages out. It starts empty and grows up to its
 * limit (max, or CPD_MAX_MESSAGE when 0), so an idle connection costs
 * nothing; a message that does not fit is a protocol error.
 * Zero-initialise; msgbuf_free() at the end.
 */
struct msgbuf {
	size_t	 max;
	char	*data;
	size_t	 cap;		/* allocated */
	size_t	 len;		/* bytes held */
	size_t	 off;		/* start of the first unconsumed message */
};

static inline size_t
msgbuf_limit(const struct msgbuf *b)
{
	return b->max ? b->max : CPD_MAX_MESSAGE;
}

/*
 * Where to read into and how much room is left (compacting, and growing
 * when full). NULL with *room == 0 when the buffer is at its limit, or
 * when memory ran out.
 */
static inline char *
msgbuf_space(struct msgbuf *b, size_t *room)
{
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->len == b->cap && b->cap < msgbuf_limit(b)) {
		size_t	 cap = b->cap ? b->cap * 4 : 1024;
		char	*d;

		if (cap > msgbuf_limit(b))
			cap = msgbuf_limit(b);
		if ((d = realloc(b->data, cap)) != NULL) {
			b->data = d;
			b->cap = cap;
		}
	}
	*room = b->cap - b->len;
	return *room ? b->data + b->len : NULL;
}

/*
 * The next complete message (NUL-terminated in place), or NULL when none
 * is complete yet. *full is set when no message is complete and the
 * buffer is at its limit: the peer sent an oversized message.
 */
static inline char *
msgbuf_next(struct msgbuf *b, int *full)
{
	char *start, *nul = NULL;

	*full = 0;
	if (b->len > b->off) {		/* else data may still be NULL */
		start = b->data + b->off;
		nul = memchr(start, '\0', b->len - b->off);
	}
	if (nul == NULL) {
		*full = b->off == 0 && b->len == msgbuf_limit(b);
		return NULL;
	}
	b->off = (size_t)(nul - b->data) + 1;
	return start;
}

/* Whether a complete message is waiting. */
static inline int
msgbuf_pending(const struct msgbuf *b)
{
	return b->len > b->off && memchr(b->data + b->off, '\0', b->len - b->off) != NULL;
}

static inline void
msgbuf_free(struct msgbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->cap = b->len = b->off = 0;	/* max stays */
}

#endif
