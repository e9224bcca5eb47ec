/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "core/source.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct wdt_source *wdt_source_new(const struct wdt_source_ops *ops, void *priv,
				  uint64_t size, const char *name,
				  struct wdt_err *err)
{
	struct wdt_source *src = calloc(1, sizeof(*src));

	if (!src) {
		wdt_err_nomem(err);
		return NULL;
	}
	src->name = strdup(name ? name : "(memory)");
	if (!src->name) {
		free(src);
		wdt_err_nomem(err);
		return NULL;
	}
	src->ops = ops;
	src->priv = priv;
	src->size = size;
	return src;
}

void wdt_source_close(struct wdt_source *src)
{
	if (!src)
		return;
	if (src->ops->close)
		src->ops->close(src);
	free(src->name);
	free(src);
}

int wdt_source_pread(struct wdt_source *src, void *buf, size_t len,
		     uint64_t off, size_t *got, struct wdt_err *err)
{
	*got = 0;
	if (len == 0 || off >= src->size)
		return 0;
	if (len > src->size - off)
		len = (size_t)(src->size - off);
	return src->ops->pread(src, buf, len, off, got, err);
}

int wdt_source_read(struct wdt_source *src, void *buf, size_t len, uint64_t off,
		    struct wdt_err *err)
{
	size_t got;

	if (!wdt_in_bounds(src->size, off, len))
		return wdt_err_set(
		    err, WDT_TRUNCATED,
		    "%zu bytes at offset 0x%" PRIx64
		    " lie beyond the end of data (size 0x%" PRIx64 ")",
		    len, off, src->size);
	if (wdt_source_pread(src, buf, len, off, &got, err) < 0)
		return -1;
	if (got != len)
		return wdt_err_set(err, WDT_TRUNCATED,
				   "short read at offset 0x%" PRIx64
				   ": %zu of %zu bytes",
				   off, got, len);
	return 0;
}

/* ---- files ---- */

struct file_priv {
	int fd;
};

static int file_pread(struct wdt_source *src, void *buf, size_t len,
		      uint64_t off, size_t *got, struct wdt_err *err)
{
	struct file_priv *fp = src->priv;
	uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n =
		    pread(fp->fd, p + done, len - done, (off_t)(off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*got = done;
			return wdt_err_errno(err, errno,
					     "read at offset 0x%" PRIx64,
					     off + done);
		}
		if (n == 0)
			break; /* file shrank under us */
		done += (size_t)n;
	}
	*got = done;
	return 0;
}

static void file_close(struct wdt_source *src)
{
	struct file_priv *fp = src->priv;

	close(fp->fd);
	free(fp);
}

static const struct wdt_source_ops file_ops = {
    .pread = file_pread,
    .close = file_close,
};

const char *wdt_source_stdin_stream(void)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st) < 0)
		return "closed";
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return NULL;
	if (isatty(STDIN_FILENO))
		return "a terminal";
	if (S_ISFIFO(st.st_mode))
		return "a pipe";
	if (S_ISSOCK(st.st_mode))
		return "a socket";
	if (S_ISDIR(st.st_mode))
		return "a directory";
	return "a character device";
}

/*
 * Regular files and block devices only: anything else (a directory, FIFO,
 * socket, character device) cannot be read at random offsets.
 */
static int check_type(const struct stat *st, struct wdt_err *err)
{
	if (S_ISDIR(st->st_mode))
		return wdt_err_set(err, WDT_UNKNOWN_FORMAT, "is a directory");
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode))
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "not a regular file (pipes and devices "
				   "cannot be read at random offsets)");
	return 0;
}

int wdt_source_open_input(const char *path, struct stat *st,
			  struct wdt_err *err)
{
	/*
	 * O_NONBLOCK: opening a FIFO for reading waits for a writer, and
	 * some devices wait on open; the type check must come first. It is
	 * cleared afterwards so that reads of a block device behave as usual.
	 */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int fl;

	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			wdt_err_set(err, WDT_NOT_FOUND, "no such file");
		else if (e == EACCES)
			wdt_err_set(err, WDT_IO, "permission denied");
		else
			wdt_err_errno(err, e, "cannot open");
		return -1;
	}
	if (fstat(fd, st) < 0) {
		wdt_err_errno(err, errno, "cannot stat");
		goto fail;
	}
	if (check_type(st, err) < 0)
		goto fail;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		wdt_err_errno(err, errno, "cannot open");
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* "-": standard input, if it can be read at any offset. */
static int open_stdin(struct stat *st, struct wdt_err *err)
{
	const char *kind;
	int fd;

	if ((kind = wdt_source_stdin_stream()))
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "standard input is %s; wdt reads images at "
				   "random offsets: save it to a file first",
				   kind);
	fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return wdt_err_errno(err, errno, "standard input");
	if (fstat(fd, st) < 0) {
		wdt_err_errno(err, errno, "cannot stat");
		close(fd);
		return -1;
	}
	if (check_type(st, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

struct wdt_source *wdt_source_open_file(const char *path, struct wdt_err *err)
{
	struct wdt_source *src;
	struct file_priv *fp;
	struct stat st;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = open_stdin(&st, err);
	else
		fd = wdt_source_open_input(path, &st, err);
	if (fd < 0)
		return NULL;
	uint64_t size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);
		if (end < 0) {
			wdt_err_errno(err, errno, "cannot size block device");
			close(fd);
			return NULL;
		}
		size = (uint64_t)end;
	}
	fp = malloc(sizeof(*fp));
	if (!fp) {
		close(fd);
		wdt_err_nomem(err);
		return NULL;
	}
	fp->fd = fd;
	src = wdt_source_new(&file_ops, fp, size, path, err);
	if (!src) {
		close(fd);
		free(fp);
		return NULL;
	}
	/* We read images front to back far more often than not. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return src;
}

/* ---- memory ---- */

static int mem_pread(struct wdt_source *src, void *buf, size_t len,
		     uint64_t off, size_t *got, struct wdt_err *err)
{
	(void)err;
	memcpy(buf, (const uint8_t *)src->priv + off, len);
	*got = len;
	return 0;
}

static const struct wdt_source_ops mem_ops = {
    .pread = mem_pread,
};

struct wdt_source *wdt_source_open_mem(const void *buf, size_t len,
				       const char *name, struct wdt_err *err)
{
	return wdt_source_new(&mem_ops, (void *)(uintptr_t)buf, len, name, err);
}

/* ---- window: bytes [off, off + size) of another source ---- */

struct window {
	struct wdt_source *inner;
	uint64_t off;
};

static int window_pread(struct wdt_source *src, void *buf, size_t len,
			uint64_t off, size_t *got, struct wdt_err *err)
{
	struct window *w = src->priv;
	return wdt_source_pread(w->inner, buf, len, w->off + off, got, err);
}

static void window_close(struct wdt_source *src)
{
	struct window *w = src->priv;
	wdt_source_close(w->inner);
	free(w);
}

static const struct wdt_source_ops window_ops = {
    .pread = window_pread,
    .close = window_close,
};

struct wdt_source *wdt_source_open_window(struct wdt_source *inner,
					  uint64_t off, struct wdt_err *err)
{
	struct window *w = malloc(sizeof(*w));
	struct wdt_source *src;

	if (!w) {
		wdt_err_nomem(err);
		return NULL;
	}
	if (off > inner->size) {
		free(w);
		wdt_err_set(err, WDT_TRUNCATED,
			    "offset 0x%" PRIx64 " is past the end of %s "
			    "(0x%" PRIx64 " bytes)",
			    off, inner->name, inner->size);
		return NULL;
	}
	w->inner = inner;
	w->off = off;
	src =
	    wdt_source_new(&window_ops, w, inner->size - off, inner->name, err);
	if (!src) {
		free(w);
		return NULL;
	}
	src->serial = inner->serial;
	return src;
}
