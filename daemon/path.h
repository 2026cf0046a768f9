#ifndef CPD_PATH_H
#define CPD_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Paths in requests: absolute, no NUL inside, shorter than PATH_MAX. */
int	path_check(const char *path, size_t len);
/* The last component, trailing slashes ignored; -EINVAL for "/" etc. */
int	path_basename(const char *path, char *out, size_t outlen);
/* Everything before the last component ("/" for "/a"). */
int	path_dirname(const char *path, char *out, size_t outlen);
bool	path_trailing_slash(const char *path);
/* Whether the last component is "." (trailing slashes ignored). */
bool	path_is_dot(const char *path);
/* dir/name, malloc'ed (trailing slashes of dir dropped); NULL without memory. */
char	*path_join(const char *dir, const char *name);
/*
 * The path of to relative to the directory dir (both absolute), taken
 * as written: their common leading components left out, a "../" for
 * each of dir's others ("a/../b" is not resolved, nor a symlink).
 * 0, -EINVAL (a relative one), -ENAMETOOLONG.
 */
int	path_relative(const char *dir, const char *to, char *out, size_t outlen);
/* ".cpd-tmp.<job>.<random>": the hidden name data is written under. */
void	path_temp_name(char *out, size_t outlen, uint64_t job, uint64_t rnd);
/* The same with a random number of its own. */
void	path_new_temp_name(char *out, size_t outlen, uint64_t job);
/*
 * Remove the directory name in dfd and everything in it (up to
 * PATH_TREE_MAX_DEPTH deep), never following a symlink; directories the
 * caller owns are made writable first. 0, or -1 with errno (the first
 * failure's), as unlinkat.
 */
#define PATH_TREE_MAX_DEPTH	256
int	path_remove_tree(int dfd, const char *name);

/*
 * procfs: a path under /proc/<the daemon's pid>/ reaches the daemon's own
 * process (its fds, maps, status), which the kernel lets the daemon's
 * threads see whatever credentials they use. Whether a file is on a proc
 * mount is told by the mount its statx names (STATX_MNT_ID), never by a
 * list of devices taken once: a proc mounted later has a device of its
 * own. path_procfs_load() reads a mountinfo file (/proc/self/mountinfo)
 * and remembers every mount and whether it is proc; path_on_procfs()
 * reads it again when a statx names a mount it does not know (mounted
 * since), or after path_procfs_changed() (main.c: the kernel said the
 * mount table changed; an unmounted mount's id is given again).
 */
struct statx;
int	path_procfs_load(const char *mountinfo);
void	path_procfs_changed(void);
bool	path_on_procfs(const struct statx *);
void	path_procfs_free(void);
/*
 * In a pool thread: whether the open file fd, on a proc mount, is in a
 * process's directory (/proc/<pid>/, reached by /proc/self too, or by
 * links such as /proc/net), or cannot be placed. cpd copies the other
 * regular files of /proc (cpuinfo, sys/...), reading them to their end.
 */
bool	path_procfs_private(int fd, const struct statx *);
#define PATH_PROCFS_REFUSED	"'%s' is in /proc, which cpd does not copy"
#define PATH_PROCFS_PRIVATE	"'%s' is in a process's directory of /proc, which cpd does not copy"

#define PATH_TEMP_PREFIX	".cpd-tmp."

#endif
