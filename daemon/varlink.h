#ifndef CPD_VARLINK_H
#define CPD_VARLINK_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/queue.h>

#include <stdint.h>

struct conn;

/*
 * One method call. Most are answered at once; Copy/Wait with "more",
 * Wait and Cancel stay open, watching a job, until their final reply.
 */
struct call {
	struct conn		*conn;
	bool			 more;
	bool			 oneway;
	uint64_t		 watching;	/* the id of the job it waits on, 0: none */
	bool			 awaiting_accept; /* a Copy: until its job's record is durable */
	TAILQ_ENTRY(call)	 wentry;	/* in watch.c's list */
};

/* What main.c gives control_listen(): varlink_dispatch and varlink_abort. */
extern const struct control_protocol varlink_protocol;

/* Parse and run one message from conn; replies go through control_send(). */
void	varlink_dispatch(struct conn *, char *msg);
/* A reply; continues=false ends the call (and frees it). */
void	varlink_reply(struct call *, struct json_object *params, bool continues);
void	varlink_error(struct call *, const char *error, struct json_object *params);
/* The connection went away while the call was open. */
void	varlink_abort(struct call *);

/*
 * Parameter access for method handlers: on a missing or mistyped
 * parameter these reply InvalidParameter and return false.
 */
bool	varlink_get_string(struct call *, struct json_object *params, const char *name,
	    bool required, const char **out, size_t *len);
bool	varlink_get_int(struct call *, struct json_object *params, const char *name,
	    bool required, int64_t *out);
bool	varlink_get_bool(struct call *, struct json_object *params, const char *name,
	    bool *out);
void	varlink_invalid(struct call *, const char *parameter);

struct varlink_method {
	const char	*name;		/* without the interface */
	void		(*fn)(struct call *, struct json_object *params);
	bool		 stream;	/* follows a copy (Copy, Wait): not interactive work */
};

/*
 * The interface served beside org.varlink.service: main.c gives
 * varlink_init() manager.c's. varlink.c knows its methods only through
 * this, so that the protocol needs nothing of the layers above it.
 * call_end(), if any, runs as each of its calls ends (watch.c forgets
 * the calls that waited on a job).
 */
struct varlink_interface {
	const char			*name;
	const char			*description;	/* GetInterfaceDescription's text */
	const struct varlink_method	*methods;	/* up to one with a NULL name */
	bool				 guarded;	/* refused to foreign users */
	void				(*call_end)(struct call *);
};

void	varlink_init(const struct varlink_interface *);
extern const struct varlink_interface manager_interface;
extern const char varlink_interface_text[];	/* io.cpd.Manager.varlink, built in */

#endif
