/*
 * The control socket: accept, read calls, write replies. Calls on one
 * connection run one at a time, in order, as Varlink requires; messages
 * that arrive while a call is open wait in the receive buffer. Every
 * wait is a one-shot poll on the loop, so a slow or silent client costs
 * a buffer and never a thread; and a client that leaves the daemon
 * waiting for a message longer than clients.idle_timeout is closed, so
 * it does not cost even that for long.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "cpd-protocol.h"
#include "cred.h"
#include "log.h"
#include "loop.h"
#include "path.h"

#define CONTROL_MAX_OUTPUT	(2 * CPD_MAX_REPLY)	/* unread replies before we give up */
/*
 * No further message of a connection is run while this much of its
 * replies is unread: a client that sends calls and reads no replies
 * gets its replies one at a time, instead of the daemon buffering up to
 * CONTROL_MAX_OUTPUT for each of its connections.
 */
#define CONTROL_BACKLOG		CPD_MAX_MESSAGE
/*
 * Descriptors kept in reserve (duplicates of the listening socket, so
 * that keeping them touches no file system). When the daemon is out of
 * fds, whoever took them, they are given up to accept one connection:
 * root's is served (so the administrator can always List and Cancel),
 * anyone else's is refused. More than one, so that root's call has a few
 * left to work with (a Cancel writes the job's journal record).
 */
#define CONTROL_SPARE_FDS	4

struct conn {
	int			 fd;
	struct cred		*cred;
	struct loop_op		 rop, wop;
	bool			 reading, writing;	/* polls pending */
	struct msgbuf		 in;
	char			*out;
	size_t			 outlen, outoff, outcap;
	struct call		*call;		/* the open call */
	bool			 eof;		/* peer shut its sending side */
	bool			 closing, dispatching;
	bool			 sending;	/* in control_send() */
	unsigned		 holds;		/* entry points running on it */
	uint64_t		 idle_since;	/* waiting for a message since */
	TAILQ_ENTRY(conn)	 entry;
};

static TAILQ_HEAD(, conn) conns = TAILQ_HEAD_INITIALIZER(conns);
static unsigned		nconns, max_conns;
static const struct control_protocol *proto;
static int		listen_fd = -1;
static bool		listen_owned;	/* we created the socket file */
static char		listen_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static struct loop_op	listen_op;
static bool		accept_paused;	/* out of fds: wait for the next tick */
static uint64_t		accept_logged;	/* when accept's failure was logged last */
static unsigned		refused;	/* connections refused since the last log line */
static const char	*refused_why;	/* the latest reason */
static uint64_t		refused_logged;
static int		spare[CONTROL_SPARE_FDS];
static unsigned		nspare;

static void conn_arm(struct conn *);

static void
conn_hold(struct conn *c)
{
	c->holds++;
}

static void conn_maybe_free(struct conn *);

static void
conn_release(struct conn *c)
{
	c->holds--;
	conn_maybe_free(c);
}
static void conn_process(struct conn *);

unsigned
control_clients(void)
{
	return nconns;
}

struct cred *
control_cred(struct conn *c)
{
	return c->cred;
}

/*
 * A connection is freed once it is closing and nothing refers to it: no
 * poll pending, no function of this file running on it.
 */
static void
conn_maybe_free(struct conn *c)
{
	if (!c->closing || c->reading || c->writing || c->holds)
		return;
	loop_forget(c->fd);
	close(c->fd);
	cred_unref(c->cred);
	msgbuf_free(&c->in);
	free(c->out);
	free(c);
}

static void
conn_abort_call(void *arg)
{
	struct conn *c = arg;

	if (c->call) {
		struct call *call = c->call;
		c->call = NULL;
		proto->abort(call);
	}
	conn_release(c);
}

void
control_close(struct conn *c, const char *why)
{
	if (c->closing)
		return;
	log_debug("client %d (uid %u): %s", c->fd, (unsigned)c->cred->uid, why);
	c->closing = true;
	TAILQ_REMOVE(&conns, c, entry);
	nconns--;
	/*
	 * A failed send happens inside a reply of the open call, whose
	 * caller goes on using the call (to end it, or to watch a job with
	 * it): end it once that is over. Until then control_send() drops
	 * its replies.
	 */
	conn_hold(c);
	/* Fires the pending polls; their callbacks let go of the connection. */
	shutdown(c->fd, SHUT_RDWR);
	if (c->sending)
		loop_post(conn_abort_call, c);
	else
		conn_abort_call(c);
}

static void
conn_flush(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			control_close(c, strerror(errno));
			return;
		}
		c->outoff += (size_t)n;
		c->idle_since = loop_now_usec();	/* a client reading replies is not idle */
	}
	c->outoff = c->outlen = 0;
}

void
control_send(struct conn *c, const char *json, size_t len)
{
	if (c->closing)
		return;
	conn_hold(c);
	c->sending = true;
	if (c->outlen - c->outoff + len + 1 > CONTROL_MAX_OUTPUT) {
		control_close(c, "client does not read its replies");
		goto out;
	}
	if (c->outlen + len + 1 > c->outcap) {
		size_t	 cap = c->outcap ? c->outcap : 4096;
		char	*p;

		if (c->outoff > 0) {		/* compact first */
			memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
			c->outlen -= c->outoff;
			c->outoff = 0;
		}
		while (cap < c->outlen + len + 1)
			cap *= 2;
		if ((p = realloc(c->out, cap)) == NULL) {
			control_close(c, "out of memory");
			goto out;
		}
		c->out = p;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, json, len);
	c->out[c->outlen + len] = '\0';
	c->outlen += len + 1;
	conn_flush(c);
	conn_arm(c);
out:
	c->sending = false;
	conn_release(c);
}

void
control_call_end(struct conn *c)
{
	c->call = NULL;
	c->idle_since = loop_now_usec();
	conn_process(c);
}

/* Run queued messages until a call stays open. */
static void
conn_process(struct conn *c)
{
	char	*msg;
	int	 full;

	if (c->dispatching || c->closing)
		return;
	conn_hold(c);
	c->dispatching = true;
	while (!c->closing && c->call == NULL && c->outlen - c->outoff < CONTROL_BACKLOG) {
		if ((msg = msgbuf_next(&c->in, &full)) == NULL) {
			if (full)
				control_close(c, "message too large");
			break;
		}
		c->idle_since = loop_now_usec();
		proto->dispatch(c, msg);
	}
	c->dispatching = false;
	if (!c->closing && c->eof && c->call == NULL && !msgbuf_pending(&c->in) &&
	    c->outoff == c->outlen)
		control_close(c, "end of input");
	conn_arm(c);
	conn_release(c);
}

void
control_call_begin(struct conn *c, struct call *call)
{
	c->call = call;
}

static void
conn_readable(struct loop_op *op, int res)
{
	struct conn *c = (struct conn *)((char *)op - offsetof(struct conn, rop));

	c->reading = false;
	conn_hold(c);
	if (c->closing)
		goto out;
	if (res < 0) {
		control_close(c, strerror(-res));
		goto out;
	}
	while (!c->eof) {
		size_t	 room;
		char	*p = msgbuf_space(&c->in, &room);
		ssize_t	 n;

		if (p == NULL)
			break;		/* full: a call is open, or oversized */
		n = recv(c->fd, p, room, MSG_DONTWAIT);
		if (n > 0)
			c->in.len += (size_t)n;
		else if (n == 0)
			c->eof = true;
		else if (errno == EAGAIN || errno == EINTR)
			break;
		else {
			control_close(c, strerror(errno));
			goto out;
		}
	}
	conn_process(c);
	/* POLLHUP: the peer closed both ways and cannot read replies. */
	if (!c->closing && (res & POLLHUP) && c->eof)
		control_close(c, "hung up");
	conn_arm(c);
out:
	conn_release(c);
}

static void
conn_writable(struct loop_op *op, int res)
{
	struct conn *c = (struct conn *)((char *)op - offsetof(struct conn, wop));

	c->writing = false;
	conn_hold(c);
	conn_flush(c);
	conn_process(c);	/* messages held back by unread replies */
	conn_release(c);
}

static void
conn_arm(struct conn *c)
{
	if (c->closing)
		return;
	if (c->outoff < c->outlen && !c->writing) {
		c->writing = true;
		loop_poll(&c->wop, c->fd, POLLOUT);
	}
	/*
	 * Read while there is room; with a full buffer (an open call and
	 * queued messages) only watch for the peer going away.
	 */
	if (!c->reading && !c->eof) {
		bool room = c->in.cap < msgbuf_limit(&c->in) || c->in.len < c->in.cap ||
		    c->in.off > 0;
		c->reading = true;
		loop_poll(&c->rop, c->fd, room ? POLLIN | POLLRDHUP : POLLRDHUP);
	}
}

/*
 * A flood of refused connections would otherwise be a flood of log
 * lines: one line a second at most, with the count.
 */
static void
control_refused_log(void)
{
	uint64_t now = loop_now_usec();

	if (refused == 0 || now - refused_logged < 1000000)
		return;
	log_warnx("refused %u client%s: %s", refused, refused == 1 ? "" : "s", refused_why);
	refused = 0;
	refused_logged = now;
}

static void
control_refused(const char *why)
{
	refused++;
	refused_why = why;
	control_refused_log();
}

static unsigned
control_user_conns(uid_t uid)
{
	struct conn	*c;
	unsigned	 n = 0;

	TAILQ_FOREACH(c, &conns, entry)
		n += c->cred->uid == uid;
	return n;
}

/* Take the reserve back as far as fds allow; control_tick() tries again. */
static void
control_spare_take(void)
{
	int fd;

	while (nspare < CONTROL_SPARE_FDS && listen_fd >= 0 &&
	    (fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 0)) >= 0)
		spare[nspare++] = fd;
}

static bool
control_peer_is_root(int fd)
{
	struct ucred	uc;
	socklen_t	len = sizeof(uc);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 && uc.uid == 0;
}

static void
control_spare_release(void)
{
	while (nspare > 0)
		close(spare[--nspare]);
}

/*
 * Out of fds: accept one connection with the reserve's, for root only.
 * Returns its fd, or -1 with errno as accept4's (no connection for us).
 */
static int
control_accept_spare(int err)
{
	int fd;

	if ((err != EMFILE && err != ENFILE) || nspare == 0) {
		errno = err;
		return -1;
	}
	control_spare_release();
	fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	err = errno;
	if (fd >= 0 && !control_peer_is_root(fd)) {
		control_refused("out of fds: only root is served");
		close(fd);
		fd = -1;
		err = EINTR;	/* taken and refused: accept the next one */
	}
	control_spare_take();
	errno = err;
	return fd;
}

static void
control_accept(struct loop_op *op, int res)
{
	while (listen_fd >= 0) {
		struct conn	*c;
		struct cred	*cred;
		int		 fd, rc;

		/* The reserve first: an fd closed since goes to it, not to a client. */
		control_spare_take();
		fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			fd = control_accept_spare(errno);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN)
				break;
			/*
			 * Out of fds or memory: the pending connection stays
			 * readable, so polling again at once would spin.
			 * control_tick() tries again (and logs again only
			 * once a minute).
			 */
			if (accept_logged == 0 ||
			    loop_now_usec() - accept_logged >= 60 * 1000000ULL) {
				log_warn("accept (trying again every quarter second)");
				accept_logged = loop_now_usec();
			}
			accept_paused = true;
			return;
		}
		if (nconns >= max_conns) {
			control_refused("clients.max connections reached");
			close(fd);
			continue;
		}
		if ((rc = cred_from_socket(fd, &cred)) < 0) {
			log_warnx("refusing a client: credentials: %s", strerror(-rc));
			close(fd);
			continue;
		}
		/* Root is not capped, so the administrator can always get in. */
		if (cred->uid != 0 &&
		    control_user_conns(cred->uid) >= cpd_conf->clients.max_per_user) {
			control_refused("a user reached clients.max_per_user connections");
			cred_unref(cred);
			close(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			cred_unref(cred);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->cred = cred;
		c->idle_since = loop_now_usec();
		c->rop.cb = conn_readable;
		c->wop.cb = conn_writable;
		TAILQ_INSERT_TAIL(&conns, c, entry);
		nconns++;
		log_debug("client %d: uid %u gid %u", fd, (unsigned)cred->uid,
		    (unsigned)cred->gid);
		conn_arm(c);
	}
	if (listen_fd >= 0)
		loop_poll(&listen_op, listen_fd, POLLIN);
}

static int
control_mkparent(const char *path)
{
	char	dir[sizeof(listen_path)];
	int	rc;

	if ((rc = path_dirname(path, dir, sizeof(dir))) < 0)
		return rc;
	for (char *p = dir + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(dir, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

/*
 * Whether the process that listens on the other end of the connected
 * probe still lives. A daemon killed with SIGKILL leaves its socket
 * accepting connections for a while (until the kernel has torn down its
 * io_uring, which holds the listening socket), so a connection alone
 * proves nothing; the listener's pid (SO_PEERCRED: who called listen)
 * being gone or a zombie does.
 */
static bool
control_listener_alive(int probe)
{
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc);
	char		 path[64], buf[256], *p;
	FILE		*f;
	bool		 alive = true;

	if (getsockopt(probe, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 || uc.pid <= 0)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)uc.pid);
	if ((f = fopen(path, "re")) == NULL)
		return errno != ENOENT;
	/* "pid (comm) S ...": the state follows the last ')'. */
	if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL &&
	    (p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X')))
		alive = false;
	fclose(f);
	return alive;
}

/*
 * Whether a daemon serves the socket: it accepts a connection, and its
 * listener lives. A daemon just killed may not look dead yet (SIGKILL
 * is on its way, or its exit is under way): one that still looks alive
 * is asked again, for up to a second, before the socket is taken as
 * served. (Start-up only: nothing is waiting on the loop yet.)
 */
static bool
control_served(const struct sockaddr_un *sun, int *rc)
{
	const struct timespec	 pause = { .tv_nsec = 50 * 1000 * 1000 };
	int			 probe;
	bool			 alive = false;

	for (int tries = 0; tries < 20; tries++) {
		if (tries)
			nanosleep(&pause, NULL);
		if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
			*rc = -errno;
			return false;
		}
		*rc = connect(probe, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ? 0 : -errno;
		alive = *rc == 0 && control_listener_alive(probe);
		close(probe);
		if (!alive)
			break;
	}
	return alive;
}

/*
 * Replace a stale socket file; never take the place of a live daemon,
 * and never remove anything that is not a socket.
 */
static int
control_bind(int fd, const struct sockaddr_un *sun)
{
	struct stat	st;
	int		rc;

	if (bind(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
		return 0;
	if (errno != EADDRINUSE)
		return -errno;
	if (lstat(sun->sun_path, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("%s: exists and is not a socket; not replacing it", sun->sun_path);
		return -EEXIST;
	}
	if (control_served(sun, &rc)) {
		log_warnx("%s: another daemon is serving this socket", sun->sun_path);
		return -EADDRINUSE;
	}
	if (rc != 0 && rc != -ECONNREFUSED)
		return -EADDRINUSE;
	log_info("%s: replacing a stale socket", sun->sun_path);
	if (unlink(sun->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return bind(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ? 0 : -errno;
}

int
control_listen(const struct config *conf, const struct control_protocol *protocol)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	int			n, rc;

	proto = protocol;
	max_conns = conf->clients.max;
	listen_op.cb = control_accept;
	if ((n = sd_listen_fds(1)) > 0) {
		if (n > 1)
			log_warnx("socket activation passed %d sockets; using the first", n);
		listen_fd = SD_LISTEN_FDS_START;
		if (sd_is_socket_unix(listen_fd, SOCK_STREAM, 1, NULL, 0) <= 0)
			fatalx("the socket passed by systemd is not a listening Unix stream socket");
		if ((rc = fcntl(listen_fd, F_GETFL)) < 0 ||
		    fcntl(listen_fd, F_SETFL, rc | O_NONBLOCK) < 0 ||
		    fcntl(listen_fd, F_SETFD, FD_CLOEXEC) < 0)
			return -errno;
		log_info("listening on the socket passed by systemd");
	} else {
		snprintf(listen_path, sizeof(listen_path), "%s", conf->socket);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", conf->socket);
		if ((rc = control_mkparent(conf->socket)) < 0) {
			log_warnx("%s: cannot create its directory: %s", conf->socket,
			    strerror(-rc));
			return rc;
		}
		listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (listen_fd < 0)
			return -errno;
		if ((rc = control_bind(listen_fd, &sun)) < 0) {
			if (rc != -EADDRINUSE && rc != -EEXIST)
				log_warnx("%s: bind: %s", conf->socket, strerror(-rc));
			return rc;
		}
		listen_owned = true;
		if (chmod(conf->socket, conf->socket_mode) < 0)
			return -errno;
		if (listen(listen_fd, SOMAXCONN) < 0)
			return -errno;
		log_info("listening on %s", conf->socket);
	}
	control_spare_take();
	loop_poll(&listen_op, listen_fd, POLLIN);
	return 0;
}

/*
 * Close the connections that have left the daemon waiting for a message
 * (a partial one counts as none) longer than clients.idle_timeout; a
 * connection with an open call is waiting for the daemon, not idle.
 */
void
control_tick(void)
{
	uint64_t	 now = loop_now_usec();
	uint64_t	 limit = (uint64_t)cpd_conf->clients.idle_timeout * 1000000;
	struct conn	*c, *next;

	control_spare_take();
	if (accept_paused && listen_fd >= 0) {
		accept_paused = false;
		loop_poll(&listen_op, listen_fd, POLLIN);
	}
	control_refused_log();
	if (limit == 0)
		return;
	for (c = TAILQ_FIRST(&conns); c; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->call == NULL && now - c->idle_since > limit)
			control_close(c, "idle timeout");
	}
}

/* Stop accepting; connections stay to receive the end of their calls. */
void
control_shutdown(void)
{
	if (listen_fd < 0)
		return;
	if (listen_owned)
		unlink(listen_path);
	shutdown(listen_fd, SHUT_RDWR);
	control_spare_release();	/* they hold the socket open too */
	loop_forget(listen_fd);
	close(listen_fd);
	listen_fd = -1;
}
