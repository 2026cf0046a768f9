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
#include "log.h"
#include "loop.h"

static const struct engine	*engine;
struct engine_stats		 engine_stats;

static const char *const eop_names[EOP_COUNT] = {
	"open", "statx", "copy", "fsync", "rename", "unlink", "mkdir", "symlink",
	"link", "writeback", "readdir", "readlink", "mknod", "meta", "clone", "extents", "truncate",
	"allocate", "compare", "call",
};

static struct {
	enum eop_type	type;
	uint64_t	nth;
	int		err;		/* -errno */
} faults[ENGINE_MAX_FAULTS];
static unsigned	nfaults;
static uint64_t	op_count[EOP_COUNT];

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
	for (int i = 0; i < EOP_COUNT; i++)
		if (strcmp(op, eop_names[i]) == 0)
			type = i;
	if (type < 0 || nth == NULL || rest != NULL)
		goto out;
	n = strtoull(nth, &end, 10);
	if (*nth == '-' || *end != '\0' || n == 0)
		goto out;
	faults[nfaults].type = (enum eop_type)type;
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

static void
engine_fault_strike(void *arg)
{
	struct eop *op = arg;

	op->done(op, op->res);
}

/*
 * The operation is not to be carried out, so that it leaves none of the
 * effects a real failure would not have (a rename that "failed" after
 * renaming): its error, or 0. Pool threads count too (engine_run).
 */
static int
engine_fault(const struct eop *op)
{
	uint64_t n = __atomic_add_fetch(&op_count[op->type], 1, __ATOMIC_RELAXED);

	for (unsigned i = 0; i < nfaults; i++)
		if (faults[i].type == op->type && faults[i].nth == n) {
			log_warnx("fault injection: %s operation %" PRIu64 " fails with %s",
			    eop_names[op->type], n, strerrorname_np(-faults[i].err));
			return faults[i].err;
		}
	return 0;
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
	engine_stats.ops_submitted++;
	/* A failure injected arrives later, on the loop, as any other. */
	if (nfaults && (op->res = engine_fault(op)) < 0) {
		loop_post(engine_fault_strike, op);
		return;
	}
	if (engine_to_pool(op))
		engine_thread.submit(op);
	else
		engine->submit(op);
}

long
engine_run(struct eop *op)
{
	int err;

	if (nfaults && (err = engine_fault(op)) < 0)
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
engine_confine(const cpu_set_t *cpus)
{
	return engine->confine ? engine->confine(cpus) : 0;
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
engine_name(void)
{
	return engine->name;
}

enum method
engine_method(uint64_t size)
{
	return engine->method(size);
}
