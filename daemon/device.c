/*
 * The devices' records: which whole disk a file system's device number
 * is on and what class it is of (sysfs), and what the jobs on it move.
 * sysfs is the daemon's metadata, not a job's data: it is read as the
 * daemon, on the loop (a read of sysfs does not wait for a disk), once
 * for each device number.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "device.h"

/*
 * Few machines have more disks than this in use at once; a record no
 * job names is reused for a new device when the table is full.
 */
#define DEVICE_MAX	64
#define DEVICE_ALIASES	128	/* file system numbers remembered */

static struct device	devices[DEVICE_MAX];
/* A file system's device number, and the record of its disk. */
static struct alias {
	unsigned	 major, minor;
	struct device	*dev;
} aliases[DEVICE_ALIASES];
static unsigned		naliases, next_alias;

static const char *const class_names[DEVICE_CLASSES] = {
	[DEVICE_ROTATIONAL] = "rotational", [DEVICE_SSD] = "ssd", [DEVICE_OTHER] = "other",
};

const char *
device_class_name(enum device_class c)
{
	return c < DEVICE_CLASSES ? class_names[c] : "?";
}

static int	device_sysfs_resolve(const char *, unsigned, unsigned, struct device *, int);

/* The class the configuration gives the disk by name, or what sysfs says. */
static enum device_class
device_configured_class(const struct device *d)
{
	char key[DEVICE_NAME_MAX + 2];

	snprintf(key, sizeof(key), " %s ", d->name);
	for (int c = 0; c < DEVICE_CLASSES && cpd_conf; c++)
		if (strstr(cpd_conf->devices[c].disks, key))
			return (enum device_class)c;
	return d->sysfs_class;
}

void
device_reconfigure(void)
{
	for (struct device *d = devices; d < devices + DEVICE_MAX; d++)
		if (d->used)
			d->class = device_configured_class(d);
}

/* The first line of the attribute dir/name, in buf; 0 or -errno. */
static int
device_attr(const char *dir, const char *name, char *buf, size_t len)
{
	char	path[PATH_MAX];
	ssize_t	n;
	int	fd, err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * What the disk's queue/rotational flag says, where the flag means
 * something. A virtio-blk disk has no way to learn what backs it (its
 * protocol carries no rotation rate) and always says "rotational": it is
 * class other, unknown, unless the flag was set to 0. A loop device is
 * of the class of the disk its backing file is on (its own flag is only
 * copied from that disk when it is set up, or set by hand).
 */
static enum device_class
device_sysfs_class(const char *sysroot, const char *disk, int depth)
{
	char		 buf[PATH_MAX], link[PATH_MAX];
	ssize_t		 n;
	struct statx	 stx;
	struct device	 backing;

	if (device_attr(disk, "queue/rotational", buf, sizeof(buf)) < 0)
		return DEVICE_OTHER;	/* no queue: nothing known of it */
	if (buf[0] == '0')
		return DEVICE_SSD;
	if (depth < 4 && device_attr(disk, "loop/backing_file", buf, sizeof(buf)) == 0 &&
	    statx(AT_FDCWD, buf, AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT, 0, &stx) == 0 &&
	    device_sysfs_resolve(sysroot, stx.stx_dev_major, stx.stx_dev_minor,
	    &backing, depth + 1) == 0)
		return backing.sysfs_class;
	if (snprintf(link, sizeof(link), "%s/device/driver", disk) < (int)sizeof(link) &&
	    (n = readlink(link, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		if (strcmp(strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf, "virtio_blk") == 0)
			return DEVICE_OTHER;
	}
	return DEVICE_ROTATIONAL;
}

static int
device_sysfs_resolve(const char *sysroot, unsigned major, unsigned minor,
    struct device *out, int depth)
{
	char	 link[PATH_MAX], disk[PATH_MAX], buf[32];
	int	 rc;

	if (snprintf(link, sizeof(link), "%s/dev/block/%u:%u", sysroot, major,
	    minor) >= (int)sizeof(link))
		return -ENAMETOOLONG;
	if (realpath(link, disk) == NULL)
		return -errno;
	/*
	 * A partition's directory is in its disk's, and the disk is what
	 * has a head (or not) and a queue. A dm or md device is a disk of
	 * its own: what it is built on is not one disk.
	 */
	if (device_attr(disk, "partition", buf, sizeof(buf)) == 0)
		*strrchr(disk, '/') = '\0';
	if ((rc = device_attr(disk, "dev", buf, sizeof(buf))) < 0)
		return rc;
	if (sscanf(buf, "%u:%u", &out->major, &out->minor) != 2)
		return -EINVAL;
	snprintf(out->name, sizeof(out->name), "%s", strrchr(disk, '/') + 1);
	out->sysfs_class = device_sysfs_class(sysroot, disk, depth);
	out->class = device_configured_class(out);
	return 0;
}

int
device_sysfs_read(const char *sysroot, unsigned major, unsigned minor,
    struct device *out)
{
	return device_sysfs_resolve(sysroot, major, minor, out, 0);
}

/* Forget a record no job names, and the numbers that led to it. */
static void
device_forget(struct device *d)
{
	for (unsigned i = 0; i < naliases; )
		if (aliases[i].dev == d)
			aliases[i] = aliases[--naliases];
		else
			i++;
	next_alias = naliases;
	d->used = false;
}

/* The record of the disk found, new if need be; NULL when none is free. */
static struct device *
device_record(const struct device *found)
{
	struct device *d, *slot = NULL, *idle = NULL;

	for (d = devices; d < devices + DEVICE_MAX; d++) {
		if (!d->used) {
			slot = slot ? slot : d;
			continue;
		}
		if (d->major == found->major && d->minor == found->minor)
			return d;
		if (d->refs == 0)
			idle = idle ? idle : d;
	}
	if (slot == NULL && (slot = idle) != NULL)
		device_forget(slot);
	if (slot == NULL)
		return NULL;
	*slot = *found;
	slot->used = true;
	return slot;
}

struct device *
device_get(unsigned major, unsigned minor)
{
	struct device	 found, *d;
	struct alias	*a;

	for (a = aliases; a < aliases + naliases; a++)
		if (a->major == major && a->minor == minor) {
			a->dev->refs++;
			return a->dev;
		}
	memset(&found, 0, sizeof(found));
	if (device_sysfs_read("/sys", major, minor, &found) < 0) {
		snprintf(found.name, sizeof(found.name), "%u:%u", major, minor);
		found.major = major;
		found.minor = minor;
		found.sysfs_class = DEVICE_OTHER;
		found.class = device_configured_class(&found);
	}
	if ((d = device_record(&found)) == NULL)
		return NULL;
	/* The oldest number is forgotten first: found again, it is read again. */
	if (naliases < DEVICE_ALIASES)
		a = &aliases[naliases++];
	else
		a = &aliases[next_alias++ % DEVICE_ALIASES];
	*a = (struct alias){ .major = major, .minor = minor, .dev = d };
	d->refs++;
	return d;
}

void
device_put(struct device *d)
{
	d->refs--;
}

uint64_t
device_share_key(const struct device *d)
{
	return makedev(d->major, d->minor) + 1;
}

uint64_t
device_fs_share_key(unsigned major, unsigned minor)
{
	struct device	*d = device_get(major, minor);
	uint64_t	 key;

	if (d == NULL)
		return 0;
	key = device_share_key(d);
	device_put(d);	/* the number stays the disk's if the record goes */
	return key;
}

const struct device *
device_first_full(struct device *const *devs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (devs[i]->running[0] >= cpd_conf->devices[devs[i]->class].max_running)
			return devs[i];
	return NULL;
}

void
device_account(struct device *d, uint64_t read, uint64_t written)
{
	d->read_bytes += read;
	d->written_bytes += written;
}

void
device_tick(uint64_t now_usec)
{
	for (struct device *d = devices; d < devices + DEVICE_MAX; d++) {
		unsigned n;
		uint64_t usec;

		if (!d->used)
			continue;
		memmove(d->samples + 1, d->samples, sizeof(d->samples) - sizeof(d->samples[0]));
		d->samples[0].usec = now_usec;
		d->samples[0].read = d->read_bytes;
		d->samples[0].written = d->written_bytes;
		n = d->nsamples < DEVICE_RATE_SAMPLES - 1 ? d->nsamples : DEVICE_RATE_SAMPLES - 1;
		d->nsamples++;
		if (n == 0 || (usec = now_usec - d->samples[n].usec) == 0)
			continue;
		d->read_rate = (d->read_bytes - d->samples[n].read) * 1000000 / usec;
		d->write_rate = (d->written_bytes - d->samples[n].written) * 1000000 / usec;
	}
}

const struct device *
device_next(const struct device *prev)
{
	const struct device *d = prev ? prev + 1 : devices;

	for (; d < devices + DEVICE_MAX; d++)
		if (d->used)
			return d;
	return NULL;
}
