/*
 * The engine in use: io_uring chains, or the fallback thread pool. Every
 * operation of both passes through engine_submit(), which is where
 * injected faults (cpd --fault, a testing aid) strike.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "engine_backend.h"
#include "log.h"
#include "loop.h"

static const struct engine	*engine;
struct engine_stats		 engine_stats;

/* Fault names: the operations, and after them the io_uring engine's data lanes. */
#define FAULT_LANE	EOP_COUNT
static const char *const eop_names[EOP_COUNT + 1] = {
	"open", "statx", "copy", "fsync", "rename", "unlink", "mkdir", "symlink",
	"link", "writeback", "readdir", "readlink", "mknod", "meta", "clone", "extents", "truncate",
	"allocate", "compare", "call", "lane",
};

static struct {
	int		type;		/* enum eop_type, or FAULT_LANE */
	uint64_t	nth;
	int		err;		/* -errno */
} faults[ENGINE_MAX_FAULTS];
static unsigned	nfaults;
static uint64_t	op_count[EOP_COUNT + 1];

/* An errno by name (EIO) or number (5), as -errno. */
static int
engine_errno_parse(const char *s)
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
engine_fault_add(const char *spec)
{
	char		*s, *rest, *op, *nth, *err, *end;
	int		 type = -1, rc = -EINVAL;
	uint64_t	 n;

	if (nfaults == ENGINE_MAX_FAULTS || (s = rest = strdup(spec)) == NULL)
		return -EINVAL;
	op = strsep(&rest, ":");
	nth = strsep(&rest, ":");
	err = strsep(&rest, ":");
	for (int i = 0; i <= FAULT_LANE; i++)
		if (strcmp(op, eop_names[i]) == 0)
			type = i;
	if (type < 0 || nth == NULL || rest != NULL)
		goto out;
	n = strtoull(nth, &end, 10);
	if (*nth == '-' || *end != '\0' || n == 0)
		goto out;
	faults[nfaults].type = type;
	faults[nfaults].nth = n;
	if ((faults[nfaults].err = err ? engine_errno_parse(err) : -EIO) == 0)
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
engine_complete(struct eop *op, int res)
{
	loop_completion_check(eop_names[op->type]);
	op->done(op, res);
}

static void
engine_posted(void *arg)
{
	struct eop *op = arg;

	engine_complete(op, op->res);
}

void
engine_post(struct eop *op, int res)
{
	op->res = res;
	loop_post(engine_posted, op);
}

/*
 * The Nth of its kind fails: its error, or 0. An operation that fails so
 * is not carried out, so that it leaves none of the effects a real
 * failure would not have (a rename that "failed" after renaming). Pool
 * threads count too (engine_run).
 */
static int
engine_fault(int type)
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
engine_fault_lane(void)
{
	return nfaults ? engine_fault(FAULT_LANE) : 0;
}

int
engine_init(const struct config *conf)
{
	int rc;

	engine = loop_info()->uring ? &engine_uring : &engine_thread;
	if (engine != &engine_thread && (rc = engine_thread.init(conf)) < 0)
		return rc;
	return engine->init(conf);
}

/*
 * Where op goes: the pool does what io_uring cannot (a mapped copy's
 * chunk needs an mmap before its read and a munmap after), and an interactive
 * job's operations that io_uring would hand to io-wq anyway (all but a
 * plain open, which it tries inline, and the data path). In io-wq they
 * would queue behind bulk chunks and run at worker_nice; the pool takes
 * interactive work first, at nice 0.
 */
static bool
engine_to_pool(const struct eop *op)
{
	if (eop_threaded(op->type) || (op->type == EOP_COPY && op->mapped))
		return true;
	if (!op->interactive)
		return false;
	switch (op->type) {
	case EOP_OPEN:
		return (op->flags & (O_CREAT | O_TRUNC | __O_TMPFILE)) != 0;
	case EOP_COPY:
	case EOP_WRITEBACK:
		return false;
	default:
		return true;
	}
}

void
engine_submit(struct eop *op)
{
	int err;

	engine_stats.ops_submitted++;
	loop_submit_enter();
	if (nfaults && (err = engine_fault(op->type)) < 0)
		engine_post(op, err);
	else if (engine_to_pool(op))
		engine_thread.submit(op);
	else
		engine->submit(op);
	loop_submit_leave();
}

long
engine_run(struct eop *op)
{
	int err;

	if (nfaults && (err = engine_fault(op->type)) < 0)
		return err;
	return engine_thread.run(op);
}

static long
engine_close_run(struct eop *op)
{
	close(op->fd);
	return 0;
}

static void
engine_close_done(struct eop *op, int res)
{
	free(op);
}

void
engine_close(int fd)
{
	struct eop *op = calloc(1, sizeof(*op));

	if (op == NULL) {
		close(fd);
		return;
	}
	/* Not a job's operation: no credentials to take, no fault to inject. */
	op->type = EOP_CALL;
	op->fd = fd;
	op->run = engine_close_run;
	op->done = engine_close_done;
	engine_thread.submit(op);
}

int
engine_confine(const cpu_set_t *bulk, const cpu_set_t *all)
{
	engine_thread_confine(bulk, all);
	return engine->confine ? engine->confine(bulk) : 0;
}

void
engine_reconfigure(const struct config *conf)
{
	engine->reconfigure(conf);
}

void
engine_shutdown(void)
{
	if (engine && engine != &engine_thread)
		engine->shutdown();
	engine_thread.shutdown();
}

void
engine_tick(void)
{
	if (engine->tick)
		engine->tick();
}

const char *
engine_op_name(enum eop_type type)
{
	return eop_names[type];
}

const char *
engine_name(void)
{
	return engine->name;
}

const char *
engine_method(uint64_t size)
{
	return engine->method(size);
}
