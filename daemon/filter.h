/*
 * A job's filter rules (Copy's filters), compiled once, matched against
 * each entry of its trees: rsync's include/exclude rules, first match
 * wins (include/io.cpd.Manager.varlink, type Filter, says the syntax).
 */
#ifndef CPD_FILTER_H
#define CPD_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "request.h"

struct filter_set;

/*
 * Compile n rules; *out NULL when n is 0 (nothing is excluded). 0, or
 * -EINVAL (a pattern that cannot be compiled), -ENOMEM.
 */
int	filter_compile(const struct job_filter *rules, size_t n, struct filter_set **out);
/*
 * Whether the entry at rel, its path from the transfer root (no leading
 * "/", names separated by one "/"), a directory or not, is excluded.
 * A NULL set excludes nothing.
 */
bool	filter_excluded(const struct filter_set *, const char *rel, bool is_dir);
void	filter_free(struct filter_set *);

#endif
