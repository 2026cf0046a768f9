/*
 * The journal's file format: a record survives encode and decode, and
 * every torn (truncated), extended or altered file is refused; loading a
 * state directory hands over the good records, sets corrupt ones aside
 * and never reuses a job id; records written through the threads (slots
 * and files, growing, freed, reused) load back as the last ones written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "journal.h"
#include "jstore.h"
#include "loop.h"

static struct json_object *
sample(void)
{
	return json_tokener_parse("{\"id\":42,\"state\":\"queued\",\"request\":{\"sources\":"
	    "[\"/a b/\\u00e9\",\"/x\"],\"destination\":\"/d\"},\"groups\":[1,2,3]}");
}

static void
test_crc32(void **state)
{
	/* The standard check value of CRC-32 (IEEE 802.3). */
	assert_int_equal(jstore_crc32("123456789", 9), 0xcbf43926);
	assert_int_equal(jstore_crc32("", 0), 0);
}

static void
test_roundtrip(void **state)
{
	struct json_object	*rec = sample(), *back = NULL;
	char			*buf;
	size_t			 len;

	assert_int_equal(jstore_encode(rec, &buf, &len), 0);
	assert_true(len > strlen(JOURNAL_MAGIC));
	assert_memory_equal(buf, JOURNAL_MAGIC " ", strlen(JOURNAL_MAGIC) + 1);
	assert_int_equal(jstore_decode(buf, len, &back), 0);
	assert_true(json_object_equal(rec, back));
	json_object_put(back);
	json_object_put(rec);
	free(buf);
}

/* A write cut short anywhere (a torn file) is refused. */
static void
test_truncated(void **state)
{
	struct json_object	*rec = sample(), *back;
	char			*buf;
	size_t			 len;

	assert_int_equal(jstore_encode(rec, &buf, &len), 0);
	for (size_t n = 0; n < len; n++) {
		back = NULL;
		assert_int_equal(jstore_decode(buf, n, &back), -EBADMSG);
		assert_null(back);
	}
	json_object_put(rec);
	free(buf);
}

/* Every single changed byte, header or JSON, is noticed. */
static void
test_altered(void **state)
{
	struct json_object	*rec = sample(), *back;
	char			*buf;
	size_t			 len;

	assert_int_equal(jstore_encode(rec, &buf, &len), 0);
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (char)(1 << bit);
			back = NULL;
			if (jstore_decode(buf, len, &back) != -EBADMSG)
				fail_msg("byte %zu bit %d changed, still accepted", i, bit);
			buf[i] ^= (char)(1 << bit);
		}
	assert_int_equal(jstore_decode(buf, len, &back), 0);
	json_object_put(back);
	json_object_put(rec);
	free(buf);
}

static void
test_extended_and_foreign(void **state)
{
	struct json_object	*rec = sample(), *back = NULL;
	char			*buf, *more, bad[128];
	size_t			 len;
	const char		*arr = "[1,2]";

	assert_int_equal(jstore_encode(rec, &buf, &len), 0);
	more = malloc(len + 2);
	memcpy(more, buf, len);
	memcpy(more + len, "{}", 2);
	assert_int_equal(jstore_decode(more, len + 2, &back), -EBADMSG);
	/* Valid framing around JSON that is not an object. */
	snprintf(bad, sizeof(bad), JOURNAL_MAGIC " %zu %08x\n%s\n", strlen(arr),
	    jstore_crc32(arr, strlen(arr)), arr);
	assert_int_equal(jstore_decode(bad, strlen(bad), &back), -EBADMSG);
	/* A huge length is not a reason to read on. */
	snprintf(bad, sizeof(bad), JOURNAL_MAGIC " 99999999999999999999 00000000\n{}\n");
	assert_int_equal(jstore_decode(bad, strlen(bad), &back), -EBADMSG);
	assert_null(back);
	assert_int_equal(jstore_decode("", 0, &back), -EBADMSG);
	json_object_put(rec);
	free(buf);
	free(more);
}

static unsigned	loaded;
static int64_t	loaded_sum;

static int
on_load(uint64_t id, struct json_object *rec)
{
	struct json_object *v;
	int rc = 0;

	if (!json_object_object_get_ex(rec, "id", &v) || (uint64_t)json_object_get_int64(v) != id)
		rc = -EBADMSG;
	else {
		loaded++;
		loaded_sum += (int64_t)id;
	}
	json_object_put(rec);
	return rc;
}

static void
put_file(const char *dir, const char *name, const char *data, size_t len)
{
	char	path[512];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
put_record(const char *dir, const char *name, const char *json)
{
	struct json_object	*o = json_tokener_parse(json);
	char			*buf;
	size_t			 len;

	assert_non_null(o);
	assert_int_equal(jstore_encode(o, &buf, &len), 0);
	put_file(dir, name, buf, len);
	free(buf);
	json_object_put(o);
}

static bool
exists(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void
test_load(void **state)
{
	char	 dir[] = "/tmp/cpd-journal-test.XXXXXX", cmd[128];
	char	*torn;
	size_t	 len;
	struct json_object *o = json_tokener_parse("{\"id\":7}");

	assert_non_null(mkdtemp(dir));
	put_record(dir, "job-3.json", "{\"id\":3}");
	put_record(dir, "job-7.json", "{\"id\":7}");
	put_record(dir, "job-9.json", "{\"id\":8}");	/* says another id: refused */
	put_record(dir, "next-id", "{\"next_id\":1000}");
	assert_int_equal(jstore_encode(o, &torn, &len), 0);
	put_file(dir, "job-5.json", torn, len / 2);	/* torn */
	put_file(dir, ".job-6.json.tmp", torn, len);	/* an interrupted write */
	put_file(dir, "unrelated", "x", 1);

	assert_int_equal(journal_init(dir), 0);
	assert_true(journal_enabled());
	assert_string_equal(journal_status(), "ok");
	assert_int_equal(journal_load(on_load), 1000);
	assert_int_equal(loaded, 2);
	assert_int_equal(loaded_sum, 10);
	assert_true(exists(dir, "job-5.json.corrupt"));
	assert_false(exists(dir, "job-5.json"));
	assert_true(exists(dir, "job-9.json.corrupt"));
	assert_false(exists(dir, ".job-6.json.tmp"));
	assert_true(exists(dir, "unrelated"));
	journal_shutdown();

	/* A corrupt next-id: the ids in the records still count. */
	put_file(dir, "next-id", "garbage", 7);
	put_record(dir, "job-2000.json", "{\"id\":2000}");
	loaded = 0;
	assert_int_equal(journal_init(dir), 0);
	assert_int_equal(journal_load(on_load), 2001);
	assert_int_equal(loaded, 3);
	assert_true(exists(dir, "next-id.corrupt"));
	journal_shutdown();

	json_object_put(o);
	free(torn);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* An unusable state directory: no journal, and the daemon runs on. */
static void
test_unusable_dir(void **state)
{
	assert_int_equal(journal_init("/proc/cpd-no-such-dir"), -ENOENT);
	assert_false(journal_enabled());
	assert_string_equal(journal_status(), "disabled");
	assert_int_equal(journal_id_limit(), UINT64_MAX);
}

/*
 * Records written through the writer thread and the loop. 700 jobs (more
 * than one growth of the slot file), each written twice; every third
 * removed, every seventh a sync job (its own file), every eleventh too
 * big for a slot (a file from then on), job 5 goes from a slot to a
 * file midway, and the rest is written once more. What loads back is
 * each job's last record, from its right place, and removed ones are
 * gone from both.
 */
#define NJOBS 700

static unsigned	 written, want, seen[NJOBS + 1];
static int	 version[NJOBS + 1];

static void
on_written(uint64_t id, int err)
{
	assert_int_equal(err, 0);
	assert_true(id <= NJOBS);
	written++;
}

static bool
all_written(void)
{
	return written == want;
}

static void
tick(void)
{
}

static struct json_object *
job_rec(uint64_t id, int v, size_t pad)
{
	struct json_object	*o = json_object_new_object();
	char			*fill = calloc(1, pad + 1);

	assert_non_null(fill);
	memset(fill, 'p', pad);
	json_object_object_add(o, "id", json_object_new_int64((int64_t)id));
	json_object_object_add(o, "v", json_object_new_int(v));
	json_object_object_add(o, "pad", json_object_new_string(fill));
	free(fill);
	return o;
}

static int
on_reload(uint64_t id, struct json_object *rec)
{
	struct json_object *v;

	assert_true(id >= 1 && id <= NJOBS);
	assert_true(json_object_object_get_ex(rec, "v", &v));
	seen[id]++;
	version[id] = json_object_get_int(v);
	json_object_put(rec);
	return 0;
}

static void
test_slots(void **state)
{
	static struct config	 conf;
	char			 dir[] = "/tmp/cpd-journal-slots.XXXXXX", cmd[128];
	struct stat		 st;
	off_t			 size;

	config_defaults(&conf);
	conf.engine.type = ENGINE_FALLBACK;
	cpd_conf = &conf;
	assert_int_equal(loop_init(&conf), 0);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(journal_init(dir), 0);
	assert_int_equal(journal_load(on_load), 1);
	for (int v = 1; v <= 2; v++)
		for (uint64_t id = 1; id <= NJOBS; id++) {
			size_t pad = id % 11 == 0 ? 5000 : id == 5 && v == 2 ? 4090 : 100;

			journal_write(id, job_rec(id, v, pad), id % 7 == 0, on_written);
		}
	/* Written, so that job 5 has gone to a file (or its big record would
	 * be superseded unwritten by the small one below). */
	want = 2 * NJOBS;
	loop_run(all_written, tick, 10);
	for (uint64_t id = 3; id <= NJOBS; id += 3)
		journal_write(id, NULL, false, NULL);
	/* Entries moved back by the removals are found again. */
	for (uint64_t id = 1; id <= NJOBS; id++)
		if (id % 3)
			journal_write(id, job_rec(id, 3, 10), false, on_written);
	want += NJOBS - NJOBS / 3;
	loop_run(all_written, tick, 10);
	journal_shutdown();

	/* The slot file grew past one step (256 slots), and not one per record. */
	snprintf(cmd, sizeof(cmd), "%s/slots", dir);
	assert_int_equal(stat(cmd, &st), 0);
	assert_true(st.st_size >= 512 * 4096 && st.st_size <= 1024 * 4096);
	size = st.st_size;
	assert_true(exists(dir, "job-7.json"));
	assert_true(exists(dir, "job-11.json"));
	assert_true(exists(dir, "job-5.json"));
	assert_false(exists(dir, "job-1.json"));
	assert_false(exists(dir, "job-21.json"));		/* removed */

	assert_int_equal(journal_init(dir), 0);
	journal_load(on_reload);
	for (uint64_t id = 1; id <= NJOBS; id++) {
		assert_int_equal(seen[id], id % 3 == 0 ? 0 : 1);
		if (id % 3)
			assert_int_equal(version[id], 3);
	}
	/* Slots freed by removals are used again before the file grows. */
	memset(seen, 0, sizeof(seen));
	for (uint64_t id = 3; id <= NJOBS; id += 3)
		journal_write(id, job_rec(id, 4, 100), false, on_written);
	want += NJOBS / 3;
	loop_run(all_written, tick, 10);
	journal_shutdown();
	assert_int_equal(stat(cmd, &st), 0);
	assert_int_equal(st.st_size, size);
	assert_int_equal(journal_init(dir), 0);
	journal_load(on_reload);
	for (uint64_t id = 1; id <= NJOBS; id++)
		assert_int_equal(seen[id], 1);
	journal_shutdown();
	loop_free();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/*
 * A slot record does not wait behind a file record: the file's temporary
 * is a FIFO nobody reads, so the filer stays in its open(); meanwhile
 * another job's record is written to its slot and handed back. Then a
 * reader comes and the file record completes too.
 */
static bool	 rec_done[4];
static time_t	 deadline;

static void
on_done(uint64_t id, int err)
{
	assert_int_equal(err, 0);
	assert_true(id < 4);
	rec_done[id] = true;
}

static bool
slot_done_or_late(void)
{
	return rec_done[3] || time(NULL) > deadline;
}

static bool
file_done_or_late(void)
{
	return rec_done[2] || time(NULL) > deadline;
}

static void
test_slot_not_behind_file(void **state)
{
	static struct config	 conf;
	char			 dir[] = "/tmp/cpd-journal-filer.XXXXXX", path[256], cmd[128];
	int			 fd;

	config_defaults(&conf);
	conf.engine.type = ENGINE_FALLBACK;
	cpd_conf = &conf;
	assert_int_equal(loop_init(&conf), 0);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(journal_init(dir), 0);
	assert_int_equal(journal_load(on_load), 1);
	/* After the load, which removes what a crash left of temporaries. */
	snprintf(path, sizeof(path), "%s/.job-2.json.tmp", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	journal_write(2, job_rec(2, 1, 5000), false, on_done);	/* too big for a slot */
	journal_write(3, job_rec(3, 1, 100), false, on_done);
	deadline = time(NULL) + 10;
	loop_run(slot_done_or_late, tick, 10);
	assert_true(rec_done[3]);
	assert_false(rec_done[2]);
	/* A reader: the filer's open returns, the record fits in the pipe. */
	assert_true((fd = open(path, O_RDONLY | O_NONBLOCK)) >= 0);
	deadline = time(NULL) + 10;
	loop_run(file_done_or_late, tick, 10);
	assert_true(rec_done[2]);
	close(fd);
	journal_shutdown();
	loop_free();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_altered),
		cmocka_unit_test(test_extended_and_foreign),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_slot_not_behind_file),
		cmocka_unit_test(test_unusable_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
