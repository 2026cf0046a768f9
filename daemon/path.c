#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "path.h"

int
path_check(const char *path, size_t len)
{
	if (len == 0 || path[0] != '/')
		return -EINVAL;
	if (strlen(path) != len)	/* an embedded NUL from "\u0000" */
		return -EINVAL;
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* [*start, *end) of the last component. */
static int
path_last(const char *path, size_t *start, size_t *end)
{
	size_t e = strlen(path), s;

	while (e > 0 && path[e - 1] == '/')
		e--;
	if (e == 0)
		return -EINVAL;
	for (s = e; s > 0 && path[s - 1] != '/'; s--)
		;
	*start = s;
	*end = e;
	return 0;
}

int
path_basename(const char *path, char *out, size_t outlen)
{
	size_t	s, e;
	int	rc;

	if ((rc = path_last(path, &s, &e)) < 0)
		return rc;
	if (e - s >= outlen || e - s > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(out, path + s, e - s);
	out[e - s] = '\0';
	if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		return -EINVAL;
	return 0;
}

int
path_dirname(const char *path, char *out, size_t outlen)
{
	size_t	s, e;
	int	rc;

	if ((rc = path_last(path, &s, &e)) < 0)
		return rc;
	while (s > 1 && path[s - 1] == '/')
		s--;
	if (s == 0)
		return -EINVAL;		/* relative: cannot happen after path_check */
	if (s >= outlen)
		return -ENAMETOOLONG;
	memcpy(out, path, s);
	out[s] = '\0';
	return 0;
}

bool
path_trailing_slash(const char *path)
{
	size_t len = strlen(path);

	return len > 1 && path[len - 1] == '/';
}

void
path_temp_name(char *out, size_t outlen, uint64_t job, uint64_t rnd)
{
	snprintf(out, outlen, PATH_TEMP_PREFIX "%llu.%016llx",
	    (unsigned long long)job, (unsigned long long)rnd);
}
