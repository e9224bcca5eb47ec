/*
 * wdtfault.sys: the fake third-party driver of the wdt fixture factory.
 *
 * Loaded only into crashed guests (tools/mkguest --crash/--crashed), where
 * it is what the bugcheck blames: 0xD1 and 0x50 name an instruction in it
 * (WdtFaultDpcFault, WdtFaultReadPoolFault) as a bugcheck parameter, 0x133
 * leaves a return address into it (WdtSpinDpcReturn) on the crashing CPU's
 * stack. Built like the fake kernel (clang --target=x86_64-pc-windows-msvc,
 * lld-link /DRIVER /ENTRY:DriverEntry /DEBUG /PDBALTPATH:wdtfault.pdb /MAP),
 * so it is a real PE32+ with base relocations, an RSDS record and a PDB.
 * Nothing here ever runs: mkguest writes the state the faults would leave.
 * Every label after a `call` really follows an E8 rel32 call.
 */
typedef unsigned char UCHAR;
typedef unsigned int ULONG;
typedef long NTSTATUS;

ULONG WdtFaultCount;
void *WdtFaultContext = &WdtFaultCount;
UCHAR WdtFaultPoolTag[4] = {'W', 'd', 't', 'F'};
__attribute__((section(".rdata"), used)) const char WdtFaultName[] =
	"wdtfault: DPC, pool and spin faults for the wdt fixture factory";

/* A DPC routine (rcx = KDPC, rdx = DeferredContext) that follows a stale
 * pointer at DISPATCH_LEVEL: DRIVER_IRQL_NOT_LESS_OR_EQUAL, P4 = the read. */
__attribute__((naked)) void WdtFaultDpcRoutine(void)
{
	__asm__ volatile(
		"subq $0x28, %rsp\n\t"
		"movq 0x10(%rdx), %rax\n\t"
		".globl WdtFaultDpcFault\n"
		"WdtFaultDpcFault:\n\t"
		"movq (%rax), %rcx\n\t"
		"incl WdtFaultCount(%rip)\n\t"
		"addq $0x28, %rsp\n\t"
		"ret\n\t");
}

/* Reads a pool block that is gone: PAGE_FAULT_IN_NONPAGED_AREA, P3 = the read. */
__attribute__((naked)) void WdtFaultReadPool(void)
{
	__asm__ volatile(
		"movq 0x8(%rcx), %rax\n\t"
		".globl WdtFaultReadPoolFault\n"
		"WdtFaultReadPoolFault:\n\t"
		"movl (%rax), %eax\n\t"
		"ret\n\t");
}

/* Waits for a flag nobody sets. */
__attribute__((naked)) void WdtSpinWait(void)
{
	__asm__ volatile(
		"1:\n\t"
		"pause\n\t"
		"cmpl $0, WdtFaultCount(%rip)\n\t"
		"je 1b\n\t"
		"ret\n\t");
}

/* A DPC routine that spins far past the DPC watchdog: DPC_WATCHDOG_VIOLATION.
 * Its 0x18-byte frame puts the return address into it 0x20 below its own. */
__attribute__((naked)) void WdtSpinDpc(void)
{
	__asm__ volatile(
		"subq $0x18, %rsp\n\t"
		"call WdtSpinWait\n\t"
		".globl WdtSpinDpcReturn\n"
		"WdtSpinDpcReturn:\n\t"
		"addq $0x18, %rsp\n\t"
		"ret\n\t");
}

/* Absolute addresses, so the image carries base relocations. */
__attribute__((section(".rdata"), used)) void (*const WdtFaultRoutines[])(void) = {
	WdtFaultDpcRoutine, WdtFaultReadPool, WdtSpinDpc,
};

NTSTATUS DriverEntry(void *DriverObject, void *RegistryPath)
{
	(void)DriverObject;
	(void)RegistryPath;
	*(volatile ULONG *)WdtFaultContext = 0;
	return 0;
}
