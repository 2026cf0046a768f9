/*
 * cpd: a file copy daemon. Jobs arrive over a Varlink socket and are
 * carried out with io_uring, each with the credentials of its caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "copy.h"
#include "cpd-protocol.h"
#include "cred.h"
#include "engine.h"
#include "job.h"
#include "journal.h"
#include "log.h"
#include "loop.h"
#include "path.h"
#include "reserve.h"
#include "varlink.h"
#include "watch.h"

#define TICK_MS			250
#define SHUTDOWN_GRACE_USEC	(10 * 1000000ULL)
#define OPT_FAULT		1000	/* long option only */

#define MOUNTINFO	"/proc/self/mountinfo"

static volatile sig_atomic_t	got_term, got_hup;
static struct config		confs[2];	/* in force, and the next one */
static const char		*conf_file = CPD_DEFAULT_CONFIG;
static bool			 conf_explicit;
static const char		*opt_socket;
static const char		*opt_state_dir;
static int			 opt_engine = -1;
static bool			 opt_debug;
static const char		*opt_faults[ENGINE_MAX_FAULTS];
static int			 nopt_faults;
static uint64_t			 stop_deadline;
static uint64_t			 watchdog_usec, last_watchdog, last_status;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: cpd [-dnhV] [-f FILE] [-s SOCKET] [-S DIR] [-E ENGINE] [--fault OP:N[:ERRNO]]\n"
"  -d, --debug          log debug messages\n"
"  -n, --check          check the configuration file and exit\n"
"  -f, --config FILE    configuration file (default " CPD_DEFAULT_CONFIG ")\n"
"  -s, --socket PATH    listen on PATH (default " CPD_DEFAULT_SOCKET ")\n"
"  -S, --state-dir DIR  keep the job journal in DIR (default " CPD_DEFAULT_STATE_DIR ")\n"
"  -E, --engine ENGINE  auto, io_uring or fallback\n"
"      --fault OP:N[:ERRNO]  testing aid: fail the Nth operation OP (see cpd(8))\n"
"  -h, --help           this text\n"
"  -V, --version        print the version\n");
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void
signals_init(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* The file (if any), then the command line on top. */
static int
conf_read(struct config *c, char *err, size_t errlen)
{
	int rc;

	config_defaults(c);
	rc = config_load(conf_file, c, err, errlen);
	if (rc == -ENOENT && !conf_explicit)
		rc = 0;
	if (opt_socket)
		snprintf(c->socket, sizeof(c->socket), "%s", opt_socket);
	if (opt_state_dir)
		snprintf(c->state_dir, sizeof(c->state_dir), "%s", opt_state_dir);
	if (opt_engine >= 0)
		c->engine.type = opt_engine;
	if (opt_debug)
		c->log_level = LOG_DEBUG;
	return rc;
}

static void
conf_apply(const struct config *c)
{
	cpd_conf = c;
	log_setlevel(c->log_level);
}

static void
procfs_load(void)
{
	int rc = path_procfs_load(MOUNTINFO);

	if (rc < 0)
		log_warnx(MOUNTINFO ": %s; cannot tell which files are in /proc",
		    strerror(-rc));
}

/*
 * The kernel flags mountinfo (POLLPRI) whenever the mount table changes:
 * the list of mounts is read again before the next file is judged, as a
 * mount's id may since be another's (path.h).
 */
static struct loop_op	mounts_op;
static int		mounts_fd = -1;

static void
mounts_changed(struct loop_op *op, int res)
{
	if (res < 0) {
		log_warnx(MOUNTINFO ": %s; mounts are read again only when new",
		    strerror(-res));
		return;
	}
	path_procfs_changed();
	loop_poll(&mounts_op, mounts_fd, POLLPRI);
}

static void
mounts_watch(void)
{
	if ((mounts_fd = open(MOUNTINFO, O_RDONLY | O_CLOEXEC)) < 0) {
		log_warn(MOUNTINFO "; mounts are read again only when new");
		return;
	}
	mounts_op.cb = mounts_changed;
	loop_poll(&mounts_op, mounts_fd, POLLPRI);
}

static void
reload(void)
{
	struct config	*next = cpd_conf == &confs[0] ? &confs[1] : &confs[0];
	char		 err[512];

	sd_notify(0, "RELOADING=1");
	if (conf_read(next, err, sizeof(err)) < 0)
		log_warnx("reload: %s; keeping the running configuration", err);
	else {
		config_merge_reload(cpd_conf, next);
		conf_apply(next);
		engine_reconfigure(next);
		job_reconfigure(next);
		log_info("configuration reloaded from %s", conf_file);
	}
	sd_notify(0, "READY=1");
}

static void
notify_status(uint64_t now)
{
	struct job_counters jc;

	if (watchdog_usec && now - last_watchdog >= watchdog_usec / 2) {
		sd_notify(0, "WATCHDOG=1");
		last_watchdog = now;
	}
	if (now - last_status < 1000000)
		return;
	last_status = now;
	job_counters(&jc);
	sd_notifyf(0, "STATUS=%u running, %u queued, %llu MiB/s, %u clients",
	    jc.running, jc.queued, (unsigned long long)(jc.rate >> 20), control_clients());
}

static void
tick(void)
{
	job_tick();
	engine_tick();
	reserve_tick();
	control_tick();
	notify_status(loop_now_usec());
}

static bool
should_stop(void)
{
	if (got_hup) {
		got_hup = 0;
		reload();
	}
	if (got_term && stop_deadline == 0) {
		log_info("shutting down: cancelling %u jobs", job_count_active());
		sd_notify(0, "STOPPING=1");
		stop_deadline = loop_now_usec() + SHUTDOWN_GRACE_USEC;
		control_shutdown();
		job_shutdown();
	}
	if (stop_deadline == 0)
		return false;
	if (job_count_active() == 0)
		return true;
	if (loop_now_usec() > stop_deadline) {
		log_warnx("%u jobs did not stop in time", job_count_active());
		return true;
	}
	return false;
}

static void
log_started(void)
{
	const struct loop_info	*li = loop_info();
	char			 feat[256] = "";

	for (int i = 0; i < li->nfeatures; i++)
		snprintf(feat + strlen(feat), sizeof(feat) - strlen(feat), "%s%s",
		    i ? " " : "", li->features[i]);
	log_info("cpd %s: engine %s%s%s%s, async %s >= %llu bytes, pid %d", CPD_VERSION,
	    engine_name(), li->nfeatures ? " (" : "", feat, li->nfeatures ? ")" : "",
	    config_enum_name("engine.async", cpd_conf->engine.async),
	    (unsigned long long)cpd_conf->engine.async_threshold, (int)getpid());
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "debug", no_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "engine", required_argument, NULL, 'E' },
		{ "fault", required_argument, NULL, OPT_FAULT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool	check = false;
	char	err[512];
	int	ch, rc;

	while ((ch = getopt_long(argc, argv, "dnf:s:S:E:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': opt_debug = true; break;
		case 'n': check = true; break;
		case 'f': conf_file = optarg; conf_explicit = true; break;
		case 's': opt_socket = optarg; break;
		case 'S': opt_state_dir = optarg; break;
		case 'E':
			if (strcmp(optarg, "auto") == 0) opt_engine = ENGINE_AUTO;
			else if (strcmp(optarg, "io_uring") == 0) opt_engine = ENGINE_URING;
			else if (strcmp(optarg, "fallback") == 0) opt_engine = ENGINE_FALLBACK;
			else {
				fprintf(stderr, "cpd: unknown engine '%s'\n", optarg);
				usage(stderr);
				return 1;
			}
			break;
		case OPT_FAULT:
			if (nopt_faults == ENGINE_MAX_FAULTS) {
				fprintf(stderr, "cpd: too many --fault options\n");
				return 1;
			}
			opt_faults[nopt_faults++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("cpd %s\n", CPD_VERSION); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	if (opt_socket && (opt_socket[0] != '/' ||
	    strlen(opt_socket) >= sizeof(confs[0].socket))) {
		fprintf(stderr, "cpd: the socket must be an absolute path shorter than %zu bytes\n",
		    sizeof(confs[0].socket));
		return 1;
	}
	if (opt_state_dir && (opt_state_dir[0] != '/' ||
	    strlen(opt_state_dir) >= sizeof(confs[0].state_dir))) {
		fprintf(stderr, "cpd: the state directory must be an absolute path shorter "
		    "than %zu bytes\n", sizeof(confs[0].state_dir));
		return 1;
	}

	log_init(opt_debug);
	for (int i = 0; i < nopt_faults; i++)
		if (eop_fault_add(opt_faults[i]) < 0) {
			fprintf(stderr, "cpd: bad --fault '%s': want OP:N[:ERRNO], OP one of "
			    "the operations listed in cpd(8), N from 1\n", opt_faults[i]);
			return 1;
		}
	if (conf_read(&confs[0], err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check) {
		printf("%s: configuration OK\n", conf_file);
		return 0;
	}
	conf_apply(&confs[0]);
	procfs_load();
	umask(0);		/* each job applies its caller's umask */
	signals_init();

	if ((rc = loop_init(cpd_conf)) < 0)
		fatalx("cannot set up io_uring: %s", strerror(-rc));
	cred_init(loop_info()->uring);
	if ((rc = engine_init(cpd_conf)) < 0)
		fatalx("cannot start the %s engine: %s", engine_name(), strerror(-rc));
	reserve_init(cpd_conf);
	mounts_watch();
	job_init(cpd_conf, &copy_workers);
	watch_init();
	varlink_init(&manager_interface);
	if ((rc = control_listen(cpd_conf, &varlink_protocol)) < 0)
		fatalx("cannot listen on %s: %s", cpd_conf->socket, strerror(-rc));
	/* After listen: a second daemon that gives up there never touches
	 * the journal (the lock in journal_init() is the general guard). */
	job_restore(cpd_conf);
	log_started();
	if (sd_watchdog_enabled(0, &watchdog_usec) <= 0)
		watchdog_usec = 0;
	sd_notify(0, "READY=1");

	loop_run(should_stop, tick, TICK_MS);

	journal_shutdown();
	control_shutdown();
	engine_shutdown();
	cred_free_all();
	if (mounts_fd >= 0) {
		loop_forget(mounts_fd);
		close(mounts_fd);
	}
	loop_free();
	path_procfs_free();
	log_info("stopped");
	return 0;
}
