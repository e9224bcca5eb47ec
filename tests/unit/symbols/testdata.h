/* SPDX-License-Identifier: MIT */
/*
 * Shared by the symbols unit tests: build the real clang/lld-link test
 * DLL and PDB (tools/mkpdb-test.sh) into <BUILD>/testdata/symbols, where
 * <BUILD> is derived from the test binary's path
 * (<BUILD>/tests/unit/symbols/test_x), and read its expectation files.
 * Tests run from the top of the tree (make unit).
 */
#ifndef WDT_TESTS_SYMBOLS_TESTDATA_H
#define WDT_TESTS_SYMBOLS_TESTDATA_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char td_dir[4200];

/* 0 ready, 77 toolchain missing, other: failure. */
static int td_build(const char *argv0)
{
	char build[4000], cmd[4400];
	const char *cut;
	int rc;

	snprintf(build, sizeof(build), "%s", argv0);
	cut = strstr(build, "/tests/unit/symbols/");
	if (cut)
		build[cut - build] = '\0';
	else
		snprintf(build, sizeof(build), "build/rel");
	snprintf(td_dir, sizeof(td_dir), "%s/testdata/symbols", build);
	snprintf(cmd, sizeof(cmd), "tools/mkpdb-test.sh '%s'", td_dir);
	rc = system(cmd);
	if (rc == -1 || !WIFEXITED(rc))
		return 1;
	return WEXITSTATUS(rc);
}

static char *td_path(const char *file)
{
	static char p[2][4400];
	static int which;

	which ^= 1;
	snprintf(p[which], sizeof(p[which]), "%s/%s", td_dir, file);
	return p[which];
}

/* Read a whole file; caller frees. */
static inline unsigned char *td_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* GUID and age of the test PDB, as tools/mkpdb-test.sh recorded them. */
static inline void td_read_rsds(uint8_t guid[16], uint32_t *age)
{
	char hex[64];
	unsigned a;
	FILE *f = fopen(td_path("rsds.txt"), "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%63s %u", hex, &a), 2);
	fclose(f);
	for (int i = 0; i < 16; i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		guid[i] = (uint8_t)v;
	}
	*age = a;
}

#endif
