/*
 * device.c: a device number traced through a sysfs tree (a fake one in a
 * temporary directory) to its whole disk, its name and its class; the
 * records of the table, the bytes and the rates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "device.h"

static char root[64];

/* root/rel holds text (its directories made first). */
static void
put(const char *rel, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "%s\n", text);
	fclose(f);
}

/* root/dev/block/majmin -> the device's directory, as sysfs links it. */
static void
link_dev(const char *majmin, const char *target)
{
	char path[PATH_MAX], to[PATH_MAX];

	snprintf(path, sizeof(path), "%s/dev/block/%s", root, majmin);
	snprintf(to, sizeof(to), "../../devices/%s", target);
	assert_int_equal(symlink(to, path), 0);
}

static int
setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/cpd-test-sysfs.XXXXXX");
	assert_non_null(mkdtemp(root));
	put("devices/pci0/block/sda/dev", "8:0");
	put("devices/pci0/block/sda/queue/rotational", "1");
	put("devices/pci0/block/sda/sda1/dev", "8:1");
	put("devices/pci0/block/sda/sda1/partition", "1");
	put("devices/pci0/block/nvme0n1/dev", "259:0");
	put("devices/pci0/block/nvme0n1/queue/rotational", "0");
	put("devices/pci0/block/nvme0n1/nvme0n1p2/dev", "259:2");
	put("devices/pci0/block/nvme0n1/nvme0n1p2/partition", "2");
	/* A dm device is its own disk, though not a partition's parent. */
	put("devices/virtual/block/dm-0/dev", "253:0");
	put("devices/virtual/block/dm-0/queue/rotational", "1");
	put("devices/virtual/block/odd/dev", "240:0");	/* no queue */
	put("dev/block/.keep", "");
	link_dev("8:0", "pci0/block/sda");
	link_dev("8:1", "pci0/block/sda/sda1");
	link_dev("259:2", "pci0/block/nvme0n1/nvme0n1p2");
	link_dev("253:0", "virtual/block/dm-0");
	link_dev("240:0", "virtual/block/odd");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void
expect(unsigned major, unsigned minor, const char *name, unsigned dmajor,
    unsigned dminor, enum device_class class)
{
	struct device d;

	memset(&d, 0, sizeof(d));
	assert_int_equal(device_sysfs_read(root, major, minor, &d), 0);
	assert_string_equal(d.name, name);
	assert_int_equal(d.major, dmajor);
	assert_int_equal(d.minor, dminor);
	assert_int_equal(d.class, class);
}

static void
test_partition_to_disk(void **state)
{
	expect(8, 1, "sda", 8, 0, DEVICE_ROTATIONAL);
	expect(8, 0, "sda", 8, 0, DEVICE_ROTATIONAL);
	expect(259, 2, "nvme0n1", 259, 0, DEVICE_SSD);
	expect(253, 0, "dm-0", 253, 0, DEVICE_ROTATIONAL);
	expect(240, 0, "odd", 240, 0, DEVICE_OTHER);
}

static void
test_rotational_flag(void **state)
{
	put("devices/pci0/block/sda/queue/rotational", "0");
	expect(8, 1, "sda", 8, 0, DEVICE_SSD);
	put("devices/pci0/block/sda/queue/rotational", "1");
	expect(8, 1, "sda", 8, 0, DEVICE_ROTATIONAL);
}

static void
test_not_a_block_device(void **state)
{
	struct device d;

	assert_int_equal(device_sysfs_read(root, 0, 45, &d), -ENOENT);
	assert_int_equal(device_sysfs_read("/nonexistent", 8, 1, &d), -ENOENT);
}

/* A virtio-blk disk always says rotational: unknown, unless it says 0. */
static void
test_virtio_unknown(void **state)
{
	char path[PATH_MAX];

	put("devices/pci0/virtio1/block/vda/dev", "254:0");
	put("devices/pci0/virtio1/block/vda/queue/rotational", "1");
	put("devices/pci0/virtio1/.keep", "");
	snprintf(path, sizeof(path), "%s/devices/pci0/virtio1/block/vda/device", root);
	assert_int_equal(symlink("../../../virtio1", path), 0);
	snprintf(path, sizeof(path), "%s/devices/pci0/virtio1/driver", root);
	assert_int_equal(symlink("../../../bus/virtio/drivers/virtio_blk", path), 0);
	link_dev("254:0", "pci0/virtio1/block/vda");
	expect(254, 0, "vda", 254, 0, DEVICE_OTHER);
	put("devices/pci0/virtio1/block/vda/queue/rotational", "0");
	expect(254, 0, "vda", 254, 0, DEVICE_SSD);
}

/*
 * A loop device is of its backing file's disk's class, whatever its own
 * flag says: the backing file is a real one here, whose real device
 * number the fake sysfs is given as a disk.
 */
static void
test_loop_backing(void **state)
{
	char		path[PATH_MAX], majmin[32];
	struct stat	st;

	snprintf(path, sizeof(path), "%s/backing.img", root);
	put("backing.img", "");
	assert_int_equal(stat(path, &st), 0);
	put("devices/virtual/block/loop5/dev", "7:5");
	put("devices/virtual/block/loop5/queue/rotational", "1");
	put("devices/virtual/block/loop5/loop/backing_file", path);
	snprintf(majmin, sizeof(majmin), "%u:%u", major(st.st_dev), minor(st.st_dev));
	put("devices/real/block/back/dev", majmin);
	put("devices/real/block/back/queue/rotational", "0");
	snprintf(path, sizeof(path), "%s/dev/block/%s", root, majmin);
	unlink(path);	/* in case the fake tree has that number already */
	link_dev(majmin, "real/block/back");
	link_dev("7:5", "virtual/block/loop5");
	expect(7, 5, "loop5", 7, 5, DEVICE_SSD);
	put("devices/real/block/back/queue/rotational", "1");
	expect(7, 5, "loop5", 7, 5, DEVICE_ROTATIONAL);
	put("devices/virtual/block/loop5/queue/rotational", "0");	/* by hand */
	expect(7, 5, "loop5", 7, 5, DEVICE_SSD);
}

/* devices.CLASS.disks names a disk: that class, whatever sysfs says. */
static void
test_configured_class(void **state)
{
	static struct config	conf;
	struct device		d;

	config_defaults(&conf);
	snprintf(conf.devices[DEVICE_SSD].disks, sizeof(conf.devices[0].disks), " nvme0n1 sda ");
	cpd_conf = &conf;
	memset(&d, 0, sizeof(d));
	assert_int_equal(device_sysfs_read(root, 8, 1, &d), 0);
	assert_int_equal(d.sysfs_class, DEVICE_ROTATIONAL);
	assert_int_equal(d.class, DEVICE_SSD);
	snprintf(conf.devices[DEVICE_SSD].disks, sizeof(conf.devices[0].disks), " sdaa ");
	expect(8, 1, "sda", 8, 0, DEVICE_ROTATIONAL);	/* a whole name only */
	cpd_conf = NULL;
}

/*
 * The table, on the real /sys: no block device has major 0 (those are
 * the anonymous numbers of tmpfs, btrfs, NFS), so 0:N is "other".
 */
static void
test_table_and_rates(void **state)
{
	struct device		*a = device_get(0, 4093), *b = device_get(0, 4093);
	const struct device	*d;
	bool			 listed = false;

	assert_non_null(a);
	assert_ptr_equal(a, b);
	assert_string_equal(a->name, "0:4093");
	assert_int_equal(a->class, DEVICE_OTHER);
	assert_int_equal(a->refs, 2);
	for (d = device_next(NULL); d; d = device_next(d))
		listed |= d == a;
	assert_true(listed);
	device_tick(1000000);
	device_account(a, 1000, 0);
	device_tick(1250000);
	assert_int_equal(a->read_rate, 4000);	/* 1000 B in 0.25 s */
	assert_int_equal(a->write_rate, 0);
	device_account(a, 0, 3000);
	device_tick(1500000);
	device_tick(1750000);
	device_tick(2000000);
	assert_int_equal(a->read_bytes, 1000);
	assert_int_equal(a->written_bytes, 3000);
	assert_int_equal(a->read_rate, 1000);	/* over the last second */
	assert_int_equal(a->write_rate, 3000);
	device_tick(2250000);
	assert_int_equal(a->read_rate, 0);	/* the 1000 B are over a second old */
	device_put(a);
	device_put(b);
	assert_int_equal(a->refs, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partition_to_disk),
		cmocka_unit_test(test_rotational_flag),
		cmocka_unit_test(test_not_a_block_device),
		cmocka_unit_test(test_virtio_unknown),
		cmocka_unit_test(test_loop_backing),
		cmocka_unit_test(test_configured_class),
		cmocka_unit_test(test_table_and_rates),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
