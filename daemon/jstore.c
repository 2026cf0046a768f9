/*
 * Where the journal's records are (journal.c says why two places): the
 * state directory and its lock, the record format, the slot file and
 * the table of which job's record is in which slot or file, writing one
 * record where it belongs, and reading them all back at start-up. Once
 * the loader has run, the journal's threads call it: the writer (slots),
 * the filer (files) and the syncer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "jstore.h"
#include "log.h"

#define JOURNAL_MAX_FILE	(64 << 20)	/* larger is not a record of ours */
#define JOURNAL_SLOTS		"slots"
#define JOURNAL_SLOT_MAGIC	"cpd-slot"
#define JOURNAL_SLOT_SIZE	4096
#define JOURNAL_SLOT_GROW	256		/* slots added to the file at a time */
#define JOURNAL_SLOTS_MAX	(1u << 22)	/* 16 GiB of slots: not a file of ours */
#define JOURNAL_NO_SLOT		UINT32_MAX

/*
 * Where a job's record is: an open-addressing table by id (id 0: an
 * empty entry). The loader's, then the writer's and the filer's, under
 * place_lock with the slots' free list.
 */
struct jplace {
	uint64_t	 id;
	uint32_t	 slot;		/* JOURNAL_NO_SLOT: none */
	bool		 file;		/* it has had a file: files only */
};

/* A record found in a slot at start-up, before it is loaded. */
struct jfound {
	uint64_t		 id;
	uint32_t		 slot;
	struct json_object	*rec;	/* NULL: dropped */
};

static int		 dirfd_ = -1;
static char		 dir[4096];
static int		 slotfd = -1;
static uint32_t		 nslots;		/* in the file */
static uint32_t		*freeslots;		/* room for nslots */
static size_t		 nfree;
static struct jplace	*places;
static size_t		 nplaces, places_cap;	/* a power of two */
static pthread_mutex_t	 place_lock = PTHREAD_MUTEX_INITIALIZER;

uint32_t
jstore_crc32(const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	uint32_t		 crc = 0xffffffff;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}
int
jstore_encode(struct json_object *rec, char **out, size_t *outlen)
{
	size_t		 len;
	const char	*json = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	char		 head[64];
	int		 n;

	if (json == NULL)
		return -ENOMEM;
	n = snprintf(head, sizeof(head), JOURNAL_MAGIC " %zu %08" PRIx32 "\n", len,
	    jstore_crc32(json, len));
	if ((*out = malloc((size_t)n + len + 1)) == NULL)
		return -ENOMEM;
	memcpy(*out, head, (size_t)n);
	memcpy(*out + n, json, len);
	(*out)[(size_t)n + len] = '\n';		/* for people who look at it */
	*outlen = (size_t)n + len + 1;
	return 0;
}
/* A decimal number of up to 19 digits at *p, then sep; *p moves past both. */
static bool
jstore_number(const char **p, const char *end, char sep, uint64_t *out)
{
	const char	*q = *p;
	uint64_t	 v = 0;

	for (; q < end && *q >= '0' && *q <= '9'; q++) {
		if (q - *p == 19)
			return false;
		v = v * 10 + (uint64_t)(*q - '0');
	}
	if (q == *p || q == end || *q != sep)
		return false;
	*p = q + 1;
	*out = v;
	return true;
}
int
jstore_decode(const char *buf, size_t len, struct json_object **out)
{
	const size_t		 mlen = strlen(JOURNAL_MAGIC);
	const char		*p = buf, *end = buf + len;
	struct json_tokener	*tok;
	struct json_object	*o;
	uint64_t		 jlen = 0;
	uint32_t		 crc = 0;
	int			 digits;

	if (len < mlen + 1 || memcmp(p, JOURNAL_MAGIC " ", mlen + 1) != 0)
		return -EBADMSG;
	p += mlen + 1;
	if (!jstore_number(&p, end, ' ', &jlen))
		return -EBADMSG;
	for (digits = 0; digits < 8; digits++, p++) {
		int v;

		if (p == end)
			return -EBADMSG;
		v = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
		if (v < 0)
			return -EBADMSG;
		crc = crc << 4 | (uint32_t)v;
	}
	if (p == end || *p++ != '\n')
		return -EBADMSG;
	/* The JSON, then the newline jstore_encode() adds, then nothing. */
	if ((uint64_t)(end - p) != jlen + 1 || p[jlen] != '\n' ||
	    jstore_crc32(p, (size_t)jlen) != crc)
		return -EBADMSG;
	if ((tok = json_tokener_new()) == NULL)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, p, (int)jlen);
	if (o && (json_tokener_get_parse_end(tok) != (size_t)jlen ||
	    !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (o == NULL)
		return -EBADMSG;
	*out = o;
	return 0;
}
static void
jstore_name(uint64_t id, char *buf, size_t len)
{
	if (id == 0)
		snprintf(buf, len, JOURNAL_NEXT_ID);
	else
		snprintf(buf, len, "job-%" PRIu64 ".json", id);
}
/* Replace name with data: a temporary, renamed over it. */
static int
jstore_put(const char *name, const char *data, size_t len)
{
	char	tmp[NAME_MAX + 1];
	int	fd, rc = 0;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	if ((fd = openat(dirfd_, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0)
		return -errno;
	while (len > 0 && rc == 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0) {
			data += n;
			len -= (size_t)n;
		}
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(dirfd_, tmp, dirfd_, name) < 0)
		rc = -errno;
	if (rc < 0)
		unlinkat(dirfd_, tmp, 0);
	return rc;
}
static size_t
jstore_place_home(uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 20) & (places_cap - 1);
}
static struct jplace *
jstore_place_find(uint64_t id)
{
	if (places_cap == 0)
		return NULL;
	for (size_t i = jstore_place_home(id);; i = (i + 1) & (places_cap - 1)) {
		if (places[i].id == id)
			return &places[i];
		if (places[i].id == 0)
			return NULL;
	}
}
/* The entry of id, a new one (no slot, no file) if it has none. */
static struct jplace *
jstore_place_add(uint64_t id)
{
	struct jplace	*p;
	size_t		 i;

	if ((p = jstore_place_find(id)) != NULL)
		return p;
	if ((nplaces + 1) * 2 > places_cap) {
		struct jplace	*old = places;
		size_t		 oldcap = places_cap, cap = oldcap ? oldcap * 2 : 256;

		if ((places = calloc(cap, sizeof(*places))) == NULL) {
			places = old;
			return NULL;
		}
		places_cap = cap;
		for (size_t k = 0; k < oldcap; k++) {
			if (old[k].id == 0)
				continue;
			for (i = jstore_place_home(old[k].id); places[i].id; i = (i + 1) & (cap - 1))
				;
			places[i] = old[k];
		}
		free(old);
	}
	for (i = jstore_place_home(id); places[i].id; i = (i + 1) & (places_cap - 1))
		;
	places[i] = (struct jplace){ .id = id, .slot = JOURNAL_NO_SLOT };
	nplaces++;
	return &places[i];
}
/* Remove p, moving back the entries after it that probed past it. */
static void
jstore_place_del(struct jplace *p)
{
	size_t i = (size_t)(p - places), j = i, mask = places_cap - 1;

	for (;;) {
		size_t h;

		j = (j + 1) & mask;
		if (places[j].id == 0)
			break;
		h = jstore_place_home(places[j].id);
		if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) {
			places[i] = places[j];
			i = j;
		}
	}
	places[i].id = 0;
	nplaces--;
}
/* A free slot, the file grown when there is none. */
static int
jstore_slot_get(uint32_t *out)
{
	if (nfree == 0) {
		uint32_t	 n = nslots + JOURNAL_SLOT_GROW;
		uint32_t	*f;

		if (n > JOURNAL_SLOTS_MAX)
			return -ENOSPC;
		if ((f = realloc(freeslots, n * sizeof(*f))) == NULL)
			return -ENOMEM;
		freeslots = f;
		/* A hole: the pages are allocated as records are written. */
		if (ftruncate(slotfd, (off_t)n * JOURNAL_SLOT_SIZE) < 0)
			return -errno;
		while (n > nslots)
			freeslots[nfree++] = --n;	/* the lowest on top */
		nslots += JOURNAL_SLOT_GROW;
	}
	*out = freeslots[--nfree];
	return 0;
}
static int
jstore_slot_head(char *buf, size_t size, uint64_t id, size_t len)
{
	return snprintf(buf, size, JOURNAL_SLOT_MAGIC " %" PRIu64 " %zu\n", id, len);
}
/* Write slot whole, in one page: a record (data) or zeros (free). */
static int
jstore_slot_put(uint32_t slot, uint64_t id, const char *data, size_t len)
{
	char	page[JOURNAL_SLOT_SIZE] = "";
	ssize_t	n;
	int	head = 0;

	if (data) {
		head = jstore_slot_head(page, sizeof(page), id, len);
		if ((size_t)head + len > sizeof(page))
			return -E2BIG;
		memcpy(page + head, data, len);
	}
	n = pwrite(slotfd, page, sizeof(page), (off_t)slot * JOURNAL_SLOT_SIZE);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(page) ? 0 : -ENOSPC;
}
static int
jstore_slot_free(uint32_t slot)
{
	int rc;

	if ((rc = jstore_slot_put(slot, 0, NULL, 0)) == 0)
		freeslots[nfree++] = slot;
	return rc;
}
/* Whether a record goes to a slot (p: where its job's record is, if known). */
static bool
jstore_slot_fits(uint64_t id, size_t len, bool durable, const struct jplace *p)
{
	return slotfd >= 0 && id != 0 && !durable && (p == NULL || !p->file) &&
	    (size_t)jstore_slot_head(NULL, 0, id, len) + len <= JOURNAL_SLOT_SIZE;
}
/*
 * The writer's work for one record, in a slot: written there (0 or
 * -errno), or 1 when it belongs in a file (a durable record, one too big,
 * a removal, next-id, a job that once had a file): jstore_write_file()
 * then, in the filer's thread. From here on that job's records go to
 * files, noted before the file exists.
 */
int
jstore_write_slot(uint64_t id, const char *data, size_t len, bool durable)
{
	struct jplace	*p;
	int		 rc = 1;

	pthread_mutex_lock(&place_lock);
	p = id ? jstore_place_find(id) : NULL;
	if (data && jstore_slot_fits(id, len, durable, p)) {
		if (p == NULL && (p = jstore_place_add(id)) == NULL)
			rc = -ENOMEM;
		else if (p->slot == JOURNAL_NO_SLOT && (rc = jstore_slot_get(&p->slot)) < 0)
			jstore_place_del(p);
		else
			rc = jstore_slot_put(p->slot, id, data, len);
	} else if (data && id) {
		if ((p = jstore_place_add(id)) == NULL)
			rc = -ENOMEM;
		else
			p->file = true;
	}
	pthread_mutex_unlock(&place_lock);
	return rc;
}
/*
 * The filer's work for one record: written to its file, or removed with
 * its file or slot (data NULL). A durable one is made durable by
 * jstore_sync(). The slot the file replaces is freed only once the file
 * is there: at start-up a file wins over a slot of the same id.
 */
int
jstore_write_file(uint64_t id, const char *data, size_t len)
{
	struct jplace	*p;
	char		 name[64];
	int		 rc = 0;

	jstore_name(id, name, sizeof(name));
	if (data)
		rc = jstore_put(name, data, len);
	else if (unlinkat(dirfd_, name, 0) < 0 && errno != ENOENT)
		rc = -errno;
	pthread_mutex_lock(&place_lock);
	if (rc == 0 && id && (p = jstore_place_find(id)) != NULL) {
		p->file = data != NULL;
		if (p->slot != JOURNAL_NO_SLOT && (rc = jstore_slot_free(p->slot)) == 0)
			p->slot = JOURNAL_NO_SLOT;
		if (data == NULL && p->slot == JOURNAL_NO_SLOT)
			jstore_place_del(p);
	}
	pthread_mutex_unlock(&place_lock);
	return rc;
}
/* Read a whole small file of the state directory. */
static int
jstore_read(const char *name, char **out, size_t *len)
{
	struct stat	 st;
	char		*buf;
	size_t		 got = 0;
	int		 fd, rc = 0;

	if ((fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > JOURNAL_MAX_FILE) {
		close(fd);
		return -EBADMSG;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EBADMSG;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = got;
	return 0;
}
/* A file that is not a valid record: keep it for a post-mortem, out of the way. */
static void
jstore_set_aside(const char *name, const char *why)
{
	char aside[NAME_MAX + 1];

	snprintf(aside, sizeof(aside), "%s.corrupt", name);
	if (renameat(dirfd_, name, dirfd_, aside) == 0)
		log_warnx("journal: %s/%s: %s; set aside as %s", dir, name, why, aside);
	else {
		log_warnx("journal: %s/%s: %s; cannot set it aside (%s), removing it", dir,
		    name, why, strerror(errno));
		unlinkat(dirfd_, name, 0);
	}
}
static int
jstore_read_record(const char *name, struct json_object **rec)
{
	char	*buf = NULL;
	size_t	 len = 0;
	int	 rc;

	if ((rc = jstore_read(name, &buf, &len)) < 0)
		return rc;
	rc = jstore_decode(buf, len, rec);
	free(buf);
	return rc;
}
/* Forget the slot file and where records are: no slots from now on. */
static void
jstore_slots_close(void)
{
	if (slotfd >= 0)
		close(slotfd);
	slotfd = -1;
	free(freeslots);
	free(places);
	freeslots = NULL;
	places = NULL;
	nslots = 0;
	nfree = nplaces = places_cap = 0;
}
/* What slot holds: 1 and a record, 0 when free, or -EBADMSG. */
static int
jstore_slot_parse(const char *page, uint64_t *id, struct json_object **rec)
{
	const size_t	 mlen = strlen(JOURNAL_SLOT_MAGIC " ");
	const char	*p = page + mlen, *end = page + JOURNAL_SLOT_SIZE;
	uint64_t	 len;
	int		 rc;

	if (page[0] == '\0')
		return 0;
	if (memcmp(page, JOURNAL_SLOT_MAGIC " ", mlen) != 0 ||
	    !jstore_number(&p, end, ' ', id) || *id == 0 ||
	    !jstore_number(&p, end, '\n', &len) || len > (uint64_t)(end - p))
		return -EBADMSG;
	return (rc = jstore_decode(p, (size_t)len, rec)) < 0 ? rc : 1;
}
/* A slot that is not a valid record: its page kept as a file, the slot freed. */
static void
jstore_slot_set_aside(uint32_t slot, const char *why)
{
	char	page[JOURNAL_SLOT_SIZE], aside[64];
	int	rc;

	snprintf(aside, sizeof(aside), "slot-%" PRIu32 ".corrupt", slot);
	if (pread(slotfd, page, sizeof(page), (off_t)slot * JOURNAL_SLOT_SIZE) ==
	    (ssize_t)sizeof(page) && (rc = jstore_put(aside, page, sizeof(page))) == 0)
		log_warnx("journal: %s/" JOURNAL_SLOTS ", slot %" PRIu32 ": %s; set aside as %s",
		    dir, slot, why, aside);
	else
		log_warnx("journal: %s/" JOURNAL_SLOTS ", slot %" PRIu32 ": %s; removing it", dir,
		    slot, why);
	jstore_slot_free(slot);
}
/*
 * The records in the slot file, not loaded yet: a record in a file
 * replaces the one in a slot. Free slots go on the free list.
 */
static size_t
jstore_slots_read(struct jfound **out)
{
	struct jfound	*found = NULL;
	struct stat	 st;
	const char	*why = NULL;
	size_t		 n = 0;

	if (slotfd < 0)
		return 0;
	if (fstat(slotfd, &st) < 0)
		why = strerror(errno);
	else if (st.st_size / JOURNAL_SLOT_SIZE > JOURNAL_SLOTS_MAX)
		why = "too large";
	if (why) {
		log_warnx("journal: %s/" JOURNAL_SLOTS ": %s; records go to files", dir, why);
		jstore_slots_close();
		return 0;
	}
	nslots = (uint32_t)(st.st_size / JOURNAL_SLOT_SIZE);
	if (nslots && ((freeslots = malloc(nslots * sizeof(*freeslots))) == NULL ||
	    (found = calloc(nslots, sizeof(*found))) == NULL))
		fatal("journal: %u slots", (unsigned)nslots);
	for (uint32_t i = 0; i < nslots; i++) {
		char			 page[JOURNAL_SLOT_SIZE];
		struct json_object	*rec = NULL;
		struct jplace		*p;
		uint64_t		 id;
		int			 rc;

		if (pread(slotfd, page, sizeof(page), (off_t)i * JOURNAL_SLOT_SIZE) !=
		    (ssize_t)sizeof(page))
			rc = -EIO;
		else
			rc = jstore_slot_parse(page, &id, &rec);
		if (rc == 0)
			freeslots[nfree++] = i;
		else if (rc < 0)
			jstore_slot_set_aside(i, rc == -EBADMSG ? "corrupt or torn record" :
			    strerror(-rc));
		else if (jstore_place_find(id)) {
			json_object_put(rec);
			jstore_slot_set_aside(i, "a second record of its job");
		} else {
			if ((p = jstore_place_add(id)) == NULL)
				fatal("journal: slot %u", (unsigned)i);
			p->slot = i;
			found[n++] = (struct jfound){ .id = id, .slot = i, .rec = rec };
		}
	}
	*out = found;
	return n;
}
uint64_t
jstore_load(int (*load)(uint64_t id, struct json_object *rec))
{
	struct json_object	*rec, *v;
	struct jfound		*found = NULL;
	struct dirent		*de;
	uint64_t		 next = 1;
	size_t			 nfound;
	DIR			*d;
	int			 fd, rc;

	if ((rc = jstore_read_record(JOURNAL_NEXT_ID, &rec)) == 0) {
		if (json_object_object_get_ex(rec, "next_id", &v) &&
		    json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
			next = (uint64_t)json_object_get_int64(v);
		else
			rc = -EBADMSG;
		json_object_put(rec);
	}
	if (rc == -EBADMSG)
		jstore_set_aside(JOURNAL_NEXT_ID, "corrupt; job ids of expired jobs may be reused");
	else if (rc < 0 && rc != -ENOENT)
		log_warnx("journal: %s/%s: %s", dir, JOURNAL_NEXT_ID, strerror(-rc));
	nfound = jstore_slots_read(&found);
	if ((fd = dup(dirfd_)) < 0 || (d = fdopendir(fd)) == NULL) {
		log_warn("journal: cannot read %s", dir);
		if (fd >= 0)
			close(fd);
		d = NULL;
	}
	while (d && (de = readdir(d)) != NULL) {
		const char	*n = de->d_name;
		struct jplace	*p;
		char		*end;
		uint64_t	 id;

		if (n[0] == '.' && strncmp(n, ".job-", 5) == 0) {
			unlinkat(dirfd_, n, 0);		/* a write the crash interrupted */
			continue;
		}
		if (strncmp(n, "job-", 4) != 0 || n[4] < '1' || n[4] > '9')
			continue;
		id = strtoull(n + 4, &end, 10);
		if (strcmp(end, ".json") != 0)
			continue;
		/* The file replaced the slot (and a crash came before the slot was freed). */
		if ((p = jstore_place_find(id)) != NULL && p->slot != JOURNAL_NO_SLOT) {
			for (size_t k = 0; k < nfound; k++)
				if (found[k].slot == p->slot) {
					json_object_put(found[k].rec);
					found[k].rec = NULL;
				}
			jstore_slot_free(p->slot);
			p->slot = JOURNAL_NO_SLOT;
		}
		if ((rc = jstore_read_record(n, &rec)) < 0) {
			jstore_set_aside(n, rc == -EBADMSG ? "corrupt or torn record" : strerror(-rc));
			continue;
		}
		if ((rc = load(id, rec)) < 0) {
			jstore_set_aside(n, rc == -EBADMSG ? "invalid record" : strerror(-rc));
			continue;
		}
		if ((p = jstore_place_add(id)) == NULL)
			fatal("journal: job %" PRIu64, id);
		p->file = true;
		if (id >= next)
			next = id + 1;
	}
	if (d)
		closedir(d);
	for (size_t k = 0; k < nfound; k++) {
		if (found[k].rec == NULL)
			continue;
		if ((rc = load(found[k].id, found[k].rec)) < 0) {
			jstore_slot_set_aside(found[k].slot, rc == -EBADMSG ? "invalid record" :
			    strerror(-rc));
			jstore_place_del(jstore_place_find(found[k].id));
			continue;
		}
		if (found[k].id >= next)
			next = found[k].id + 1;
	}
	free(found);
	return next;
}
/* The state directory (made 0700 if missing), locked, and its slot file. */
int
jstore_open(const char *path)
{
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	if ((dirfd_ = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	/* Can we write here at all? Better to know now than at the first job. */
	if (faccessat(dirfd_, ".", W_OK, AT_EACCESS) < 0)
		return -errno;
	/*
	 * Two daemons on one journal would run the same jobs twice and remove
	 * each other's temporaries. The lock lives as long as the fd: a
	 * crashed daemon's lock is gone with it.
	 */
	if (flock(dirfd_, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	slotfd = openat(dirfd_, JOURNAL_SLOTS, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (slotfd < 0)
		log_warn("journal: %s/" JOURNAL_SLOTS "; records go to files", dir);
	return 0;
}

void
jstore_close(void)
{
	jstore_slots_close();
	if (dirfd_ >= 0)
		close(dirfd_);
	dirfd_ = -1;
}

bool
jstore_is_open(void)
{
	return dirfd_ >= 0;
}

const char *
jstore_dir(void)
{
	return dir;
}

/* Make the file of record id durable: whatever is under its name now is as new, or newer. */
int
jstore_sync(uint64_t id)
{
	char	name[64];
	int	fd, rc = 0;

	jstore_name(id, name, sizeof(name));
	if ((fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? 0 : -errno;	/* removed since: nothing to sync */
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Make the names in the state directory durable. */
int
jstore_sync_dir(void)
{
	return fsync(dirfd_) < 0 ? -errno : 0;
}
