#ifndef CPD_JOURNAL_H
#define CPD_JOURNAL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

/*
 * The job journal in the state directory: one record per job, replaced
 * whole whenever the job is accepted, starts running and ends. A job
 * without sync keeps it in a 4 KiB slot of the file "slots", written in
 * place; a sync job, or a record too big for a slot, in its own file
 * "job-<id>.json", replaced atomically (a temporary renamed over it).
 * Writes go to threads of their own; done() runs on the loop thread when
 * the record is written (it survives a crash of the daemon) and, for a
 * durable write, also fsynced with its directory (it survives a crash of
 * the machine), or when the write failed (err < 0).
 *
 * A record is a header line "cpd-journal 1 <length> <crc32>" and then
 * <length> bytes of JSON; anything else is corrupt. In a slot it follows
 * a line "cpd-slot <id> <record length>"; the rest of the slot is zeros,
 * and a free slot is all zeros.
 */
#define JOURNAL_MAGIC		"cpd-journal 1"
#define JOURNAL_ID_BLOCK	1000	/* job ids reserved per write of next-id */

/* Set up the state directory (creating it, mode 0700). -errno: no journal. */
int	journal_init(const char *dir);
/* Whether records are kept; false when the state directory is unusable. */
bool	journal_enabled(void);
/* For GetStatus: "ok", "disabled" or "failing: <why>". */
const char *journal_status(void);
const char *journal_dir(void);
/*
 * Every record in the state directory, in no particular order, for
 * load(); a corrupt file is logged and renamed "<name>.corrupt", a
 * corrupt slot copied to "slot-<n>.corrupt" and freed. Returns
 * the first job id that was never handed out. load() takes rec; it
 * returns -EBADMSG for a record that makes no sense (set aside too).
 */
uint64_t journal_load(int (*load)(uint64_t id, struct json_object *rec));
/* Ids below this may be handed out; call when next_id reaches it. */
uint64_t journal_id_limit(void);
void	journal_reserve_ids(uint64_t next_id);
/*
 * Replace job id's record with rec (taken), or remove it (rec NULL).
 * done(), if any, runs on the loop thread, never before this call has
 * returned: not even when the journal is disabled (err 0) or the record
 * cannot be encoded (err < 0). The completion rule of engine.h.
 * A job's writes complete in the order they were made (each stage of
 * journal.c takes its queue in order, and a job's records go to a slot
 * until, once, they go to files for good), and so do next-id and the
 * records of sync jobs (files, in the order made). A job's record in a
 * slot may be written before an earlier next-id: the loader takes ids
 * past every record it finds.
 */
void	journal_write(uint64_t id, struct json_object *rec, bool durable,
	    void (*done)(uint64_t id, int err));
/* Write what is queued, then stop the thread. */
void	journal_shutdown(void);
#endif
