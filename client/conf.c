/*
 * Configuration files: /etc/cpd/client.conf, then the user's
 * ${XDG_CONFIG_HOME:-$HOME/.config}/cpd/client.conf; later values
 * override earlier ones. INI syntax, one section [client]:
 *
 *	socket = PATH
 *	progress = auto | always | never
 *	priority = auto | interactive | normal | bulk
 *	sync = BOOL
 *	no_clobber = BOOL
 *	bwlimit = RATE		(see human_parse_rate; 0: none)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "client.h"

static const char *const conf_progress_modes[] = {
	[PROGRESS_AUTO] = "auto",
	[PROGRESS_ALWAYS] = "always",
	[PROGRESS_NEVER] = "never",
};

/* The state of reading one file. */
struct conf_parse {
	struct conf	*conf;
	FILE		*f;
	int		 line;		/* the line being read */
	int		 err_line;	/* the first error found here, or 0 */
	char		 err[256];
};

void
conf_init(struct conf *conf)
{
	conf->socket = NULL;
	conf->progress = PROGRESS_AUTO;
	conf->priority = PRIORITY_UNSET;
	conf->sync = -1;
	conf->no_clobber = false;
	conf->bwlimit = 0;
}

void
conf_free(struct conf *conf)
{
	free(conf->socket);
	conf->socket = NULL;
}

int
conf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "1", "on" };
	static const char *const no[] = { "false", "no", "0", "off" };
	size_t	 i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* "auto" is the client's word only: the daemon hears no priority. */
int
conf_parse_priority(const char *s, int *out)
{
	int	 p;

	if (strcmp(s, "auto") == 0) {
		*out = PRIORITY_UNSET;
		return 0;
	}
	if ((p = vocab_prio_parse(s)) < 0)
		return -1;
	*out = p;
	return 0;
}

const char *
conf_priority_name(int priority)
{
	if (priority < 0 || priority >= PRIO_COUNT)
		return NULL;
	return vocab_prio_name((enum job_prio)priority);
}

int
conf_parse_progress(const char *s)
{
	size_t	 i;

	for (i = 0; i < sizeof conf_progress_modes /
	    sizeof conf_progress_modes[0]; i++)
		if (strcmp(s, conf_progress_modes[i]) == 0)
			return (int)i;
	return -1;
}

/* Record the first error of the file, at the line being read. */
static int CLIENT_ATTR_PRINTF(2, 3)
conf_fail(struct conf_parse *p, const char *fmt, ...)
{
	va_list	 ap;

	if (p->err_line == 0) {
		p->err_line = p->line > 0 ? p->line : 1;
		va_start(ap, fmt);
		vsnprintf(p->err, sizeof p->err, fmt, ap);
		va_end(ap);
	}
	return 0;
}

static int
conf_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct conf_parse	*p = user;
	struct conf		*conf = p->conf;
	char			*s;
	int			 v;

	if (strcmp(section, CONF_SECTION) != 0) {
		if (*section == '\0')
			return conf_fail(p, "key '%s' outside of a section "
			    "(expected [" CONF_SECTION "])", name);
		return conf_fail(p, "unknown section [%s]", section);
	}

	if (strcmp(name, "socket") == 0) {
		if (*value == '\0')
			return conf_fail(p, "empty value for '%s'", name);
		if ((s = strdup(value)) == NULL)
			return conf_fail(p, "out of memory");
		free(conf->socket);
		conf->socket = s;
	} else if (strcmp(name, "progress") == 0) {
		if ((v = conf_parse_progress(value)) == -1)
			return conf_fail(p, "invalid value '%s' for '%s' "
			    "(expected auto, always or never)", value, name);
		conf->progress = v;
	} else if (strcmp(name, VOCAB_PRIORITY) == 0) {
		if (conf_parse_priority(value, &v) == -1)
			return conf_fail(p, "invalid value '%s' for '%s' "
			    "(expected auto, interactive, normal or bulk)",
			    value, name);
		conf->priority = v;
	} else if (strcmp(name, VOCAB_BWLIMIT) == 0) {
		switch (human_parse_rate(value, &conf->bwlimit)) {
		case 0:
			break;
		case ERANGE:
			return conf_fail(p, "value '%s' for '%s' out of range",
			    value, name);
		default:
			return conf_fail(p, "invalid value '%s' for '%s' "
			    "(expected bytes per second such as 50M or "
			    "1048576, or 0 for none)", value, name);
		}
	} else if (strcmp(name, VOCAB_SYNC) == 0) {
		bool b;

		if (conf_parse_bool(value, &b) == -1)
			return conf_fail(p, "invalid value '%s' for '%s' "
			    "(expected true or false)", value, name);
		conf->sync = b;
	} else if (strcmp(name, VOCAB_NO_CLOBBER) == 0) {
		if (conf_parse_bool(value, &conf->no_clobber) == -1)
			return conf_fail(p, "invalid value '%s' for '%s' "
			    "(expected true or false)", value, name);
	} else
		return conf_fail(p, "unknown key '%s'", name);
	return 1;
}

/*
 * fgets for inih that counts lines, so that errors found by the handler
 * carry the right line number. A line longer than inih's buffer is an
 * error; its remainder is skipped so that both counts stay in step.
 */
static char *
conf_reader(char *str, int num, void *stream)
{
	struct conf_parse	*p = stream;
	int			 c;

	if (fgets(str, num, p->f) == NULL)
		return NULL;
	p->line++;
	if (strchr(str, '\n') == NULL && (c = getc(p->f)) != EOF) {
		if (c != '\n') {
			conf_fail(p, "line too long (more than %d characters)",
			    num - 1);
			while ((c = getc(p->f)) != EOF && c != '\n')
				;
		}
	}
	return str;
}

int
conf_load_file(struct conf *conf, const char *path, char *err, size_t errlen)
{
	struct conf_parse	 p = { .conf = conf };
	int			 r;

	if (errlen > 0)
		err[0] = '\0';
	p.f = fopen(path, "re");
	if (p.f == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		/* Another's file (HOME=/root under chroot --user): as every tool does. */
		if (errno == EACCES || errno == EPERM) {
			client_error(0, "warning: skipping %s: %s", path, strerror(errno));
			return 0;
		}
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	r = ini_parse_stream(conf_reader, &p, conf_handler, &p);
	if (ferror(p.f) && r == 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(p.f);
		return -1;
	}
	fclose(p.f);

	/*
	 * inih returns the line of its first error: a syntax error of its
	 * own or a line the handler refused; ours is the first refused.
	 */
	if (p.err_line > 0 && (r <= 0 || p.err_line <= r)) {
		snprintf(err, errlen, "%s:%d: %s", path, p.err_line, p.err);
		return -1;
	}
	if (r > 0) {
		snprintf(err, errlen, "%s:%d: syntax error", path, r);
		return -1;
	}
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot parse: %s", path,
		    strerror(ENOMEM));
		return -1;
	}
	return 0;
}

char *
conf_user_path(void)
{
	const char	*base = getenv("XDG_CONFIG_HOME"), *sub = "/cpd/client.conf";
	char		*path;

	if (base == NULL || base[0] != '/') {
		base = getenv("HOME");
		if (base == NULL || base[0] == '\0')
			return NULL;
		sub = "/.config/cpd/client.conf";
	}
	if (asprintf(&path, "%s%s", base, sub) == -1)
		return NULL;
	return path;
}

int
conf_load(struct conf *conf, char *err, size_t errlen)
{
	char	*user;
	int	 r;

	if (conf_load_file(conf, CONF_SYSTEM_FILE, err, errlen) == -1)
		return -1;
	if ((user = conf_user_path()) == NULL)
		return 0;
	r = conf_load_file(conf, user, err, errlen);
	free(user);
	return r;
}
