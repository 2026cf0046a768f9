#ifndef CPD_JSTORE_H
#define CPD_JSTORE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The journal's storage (jstore.c), under journal.c: the state
 * directory, the record format (journal.h), and where each record is.
 * The loader, then the journal's threads (writing, syncing) call it.
 */
#define JOURNAL_NEXT_ID		"next-id"

int	jstore_open(const char *path);
void	jstore_close(void);
bool	jstore_is_open(void);
const char *jstore_dir(void);	/* as given to jstore_open(), even if that failed */
/*
 * Record id (0: next-id) written where it belongs, or removed (data
 * NULL): jstore_write_slot() writes it if it belongs in a slot, else
 * returns 1 and jstore_write_file() is for it, in order with the
 * job's other file records (jstore.c).
 */
int	jstore_write_slot(uint64_t id, const char *data, size_t len, bool durable);
int	jstore_write_file(uint64_t id, const char *data, size_t len);
int	jstore_sync(uint64_t id);
int	jstore_sync_dir(void);
/* journal_load() (journal.h). */
uint64_t jstore_load(int (*load)(uint64_t id, struct json_object *rec));

/* The record format (journal.h), exposed for the unit tests. */
int	jstore_encode(struct json_object *rec, char **out, size_t *len);
int	jstore_decode(const char *buf, size_t len, struct json_object **out);
uint32_t jstore_crc32(const void *buf, size_t len);

#endif
