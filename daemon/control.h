#ifndef CPD_CONTROL_H
#define CPD_CONTROL_H

#include <stdbool.h>

struct call;
struct conn;
struct config;

int	control_listen(const struct config *);
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
