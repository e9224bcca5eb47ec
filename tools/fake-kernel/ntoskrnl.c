/*
 * The fake ntoskrnl of the wdt fixture factory.
 *
 * Not a kernel: a PE32+ image whose symbols, sections, exports, CodeView
 * record and PDB type records look like the real x64 Windows kernel's, so
 * that wdt's Windows logic (kernel scan, PDB lookup, KDBG decoding, KPRCB
 * contexts) can be exercised on dumps QEMU makes of a guest running it.
 * tools/mkguest fills every variable below at guest-build time (after
 * relocating the image); the code is only what the boot stub jumps into
 * (idle loop, KVA-shadow exit) plus realistic-looking routines.
 *
 * Layout facts: ../../../shared/spec/windows-kernel.md (KDBG §1, encoding
 * §2, DBGKD_GET_VERSION64 §3, KUSER_SHARED_DATA §4, KPCR/KPRCB §6,
 * CONTEXT §8). Per-build offsets come from -D macros that tools/mkguest
 * derives from layouts.json, the same table it lays the guest out with.
 */
#ifndef WDT_BUILD
#error "build with tools/mkguest --kernel-only (needs -DWDT_BUILD=... and the layout macros)"
#endif

typedef unsigned char UCHAR;
typedef unsigned short USHORT;
typedef unsigned int ULONG;
typedef unsigned long long ULONG64;
typedef long long LONG64;
typedef unsigned short WCHAR;

#define OFFSETOF(t, m) __builtin_offsetof(t, m)
#define CHECK_OFF(t, m, off) _Static_assert(OFFSETOF(t, m) == (off), #t "." #m)

typedef struct _LIST_ENTRY {
	struct _LIST_ENTRY *Flink;
	struct _LIST_ENTRY *Blink;
} LIST_ENTRY;

typedef struct _LIST_ENTRY64 {
	ULONG64 Flink;
	ULONG64 Blink;
} LIST_ENTRY64;

typedef struct _UNICODE_STRING {
	USHORT Length;
	USHORT MaximumLength;
	WCHAR *Buffer;
} UNICODE_STRING;

/* windows-kernel.md §1: DBGKD_DEBUG_DATA_HEADER64 + KDDEBUGGER_DATA64. */
typedef struct _DBGKD_DEBUG_DATA_HEADER64 {
	LIST_ENTRY64 List;
	ULONG OwnerTag;
	ULONG Size;
} DBGKD_DEBUG_DATA_HEADER64;

typedef struct _KDDEBUGGER_DATA64 {
	DBGKD_DEBUG_DATA_HEADER64 Header;
	ULONG64 KernBase;
	ULONG64 BreakpointWithStatus;
	ULONG64 SavedContext;
	USHORT ThCallbackStack;
	USHORT NextCallback;
	USHORT FramePointer;
	USHORT PaeEnabled : 1;
	ULONG64 KiCallUserMode;
	ULONG64 KeUserCallbackDispatcher;
	ULONG64 PsLoadedModuleList;
	ULONG64 PsActiveProcessHead;
	ULONG64 PspCidTable;
	ULONG64 ExpSystemResourcesList;
	ULONG64 ExpPagedPoolDescriptor;
	ULONG64 ExpNumberOfPagedPools;
	ULONG64 KeTimeIncrement;
	ULONG64 KeBugCheckCallbackListHead;
	ULONG64 KiBugcheckData;
	ULONG64 IopErrorLogListHead;
	ULONG64 ObpRootDirectoryObject;
	ULONG64 ObpTypeObjectType;
	ULONG64 MmSystemCacheStart;
	ULONG64 MmSystemCacheEnd;
	ULONG64 MmSystemCacheWs;
	ULONG64 MmPfnDatabase;
	ULONG64 MmSystemPtesStart;
	ULONG64 MmSystemPtesEnd;
	ULONG64 MmSubsectionBase;
	ULONG64 MmNumberOfPagingFiles;
	ULONG64 MmLowestPhysicalPage;
	ULONG64 MmHighestPhysicalPage;
	ULONG64 MmNumberOfPhysicalPages;
	ULONG64 MmMaximumNonPagedPoolInBytes;
	ULONG64 MmNonPagedSystemStart;
	ULONG64 MmNonPagedPoolStart;
	ULONG64 MmNonPagedPoolEnd;
	ULONG64 MmPagedPoolStart;
	ULONG64 MmPagedPoolEnd;
	ULONG64 MmPagedPoolInformation;
	ULONG64 MmPageSize;
	ULONG64 MmSizeOfPagedPoolInBytes;
	ULONG64 MmTotalCommitLimit;
	ULONG64 MmTotalCommittedPages;
	ULONG64 MmSharedCommit;
	ULONG64 MmDriverCommit;
	ULONG64 MmProcessCommit;
	ULONG64 MmPagedPoolCommit;
	ULONG64 MmExtendedCommit;
	ULONG64 MmZeroedPageListHead;
	ULONG64 MmFreePageListHead;
	ULONG64 MmStandbyPageListHead;
	ULONG64 MmModifiedPageListHead;
	ULONG64 MmModifiedNoWritePageListHead;
	ULONG64 MmAvailablePages;
	ULONG64 MmResidentAvailablePages;
	ULONG64 PoolTrackTable;
	ULONG64 NonPagedPoolDescriptor;
	ULONG64 MmHighestUserAddress;
	ULONG64 MmSystemRangeStart;
	ULONG64 MmUserProbeAddress;
	ULONG64 KdPrintCircularBuffer;
	ULONG64 KdPrintCircularBufferEnd;
	ULONG64 KdPrintWritePointer;
	ULONG64 KdPrintRolloverCount;
	ULONG64 MmLoadedUserImageList;
	ULONG64 NtBuildLab;
	ULONG64 KiNormalSystemCall;
	ULONG64 KiProcessorBlock;
	ULONG64 MmUnloadedDrivers;
	ULONG64 MmLastUnloadedDriver;
	ULONG64 MmTriageActionTaken;
	ULONG64 MmSpecialPoolTag;
	ULONG64 KernelVerifier;
	ULONG64 MmVerifierData;
	ULONG64 MmAllocatedNonPagedPool;
	ULONG64 MmPeakCommitment;
	ULONG64 MmTotalCommitLimitMaximum;
	ULONG64 CmNtCSDVersion;
	ULONG64 MmPhysicalMemoryBlock;
	ULONG64 MmSessionBase;
	ULONG64 MmSessionSize;
	ULONG64 MmSystemParentTablePage;
	ULONG64 MmVirtualTranslationBase;
	USHORT OffsetKThreadNextProcessor;
	USHORT OffsetKThreadTeb;
	USHORT OffsetKThreadKernelStack;
	USHORT OffsetKThreadInitialStack;
	USHORT OffsetKThreadApcProcess;
	USHORT OffsetKThreadState;
	USHORT OffsetKThreadBStore;
	USHORT OffsetKThreadBStoreLimit;
	USHORT SizeEProcess;
	USHORT OffsetEprocessPeb;
	USHORT OffsetEprocessParentCID;
	USHORT OffsetEprocessDirectoryTableBase;
	USHORT SizePrcb;
	USHORT OffsetPrcbDpcRoutine;
	USHORT OffsetPrcbCurrentThread;
	USHORT OffsetPrcbMhz;
	USHORT OffsetPrcbCpuType;
	USHORT OffsetPrcbVendorString;
	USHORT OffsetPrcbProcStateContext;
	USHORT OffsetPrcbNumber;
	USHORT SizeEThread;
	UCHAR L1tfHighPhysicalBitIndex;
	UCHAR L1tfSwizzleBitIndex;
	ULONG Padding0;
	ULONG64 KdPrintCircularBufferPtr;
	ULONG64 KdPrintBufferSize;
	ULONG64 KeLoaderBlock;
	USHORT SizePcr;
	USHORT OffsetPcrSelfPcr;
	USHORT OffsetPcrCurrentPrcb;
	USHORT OffsetPcrContainedPrcb;
	USHORT OffsetPcrInitialBStore;
	USHORT OffsetPcrBStoreLimit;
	USHORT OffsetPcrInitialStack;
	USHORT OffsetPcrStackLimit;
	USHORT OffsetPrcbPcrPage;
	USHORT OffsetPrcbProcStateSpecialReg;
	USHORT GdtR0Code;
	USHORT GdtR0Data;
	USHORT GdtR0Pcr;
	USHORT GdtR3Code;
	USHORT GdtR3Data;
	USHORT GdtR3Teb;
	USHORT GdtLdt;
	USHORT GdtTss;
	USHORT Gdt64R3CmCode;
	USHORT Gdt64R3CmTeb;
	ULONG64 IopNumTriageDumpDataBlocks;
	ULONG64 IopTriageDumpDataBlocks;
	ULONG64 VfCrashDataBlock;
	ULONG64 MmBadPagesDetected;
	ULONG64 MmZeroedPageSingleBitErrorsDetected;
	ULONG64 EtwpDebuggerData;
	USHORT OffsetPrcbContext;
	USHORT OffsetPrcbMaxBreakpoints;
	USHORT OffsetPrcbMaxWatchpoints;
	ULONG OffsetKThreadStackLimit;
	ULONG OffsetKThreadStackBase;
	ULONG OffsetKThreadQueueListEntry;
	ULONG OffsetEThreadIrpList;
	USHORT OffsetPrcbIdleThread;
	USHORT OffsetPrcbNormalDpcState;
	USHORT OffsetPrcbDpcStack;
	USHORT OffsetPrcbIsrStack;
	USHORT SizeKDPC_STACK_FRAME;
	USHORT OffsetKPriQueueThreadListHead;
	USHORT OffsetKThreadWaitReason;
	USHORT Padding;
	ULONG64 PteBase;
	ULONG64 RetpolineStubFunctionTable;
	ULONG RetpolineStubFunctionTableSize;
	ULONG RetpolineStubOffset;
	ULONG RetpolineStubSize;
	USHORT OffsetEProcessMmHotPatchContext;
	ULONG OffsetKThreadShadowStackLimit;
	ULONG OffsetKThreadShadowStackBase;
	ULONG64 ShadowStackEnabled;
	ULONG64 PointerAuthMask;
	USHORT OffsetPrcbExceptionStack;
} KDDEBUGGER_DATA64;

CHECK_OFF(KDDEBUGGER_DATA64, KernBase, 0x18);
CHECK_OFF(KDDEBUGGER_DATA64, KiCallUserMode, 0x38);
CHECK_OFF(KDDEBUGGER_DATA64, PsLoadedModuleList, 0x48);
CHECK_OFF(KDDEBUGGER_DATA64, KiBugcheckData, 0x88);
CHECK_OFF(KDDEBUGGER_DATA64, MmPfnDatabase, 0xC0);
CHECK_OFF(KDDEBUGGER_DATA64, NonPagedPoolDescriptor, 0x1C0);
CHECK_OFF(KDDEBUGGER_DATA64, KiProcessorBlock, 0x218);
CHECK_OFF(KDDEBUGGER_DATA64, OffsetKThreadNextProcessor, 0x298);
CHECK_OFF(KDDEBUGGER_DATA64, SizeEProcess, 0x2A8);
CHECK_OFF(KDDEBUGGER_DATA64, OffsetPrcbProcStateContext, 0x2BC);
CHECK_OFF(KDDEBUGGER_DATA64, Padding0, 0x2C4);
CHECK_OFF(KDDEBUGGER_DATA64, SizePcr, 0x2E0);
CHECK_OFF(KDDEBUGGER_DATA64, GdtR0Code, 0x2F4);
CHECK_OFF(KDDEBUGGER_DATA64, Gdt64R3CmTeb, 0x306);
CHECK_OFF(KDDEBUGGER_DATA64, IopNumTriageDumpDataBlocks, 0x308);
CHECK_OFF(KDDEBUGGER_DATA64, EtwpDebuggerData, 0x330);
CHECK_OFF(KDDEBUGGER_DATA64, OffsetPrcbContext, 0x338);
CHECK_OFF(KDDEBUGGER_DATA64, OffsetKThreadStackLimit, 0x340);
CHECK_OFF(KDDEBUGGER_DATA64, OffsetPrcbIdleThread, 0x350);
CHECK_OFF(KDDEBUGGER_DATA64, PteBase, 0x360);
CHECK_OFF(KDDEBUGGER_DATA64, RetpolineStubFunctionTable, 0x368);
CHECK_OFF(KDDEBUGGER_DATA64, OffsetEProcessMmHotPatchContext, 0x37C);
CHECK_OFF(KDDEBUGGER_DATA64, OffsetKThreadShadowStackLimit, 0x380);
CHECK_OFF(KDDEBUGGER_DATA64, ShadowStackEnabled, 0x388);
CHECK_OFF(KDDEBUGGER_DATA64, OffsetPrcbExceptionStack, 0x398);
_Static_assert(sizeof(KDDEBUGGER_DATA64) == 0x3A0, "KDDEBUGGER_DATA64 size");

/* windows-kernel.md §3. */
typedef struct _DBGKD_GET_VERSION64 {
	USHORT MajorVersion;
	USHORT MinorVersion;
	UCHAR ProtocolVersion;
	UCHAR KdSecondaryVersion;
	USHORT Flags;
	USHORT MachineType;
	UCHAR MaxPacketType;
	UCHAR MaxStateChange;
	UCHAR MaxManipulate;
	UCHAR Simulation;
	USHORT Unused[1];
	ULONG64 KernBase;
	ULONG64 PsLoadedModuleList;
	ULONG64 DebuggerDataList;
} DBGKD_GET_VERSION64;
_Static_assert(sizeof(DBGKD_GET_VERSION64) == 0x28, "DBGKD_GET_VERSION64 size");

/* windows-kernel.md §8. */
typedef struct _M128A {
	ULONG64 Low;
	LONG64 High;
} M128A;

typedef struct _XSAVE_FORMAT {
	USHORT ControlWord;
	USHORT StatusWord;
	UCHAR TagWord;
	UCHAR Reserved1;
	USHORT ErrorOpcode;
	ULONG ErrorOffset;
	USHORT ErrorSelector;
	USHORT Reserved2;
	ULONG DataOffset;
	USHORT DataSelector;
	USHORT Reserved3;
	ULONG MxCsr;
	ULONG MxCsr_Mask;
	M128A FloatRegisters[8];
	M128A XmmRegisters[16];
	UCHAR Reserved4[96];
} XSAVE_FORMAT;

typedef struct __declspec(align(16)) _CONTEXT {
	ULONG64 P1Home, P2Home, P3Home, P4Home, P5Home, P6Home;
	ULONG ContextFlags;
	ULONG MxCsr;
	USHORT SegCs, SegDs, SegEs, SegFs, SegGs, SegSs;
	ULONG EFlags;
	ULONG64 Dr0, Dr1, Dr2, Dr3, Dr6, Dr7;
	ULONG64 Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi;
	ULONG64 R8, R9, R10, R11, R12, R13, R14, R15;
	ULONG64 Rip;
	XSAVE_FORMAT FltSave;
	M128A VectorRegister[26];
	ULONG64 VectorControl;
	ULONG64 DebugControl;
	ULONG64 LastBranchToRip;
	ULONG64 LastBranchFromRip;
	ULONG64 LastExceptionToRip;
	ULONG64 LastExceptionFromRip;
} CONTEXT;
CHECK_OFF(CONTEXT, ContextFlags, 0x30);
CHECK_OFF(CONTEXT, Rax, 0x78);
CHECK_OFF(CONTEXT, Rip, 0xF8);
CHECK_OFF(CONTEXT, FltSave, 0x100);
CHECK_OFF(CONTEXT, VectorRegister, 0x300);
_Static_assert(sizeof(CONTEXT) == 0x4D0, "CONTEXT size");

typedef struct _KDESCRIPTOR {
	USHORT Pad[3];
	USHORT Limit;
	void *Base;
} KDESCRIPTOR;

/* windows-kernel.md §6; 0xE0 bytes up to Win8.1, 0xF0 on Win10. */
typedef struct _KSPECIAL_REGISTERS {
	ULONG64 Cr0, Cr2, Cr3, Cr4;
	ULONG64 KernelDr0, KernelDr1, KernelDr2, KernelDr3, KernelDr6, KernelDr7;
	KDESCRIPTOR Gdtr;
	KDESCRIPTOR Idtr;
	USHORT Tr;
	USHORT Ldtr;
	ULONG MxCsr;
	ULONG64 DebugControl;
	ULONG64 LastBranchToRip;
	ULONG64 LastBranchFromRip;
	ULONG64 LastExceptionToRip;
	ULONG64 LastExceptionFromRip;
	ULONG64 Cr8;
	ULONG64 MsrGsBase;
	ULONG64 MsrGsSwap;
	ULONG64 MsrStar;
	ULONG64 MsrLStar;
	ULONG64 MsrCStar;
	ULONG64 MsrSyscallMask;
	ULONG64 Xcr0;
#if WDT_SPECREGS_SIZE == 0xF0
	ULONG64 MsrFsBase;
	ULONG64 SpecialPadding0;
#endif
} KSPECIAL_REGISTERS;
CHECK_OFF(KSPECIAL_REGISTERS, Cr3, 0x10);
CHECK_OFF(KSPECIAL_REGISTERS, Gdtr, 0x50);
CHECK_OFF(KSPECIAL_REGISTERS, Tr, 0x70);
CHECK_OFF(KSPECIAL_REGISTERS, MsrGsBase, 0xA8);
CHECK_OFF(KSPECIAL_REGISTERS, MsrGsSwap, 0xB0);
_Static_assert(sizeof(KSPECIAL_REGISTERS) == WDT_SPECREGS_SIZE, "KSPECIAL_REGISTERS size");

typedef struct _KPROCESSOR_STATE {
	KSPECIAL_REGISTERS SpecialRegisters;
	CONTEXT ContextFrame;
} KPROCESSOR_STATE;

struct _KTHREAD;

#define PRCB_HEAD_END 0x40
#define PROCSTATE_END (WDT_PROCSTATE_OFF + sizeof(KPROCESSOR_STATE))

typedef struct _KPRCB {
	ULONG MxCsr;
	UCHAR LegacyNumber;
	UCHAR ReservedMustBeZero;
	UCHAR InterruptRequest;
	UCHAR IdleHalt;
	struct _KTHREAD *CurrentThread;
	struct _KTHREAD *NextThread;
	struct _KTHREAD *IdleThread;
	UCHAR NestingLevel;
	UCHAR ClockOwner;
	UCHAR PendingTickFlags;
	UCHAR IdleState;
	ULONG Number;
	ULONG64 RspBase;
	ULONG64 PrcbLock;
	char *PriorityState;
#if WDT_PROCSTATE_OFF > PRCB_HEAD_END
	UCHAR PrcbPad00[WDT_PROCSTATE_OFF - PRCB_HEAD_END];
#endif
	KPROCESSOR_STATE ProcessorState;
	UCHAR PrcbPad01[WDT_PRCB_CONTEXT_OFF - PROCSTATE_END];
	CONTEXT *Context;
	ULONG ContextFlagsInit;
#if WDT_KDTB_OFF
	UCHAR PrcbPad02[WDT_KDTB_OFF - WDT_PRCB_CONTEXT_OFF - 12];
	ULONG64 KernelDirectoryTableBase;
	ULONG64 RspBaseShadow;
	ULONG64 UserRspShadow;
	ULONG ShadowFlags;
	UCHAR PrcbPad03[WDT_PRCB_SIZE - WDT_KDTB_OFF - 28];
#else
	UCHAR PrcbPad03[WDT_PRCB_SIZE - WDT_PRCB_CONTEXT_OFF - 12];
#endif
} KPRCB;
CHECK_OFF(KPRCB, CurrentThread, 0x8);
CHECK_OFF(KPRCB, Number, 0x24);
CHECK_OFF(KPRCB, ProcessorState, WDT_PROCSTATE_OFF);
CHECK_OFF(KPRCB, Context, WDT_PRCB_CONTEXT_OFF);
#if WDT_KDTB_OFF
CHECK_OFF(KPRCB, KernelDirectoryTableBase, WDT_KDTB_OFF);
#endif
_Static_assert(sizeof(KPRCB) == WDT_PRCB_SIZE, "KPRCB size");

typedef struct _KPCR {
	void *GdtBase;
	void *TssBase;
	ULONG64 UserRsp;
	struct _KPCR *Self;
	KPRCB *CurrentPrcb;
	void *LockArray;
	void *Used_Self;
	void *IdtBase;
	ULONG64 Unused[2];
	UCHAR Irql;
	UCHAR SecondLevelCacheAssociativity;
	UCHAR ObsoleteNumber;
	UCHAR Fill0;
	ULONG Unused0[3];
	USHORT MajorVersion;
	USHORT MinorVersion;
	ULONG StallScaleFactor;
	void *Unused1[3];
	ULONG KernelReserved[15];
	ULONG SecondLevelCacheSize;
	ULONG HalReserved[16];
	ULONG Unused2;
	void *KdVersionBlock;
	void *Unused3;
	ULONG PcrAlign1[24];
	KPRCB Prcb;
} KPCR;
CHECK_OFF(KPCR, Self, 0x18);
CHECK_OFF(KPCR, CurrentPrcb, 0x20);
CHECK_OFF(KPCR, IdtBase, 0x38);
CHECK_OFF(KPCR, MajorVersion, 0x60);
CHECK_OFF(KPCR, KdVersionBlock, 0x108);
CHECK_OFF(KPCR, Prcb, 0x180);

typedef struct _KSYSTEM_TIME {
	ULONG LowPart;
	int High1Time;
	int High2Time;
} KSYSTEM_TIME;

/* windows-kernel.md §4 (only the fields the toolkit reads, at their offsets). */
typedef struct _KUSER_SHARED_DATA {
	ULONG TickCountLowDeprecated;
	ULONG TickCountMultiplier;
	KSYSTEM_TIME InterruptTime;
	KSYSTEM_TIME SystemTime;
	KSYSTEM_TIME TimeZoneBias;
	USHORT ImageNumberLow;
	USHORT ImageNumberHigh;
	WCHAR NtSystemRoot[260];
	ULONG MaxStackTraceDepth;
	ULONG CryptoExponent;
	ULONG TimeZoneId;
	ULONG LargePageMinimum;
	ULONG AitSamplingValue;
	ULONG AppCompatFlag;
	ULONG64 RNGSeedVersion;
	ULONG GlobalValidationRunlevel;
	int TimeZoneBiasStamp;
	ULONG NtBuildNumber;
	ULONG NtProductType;
	UCHAR ProductTypeIsValid;
	UCHAR Reserved0[1];
	USHORT NativeProcessorArchitecture;
	ULONG NtMajorVersion;
	ULONG NtMinorVersion;
	UCHAR ProcessorFeatures[64];
	ULONG Reserved1;
	ULONG Reserved3;
	ULONG TimeSlip;
	ULONG AlternativeArchitecture;
	ULONG BootId;
	ULONG64 SystemExpirationDate;
	ULONG SuiteMask;
	UCHAR KdDebuggerEnabled;
	UCHAR MitigationPolicies;
	USHORT CyclesPerYield;
	ULONG ActiveConsoleId;
	ULONG DismountCount;
	ULONG ComPlusPackage;
	ULONG LastSystemRITEventTickCount;
	ULONG NumberOfPhysicalPages;
	UCHAR SafeBootMode;
	UCHAR VirtualizationFlags;
	UCHAR Reserved12[2];
	ULONG SharedDataFlags;
	ULONG DataFlagsPad[1];
	ULONG64 TestRetInstruction;
	LONG64 QpcFrequency;
	ULONG SystemCall;
	ULONG Reserved2;
	ULONG64 SystemCallPad[2];
	union {
		KSYSTEM_TIME TickCount;
		ULONG64 TickCountQuad;
	};
} KUSER_SHARED_DATA;
CHECK_OFF(KUSER_SHARED_DATA, InterruptTime, 0x8);
CHECK_OFF(KUSER_SHARED_DATA, SystemTime, 0x14);
CHECK_OFF(KUSER_SHARED_DATA, NtSystemRoot, 0x30);
CHECK_OFF(KUSER_SHARED_DATA, NtBuildNumber, 0x260);
CHECK_OFF(KUSER_SHARED_DATA, NtProductType, 0x264);
CHECK_OFF(KUSER_SHARED_DATA, NtMajorVersion, 0x26C);
CHECK_OFF(KUSER_SHARED_DATA, ProcessorFeatures, 0x274);
CHECK_OFF(KUSER_SHARED_DATA, BootId, 0x2C4);
CHECK_OFF(KUSER_SHARED_DATA, SuiteMask, 0x2D0);
CHECK_OFF(KUSER_SHARED_DATA, KdDebuggerEnabled, 0x2D4);
CHECK_OFF(KUSER_SHARED_DATA, TickCount, 0x320);

typedef struct _LDR_DATA_TABLE_ENTRY {
	LIST_ENTRY InLoadOrderLinks;
	LIST_ENTRY InMemoryOrderLinks;
	LIST_ENTRY InInitializationOrderLinks;
	void *DllBase;
	void *EntryPoint;
	ULONG SizeOfImage;
	UNICODE_STRING FullDllName;
	UNICODE_STRING BaseDllName;
	ULONG Flags;
} LDR_DATA_TABLE_ENTRY;
CHECK_OFF(LDR_DATA_TABLE_ENTRY, DllBase, 0x30);
CHECK_OFF(LDR_DATA_TABLE_ENTRY, SizeOfImage, 0x40);
CHECK_OFF(LDR_DATA_TABLE_ENTRY, FullDllName, 0x48);
CHECK_OFF(LDR_DATA_TABLE_ENTRY, BaseDllName, 0x58);
CHECK_OFF(LDR_DATA_TABLE_ENTRY, Flags, 0x68);

typedef struct _KPROCESS {
	UCHAR Header[0x18];
	LIST_ENTRY ProfileListHead;
	ULONG64 DirectoryTableBase;
} KPROCESS;
CHECK_OFF(KPROCESS, DirectoryTableBase, 0x28);

/* UniqueProcessId sits right before ActiveProcessLinks in every build. */
_Static_assert(WDT_EPROC_PID + 8 == WDT_EPROC_LINKS, "EPROCESS UniqueProcessId/links");

typedef struct _EPROCESS {
	KPROCESS Pcb;
	UCHAR EprocessPad00[WDT_EPROC_PID - sizeof(KPROCESS)];
	void *UniqueProcessId;
	LIST_ENTRY ActiveProcessLinks;
	UCHAR EprocessPad01[WDT_EPROC_IMAGE_NAME - WDT_EPROC_LINKS - sizeof(LIST_ENTRY)];
	UCHAR ImageFileName[15];
	UCHAR PriorityClass;
	UCHAR EprocessPad02[WDT_EPROC_SIZE - WDT_EPROC_IMAGE_NAME - 16];
} EPROCESS;
CHECK_OFF(EPROCESS, UniqueProcessId, WDT_EPROC_PID);
CHECK_OFF(EPROCESS, ActiveProcessLinks, WDT_EPROC_LINKS);
CHECK_OFF(EPROCESS, ImageFileName, WDT_EPROC_IMAGE_NAME);
_Static_assert(sizeof(EPROCESS) == WDT_EPROC_SIZE, "EPROCESS size");

/* The fields of a thread the toolkit reads (KDBG.OffsetKThread*); the
 * offsets are the Windows 10 x64 ones, the size is KDBG.SizeEThread. */
typedef struct _KAPC_STATE {
	LIST_ENTRY ApcListHead[2];
	struct _KPROCESS *Process;
	UCHAR InProgressFlags;
	UCHAR KernelApcPending;
	UCHAR UserApcPendingAll;
} KAPC_STATE;
CHECK_OFF(KAPC_STATE, Process, 0x20);
_Static_assert(sizeof(KAPC_STATE) == 0x30, "KAPC_STATE size");

typedef struct _KTHREAD {
	UCHAR Header[0x18];
	void *SListFaultAddress;
	ULONG64 QuantumTarget;
	void *InitialStack;
	void *StackLimit;
	void *StackBase;
	ULONG64 ThreadLock;
	ULONG64 CycleTime;
	ULONG CurrentRunTime;
	ULONG ExpectedRunTime;
	void *KernelStack;
	UCHAR ThreadPad00[0x98 - 0x60];
	KAPC_STATE ApcState;
	UCHAR ThreadPad01[0xF0 - 0xC8];
	void *Teb;
	UCHAR ThreadPad02[0x184 - 0xF8];
	UCHAR State;
	UCHAR ThreadPad03[0x600 - 0x185];
} KTHREAD;
CHECK_OFF(KTHREAD, InitialStack, 0x28);
CHECK_OFF(KTHREAD, StackLimit, 0x30);
CHECK_OFF(KTHREAD, StackBase, 0x38);
CHECK_OFF(KTHREAD, KernelStack, 0x58);
CHECK_OFF(KTHREAD, ApcState, 0x98);
CHECK_OFF(KTHREAD, ApcState.Process, 0xB8);
CHECK_OFF(KTHREAD, Teb, 0xF0);
CHECK_OFF(KTHREAD, State, 0x184);
_Static_assert(sizeof(KTHREAD) == 0x600, "KTHREAD size");

/*
 * Variables, filled by tools/mkguest. Initialised ones land in .data with
 * file bytes; the rest in .bss (merged into .data by the linker).
 */
#define EXPORT __declspec(dllexport)
#define SECTION(s) __attribute__((section(s), used))

KDDEBUGGER_DATA64 KdDebuggerDataBlock = {.Header.OwnerTag = 0};
LIST_ENTRY64 KdpDebuggerDataListHead;
DBGKD_GET_VERSION64 KdVersionBlock = {.MajorVersion = 0xF, .MinorVersion = WDT_BUILD};
UCHAR KdpDataBlockEncoded;
ULONG64 KiWaitNever;
ULONG64 KiWaitAlways;
KPRCB *KiProcessorBlock[64];
ULONG64 KiBugcheckData[5];
EXPORT LIST_ENTRY PsLoadedModuleList;
LIST_ENTRY PsActiveProcessHead;
ULONG64 MmPfnDatabase;
ULONG64 MmPteBase;
EXPORT EPROCESS *PsInitialSystemProcess;
EXPORT ULONG NtBuildNumber = 0xF0000000u | WDT_BUILD;
EXPORT UCHAR KdDebuggerEnabled;
KPCR *KiInitialPcr;
LDR_DATA_TABLE_ENTRY *KiKernelLdrEntry;
EPROCESS *KiSystemProcess;
KUSER_SHARED_DATA *const KiSharedUserData = (KUSER_SHARED_DATA *)0xFFFFF78000000000ull;
CONTEXT KiBugcheckContext;
ULONG KiIdleReadyCount;
/* (KPRCB Number << 4) | 3 while a bugcheck runs (KeIsBugCheckActive). */
ULONG KiBugCheckActive;

/* Enough initialised data that .data spans several pages. */
UCHAR KiDataArena[3 * 4096] = {1};

SECTION(".rdata") const char NtBuildLab[] =
#if WDT_BUILD == 7601
	"7601.24545.amd64fre.win7sp1_ldr_escrow.200102-1707";
#elif WDT_BUILD == 9600
	"9600.19913.amd64fre.winblue_ltsb_escrow.201208-1800";
#elif WDT_BUILD == 17763
	"17763.1.amd64fre.rs5_release.180914-1434";
#elif WDT_BUILD == 19041
	"19041.1.amd64fre.vb_release.191206-1406";
#else
	"22621.1.amd64fre.ni_release.220506-1250";
#endif

/* A few pages of read-only text, like the kernel's message and name tables. */
SECTION(".rdata") const char KiBugCheckMessages[] =
	"IRQL_NOT_LESS_OR_EQUAL\0KMODE_EXCEPTION_NOT_HANDLED\0"
	"PAGE_FAULT_IN_NONPAGED_AREA\0SYSTEM_SERVICE_EXCEPTION\0"
	"CRITICAL_PROCESS_DIED\0MANUALLY_INITIATED_CRASH\0"
	"DRIVER_IRQL_NOT_LESS_OR_EQUAL\0SYSTEM_THREAD_EXCEPTION_NOT_HANDLED\0";
SECTION(".rdata") const UCHAR KiRdataArena[2 * 4096] = {0x52, 0x44};

/*
 * The code. The boot stub (tools/boot/stub.S) enters KiIdleEntry or, with
 * KVA shadow, KiKernelExit with RSP pointing at {target CR3, final RAX}.
 * Only reads of memory happen from here on, so the dumped memory is what
 * mkguest wrote (plus the TSS busy bit that LTR sets earlier).
 */
__attribute__((naked)) void KiIdleEntry(void)
{
	__asm__ volatile(
		"movq (%rsp), %rax\n\t"
		"movq %rax, %cr3\n\t"
		"movq 8(%rsp), %rax\n\t"
		"leaq 16(%rsp), %rsp\n\t"
		".globl KiIdleLoop\n"
		"KiIdleLoop:\n\t"
		"hlt\n\t"
		".globl KiIdleResume\n"
		"KiIdleResume:\n\t"
		"jmp KiIdleLoop\n\t");
}

/* The KVA-shadow return to user mode lives in KVASCODE, which the user
 * directory maps (windows-kernel.md §6). */
__attribute__((naked, section("KVASCODE"))) void KiKernelExit(void)
{
	__asm__ volatile(
		"movq (%rsp), %rax\n\t"
		"movq %rax, %cr3\n\t"
		"movq 8(%rsp), %rax\n\t"
		"leaq 16(%rsp), %rsp\n\t"
		"iretq\n\t");
}

/* Interrupt handlers: distinct bodies so identical-code folding keeps
 * them apart; never executed (interrupts stay disabled). */
#define HANDLER(name, n) \
	__attribute__((naked)) void name(void) \
	{ \
		__asm__ volatile("pushq $" #n "\n\t1: hlt\n\tjmp 1b\n\t"); \
	} \
	__attribute__((naked, section("KVASCODE"))) void name##Shadow(void) \
	{ \
		__asm__ volatile("pushq $" #n "\n\tswapgs\n\t1: hlt\n\tjmp 1b\n\t"); \
	}

HANDLER(KiDivideErrorFault, 0)
HANDLER(KiDebugTrapOrFault, 1)
HANDLER(KiNmiInterrupt, 2)
HANDLER(KiBreakpointTrap, 3)
HANDLER(KiOverflowTrap, 4)
HANDLER(KiBoundFault, 5)
HANDLER(KiInvalidOpcodeFault, 6)
HANDLER(KiNpxNotAvailableFault, 7)
HANDLER(KiDoubleFaultAbort, 8)
HANDLER(KiNpxSegmentOverrunAbort, 9)
HANDLER(KiInvalidTssFault, 10)
HANDLER(KiSegmentNotPresentFault, 11)
HANDLER(KiStackFault, 12)
HANDLER(KiGeneralProtectionFault, 13)
HANDLER(KiPageFault, 14)
HANDLER(KiFloatingErrorFault, 16)
HANDLER(KiAlignmentFault, 17)
HANDLER(KiMcheckAbort, 18)
HANDLER(KiXmmException, 19)
HANDLER(KiRaiseSecurityCheckFailure, 41)
HANDLER(KiRaiseAssertion, 44)
HANDLER(KiDebugServiceTrap, 45)
HANDLER(KiApcInterrupt, 31)
HANDLER(KiDpcInterrupt, 47)
HANDLER(KiIpiInterrupt, 225)
HANDLER(KiUnexpectedInterrupt, 255)

/* Like nt!KiInterruptInitTable: absolute handler addresses, so the image
 * carries base relocations that mkguest must apply. */
typedef struct _KIDT_INIT {
	UCHAR Vector;
	UCHAR Dpl;
	UCHAR IstIndex;
	UCHAR Pad[5];
	void (*ServiceRoutine)(void);
	void (*ShadowRoutine)(void);
} KIDT_INIT;

#define IDT_INIT(v, dpl, ist, name) {v, dpl, ist, {0}, name, name##Shadow}
SECTION(".rdata") const KIDT_INIT KiInterruptInitTable[] = {
	IDT_INIT(0, 0, 0, KiDivideErrorFault),
	IDT_INIT(1, 0, 0, KiDebugTrapOrFault),
	IDT_INIT(2, 0, 3, KiNmiInterrupt),
	IDT_INIT(3, 3, 0, KiBreakpointTrap),
	IDT_INIT(4, 3, 0, KiOverflowTrap),
	IDT_INIT(5, 0, 0, KiBoundFault),
	IDT_INIT(6, 0, 0, KiInvalidOpcodeFault),
	IDT_INIT(7, 0, 0, KiNpxNotAvailableFault),
	IDT_INIT(8, 0, 1, KiDoubleFaultAbort),
	IDT_INIT(9, 0, 0, KiNpxSegmentOverrunAbort),
	IDT_INIT(10, 0, 0, KiInvalidTssFault),
	IDT_INIT(11, 0, 0, KiSegmentNotPresentFault),
	IDT_INIT(12, 0, 0, KiStackFault),
	IDT_INIT(13, 0, 0, KiGeneralProtectionFault),
	IDT_INIT(14, 0, 0, KiPageFault),
	IDT_INIT(16, 0, 0, KiFloatingErrorFault),
	IDT_INIT(17, 0, 0, KiAlignmentFault),
	IDT_INIT(18, 0, 4, KiMcheckAbort),
	IDT_INIT(19, 0, 0, KiXmmException),
	IDT_INIT(31, 0, 0, KiApcInterrupt),
	IDT_INIT(41, 3, 0, KiRaiseSecurityCheckFailure),
	IDT_INIT(44, 3, 0, KiRaiseAssertion),
	IDT_INIT(45, 3, 0, KiDebugServiceTrap),
	IDT_INIT(47, 0, 0, KiDpcInterrupt),
	IDT_INIT(225, 0, 0, KiIpiInterrupt),
	{0, 0, 0, {0}, 0, 0},
};

/* The entry point (PROCESSOR_START_BLOCK.LmTarget points here). */
__attribute__((naked)) void KiSystemStartup(void)
{
	__asm__ volatile("cli\n\t1: hlt\n\tjmp 1b\n\t.fill 8192, 1, 0xcc\n\t");
}

static ULONG64 rol64(ULONG64 v, unsigned n)
{
	n &= 63;
	return n ? (v << n) | (v >> (64 - n)) : v;
}

/*
 * The Windows 8+ decoder (windows-kernel.md §2), in INITKDBG like the real
 * nt!KdCopyDataBlock, so that a no-PDB scanner finds the same shape.
 */
SECTION("INITKDBG") void KdCopyDataBlock(ULONG64 *out)
{
	const volatile ULONG64 *in = (const volatile ULONG64 *)&KdDebuggerDataBlock;
	ULONG n = KdDebuggerDataBlock.Header.Size / 8;
	if (KdpDataBlockEncoded) {
		for (ULONG i = 0; i < n && i < sizeof(KDDEBUGGER_DATA64) / 8; i++) {
			ULONG64 t = rol64(in[i] ^ KiWaitNever, (unsigned)KiWaitNever);
			t = __builtin_bswap64(t ^ (ULONG64)&KdpDataBlockEncoded);
			out[i] = t ^ KiWaitAlways;
		}
	} else {
		for (ULONG i = 0; i < sizeof(KDDEBUGGER_DATA64) / 8; i++)
			out[i] = in[i];
	}
}

EXPORT ULONG KeCapturePersistentThreadState(CONTEXT *ctx, void *thread, ULONG code,
	ULONG64 p1, ULONG64 p2, ULONG64 p3, ULONG64 p4, void *page)
{
	(void)ctx;
	(void)thread;
	(void)code;
	(void)p1;
	(void)p2;
	(void)p3;
	(void)p4;
	KdCopyDataBlock((ULONG64 *)((UCHAR *)page + 0x2070));
	return 0x2000;
}

EXPORT __attribute__((noreturn)) void KeBugCheckEx(ULONG code, ULONG64 p1, ULONG64 p2,
	ULONG64 p3, ULONG64 p4)
{
	volatile ULONG64 *d = KiBugcheckData;
	d[0] = code;
	d[1] = p1;
	d[2] = p2;
	d[3] = p3;
	d[4] = p4;
	for (;;)
		__asm__ volatile("cli; hlt");
}

SECTION("POOLCODE") ULONG64 ExpPoolTagHash(ULONG tag)
{
	return (ULONG64)tag * 40543u ^ (tag >> 7);
}

SECTION("PAGE") ULONG MmQueryPhysicalPages(void)
{
	return KiSharedUserData->NumberOfPhysicalPages;
}

EXPORT ULONG64 MmGetPhysicalAddress(void *va)
{
	ULONG64 v = (ULONG64)va;
	ULONG64 pte = MmPteBase + ((v >> 9) & 0x7FFFFFFFF8ull);
	return (*(volatile ULONG64 *)pte & 0xFFFFFFFFFF000ull) | (v & 0xFFF);
}

/*
 * The bugcheck paths of a crashed guest (mkguest --crash). mkguest writes
 * the state KeBugCheckEx leaves (windows-kernel.md, "Bugcheck state left in
 * memory"): its CONTEXT says RIP = KeBugCheckEx and [RSP] = one of the
 * return addresses below, each right after a `call` (E8 rel32). The crashing
 * CPU itself halts in KeBugCheck2Loop, entered through KiBugCheckHaltEntry
 * with RSP pointing at {target CR3, final RAX} like KiIdleEntry.
 */
__attribute__((naked)) void KiBugCheckHaltEntry(void)
{
	__asm__ volatile(
		"movq (%rsp), %rax\n\t"
		"movq %rax, %cr3\n\t"
		"movq 8(%rsp), %rax\n\t"
		"leaq 16(%rsp), %rsp\n\t"
		".globl KeBugCheck2Loop\n"
		"KeBugCheck2Loop:\n\t"
		"hlt\n\t"
		".globl KeBugCheck2Resume\n"
		"KeBugCheck2Resume:\n\t"
		"jmp KeBugCheck2Loop\n\t");
}

/* nt!KiBugCheckDispatch(code, p1, p2, p3, p4 in r10): what the trap
 * handlers call for 0xD1, 0x50 and the like. */
__attribute__((naked)) void KiBugCheckDispatch(void)
{
	__asm__ volatile(
		"subq $0x38, %rsp\n\t"
		"movq %r10, 0x20(%rsp)\n\t"
		"call KeBugCheckEx\n\t"
		".globl KiBugCheckDispatchReturn\n"
		"KiBugCheckDispatchReturn:\n\t"
		"nop\n\t"
		"int3\n\t");
}

/* hal!HalHandleNMI: an NMI nobody claimed is NMI_HARDWARE_FAILURE. */
__attribute__((naked)) void HalHandleNMI(void)
{
	__asm__ volatile(
		"subq $0x38, %rsp\n\t"
		"movl $0x80, %ecx\n\t"
		"movl $0x4F4454, %edx\n\t"
		"xorl %r8d, %r8d\n\t"
		"xorl %r9d, %r9d\n\t"
		"movq $0, 0x20(%rsp)\n\t"
		"call KeBugCheckEx\n\t"
		".globl HalHandleNMIReturn\n"
		"HalHandleNMIReturn:\n\t"
		"nop\n\t"
		"int3\n\t");
}

/* The clock tick that finds a DPC running too long: DPC_WATCHDOG_VIOLATION
 * (0, 0x501 ticks, 0x500 limit). Its 0x40-byte frame puts its own return
 * address at the bugcheck RSP + 0x48. */
__attribute__((naked)) void KeAccumulateTicks(void)
{
	__asm__ volatile(
		"subq $0x40, %rsp\n\t"
		"movl $0x133, %ecx\n\t"
		"xorl %edx, %edx\n\t"
		"movl $0x501, %r8d\n\t"
		"movl $0x500, %r9d\n\t"
		"movq $0, 0x20(%rsp)\n\t"
		"call KeBugCheckEx\n\t"
		".globl KeAccumulateTicksReturn\n"
		"KeAccumulateTicksReturn:\n\t"
		"nop\n\t"
		"int3\n\t");
}

/* Runs one DPC: rcx = KDPC, routine at +0x18, context at +0x20. */
__attribute__((naked)) void KiExecuteDpc(void)
{
	__asm__ volatile(
		"movq 0x18(%rcx), %rax\n\t"
		"movq 0x20(%rcx), %rdx\n\t"
		"jmpq *%rax\n\t");
}

__attribute__((naked)) void KiRetireDpcList(void)
{
	__asm__ volatile(
		"pushq %rbx\n\t"
		"subq $0x20, %rsp\n\t"
		"movq %rcx, %rbx\n\t"
		"1:\n\t"
		"movq (%rbx), %rcx\n\t"
		"testq %rcx, %rcx\n\t"
		"jz 2f\n\t"
		"movq (%rcx), %rax\n\t"
		"movq %rax, (%rbx)\n\t"
		"call KiExecuteDpc\n\t"
		".globl KiRetireDpcListReturn\n"
		"KiRetireDpcListReturn:\n\t"
		"jmp 1b\n\t"
		"2:\n\t"
		"addq $0x20, %rsp\n\t"
		"popq %rbx\n\t"
		"ret\n\t");
}
