/* SPDX-License-Identifier: MIT */
#include "symbols/triage.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/bytes.h"
#include "symbols/bugcodes.h"

/* ---- loaded modules ---- */

/* A UNICODE_STRING's text as ASCII ('?' for anything else). */
static void read_ustr(const struct wdt_kernel *k, const uint8_t *us, char *out,
		      size_t cap)
{
	uint16_t len = wdt_le16(us);
	uint64_t buf = wdt_le64(us + 8);
	uint8_t w[2 * (WDT_MODULE_NAME_MAX - 1)];
	size_t n = len / 2;
	struct wdt_err e;

	out[0] = 0;
	if (n > cap - 1)
		n = cap - 1;
	if (n > sizeof(w) / 2)
		n = sizeof(w) / 2;
	if (!n || wdt_kernel_read(k, buf, w, 2 * n, &e) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		uint16_t c = wdt_le16(w + 2 * i);
		out[i] = c >= 0x20 && c < 0x7F ? (char)c : '?';
	}
	out[n] = 0;
}

int wdt_modules_read(const struct wdt_kernel *k, uint64_t head,
		     struct wdt_modules *m, struct wdt_err *err)
{
	uint64_t link;
	size_t cap = 0;
	struct wdt_err e;

	memset(m, 0, sizeof(*m));
	if (wdt_kernel_read_u64(k, head, &link, err) < 0)
		return wdt_err_prefix(err, "PsLoadedModuleList at 0x%" PRIx64,
				      head);
	while (link != head) {
		uint8_t ldr[WDT_LDR_READ];
		struct wdt_module *mod;
		if (m->n == WDT_MODULES_MAX) {
			snprintf(m->note, sizeof(m->note),
				 "stopped after %u modules (a loop?)",
				 WDT_MODULES_MAX);
			break;
		}
		if (wdt_kernel_read(k, link, ldr, sizeof(ldr), &e) < 0) {
			snprintf(m->note, sizeof(m->note),
				 "module list entry 0x%" PRIx64 ": %.150s",
				 link, e.msg);
			break;
		}
		if (m->n == cap) {
			size_t nc = cap ? 2 * cap : 32;
			void *p = realloc(m->v, nc * sizeof(*m->v));
			if (!p) {
				wdt_modules_free(m);
				return wdt_err_nomem(err);
			}
			m->v = p;
			cap = nc;
		}
		mod = &m->v[m->n++];
		mod->ldr = link;
		mod->base = wdt_le64(ldr + WDT_LDR_DLL_BASE);
		mod->size = wdt_le32(ldr + WDT_LDR_SIZE_OF_IMAGE);
		read_ustr(k, ldr + WDT_LDR_BASE_DLL_NAME, mod->name,
			  sizeof(mod->name));
		link = wdt_le64(ldr);
	}
	return 0;
}

void wdt_modules_free(struct wdt_modules *m)
{
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

const struct wdt_module *wdt_modules_find(const struct wdt_modules *m,
					  uint64_t va)
{
	for (size_t i = 0; i < m->n; i++)
		if (va >= m->v[i].base && va - m->v[i].base < m->v[i].size)
			return &m->v[i];
	return NULL;
}

/* ---- symbols ---- */

static int cmp_rva(const void *a, const void *b)
{
	const struct wdt_pdb_public *x =
	    *(const struct wdt_pdb_public *const *)a;
	const struct wdt_pdb_public *y =
	    *(const struct wdt_pdb_public *const *)b;

	if (x->rva != y->rva)
		return x->rva < y->rva ? -1 : 1;
	return strcmp(x->name, y->name);
}

int wdt_symtab_init(struct wdt_symtab *t, const struct wdt_module *mod,
		    struct wdt_pdb *pdb, struct wdt_err *err)
{
	const struct wdt_pdb_public *v;
	size_t n;

	memset(t, 0, sizeof(*t));
	t->mod = mod;
	t->pdb = pdb;
	if (wdt_pdb_publics(pdb, &v, &n, err) < 0)
		return -1;
	t->by_rva = malloc((n ? n : 1) * sizeof(*t->by_rva));
	if (!t->by_rva)
		return wdt_err_nomem(err);
	for (size_t i = 0; i < n; i++)
		if (v[i].has_rva)
			t->by_rva[t->n++] = &v[i];
	qsort(t->by_rva, t->n, sizeof(*t->by_rva), cmp_rva);
	return 0;
}

void wdt_symtab_free(struct wdt_symtab *t)
{
	free(t->by_rva);
	wdt_pdb_close(t->pdb);
	memset(t, 0, sizeof(*t));
}

/* The last public at or before rva (binary search). */
static const struct wdt_pdb_public *symtab_at(const struct wdt_symtab *t,
					      uint32_t rva)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->by_rva[mid]->rva <= rva)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? t->by_rva[lo - 1] : NULL;
}

/* WinDbg's module name: "nt" for the kernel, else the name sans suffix. */
static void short_name(const struct wdt_modules *m,
		       const struct wdt_module *mod, char *out, size_t cap)
{
	const char *dot;

	if (mod == &m->v[0]) {
		snprintf(out, cap, "nt");
		return;
	}
	dot = strrchr(mod->name, '.');
	snprintf(out, cap, "%.*s",
		 (int)(dot && dot != mod->name ? dot - mod->name
					       : (long)strlen(mod->name)),
		 mod->name);
}

void wdt_where(const struct wdt_modules *m, const struct wdt_symtab *syms,
	       size_t nsyms, uint64_t va, struct wdt_where *w)
{
	char mname[WDT_MODULE_NAME_MAX];

	memset(w, 0, sizeof(*w));
	w->va = va;
	w->mod = wdt_modules_find(m, va);
	if (!w->mod) {
		snprintf(w->text, sizeof(w->text), "0x%016" PRIx64, va);
		return;
	}
	w->offset = va - w->mod->base;
	short_name(m, w->mod, mname, sizeof(mname));
	for (size_t i = 0; i < nsyms; i++) {
		const struct wdt_pdb_public *p;
		if (syms[i].mod != w->mod)
			continue;
		p = symtab_at(&syms[i], (uint32_t)w->offset);
		if (p) {
			w->symbol = p->name;
			w->sym_offset = w->offset - p->rva;
		}
	}
	if (w->symbol && w->sym_offset)
		snprintf(w->text, sizeof(w->text), "%s!%.100s+0x%" PRIx64,
			 mname, w->symbol, w->sym_offset);
	else if (w->symbol)
		snprintf(w->text, sizeof(w->text), "%s!%.100s", mname,
			 w->symbol);
	else
		snprintf(w->text, sizeof(w->text), "%s+0x%" PRIx64, mname,
			 w->offset);
}

/* ---- structure offsets ---- */

/*
 * EPROCESS.UniqueProcessId and ImageFileName by build, from the public
 * type dumps of the Vergilius Project (vergiliusproject.com, _EPROCESS of
 * each x64 release). Checked against the System process before use.
 */
static const struct {
	uint32_t first_build; /* this row holds from here to the next row */
	uint32_t pid, name;
} eprocess_table[] = {
    {7600, 0x180, 0x2E0},  /* Windows 7 / 2008 R2 */
    {9200, 0x2E0, 0x438},  /* Windows 8, 8.1 / 2012 (R2) */
    {10240, 0x2E8, 0x448}, /* Windows 10 1507 */
    {10586, 0x2E8, 0x450}, /* 1511, 1607 */
    {15063, 0x2E0, 0x450}, /* 1703 .. 1809 */
    {18362, 0x2E8, 0x450}, /* 1903, 1909 */
    {19041, 0x440, 0x5A8}, /* 2004 .. 22H2, Windows 11 21H2 .. 23H2 */
    {26100, 0x1D0, 0x338}, /* Windows 11 24H2 / Server 2025 */
};

int wdt_ntoffsets_table(uint32_t build, uint32_t *pid, uint32_t *name)
{
	size_t n = sizeof(eprocess_table) / sizeof(eprocess_table[0]);

	if (build < eprocess_table[0].first_build || build > 30000)
		return 0;
	for (size_t i = n; i-- > 0;)
		if (build >= eprocess_table[i].first_build) {
			*pid = eprocess_table[i].pid;
			*name = eprocess_table[i].name;
			return 1;
		}
	return 0;
}

static uint32_t pdb_member(struct wdt_pdb *pdb, const char *type,
			   const char *path)
{
	struct wdt_pdb_member mb;
	struct wdt_err e;

	if (!pdb || wdt_pdb_member(pdb, type, path, &mb, &e) != 1 ||
	    mb.offset > 0xFFFF)
		return 0;
	return (uint32_t)mb.offset;
}

/* Does System's EPROCESS hold "System" at name and 4 at pid? */
static bool system_ok(const struct wdt_kernel *k, uint64_t sys, uint32_t name,
		      uint32_t pid)
{
	uint8_t b[WDT_IMAGE_FILE_NAME_LEN + 1];
	uint64_t v;
	struct wdt_err e;

	if (!name || wdt_kernel_read(k, sys + name, b, sizeof(b), &e) < 0 ||
	    memcmp(b, "System", 7) != 0)
		return false;
	return !pid ||
	       (wdt_kernel_read_u64(k, sys + pid, &v, &e) == 0 && v == 4);
}

static uint64_t system_process(const struct wdt_kernel *k)
{
	uint32_t rva;
	uint64_t p = 0;
	struct wdt_err e;

	if (k->pe &&
	    wdt_pe_export_rva(k->pe, "PsInitialSystemProcess", &rva, &e) == 1)
		wdt_kernel_read_u64(k, k->base_va + rva, &p, &e);
	return p;
}

void wdt_ntoffsets_find(const struct wdt_kernel *k, const struct wdt_kdbg *d,
			struct wdt_pdb *pdb, uint32_t build,
			struct wdt_ntoffsets *o)
{
	uint64_t sys = system_process(k);
	uint32_t pid, name;

	memset(o, 0, sizeof(*o));
	o->prcb_current_thread = pdb_member(pdb, "_KPRCB", "CurrentThread");
	o->kthread_process = pdb_member(pdb, "_KTHREAD", "ApcState.Process");
	o->thread_source = "pdb";
	if (!o->prcb_current_thread || !o->kthread_process) {
		o->prcb_current_thread = (uint32_t)wdt_kdbg_get(
		    d, WDT_KDBG_OFFSET_PRCB_CURRENT_THREAD, 2);
		o->kthread_process = (uint32_t)wdt_kdbg_get(
		    d, WDT_KDBG_OFFSET_KTHREAD_APC_PROCESS, 2);
		o->thread_source = "kdbg";
	}
	name = pdb_member(pdb, "_EPROCESS", "ImageFileName");
	pid = pdb_member(pdb, "_EPROCESS", "UniqueProcessId");
	if (name) {
		o->eprocess_name = name;
		o->eprocess_pid = pid;
		o->process_source = "pdb";
		return;
	}
	if (!sys)
		return;
	if (wdt_ntoffsets_table(build, &pid, &name) &&
	    system_ok(k, sys, name, pid)) {
		o->eprocess_name = name;
		o->eprocess_pid = pid;
		o->process_source = "build-table";
		return;
	}
	for (uint32_t off = 0x100; off < 0x1000; off += 8)
		if (system_ok(k, sys, off, 0)) {
			o->eprocess_name = off;
			o->process_source = "system-scan";
			return;
		}
}

/* ---- the crash ---- */

bool wdt_triage_after_call(const uint8_t b[7])
{
	/* b[6] is the byte just before the return address. */
	if (b[2] == 0xE8) /* call rel32 */
		return true;
	if (b[1] == 0xFF && (b[2] == 0x15 || (b[2] & 0xF8) == 0x90))
		return true; /* call [rip+disp32], call [reg+disp32] */
	if (b[4] == 0xFF && (b[5] & 0xF8) == 0x50)
		return true; /* call [reg+disp8] */
	if (b[5] == 0xFF && (b[6] & 0xF8) == 0xD0)
		return true; /* call reg */
	return false;
}

static bool is_return_address(const struct wdt_kernel *k, uint64_t va)
{
	uint8_t b[7];
	struct wdt_err e;

	return va >= 7 && wdt_kernel_read(k, va - 7, b, sizeof(b), &e) == 0 &&
	       wdt_triage_after_call(b);
}

/* The first return address into a module other than the kernel. */
static bool stack_blame(const struct wdt_kernel *k, const struct wdt_modules *m,
			uint64_t rsp, uint64_t *va)
{
	uint8_t page[WDT_PAGE_SIZE];
	struct wdt_err e;

	for (uint64_t p = rsp & ~7ull; p < rsp + WDT_TRIAGE_STACK_SCAN;) {
		uint64_t end = (p | WDT_PAGE_MASK) + 1;
		size_t n = (size_t)(end - p);
		if (wdt_kernel_read(k, p, page, n, &e) < 0)
			return false;
		for (size_t i = 0; i + 8 <= n; i += 8) {
			uint64_t v = wdt_le64(page + i);
			const struct wdt_module *mod = wdt_modules_find(m, v);
			if (mod && mod != &m->v[0] && is_return_address(k, v)) {
				*va = v;
				return true;
			}
		}
		p = end;
	}
	return false;
}

void wdt_triage_bucket(uint32_t code, const struct wdt_where *w, char *buf,
		       size_t len, const char **basis)
{
	const char *t = w->text;

	if (!w->mod) {
		snprintf(buf, len, "0x%X_UNKNOWN", code);
		*basis = "none";
		return;
	}
	if (w->symbol) {
		/* module!Function: the offset inside it does not matter. */
		const char *plus = strchr(t, '+');
		snprintf(buf, len, "0x%X_%.*s", code,
			 (int)(plus ? plus - t : (long)strlen(t)), t);
		*basis = "symbol";
	} else {
		snprintf(buf, len, "0x%X_%s", code, t);
		*basis = "offset";
	}
}

static void read_process(const struct wdt_kernel *k,
			 const struct wdt_bugcheck *bc,
			 const struct wdt_ntoffsets *off, struct wdt_triage *t)
{
	uint8_t name[WDT_IMAGE_FILE_NAME_LEN];
	struct wdt_err e;

	if (!off->prcb_current_thread || !off->kthread_process ||
	    wdt_kernel_read_u64(k,
				bc->prcbs[bc->cpu] + off->prcb_current_thread,
				&t->thread, &e) < 0 ||
	    !t->thread ||
	    wdt_kernel_read_u64(k, t->thread + off->kthread_process,
				&t->process, &e) < 0 ||
	    !t->process)
		return;
	t->have_process = true;
	if (off->eprocess_name &&
	    wdt_kernel_read(k, t->process + off->eprocess_name, name,
			    sizeof(name), &e) == 0) {
		size_t i;
		for (i = 0; i < sizeof(name) && name[i]; i++)
			t->process_name[i] = name[i] >= 0x20 && name[i] < 0x7F
						 ? (char)name[i]
						 : '?';
		t->process_name[i] = 0;
	}
	if (off->eprocess_pid &&
	    wdt_kernel_read_u64(k, t->process + off->eprocess_pid, &t->pid,
				&e) == 0)
		t->have_pid = true;
}

void wdt_triage_run(const struct wdt_kernel *k, const struct wdt_bugcheck *bc,
		    const struct wdt_modules *m, const struct wdt_symtab *syms,
		    size_t nsyms, const struct wdt_ntoffsets *off,
		    struct wdt_triage *t)
{
	static const char *const pnames[4] = {"P1", "P2", "P3", "P4"};
	uint64_t rsp, ret, va;
	int p;
	struct wdt_err e;

	memset(t, 0, sizeof(*t));
	t->bc = bc;
	t->bucket_basis = "none";
	if (!bc->crashed)
		return;
	snprintf(t->bucket, sizeof(t->bucket), "0x%X_UNKNOWN", bc->code);

	/* The parameter the code says holds the faulting address. */
	p = wdt_bugcode_blame_param(bc->code, bc->params);
	if (p >= 0 && wdt_modules_find(m, bc->params[p])) {
		wdt_where(m, syms, nsyms, bc->params[p], &t->blamed);
		t->blame_how = pnames[p];
	}
	if (bc->cpu < 0 || !bc->have_context)
		goto bucket;
	read_process(k, bc, off, t);
	t->have_rip = true;
	wdt_where(m, syms, nsyms, wdt_le64(bc->context + WDT_CTX_RIP), &t->rip);
	rsp = wdt_le64(bc->context + WDT_CTX_RSP);
	if (wdt_kernel_read_u64(k, rsp, &ret, &e) == 0)
		wdt_where(m, syms, nsyms, ret, &t->rsp_ret);
	if (t->blame_how)
		goto bucket;
	/* A driver on the stack, else KeBugCheckEx's caller, else Rip. */
	if (stack_blame(k, m, rsp, &va)) {
		wdt_where(m, syms, nsyms, va, &t->blamed);
		t->blame_how = "stack";
	} else if (t->rsp_ret.mod) {
		t->blamed = t->rsp_ret;
		t->blame_how = "caller";
	} else if (t->rip.mod) {
		t->blamed = t->rip;
		t->blame_how = "rip";
	}
bucket:
	if (t->blame_how)
		wdt_triage_bucket(bc->code, &t->blamed, t->bucket,
				  sizeof(t->bucket), &t->bucket_basis);
}
