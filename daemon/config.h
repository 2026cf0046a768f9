#ifndef CPD_CONFIG_H
#define CPD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cpd-protocol.h"

#define CPD_DEFAULT_CONFIG	CPD_SYSCONFDIR "/cpd/cpd.conf"

enum engine_type { ENGINE_AUTO, ENGINE_URING, ENGINE_FALLBACK };
enum copy_method { METHOD_SPLICE, METHOD_READWRITE };
enum async_policy { ASYNC_AUTO, ASYNC_ALWAYS, ASYNC_NEVER };
enum ioprio_bulk { IOPRIO_BULK_BE, IOPRIO_BULK_IDLE, IOPRIO_BULK_NONE };
/* What a job's block device is, from sysfs (device.c); the devices group. */
enum device_class { DEVICE_ROTATIONAL, DEVICE_SSD, DEVICE_OTHER, DEVICE_CLASSES };

#define CPD_DEFAULT_STATE_DIR	"/var/lib/cpd"
#define CONFIG_PATH_MAX		108	/* every path option: a socket's sun_path */
#define CONFIG_NAMES_MAX	256	/* a list of disk names, " a b " */

struct config {
	char		socket[CONFIG_PATH_MAX];
	char		state_dir[CONFIG_PATH_MAX];	/* the job journal */
	unsigned	socket_mode;
	int		log_level;
	struct {
		unsigned	max_running;
		unsigned	max_running_per_user;	/* 0: no cap */
		unsigned	interactive_slots;
		uint64_t	auto_interactive_max;
		uint64_t	auto_bulk_min;
		unsigned	max_per_user;
		unsigned	files_in_flight;
		unsigned	dir_fds_per_user;	/* 0: a quarter of RLIMIT_NOFILE */
		unsigned	keep_finished;
		unsigned	keep_finished_per_user;
		uint64_t	failure_bytes;		/* listed, per job */
		uint64_t	user_failure_bytes;	/* listed, over a user's kept jobs */
		bool		sync;
		uint64_t	checkpoint_size;	/* resumable from here up; 0: never */
		uint64_t	checkpoint_interval;
		bool		checkpoint_pace;	/* copy_resume_holds */
	} jobs;
	struct {
		int		type;		/* enum engine_type */
		unsigned	ring_entries;
		bool		defer_taskrun;
		int		method;		/* enum copy_method */
		int		async;		/* enum async_policy */
		uint64_t	async_threshold;
		uint64_t	whole_file_max;	/* copied in one hand-off; 0: never */
		uint64_t	chunk_size;
		uint64_t	map_threshold;	/* copied from both ends, see copy.c; 0: never */
		int		write_behind;	/* enum async_policy: auto, always, never */
		unsigned	lanes;
		unsigned	max_inflight;
		unsigned	bulk_inflight_share;	/* percent */
		unsigned	slow_iteration;		/* usec */
		unsigned	worker_nice;		/* of the threads that copy */
		int		bulk_ioprio;		/* enum ioprio_bulk */
		unsigned	iowq_bounded;
		unsigned	iowq_unbounded;
		unsigned	fallback_threads;
		unsigned	reserved_cpus;
	} engine;
	struct {
		unsigned	max;
		unsigned	max_per_user;	/* root is not counted */
		unsigned	idle_timeout;	/* seconds; 0: never */
	} clients;
	struct {
		unsigned	max_running;	/* normal and bulk jobs on one device */
		unsigned	lanes;		/* caps engine.lanes for its jobs */
		/* Disks given this class whatever sysfs says: " vda loop3 ". */
		char		disks[CONFIG_NAMES_MAX];
	} devices[DEVICE_CLASSES];	/* by enum device_class */
};

extern const struct config *cpd_conf;

void	config_defaults(struct config *);
/*
 * Load FILE over the defaults. Returns 0, or -errno with a message
 * "FILE:LINE: text" in err. A missing file is -ENOENT.
 */
int	config_load(const char *file, struct config *, char *err, size_t errlen);
/* Keep old's values of the options a reload cannot change, saying so. */
void	config_merge_reload(const struct config *old, struct config *new);
int	config_parse_size(const char *s, uint64_t *out);
const char *config_enum_name(const char *path, int value);

#endif
