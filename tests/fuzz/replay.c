/* SPDX-License-Identifier: MIT */
/*
 * Replay driver for fuzz targets in `make check`: runs
 * LLVMFuzzerTestOneInput over every file in the given directories (or
 * files), then over a few thousand mutations of each file made with a
 * fixed seed, so every check exercises the parsers without libFuzzer.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void mutate_and_run(const uint8_t *data, size_t size, int rounds)
{
	uint8_t *m = malloc(size + 16);

	if (!m)
		return;
	for (int r = 0; r < rounds; r++) {
		size_t n = size;
		memcpy(m, data, size);
		int edits = 1 + (int)(next() % 4);
		for (int k = 0; k < edits && n; k++) {
			size_t at = (size_t)(next() % n);
			switch (next() % 4) {
			case 0:
				m[at] ^= (uint8_t)(1u << (next() % 8));
				break;
			case 1:
				m[at] = (uint8_t)next();
				break;
			case 2:
				n = at;
				break; /* truncate */
			default:
				m[at] = (uint8_t)(next() & 1 ? 0xff : 0);
				break;
			}
		}
		LLVMFuzzerTestOneInput(m, n);
	}
	free(m);
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(len > 0 ? (size_t)len : 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	mutate_and_run(buf, (size_t)len, 2000);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			n += run_file(argv[i]) == 0;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char p[4096];
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
			n += run_file(p) == 0;
		}
		if (d)
			closedir(d);
	}
	/* Always exercise the empty input too. */
	LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
	printf("replayed %d inputs (+2000 mutations each)\n", n);
	return 0;
}
