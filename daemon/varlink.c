/*
 * The Varlink protocol: one JSON object per NUL-terminated message, a call
 * and its replies in order on one connection. This file parses calls,
 * serves org.varlink.service, and routes io.cpd.Manager calls to the
 * method table in manager.c. Unparsable messages close the connection;
 * well-formed calls that are wrong get a Varlink error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "cpd-names.h"
#include "cpd-protocol.h"
#include "cred.h"
#include "log.h"
#include "reserve.h"
#include "varlink.h"

#define VARLINK_MAX_DEPTH	16	/* deeper JSON is refused, not parsed */

static const char service_interface_text[] =
"# The Varlink service interface, implemented by every Varlink service.\n"
"interface org.varlink.service\n"
"\n"
"# Information about the service and the interfaces it implements.\n"
"method GetInfo() -> (\n"
"  vendor: string,\n"
"  product: string,\n"
"  version: string,\n"
"  url: string,\n"
"  interfaces: []string\n"
")\n"
"\n"
"# The description of one of the service's interfaces.\n"
"method GetInterfaceDescription(interface: string) -> (description: string)\n"
"\n"
"error InterfaceNotFound (interface: string)\n"
"error MethodNotFound (method: string)\n"
"error MethodNotImplemented (method: string)\n"
"error InvalidParameter (parameter: string)\n"
"error PermissionDenied ()\n"
"error ExpectedMore ()\n";

static const struct varlink_interface *served;

void
varlink_init(const struct varlink_interface *vi)
{
	served = vi;
}

static void
varlink_end(struct call *call)
{
	struct conn *conn = call->conn;

	if (served && served->call_end)
		served->call_end(call);
	free(call);
	if (conn)
		control_call_end(conn);
}

/*
 * A reply whose strings are not all UTF-8 (file names from a tree walk
 * can be any bytes): each byte that is not part of a character becomes
 * U+FFFD, so that every reply is UTF-8 (cpd-varlink(7), Messages).
 */
static void
varlink_send_utf8(struct conn *conn, const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*out, *o;

	if (cpd_utf8(s, len)) {
		control_send(conn, s, len);
		return;
	}
	if ((o = out = malloc(len * 3)) == NULL)
		fatal("malloc");
	for (size_t i = 0, n; i < len; i += n) {
		if ((n = cpd_utf8_char(u + i, len - i)) == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		} else {
			memcpy(o, s + i, n);
			o += n;
		}
	}
	control_send(conn, out, (size_t)(o - out));
	free(out);
}

static void
varlink_send(struct call *call, struct json_object *msg)
{
	size_t		 len;
	const char	*s;

	if (call->conn && !call->oneway) {
		s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &len);
		varlink_send_utf8(call->conn, s, len);
	}
	json_object_put(msg);
}

void
varlink_reply(struct call *call, struct json_object *params, bool continues)
{
	struct json_object *msg = json_object_new_object();

	json_object_object_add(msg, "parameters", params ? params : json_object_new_object());
	if (continues)
		json_object_object_add(msg, "continues", json_object_new_boolean(1));
	varlink_send(call, msg);
	if (!continues)
		varlink_end(call);
}

void
varlink_error(struct call *call, const char *error, struct json_object *params)
{
	struct json_object *msg = json_object_new_object();

	json_object_object_add(msg, "error", json_object_new_string(error));
	json_object_object_add(msg, "parameters", params ? params : json_object_new_object());
	varlink_send(call, msg);
	varlink_end(call);
}

void
varlink_abort(struct call *call)
{
	call->conn = NULL;
	varlink_end(call);
}

void
varlink_invalid(struct call *call, const char *parameter)
{
	struct json_object *p = json_object_new_object();

	json_object_object_add(p, "parameter", json_object_new_string(parameter));
	varlink_error(call, VARLINK_ERR_INVALID_PARAMETER, p);
}

static bool
varlink_get(struct call *call, struct json_object *params, const char *name,
    bool required, json_type type, struct json_object **out)
{
	*out = NULL;
	if (!json_object_object_get_ex(params, name, out) || *out == NULL) {
		if (!required)
			return true;
	} else if (json_object_is_type(*out, type))
		return true;
	varlink_invalid(call, name);
	return false;
}

bool
varlink_get_string(struct call *call, struct json_object *params, const char *name,
    bool required, const char **out, size_t *len)
{
	struct json_object *v;

	if (!varlink_get(call, params, name, required, json_type_string, &v))
		return false;
	*out = v ? json_object_get_string(v) : NULL;
	if (len)
		*len = v ? (size_t)json_object_get_string_len(v) : 0;
	return true;
}

bool
varlink_get_int(struct call *call, struct json_object *params, const char *name,
    bool required, int64_t *out)
{
	struct json_object *v;

	if (!varlink_get(call, params, name, required, json_type_int, &v))
		return false;
	if (v) {
		/*
		 * json-c clamps numbers beyond 64 bits to the extremes without
		 * a word; no parameter of ours is meaningful there.
		 */
		*out = json_object_get_int64(v);
		if (*out == INT64_MAX || *out == INT64_MIN) {
			varlink_invalid(call, name);
			return false;
		}
	}
	return true;
}

bool
varlink_get_bool(struct call *call, struct json_object *params, const char *name,
    bool *out)
{
	struct json_object *v;

	if (!varlink_get(call, params, name, false, json_type_boolean, &v))
		return false;
	if (v)
		*out = json_object_get_boolean(v);
	return true;
}

static void
service_get_info(struct call *call, struct json_object *params)
{
	struct json_object *p = json_object_new_object(), *ifs = json_object_new_array();

	json_object_array_add(ifs, json_object_new_string(VARLINK_SERVICE));
	json_object_array_add(ifs, json_object_new_string(served->name));
	json_object_object_add(p, "vendor", json_object_new_string("cpd"));
	json_object_object_add(p, "product", json_object_new_string("cpd"));
	json_object_object_add(p, "version", json_object_new_string(CPD_VERSION));
	json_object_object_add(p, "url", json_object_new_string("man:cpd-varlink(7)"));
	json_object_object_add(p, "interfaces", ifs);
	varlink_reply(call, p, false);
}

static void
service_get_description(struct call *call, struct json_object *params)
{
	struct json_object	*p;
	const char		*iface, *text;

	if (!varlink_get_string(call, params, "interface", true, &iface, NULL))
		return;
	if (strcmp(iface, served->name) == 0)
		text = served->description;
	else if (strcmp(iface, VARLINK_SERVICE) == 0)
		text = service_interface_text;
	else {
		p = json_object_new_object();
		json_object_object_add(p, "interface", json_object_new_string(iface));
		varlink_error(call, VARLINK_ERR_INTERFACE_NOT_FOUND, p);
		return;
	}
	p = json_object_new_object();
	json_object_object_add(p, "description", json_object_new_string(text));
	varlink_reply(call, p, false);
}

static const struct varlink_method service_methods[] = {
	{ "GetInfo", service_get_info, false },
	{ "GetInterfaceDescription", service_get_description, false },
	{ NULL, NULL, false },
};

static const struct varlink_interface service = {
	.name = VARLINK_SERVICE,
	.description = service_interface_text,
	.methods = service_methods,
};

/* The interfaces in the order they are looked up: the service's, then the one served. */
static const struct varlink_interface *
varlink_interface(size_t i)
{
	return i == 0 ? &service : i == 1 ? served : NULL;
}

/*
 * Whether msg escapes a lone surrogate ("\ud800" without its pair):
 * json-c turns one into U+FFFD without a word, so only the text shows it.
 * A backslash is always an escape in JSON text: strings hold them all.
 */
static bool
varlink_lone_surrogate(const char *msg)
{
	const char *pair = NULL;	/* where a high surrogate's low one must be */

	for (const char *p = msg; (p = strchr(p, '\\')) != NULL; ) {
		unsigned long	u = 0;
		bool		low;

		if (p[1] != 'u') {
			if (pair)
				return true;
			p += p[1] ? 2 : 1;	/* another escape, "\\" among them */
			continue;
		}
		for (int k = 2; k < 6 && p[k] != '\0'; k++)
			u = u << 4 | (unsigned long)(p[k] <= '9' ? p[k] - '0' : (p[k] | 0x20) - 'a' + 10);
		low = u >= 0xdc00 && u <= 0xdfff;
		if (pair ? p != pair || !low : low)
			return true;
		pair = !pair && u >= 0xd800 && u <= 0xdbff ? p + 6 : NULL;
		p += 6;
	}
	return pair != NULL;
}

/* A string not UTF-8, at any depth, or U+FFFD that json-c made of a lone surrogate. */
static bool
varlink_bad_value(struct json_object *v, bool fffd)
{
	const char	*s;
	size_t		 len;

	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		return !cpd_utf8(s, len) ||
		    (fffd && memmem(s, len, "\xef\xbf\xbd", 3) != NULL);
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (varlink_bad_value(json_object_array_get_idx(v, i), fffd))
				return true;
		return false;
	case json_type_object: {
		json_object_object_foreach(v, key, val)
			if (!cpd_utf8(key, strlen(key)) ||
			    varlink_bad_value(val, fffd))
				return true;
		return false;
	}
	default:
		return false;
	}
}

/*
 * The first parameter that holds a bad string (varlink_bad_value), or
 * NULL. A key that is not UTF-8 itself cannot be named: "parameters".
 */
static const char *
varlink_bad_parameter(struct json_object *params, bool fffd)
{
	json_object_object_foreach(params, key, val) {
		if (!cpd_utf8(key, strlen(key)))
			return "parameters";
		if (varlink_bad_value(val, fffd))
			return key;
	}
	return NULL;
}

static void
varlink_route(struct call *call, const char *method, struct json_object *params)
{
	const char		*dot = strrchr(method, '.');
	struct json_object	*p;
	size_t			 ilen = dot ? (size_t)(dot - method) : 0;

	for (size_t i = 0; dot && varlink_interface(i); i++) {
		const struct varlink_interface *vi = varlink_interface(i);

		if (strlen(vi->name) != ilen || strncmp(vi->name, method, ilen) != 0)
			continue;
		for (const struct varlink_method *m = vi->methods; m->name; m++) {
			if (strcmp(m->name, dot + 1) != 0)
				continue;
			if (vi->guarded && control_cred(call->conn)->foreign) {
				p = json_object_new_object();
				json_object_object_add(p, "reason", json_object_new_string(
				    "this cpd runs unprivileged and serves only its own user"));
				varlink_error(call, CPD_ERR_PERMISSION_DENIED, p);
				return;
			}
			/* A client is waiting for this answer: see reserve.c. */
			if (!m->stream)
				reserve_touch();
			m->fn(call, params);
			return;
		}
		p = json_object_new_object();
		json_object_object_add(p, "method", json_object_new_string(method));
		varlink_error(call, VARLINK_ERR_METHOD_NOT_FOUND, p);
		return;
	}
	p = json_object_new_object();
	json_object_object_add(p, "interface", json_object_new_string(
	    dot ? strndupa(method, ilen) : method));
	varlink_error(call, VARLINK_ERR_INTERFACE_NOT_FOUND, p);
}

void
varlink_dispatch(struct conn *conn, char *msg)
{
	struct json_tokener	*tok = json_tokener_new_ex(VARLINK_MAX_DEPTH);
	struct json_object	*root, *method, *params = NULL, *flag;
	struct call		*call;
	const char		*bad;
	size_t			 len = strlen(msg);

	if (tok == NULL)
		fatal("json_tokener_new_ex");
	root = json_tokener_parse_ex(tok, msg, (int)len);
	if (root == NULL || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "method", &method) ||
	    !json_object_is_type(method, json_type_string) ||
	    !cpd_utf8(json_object_get_string(method), (size_t)json_object_get_string_len(method)) ||
	    (json_object_object_get_ex(root, "parameters", &params) && params &&
	     !json_object_is_type(params, json_type_object))) {
		json_tokener_free(tok);
		json_object_put(root);
		control_close(conn, "malformed message");
		return;
	}
	json_tokener_free(tok);
	if ((call = calloc(1, sizeof(*call))) == NULL)
		fatal("calloc");
	call->conn = conn;
	control_call_begin(conn, call);
	if (json_object_object_get_ex(root, "more", &flag))
		call->more = json_object_get_boolean(flag);
	if (json_object_object_get_ex(root, "oneway", &flag))
		call->oneway = json_object_get_boolean(flag);
	if (params == NULL) {
		params = json_object_new_object();
		json_object_object_add(root, "parameters", params);
	}
	log_debug("call %s%s", json_object_get_string(method), call->more ? " (more)" : "");
	if ((bad = varlink_bad_parameter(params, varlink_lone_surrogate(msg))) != NULL)
		varlink_invalid(call, bad);
	else
		varlink_route(call, json_object_get_string(method), params);
	json_object_put(root);
}

const struct control_protocol varlink_protocol = {
	.dispatch = varlink_dispatch,
	.abort = varlink_abort,
};
