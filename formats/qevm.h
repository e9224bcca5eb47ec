/* SPDX-License-Identifier: MIT */
/*
 * QEMU migration streams ('QEVM', qemu-migration.md): what `virsh save`,
 * `virsh dump` without --memory-only, Proxmox vmstate volumes and
 * `migrate "exec:cat > FILE"` write. Opening indexes the "ram" section
 * in one sequential pass (extents of page records: consecutive pages of
 * one kind cost one entry, so a stopped VM's stream is a few hundred
 * entries per GiB), maps the main RAM block to guest-physical addresses
 * by the machine type's rules (pc/i440fx, q35; PAM state of the host
 * bridge for 0xC0000-0xFFFFF), and decodes every vCPU's registers from
 * the "cpu" device sections, with field offsets taken from the JSON VM
 * description QEMU appends (or, without it, QEMU 7.x-10.x's layout).
 */
#ifndef WDT_FORMATS_QEVM_H
#define WDT_FORMATS_QEVM_H

#include <stdint.h>

#include "core/err.h"
#include "core/image.h"

#define WDT_QEVM_MAGIC 0x5145564Du /* 'QEVM', big-endian */

/* Most extents (runs of page records) a stream may need: 40 bytes each. */
#define WDT_QEVM_MAX_EXTENTS (4u << 20)
/* Most device-state bytes (sections after RAM) read for the CPUs. */
#define WDT_QEVM_MAX_DEVSTATE (64u << 20)

/*
 * Parse img->src as a migration stream (offset 0 = the 'QEVM' magic) and
 * fill img's runs, CPUs and variant. For wrappers (libvirt save images)
 * that replace img->src with the stream's bytes before calling it. Sets
 * img->priv (freed by wdt_qevm_close).
 */
int wdt_qevm_open_stream(struct wdt_image *img, struct wdt_err *err);
void wdt_qevm_close(struct wdt_image *img);

/*
 * A container around the stream (a libvirt save image) keeps its own facts
 * here after wdt_qevm_open_stream: describe() runs before the stream's
 * own description, free() at close. img->priv stays the stream's.
 */
struct wdt_qevm_outer {
	void *priv;
	void (*describe)(void *priv, struct wdt_out *out);
	void (*free)(void *priv);
};
void wdt_qevm_set_outer(struct wdt_image *img,
			const struct wdt_qevm_outer *outer);
void wdt_qevm_describe(struct wdt_image *img, struct wdt_out *out);
int wdt_qevm_read(struct wdt_image *img, const struct wdt_run *run, uint64_t pa,
		  void *buf, size_t len, struct wdt_err *err);

/*
 * Guest-physical bytes below 4 GiB for a main RAM block of ram bytes on
 * machine type `machine` ("pc-i440fx-7.2", "pc-q35-8.2", "pc", "q35"),
 * QEMU's rule (qemu-migration.md §3); 0 for a machine not known.
 */
uint64_t wdt_qevm_below_4g(const char *machine, uint64_t ram);

extern const struct wdt_format wdt_format_qevm;

#endif
