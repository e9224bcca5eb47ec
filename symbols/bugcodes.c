/* SPDX-License-Identifier: MIT */
/*
 * The bugcheck table. Names, parameter meanings and which parameter holds a
 * code address come from Microsoft's per-code "Bug Check 0x..." reference
 * pages (learn.microsoft.com, windows-hardware/drivers/debugger), names
 * cross-checked against copies of the SDK's bugcodes.h; every summary and
 * phrase is written afresh. Codes whose pages document no parameters say
 * "not documented"; pages that say "None" give "unused".
 */
#include "symbols/bugcodes.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Sorted by code: wdt_bugcode_find() is a binary search over it. An entry
 * without .blame has no parameter that names code in general; the few
 * subtypes that do are in subtypes[] below.
 */
static const struct wdt_bugcode table[] = {
	{ .code = 0x01, .name = "APC_INDEX_MISMATCH",
	  .summary =
		"A system call or worker routine unbalanced the APC state.",
	  .param = { "address of the system call or worker routine",
		     "thread's ApcStateIndex", "thread's CombinedApcDisable",
		     "0 system call, 1 worker routine" },
	  .blame = WDT_BLAME_P1 },
	{ .code = 0x03, .name = "INVALID_AFFINITY_SET",
	  .summary = "A processor affinity set was invalid; rarely seen.",
	  .param = { "not documented", "not documented", "not documented",
		     "not documented" } },
	{ .code = 0x0A, .name = "IRQL_NOT_LESS_OR_EQUAL",
	  .summary =
		"Kernel code touched a bad or pageable address at raised IRQL.",
	  .param = { "address that could not be accessed", "IRQL at the fault",
		     "access kind: bit 0 write, bit 3 execute",
		     "instruction pointer at the fault" },
	  .blame = WDT_BLAME_P4 },
	{ .code = 0x18, .name = "REFERENCE_BY_POINTER",
	  .summary =
		"An object's reference count was wrong when it was lowered.",
	  .param = { "type of the object", "object whose count was lowered",
		     "reserved", "reserved" } },
	{ .code = 0x19, .name = "BAD_POOL_HEADER",
	  .summary = "A pool block header was found corrupt.",
	  .param = { "kind of corruption (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0x1A, .name = "MEMORY_MANAGEMENT",
	  .summary = "The memory manager found a severe inconsistency.",
	  .param = { "kind of violation (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0x1E, .name = "KMODE_EXCEPTION_NOT_HANDLED",
	  .summary = "A kernel-mode exception reached no handler.",
	  .param = { "exception code", "address where the exception was raised",
		     "exception information word 0",
		     "exception information word 1" },
	  .blame = WDT_BLAME_P2 },
	{ .code = 0x20, .name = "KERNEL_APC_PENDING_DURING_EXIT",
	  .summary = "A thread exited while an APC was still pending for it.",
	  .param = { "address of the pending APC", "thread's APC disable count",
		     "current IRQL", "reserved" } },
	{ .code = 0x24, .name = "NTFS_FILE_SYSTEM",
	  .summary = "The NTFS driver hit a fatal error.",
	  .param = { "source file id (high 16 bits) and line (low 16)",
		     "exception record, if NtfsExceptionFilter ran",
		     "context record, if NtfsExceptionFilter ran",
		     "reserved" } },
	{ .code = 0x27, .name = "RDR_FILE_SYSTEM",
	  .summary = "The SMB redirector file system hit a fatal error.",
	  .param = { "kind of problem in the high 16 bits",
		     "exception record, if RxExceptionFilter ran",
		     "context record, if RxExceptionFilter ran", "reserved" } },
	{ .code = 0x2E, .name = "DATA_BUS_ERROR",
	  .summary =
		"A parity or bus error hit memory; almost always hardware.",
	  .param = { "virtual address that faulted",
		     "physical address that faulted",
		     "processor status register",
		     "faulting instruction register" },
	  .blame = WDT_BLAME_P4 },
	{ .code = 0x34, .name = "CACHE_MANAGER",
	  .summary = "The file system cache manager hit a fatal error.",
	  .param = { "source file id (high 16 bits) and line (low 16)",
		     "reserved", "reserved", "reserved" } },
	{ .code = 0x35, .name = "NO_MORE_IRP_STACK_LOCATIONS",
	  .summary = "IoCallDriver got an IRP with no stack location left.",
	  .param = { "address of the IRP", "reserved", "reserved",
		     "reserved" } },
	{ .code = 0x3B, .name = "SYSTEM_SERVICE_EXCEPTION",
	  .summary = "An exception escaped while a system service was running.",
	  .param = { "exception code", "address of the faulting instruction",
		     "context record of the exception", "unused (0)" },
	  .blame = WDT_BLAME_P2 },
	{ .code = 0x3D, .name = "INTERRUPT_EXCEPTION_NOT_HANDLED",
	  .summary = "An exception during interrupt handling went unhandled.",
	  .param = { "exception record, when available",
		     "context record, when available", "unused (0)",
		     "unused (0)" } },
	{ .code = 0x3F, .name = "NO_MORE_SYSTEM_PTES",
	  .summary =
		"System page table entries ran out or became too fragmented.",
	  .param = { "PTE kind: 0 system expansion, 1 nonpaged pool",
		     "size of the request", "free system PTEs",
		     "total system PTEs" } },
	{ .code = 0x44, .name = "MULTIPLE_IRP_COMPLETE_REQUESTS",
	  .summary = "A driver completed an IRP that was already complete.",
	  .param = { "address of the IRP", "reserved", "reserved",
		     "reserved" } },
	{ .code = 0x4A, .name = "IRQL_GT_ZERO_AT_SYSTEM_SERVICE",
	  .summary = "A system call returned to user mode above PASSIVE_LEVEL.",
	  .param = { "address of the system call routine", "current IRQL",
		     "unused (0)", "unused (0)" },
	  .blame = WDT_BLAME_P1 },
	{ .code = 0x4E, .name = "PFN_LIST_CORRUPT",
	  .summary = "The page frame number (PFN) database is corrupt.",
	  .param = { "kind of corruption (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0x50, .name = "PAGE_FAULT_IN_NONPAGED_AREA",
	  .summary = "Kernel code referenced system memory that is not valid.",
	  .param = { "address referenced",
		     "access: 0 read, 2 write, 0x10 execute (old: 1 write)",
		     "address of the referencing instruction, if known",
		     "kind of fault (e.g. 2 no page table, 4 non-canonical)" },
	  .blame = WDT_BLAME_P3 },
	{ .code = 0x51, .name = "REGISTRY_ERROR",
	  .summary = "The registry suffered a severe failure.",
	  .param = { "reserved", "reserved", "the hive, if known",
		     "HvCheckHive result, if the hive is corrupt" } },
	{ .code = 0x5C, .name = "HAL_INITIALIZATION_FAILED",
	  .summary =
		"The hardware abstraction layer failed to initialise at boot.",
	  .param = { "not documented", "not documented", "not documented",
		     "not documented" } },
	{ .code = 0x6B, .name = "PROCESS1_INITIALIZATION_FAILED",
	  .summary = "Windows failed to initialise during startup.",
	  .param = { "NTSTATUS of the failure", "reserved", "reserved",
		     "reserved" } },
	{ .code = 0x74, .name = "BAD_SYSTEM_CONFIG_INFO",
	  .summary = "The system configuration in the registry is bad.",
	  .param = { "reserved", "reserved", "reserved",
		     "NTSTATUS, if available" } },
	{ .code = 0x77, .name = "KERNEL_STACK_INPAGE_ERROR",
	  .summary = "A kernel stack page could not be read back into memory.",
	  .param = { "status, or 0/1/2 for where a bad page came from",
		     "I/O status, or the value found at the signature",
		     "paging file number, or 0",
		     "offset in the paging file, or where the signature is" } },
	{ .code = 0x7A, .name = "KERNEL_DATA_INPAGE_ERROR",
	  .summary = "Kernel data could not be paged in from the paging file.",
	  .param = { "lock type held (1-4), or address of the PTE",
		     "error status, usually an I/O status",
		     "process, 0, InPageSupport block or PTE contents",
		     "virtual address that could not be paged in" } },
	{ .code = 0x7B, .name = "INACCESSIBLE_BOOT_DEVICE",
	  .summary = "Windows lost access to the system partition during boot.",
	  .param = { "ARC name string, or device object that failed to mount",
		     "unused (0)", "unused (0)", "unused (0)" } },
	{ .code = 0x7D, .name = "INSTALL_MORE_MEMORY",
	  .summary = "There is too little memory to start Windows.",
	  .param = { "physical pages found", "lowest physical page",
		     "highest physical page", "unused (0)" } },
	{ .code = 0x7E, .name = "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED",
	  .summary =
		"A system thread raised an exception that nothing handled.",
	  .param = { "exception code", "address where the exception was raised",
		     "address of the exception record",
		     "address of the context record" },
	  .blame = WDT_BLAME_P2 },
	{ .code = 0x7F, .name = "UNEXPECTED_KERNEL_MODE_TRAP",
	  .summary =
		"The kernel could not handle a CPU trap, e.g. a double fault.",
	  .param = { "trap number (8 is a double fault)", "not documented",
		     "not documented", "not documented" } },
	{ .code = 0x80, .name = "NMI_HARDWARE_FAILURE",
	  .summary =
		"A non-maskable interrupt signalled a hardware malfunction.",
	  .param = { "unused", "unused", "unused", "unused" } },
	{ .code = 0x8B, .name = "MBR_CHECKSUM_MISMATCH",
	  .summary =
		"The MBR checksum differs between the loader and the kernel.",
	  .param = { "disk signature from the MBR",
		     "MBR checksum the loader computed",
		     "MBR checksum the system computed", "reserved" } },
	{ .code = 0x8E, .name = "KERNEL_MODE_EXCEPTION_NOT_HANDLED",
	  .summary = "A kernel-mode exception went uncaught.",
	  .param = { "exception code", "address where the exception was raised",
		     "address of the trap frame", "reserved" },
	  .blame = WDT_BLAME_P2 },
	{ .code = 0x96, .name = "INVALID_WORK_QUEUE_ITEM",
	  .summary =
		"A work queue entry with a NULL link was taken off a queue.",
	  .param = { "queue entry with the NULL link",
		     "queue in use (normally an ExWorkerQueue)",
		     "base of the ExWorkerQueue array",
		     "worker routine the item would have run" },
	  .blame = WDT_BLAME_P4 },
	{ .code = 0x9C, .name = "MACHINE_CHECK_EXCEPTION",
	  .summary = "The processor reported a fatal machine check.",
	  .param = { "MCA bank number (old CPUs: low P5_MC_TYPE)",
		     "address of the MCA_EXCEPTION record",
		     "high half of MCi_STATUS (old: of P5_MC_ADDR)",
		     "low half of MCi_STATUS (old: of P5_MC_ADDR)" } },
	{ .code = 0x9F, .name = "DRIVER_POWER_STATE_FAILURE",
	  .summary =
		"A driver left a power request unfinished or in a bad state.",
	  .param = { "kind of failure (3: an IRP blocked too long)",
		     "depends on P1", "depends on P1", "depends on P1" } },
	{ .code = 0xA0, .name = "INTERNAL_POWER_ERROR",
	  .summary = "The power policy manager hit a fatal error.",
	  .param = { "kind of violation (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0xA5, .name = "ACPI_BIOS_ERROR",
	  .summary =
		"The firmware's ACPI support breaks the ACPI specification.",
	  .param = { "kind of incompatibility (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0xAB, .name = "SESSION_HAS_VALID_POOL_ON_EXIT",
	  .summary =
		"A session unloaded while a session driver still held pool.",
	  .param = { "session ID", "paged pool bytes leaked",
		     "nonpaged pool bytes leaked",
		     "leaked allocations: nonpaged high half, paged low" } },
	{ .code = 0xB8, .name = "ATTEMPTED_SWITCH_FROM_DPC",
	  .summary =
		"A DPC routine tried to wait, attach to a process or yield.",
	  .param = { "thread that was running", "thread it would switch to",
		     "stack address of the first thread", "reserved" } },
	{ .code = 0xBE, .name = "ATTEMPTED_WRITE_TO_READONLY_MEMORY",
	  .summary = "A driver tried to write to read-only memory.",
	  .param = { "virtual address of the write", "PTE contents", "reserved",
		     "reserved" } },
	{ .code = 0xC1, .name = "SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION",
	  .summary =
		"Special pool caught a driver writing outside its allocation.",
	  .param = { "address the driver tried to free", "depends on P4",
		     "depends on P4", "kind of corruption (subtype)" } },
	{ .code = 0xC2, .name = "BAD_POOL_CALLER",
	  .summary = "The current thread made a bad pool request.",
	  .param = { "kind of violation (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0xC4, .name = "DRIVER_VERIFIER_DETECTED_VIOLATION",
	  .summary = "Driver Verifier caught a driver breaking a rule.",
	  .param = { "kind of violation (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0xC5, .name = "DRIVER_CORRUPTED_EXPOOL",
	  .summary =
		"Bad memory touched at raised IRQL; pool is probably corrupt.",
	  .param = { "address referenced", "IRQL at the time",
		     "0 read, 1 write",
		     "address of the referencing instruction" },
	  .blame = WDT_BLAME_P4 },
	{ .code = 0xC6, .name = "DRIVER_CAUGHT_MODIFYING_FREED_POOL",
	  .summary = "A driver touched pool memory that was already freed.",
	  .param = { "address referenced", "0 read, 1 write",
		     "0 kernel mode, 1 user mode", "reserved" } },
	{ .code = 0xC7, .name = "TIMER_OR_DPC_INVALID",
	  .summary =
		"A kernel timer or DPC was found in memory where none may be.",
	  .param = { "what was found (0 timer, 1 DPC, 2 DPC routine, ...)",
		     "the timer, DPC or DPC routine",
		     "start of the range checked (other for 3-5)",
		     "end of the range checked (other for 3-5)" } },
	{ .code = 0xC8, .name = "IRQL_UNEXPECTED_VALUE",
	  .summary = "IRQL was not the expected value after a call returned.",
	  .param = { "current << 16 | expected << 8 | unique value",
		     "APC, callout or interrupt routine (unique value 0-3)",
		     "APC, callout parameter or KINTERRUPT",
		     "APC NormalRoutine, for unique values 0 and 1" } },
	{ .code = 0xC9, .name = "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
	  .summary =
		"Driver Verifier's I/O checks caught a driver misusing I/O.",
	  .param = { "kind of violation (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0xCA, .name = "PNP_DETECTED_FATAL_ERROR",
	  .summary =
		"Plug and Play hit a severe error, usually a driver's fault.",
	  .param = { "kind of violation (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0xCB, .name = "DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS",
	  .summary = "Pages locked for an I/O were not released after it.",
	  .param = { "internal lock tracking structure", "reserved (0)",
		     "MDL describing the locked pages",
		     "number of locked pages" } },
	{ .code = 0xCC, .name = "PAGE_FAULT_IN_FREED_SPECIAL_POOL",
	  .summary = "The system touched special pool memory already freed.",
	  .param = { "address referenced", "0 read, 1 write",
		     "address of the referencing instruction, if known",
		     "reserved" },
	  .blame = WDT_BLAME_P3 },
	{ .code = 0xCD, .name = "PAGE_FAULT_BEYOND_END_OF_ALLOCATION",
	  .summary =
		"The system went past the end of a special pool allocation.",
	  .param = { "address referenced", "0 read, 1 write",
		     "address of the referencing instruction, if known",
		     "reserved" },
	  .blame = WDT_BLAME_P3 },
	{ .code = 0xCE,
	  .name = "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS",
	  .summary = "A driver unloaded without cancelling its pending work.",
	  .param = { "address referenced", "0 read, 1 write",
		     "address of the referencing instruction, if known",
		     "reserved" },
	  .blame = WDT_BLAME_P3 },
	{ .code = 0xD0, .name = "DRIVER_CORRUPTED_MMPOOL",
	  .summary =
		"Invalid memory was touched at raised IRQL; a driver hit pool.",
	  .param = { "address referenced", "IRQL at the time",
		     "0 read, 1 write",
		     "address of the referencing instruction" },
	  .blame = WDT_BLAME_P4 },
	{ .code = 0xD1, .name = "DRIVER_IRQL_NOT_LESS_OR_EQUAL",
	  .summary =
		"A driver touched pageable or invalid memory at raised IRQL.",
	  .param = { "address referenced", "IRQL at the time",
		     "0 read, 1 write, 2 or 8 execute",
		     "address of the referencing instruction" },
	  .blame = WDT_BLAME_P4 },
	{ .code = 0xD3, .name = "DRIVER_PORTION_MUST_BE_NONPAGED",
	  .summary = "Pageable driver memory was touched at raised IRQL.",
	  .param = { "address referenced", "IRQL at the time",
		     "0 read, 1 write",
		     "address of the referencing instruction" },
	  .blame = WDT_BLAME_P4 },
	{ .code = 0xD5, .name = "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL",
	  .summary =
		"A driver touched special pool memory that was already freed.",
	  .param = { "address referenced", "0 read, 1 write",
		     "address of the referencing instruction, if known",
		     "reserved" },
	  .blame = WDT_BLAME_P3 },
	{ .code = 0xD6, .name = "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION",
	  .summary =
		"A driver went past the end of its special pool allocation.",
	  .param = { "address referenced", "0 read, 1 write",
		     "address of the referencing instruction, if known",
		     "reserved" },
	  .blame = WDT_BLAME_P3 },
	{ .code = 0xD8, .name = "DRIVER_USED_EXCESSIVE_PTES",
	  .summary =
		"System page table entries ran out; a driver took too many.",
	  .param = { "driver name (UNICODE_STRING), or 0",
		     "PTEs that driver used, if P1 is set", "free system PTEs",
		     "total system PTEs" } },
	{ .code = 0xDA, .name = "SYSTEM_PTE_MISUSE",
	  .summary = "A page table entry routine was used improperly.",
	  .param = { "kind of violation (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0xDF, .name = "IMPERSONATING_WORKER_THREAD",
	  .summary = "A work item returned without ending its impersonation.",
	  .param = { "the worker routine", "parameter given to the routine",
		     "the work item", "reserved" },
	  .blame = WDT_BLAME_P1 },
	{ .code = 0xE2, .name = "MANUALLY_INITIATED_CRASH",
	  .summary =
		"A user forced a crash from the keyboard or kernel debugger.",
	  .param = { "unused", "unused", "unused", "unused" } },
	{ .code = 0xE6, .name = "DRIVER_VERIFIER_DMA_VIOLATION",
	  .summary = "DMA verification caught a driver or device misusing DMA.",
	  .param = { "kind of violation (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0xEA, .name = "THREAD_STUCK_IN_DEVICE_DRIVER",
	  .summary = "A thread in a device driver kept spinning without end.",
	  .param = { "the stuck thread", "the DEFERRED_WATCHDOG object",
		     "name of the offending driver",
		     "times caught (debugger), or 1 (blue screen)" } },
	{ .code = 0xED, .name = "UNMOUNTABLE_BOOT_VOLUME",
	  .summary = "Mounting the boot volume failed.",
	  .param = { "device object of the boot volume",
		     "file system status explaining the failure", "reserved",
		     "reserved" } },
	{ .code = 0xEF, .name = "CRITICAL_PROCESS_DIED",
	  .summary = "A process Windows cannot run without has terminated.",
	  .param = { "the process object",
		     "0 a process ended, 1 a thread ended", "reserved",
		     "reserved" } },
	{ .code = 0xF2, .name = "HARDWARE_INTERRUPT_STORM",
	  .summary = "The kernel saw an interrupt storm on one vector.",
	  .param = { "ISR (first in the chain) of the storming vector",
		     "ISR context", "interrupt object of the storming vector",
		     "1 ISR not chained, 2 chained" },
	  .blame = WDT_BLAME_P1 },
	{ .code = 0xF4, .name = "CRITICAL_OBJECT_TERMINATION",
	  .summary =
		"A process or thread crucial to the system ended unexpectedly.",
	  .param = { "object type: 3 process, 6 thread",
		     "the terminating object", "image file name of the process",
		     "ASCII message explaining the stop" } },
	{ .code = 0xF5, .name = "FLTMGR_FILE_SYSTEM",
	  .summary = "The filter manager hit an unrecoverable failure.",
	  .param = { "kind of violation (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0xF7, .name = "DRIVER_OVERRAN_STACK_BUFFER",
	  .summary =
		"A driver overran a stack buffer and broke its /GS cookie.",
	  .param = { "cookie value found on the stack", "cookie value expected",
		     "bitwise complement of the expected cookie",
		     "unused (0)" } },
	{ .code = 0xFC, .name = "ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY",
	  .summary = "The CPU was made to execute memory marked no-execute.",
	  .param = { "address whose execution was attempted", "PTE contents",
		     "reserved", "reserved" },
	  .blame = WDT_BLAME_P1 },
	{ .code = 0xFE, .name = "BUGCODE_USB_DRIVER",
	  .summary = "A USB driver hit a fatal error.",
	  .param = { "kind of violation (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0x101, .name = "CLOCK_WATCHDOG_TIMEOUT",
	  .summary = "A secondary CPU missed its clock interrupt for too long.",
	  .param = { "timeout in nominal clock ticks", "unused (0)",
		     "PRCB of the unresponsive processor",
		     "index of the hung processor" } },
	{ .code = 0x102, .name = "DPC_WATCHDOG_TIMEOUT",
	  .summary =
		"The DPC watchdog routine did not run within its interval.",
	  .param = { "timeout in nominal clock ticks",
		     "PRCB of the hung processor", "reserved", "reserved" } },
	{ .code = 0x109, .name = "CRITICAL_STRUCTURE_CORRUPTION",
	  .summary = "The kernel found critical kernel code or data modified.",
	  .param = { "reserved", "reserved", "reserved",
		     "kind of region that was corrupted" } },
	{ .code = 0x10D, .name = "WDF_VIOLATION",
	  .summary =
		"The kernel-mode driver framework found an error in a driver.",
	  .param = { "kind of error (subtype)", "depends on P1",
		     "depends on P1", "reserved" } },
	{ .code = 0x10E, .name = "VIDEO_MEMORY_MANAGEMENT_INTERNAL",
	  .summary =
		"The video memory manager reached a state it cannot leave.",
	  .param = { "kind of video memory error (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0x113, .name = "VIDEO_DXGKRNL_FATAL_ERROR",
	  .summary =
		"The DirectX graphics kernel (dxgkrnl) stopped on a violation.",
	  .param = { "not documented", "not documented", "not documented",
		     "not documented" } },
	{ .code = 0x116, .name = "VIDEO_TDR_FAILURE",
	  .summary = "Resetting a display driver after a GPU timeout failed.",
	  .param = { "TDR recovery context, if available",
		     "pointer into the responsible driver module",
		     "status of the last failed operation, if available",
		     "context-dependent internal data, if available" },
	  .blame = WDT_BLAME_P2 },
	{ .code = 0x117, .name = "VIDEO_TDR_TIMEOUT_DETECTED",
	  .summary = "Live dump: the display driver did not respond in time.",
	  .param = { "TDR recovery context, if available",
		     "pointer into the responsible driver module",
		     "secondary driver-specific bucketing key",
		     "context-dependent internal data, if available" },
	  .blame = WDT_BLAME_P2 },
	{ .code = 0x119, .name = "VIDEO_SCHEDULER_INTERNAL_ERROR",
	  .summary = "The GPU scheduler found a rule broken and cannot go on.",
	  .param = { "kind of violation (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0x11B, .name = "DRIVER_RETURNED_HOLDING_CANCEL_LOCK",
	  .summary =
		"A cancel routine returned still holding the cancel spin lock.",
	  .param = { "the cancelled IRP (may be invalid)", "the cancel routine",
		     "not documented", "not documented" },
	  .blame = WDT_BLAME_P2 },
	{ .code = 0x121, .name = "DRIVER_VIOLATION",
	  .summary = "A driver called a function at an IRQL it does not allow.",
	  .param = { "1 IRQL is not the one required, 2 too high",
		     "current IRQL", "required or highest allowed IRQL",
		     "reserved" } },
	{ .code = 0x122, .name = "WHEA_INTERNAL_ERROR",
	  .summary = "The Windows hardware error architecture itself failed.",
	  .param = { "kind of violation (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0x124, .name = "WHEA_UNCORRECTABLE_ERROR",
	  .summary = "Hardware reported an error it could not correct.",
	  .param = { "error source type (0 machine check, 4 PCIe, ...)",
		     "address of the WHEA_ERROR_RECORD",
		     "for P1 0: high half of MCi_STATUS",
		     "for P1 0: low half of MCi_STATUS" } },
	{ .code = 0x127, .name = "PAGE_NOT_ZERO",
	  .summary = "A page that should have been zero-filled was not.",
	  .param = { "virtual address mapping the page", "physical page number",
		     "reserved (0)", "reserved (0)" } },
	{ .code = 0x12B, .name = "FAULTY_HARDWARE_CORRUPTED_PAGE",
	  .summary = "Memory was corrupted through a physical-address access.",
	  .param = { "mapping virtual address, or store failure status",
		     "physical page number, or compressed size",
		     "0, or source buffer", "0, or target buffer" } },
	{ .code = 0x133, .name = "DPC_WATCHDOG_VIOLATION",
	  .summary =
		"A DPC ran too long, or a CPU sat at DISPATCH_LEVEL too long.",
	  .param = { "0 one DPC or ISR too long, 1 cumulative",
		     "DPC time in ticks, or the watchdog period",
		     "time allotment in ticks, or triage block",
		     "triage block when P1 is 0, else reserved" } },
	{ .code = 0x139, .name = "KERNEL_SECURITY_CHECK_FAILURE",
	  .summary =
		"A kernel fast-fail integrity check tripped on corrupt data.",
	  .param = { "kind of corruption (e.g. 3 LIST_ENTRY)",
		     "address of the trap frame",
		     "address of the exception record", "reserved" } },
	{ .code = 0x13A, .name = "KERNEL_MODE_HEAP_CORRUPTION",
	  .summary = "A kernel-mode heap failed the heap manager's checks.",
	  .param = { "kind of corruption", "heap that reported it",
		     "address where the corruption was found", "reserved" } },
	{ .code = 0x141, .name = "VIDEO_ENGINE_TIMEOUT_DETECTED",
	  .summary = "Live dump: a display engine did not respond in time.",
	  .param = { "TDR recovery context, if any",
		     "pointer into the responsible driver module",
		     "secondary driver-specific bucketing key",
		     "context-dependent internal data, if any" },
	  .blame = WDT_BLAME_P2 },
	{ .code = 0x144, .name = "BUGCODE_USB3_DRIVER",
	  .summary = "The USB 3 stack hit a fatal error.",
	  .param = { "kind of violation (subtype)", "depends on P1",
		     "depends on P1", "depends on P1" } },
	{ .code = 0x14F, .name = "PDC_WATCHDOG_TIMEOUT",
	  .summary =
		"A component held the system in connected standby too long.",
	  .param = { "client ID of the hung component",
		     "client type of the component", "depends on P2",
		     "depends on P2" } },
	{ .code = 0x154, .name = "UNEXPECTED_STORE_EXCEPTION",
	  .summary = "An unexpected exception hit the kernel memory store.",
	  .param = { "store context or data manager", "exception information",
		     "reserved", "reserved" } },
	{ .code = 0x15F, .name = "CONNECTED_STANDBY_WATCHDOG_TIMEOUT_LIVEDUMP",
	  .summary =
		"Live dump: connected standby did not reach low power in time.",
	  .param = { "watchdog subcode", "depends on P1", "depends on P1",
		     "depends on P1" } },
	{ .code = 0x160, .name = "WIN32K_ATOMIC_CHECK_FAILURE",
	  .summary = "A Win32k function broke an ATOMICCHECK assertion.",
	  .param = { "functions on the stack inside an atomic operation",
		     "reserved", "reserved", "reserved" } },
	{ .code = 0x161, .name = "LIVE_SYSTEM_DUMP",
	  .summary =
		"Live dump: an administrator asked for a live memory dump.",
	  .param = { "requester tag, e.g. \"Taskmgr\" as ASCII", "reserved",
		     "reserved", "reserved" } },
	{ .code = 0x17E, .name = "MICROCODE_REVISION_MISMATCH",
	  .summary =
		"Processors in the system run different microcode revisions.",
	  .param = { "CPUID signature of the mismatching processor",
		     "expected microcode revision",
		     "reported microcode revision",
		     "index of the mismatching processor" } },
	{ .code = 0x187, .name = "VIDEO_DWMINIT_TIMEOUT_FALLBACK_BDD",
	  .summary =
		"Live dump: DWM failed to start, so video fell back to BDD.",
	  .param = { "reason code (1: DWM failed after retries)", "reserved",
		     "reserved", "reserved" } },
	{ .code = 0x191, .name = "PF_DETECTED_CORRUPTION",
	  .summary =
		"Corruption was detected; no public detail beyond the name.",
	  .param = { "reserved", "reserved", "reserved", "reserved" } },
	{ .code = 0x193, .name = "VIDEO_DXGKRNL_LIVEDUMP",
	  .summary = "Live dump taken by the DirectX graphics kernel.",
	  .param = { "reason code (0x100 internal)", "reserved", "reserved",
		     "reserved" } },
	{ .code = 0x1A3,
	  .name = "CALL_HAS_NOT_RETURNED_WATCHDOG_TIMEOUT_LIVEDUMP",
	  .summary = "Live dump: a call did not return within its timeout.",
	  .param = { "process of the waiting thread",
		     "thread whose call is stuck", "timeout in milliseconds",
		     "the _PO_CALL_HAS_NOT_RETURNED_WATCHDOG" } },
	{ .code = 0x1C7, .name = "STORE_DATA_STRUCTURE_CORRUPTION",
	  .summary = "The memory store found its own data structures corrupt.",
	  .param = { "corruption ID", "depends on P1", "depends on P1",
		     "depends on P1" } },
	{ .code = 0x1C8, .name = "MANUALLY_INITIATED_POWER_BUTTON_HOLD",
	  .summary =
		"The power button was held down long enough to force a dump.",
	  .param = { "milliseconds the button was held",
		     "the _POP_POWER_BUTTON_TRIAGE_BLOCK", "reserved",
		     "reserved" } },
	{ .code = 0x1CA, .name = "SYNTHETIC_WATCHDOG_TIMEOUT",
	  .summary =
		"A system-wide watchdog expired; timer ticks went unserved.",
	  .param = { "interrupt time since the watchdog was last reset",
		     "current interrupt time", "current QPC timestamp",
		     "index of the clock processor" } },
	{ .code = 0x1D4, .name = "UCMUCSI_LIVEDUMP",
	  .summary =
		"Live dump: the USB Type-C UCSI class extension hit an error.",
	  .param = { "0 command timed out, 1 command failed",
		     "the UCSI command", "UCMUCSICX_TRIAGE data, if nonzero",
		     "reserved" } },
	{ .code = 0x1E4, .name = "VIDEO_DXGKRNL_SYSMM_FATAL_ERROR",
	  .summary =
		"dxgkrnl's system memory manager stopped on a broken rule.",
	  .param = { "kind of violation (subcode)", "reserved", "reserved",
		     "reserved" } },
	{ .code = 0x20001, .name = "HYPERVISOR_ERROR",
	  .summary = "The hypervisor hit a fatal error.",
	  .param = { "reserved", "reserved", "reserved", "reserved" } },
	{ .code = 0x1000007E, .name = "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M",
	  .summary = "As 0x7E: a system thread's exception went unhandled.",
	  .param = { "exception code", "address where the exception was raised",
		     "address of the exception record",
		     "address of the context record" },
	  .blame = WDT_BLAME_P2 },
	{ .code = 0x1000007F, .name = "UNEXPECTED_KERNEL_MODE_TRAP_M",
	  .summary =
		"As 0x7F: the CPU raised a trap the kernel could not take.",
	  .param = { "trap number (8 is a double fault)", "not documented",
		     "not documented", "not documented" } },
	{ .code = 0x1000008E, .name = "KERNEL_MODE_EXCEPTION_NOT_HANDLED_M",
	  .summary = "As 0x8E: a kernel-mode exception went uncaught.",
	  .param = { "exception code", "address where the exception was raised",
		     "address of the trap frame", "reserved" },
	  .blame = WDT_BLAME_P2 },
	{ .code = 0x100000EA, .name = "THREAD_STUCK_IN_DEVICE_DRIVER_M",
	  .summary = "As 0xEA: a thread in a device driver kept spinning.",
	  .param = { "the stuck thread", "the DEFERRED_WATCHDOG object",
		     "name of the offending driver",
		     "times caught (debugger), or 1 (blue screen)" } },
	{ .code = 0xC000021A, .name = "WINLOGON_FATAL_ERROR",
	  .summary = "The Winlogon process ended unexpectedly.",
	  .param = { "string naming the problem", "error code", "reserved",
		     "reserved" } },
	{ .code = 0xDEADDEAD, .name = "MANUALLY_INITIATED_CRASH1",
	  .summary = "A crash was initiated by hand.",
	  .param = { "reserved", "reserved", "reserved", "reserved" } },
};

/*
 * Subtypes (selected by P1) whose row in the reference names a routine or
 * caller address although the code as a whole blames nothing. For 0xC8
 * only the low byte of P1 selects: P1 is current IRQL << 16 | expected
 * IRQL << 8 | a unique value, and values 0-3 put the routine in P2.
 */
struct subtype_blame {
	uint32_t code;
	uint64_t mask;
	uint64_t p1;
	enum wdt_blame blame;
};

#define ALL UINT64_MAX
static const struct subtype_blame subtypes[] = {
	{ 0xA0, ALL, 0x900, WDT_BLAME_P2 },  /* power-setting callback */
	{ 0xC2, ALL, 0x9B, WDT_BLAME_P4 },   /* caller of the pool request */
	{ 0xC2, ALL, 0x9C, WDT_BLAME_P4 },
	{ 0xC2, ALL, 0x9D, WDT_BLAME_P4 },
	{ 0xC4, ALL, 0xC1, WDT_BLAME_P2 },   /* dispatch routine */
	{ 0xC4, ALL, 0xC3, WDT_BLAME_P2 },   /* fast I/O dispatch routine */
	{ 0xC4, ALL, 0xC5, WDT_BLAME_P2 },
	{ 0xC4, ALL, 0xC6, WDT_BLAME_P2 },
	{ 0xC4, ALL, 0xDA, WDT_BLAME_P3 },   /* WMI callback left registered */
	{ 0xC4, ALL, 0xDD, WDT_BLAME_P2 },   /* the call to EtwRegister */
	{ 0xC4, ALL, 0xE3, WDT_BLAME_P2 },   /* the call to the Zw API */
	{ 0xC4, ALL, 0xE4, WDT_BLAME_P2 },
	{ 0xC4, ALL, 0xE6, WDT_BLAME_P2 },
	{ 0xC4, ALL, 0xF6, WDT_BLAME_P4 },   /* the bad handle reference */
	{ 0xC4, ALL, 0xFA, WDT_BLAME_P2 },   /* IRP completion routine */
	{ 0xC4, ALL, 0xFB, WDT_BLAME_P2 },
	{ 0xC4, ALL, 0xFC, WDT_BLAME_P2 },   /* the ZwNotifyChangeKey call */
	{ 0xC4, ALL, 0x110, WDT_BLAME_P2 },  /* interrupt service routine */
	{ 0xC4, ALL, 0x111, WDT_BLAME_P2 },
	{ 0xC4, ALL, 0x2000, WDT_BLAME_P2 }, /* where the error was detected */
	{ 0xC4, ALL, 0x2001, WDT_BLAME_P2 },
	{ 0xC4, ALL, 0x2002, WDT_BLAME_P2 },
	{ 0xC7, ALL, 0x2, WDT_BLAME_P2 },    /* DPC routine */
	{ 0xC7, ALL, 0x4, WDT_BLAME_P2 },
	{ 0xC7, ALL, 0x5, WDT_BLAME_P2 },
	{ 0xC8, 0xFF, 0x0, WDT_BLAME_P2 },   /* APC kernel routine */
	{ 0xC8, 0xFF, 0x1, WDT_BLAME_P2 },
	{ 0xC8, 0xFF, 0x2, WDT_BLAME_P2 },   /* callout routine */
	{ 0xC8, 0xFF, 0x3, WDT_BLAME_P2 },   /* interrupt service routine */
	{ 0xC9, ALL, 0x07, WDT_BLAME_P2 },   /* cancel routine still set */
	{ 0xC9, ALL, 0x11, WDT_BLAME_P2 },   /* fast I/O dispatch routine */
	{ 0xC9, ALL, 0x12, WDT_BLAME_P2 },   /* dispatch routine */
	{ 0xDA, ALL, 0x100, WDT_BLAME_P4 },  /* caller's caller */
	{ 0x10D, ALL, 0x4, WDT_BLAME_P3 },   /* caller passing NULL */
	{ 0x10D, ALL, 0xF, WDT_BLAME_P2 },   /* event callback */
};
#undef ALL

const struct wdt_bugcode *wdt_bugcode_table(size_t *n)
{
	if (n)
		*n = ARRAY_LEN(table);
	return table;
}

const struct wdt_bugcode *wdt_bugcode_find(uint32_t code)
{
	size_t lo = 0, hi = ARRAY_LEN(table);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (table[mid].code == code)
			return &table[mid];
		if (table[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static enum wdt_blame blame_of(const struct wdt_bugcode *e, uint64_t p1)
{
	for (size_t i = 0; i < ARRAY_LEN(subtypes); i++)
		if (subtypes[i].code == e->code &&
		    (p1 & subtypes[i].mask) == subtypes[i].p1)
			return subtypes[i].blame;
	return e->blame;
}

int wdt_bugcode_blame_param(uint32_t code, const uint64_t params[4])
{
	const struct wdt_bugcode *e = wdt_bugcode_find(code);
	enum wdt_blame b;
	int i;

	if (!e || !params)
		return -1;
	b = blame_of(e, params[0]);
	if (b == WDT_BLAME_NONE)
		return -1;
	i = (int)b - (int)WDT_BLAME_P1;
	/* "if known" parameters are 0 when the kernel did not know. */
	return params[i] ? i : -1;
}
