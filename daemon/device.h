/*
 * The block devices jobs read and write: a file system's device number
 * (statx's stx_dev) is traced through sysfs to its whole disk, whose
 * class (rotational or ssd) sets how many jobs may stream on it at once
 * (sched.c) and how many chunks of one file are in flight (lanes). A
 * file system on no block device (tmpfs, NFS, overlay, btrfs's anonymous
 * device numbers) is of class "other" and named by its MAJ:MIN.
 *
 * The records live in a small table, looked up by device number; sysfs
 * is read only for a number not seen before. It calls nothing of the
 * daemon but reads its configuration: the job layer counts its jobs on
 * the records, and GetStatus shows them.
 */
#ifndef CPD_DEVICE_H
#define CPD_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define DEVICE_NAME_MAX		32
#define DEVICE_RATE_SAMPLES	5	/* device_tick()s kept: 4 periods, a second at 250 ms */

struct device {
	char		 name[DEVICE_NAME_MAX];	/* "vda", "loop3"; "0:45" for other */
	unsigned	 major, minor;	/* the whole disk's; the file system's for other */
	enum device_class class;	/* in force: configured, or sysfs_class */
	enum device_class sysfs_class;	/* what sysfs says (device_sysfs_read) */
	/* Kept by sched.c: jobs holding a running slot, [interactive?]; queued. */
	unsigned	 running[2], queued;
	uint64_t	 read_bytes, written_bytes;
	uint64_t	 read_rate, write_rate;	/* bytes/s over the last second */

	/* The table's. */
	unsigned	 refs;		/* jobs that name it */
	bool		 used;
	struct {
		uint64_t usec, read, written;
	}		 samples[DEVICE_RATE_SAMPLES];
	unsigned	 nsamples;
};

/*
 * What sysfs under sysroot ("/sys") says of device major:minor: the
 * whole disk (a partition's parent; a dm or md device is itself), its
 * name, number and class. 0, or -errno when it is no block device
 * there (-ENOENT). Apart from device_get() for the unit test.
 */
int	 device_sysfs_read(const char *sysroot, unsigned major, unsigned minor,
	    struct device *out);
/*
 * The record of the device a file system with device number
 * major:minor is on, with a reference for the caller; NULL when the
 * table is full of devices in use (the caller goes without).
 */
struct device *device_get(unsigned major, unsigned minor);
void	 device_put(struct device *);
/*
 * The number the pool's shares know a disk by (engine.h's eop.dev):
 * never 0. The second is that of the disk the file system with device
 * number major:minor is on; 0 when none is known (the table is full).
 */
uint64_t device_share_key(const struct device *);
uint64_t device_fs_share_key(unsigned major, unsigned minor);
/*
 * The first of the n devices with no slot free for another normal or
 * bulk job (devices.CLASS.max_running), or NULL.
 */
const struct device *device_first_full(struct device *const *devs, unsigned n);
/* On reload: devices.CLASS.disks may give the disks other classes. */
void	 device_reconfigure(void);
/* Bytes read from or written to the device. */
void	 device_account(struct device *, uint64_t read, uint64_t written);
/* About every 250 ms: the rates. */
void	 device_tick(uint64_t now_usec);
/* The devices seen, for GetStatus: start with NULL; NULL at the end. */
const struct device *device_next(const struct device *);
const char *device_class_name(enum device_class);

#endif
