/* SPDX-License-Identifier: MIT */
/* CAB (.pd_) expansion with libmspack (see cab.h). */
#include "symbols/cab.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mspack.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * libmspack reads the cabinet by name and writes the expanded file by
 * name; the output "name" is this sentinel, which maps to the caller's
 * descriptor, so nothing is ever created by libmspack itself.
 */
static const char OUT_NAME[] = "<wdt output>";

struct sys {
	struct mspack_system base; /* first: libmspack passes &base */
	int out_fd;
	uint64_t cap, written;
	bool over_cap;
	int read_errno, write_errno;
};

static struct sys *sys_of(struct mspack_system *s)
{
	return (struct sys *)(void *)s;
}

/*
 * libmspack's struct mspack_file is ours to define but its header leaves
 * it opaque: this is what our handles point to. Callbacks get only the
 * file, so it points back to the expansion's state.
 */
struct out_file {
	int fd;
	bool is_out;
	struct sys *sys;
};

static struct out_file *of_of(struct mspack_file *f)
{
	return (struct out_file *)(void *)f;
}

static struct mspack_file *handle(struct out_file *of)
{
	return (struct mspack_file *)(void *)of;
}

/* A regular file or block device, now in blocking mode; else false. */
static bool regular_or_blk(int fd)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
		return false;
	fl = fcntl(fd, F_GETFL);
	return fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0;
}

static struct mspack_file *sys_open(struct mspack_system *self,
				    const char *name, int mode)
{
	struct sys *s = sys_of(self);
	struct out_file *of;

	if (mode == MSPACK_SYS_OPEN_WRITE && name == OUT_NAME) {
		of = calloc(1, sizeof(*of));
		if (!of)
			return NULL;
		of->fd = s->out_fd;
		of->is_out = true;
		of->sys = s;
		return handle(of);
	}
	if (mode != MSPACK_SYS_OPEN_READ)
		return NULL; /* libmspack never needs more from us */
	of = calloc(1, sizeof(*of));
	if (!of)
		return NULL;
	of->sys = s;
	/* Non-blocking until known to be a regular file (not a FIFO). */
	of->fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (of->fd < 0 || !regular_or_blk(of->fd)) {
		s->read_errno = of->fd < 0 ? errno : EINVAL;
		if (of->fd >= 0)
			close(of->fd);
		free(of);
		return NULL;
	}
	return handle(of);
}

static void sys_close(struct mspack_file *f)
{
	struct out_file *of = of_of(f);

	if (!of->is_out)
		close(of->fd);
	free(of);
}

static int sys_read(struct mspack_file *f, void *buf, int n)
{
	struct out_file *of = of_of(f);
	ssize_t r;

	if (n < 0)
		return -1;
	do
		r = read(of->fd, buf, (size_t)n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		of->sys->read_errno = errno;
	return (int)r;
}

static int sys_write(struct mspack_file *f, void *buf, int n)
{
	struct out_file *of = of_of(f);
	struct sys *s = of->sys;
	size_t done = 0;

	if (n < 0 || !of->is_out)
		return -1;
	if (s->written + (uint64_t)n > s->cap) {
		s->over_cap = true;
		return -1;
	}
	while (done < (size_t)n) {
		ssize_t w = write(of->fd, (char *)buf + done, (size_t)n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->write_errno = w < 0 ? errno : ENOSPC;
			return -1;
		}
		done += (size_t)w;
	}
	s->written += (uint64_t)n;
	return n;
}

static int sys_seek(struct mspack_file *f, off_t off, int mode)
{
	int whence = mode == MSPACK_SYS_SEEK_START ? SEEK_SET
		     : mode == MSPACK_SYS_SEEK_CUR ? SEEK_CUR
						   : SEEK_END;

	return lseek(of_of(f)->fd, off, whence) < 0 ? -1 : 0;
}

static off_t sys_tell(struct mspack_file *f)
{
	return lseek(of_of(f)->fd, 0, SEEK_CUR);
}

/* libmspack's warnings ("WARNING; …") would go to stderr: dropped, the
 * result (an error code) says what matters. */
static void sys_message(struct mspack_file *f, const char *fmt, ...)
{
	(void)f;
	(void)fmt;
}

static void *sys_alloc(struct mspack_system *self, size_t n)
{
	(void)self;
	return malloc(n);
}

static void sys_free(void *p)
{
	free(p);
}

static void sys_copy(void *src, void *dst, size_t n)
{
	memmove(dst, src, n);
}

bool wdt_cab_probe(const uint8_t *buf, size_t len)
{
	return len >= 4 && memcmp(buf, "MSCF", 4) == 0;
}

static const char *mspack_strerror(int e)
{
	switch (e) {
	case MSPACK_ERR_OPEN:
		return "cannot open";
	case MSPACK_ERR_READ:
		return "read error or truncated cabinet";
	case MSPACK_ERR_WRITE:
		return "write error";
	case MSPACK_ERR_SEEK:
		return "seek error or truncated cabinet";
	case MSPACK_ERR_NOMEMORY:
		return "out of memory";
	case MSPACK_ERR_SIGNATURE:
		return "not a cabinet (no MSCF signature)";
	case MSPACK_ERR_DATAFORMAT:
		return "bad cabinet header";
	case MSPACK_ERR_CHECKSUM:
		return "checksum error";
	case MSPACK_ERR_DECRUNCH:
		return "corrupt compressed data";
	default:
		return "libmspack error";
	}
}

/* A cabinet failure as a status: the descriptor errors first. */
static int cab_fail(const struct sys *s, int code, const char *what,
		    struct wdt_err *err)
{
	if (s->over_cap)
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "%s: expands past the %" PRIu64
				   "-byte limit",
				   what, s->cap);
	if (s->write_errno)
		return wdt_err_errno(err, s->write_errno, "%s: writing", what);
	if (code == MSPACK_ERR_OPEN && s->read_errno)
		return wdt_err_errno(err, s->read_errno, "%s", what);
	if (code == MSPACK_ERR_NOMEMORY)
		return wdt_err_nomem(err);
	return wdt_err_set(err, WDT_CORRUPT, "%s: %s", what,
			   mspack_strerror(code));
}

static struct mscabd_file *pick(struct mscabd_cabinet *cab, const char *want,
				size_t *nfiles)
{
	struct mscabd_file *only = NULL;

	*nfiles = 0;
	for (struct mscabd_file *f = cab->files; f; f = f->next) {
		if (f->filename && strcasecmp(f->filename, want) == 0)
			return f;
		only = f;
		(*nfiles)++;
	}
	return *nfiles == 1 ? only : NULL;
}

int wdt_cab_expand(const char *cab_path, const char *want, int out_fd,
		   uint64_t max_bytes, struct wdt_err *err)
{
	struct sys s = {
	    .base = {.open = sys_open,
		     .close = sys_close,
		     .read = sys_read,
		     .write = sys_write,
		     .seek = sys_seek,
		     .tell = sys_tell,
		     .message = sys_message,
		     .alloc = sys_alloc,
		     .free = sys_free,
		     .copy = sys_copy},
	    .out_fd = out_fd,
	    .cap = max_bytes,
	};
	struct mscab_decompressor *d;
	struct mscabd_cabinet *cab;
	struct mscabd_file *f;
	size_t nfiles;
	int rc = -1, code, selftest;

	MSPACK_SYS_SELFTEST(selftest);
	if (selftest != MSPACK_ERR_OK)
		return wdt_err_set(err, WDT_INTERNAL,
				   "libmspack was built with another off_t");
	d = mspack_create_cab_decompressor(&s.base);
	if (!d)
		return wdt_err_nomem(err);
	cab = d->open(d, cab_path);
	if (!cab) {
		cab_fail(&s, d->last_error(d), cab_path, err);
		goto out;
	}
	f = pick(cab, want, &nfiles);
	if (!f) {
		wdt_err_set(err, WDT_NOT_FOUND,
			    "%s: the cabinet holds %zu files, none named %s",
			    cab_path, nfiles, want);
		goto close;
	}
	if (f->length > max_bytes) {
		wdt_err_set(err, WDT_UNSUPPORTED,
			    "%s: %s is %u bytes, more than the %" PRIu64
			    "-byte limit",
			    cab_path, f->filename, f->length, max_bytes);
		goto close;
	}
	code = d->extract(d, f, OUT_NAME);
	if (code != MSPACK_ERR_OK) {
		cab_fail(&s, code, cab_path, err);
		goto close;
	}
	if (s.written != f->length) {
		wdt_err_set(err, WDT_CORRUPT,
			    "%s: expanded %" PRIu64 " bytes of %u", cab_path,
			    s.written, f->length);
		goto close;
	}
	rc = 0;
close:
	d->close(d, cab);
out:
	mspack_destroy_cab_decompressor(d);
	return rc;
}
