/*
 * copy --itemize-changes, --manifest and --exclude-from: what the
 * client makes of the changes a job streams, and the filter rules it
 * reads from a file.
 *
 * A change's line is "YX change path": YX are rsync -i's first two
 * columns (Y: > data written, c a non-file made, h hard-linked, k
 * cloned, . attributes only or nothing, * deleted; X: f file, d
 * directory, L symlink, D special), then the change's name.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static char
itemize_what(const char *change, const char *type)
{
	if (strcmp(change, "deleted") == 0)
		return '*';
	if (strcmp(change, "linked") == 0)
		return 'h';
	if (strcmp(change, "cloned") == 0)
		return 'k';
	if (strcmp(change, "metadata") == 0 || strcmp(change, "skipped") == 0)
		return '.';
	return strcmp(type, "file") == 0 ? '>' : 'c';
}

static char
itemize_type(const char *type)
{
	switch (vocab_entry_parse(type)) {
	case ENTRY_FILE:	return 'f';
	case ENTRY_DIRECTORY:	return 'd';
	case ENTRY_SYMLINK:	return 'L';
	case ENTRY_SPECIAL:	return 'D';
	default:		return '?';
	}
}

/* A manifest line as xxh128sum writes it: a name with "\\" or a newline is escaped. */
static int
itemize_manifest_line(FILE *f, const char *hash, const char *path)
{
	bool esc = strpbrk(path, "\\\n") != NULL;

	if (fprintf(f, "%s%s  ", esc ? "\\" : "", hash) < 0)
		return -1;
	for (const char *p = path; *p; p++) {
		if (esc && *p == '\\' ? fputs("\\\\", f) < 0 :
		    esc && *p == '\n' ? fputs("\\n", f) < 0 : putc(*p, f) == EOF)
			return -1;
	}
	return putc('\n', f) == EOF ? -1 : 0;
}

int
itemize_reply(struct client *c, struct json_object *params)
{
	struct json_object	*a, *ch;
	const char		*change, *type, *path, *hash;
	size_t			 n;

	if (!json_object_object_get_ex(params, VOCAB_CHANGES, &a) ||
	    !json_object_is_type(a, json_type_array))
		return 0;
	n = json_object_array_length(a);
	for (size_t i = 0; i < n; i++) {
		ch = json_object_array_get_idx(a, i);
		change = job_str(ch, VOCAB_CHANGE);
		type = job_str(ch, VOCAB_CHANGE_TYPE);
		path = job_str(ch, VOCAB_CHANGE_PATH);
		hash = job_str(ch, VOCAB_CHANGE_HASH);
		if (change == NULL || type == NULL || path == NULL)
			continue;
		if (c->manifest_f && hash && strcmp(type, "file") == 0 &&
		    strcmp(change, "deleted") != 0 &&
		    itemize_manifest_line(c->manifest_f, hash, path) < 0)
			return -1;
		/* cp -v names what it copies, not what it leaves or deletes. */
		if (c->verbose && !c->json && strcmp(change, "skipped") != 0 &&
		    strcmp(change, "deleted") != 0 && strcmp(change, "metadata") != 0)
			cp_verbose(c, change, path);
		if (c->itemize == 0 || (c->itemize < 2 && strcmp(change, "skipped") == 0))
			continue;
		if (c->json)
			printf("%s\n", json_object_to_json_string_ext(ch,
			    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		else
			printf("%c%c %-8s %s\n", itemize_what(change, type), itemize_type(type),
			    change, path);
	}
	return 0;
}

int
itemize_manifest_open(struct client *c)
{
	if (c->manifest == NULL)
		return CLIENT_EXIT_OK;
	if ((c->manifest_f = fopen(c->manifest, "we")) == NULL)
		return client_error(CLIENT_EXIT_FAIL, "cannot write manifest '%s': %s",
		    c->manifest, strerror(errno));
	return CLIENT_EXIT_OK;
}

int
itemize_manifest_close(struct client *c)
{
	FILE *f = c->manifest_f;

	if (f == NULL)
		return CLIENT_EXIT_OK;
	c->manifest_f = NULL;
	if (ferror(f) | fclose(f))
		return client_error(CLIENT_EXIT_FAIL, "cannot write manifest '%s': %s",
		    c->manifest, strerror(errno ? errno : EIO));
	return CLIENT_EXIT_OK;
}

static int
itemize_add_filter(struct client *c, const char *rule, const char *pattern)
{
	struct json_object *f = json_object_new_object();

	if (c->filters == NULL)
		c->filters = json_object_new_array();
	json_object_object_add(f, VOCAB_FILTER_RULE, json_object_new_string(rule));
	json_object_object_add(f, VOCAB_FILTER_PATTERN, json_object_new_string(pattern));
	return json_object_array_add(c->filters, f);
}

/*
 * As rsync reads --exclude-from: one pattern a line, blank lines and
 * lines starting with ";" or "#" ignored, "+ " and "- " give a line's
 * rule; "-" is standard input.
 */
int
itemize_read_patterns(struct client *c, const char *file, const char *rule)
{
	FILE	*f = strcmp(file, "-") == 0 ? stdin : fopen(file, "re");
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	int	 rc = 0;

	if (f == NULL)
		return -1;
	while ((n = getline(&line, &cap, f)) > 0) {
		const char *r = rule, *p = line;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n == 0 || line[0] == ';' || line[0] == '#')
			continue;
		if (n > 2 && (line[0] == '+' || line[0] == '-') && line[1] == ' ') {
			r = line[0] == '+' ? "include" : "exclude";
			p = line + 2;
		}
		if (*p)
			itemize_add_filter(c, r, p);
	}
	if (ferror(f))
		rc = -1;
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* --exclude PATTERN, --include PATTERN. */
int
itemize_filter(struct client *c, const char *rule, const char *pattern)
{
	return itemize_add_filter(c, rule, pattern);
}
