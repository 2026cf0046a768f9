/*
 * The main flow of cpd-client: global options, configuration, dispatch to
 * a command; and the helpers every command shares.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

volatile sig_atomic_t	 client_signal_count;
static sigset_t		 client_waitmask;
static bool		 client_catching;

enum {
	CLIENT_OPT_JSON = 256,
	CLIENT_OPT_PROGRESS,
	CLIENT_OPT_NO_PROGRESS,
};

static const struct option client_options[] = {
	{ "socket",	 required_argument,	NULL, 's' },
	{ "json",	 no_argument,		NULL, CLIENT_OPT_JSON },
	{ "progress",	 required_argument,	NULL, CLIENT_OPT_PROGRESS },
	{ "no-progress", no_argument,		NULL, CLIENT_OPT_NO_PROGRESS },
	{ "help",	 no_argument,		NULL, 'h' },
	{ "version",	 no_argument,		NULL, 'V' },
	{ NULL,		 0,			NULL, 0 }
};

int
client_verror(int status, const char *fmt, va_list ap)
{
	fflush(stdout);
	fputs(CLIENT_NAME ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return status;
}

int
client_error(int status, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	client_verror(status, fmt, ap);
	va_end(ap);
	return status;
}

char *
client_abspath(const char *cwd, const char *path)
{
	const char	*rest = path;
	size_t		 baselen;
	bool		 trailing;
	char		*out;

	if (path == NULL || path[0] == '\0')
		return NULL;
	if (path[0] == '/')
		return strdup(path);
	if (cwd == NULL || cwd[0] != '/')
		return NULL;

	/* "./x" names the same as "x", "." and "./" the directory itself. */
	while (rest[0] == '.' && rest[1] == '/') {
		rest += 2;
		while (*rest == '/')
			rest++;
	}
	if (strcmp(rest, ".") == 0)
		rest = "";
	trailing = path[strlen(path) - 1] == '/';

	/* cwd without its trailing slashes ("/" becomes empty). */
	baselen = strlen(cwd);
	while (baselen > 0 && cwd[baselen - 1] == '/')
		baselen--;

	if (*rest == '\0') {
		if (asprintf(&out, "%.*s%s", (int)baselen, cwd,
		    trailing || baselen == 0 ? "/" : "") == -1)
			return NULL;
	} else if (asprintf(&out, "%.*s/%s", (int)baselen, cwd, rest) == -1)
		return NULL;
	return out;
}

int
client_parse_id(const char *s, uint64_t *out)
{
	unsigned long long	 v;
	char			*end;

	/* strtoull alone would take " 1", "+1" and even "-1". */
	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > INT64_MAX)
		return -1;
	*out = v;
	return 0;
}

static void
client_on_signal(int signo)
{
	(void)signo;
	if (client_signal_count < 1000)
		client_signal_count++;
}

int
client_signals_catch(void)
{
	static const int	 signals[] = { SIGINT, SIGTERM };
	struct sigaction	 sa, old;
	sigset_t		 block;
	size_t			 i;

	if (client_catching)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = client_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: waits end with EINTR */

	/*
	 * The signals stay blocked except inside ppoll (vl_recv), so that
	 * one arriving between checking the count and waiting is not lost.
	 */
	sigemptyset(&block);
	for (i = 0; i < sizeof signals / sizeof signals[0]; i++)
		sigaddset(&block, signals[i]);
	if (sigprocmask(SIG_BLOCK, &block, &client_waitmask) == -1)
		return -1;
	for (i = 0; i < sizeof signals / sizeof signals[0]; i++) {
		sigdelset(&client_waitmask, signals[i]);
		if (sigaction(signals[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;	/* ignored by whoever started us */
		if (sigaction(signals[i], &sa, NULL) == -1)
			return -1;
	}
	client_catching = true;
	return 0;
}

const sigset_t *
client_signals_waitmask(void)
{
	return client_catching ? &client_waitmask : NULL;
}

int
client_connect(struct client *c, struct vl **vl)
{
	int	 error;

	error = vl_connect(c->socket, vl);
	if (error == 0)
		return CLIENT_EXIT_OK;
	client_error(CLIENT_EXIT_CONNECT, "cannot connect to %s: %s",
	    c->socket, strerror(error));
	if (error == EACCES || error == EPERM)
		client_error(0, "do you have permission to use the daemon's "
		    "socket?");
	else if (error != ENAMETOOLONG && error != EINVAL)
		client_error(0, "is the daemon running? Start it with "
		    "'systemctl start cpd.socket' or 'sudo cpd'.");
	return CLIENT_EXIT_CONNECT;
}

int
client_call(struct client *c, const char *method, struct json_object *params,
    struct vl_reply *reply)
{
	struct vl	*vl;
	int		 status, r;

	memset(reply, 0, sizeof *reply);
	if ((status = client_connect(c, &vl)) != CLIENT_EXIT_OK)
		return status;
	r = vl_send(vl, method, params, false);
	if (r == VL_OK)
		r = vl_recv(vl, reply);
	if (r != VL_OK) {
		status = vl_report(vl, r);
		vl_close(vl);
		return status;
	}
	vl_close(vl);
	if (reply->error != NULL) {
		status = vl_report_error(reply);
		vl_reply_free(reply);
		return status;
	}
	return CLIENT_EXIT_OK;
}

void
client_print_json(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Write out stdout; a failure there is the command's failure. */
static int
client_flush(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		client_error(0, "cannot write to standard output: %s",
		    strerror(errno));
		if (status == CLIENT_EXIT_OK)
			status = CLIENT_EXIT_FAIL;
	}
	return status;
}

int
client_main(int argc, char **argv)
{
	const struct cmd_entry	*cmd;
	struct client		 c;
	const char		*socket_opt = NULL, *env;
	char			 err[512];
	int			 opt, progress_opt = -1, status;
	bool			 json = false;

	memset(&c, 0, sizeof c);
	conf_init(&c.conf);

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:s:hV", client_options,
	    NULL)) != -1) {
		switch (opt) {
		case 's':
			socket_opt = optarg;
			break;
		case CLIENT_OPT_JSON:
			json = true;
			break;
		case CLIENT_OPT_PROGRESS:
			if ((progress_opt = conf_parse_progress(optarg)) == -1)
				return cmd_usage_error(NULL, "invalid value "
				    "'%s' for --progress (expected auto, "
				    "always or never)", optarg);
			break;
		case CLIENT_OPT_NO_PROGRESS:
			progress_opt = PROGRESS_NEVER;
			break;
		case 'h':
			cmd_print_help(stdout);
			return client_flush(CLIENT_EXIT_OK);
		case 'V':
			printf("%s %s\n", CLIENT_NAME, CPD_VERSION);
			return client_flush(CLIENT_EXIT_OK);
		default:
			return cmd_option_error(NULL, opt, argv);
		}
	}
	if (optind >= argc)
		return cmd_usage_error(NULL, "no command given");
	if ((cmd = cmd_find(argv[optind])) == NULL)
		return cmd_usage_error(NULL, "unknown command '%s'",
		    argv[optind]);

	if (!(cmd->flags & CMD_NOCONFIG) &&
	    conf_load(&c.conf, err, sizeof err) == -1) {
		client_error(0, "%s", err);
		conf_free(&c.conf);
		return CLIENT_EXIT_USAGE;
	}

	/* The environment wins over -s, which wins over the files. */
	if ((env = getenv("CPD_SOCKET")) != NULL && *env != '\0')
		c.socket = env;
	else if (socket_opt != NULL)
		c.socket = socket_opt;
	else if (c.conf.socket != NULL)
		c.socket = c.conf.socket;
	else
		c.socket = CPD_DEFAULT_SOCKET;
	c.json = json;
	c.progress = progress_opt != -1 ? progress_opt : c.conf.progress;
	c.priority = c.conf.priority;
	c.sync = c.conf.sync;
	c.no_clobber = c.conf.no_clobber;
	c.bwlimit = c.conf.bwlimit;
	c.reflink = REFLINK_UNSET;
	c.update = -1;
	c.max_delete = -1;

	/* The command parses its own options from its name on. */
	argc -= optind;
	argv += optind;
	optind = 0;
	status = cmd->exec(&c, cmd, argc, argv);

	json_object_put(c.filters);
	json_object_put(c.link_dest);
	json_object_put(c.clone_dest);
	conf_free(&c.conf);
	return client_flush(status);
}
