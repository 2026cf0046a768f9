/* Path handling of requests: validation, basename/dirname, temporaries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "path.h"

static void
test_check(void **state)
{
	char long_path[PATH_MAX + 2];

	assert_int_equal(path_check("/a", 2), 0);
	assert_int_equal(path_check("a/b", 3), -EINVAL);
	assert_int_equal(path_check("", 0), -EINVAL);
	assert_int_equal(path_check("/a\0b", 4), -EINVAL);	/* embedded NUL */
	memset(long_path, 'x', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(path_check(long_path, strlen(long_path)), -ENAMETOOLONG);
}

static void
expect_base(const char *path, int rc, const char *want)
{
	char out[NAME_MAX + 1];

	assert_int_equal(path_basename(path, out, sizeof(out)), rc);
	if (rc == 0)
		assert_string_equal(out, want);
}

static void
expect_dir(const char *path, int rc, const char *want)
{
	char out[PATH_MAX];

	assert_int_equal(path_dirname(path, out, sizeof(out)), rc);
	if (rc == 0)
		assert_string_equal(out, want);
}

static void
test_basename(void **state)
{
	expect_base("/a/b", 0, "b");
	expect_base("/a/b/", 0, "b");
	expect_base("/a/b//", 0, "b");
	expect_base("/b", 0, "b");
	expect_base("/a/with space", 0, "with space");
	expect_base("/", -EINVAL, NULL);
	expect_base("//", -EINVAL, NULL);
	expect_base("/a/..", -EINVAL, NULL);
	expect_base("/a/.", -EINVAL, NULL);
}

static void
test_dirname(void **state)
{
	expect_dir("/a/b", 0, "/a");
	expect_dir("/a/b/", 0, "/a");
	expect_dir("/a//b", 0, "/a");
	expect_dir("/a", 0, "/");
	expect_dir("/a/b/c", 0, "/a/b");
	expect_dir("/", -EINVAL, NULL);
}

/* cp -r SRC/. DIR: the contents of SRC, not a name "." to make. */
static void
test_is_dot(void **state)
{
	assert_true(path_is_dot("/a/."));
	assert_true(path_is_dot("/a/./"));
	assert_true(path_is_dot("/."));
	assert_false(path_is_dot("/a/.."));
	assert_false(path_is_dot("/a/.b"));
	assert_false(path_is_dot("/a"));
	assert_false(path_is_dot("/"));
}

static void
test_trailing_slash(void **state)
{
	assert_true(path_trailing_slash("/a/"));
	assert_false(path_trailing_slash("/a"));
	assert_false(path_trailing_slash("/"));
}

/* rel DIR TO: path_relative's answer, or its error as "E<n>". */
static const char *
rel(const char *dir, const char *to)
{
	static char	out[64];
	int		rc = path_relative(dir, to, out, sizeof(out));

	if (rc < 0)
		snprintf(out, sizeof(out), "E%d", -rc);
	return out;
}

static void
test_relative(void **state)
{
	(void)state;
	assert_string_equal(rel("/w", "/w/foo"), "foo");
	assert_string_equal(rel("/w/", "/w//foo"), "foo");
	assert_string_equal(rel("/w/d", "/w/foo"), "../foo");
	assert_string_equal(rel("/w", "/w/../x/foo"), "../x/foo");	/* as written */
	assert_string_equal(rel("/a/b/c", "/a/x/y"), "../../x/y");
	assert_string_equal(rel("/", "/etc/passwd"), "etc/passwd");
	assert_string_equal(rel("/w/foo", "/w/foo"), ".");
	assert_string_equal(rel("/w/a/b", "/w"), "../..");
	assert_string_equal(rel("/ab", "/a/b"), "../a/b");	/* components, not bytes */
	assert_string_equal(rel("w", "/w/foo"), "E22");
	assert_string_equal(rel("/w", "w/foo"), "E22");
	assert_string_equal(rel("/w", "/w/0123456789012345678901234567890123456789012345678901234567890123456789"),
	    "E36");
}

static void
test_temp_name(void **state)
{
	char a[64], b[64];

	path_temp_name(a, sizeof(a), 42, 0x1234);
	path_temp_name(b, sizeof(b), 42, 0x1235);
	assert_string_equal(a, ".cpd-tmp.42.0000000000001234");
	assert_string_not_equal(a, b);
	assert_int_equal(strncmp(a, PATH_TEMP_PREFIX, strlen(PATH_TEMP_PREFIX)), 0);
	assert_null(strchr(a, '/'));
}

static void
touch(const char *dir, const char *name)
{
	char p[PATH_MAX];
	int  fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_true((fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	close(fd);
}

/*
 * A whole tree goes, deep and with a read-only directory in it (made
 * writable first: it is the caller's), and a symlink to a directory
 * outside is removed, not followed; a file is not a directory to remove;
 * too deep a tree is refused, not half removed.
 */
static void
test_remove_tree(void **state)
{
	char	 top[] = "/tmp/cpd-test-tree.XXXXXX", p[256], out[64];
	int	 dfd;

	assert_non_null(mkdtemp(top));
	snprintf(out, sizeof(out), "%s.outside", top);
	assert_int_equal(mkdir(out, 0700), 0);
	touch(out, "keep");
	dfd = open(top, O_RDONLY | O_DIRECTORY);
	snprintf(p, sizeof(p), "%s/t", top);
	assert_int_equal(mkdir(p, 0700), 0);
	touch(p, "f");
	for (int i = 0; i < 20; i++) {
		strcat(p, "/d");
		assert_int_equal(mkdir(p, 0700), 0);
		touch(p, "f");
	}
	snprintf(p, sizeof(p), "%s/t/ro", top);
	assert_int_equal(mkdir(p, 0700), 0);
	touch(p, "g");
	assert_int_equal(chmod(p, 0500), 0);
	snprintf(p, sizeof(p), "%s/t/link", top);
	assert_int_equal(symlink(out, p), 0);
	assert_int_equal(path_remove_tree(dfd, "t"), 0);
	assert_int_equal(faccessat(dfd, "t", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	snprintf(p, sizeof(p), "%s/keep", out);
	assert_int_equal(access(p, F_OK), 0);

	touch(top, "file");
	assert_int_equal(path_remove_tree(dfd, "file"), -1);
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(unlinkat(dfd, "file", 0), 0);

	assert_int_equal(mkdirat(dfd, "deep", 0700), 0);
	int cur = openat(dfd, "deep", O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < PATH_TREE_MAX_DEPTH + 1; i++) {
		assert_int_equal(mkdirat(cur, "d", 0700), 0);
		int sub = openat(cur, "d", O_RDONLY | O_DIRECTORY);
		close(cur);
		assert_true((cur = sub) >= 0);
	}
	close(cur);
	assert_int_equal(path_remove_tree(dfd, "deep"), -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(faccessat(dfd, "deep", F_OK, 0), 0);	/* refused, not gone */
	close(dfd);
	snprintf(p, sizeof(p), "rm -rf '%s' '%s'", top, out);
	assert_int_equal(system(p), 0);
}

/*
 * Without root's override of permissions, a read-only directory of the
 * caller's own is made writable to be emptied (a root run takes the
 * identity of nobody for it, in a child).
 */
static void
test_remove_tree_own_readonly(void **state)
{
	char	 top[] = "/tmp/cpd-test-tree.XXXXXX", p[256];
	pid_t	 pid;
	int	 status, dfd;

	assert_non_null(mkdtemp(top));
	if (geteuid() == 0)
		assert_int_equal(chown(top, 65534, 65534), 0);
	if ((pid = fork()) == 0) {
		if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(65534) < 0 ||
		    setuid(65534) < 0))
			_exit(2);
		snprintf(p, sizeof(p), "%s/t", top);
		if (mkdir(p, 0700) < 0)
			_exit(3);
		snprintf(p, sizeof(p), "%s/t/ro", top);
		if (mkdir(p, 0700) < 0)
			_exit(3);
		touch(p, "g");
		if (chmod(p, 0500) < 0 || (dfd = open(top, O_RDONLY | O_DIRECTORY)) < 0)
			_exit(3);
		_exit(path_remove_tree(dfd, "t") == 0 &&
		    faccessat(dfd, "t", F_OK, AT_SYMLINK_NOFOLLOW) < 0 ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	snprintf(p, sizeof(p), "rm -rf '%s'", top);
	assert_int_equal(system(p), 0);
}

static bool
on_procfs_mount(uint64_t id)
{
	struct statx stx = { .stx_mask = STATX_BASIC_STATS | STATX_MNT_ID, .stx_mnt_id = id };

	return path_on_procfs(&stx);
}

static bool
on_procfs_at(uint64_t id, unsigned major, unsigned minor)
{
	struct statx stx = { .stx_mask = STATX_BASIC_STATS | STATX_MNT_ID, .stx_mnt_id = id,
	    .stx_dev_major = major, .stx_dev_minor = minor };

	return path_on_procfs(&stx);
}

/* A kernel before 5.8 tells no mount: the devices of the proc mounts. */
static bool
on_procfs_dev(unsigned major, unsigned minor)
{
	struct statx stx = { .stx_mask = STATX_BASIC_STATS, .stx_dev_major = major,
	    .stx_dev_minor = minor };

	return path_on_procfs(&stx);
}

static void
write_mountinfo(const char *file, const char *mode, const char *text)
{
	FILE *f = fopen(file, mode);

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/*
 * Only the proc mounts count, optional tags or not; a mount not in the
 * list (mounted since) makes it read the file again, and so does a
 * change of the mount table, which may give an old mount's id to a new.
 */
static void
test_procfs(void **state)
{
	char	 file[] = "/tmp/cpd-test-mountinfo.XXXXXX";
	int	 fd = mkstemp(file);

	assert_true(fd >= 0);
	close(fd);
	write_mountinfo(file, "w", "22 27 0:21 / /proc rw,relatime shared:12 - proc proc rw\n"
	    "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n"
	    "24 27 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
	    "25 24 0:57 / /srv/jail/proc rw - proc proc rw,hidepid=2\n"
	    "26 24 0:58 / /srv/proc rw - tmpfs proc rw\n");
	assert_int_equal(path_procfs_load(file), 0);
	assert_true(on_procfs_mount(22));
	assert_true(on_procfs_mount(25));
	assert_false(on_procfs_mount(23));
	assert_false(on_procfs_mount(24));
	assert_false(on_procfs_mount(26));	/* a tmpfs whose source is named proc */
	assert_true(on_procfs_dev(0, 21));
	assert_true(on_procfs_dev(0, 57));
	assert_false(on_procfs_dev(8, 1));
	assert_false(on_procfs_dev(0, 58));

	/* A proc mounted after the list was read: its id is new. */
	write_mountinfo(file, "a", "90 24 0:60 / /mnt/p rw - proc proc rw\n");
	assert_true(on_procfs_mount(90));
	assert_true(on_procfs_dev(0, 60));

	/* sysfs unmounted, and its id given to a new proc: told by the change. */
	write_mountinfo(file, "w", "23 27 0:61 / /mnt/q rw - proc proc rw\n"
	    "24 27 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n");
	assert_false(on_procfs_mount(23));	/* not told yet: the list stands */
	path_procfs_changed();
	assert_true(on_procfs_mount(23));
	assert_false(on_procfs_mount(24));
	/* A mount not listed even after reading again (the one a chrooted
	 * daemon's root directory is on) is judged by its device. */
	assert_false(on_procfs_at(22, 8, 1));
	assert_true(on_procfs_at(29, 0, 61));
	assert_false(on_procfs_dev(0, 21));

	unlink(file);
	assert_int_equal(path_procfs_load(file), -ENOENT);
	path_procfs_free();
	assert_false(on_procfs_mount(22));	/* nothing loaded: nothing known */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_basename),
		cmocka_unit_test(test_dirname),
		cmocka_unit_test(test_trailing_slash),
		cmocka_unit_test(test_is_dot),
		cmocka_unit_test(test_relative),
		cmocka_unit_test(test_temp_name),
		cmocka_unit_test(test_procfs),
		cmocka_unit_test(test_remove_tree),
		cmocka_unit_test(test_remove_tree_own_readonly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
