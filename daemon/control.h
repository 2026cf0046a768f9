#ifndef CPD_CONTROL_H
#define CPD_CONTROL_H

#include <stdbool.h>

struct call;
struct conn;
struct config;

/*
 * The protocol spoken on the connections, given by main.c: control is
 * the transport below it and knows it only through these.
 * dispatch() runs one whole message (NUL-terminated in place); a call it
 * opens with control_call_begin() holds the connection's later messages
 * back until control_call_end(). abort() tells that open call that its
 * connection went away.
 */
struct control_protocol {
	void	(*dispatch)(struct conn *, char *msg);
	void	(*abort)(struct call *);
};

int	control_listen(const struct config *, const struct control_protocol *);
void	control_shutdown(void);
/* Periodic work: idle timeouts, accepting again after running out of fds. */
void	control_tick(void);
/* Queue one message (a NUL is appended) for the peer. */
void	control_send(struct conn *, const char *json, size_t len);
/* A call opened on the connection; later ones wait for it to end. */
void	control_call_begin(struct conn *, struct call *);
/* The connection's current call ended: run its next queued message. */
void	control_call_end(struct conn *);
/* The connection is broken beyond replying: close it. */
void	control_close(struct conn *, const char *why);
struct cred *control_cred(struct conn *);
unsigned control_clients(void);

#endif
