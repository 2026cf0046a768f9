#ifndef CPD_CRED_H
#define CPD_CRED_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * A caller's credentials, taken from its socket once at accept and shared
 * by every connection with the same set. Every filesystem access of a job
 * runs with them: as the io_uring personality (io_uring engine) or as the
 * worker thread's own credentials (fallback engine).
 */
struct cred {
	uid_t		 uid;
	gid_t		 gid;
	int		 ngroups;
	gid_t		*groups;
	int		 personality;	/* 0: run as the daemon itself */
	bool		 foreign;	/* unprivileged daemon, other user: refused */
	unsigned	 refs;
	struct cred	*next;
};

void	cred_init(bool personalities);
int	cred_from_socket(int fd, struct cred **);
/* The set (uid, gid, groups): takes groups (malloc'ed), even on failure. */
int	cred_get(uid_t uid, gid_t gid, gid_t *groups, int ngroups, struct cred **);
struct cred *cred_ref(struct cred *);
void	cred_unref(struct cred *);
/*
 * Switch the calling thread (only) to c's credentials, and back. NULL is
 * the daemon's own (for work of its own, such as closing a file).
 */
int	cred_enter(const struct cred *);
void	cred_leave(const struct cred *);
/* Whether c runs as the daemon itself (no switch needed); NULL does. */
bool	cred_is_self(const struct cred *);
void	cred_free_all(void);

#endif
