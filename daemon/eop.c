/*
 * An operation's life outside the backends that carry it out: its name,
 * the faults injected into it (cpd --fault, a testing aid), the engine's
 * counters, and the delivery of its result, which is where the
 * completion rule (engine.h) is kept. Apart from engine.c so that the
 * backends, which deliver results, need nothing of the engine that
 * chooses between them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "engine_backend.h"
#include "log.h"
#include "loop.h"

struct engine_stats	engine_stats;

/*
 * Fault names: the operations, and after them the io_uring engine's data
 * lanes and the verify step's look at a copy (copy_verify.c).
 */
#define FAULT_LANE	EOP_COUNT
#define FAULT_VERIFY	(EOP_COUNT + 1)
#define FAULT_COUNT	(EOP_COUNT + 2)
static const char *const eop_names[FAULT_COUNT] = {
	"open", "statx", "copy", "fsync", "rename", "unlink", "mkdir", "symlink",
	"link", "writeback", "readdir", "readlink", "mknod", "meta", "clone", "extents", "truncate",
	"allocate", "compare", "call", "lane", "verify",
};

static struct {
	int		type;		/* enum eop_type, FAULT_LANE or FAULT_VERIFY */
	uint64_t	nth;
	int		err;		/* -errno */
} faults[ENGINE_MAX_FAULTS];
static unsigned	nfaults;
static uint64_t	op_count[FAULT_COUNT];

/* An errno by name (EIO) or number (5), as -errno. */
static int
eop_errno_parse(const char *s)
{
	char	*end;
	long	 n = strtol(s, &end, 10);

	if (*s != '\0' && *end == '\0')
		return n > 0 && n < 4096 ? (int)-n : 0;
	for (int e = 1; e < 4096; e++)
		if (strerrorname_np(e) && strcmp(strerrorname_np(e), s) == 0)
			return -e;
	return 0;
}

int
eop_fault_add(const char *spec)
{
	char		*s, *rest, *op, *nth, *err, *end;
	int		 type = -1, rc = -EINVAL;
	uint64_t	 n;

	if (nfaults == ENGINE_MAX_FAULTS || (s = rest = strdup(spec)) == NULL)
		return -EINVAL;
	op = strsep(&rest, ":");
	nth = strsep(&rest, ":");
	err = strsep(&rest, ":");
	for (int i = 0; i < FAULT_COUNT; i++)
		if (strcmp(op, eop_names[i]) == 0)
			type = i;
	if (type < 0 || nth == NULL || rest != NULL)
		goto out;
	n = strtoull(nth, &end, 10);
	if (*nth == '-' || *end != '\0' || n == 0)
		goto out;
	faults[nfaults].type = type;
	faults[nfaults].nth = n;
	if ((faults[nfaults].err = err ? eop_errno_parse(err) : -EIO) == 0)
		goto out;
	log_warnx("fault injection (a testing aid): %s operation %" PRIu64 " will fail with %s",
	    eop_names[type], n, strerrorname_np(-faults[nfaults].err));
	nfaults++;
	rc = 0;
out:
	free(s);
	return rc;
}

void
eop_complete(struct eop *op, int res)
{
	loop_completion_check(eop_names[op->type]);
	op->done(op, res);
}

static void
eop_posted(void *arg)
{
	struct eop *op = arg;

	eop_complete(op, op->res);
}

void
eop_post(struct eop *op, int res)
{
	op->res = res;
	loop_post(eop_posted, op);
}

/*
 * The Nth of its kind fails: its error, or 0. An operation that fails so
 * is not carried out, so that it leaves none of the effects a real
 * failure would not have (a rename that "failed" after renaming). Pool
 * threads count too (engine_run()).
 */
static int
eop_fault_strikes(int type)
{
	uint64_t n = __atomic_add_fetch(&op_count[type], 1, __ATOMIC_RELAXED);

	for (unsigned i = 0; i < nfaults; i++)
		if (faults[i].type == type && faults[i].nth == n) {
			log_warnx("fault injection: %s operation %" PRIu64 " fails with %s",
			    eop_names[type], n, strerrorname_np(-faults[i].err));
			return faults[i].err;
		}
	return 0;
}

int
eop_fault(enum eop_type type)
{
	return nfaults ? eop_fault_strikes((int)type) : 0;
}

int
eop_fault_lane(void)
{
	return nfaults ? eop_fault_strikes(FAULT_LANE) : 0;
}

int
eop_fault_verify(void)
{
	return nfaults ? eop_fault_strikes(FAULT_VERIFY) : 0;
}

const char *
eop_name(enum eop_type type)
{
	return eop_names[type];
}
