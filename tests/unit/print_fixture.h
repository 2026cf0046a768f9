/*
 * For the client's unit tests of what it prints: what print (such as
 * cmd_status_print or cmd_daemon_print_status) writes for the object in
 * the JSON text, malloc'ed. Header-only: each test is one file (Makefile).
 */
#ifndef CPD_PRINT_FIXTURE_H
#define CPD_PRINT_FIXTURE_H

#include <stdio.h>

#include "../../client/client.h"

static char *
printed(void (*print)(FILE *, struct json_object *), const char *text)
{
	struct json_object	*obj = json_tokener_parse(text);
	char			*out = NULL;
	size_t			 len = 0;
	FILE			*f;

	assert_non_null(obj);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	print(f, obj);
	fclose(f);
	json_object_put(obj);
	return out;
}

/* What daemon-status prints for the parameters of a GetStatus reply. */
static char *
daemon_status(const char *params)
{
	return printed(cmd_daemon_print_status, params);
}

#endif
