/*
 * A job as the wire shows it: the Job type of io.cpd.Manager.varlink.
 * Apart from job.c so that the method layer, the journal record and the
 * fuzz harness share one spelling.
 */
#ifndef CPD_VIEW_H
#define CPD_VIEW_H

#include <json-c/json.h>

#include "job.h"

/* The Job object (a new reference). */
struct json_object *view_job(const struct job *);
/* The parameters of a reply that carries the job: {"job": Job}. */
struct json_object *view_params(const struct job *);
/* Job.state: a running job that is paused shows as paused. */
enum job_state view_state(const struct job *);

#endif
