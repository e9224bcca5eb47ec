/* SPDX-License-Identifier: MIT */
#include "symbols/kdbg.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"

#define F(n, o, s)                                                             \
	{                                                                      \
		n, o, s                                                        \
	}
const struct wdt_kdbg_field wdt_kdbg_fields[] = {
    F("Header.List.Flink", 0x000, 8),
    F("Header.List.Blink", 0x008, 8),
    F("Header.OwnerTag", 0x010, 4),
    F("Header.Size", 0x014, 4),
    F("KernBase", 0x018, 8),
    F("BreakpointWithStatus", 0x020, 8),
    F("SavedContext", 0x028, 8),
    F("ThCallbackStack", 0x030, 2),
    F("NextCallback", 0x032, 2),
    F("FramePointer", 0x034, 2),
    F("PaeEnabled", 0x036, 2),
    F("KiCallUserMode", 0x038, 8),
    F("KeUserCallbackDispatcher", 0x040, 8),
    F("PsLoadedModuleList", 0x048, 8),
    F("PsActiveProcessHead", 0x050, 8),
    F("PspCidTable", 0x058, 8),
    F("ExpSystemResourcesList", 0x060, 8),
    F("ExpPagedPoolDescriptor", 0x068, 8),
    F("ExpNumberOfPagedPools", 0x070, 8),
    F("KeTimeIncrement", 0x078, 8),
    F("KeBugCheckCallbackListHead", 0x080, 8),
    F("KiBugcheckData", 0x088, 8),
    F("IopErrorLogListHead", 0x090, 8),
    F("ObpRootDirectoryObject", 0x098, 8),
    F("ObpTypeObjectType", 0x0A0, 8),
    F("MmSystemCacheStart", 0x0A8, 8),
    F("MmSystemCacheEnd", 0x0B0, 8),
    F("MmSystemCacheWs", 0x0B8, 8),
    F("MmPfnDatabase", 0x0C0, 8),
    F("MmSystemPtesStart", 0x0C8, 8),
    F("MmSystemPtesEnd", 0x0D0, 8),
    F("MmSubsectionBase", 0x0D8, 8),
    F("MmNumberOfPagingFiles", 0x0E0, 8),
    F("MmLowestPhysicalPage", 0x0E8, 8),
    F("MmHighestPhysicalPage", 0x0F0, 8),
    F("MmNumberOfPhysicalPages", 0x0F8, 8),
    F("MmMaximumNonPagedPoolInBytes", 0x100, 8),
    F("MmNonPagedSystemStart", 0x108, 8),
    F("MmNonPagedPoolStart", 0x110, 8),
    F("MmNonPagedPoolEnd", 0x118, 8),
    F("MmPagedPoolStart", 0x120, 8),
    F("MmPagedPoolEnd", 0x128, 8),
    F("MmPagedPoolInformation", 0x130, 8),
    F("MmPageSize", 0x138, 8),
    F("MmSizeOfPagedPoolInBytes", 0x140, 8),
    F("MmTotalCommitLimit", 0x148, 8),
    F("MmTotalCommittedPages", 0x150, 8),
    F("MmSharedCommit", 0x158, 8),
    F("MmDriverCommit", 0x160, 8),
    F("MmProcessCommit", 0x168, 8),
    F("MmPagedPoolCommit", 0x170, 8),
    F("MmExtendedCommit", 0x178, 8),
    F("MmZeroedPageListHead", 0x180, 8),
    F("MmFreePageListHead", 0x188, 8),
    F("MmStandbyPageListHead", 0x190, 8),
    F("MmModifiedPageListHead", 0x198, 8),
    F("MmModifiedNoWritePageListHead", 0x1A0, 8),
    F("MmAvailablePages", 0x1A8, 8),
    F("MmResidentAvailablePages", 0x1B0, 8),
    F("PoolTrackTable", 0x1B8, 8),
    F("NonPagedPoolDescriptor", 0x1C0, 8),
    F("MmHighestUserAddress", 0x1C8, 8),
    F("MmSystemRangeStart", 0x1D0, 8),
    F("MmUserProbeAddress", 0x1D8, 8),
    F("KdPrintCircularBuffer", 0x1E0, 8),
    F("KdPrintCircularBufferEnd", 0x1E8, 8),
    F("KdPrintWritePointer", 0x1F0, 8),
    F("KdPrintRolloverCount", 0x1F8, 8),
    F("MmLoadedUserImageList", 0x200, 8),
    F("NtBuildLab", 0x208, 8),
    F("KiNormalSystemCall", 0x210, 8),
    F("KiProcessorBlock", 0x218, 8),
    F("MmUnloadedDrivers", 0x220, 8),
    F("MmLastUnloadedDriver", 0x228, 8),
    F("MmTriageActionTaken", 0x230, 8),
    F("MmSpecialPoolTag", 0x238, 8),
    F("KernelVerifier", 0x240, 8),
    F("MmVerifierData", 0x248, 8),
    F("MmAllocatedNonPagedPool", 0x250, 8),
    F("MmPeakCommitment", 0x258, 8),
    F("MmTotalCommitLimitMaximum", 0x260, 8),
    F("CmNtCSDVersion", 0x268, 8),
    F("MmPhysicalMemoryBlock", 0x270, 8),
    F("MmSessionBase", 0x278, 8),
    F("MmSessionSize", 0x280, 8),
    F("MmSystemParentTablePage", 0x288, 8),
    F("MmVirtualTranslationBase", 0x290, 8),
    F("OffsetKThreadNextProcessor", 0x298, 2),
    F("OffsetKThreadTeb", 0x29A, 2),
    F("OffsetKThreadKernelStack", 0x29C, 2),
    F("OffsetKThreadInitialStack", 0x29E, 2),
    F("OffsetKThreadApcProcess", 0x2A0, 2),
    F("OffsetKThreadState", 0x2A2, 2),
    F("OffsetKThreadBStore", 0x2A4, 2),
    F("OffsetKThreadBStoreLimit", 0x2A6, 2),
    F("SizeEProcess", 0x2A8, 2),
    F("OffsetEprocessPeb", 0x2AA, 2),
    F("OffsetEprocessParentCID", 0x2AC, 2),
    F("OffsetEprocessDirectoryTableBase", 0x2AE, 2),
    F("SizePrcb", 0x2B0, 2),
    F("OffsetPrcbDpcRoutine", 0x2B2, 2),
    F("OffsetPrcbCurrentThread", 0x2B4, 2),
    F("OffsetPrcbMhz", 0x2B6, 2),
    F("OffsetPrcbCpuType", 0x2B8, 2),
    F("OffsetPrcbVendorString", 0x2BA, 2),
    F("OffsetPrcbProcStateContext", 0x2BC, 2),
    F("OffsetPrcbNumber", 0x2BE, 2),
    F("SizeEThread", 0x2C0, 2),
    F("L1tfHighPhysicalBitIndex", 0x2C2, 1),
    F("L1tfSwizzleBitIndex", 0x2C3, 1),
    F("Padding0", 0x2C4, 4),
    F("KdPrintCircularBufferPtr", 0x2C8, 8),
    F("KdPrintBufferSize", 0x2D0, 8),
    F("KeLoaderBlock", 0x2D8, 8),
    F("SizePcr", 0x2E0, 2),
    F("OffsetPcrSelfPcr", 0x2E2, 2),
    F("OffsetPcrCurrentPrcb", 0x2E4, 2),
    F("OffsetPcrContainedPrcb", 0x2E6, 2),
    F("OffsetPcrInitialBStore", 0x2E8, 2),
    F("OffsetPcrBStoreLimit", 0x2EA, 2),
    F("OffsetPcrInitialStack", 0x2EC, 2),
    F("OffsetPcrStackLimit", 0x2EE, 2),
    F("OffsetPrcbPcrPage", 0x2F0, 2),
    F("OffsetPrcbProcStateSpecialReg", 0x2F2, 2),
    F("GdtR0Code", 0x2F4, 2),
    F("GdtR0Data", 0x2F6, 2),
    F("GdtR0Pcr", 0x2F8, 2),
    F("GdtR3Code", 0x2FA, 2),
    F("GdtR3Data", 0x2FC, 2),
    F("GdtR3Teb", 0x2FE, 2),
    F("GdtLdt", 0x300, 2),
    F("GdtTss", 0x302, 2),
    F("Gdt64R3CmCode", 0x304, 2),
    F("Gdt64R3CmTeb", 0x306, 2),
    F("IopNumTriageDumpDataBlocks", 0x308, 8),
    F("IopTriageDumpDataBlocks", 0x310, 8),
    F("VfCrashDataBlock", 0x318, 8),
    F("MmBadPagesDetected", 0x320, 8),
    F("MmZeroedPageSingleBitErrorsDetected", 0x328, 8),
    F("EtwpDebuggerData", 0x330, 8),
    F("OffsetPrcbContext", 0x338, 2),
    F("OffsetPrcbMaxBreakpoints", 0x33A, 2),
    F("OffsetPrcbMaxWatchpoints", 0x33C, 2),
    F("OffsetKThreadStackLimit", 0x340, 4),
    F("OffsetKThreadStackBase", 0x344, 4),
    F("OffsetKThreadQueueListEntry", 0x348, 4),
    F("OffsetEThreadIrpList", 0x34C, 4),
    F("OffsetPrcbIdleThread", 0x350, 2),
    F("OffsetPrcbNormalDpcState", 0x352, 2),
    F("OffsetPrcbDpcStack", 0x354, 2),
    F("OffsetPrcbIsrStack", 0x356, 2),
    F("SizeKDPC_STACK_FRAME", 0x358, 2),
    F("OffsetKPriQueueThreadListHead", 0x35A, 2),
    F("OffsetKThreadWaitReason", 0x35C, 2),
    F("PteBase", 0x360, 8),
    F("RetpolineStubFunctionTable", 0x368, 8),
    F("RetpolineStubFunctionTableSize", 0x370, 4),
    F("RetpolineStubOffset", 0x374, 4),
    F("RetpolineStubSize", 0x378, 4),
    F("OffsetEProcessMmHotPatchContext", 0x37C, 2),
    F("OffsetKThreadShadowStackLimit", 0x380, 4),
    F("OffsetKThreadShadowStackBase", 0x384, 4),
    F("ShadowStackEnabled", 0x388, 8),
    F("PointerAuthMask", 0x390, 8),
    F("OffsetPrcbExceptionStack", 0x398, 2),
};
const size_t wdt_kdbg_nfields =
    sizeof(wdt_kdbg_fields) / sizeof(wdt_kdbg_fields[0]);

const struct wdt_kdbg_field wdt_kdver_fields[] = {
    F("MajorVersion", 0x00, 2),
    F("MinorVersion", 0x02, 2),
    F("ProtocolVersion", 0x04, 1),
    F("KdSecondaryVersion", 0x05, 1),
    F("Flags", 0x06, 2),
    F("MachineType", 0x08, 2),
    F("MaxPacketType", 0x0A, 1),
    F("MaxStateChange", 0x0B, 1),
    F("MaxManipulate", 0x0C, 1),
    F("Simulation", 0x0D, 1),
    F("KernBase", 0x10, 8),
    F("PsLoadedModuleList", 0x18, 8),
    F("DebuggerDataList", 0x20, 8),
};
const size_t wdt_kdver_nfields =
    sizeof(wdt_kdver_fields) / sizeof(wdt_kdver_fields[0]);
#undef F

/* ---- the encoding ---- */

static uint64_t rol64(uint64_t v, unsigned r)
{
	r &= 63;
	return r ? (v << r) | (v >> (64 - r)) : v;
}

static uint64_t ror64(uint64_t v, unsigned r)
{
	r &= 63;
	return r ? (v >> r) | (v << (64 - r)) : v;
}

void wdt_kdbg_decode(const uint8_t *in, uint8_t *out, size_t nwords,
		     uint64_t wait_never, uint64_t wait_always,
		     uint64_t flag_va)
{
	for (size_t i = 0; i < nwords; i++) {
		uint64_t t = wdt_le64(in + 8 * i) ^ wait_never;
		t = rol64(t, (unsigned)(wait_never & 63));
		t = __builtin_bswap64(t ^ flag_va) ^ wait_always;
		wdt_put_le64(out + 8 * i, t);
	}
}

void wdt_kdbg_encode(const uint8_t *in, uint8_t *out, size_t nwords,
		     uint64_t wait_never, uint64_t wait_always,
		     uint64_t flag_va)
{
	for (size_t i = 0; i < nwords; i++) {
		uint64_t t =
		    __builtin_bswap64(wdt_le64(in + 8 * i) ^ wait_always) ^
		    flag_va;
		t = ror64(t, (unsigned)(wait_never & 63)) ^ wait_never;
		wdt_put_le64(out + 8 * i, t);
	}
}

uint64_t wdt_kdbg_get(const struct wdt_kdbg *d, uint32_t off, unsigned size)
{
	if (!d->plain || off + size > d->size)
		return 0;
	switch (size) {
	case 1:
		return d->plain[off];
	case 2:
		return wdt_le16(d->plain + off);
	case 4:
		return wdt_le32(d->plain + off);
	default:
		return wdt_le64(d->plain + off);
	}
}

/* ---- consistency ---- */

static void add_check(struct wdt_kdbg *d, const char *name, bool ok,
		      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_check(struct wdt_kdbg *d, const char *name, bool ok,
		      const char *fmt, ...)
{
	struct wdt_kdbg_check *c;
	va_list ap;

	if (d->nchecks == sizeof(d->checks) / sizeof(d->checks[0]))
		return;
	c = &d->checks[d->nchecks++];
	c->name = name;
	c->ok = ok;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/* A LIST_ENTRY head at va whose Flink->Blink comes back to it. */
static bool list_links_back(const struct wdt_kernel *k, uint64_t head,
			    char *why, size_t len)
{
	uint64_t flink, back;
	struct wdt_err e;

	if (wdt_kernel_read_u64(k, head, &flink, &e) < 0) {
		snprintf(why, len, "0x%" PRIx64 " unreadable", head);
		return false;
	}
	if (wdt_kernel_read_u64(k, flink + 8, &back, &e) < 0) {
		snprintf(why, len, "Flink 0x%" PRIx64 " unreadable", flink);
		return false;
	}
	if (back != head) {
		snprintf(why, len,
			 "Flink 0x%" PRIx64 " links back to 0x%" PRIx64, flink,
			 back);
		return false;
	}
	snprintf(why, len, "0x%" PRIx64 " <-> 0x%" PRIx64, head, flink);
	return true;
}

/* Run the checks on d->plain; returns the number that passed. */
static unsigned check_block(const struct wdt_kernel *k, struct wdt_kdbg *d)
{
	char why[120];
	unsigned ok = 0;
	uint64_t v;
	struct wdt_err e;
	bool b;

	d->nchecks = 0;
	uint32_t tag = (uint32_t)wdt_kdbg_get(d, WDT_KDBG_OWNER_TAG, 4);
	b = tag == WDT_KDBG_TAG;
	ok += b;
	add_check(d, "owner-tag", b, "OwnerTag 0x%08x", tag);

	v = wdt_kdbg_get(d, WDT_KDBG_KERN_BASE, 8);
	b = v == k->base_va;
	ok += b;
	add_check(d, "kern-base", b, "KernBase 0x%" PRIx64 "%s", v,
		  b ? " is the kernel's base" : " is not the kernel's base");

	v = wdt_kdbg_get(d, WDT_KDBG_FLINK, 8);
	{
		uint64_t back = 0;
		b = wdt_kernel_read_u64(k, v, &back, &e) == 0 && back == d->va;
		ok += b;
		add_check(d, "debugger-data-list", b,
			  "Header.List.Flink 0x%" PRIx64 " %s", v,
			  b ? "links back to the block"
			    : "does not link back to the block");
	}
	v = wdt_kdbg_get(d, WDT_KDBG_PS_LOADED_MODULE_LIST, 8);
	b = list_links_back(k, v, why, sizeof(why));
	ok += b;
	add_check(d, "ps-loaded-module-list", b, "PsLoadedModuleList %s", why);

	v = wdt_kdbg_get(d, WDT_KDBG_PS_ACTIVE_PROCESS_HEAD, 8);
	b = list_links_back(k, v, why, sizeof(why));
	ok += b;
	add_check(d, "ps-active-process-head", b, "PsActiveProcessHead %s",
		  why);

	v = wdt_kdbg_get(d, WDT_KDBG_KI_PROCESSOR_BLOCK, 8);
	{
		uint64_t prcb = 0, self = 0;
		b = wdt_kernel_read_u64(k, v, &prcb, &e) == 0 && prcb &&
		    wdt_kernel_read_u64(k, prcb - WDT_KPCR_PRCB + WDT_KPCR_SELF,
					&self, &e) == 0 &&
		    self == prcb - WDT_KPCR_PRCB;
		ok += b;
		add_check(d, "ki-processor-block", b,
			  "KiProcessorBlock 0x%" PRIx64 "[0] = 0x%" PRIx64 "%s",
			  v, prcb,
			  b ? ", a KPRCB inside its KPCR" : ", not a KPRCB");
	}
	v = wdt_kdbg_get(d, WDT_KDBG_MM_PFN_DATABASE, 8);
	{
		uint64_t pfn = 0;
		b = wdt_kernel_read_u64(k, v, &pfn, &e) == 0 &&
		    pfn >= WDT_KERNEL_HALF_START;
		ok += b;
		add_check(d, "mm-pfn-database", b,
			  "MmPfnDatabase 0x%" PRIx64 " -> 0x%" PRIx64, v, pfn);
	}
	return ok;
}

/* ---- PDB path ---- */

static int sym_va(struct wdt_pdb *pdb, const struct wdt_kernel *k,
		  const char *name, uint64_t *va, struct wdt_err *err)
{
	uint32_t rva;

	if (wdt_pdb_symbol_rva(pdb, name, &rva, err) < 0)
		return -1;
	*va = k->base_va + rva;
	return 0;
}

static int decode_at(struct wdt_kernel *k, struct wdt_kdbg *d,
		     struct wdt_err *err)
{
	uint8_t hdr[WDT_KDBG_HEADER_SIZE];
	uint32_t size;

	if (wdt_kernel_read(k, d->va, hdr, sizeof(hdr), err) < 0)
		return wdt_err_prefix(err, "KdDebuggerDataBlock at 0x%" PRIx64,
				      d->va);
	if (wdt_le32(hdr + WDT_KDBG_OWNER_TAG) == WDT_KDBG_TAG) {
		d->encoded = false;
	} else {
		if (!d->flag_value)
			return wdt_err_set(err, WDT_CORRUPT,
					   "KdDebuggerDataBlock at 0x%" PRIx64
					   " has no KDBG tag and "
					   "KdpDataBlockEncoded is 0: neither "
					   "cleartext nor encoded",
					   d->va);
		d->encoded = true;
		wdt_kdbg_decode(hdr, hdr, 3, d->wait_never, d->wait_always,
				d->flag_va);
		if (wdt_le32(hdr + WDT_KDBG_OWNER_TAG) != WDT_KDBG_TAG)
			return wdt_err_set(err, WDT_CORRUPT,
					   "KdDebuggerDataBlock at 0x%" PRIx64
					   " does not decode to a KDBG header "
					   "with the PDB's keys",
					   d->va);
	}
	size = wdt_le32(hdr + WDT_KDBG_SIZE);
	if (size < WDT_KDBG_MIN_SIZE || size > WDT_KDBG_MAX_SIZE || size % 8)
		return wdt_err_set(err, WDT_CORRUPT,
				   "KdDebuggerDataBlock at 0x%" PRIx64
				   ": implausible Header.Size 0x%x",
				   d->va, size);
	d->plain = malloc(size);
	if (!d->plain)
		return wdt_err_nomem(err);
	d->size = size;
	if (wdt_kernel_read(k, d->va, d->plain, size, err) < 0)
		return wdt_err_prefix(err, "KdDebuggerDataBlock at 0x%" PRIx64,
				      d->va);
	if (d->encoded)
		wdt_kdbg_decode(d->plain, d->plain, size / 8, d->wait_never,
				d->wait_always, d->flag_va);
	return 0;
}

static int find_with_pdb(struct wdt_kernel *k, struct wdt_pdb *pdb,
			 struct wdt_kdbg *d, struct wdt_err *err)
{
	uint8_t flag;

	if (sym_va(pdb, k, "KdDebuggerDataBlock", &d->va, err) < 0)
		return -1;
	if (sym_va(pdb, k, "KdpDataBlockEncoded", &d->flag_va, err) == 0 &&
	    wdt_kernel_read(k, d->flag_va, &flag, 1, err) == 0)
		d->flag_value = flag;
	else
		d->flag_va = 0;
	if (d->flag_value &&
	    (sym_va(pdb, k, "KiWaitNever", &d->wait_never_va, err) < 0 ||
	     sym_va(pdb, k, "KiWaitAlways", &d->wait_always_va, err) < 0 ||
	     wdt_kernel_read_u64(k, d->wait_never_va, &d->wait_never, err) <
		 0 ||
	     wdt_kernel_read_u64(k, d->wait_always_va, &d->wait_always, err) <
		 0))
		return wdt_err_prefix(err, "decoding keys");
	d->method = "pdb";
	if (decode_at(k, d, err) < 0)
		return -1;
	if (!d->encoded) {
		d->wait_never = d->wait_always = 0;
	}
	return 0;
}

/* ---- no-PDB path ---- */

/* The kernel's writable, resident sections, read into one buffer. */
struct kdata {
	uint8_t *buf;	  /* size_of_image bytes; non-data parts zero */
	uint8_t *is_data; /* per page: 1 if read from a data section */
	uint32_t size;
};

static int load_data(struct wdt_kernel *k, struct kdata *kd,
		     struct wdt_err *err)
{
	const struct wdt_pe_section *s;
	size_t n;

	if (k->size_of_image > (64u << 20))
		return wdt_err_set(err, WDT_UNSUPPORTED,
				   "kernel image of %u bytes is too large to "
				   "search",
				   k->size_of_image);
	kd->size = k->size_of_image;
	kd->buf = calloc(1, kd->size);
	kd->is_data = calloc(1, kd->size / WDT_PAGE_SIZE + 1);
	if (!kd->buf || !kd->is_data)
		return wdt_err_nomem(err);
	s = wdt_pe_sections(k->pe, &n);
	for (size_t i = 0; i < n; i++) {
		if (!(s[i].characteristics & WDT_PE_SCN_MEM_WRITE) ||
		    (s[i].characteristics & WDT_PE_SCN_MEM_DISCARDABLE))
			continue;
		uint64_t end = (uint64_t)s[i].rva + s[i].vsize;
		if (end > kd->size)
			end = kd->size;
		for (uint64_t p = s[i].rva & ~WDT_PAGE_MASK; p < end;
		     p += WDT_PAGE_SIZE) {
			struct wdt_err e;
			size_t len =
			    end - p < WDT_PAGE_SIZE ? end - p : WDT_PAGE_SIZE;
			if (wdt_kernel_read(k, k->base_va + p, kd->buf + p, len,
					    &e) == 0)
				kd->is_data[p / WDT_PAGE_SIZE] = 1;
		}
	}
	return 0;
}

static bool data_at(const struct kdata *kd, uint64_t off)
{
	return off < kd->size && kd->is_data[off / WDT_PAGE_SIZE];
}

struct qv {
	uint64_t v;
	uint32_t off;
};

static int cmp_qv(const void *a, const void *b)
{
	const struct qv *x = a, *y = b;

	return x->v < y->v ? -1 : x->v > y->v;
}

static const struct qv *find_qv(const struct qv *v, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].v < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].v == key ? &v[lo] : NULL;
}

static bool random_looking(uint64_t q)
{
	int pc = __builtin_popcountll(q);

	return pc >= 12 && pc <= 52 && q < WDT_KERNEL_HALF_START;
}

/* Try a full decode with these keys; keep it in *best if it scores more. */
static void try_keys(struct wdt_kernel *k, const struct kdata *kd, uint32_t off,
		     uint32_t size, uint64_t n, uint64_t a, uint64_t e,
		     struct wdt_kdbg *best, unsigned *best_score,
		     uint32_t n_off, uint32_t a_off)
{
	struct wdt_kdbg t = {0};
	unsigned score;

	t.va = k->base_va + off;
	t.size = size;
	t.plain = malloc(size);
	if (!t.plain)
		return;
	wdt_kdbg_decode(kd->buf + off, t.plain, size / 8, n, a, e);
	score = check_block(k, &t);
	if (score > *best_score) {
		free(best->plain);
		*best = t;
		best->encoded = true;
		best->wait_never = n;
		best->wait_always = a;
		best->flag_va = e;
		best->flag_value = kd->buf[e - k->base_va];
		best->wait_never_va = k->base_va + n_off;
		best->wait_always_va = k->base_va + a_off;
		*best_score = score;
	} else {
		free(t.plain);
	}
}

/*
 * Worst-case work of the search without a PDB, for a kernel image of at
 * most 64 MiB (load_data): the cleartext pass looks at each qword once
 * (decode_at per OwnerTag+KernBase match); the known-plaintext pass tries
 * 64 rotations per qword, and for each header candidate loops over the
 * key candidates and, for those of the right rotation, over the flag
 * candidates: hits x nq x nflags / 64. Those inner loops stop after
 * KP_MAX_WORK steps (seconds of binary searches; the fixtures need a few
 * hundred, a real kernel's data up to about 10^8) and KP_MAX_TRIES full
 * decodes, and the failure says the cap was reached.
 */
#define KP_MAX_WORK (1ull << 30)
#define KP_MAX_TRIES 4096u

static int find_without_pdb(struct wdt_kernel *k, struct wdt_kdbg *d,
			    struct wdt_err *err)
{
	struct kdata kd = {0};
	struct qv *qs = NULL;
	uint32_t *flags = NULL;
	size_t nq = 0, nflags = 0;
	struct wdt_kdbg best = {0};
	unsigned best_score = 0, hits = 0;
	uint64_t work = 0;
	unsigned tries = 0;
	int rc = -1;

	if (load_data(k, &kd, err) < 0)
		goto out;

	/* Cleartext first: OwnerTag and KernBase in place. */
	for (uint32_t o = 0; o + WDT_KDBG_HEADER_SIZE + 8 <= kd.size; o += 8) {
		if (!data_at(&kd, o) ||
		    wdt_le32(kd.buf + o + WDT_KDBG_OWNER_TAG) != WDT_KDBG_TAG ||
		    wdt_le64(kd.buf + o + WDT_KDBG_KERN_BASE) != k->base_va)
			continue;
		struct wdt_kdbg t = {.va = k->base_va + o,
				     .method = "cleartext-scan"};
		if (decode_at(k, &t, err) < 0) {
			wdt_kdbg_free(&t);
			continue;
		}
		unsigned s = check_block(k, &t);
		if (s > best_score) {
			wdt_kdbg_free(&best);
			best = t;
			best_score = s;
		} else {
			wdt_kdbg_free(&t);
		}
	}

	/* Candidate keys: random-looking qwords and bytes equal to 1. */
	qs = malloc(sizeof(*qs) * (kd.size / 8 + 1));
	flags = malloc(sizeof(*flags) * (kd.size / 8 + 16));
	if (!qs || !flags) {
		wdt_err_nomem(err);
		goto out;
	}
	size_t flags_cap = kd.size / 8 + 16;
	for (uint32_t o = 0; o + 8 <= kd.size; o += 8) {
		if (!data_at(&kd, o))
			continue;
		uint64_t q = wdt_le64(kd.buf + o);
		if (random_looking(q))
			qs[nq++] = (struct qv){q, o};
		for (unsigned b = 0; b < 8; b++)
			if (kd.buf[o + b] == 1 && nflags < flags_cap)
				flags[nflags++] = o + b;
	}
	qsort(qs, nq, sizeof(*qs), cmp_qv);

	/*
	 * Known plaintext: plain2 ^ plain3 = bswap(rol(w2 ^ w3, r)) for the
	 * rotation r = KiWaitNever & 63, whatever the other keys are; plain2
	 * is Size:'KDBG', plain3 is KernBase.
	 */
	for (uint32_t o = 0;
	     o + WDT_KDBG_HEADER_SIZE + 8 <= kd.size && best_score < 7;
	     o += 8) {
		if (!data_at(&kd, o))
			continue;
		/* qwords 2 and 3: OwnerTag+Size and KernBase, encoded */
		uint64_t w2 = wdt_le64(kd.buf + o + WDT_KDBG_OWNER_TAG),
			 w3 = wdt_le64(kd.buf + o + WDT_KDBG_KERN_BASE);
		uint64_t dd = w2 ^ w3;
		if (!dd)
			continue;
		for (unsigned r = 0; r < 64; r++) {
			uint64_t p2 =
			    __builtin_bswap64(rol64(dd, r)) ^ k->base_va;
			uint32_t size = (uint32_t)(p2 >> 32);
			if ((uint32_t)p2 != WDT_KDBG_TAG ||
			    size < WDT_KDBG_MIN_SIZE ||
			    size > WDT_KDBG_MAX_SIZE || size % 8 ||
			    o + size > kd.size)
				continue;
			hits++;
			for (size_t i = 0; i < nq && work < KP_MAX_WORK;
			     i++, work++) {
				uint64_t n = qs[i].v;
				if ((n & 63) != r ||
				    (qs[i].off >= o && qs[i].off < o + size))
					continue;
				uint64_t x3 = rol64(w3 ^ n, r);
				for (size_t j = 0;
				     j < nflags && work < KP_MAX_WORK;
				     j++, work++) {
					uint64_t e = k->base_va + flags[j];
					uint64_t a = __builtin_bswap64(x3 ^ e) ^
						     k->base_va;
					const struct qv *hit =
					    find_qv(qs, nq, a);
					if (!hit || (hit->off >= o &&
						     hit->off < o + size))
						continue;
					if (tries++ == KP_MAX_TRIES) {
						work = KP_MAX_WORK;
						break;
					}
					try_keys(k, &kd, o, size, n, a, e,
						 &best, &best_score, qs[i].off,
						 hit->off);
				}
			}
		}
	}
	if (!best.plain || best_score < 5) {
		wdt_attempt_add(&k->log, "kdbg", "known-plaintext", false,
				"%u header candidate(s) in the kernel's data, "
				"%zu key candidates, %zu flag candidates; best "
				"decode passed %u of 7 checks%s",
				hits, nq, nflags, best_score,
				work >= KP_MAX_WORK
				    ? " (stopped at the search's work cap)"
				    : "");
		wdt_err_set(err, WDT_NOT_FOUND,
			    "no KdDebuggerDataBlock found in the kernel's data "
			    "sections (cleartext scan and known-plaintext "
			    "recovery of the Windows 8+ keys both failed)");
		wdt_kdbg_free(&best);
		goto out;
	}
	if (!best.method)
		best.method = "known-plaintext";
	best.pdb_used = false;
	*d = best;
	check_block(k, d);
	wdt_attempt_add(&k->log, "kdbg", d->method, true,
			"block at 0x%" PRIx64 ", %u of 7 checks pass", d->va,
			best_score);
	rc = 0;
out:
	free(kd.buf);
	free(kd.is_data);
	free(qs);
	free(flags);
	return rc;
}

/* ---- KdVersionBlock ---- */

static bool version_ok(const struct wdt_kernel *k, const struct wdt_kdbg *d,
		       const uint8_t *v)
{
	uint16_t major = wdt_le16(v + WDT_KDVER_MAJOR);

	return (major == WDT_KDVER_MAJOR_FREE ||
		major == WDT_KDVER_MAJOR_CHECKED) &&
	       wdt_le16(v + WDT_KDVER_MACHINE) == WDT_PE_MACHINE_AMD64 &&
	       wdt_le64(v + WDT_KDVER_KERN_BASE) == k->base_va &&
	       wdt_le64(v + WDT_KDVER_PS_LOADED_MODULE_LIST) ==
		   wdt_kdbg_get(d, WDT_KDBG_PS_LOADED_MODULE_LIST, 8);
}

static void find_version(struct wdt_kernel *k, struct wdt_pdb *pdb,
			 struct wdt_kdbg *d)
{
	struct wdt_err e;
	uint64_t va;

	if (pdb) {
		if (sym_va(pdb, k, "KdVersionBlock", &va, &e) == 0 &&
		    wdt_kernel_read(k, va, d->version, WDT_KDVER_SIZE, &e) ==
			0 &&
		    version_ok(k, d, d->version)) {
			d->have_version = true;
			d->version_va = va;
			d->version_method = "pdb";
			return;
		}
		wdt_attempt_add(&k->log, "version", "pdb", false, "%.150s",
				e.msg);
	}
	/*
	 * Scan the kernel's writable sections for the structure: at most
	 * SizeOfImage bytes per section (a section's VirtualSize is not
	 * trusted past the image), 512 checks per page.
	 */
	const struct wdt_pe_section *s;
	size_t n;
	uint8_t page[WDT_PAGE_SIZE + WDT_KDVER_SIZE];
	s = wdt_pe_sections(k->pe, &n);
	for (size_t i = 0; i < n; i++) {
		if (!(s[i].characteristics & WDT_PE_SCN_MEM_WRITE))
			continue;
		uint64_t end = (uint64_t)s[i].rva + s[i].vsize;
		if (end > k->size_of_image)
			end = k->size_of_image;
		for (uint64_t p = s[i].rva & ~WDT_PAGE_MASK; p < end;
		     p += WDT_PAGE_SIZE) {
			memset(page, 0, sizeof(page));
			if (wdt_kernel_read(k, k->base_va + p, page,
					    WDT_PAGE_SIZE, &e) < 0)
				continue;
			(void)wdt_kernel_read(k, k->base_va + p + WDT_PAGE_SIZE,
					      page + WDT_PAGE_SIZE,
					      WDT_KDVER_SIZE, &e);
			for (unsigned o = 0; o < WDT_PAGE_SIZE; o += 8) {
				if (!version_ok(k, d, page + o))
					continue;
				memcpy(d->version, page + o, WDT_KDVER_SIZE);
				d->have_version = true;
				d->version_va = k->base_va + p + o;
				d->version_method = "scan";
				wdt_attempt_add(&k->log, "version", "scan",
						true, "at 0x%" PRIx64,
						d->version_va);
				return;
			}
		}
	}
	wdt_attempt_add(&k->log, "version", "scan", false,
			"no DBGKD_GET_VERSION64 with this KernBase and "
			"PsLoadedModuleList in the kernel's data");
}

/* ---- entry ---- */

static char *xprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* A malloc'd formatted string, NULL when memory is short. */
static char *xprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(s = malloc((size_t)n + 1)))
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* d->pdb_note = text (NULL when memory was short). */
static void set_note(struct wdt_kdbg *d, char *text)
{
	free(d->pdb_note);
	d->pdb_note = text;
}

int wdt_kdbg_find(struct wdt_kernel *k, const struct wdt_symopts *sym,
		  struct wdt_kdbg *d, struct wdt_err *err)
{
	struct wdt_pdb *pdb = NULL;
	char *path = NULL;
	struct wdt_err e;

	memset(d, 0, sizeof(*d));
	if (!k->pe)
		return wdt_err_set(err, WDT_INTERNAL, "kernel not located");
	if (!sym) {
		set_note(d, strdup(WDT_KDBG_NOTE_NO_PDB));
	} else if (wdt_kernel_open_pdb(k, sym, &pdb, &path, &d->pdb_miss, &e) <
		   0) {
		if (sym->pdb_file) {
			*err = e;
			return -1;
		}
		if (d->pdb_miss.why)
			set_note(d, wdt_symstore_miss_note(
					k->cv.pdb_name, k->cv.guid, k->cv.age,
					&d->pdb_miss, NULL, sym->remedies));
		else
			set_note(d, strdup(e.msg));
		wdt_attempt_add(&k->log, "pdb", "symbol-path", false, "%s",
				d->pdb_note ? d->pdb_note : e.msg);
	} else {
		wdt_attempt_add(&k->log, "pdb", "symbol-path", true, "%s",
				path);
	}
	if (pdb) {
		if (find_with_pdb(k, pdb, d, &e) == 0) {
			d->pdb_used = true;
			d->pdb_path = path;
			path = NULL;
			check_block(k, d);
			wdt_attempt_add(&k->log, "kdbg", "pdb", true,
					"nt!KdDebuggerDataBlock at 0x%" PRIx64,
					d->va);
		} else {
			char *note = xprintf("PDB %s did not give a usable "
					     "block: %s",
					     path, e.msg);

			wdt_attempt_add(&k->log, "kdbg", "pdb", false, "%s",
					e.msg);
			wdt_kdbg_free(d);
			memset(d, 0, sizeof(*d));
			d->pdb_note = note;
		}
	}
	if (!d->plain) {
		char *note = d->pdb_note;
		struct wdt_symstore_miss miss = d->pdb_miss;

		/* find_without_pdb() fills *d afresh. */
		d->pdb_note = NULL;
		memset(&d->pdb_miss, 0, sizeof(d->pdb_miss));
		if (find_without_pdb(k, d, err) < 0) {
			char tried[600];
			wdt_attempts_summary(&k->log, "kdbg", tried,
					     sizeof(tried));
			wdt_err_prefix(err, "%s%s%s", tried,
				       note ? "; PDB: " : "", note ? note : "");
			free(note);
			wdt_symstore_miss_free(&miss);
			wdt_pdb_close(pdb);
			free(path);
			return -1;
		}
		d->pdb_note = note;
		d->pdb_miss = miss;
	}
	find_version(k, pdb, d);
	wdt_pdb_close(pdb);
	free(path);
	return 0;
}

int wdt_kdbg_prcbs(const struct wdt_kernel *k, const struct wdt_kdbg *d,
		   uint64_t *prcbs, uint32_t max, uint32_t *n,
		   struct wdt_err *err)
{
	uint64_t kpb = wdt_kdbg_get(d, WDT_KDBG_KI_PROCESSOR_BLOCK, 8);
	struct wdt_err e;

	*n = 0;
	for (uint32_t i = 0; i < max; i++) {
		if (wdt_kernel_read_u64(k, kpb + 8ull * i, &prcbs[i], &e) < 0 ||
		    !prcbs[i])
			break;
		(*n)++;
	}
	if (!*n)
		return wdt_err_set(err, WDT_CORRUPT,
				   "KiProcessorBlock at 0x%" PRIx64
				   " lists no processor",
				   kpb);
	return 0;
}

int wdt_kdbg_prcb_context(const struct wdt_kernel *k, const struct wdt_kdbg *d,
			  uint64_t prcb, uint64_t *va, struct wdt_err *err)
{
	uint32_t off =
	    (uint32_t)wdt_kdbg_get(d, WDT_KDBG_OFFSET_PRCB_CONTEXT, 2);

	if (off)
		return wdt_kernel_read_u64(k, prcb + off, va, err);
	off = (uint32_t)wdt_kdbg_get(d, WDT_KDBG_OFFSET_PRCB_PROC_STATE_CONTEXT,
				     2);
	if (!off)
		return wdt_err_set(err, WDT_NOT_FOUND,
				   "KDBG gives no KPRCB context offset");
	*va = prcb + off;
	return 0;
}

void wdt_kdbg_free(struct wdt_kdbg *d)
{
	free(d->plain);
	free(d->pdb_path);
	free(d->pdb_note);
	wdt_symstore_miss_free(&d->pdb_miss);
	d->plain = NULL;
	d->pdb_path = NULL;
	d->pdb_note = NULL;
}
