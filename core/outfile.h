/* SPDX-License-Identifier: MIT */
/*
 * Atomic output files: everything is written to a temporary file beside
 * the target (".<name>.wdt-PID-HOST-XXXXXX" in the same directory, so the final
 * rename cannot cross file systems) and renamed over the target only by
 * wdt_outfile_commit(). Failure, wdt_outfile_abort(), exit() and
 * every signal whose default action ends the process (not SIGKILL/SIGSTOP)
 * remove the temporary file; nothing is left behind under the target's
 * name. Temp names carry the PID and a host tag
 * (".<name>.wdt-PID-HOST-RANDOM"): each open first removes the temp files
 * of dead processes of this host and user in the target's directory (what
 * SIGKILL left). See docs/output-safety.md.
 *
 * Statuses: USAGE when the request itself is wrong (target exists without
 * force, target is an input, target is a directory or not a regular
 * file) — the user fixes the command line; OUTPUT for everything the
 * file system refuses (cannot create the temp file, write/close/rename
 * errors, ENOSPC, EFBIG, EIO), with the offset and errno text. Messages
 * do not repeat the output's name: the caller prefixes it (cmd/ makes it
 * the error's subject), e.g. "x.dmp: exists; use --force to replace it".
 *
 * Not thread-safe per object: one thread writes one outfile.
 *
 * The path "-" is standard output, written in order (a stream): writes
 * must come at increasing offsets, holes become zeros, there is no temp
 * file, rename or --force. It is refused (USAGE) on a terminal and when it
 * is one of the inputs; into a regular file (`> x.dmp`) a failure, abort or
 * signal cuts the file back to where wdt started; into a pipe nothing can
 * be taken back and the exit status tells (docs/output-safety.md).
 */
#ifndef WDT_CORE_OUTFILE_H
#define WDT_CORE_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct wdt_outfile;

/*
 * Start writing path. inputs (ninputs paths, may be NULL/0) are files the
 * caller reads: path must not name one of them (same device and inode, or
 * the same realpath; symlinks and hard links are seen through), even with
 * force. Without force an existing path is refused; a symlink to nothing
 * is refused (USAGE) even with force, a symlink to a file is replaced
 * itself at commit (with force; the file it points to is untouched). On success
 * *of is owned by the caller until wdt_outfile_commit() or wdt_outfile_abort().
 * The temp file has mode 0644 & ~umask. The first open installs the signal
 * handlers and ignores SIGXFSZ while any outfile is live (a file-size limit
 * then shows as EFBIG and the temp file is cleaned up).
 */
int wdt_outfile_open(struct wdt_outfile **of, const char *path,
		     const char *const *inputs, size_t ninputs, bool force,
		     struct wdt_err *err);

/*
 * The temp file's descriptor (opened O_RDWR), for callers that need it;
 * STDOUT_FILENO for "-".
 */
int wdt_outfile_fd(const struct wdt_outfile *of);

/* The final path (for messages). */
const char *wdt_outfile_path(const struct wdt_outfile *of);

/*
 * The temp file's path, valid until commit/abort: for a caller that must
 * check the content by name before committing (e.g. a downloaded PDB).
 * NULL for "-".
 */
const char *wdt_outfile_temp_path(const struct wdt_outfile *of);

/* Whether of is "-", standard output: write at increasing offsets only. */
bool wdt_outfile_is_stream(const struct wdt_outfile *of);

/*
 * Write len bytes at off (pwrite loop, EINTR retried, short writes
 * continued). Errors: OUTPUT "writing at offset 0x…: strerror"; on a
 * stream, INTERNAL for an offset behind what was written.
 * write_at and hole may be called from several threads at once for
 * distinct ranges; everything else from one thread.
 */
int wdt_outfile_write_at(struct wdt_outfile *of, uint64_t off, const void *buf,
			 size_t len, struct wdt_err *err);

/*
 * Declare [off, off+len) as zeros that are not written: the file is
 * extended to cover them at commit (ftruncate), so they stay holes on file
 * systems that support sparse files.
 */
void wdt_outfile_hole(struct wdt_outfile *of, uint64_t off, uint64_t len);

/* Logical size so far: the end of the furthest write or hole. */
uint64_t wdt_outfile_size(const struct wdt_outfile *of);

/*
 * Whether commit fsyncs the file and its directory (default true). Turning
 * it off trades crash durability for speed (docs/output-safety.md).
 */
void wdt_outfile_set_sync(struct wdt_outfile *of, bool sync);

/*
 * Finish: set the final size, fsync (if enabled), close (errors checked),
 * rename over the target. Frees of in every case; on failure the temp file
 * is removed and the target is untouched.
 */
int wdt_outfile_commit(struct wdt_outfile *of, struct wdt_err *err);

/* Give up: close and unlink the temp file, free of. NULL is fine. */
void wdt_outfile_abort(struct wdt_outfile *of);

#endif
