/*
 * The daemon's configuration file, in libconfig syntax. Every option is
 * described once, in the table below: its path, type, range and whether a
 * reload (SIGHUP) can change it. Unknown options and out-of-range values
 * are errors, so a typo never silently falls back to a default.
 */
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config.h"
#include "cpd-protocol.h"
#include "log.h"

enum opt_type { OPT_UINT, OPT_SIZE, OPT_BOOL, OPT_ENUM, OPT_PATH, OPT_MODE, OPT_NAMES };

struct option_def {
	const char	*path;
	enum opt_type	 type;
	size_t		 offset;
	uint64_t	 min, max;
	const char	*const *names;	/* OPT_ENUM: value i is names[i] */
	bool		 restart;	/* a reload cannot change it */
};

static const char *const log_levels[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
	[LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug", NULL
};
static const char *const engine_types[] = { "auto", "io_uring", "fallback", NULL };
static const char *const methods[] = { "splice", "readwrite", NULL };
static const char *const async_policies[] = { "auto", "always", "never", NULL };
static const char *const ioprio_bulks[] = { "best-effort", "idle", "none", NULL };

/* The configuration in force: set by main, replaced on reload. */
const struct config *cpd_conf;

#define OFF(f)	offsetof(struct config, f)
static const struct option_def options[] = {
	{ "socket", OPT_PATH, OFF(socket), 0, 0, NULL, true },
	{ "state_dir", OPT_PATH, OFF(state_dir), 0, 0, NULL, true },
	{ "socket_mode", OPT_MODE, OFF(socket_mode), 0, 07777, NULL, true },
	{ "log_level", OPT_ENUM, OFF(log_level), 0, 0, log_levels, false },
	{ "jobs.max_running", OPT_UINT, OFF(jobs.max_running), 1, 1024, NULL, false },
	{ "jobs.max_running_per_user", OPT_UINT, OFF(jobs.max_running_per_user), 0, 1024, NULL, false },
	{ "jobs.interactive_slots", OPT_UINT, OFF(jobs.interactive_slots), 0, 64, NULL, false },
	{ "jobs.auto_interactive_max", OPT_SIZE, OFF(jobs.auto_interactive_max), 0, 1ULL << 50, NULL, false },
	{ "jobs.auto_bulk_min", OPT_SIZE, OFF(jobs.auto_bulk_min), 0, 1ULL << 50, NULL, false },
	{ "jobs.max_per_user", OPT_UINT, OFF(jobs.max_per_user), 1, 1000000, NULL, false },
	{ "jobs.dir_fds_per_user", OPT_UINT, OFF(jobs.dir_fds_per_user), 0, 1U << 30, NULL, false },
	{ "jobs.files_in_flight", OPT_UINT, OFF(jobs.files_in_flight), 1, 256, NULL, false },
	{ "jobs.keep_finished", OPT_UINT, OFF(jobs.keep_finished), 0, 31536000, NULL, false },
	{ "jobs.keep_finished_per_user", OPT_UINT, OFF(jobs.keep_finished_per_user), 0, 10000, NULL, false },
	{ "jobs.failure_bytes", OPT_SIZE, OFF(jobs.failure_bytes), 0, 1 << 20, NULL, false },
	{ "jobs.user_failure_bytes", OPT_SIZE, OFF(jobs.user_failure_bytes), 0, 1ULL << 30, NULL, false },
	{ "jobs.sync", OPT_BOOL, OFF(jobs.sync), 0, 1, NULL, false },
	{ "jobs.checkpoint_size", OPT_SIZE, OFF(jobs.checkpoint_size), 0, 1ULL << 50, NULL, false },
	{ "jobs.checkpoint_interval", OPT_SIZE, OFF(jobs.checkpoint_interval), 1 << 20, 1ULL << 40, NULL, false },
	{ "jobs.checkpoint_pace", OPT_BOOL, OFF(jobs.checkpoint_pace), 0, 1, NULL, false },
	{ "engine.type", OPT_ENUM, OFF(engine.type), 0, 0, engine_types, true },
	{ "engine.ring_entries", OPT_UINT, OFF(engine.ring_entries), 8, 32768, NULL, true },
	{ "engine.defer_taskrun", OPT_BOOL, OFF(engine.defer_taskrun), 0, 1, NULL, true },
	{ "engine.method", OPT_ENUM, OFF(engine.method), 0, 0, methods, false },
	{ "engine.async", OPT_ENUM, OFF(engine.async), 0, 0, async_policies, false },
	{ "engine.async_threshold", OPT_SIZE, OFF(engine.async_threshold), 0, 1ULL << 40, NULL, false },
	{ "engine.whole_file_max", OPT_SIZE, OFF(engine.whole_file_max), 0, 1ULL << 30, NULL, false },
	{ "engine.write_behind", OPT_ENUM, OFF(engine.write_behind), 0, 0, async_policies, false },
	{ "engine.map_threshold", OPT_SIZE, OFF(engine.map_threshold), 0, 1ULL << 50, NULL, false },
	{ "engine.chunk_size", OPT_SIZE, OFF(engine.chunk_size), 4096, 64 << 20, NULL, false },
	{ "engine.lanes", OPT_UINT, OFF(engine.lanes), 1, 64, NULL, false },
	{ "engine.max_inflight", OPT_UINT, OFF(engine.max_inflight), 1, 65536, NULL, false },
	{ "engine.bulk_inflight_share", OPT_UINT, OFF(engine.bulk_inflight_share), 1, 100, NULL, false },
	{ "engine.slow_iteration", OPT_UINT, OFF(engine.slow_iteration), 100, 10000000, NULL, false },
	{ "engine.worker_nice", OPT_UINT, OFF(engine.worker_nice), 0, 19, NULL, false },
	{ "engine.bulk_ioprio", OPT_ENUM, OFF(engine.bulk_ioprio), 0, 0, ioprio_bulks, false },
	{ "engine.iowq_bounded", OPT_UINT, OFF(engine.iowq_bounded), 0, 4096, NULL, true },
	{ "engine.iowq_unbounded", OPT_UINT, OFF(engine.iowq_unbounded), 0, 4096, NULL, true },
	{ "engine.fallback_threads", OPT_UINT, OFF(engine.fallback_threads), 1, 64, NULL, true },
	{ "engine.reserved_cpus", OPT_UINT, OFF(engine.reserved_cpus), 0, 1024, NULL, true },
	{ "clients.max", OPT_UINT, OFF(clients.max), 1, 65536, NULL, true },
	{ "clients.max_per_user", OPT_UINT, OFF(clients.max_per_user), 1, 65536, NULL, false },
	{ "clients.idle_timeout", OPT_UINT, OFF(clients.idle_timeout), 0, 86400, NULL, false },
	{ "devices.rotational.max_running", OPT_UINT, OFF(devices[DEVICE_ROTATIONAL].max_running), 1, 1024, NULL, false },
	{ "devices.rotational.lanes", OPT_UINT, OFF(devices[DEVICE_ROTATIONAL].lanes), 1, 64, NULL, false },
	{ "devices.ssd.max_running", OPT_UINT, OFF(devices[DEVICE_SSD].max_running), 1, 1024, NULL, false },
	{ "devices.ssd.lanes", OPT_UINT, OFF(devices[DEVICE_SSD].lanes), 1, 64, NULL, false },
	{ "devices.other.max_running", OPT_UINT, OFF(devices[DEVICE_OTHER].max_running), 1, 1024, NULL, false },
	{ "devices.other.lanes", OPT_UINT, OFF(devices[DEVICE_OTHER].lanes), 1, 64, NULL, false },
	{ "devices.rotational.disks", OPT_NAMES, OFF(devices[DEVICE_ROTATIONAL].disks), 0, 0, NULL, false },
	{ "devices.ssd.disks", OPT_NAMES, OFF(devices[DEVICE_SSD].disks), 0, 0, NULL, false },
	{ "devices.other.disks", OPT_NAMES, OFF(devices[DEVICE_OTHER].disks), 0, 0, NULL, false },
};
#define NOPTIONS	(sizeof(options) / sizeof(options[0]))

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->socket, sizeof(c->socket), "%s", CPD_DEFAULT_SOCKET);
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", CPD_DEFAULT_STATE_DIR);
	c->socket_mode = 0666;
	c->log_level = LOG_INFO;
	c->jobs.max_running = 4;
	/* Half the slots: one user's jobs never take them all (cpd-varlink(7)). */
	c->jobs.max_running_per_user = 2;
	c->jobs.max_per_user = 1000;
	c->jobs.interactive_slots = 2;
	c->jobs.auto_interactive_max = 1 << 20;
	c->jobs.auto_bulk_min = 64 << 20;
	c->jobs.files_in_flight = 64;
	c->jobs.keep_finished = 3600;
	/*
	 * A user's finished jobs and listed failures, in memory and in
	 * state_dir, are bounded by these (cpd-varlink(7), Limits): a kept
	 * job is at most its request (one call) and its failures.
	 */
	c->jobs.keep_finished_per_user = 100;
	c->jobs.failure_bytes = 64 << 10;
	c->jobs.user_failure_bytes = 1 << 20;
	/* A restart copies at most the last 64 MiB of such a file again. */
	c->jobs.checkpoint_size = 256 << 20;
	c->jobs.checkpoint_interval = 64 << 20;
	c->jobs.checkpoint_pace = true;
	c->engine.type = ENGINE_AUTO;
	c->engine.ring_entries = 256;
	c->engine.method = METHOD_SPLICE;
	c->engine.async = ASYNC_AUTO;
	c->engine.async_threshold = 256 << 10;
	c->engine.whole_file_max = 256 << 10;
	c->engine.chunk_size = 1 << 20;
	c->engine.map_threshold = 64 << 20;
	c->engine.lanes = 4;
	c->engine.max_inflight = 512;
	c->engine.bulk_inflight_share = 75;
	c->engine.slow_iteration = 10000;
	c->engine.worker_nice = 10;
	c->engine.fallback_threads = 4;
	c->engine.reserved_cpus = 1;
	c->clients.max = 1024;
	c->clients.max_per_user = 128;
	c->clients.idle_timeout = 60;
	/*
	 * A disk's head serves one stream well: two readers halve its
	 * speed, and a deep queue of one file's chunks only makes it seek.
	 * Flash serves many. Another file system (tmpfs, NFS, overlay, a
	 * btrfs of several disks) is not known: no limit of its own.
	 */
	c->devices[DEVICE_ROTATIONAL].max_running = 1;
	c->devices[DEVICE_ROTATIONAL].lanes = 1;
	c->devices[DEVICE_SSD].max_running = 4;
	c->devices[DEVICE_SSD].lanes = 4;
	c->devices[DEVICE_OTHER].max_running = 4;
	c->devices[DEVICE_OTHER].lanes = 4;
}

/* "1048576", "256K", "1M", "2G": powers of 1024. */
int
config_parse_size(const char *s, uint64_t *out)
{
	char		*end;
	unsigned long long v;
	unsigned	 shift = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end == 'i' && shift)
		end++;
	if (*end == 'B' && shift)
		end++;
	if (*end != '\0')
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

const char *
config_enum_name(const char *path, int value)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].path, path) == 0 && options[i].names)
			return options[i].names[value];
	return "?";
}

static const struct option_def *
config_find(const char *path)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].path, path) == 0)
			return &options[i];
	return NULL;
}

#define config_error(err, len, file, line, ...) do {				\
	int n_ = snprintf(err, len, "%s:%d: ", file, line);			\
	if (n_ >= 0 && (size_t)n_ < len)					\
		snprintf(err + n_, len - (size_t)n_, __VA_ARGS__);		\
} while (0)

/* Every setting in the file must name a known option (or a known group). */
static int
config_check_known(config_setting_t *group, const char *prefix, const char *file,
    char *err, size_t errlen)
{
	int	n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		char	path[128];
		int	rc;

		snprintf(path, sizeof(path), "%s%s", prefix, config_setting_name(s));
		if (config_setting_is_group(s)) {
			char sub[130];
			bool known = false;

			snprintf(sub, sizeof(sub), "%s.", path);
			for (size_t j = 0; j < NOPTIONS; j++)
				known |= strncmp(options[j].path, sub, strlen(sub)) == 0;
			if (!known) {
				config_error(err, errlen, file, config_setting_source_line(s),
				    "unknown section '%s'", path);
				return -EINVAL;
			}
			if ((rc = config_check_known(s, sub, file, err, errlen)) < 0)
				return rc;
		} else if (config_find(path) == NULL) {
			config_error(err, errlen, file, config_setting_source_line(s),
			    "unknown option '%s'", path);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * A list of disk names (["vda", "loop3"]) kept as " vda loop3 ", so that
 * " name " finds one. A name is what /sys/block lists: letters, digits,
 * '-', '_', '.', ':' and '!'.
 */
static int
config_set_names(const struct option_def *o, config_setting_t *s, char *field,
    const char *file, char *err, size_t errlen)
{
	int	n = config_setting_length(s), line = config_setting_source_line(s);
	size_t	len = 1;
	char	out[CONFIG_NAMES_MAX] = " ";

	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		goto bad;
	for (int i = 0; i < n; i++) {
		const char *name = config_setting_get_string_elem(s, (unsigned)i);
		size_t	    l = name ? strlen(name) : 0;

		if (l == 0 || l >= 32 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:!") != l)
			goto bad;
		if (len + l + 1 >= sizeof(out)) {
			config_error(err, errlen, file, line, "%s: more than %zu bytes of names",
			    o->path, sizeof(out) - 2);
			return -ERANGE;
		}
		memcpy(out + len, name, l);
		len += l;
		out[len++] = ' ';
		out[len] = '\0';
	}
	memcpy(field, out, sizeof(out));
	return 0;
bad:
	config_error(err, errlen, file, line,
	    "%s: must be a list of disk names such as [\"sda\", \"loop3\"]", o->path);
	return -EINVAL;
}

static int
config_set(const struct option_def *o, config_setting_t *s, struct config *c,
    const char *file, char *err, size_t errlen)
{
	void		*field = (char *)c + o->offset;
	int		 line = config_setting_source_line(s);
	int		 type = config_setting_type(s);
	const char	*str = type == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;
	uint64_t	 v = 0;

	switch (o->type) {
	case OPT_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			goto badtype;
		*(bool *)field = config_setting_get_bool(s);
		return 0;
	case OPT_PATH:
		if (!str)
			goto badtype;
		if (str[0] != '/' || strlen(str) >= CONFIG_PATH_MAX) {
			config_error(err, errlen, file, line,
			    "%s: must be an absolute path shorter than %zu bytes",
			    o->path, (size_t)CONFIG_PATH_MAX);
			return -EINVAL;
		}
		strcpy(field, str);
		return 0;
	case OPT_NAMES:
		return config_set_names(o, s, field, file, err, errlen);
	case OPT_ENUM:
		if (!str)
			goto badtype;
		for (int i = 0; o->names[i]; i++)
			if (strcmp(o->names[i], str) == 0) {
				*(int *)field = i;
				return 0;
			}
		config_error(err, errlen, file, line, "%s: unknown value '%s'", o->path, str);
		return -EINVAL;
	case OPT_MODE:
		if (str) {
			char *end;
			v = strtoull(str, &end, 8);
			if (*str == '\0' || *end != '\0')
				goto badvalue;
		} else if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
			long long ll = config_setting_get_int64(s);
			if (ll < 0)
				goto badvalue;
			v = (uint64_t)ll;
		} else
			goto badtype;
		break;
	case OPT_SIZE:
		if (str) {
			if (config_parse_size(str, &v) < 0)
				goto badvalue;
			break;
		}
		/* FALLTHROUGH */
	case OPT_UINT:
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			goto badtype;
		if (config_setting_get_int64(s) < 0)
			goto range;
		v = (uint64_t)config_setting_get_int64(s);
		break;
	}
	if (v < o->min || v > o->max)
		goto range;
	if (o->type == OPT_SIZE)
		*(uint64_t *)field = v;
	else
		*(unsigned *)field = (unsigned)v;
	return 0;
range:
	config_error(err, errlen, file, line, "%s: out of range (%llu..%llu)",
	    o->path, (unsigned long long)o->min, (unsigned long long)o->max);
	return -ERANGE;
badvalue:
	config_error(err, errlen, file, line, "%s: invalid value", o->path);
	return -EINVAL;
badtype:
	config_error(err, errlen, file, line, "%s: wrong type", o->path);
	return -EINVAL;
}

int
config_load(const char *file, struct config *out, char *err, size_t errlen)
{
	config_t	cfg;
	struct config	c = *out;
	FILE		*f;
	int		rc = 0;

	if ((f = fopen(file, "r")) == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return rc;
	}
	config_init(&cfg);
	if (!config_read(&cfg, f)) {
		config_error(err, errlen, file, config_error_line(&cfg), "%s",
		    config_error_text(&cfg));
		rc = -EINVAL;
		goto out;
	}
	if ((rc = config_check_known(config_root_setting(&cfg), "", file, err, errlen)) < 0)
		goto out;
	for (size_t i = 0; i < NOPTIONS; i++) {
		config_setting_t *s = config_lookup(&cfg, options[i].path);

		if (s && (rc = config_set(&options[i], s, &c, file, err, errlen)) < 0)
			goto out;
	}
	if (c.engine.ring_entries & (c.engine.ring_entries - 1)) {
		config_error(err, errlen, file,
		    config_setting_source_line(config_lookup(&cfg, "engine.ring_entries")),
		    "engine.ring_entries: must be a power of two");
		rc = -EINVAL;
		goto out;
	}
	*out = c;
out:
	config_destroy(&cfg);
	fclose(f);
	return rc;
}

/*
 * A reload: options that can change at run time take new's values; the
 * others keep old's, with a note that they need a restart.
 */
void
config_merge_reload(const struct config *old, struct config *new)
{
	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct option_def *o = &options[i];
		size_t size = o->type == OPT_PATH ? CONFIG_PATH_MAX :
		    o->type == OPT_NAMES ? CONFIG_NAMES_MAX :
		    o->type == OPT_SIZE ? sizeof(uint64_t) :
		    o->type == OPT_BOOL ? sizeof(bool) : sizeof(int);
		char *field = (char *)new + o->offset;

		if (!o->restart || memcmp((const char *)old + o->offset, field, size) == 0)
			continue;
		log_warnx("reload: %s changed; it takes effect after a restart", o->path);
		memcpy(field, (const char *)old + o->offset, size);
	}
}
