/*
 * Filter rules, as rsync's include/exclude patterns: a pattern is
 * compiled once into where it applies (the last name, the last names,
 * any name's start, or the path from the transfer root) and whether it
 * wants a directory; its glob is matched by filter_glob().
 *
 * The glob matcher backtracks, but a star that has failed on every rest
 * of the text tells the stars before it to give up (FILTER_ABORT*): an
 * earlier star taking more text only hands the later one a shorter rest
 * it has already tried. A caller's pattern such as "*a*a*a*a*b" thus
 * costs a polynomial, not an exponential, time on the loop.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

/* Where a pattern is matched in an entry's path. */
enum filter_where {
	FILTER_NAME,	/* its last name: no "/" nor "**" */
	FILTER_TAIL,	/* its last names, as many as the pattern has: "a/b" */
	FILTER_ANY,	/* from the start of any of its names: "a**", "**.o" */
	FILTER_ROOT,	/* its whole path from the transfer root: "/a" */
};

struct filter_rule_c {
	enum filter_rule	 rule;
	enum filter_where	 where;
	bool			 dir_only;	/* a trailing "/" */
	bool			 literal;	/* no wildcard: compared as it is */
	unsigned		 slashes;	/* FILTER_TAIL: "/"s in the pattern */
	char			*glob;
	char			*inside;	/* a trailing "/" "***": glob is the directory, this inside it */
};

struct filter_set {
	size_t			 n;
	struct filter_rule_c	 rules[];
};

enum { FILTER_MATCH, FILTER_NOMATCH, FILTER_ABORT_ALL, FILTER_ABORT_TO_STARSTAR };

/* A "[:name:]" class at p (after "[:"): its test, and *len its length; NULL if none. */
static int
(*filter_named_class(const char *p, size_t *len))(int)
{
	static const struct {
		const char	*name;
		int		(*test)(int);
	} classes[] = {
		{ "alnum", isalnum }, { "alpha", isalpha }, { "blank", isblank },
		{ "cntrl", iscntrl }, { "digit", isdigit }, { "graph", isgraph },
		{ "lower", islower }, { "print", isprint }, { "punct", ispunct },
		{ "space", isspace }, { "upper", isupper }, { "xdigit", isxdigit },
	};

	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		size_t l = strlen(classes[i].name);

		if (strncmp(p, classes[i].name, l) == 0 && p[l] == ':' && p[l + 1] == ']') {
			*len = l + 2;
			return classes[i].test;
		}
	}
	return NULL;
}

/*
 * The class at p (just after "["): whether c is in it; *end just after
 * its "]". -1 when it is never closed.
 */
static int
filter_class(const char *p, unsigned char c, const char **end)
{
	bool	negate = false, in = false;
	int	(*test)(int);
	size_t	len;

	if (*p == '!' || *p == '^') {
		negate = true;
		p++;
	}
	/* A "]" first is one of the class. */
	for (bool first = true; first || *p != ']'; first = false) {
		unsigned char lo = (unsigned char)*p, hi;

		if (lo == '\0')
			return -1;
		if (lo == '[' && p[1] == ':' && (test = filter_named_class(p + 2, &len))) {
			in |= test(c) != 0;
			p += 2 + len;
			continue;
		}
		if (lo == '\\' && p[1])
			lo = (unsigned char)*++p;
		p++;
		hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			if (*p == '\\' && p[1])
				p++;
			hi = (unsigned char)*p++;
		}
		in |= lo <= c && c <= hi;
	}
	*end = p + 1;
	return in != negate;
}

static int
filter_glob(const char *p, const char *t)
{
	const char	*end;
	int		 r;

	for (; *p; p++, t++) {
		switch (*p) {
		case '?':
			if (*t == '\0' || *t == '/')
				return *t ? FILTER_NOMATCH : FILTER_ABORT_ALL;
			break;
		case '[':
			if (*t == '\0')
				return FILTER_ABORT_ALL;
			if (*t == '/' || (r = filter_class(p + 1, (unsigned char)*t, &end)) <= 0)
				return FILTER_NOMATCH;
			p = end - 1;
			break;
		case '*': {
			bool star2 = p[1] == '*';

			while (*p == '*')
				p++;
			if (*p == '\0')
				return star2 || strchr(t, '/') == NULL ? FILTER_MATCH :
				    FILTER_ABORT_TO_STARSTAR;
			for (;; t++) {
				if ((r = filter_glob(p, t)) != FILTER_NOMATCH &&
				    (!star2 || r != FILTER_ABORT_TO_STARSTAR))
					return r;
				if (*t == '\0')
					return FILTER_ABORT_ALL;
				if (*t == '/' && !star2)
					return FILTER_ABORT_TO_STARSTAR;
			}
		}
		case '\\':
			if (p[1])
				p++;
			/* FALLTHROUGH */
		default:
			if (*t != *p)
				return *t ? FILTER_NOMATCH : FILTER_ABORT_ALL;
		}
	}
	return *t ? FILTER_NOMATCH : FILTER_MATCH;
}

static bool
filter_text(const struct filter_rule_c *r, const char *glob, const char *t)
{
	return r->literal && glob == r->glob ? strcmp(glob, t) == 0 : filter_glob(glob, t) == FILTER_MATCH;
}

static bool
filter_matches(const struct filter_rule_c *r, const char *glob, const char *rel)
{
	const char	*t;
	unsigned	 n;

	switch (r->where) {
	case FILTER_ROOT:
		return filter_text(r, glob, rel);
	case FILTER_NAME:
		t = strrchr(rel, '/');
		return filter_text(r, glob, t ? t + 1 : rel);
	case FILTER_TAIL:
		/* The last slashes+1 names, all of them in the transfer. */
		for (t = rel + strlen(rel), n = 0; t > rel; t--)
			if (t[-1] == '/' && ++n > r->slashes)
				break;
		return n >= r->slashes && filter_text(r, glob, t);
	case FILTER_ANY:
		for (t = rel; t; t = (t = strchr(t, '/')) ? t + 1 : NULL)
			if (filter_text(r, glob, t))
				return true;
		return false;
	}
	return false;
}

bool
filter_excluded(const struct filter_set *set, const char *rel, bool is_dir)
{
	if (set == NULL)
		return false;
	for (size_t i = 0; i < set->n; i++) {
		const struct filter_rule_c	*r = &set->rules[i];
		bool				 hit;

		/* Read by the pool's threads too (tree_delete.c): nothing changes here. */
		hit = (!r->dir_only || is_dir) && filter_matches(r, r->glob, rel);
		hit = hit || (r->inside && filter_matches(r, r->inside, rel));
		if (hit)
			return r->rule == FILTER_EXCLUDE;
	}
	return false;
}

/* Compile one pattern into r. */
static int
filter_compile_one(const char *pat, struct filter_rule_c *r)
{
	size_t		 len = strlen(pat);
	bool		 anchored = pat[0] == '/';
	const char	*end;
	char		*g;

	if (anchored) {
		pat++;
		len--;
	}
	if (len >= 4 && strcmp(pat + len - 4, "/***") == 0) {
		if ((r->inside = strndup(pat, len - 1)) == NULL)
			return -ENOMEM;
		r->dir_only = true;	/* "d" itself: a directory */
		len -= 4;
	} else if (len > 0 && pat[len - 1] == '/') {
		r->dir_only = true;
		len--;
	}
	if (len == 0)
		return -EINVAL;
	if ((g = r->glob = strndup(pat, len)) == NULL)
		return -ENOMEM;
	r->literal = strpbrk(g, "*?[") == NULL;
	for (const char *p = g; *p; p++) {
		if (*p == '/')
			r->slashes++;
		else if (*p == '\\' && p[1] && !r->literal)
			p++;
		else if (*p == '[' && !r->literal) {
			if (filter_class(p + 1, 0, &end) < 0)
				return -EINVAL;		/* never closed */
			p = end - 1;
		}
	}
	if (anchored)
		r->where = FILTER_ROOT;
	else if (r->inside || strstr(g, "**"))
		r->where = FILTER_ANY;
	else
		r->where = r->slashes ? FILTER_TAIL : FILTER_NAME;
	return 0;
}

int
filter_compile(const struct job_filter *rules, size_t n, struct filter_set **out)
{
	struct filter_set	*set;
	int			 rc;

	*out = NULL;
	if (n == 0)
		return 0;
	if ((set = calloc(1, sizeof(*set) + n * sizeof(set->rules[0]))) == NULL)
		return -ENOMEM;
	for (; set->n < n; set->n++) {
		set->rules[set->n].rule = rules[set->n].rule;
		if ((rc = filter_compile_one(rules[set->n].pattern, &set->rules[set->n])) < 0) {
			set->n++;	/* its glob, if made, is freed too */
			filter_free(set);
			return rc;
		}
	}
	*out = set;
	return 0;
}

void
filter_free(struct filter_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++) {
		free(set->rules[i].glob);
		free(set->rules[i].inside);
	}
	free(set);
}
