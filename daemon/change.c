/*
 * Changes of a job: counted always, queued for its streaming replies when
 * the job itemizes (change.h). The queue holds what was done since the
 * last reply went out, a tick's worth; a job nobody streams drops its
 * queue at each tick (watch.c takes it whether or not a call waits).
 */
#include <stdlib.h>
#include <string.h>

#include "change.h"
#include "job.h"
#include "log.h"

struct change {
	struct change	*next;
	enum change_kind kind;
	enum entry_type	 type;
	char		 hash[CHANGE_HASH_LEN];
	char		 path[];
};

void
change_note(struct job *job, enum change_kind kind, enum entry_type type, const char *rel,
    const char *hash)
{
	struct change	*c;
	size_t		 len;

	job->changes[kind]++;
	job->dirty = true;
	if (!job->req.itemize || rel == NULL)
		return;
	len = strlen(rel);
	if ((c = malloc(sizeof(*c) + len + 1)) == NULL) {
		log_warnx("job %llu: change to '%s' not itemized: out of memory",
		    (unsigned long long)job->id, rel);
		return;
	}
	c->next = NULL;
	c->kind = kind;
	c->type = type;
	c->hash[0] = '\0';
	if (hash)
		strncat(c->hash, hash, CHANGE_HASH_LEN - 1);
	memcpy(c->path, rel, len + 1);
	*job->itemized_tail = c;
	job->itemized_tail = &c->next;
}

static struct json_object *
change_json(const struct job *job, const struct change *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, VOCAB_CHANGE, json_object_new_string(vocab_change_name(c->kind)));
	json_object_object_add(o, VOCAB_CHANGE_TYPE,
	    json_object_new_string(vocab_entry_name(c->type)));
	json_object_object_add(o, VOCAB_CHANGE_PATH, request_name_json(&job->req, c->path));
	if (c->hash[0])
		json_object_object_add(o, VOCAB_CHANGE_HASH, json_object_new_string(c->hash));
	return o;
}

struct json_object *
change_take(struct job *job)
{
	struct json_object	*a;
	struct change		*c, *next;

	if (job->itemized == NULL)
		return NULL;
	a = json_object_new_array();
	for (c = job->itemized; c; c = next) {
		next = c->next;
		json_object_array_add(a, change_json(job, c));
		free(c);
	}
	job->itemized = NULL;
	job->itemized_tail = &job->itemized;
	return a;
}

struct json_object *
change_counts(const struct job *job)
{
	struct json_object *o = json_object_new_object();

	for (int k = 0; k < CHANGE_COUNT; k++)
		json_object_object_add(o, vocab_change_name((enum change_kind)k),
		    json_object_new_int64((int64_t)job->changes[k]));
	return o;
}

void
change_free(struct job *job)
{
	json_object_put(change_take(job));
}
