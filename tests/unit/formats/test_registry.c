/* SPDX-License-Identifier: MIT */
/* formats/registry.c: files that are not memory images, named. */
#include "testutil.h"

#include <stdlib.h>

#include "formats/kdump.h"
#include "formats/registry.h"

/* A 4 KiB buffer starting with magic (len bytes). */
static uint8_t *with_magic(const void *magic, size_t len)
{
	uint8_t *m = calloc(1, 4096);

	assert_non_null(m);
	memcpy(m, magic, len);
	return m;
}

static void refuse_one(const void *magic, size_t mlen, const char *needle,
		       const char *todo)
{
	struct wdt_err e;
	uint8_t *m = with_magic(magic, mlen);

	wdt_err_clear(&e);
	assert_int_equal(wdt_format_refuse(m, 4096, &e), -1);
	assert_err(&e, WDT_UNSUPPORTED, needle);
	assert_err(&e, WDT_UNSUPPORTED, todo);
	/* Opening it says the same, though raw would take 4096 bytes. */
	assert_null(wdt_test_open_mem(m, 4096, NULL, &e));
	assert_err(&e, WDT_UNSUPPORTED, needle);
	/* A forced format is the user's word: no hint. */
	struct wdt_image *img = wdt_test_open_mem(m, 4096, "raw", &e);
	assert_non_null(img);
	wdt_image_close(img);
	free(m);
}

static void migration_streams_and_save_images(void **state)
{
	(void)state;
	refuse_one("QEVM\0\0\0\3", 8, "a QEMU migration stream",
		   "virsh dump --memory-only DOMAIN FILE");
	refuse_one("QEVM", 4, "Proxmox vmstate", "dump-guest-memory");
	refuse_one("LibvirtQemudSave", 16, "a libvirt save image",
		   "virsh dump --memory-only DOMAIN FILE");
	refuse_one("LibvirtQemudPart", 16, "an unfinished libvirt save image",
		   "not a memory dump");
}

static void minidump(void **state)
{
	(void)state;
	refuse_one("MDMP\x93\xa7", 6, "a Windows user-mode minidump (MDMP)",
		   "open it in WinDbg as it is");
}

static void foreign_elf(void **state)
{
	struct wdt_err e;
	uint8_t *m = with_magic("\177ELF\2\1\1", 7);

	(void)state;
	m[16] = 4;   /* ET_CORE */
	m[18] = 183; /* EM_AARCH64 */
	wdt_err_clear(&e);
	assert_int_equal(wdt_format_refuse(m, 4096, &e), -1);
	assert_err(&e, WDT_UNSUPPORTED,
		   "an ELF core for AArch64 (e_machine 183): wdt reads dumps "
		   "of x86");
	/* Big-endian s390x executable: e_machine read in its byte order. */
	m[5] = 2;
	m[16] = 0, m[17] = 2, m[18] = 0, m[19] = 22;
	assert_int_equal(wdt_format_refuse(m, 4096, &e), -1);
	assert_err(&e, WDT_UNSUPPORTED, "an ELF file for s390 (e_machine 22)");
	m[19] = 0x99, m[18] = 0x99;
	assert_int_equal(wdt_format_refuse(m, 4096, &e), -1);
	assert_err(&e, WDT_UNSUPPORTED, "another machine (e_machine 39321)");
	/* x86: not refused here, the ELF reader takes it. */
	m[5] = 1, m[16] = 4, m[17] = 0, m[18] = 62, m[19] = 0;
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	m[18] = 3;
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	/* Too short to tell: left to the reader's own message. */
	assert_int_equal(wdt_format_refuse(m, 19, &e), 0);
	free(m);
}

static void foreign_kdump(void **state)
{
	struct wdt_err e;
	uint8_t *m = with_magic(WDT_KDUMP_SIG, WDT_KDUMP_SIG_LEN);

	(void)state;
	memcpy(m + WDT_KDH_UTS_MACHINE, "aarch64", 7);
	wdt_err_clear(&e);
	assert_int_equal(wdt_format_refuse(m, 4096, &e), -1);
	assert_err(&e, WDT_UNSUPPORTED,
		   "a kdump file of another architecture (machine 'aarch64')");
	memcpy(m, WDT_KDUMP_SIG_OLD, WDT_KDUMP_SIG_LEN);
	assert_int_equal(wdt_format_refuse(m, 4096, &e), -1);
	/* x86 names, an empty field (left unfilled), or junk: not ours. */
	memcpy(m + WDT_KDH_UTS_MACHINE, "x86_64\0", 7);
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	memcpy(m + WDT_KDH_UTS_MACHINE, "i686\0\0\0", 7);
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	memset(m + WDT_KDH_UTS_MACHINE, 0, 7);
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	m[WDT_KDH_UTS_MACHINE] = 0xff;
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	/* Header cut before utsname.machine ends. */
	memcpy(m + WDT_KDH_UTS_MACHINE, "aarch64", 7);
	assert_int_equal(wdt_format_refuse(m, WDT_KDH_UTS_MACHINE + 10, &e), 0);
	free(m);
}

static void memory_images_pass(void **state)
{
	struct wdt_err e;
	uint8_t *m = calloc(1, 4096);

	(void)state;
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	assert_int_equal(wdt_format_refuse(m, 0, &e), 0);
	memcpy(m, "QEV", 3); /* a near miss */
	assert_int_equal(wdt_format_refuse(m, 4096, &e), 0);
	memcpy(m, "QEVM", 4); /* magic beyond len */
	assert_int_equal(wdt_format_refuse(m, 3, &e), 0);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(migration_streams_and_save_images),
		cmocka_unit_test(minidump),
		cmocka_unit_test(foreign_elf),
		cmocka_unit_test(foreign_kdump),
		cmocka_unit_test(memory_images_pass),
	};
	return cmocka_run_group_tests_name("formats/registry", tests, NULL,
					   NULL);
}
