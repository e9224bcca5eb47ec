/*
 * Boot stub of the wdt fixture factory: a 64 KiB "BIOS" for QEMU's -bios.
 *
 * QEMU maps the ROM at 0xFFFF0000 (and, for a 64 KiB ROM, aliases all of
 * it at 0xF0000). The BSP starts in real mode at 0xFFFFFFF0; it wakes the
 * APs with INIT-SIPI-SIPI (vector 0xF0, so they start at 0xF0000 = ROM
 * offset 0). Every CPU then enters long mode on temporary page tables that
 * live in this ROM (identity map of the low 4 GiB plus a copy of the guest
 * kernel's upper PML4 half), loads the guest's GDT, IDT, TR, segment
 * registers, control registers and MSRs from its per-CPU record, sets its
 * general registers and jumps into the fake kernel (KiIdleEntry or
 * KiKernelExit), which switches to the guest CR3 and halts (or returns to
 * user mode).
 *
 * tools/mkguest fills the tables at fixed offsets (see the layout below and
 * BOOT_* in tools/mkguest). Nothing here writes guest RAM (but the fw_cfg DMA
 * descriptor with --vmcoreinfo, see below): every page-table
 * and descriptor accessed bit is preset by mkguest, and the far return and
 * POPFQ read their frames from ROM. Only LTR sets the TSS busy bit.
 */
	.equ	ROM_BASE, 0xFFFF0000
	.equ	OFF_PML4, 0x1000
	.equ	OFF_PDPT, 0x2000
	.equ	OFF_CFG, 0x3000
	.equ	OFF_CPUS, 0x3100
	.equ	CPU_REC, 0x100

/* Per-CPU record (offsets from its start). */
	.equ	R_GDTR, 0x06	/* u16 limit, u64 base */
	.equ	R_IDTR, 0x16
	.equ	R_CR0, 0x20
	.equ	R_CR4, 0x28
	.equ	R_EFER, 0x30
	.equ	R_RIP, 0x38
	.equ	R_RSP, 0x40
	.equ	R_GSBASE, 0x48
	.equ	R_KGSBASE, 0x50
	.equ	R_FSBASE, 0x58
	.equ	R_RBX, 0x60
	.equ	R_RCX, 0x68
	.equ	R_RDX, 0x70
	.equ	R_RSI, 0x78
	.equ	R_RDI, 0x80
	.equ	R_RBP, 0x88
	.equ	R_R8, 0x90
	.equ	R_R9, 0x98
	.equ	R_R10, 0xA0
	.equ	R_R11, 0xA8
	.equ	R_R12, 0xB0
	.equ	R_R13, 0xB8
	.equ	R_R14, 0xC0
	.equ	R_R15, 0xC8
	.equ	R_RFLAGS, 0xD0
	.equ	R_DS, 0xE8
	.equ	R_ES, 0xEA
	.equ	R_SS, 0xEC
	.equ	R_FS, 0xEE
	.equ	R_GS, 0xF0
	.equ	R_TR, 0xF2

/* A short wait between IPIs, without a stack (there is none: ESP=0). */
	.macro	DELAY
	movl	$20000, %ecx
1:	pause
	loop	1b
	.endm

	.text
	.globl rom_start
rom_start:
/* Offset 0 = 0xF0000: where the APs start (SIPI vector 0xF0). */
	.code16
ap_entry:
	jmp	start16

	.org	0x100
tmp_gdt:
	.quad	0			/* 0x00 */
	.quad	0x00CF9B000000FFFF	/* 0x08 32-bit code, accessed */
	.quad	0x00CF93000000FFFF	/* 0x10 data, accessed */
	.quad	0x00AF9B000000FFFF	/* 0x18 64-bit code, accessed */
tmp_gdt_end:
tmp_gdtr:
	.word	tmp_gdt_end - tmp_gdt - 1
	.long	tmp_gdt

vmci_name:
	.ascii	"etc/vmcoreinfo"
	.fill	56 - 14, 1, 0

/* A far-return frame to reload CS with the guest's KGDT64_R0_CODE. */
	.balign	16
lret_frame:
	.quad	cont64
	.quad	0x10

start16:
	cli
	cld
	lgdtl	%cs:(tmp_gdtr - rom_start)
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	ljmpl	$0x08, $start32

	.code32
start32:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	/* Only the BSP (IA32_APIC_BASE bit 8) wakes the others. */
	movl	$0x1b, %ecx
	rdmsr
	testl	$0x100, %eax
	jz	long32
	cmpl	$1, (ROM_BASE + OFF_CFG)
	jbe	long32
	movl	$0x000C4500, 0xFEE00300	/* INIT, all excluding self */
	DELAY
	movl	$0x000C46F0, 0xFEE00300	/* SIPI, vector 0xF0 */
	DELAY
	movl	$0x000C46F0, 0xFEE00300
	DELAY
long32:
	/*
	 * The BSP plays the virtio-win FwCfg driver (qemu-elf.md §6) when mkguest
	 * asks (cfg+0x10 = PA of a RAM scratch page, else 0): find fw_cfg file
	 * "etc/vmcoreinfo" in the file directory (selector 0x19, big-endian
	 * entries of 64 bytes: size, select, reserved, name[56]) and DMA-write
	 * the 16-byte FWCfgVMCoreInfo at cfg+0x20 into it. The DMA descriptor
	 * is the only thing the stub writes to RAM.
	 */
	movl	$0x1b, %ecx
	rdmsr
	testl	$0x100, %eax
	jz	no_vmci
	movl	(ROM_BASE + OFF_CFG + 0x10), %edi
	testl	%edi, %edi
	jz	no_vmci
	movw	$0x19, %ax
	movw	$0x510, %dx
	outw	%ax, %dx
	movw	$0x511, %dx
	xorl	%ebx, %ebx		/* ebx = number of files */
	movl	$4, %ecx
1:	shll	$8, %ebx
	inb	%dx, %al
	movb	%al, %bl
	loop	1b
	xorl	%esi, %esi		/* esi = selector found */
next_file:
	testl	%ebx, %ebx
	jz	vmci_done
	decl	%ebx
	movl	$4, %ecx
1:	inb	%dx, %al		/* size: ignored */
	loop	1b
	inb	%dx, %al
	movzbl	%al, %ebp
	shll	$8, %ebp
	inb	%dx, %al
	movzbl	%al, %eax
	orl	%eax, %ebp		/* ebp = select */
	inb	%dx, %al		/* reserved */
	inb	%dx, %al
	movl	$(ROM_BASE + vmci_name - rom_start), %eax
	movl	%eax, %ecx		/* ecx = name cursor */
	xorl	%eax, %eax
	shll	$16, %ebp		/* ebp bits 31:16 = select, bit 0 = mismatch */
name_loop:
	inb	%dx, %al
	cmpb	(%ecx), %al
	je	1f
	orl	$1, %ebp
1:	incl	%ecx
	cmpl	$(ROM_BASE + vmci_name - rom_start + 56), %ecx
	jne	name_loop
	testl	$1, %ebp
	jnz	next_file
	movl	%ebp, %esi
	shrl	$16, %esi
	jmp	next_file
vmci_done:
	testl	%esi, %esi
	jz	no_vmci
	/* FWCfgDmaAccess {be32 control, be32 length, be64 address} at edi. */
	movl	%esi, %eax
	shll	$16, %eax
	orl	$0x18, %eax		/* SELECT | WRITE */
	bswapl	%eax
	movl	%eax, (%edi)
	movl	$0x10000000, 4(%edi)	/* be32 16 */
	movl	$0, 8(%edi)
	movl	$(ROM_BASE + OFF_CFG + 0x20), %eax
	bswapl	%eax
	movl	%eax, 12(%edi)
	movw	$0x514, %dx
	xorl	%eax, %eax
	outl	%eax, %dx
	movl	%edi, %eax
	bswapl	%eax
	movw	$0x518, %dx
	outl	%eax, %dx		/* starts the transfer */
no_vmci:
	movl	%cr4, %eax
	orl	$0x20, %eax		/* PAE */
	movl	%eax, %cr4
	movl	$(ROM_BASE + OFF_PML4), %eax
	movl	%eax, %cr3
	movl	$0xC0000080, %ecx	/* EFER: LME | NXE */
	rdmsr
	orl	$0x900, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000001, %eax
	movl	%eax, %cr0
	ljmp	$0x18, $start64


	.code64
start64:
	movl	$1, %eax
	cpuid
	shrl	$24, %ebx		/* initial APIC ID = CPU index */
	shll	$8, %ebx
	leaq	cpus(%rip), %rax
	addq	%rbx, %rax		/* rax = this CPU's record */
	lgdt	R_GDTR(%rax)
	lidt	R_IDTR(%rax)
	leaq	lret_frame(%rip), %rsp
	lretq
cont64:
	movw	R_DS(%rax), %dx
	movw	%dx, %ds
	movw	R_ES(%rax), %dx
	movw	%dx, %es
	movw	R_SS(%rax), %dx
	movw	%dx, %ss
	movw	R_FS(%rax), %dx
	movw	%dx, %fs
	movw	R_GS(%rax), %dx
	movw	%dx, %gs
	movzwl	R_TR(%rax), %edx
	testl	%edx, %edx
	jz	1f
	ltr	%dx
1:	movq	R_CR4(%rax), %rdx
	movq	%rdx, %cr4
	movq	R_CR0(%rax), %rdx
	movq	%rdx, %cr0
	movq	%rax, %rsi
	movl	$0xC0000080, %ecx
	movl	R_EFER(%rsi), %eax
	movl	R_EFER+4(%rsi), %edx
	wrmsr
	movl	$0xC0000100, %ecx
	movl	R_FSBASE(%rsi), %eax
	movl	R_FSBASE+4(%rsi), %edx
	wrmsr
	movl	$0xC0000101, %ecx
	movl	R_GSBASE(%rsi), %eax
	movl	R_GSBASE+4(%rsi), %edx
	wrmsr
	movl	$0xC0000102, %ecx
	movl	R_KGSBASE(%rsi), %eax
	movl	R_KGSBASE+4(%rsi), %edx
	wrmsr
	movq	%rsi, %rax
	/* From here on no instruction changes RFLAGS. */
	leaq	R_RFLAGS(%rax), %rsp
	popfq
	movq	R_RBX(%rax), %rbx
	movq	R_RCX(%rax), %rcx
	movq	R_RDX(%rax), %rdx
	movq	R_RSI(%rax), %rsi
	movq	R_RDI(%rax), %rdi
	movq	R_RBP(%rax), %rbp
	movq	R_R8(%rax), %r8
	movq	R_R9(%rax), %r9
	movq	R_R10(%rax), %r10
	movq	R_R11(%rax), %r11
	movq	R_R12(%rax), %r12
	movq	R_R13(%rax), %r13
	movq	R_R14(%rax), %r14
	movq	R_R15(%rax), %r15
	movq	R_RSP(%rax), %rsp
	jmpq	*R_RIP(%rax)

/* Tables filled by tools/mkguest. */
	.org	OFF_PML4
	.fill	4096, 1, 0
	.org	OFF_PDPT
	.fill	4096, 1, 0
	.org	OFF_CFG
cfg:
	.long	0			/* number of CPUs */
	.ascii	"WDTBOOT1"		/* layout version, checked by mkguest */
	.org	OFF_CPUS
cpus:
	.fill	64 * CPU_REC, 1, 0

/* The reset vector: 16 bytes below the top of the ROM. */
	.org	0xFFF0
	.code16
reset:
	jmp	start16
	.org	0x10000
