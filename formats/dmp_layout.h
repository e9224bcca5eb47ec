/* SPDX-License-Identifier: MIT */
/*
 * Windows kernel crash dump (.dmp) layout constants (dmp64.md), shared by
 * the DMP reader (formats/dmp.c), the writer (formats/dmpwrite.c) and
 * `wdt verify`. Offsets are from the start of the file unless named
 * otherwise; all values little-endian.
 */
#ifndef WDT_FORMATS_DMP_LAYOUT_H
#define WDT_FORMATS_DMP_LAYOUT_H

/* Magic values as read with wdt_le32() (dmp64.md §1). */
#define WDT_DMP_SIG_PAGE 0x45474150u   /* "PAGE" */
#define WDT_DMP_VALID_DU64 0x34365544u /* "DU64" */
#define WDT_DMP_VALID_DUMP 0x504D5544u /* "DUMP" (32-bit, bitmap header) */
#define WDT_DMP_SIG_FDMP 0x504D4446u   /* "FDMP" full bitmap */
#define WDT_DMP_SIG_SDMP 0x504D4453u   /* "SDMP" summary/kernel bitmap */
#define WDT_DMP_SIG_RDMP 0x504D4452u   /* "RDMP" (types 8/9/0xA, at 0x2004) */

/* DUMP_HEADER64 (dmp64.md §2) */
#define WDT_DMP64_HDR_SIZE 0x2000u
#define WDT_DMP64_SIGNATURE 0x000u
#define WDT_DMP64_VALID_DUMP 0x004u
#define WDT_DMP64_MAJOR 0x008u
#define WDT_DMP64_MINOR 0x00Cu
#define WDT_DMP64_DTB 0x010u
#define WDT_DMP64_PFN_DATABASE 0x018u
#define WDT_DMP64_PS_LOADED_MODULE_LIST 0x020u
#define WDT_DMP64_PS_ACTIVE_PROCESS_HEAD 0x028u
#define WDT_DMP64_MACHINE 0x030u
#define WDT_DMP64_NUMBER_PROCESSORS 0x034u
#define WDT_DMP64_BUGCHECK_CODE 0x038u
#define WDT_DMP64_PAD_BUGCHECK 0x03Cu	/* u32 padding after the code */
#define WDT_DMP64_BUGCHECK_PARAM 0x040u /* u64[4] */
#define WDT_DMP64_VERSION_USER 0x060u	/* char[32] */
#define WDT_DMP64_KDBG 0x080u
#define WDT_DMP64_PMB 0x088u	    /* PHYSICAL_MEMORY_DESCRIPTOR64 */
#define WDT_DMP64_PMB_NRUNS 0x088u  /* u32 */
#define WDT_DMP64_PMB_NPAGES 0x090u /* u64 (not u32 at +4: dmp64.md §3) */
#define WDT_DMP64_PMB_RUNS 0x098u   /* {u64 BasePage, u64 PageCount}[] */
#define WDT_DMP64_PMB_SIZE 700u
#define WDT_DMP64_MAX_RUNS 42u	 /* whole runs in the 700-byte buffer */
#define WDT_DMP64_CONTEXT 0x348u /* ContextRecord, 3000 bytes */
#define WDT_DMP64_CONTEXT_AREA 3000u
#define WDT_DMP64_EXCEPTION 0xF00u /* EXCEPTION_RECORD64, 0x98 bytes */
#define WDT_DMP64_EXCEPTION_SIZE 0x98u
#define WDT_DMP64_DUMP_TYPE 0xF98u
#define WDT_DMP64_PAD_DUMP_TYPE 0xF9Cu /* u32 padding */
#define WDT_DMP64_REQUIRED_SPACE 0xFA0u
#define WDT_DMP64_SYSTEM_TIME 0xFA8u
#define WDT_DMP64_COMMENT 0xFB0u /* char[128] */
#define WDT_DMP64_COMMENT_SIZE 128u
#define WDT_DMP64_SYSTEM_UPTIME 0x1030u
#define WDT_DMP64_MINIDUMP_FIELDS 0x1038u
#define WDT_DMP64_SECONDARY_DATA_STATE 0x103Cu
#define WDT_DMP64_PRODUCT_TYPE 0x1040u
#define WDT_DMP64_SUITE_MASK 0x1044u
#define WDT_DMP64_WRITER_STATUS 0x1048u
#define WDT_DMP64_UNUSED1 0x104Cu	       /* u8 */
#define WDT_DMP64_KD_SECONDARY_VERSION 0x104Du /* u8 */
#define WDT_DMP64_ATTRIBUTES 0x1050u
#define WDT_DMP64_BOOT_ID 0x1054u

/* EXCEPTION_RECORD64 fields, relative to WDT_DMP64_EXCEPTION (§4) */
#define WDT_EXC_CODE 0x00u
#define WDT_EXC_FLAGS 0x04u
#define WDT_EXC_RECORD 0x08u
#define WDT_EXC_ADDRESS 0x10u
#define WDT_EXC_NPARAMS 0x18u
#define WDT_EXC_INFO 0x20u

/* DumpType values (§5) */
#define WDT_DUMP_TYPE_FULL 1u
#define WDT_DUMP_TYPE_SUMMARY 2u
#define WDT_DUMP_TYPE_HEADER 3u
#define WDT_DUMP_TYPE_TRIAGE 4u
#define WDT_DUMP_TYPE_BITMAP_FULL 5u
#define WDT_DUMP_TYPE_BITMAP_KERNEL 6u
#define WDT_DUMP_TYPE_KERNEL_RANGE 8u
#define WDT_DUMP_TYPE_KERNEL_USER_RANGE 9u
#define WDT_DUMP_TYPE_COMPLETE_RANGE 0xAu

/* Bitmap dump header at WDT_DMP64_HDR_SIZE (§7); offsets relative to it. */
#define WDT_BMP_SIGNATURE 0x00u
#define WDT_BMP_VALID_DUMP 0x04u
#define WDT_BMP_DUMP_OPTIONS 0x08u
#define WDT_BMP_FIRST_PAGE 0x20u    /* u64 absolute file offset */
#define WDT_BMP_PRESENT_PAGES 0x28u /* u64 set bits */
#define WDT_BMP_BITS 0x30u	    /* u64 bitmap length in bits */
#define WDT_BMP_BITMAP 0x38u

/* DUMP_HEADER32 (§10), for recognising 32-bit dumps. */
#define WDT_DMP32_HDR_SIZE 0x1000u
#define WDT_DMP32_DUMP_TYPE 0xF88u
#define WDT_DMP32_REQUIRED_SPACE 0xFA0u

/* Values */
#define WDT_MACHINE_AMD64 0x8664u
#define WDT_MACHINE_I386 0x014Cu
#define WDT_MACHINE_ARM64 0xAA64u
#define WDT_BUGCHECK_LIVE_SYSTEM_DUMP 0x161u

/* x64 CONTEXT (windows-kernel.md §8), 0x4D0 bytes */
#define WDT_CTX_SIZE 0x4D0u
#define WDT_CTX_FLAGS 0x30u
#define WDT_CTX_MXCSR 0x34u
#define WDT_CTX_SEG_CS 0x38u
#define WDT_CTX_SEG_DS 0x3Au
#define WDT_CTX_SEG_ES 0x3Cu
#define WDT_CTX_SEG_FS 0x3Eu
#define WDT_CTX_SEG_GS 0x40u
#define WDT_CTX_SEG_SS 0x42u
#define WDT_CTX_EFLAGS 0x44u
#define WDT_CTX_DR0 0x48u /* Dr0 Dr1 Dr2 Dr3 Dr6 Dr7, 8 each */
#define WDT_CTX_RAX 0x78u /* Rax Rcx Rdx Rbx Rsp Rbp Rsi Rdi R8..R15 */
#define WDT_CTX_RIP 0xF8u
#define WDT_CTX_FLTSAVE 0x100u
#define WDT_CTX_FLT_MXCSR 0x118u
#define WDT_CTX_FLT_MXCSR_MASK 0x11Cu
#define WDT_CTX_AMD64 0x100000u
#define WDT_CTX_FULL 0x10000Bu
#define WDT_CTX_ALL 0x10001Fu
#define WDT_MXCSR_DEFAULT 0x1F80u

#endif
