#ifndef CPD_PATH_H
#define CPD_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Paths in requests: absolute, no NUL inside, shorter than PATH_MAX. */
int	path_check(const char *path, size_t len);
/* The last component, trailing slashes ignored; -EINVAL for "/" etc. */
int	path_basename(const char *path, char *out, size_t outlen);
/* Everything before the last component ("/" for "/a"). */
int	path_dirname(const char *path, char *out, size_t outlen);
bool	path_trailing_slash(const char *path);
/* ".cpd-tmp.<job>.<random>": the hidden name data is written under. */
void	path_temp_name(char *out, size_t outlen, uint64_t job, uint64_t rnd);

#define PATH_TEMP_PREFIX	".cpd-tmp."

#endif
