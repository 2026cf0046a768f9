/*
 * Credentials of callers.
 *
 * With io_uring, a personality is registered for each distinct credential
 * set: the loop thread switches its own (thread-local, raw syscall)
 * credentials, calls io_uring_register_personality(), and switches back.
 * It has to be the loop thread: a SINGLE_ISSUER ring refuses registration
 * from any other task (-EEXIST). Keeping the saved uid 0 while switched is
 * what lets the thread switch back; failing to switch back is fatal,
 * because the loop would otherwise go on with a caller's identity.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cred.h"
#include "log.h"
#include "loop.h"

#define CRED_CACHE_IDLE	32	/* unused credential sets kept registered */

static struct cred	*creds;
static bool		 use_personalities;
static bool		 privileged;

void
cred_init(bool personalities)
{
	privileged = geteuid() == 0;
	use_personalities = personalities && privileged;
}

bool
cred_is_self(const struct cred *c)
{
	return c == NULL || !privileged || c->uid == 0;
}

static void	cred_restore(void);

/*
 * glibc's setresuid() and friends change every thread of the process;
 * the raw system calls change only the calling thread, which is what a
 * temporary switch needs.
 */
int
cred_enter(const struct cred *c)
{
	if (cred_is_self(c))
		return 0;
	if (syscall(SYS_setgroups, (size_t)c->ngroups, c->groups) < 0 ||
	    syscall(SYS_setresgid, c->gid, c->gid, (gid_t)-1) < 0 ||
	    syscall(SYS_setresuid, c->uid, c->uid, (uid_t)-1) < 0) {
		int rc = -errno;
		cred_restore();
		return rc;
	}
	return 0;
}

static void
cred_restore(void)
{
	if (syscall(SYS_setresuid, 0, 0, 0) < 0 ||
	    syscall(SYS_setresgid, 0, 0, 0) < 0 ||
	    syscall(SYS_setgroups, 0, NULL) < 0)
		fatal("cannot restore the daemon's credentials");
}

/* Back from cred_enter(c); nothing to do when it switched nothing. */
void
cred_leave(const struct cred *c)
{
	if (!cred_is_self(c))
		cred_restore();
}

static int
cred_cmp_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
	return x < y ? -1 : x > y;
}

static void
cred_destroy(struct cred *c)
{
	if (c->personality > 0)
		io_uring_unregister_personality(loop_ring(), c->personality);
	free(c->groups);
	free(c);
}

/* Drop idle sets beyond the cache size, oldest (furthest down) first. */
static void
cred_trim(void)
{
	struct cred **pp = &creds;
	int idle = 0;

	while (*pp) {
		struct cred *c = *pp;
		if (c->refs == 0 && ++idle > CRED_CACHE_IDLE) {
			*pp = c->next;
			cred_destroy(c);
		} else
			pp = &c->next;
	}
}

static int
cred_peergroups(int fd, gid_t **out, int *n)
{
	socklen_t len = 64 * sizeof(gid_t);
	gid_t	*g = NULL;

	for (;;) {
		gid_t *ng = realloc(g, len ? len : 1);
		if (ng == NULL) {
			free(g);
			return -ENOMEM;
		}
		g = ng;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0)
			break;
		if (errno != ERANGE) {
			free(g);
			return -errno;
		}
	}
	*n = (int)(len / sizeof(gid_t));
	*out = g;
	return 0;
}

int
cred_from_socket(int fd, struct cred **out)
{
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc);
	gid_t		*groups = NULL;
	int		 ngroups = 0, rc;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	if ((rc = cred_peergroups(fd, &groups, &ngroups)) < 0)
		return rc;
	return cred_get(uc.uid, uc.gid, groups, ngroups, out);
}

int
cred_get(uid_t uid, gid_t gid, gid_t *groups, int ngroups, struct cred **out)
{
	struct cred	*c, **pp;
	int		 rc;

	qsort(groups, (size_t)ngroups, sizeof(gid_t), cred_cmp_gid);
	for (pp = &creds; (c = *pp) != NULL; pp = &c->next)
		if (c->uid == uid && c->gid == gid && c->ngroups == ngroups &&
		    memcmp(c->groups, groups, (size_t)ngroups * sizeof(gid_t)) == 0) {
			free(groups);
			*pp = c->next;		/* move to the front: most recent */
			goto found;
		}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		free(groups);
		return -ENOMEM;
	}
	c->uid = uid;
	c->gid = gid;
	c->groups = groups;
	c->ngroups = ngroups;
	c->foreign = !privileged && uid != geteuid();
	if (use_personalities && !cred_is_self(c)) {
		if ((rc = cred_enter(c)) == 0) {
			rc = io_uring_register_personality(loop_ring());
			cred_leave(c);
		}
		if (rc < 0) {
			log_warnx("cannot register credentials of uid %u: %s",
			    (unsigned)c->uid, strerror(-rc));
			free(c->groups);
			free(c);
			return rc;
		}
		c->personality = rc;
		log_debug("uid %u gid %u (%d groups): personality %d",
		    (unsigned)c->uid, (unsigned)c->gid, ngroups, rc);
	}
found:
	c->next = creds;
	creds = c;
	c->refs++;
	cred_trim();
	*out = c;
	return 0;
}

struct cred *
cred_ref(struct cred *c)
{
	c->refs++;
	return c;
}

void
cred_unref(struct cred *c)
{
	if (c && --c->refs == 0)
		cred_trim();
}

void
cred_free_all(void)
{
	struct cred *c;

	while ((c = creds) != NULL) {
		creds = c->next;
		cred_destroy(c);
	}
}
