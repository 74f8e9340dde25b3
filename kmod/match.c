// SPDX-License-Identifier: GPL-2.0
/*
 * match.c - locate every target function in the running kernel and verify
 * its bytes against the pre code of the update (run-pre matching).
 *
 * Location: System.map address + KASLR slide. The slide comes from two
 * exported anchors (&_printk, &stop_machine) that must agree, and kallsyms
 * must name the resulting address `name+0x0`. Then the bytes decide: a wrong
 * address, another compiler, another config or a kernel already modified by
 * someone else all show up as a mismatch, which aborts before anything is
 * changed and names the function and byte offset.
 *
 * Bytes outside sites must be equal. Relocation sites are computed, not
 * skipped: PC32 must hold S + A - P with S = System.map address + slide and
 * P the running place. A reference into a merged string section must point
 * at the very string the pre code referenced (its bytes are compared). Any
 * other relocation whose symbol the generator could not resolve
 * (symbol_map_addr 0) is learned from the running bytes, and must be learned
 * consistently at every site naming it. Runtime-patched sites go to
 * arch_x86.c.
 */
#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/stop_machine.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "ksplice_internal.h"

static const char *reloc_type_name(unsigned int type)
{
	switch (type) {
	case KSPLICE_R_X86_64_64: return "R_X86_64_64";
	case KSPLICE_R_X86_64_PC32: return "R_X86_64_PC32";
	case KSPLICE_R_X86_64_PLT32: return "R_X86_64_PLT32";
	case KSPLICE_R_X86_64_32: return "R_X86_64_32";
	case KSPLICE_R_X86_64_32S: return "R_X86_64_32S";
	case KSPLICE_R_X86_64_PC64: return "R_X86_64_PC64";
	default: return "R_X86_64_?";
	}
}

static unsigned int reloc_size(unsigned int type)
{
	switch (type) {
	case KSPLICE_R_X86_64_64:
	case KSPLICE_R_X86_64_PC64:
		return 8;
	case KSPLICE_R_X86_64_PC32:
	case KSPLICE_R_X86_64_PLT32:
	case KSPLICE_R_X86_64_32:
	case KSPLICE_R_X86_64_32S:
		return 4;
	default:
		return 0;
	}
}

static bool reloc_is_pc_relative(unsigned int type)
{
	return type == KSPLICE_R_X86_64_PC32 || type == KSPLICE_R_X86_64_PLT32 ||
	       type == KSPLICE_R_X86_64_PC64;
}

/* Value stored at a relocation site, widened to 64 bits the way the CPU reads it. */
static u64 read_reloc_value(const u8 *p, unsigned int type)
{
	u64 v64;
	s32 s;
	u32 u;

	switch (type) {
	case KSPLICE_R_X86_64_64:
	case KSPLICE_R_X86_64_PC64:
		memcpy(&v64, p, 8);
		return v64;
	case KSPLICE_R_X86_64_32:
		memcpy(&u, p, 4);
		return u;
	default:
		memcpy(&s, p, 4);
		return (u64)(s64)s;
	}
}

static struct ksplice_learned *find_learned(struct ksplice_update_state *us, const char *name)
{
	unsigned int i;

	for (i = 0; i < us->nr_learned; i++)
		if (!strcmp(us->learned[i].name, name))
			return &us->learned[i];
	return NULL;
}

/* A reference into a merged string section: the running code must point at the same string. */
static int match_string_reference(struct ksplice_update_state *us, struct ksplice_func_state *fs,
				  const struct ksplice_site *site, u64 running, unsigned long place)
{
	size_t len = strlen(site->target_string) + 1;
	unsigned long target;
	char *seen;
	int ret = 0;

	target = reloc_is_pc_relative(site->reloc_type) ? place + 4 + (long)running : (unsigned long)running;
	seen = kmalloc(len, GFP_KERNEL);
	if (!seen)
		return ksplice_abort(us, KSPLICE_ABORT_OUT_OF_MEMORY, "string check");
	if (copy_from_kernel_nofault(seen, (void *)target, len) || memcmp(seen, site->target_string, len))
		ret = ksplice_abort(us, KSPLICE_ABORT_NO_MATCH,
				    "%s+0x%x: %s to %s%+ld: running code points at 0x%lx, which does not hold \"%.40s\"",
				    fs->func->name, site->offset, reloc_type_name(site->reloc_type),
				    site->symbol, site->addend, target, site->target_string);
	kfree(seen);
	return ret;
}

static int match_reloc(struct ksplice_update_state *us, struct ksplice_func_state *fs,
		       const u8 *run, const struct ksplice_site *site)
{
	unsigned int size = reloc_size(site->reloc_type);
	unsigned long place = fs->addr + site->offset;
	u64 running = read_reloc_value(run + site->offset, site->reloc_type);
	u64 expected, mask = size == 8 ? ~0ULL : 0xffffffffULL;
	unsigned long sym;

	if (!size || size != site->length || !site->symbol)
		return ksplice_abort(us, KSPLICE_ABORT_BAD_DESCRIPTOR,
				     "%s+0x%x: bad relocation site (type %u, length %u)",
				     fs->func->name, site->offset, site->reloc_type, site->length);

	if (!site->symbol_map_addr && site->target_string)
		return match_string_reference(us, fs, site, running, place);
	if (!site->symbol_map_addr && site->symbol_in_module && fs->mod) {
		unsigned long size;
		unsigned int count;

		/* The target module's own symbol, by name in its symbol table. */
		if (!ksplice_module_symbol(fs->mod, site->symbol, false, 0, &sym, &size, &count) &&
		    count == 1)
			goto computed;
	}
	if (!site->symbol_map_addr) {
		struct ksplice_learned *l;

		/* Learn S from the running value, then demand consistency. */
		sym = running - site->addend + (reloc_is_pc_relative(site->reloc_type) ? place : 0);
		l = find_learned(us, site->symbol);
		if (!l) {
			if (us->nr_learned == us->max_learned)
				return ksplice_abort(us, KSPLICE_ABORT_UNEXPECTED, "learned-symbol table full");
			l = &us->learned[us->nr_learned++];
			l->name = site->symbol;
			l->value = sym;
			return 0;
		}
		if (l->value == sym)
			return 0;
		return ksplice_abort(us, KSPLICE_ABORT_NO_MATCH,
				     "%s+0x%x: %s to %s%+ld: running code implies %s=0x%lx, earlier site implied 0x%lx",
				     fs->func->name, site->offset, reloc_type_name(site->reloc_type),
				     site->symbol, site->addend, site->symbol, sym, l->value);
	}

	sym = site->symbol_map_addr + (site->symbol_is_percpu ? 0 : us->slide);
computed:
	expected = sym + site->addend - (reloc_is_pc_relative(site->reloc_type) ? place : 0);
	if (site->reloc_type == KSPLICE_R_X86_64_32S || site->reloc_type == KSPLICE_R_X86_64_PC32 ||
	    site->reloc_type == KSPLICE_R_X86_64_PLT32) {
		if ((s64)expected != (s64)(s32)expected)
			return ksplice_abort(us, KSPLICE_ABORT_NO_MATCH,
					     "%s+0x%x: %s to %s%+ld does not fit in 32 bits",
					     fs->func->name, site->offset,
					     reloc_type_name(site->reloc_type), site->symbol, site->addend);
	}
	if ((running & mask) == (expected & mask))
		return 0;
	return ksplice_abort(us, KSPLICE_ABORT_NO_MATCH,
			     "%s+0x%x: %s to %s%+ld: running value 0x%llx, expected 0x%llx",
			     fs->func->name, site->offset, reloc_type_name(site->reloc_type),
			     site->symbol, site->addend, running & mask, expected & mask);
}

/*
 * Compare [off, off + len) of the running code with the pre code, treating
 * every relocation site inside the range by computation. Relocation sites
 * must lie wholly inside or wholly outside the range.
 */
int ksplice_match_plain(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			const u8 *run, unsigned int off, unsigned int len)
{
	const struct ksplice_func *f = fs->func;
	unsigned int end = off + len, pos = off, i;
	int ret;

	for (i = 0; i < f->nr_sites && pos <= end; i++) {
		const struct ksplice_site *s = &f->sites[i];
		unsigned int b;

		if (s->kind != KSPLICE_SITE_RELOC || s->offset + s->length <= off || s->offset >= end)
			continue;
		if (s->offset < off || s->offset + s->length > end)
			return ksplice_abort(us, KSPLICE_ABORT_BAD_DESCRIPTOR,
					     "%s+0x%x: relocation straddles a site boundary",
					     f->name, s->offset);
		for (b = pos; b < s->offset; b++)
			if (run[b] != f->pre_code[b])
				goto byte_mismatch;
		ret = match_reloc(us, fs, run, s);
		if (ret)
			return ret;
		pos = s->offset + s->length;
	}
	for (i = pos; i < end; i++)
		if (run[i] != f->pre_code[i]) {
			pos = i;
			goto byte_mismatch_at_pos;
		}
	return 0;

byte_mismatch:
	for (; pos < end && run[pos] == f->pre_code[pos]; pos++)
		;
byte_mismatch_at_pos:
	return ksplice_abort(us, KSPLICE_ABORT_NO_MATCH,
			     "%s+0x%x: running byte 0x%02x, pre code 0x%02x",
			     f->name, pos, run[pos], f->pre_code[pos]);
}

static bool is_patched_kind(unsigned int kind)
{
	return kind != KSPLICE_SITE_RELOC;
}

static int check_sites(struct ksplice_update_state *us, const struct ksplice_func *f)
{
	unsigned int i, last_patched_end = 0, last_offset = 0;

	for (i = 0; i < f->nr_sites; i++) {
		const struct ksplice_site *s = &f->sites[i];

		if (!s->length || s->offset + s->length > f->pre_size || s->offset < last_offset)
			return ksplice_abort(us, KSPLICE_ABORT_BAD_DESCRIPTOR,
					     "%s: site %u (offset 0x%x, length %u) out of order or bounds",
					     f->name, i, s->offset, s->length);
		last_offset = s->offset;
		if (!is_patched_kind(s->kind))
			continue;
		if (s->offset < last_patched_end)
			return ksplice_abort(us, KSPLICE_ABORT_BAD_DESCRIPTOR,
					     "%s+0x%x: runtime-patched sites overlap", f->name, s->offset);
		last_patched_end = s->offset + s->length;
	}
	return 0;
}

/* Run-pre match one function whose running bytes are in run[0..pre_size). */
static int match_function(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			  const u8 *run)
{
	const struct ksplice_func *f = fs->func;
	unsigned int pos = 0, i;
	int ret;

	for (i = 0; i < f->nr_sites; i++) {
		const struct ksplice_site *s = &f->sites[i];

		if (!is_patched_kind(s->kind))
			continue;
		ret = ksplice_match_plain(us, fs, run, pos, s->offset - pos);
		if (ret)
			return ret;
		ret = ksplice_arch_match_site(us, fs, run, i);
		if (ret)
			return ret;
		if (s->kind == KSPLICE_SITE_FENTRY)
			fs->fentry_ip = fs->addr + s->offset;
		pos = s->offset + s->length;
	}
	return ksplice_match_plain(us, fs, run, pos, f->pre_size - pos);
}

/*
 * "name+0x0/0x1a0" -> true when kallsyms names `addr` `name` at offset 0, in
 * vmlinux (not a module); its size out if asked.
 */
bool ksplice_kallsyms_names(unsigned long addr, const char *name, unsigned long *size)
{
	char buf[KSYM_SYMBOL_LEN];
	size_t n = strlen(name);

	sprint_symbol(buf, addr);
	if (strncmp(buf, name, n) || strncmp(buf + n, "+0x0/", 5) || strchr(buf, '['))
		return false;
	if (size && kstrtoul(buf + n + 5, 16, size))
		return false;
	return true;
}

static int compute_slide(struct ksplice_update_state *us)
{
	struct ksplice_update *u = us->update;
	unsigned long s1 = (unsigned long)&_printk - u->printk_map_addr;
	unsigned long s2 = (unsigned long)&stop_machine - u->stop_machine_map_addr;

	if (!u->printk_map_addr || !u->stop_machine_map_addr || s1 != s2)
		return ksplice_abort(us, KSPLICE_ABORT_BAD_ADDRESS,
				     "KASLR anchors disagree: _printk gives slide 0x%lx, stop_machine 0x%lx",
				     s1, s2);
	us->slide = s1;
	return 0;
}

/*
 * What the module loader resolved for the new code (.klp.rela) must be what
 * ksplice-create meant: the System.map copy, moved by the slide. Example: a
 * local name `state` two files define, asked for at position 2, that the
 * loader found at position 2 of a kallsyms order that differs from the
 * build's System.map: the addresses differ, and the update stops here.
 */
static int verify_loaded_symbols(struct ksplice_update_state *us)
{
	struct ksplice_update *u = us->update;
	unsigned int i;

	for (i = 0; i < u->nr_loaded_symbols; i++) {
		const struct ksplice_loaded_symbol *sym = &u->loaded_symbols[i];
		unsigned long expected;

		if (!sym->name || !sym->loaded)
			return ksplice_abort(us, KSPLICE_ABORT_BAD_DESCRIPTOR,
					     "loaded symbol %u has no name or no value", i);
		expected = sym->map_addr + (sym->is_percpu ? 0 : us->slide);
		if (*sym->loaded != expected)
			return ksplice_abort(us, KSPLICE_ABORT_BAD_ADDRESS,
					     "%s: the module loader resolved it to 0x%lx, System.map 0x%lx + slide gives 0x%lx",
					     sym->name, *sym->loaded, sym->map_addr, expected);
		if (!sym->is_percpu && !ksplice_kallsyms_names(expected, sym->name, NULL))
			return ksplice_abort(us, KSPLICE_ABORT_BAD_ADDRESS,
					     "%s: 0x%lx is not %s in kallsyms", sym->name, expected,
					     sym->name);
	}
	us->nr_loaded_verified = u->nr_loaded_symbols;
	return 0;
}

static int resolve_symbols(struct ksplice_update_state *us)
{
	struct ksplice_update *u = us->update;
	unsigned int i;

	for (i = 0; i < u->nr_symbols; i++) {
		struct ksplice_symbol *sym = &u->symbols[i];
		unsigned long addr = sym->map_addr + us->slide;

		if (!sym->name || !sym->addr || !ksplice_kallsyms_names(addr, sym->name, NULL))
			return ksplice_abort(us, KSPLICE_ABORT_BAD_ADDRESS,
					     "symbol %s: System.map address 0x%lx + slide is not %s in kallsyms",
					     sym->name ? sym->name : "?", sym->map_addr,
					     sym->name ? sym->name : "?");
		*sym->addr = addr;
	}
	return 0;
}

/* Locate f at System.map address map_addr (+ slide) and run-pre match it there. */
static int locate_at(struct ksplice_update_state *us, struct ksplice_func_state *fs,
		     unsigned long map_addr, u8 *run)
{
	const struct ksplice_func *f = fs->func;
	unsigned long ksize;

	fs->addr = map_addr + us->slide;
	fs->fentry_ip = 0;
	if (!ksplice_kallsyms_names(fs->addr, f->name, &ksize)) {
		char buf[KSYM_SYMBOL_LEN];

		sprint_symbol(buf, fs->addr);
		return ksplice_abort(us, KSPLICE_ABORT_BAD_ADDRESS,
				     "%s: System.map address 0x%lx + slide 0x%lx is %s in the running kernel",
				     f->name, map_addr, us->slide, buf);
	}
	if (f->pre_size > ksize)
		return ksplice_abort(us, KSPLICE_ABORT_NO_MATCH,
				     "%s: pre code is %u bytes, the running function only %lu",
				     f->name, f->pre_size, ksize);
	if (copy_from_kernel_nofault(run, (void *)fs->addr, f->pre_size))
		return ksplice_abort(us, KSPLICE_ABORT_BAD_ADDRESS, "%s: cannot read 0x%lx",
				     f->name, fs->addr);
	return match_function(us, fs, run);
}

/*
 * A module target: the function `name` (the sympos-th of that name, or the
 * only one) in the symbol table of the loaded module fs->mod, then run-pre
 * matched there like vmlinux code.
 */
static int locate_in_module(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			    u8 *run)
{
	const struct ksplice_func *f = fs->func;
	unsigned long addr = 0, size = 0;
	unsigned int count;

	fs->fentry_ip = 0;
	fs->addr = 0;
	if (ksplice_module_symbol(fs->mod, f->name, true, f->sympos, &addr, &size, &count))
		return ksplice_abort(us, KSPLICE_ABORT_BAD_ADDRESS,
				     "%s: module %s has %u function(s) of that name (sympos %lu)",
				     f->name, f->module, count, f->sympos);
	if (!f->sympos && count > 1)
		return ksplice_abort(us, KSPLICE_ABORT_BAD_ADDRESS,
				     "%s: module %s has %u functions of that name and no sympos: ambiguous",
				     f->name, f->module, count);
	if (!within_module_core(addr, fs->mod))
		return ksplice_abort(us, KSPLICE_ABORT_BAD_ADDRESS,
				     "%s: 0x%lx is not in the core text of module %s",
				     f->name, addr, f->module);
	if (f->pre_size > size)
		return ksplice_abort(us, KSPLICE_ABORT_NO_MATCH,
				     "%s: pre code is %u bytes, the running function in %s only %lu",
				     f->name, f->pre_size, f->module, size);
	fs->addr = addr;
	if (copy_from_kernel_nofault(run, (void *)addr, f->pre_size))
		return ksplice_abort(us, KSPLICE_ABORT_BAD_ADDRESS, "%s: cannot read 0x%lx",
				     f->name, addr);
	return match_function(us, fs, run);
}

/*
 * A local name several objects define (System.map has it more than once):
 * with sympos, that candidate is the one and must match; without, run-pre
 * matching picks the copy, as Ksplice did: exactly one candidate may match,
 * none is no_match, several (identical copies) is ambiguous.
 */
static int locate_among_candidates(struct ksplice_update_state *us, struct ksplice_func_state *fs,
				   u8 *run)
{
	const struct ksplice_func *f = fs->func;
	unsigned int saved_learned = us->nr_learned, c, matches = 0;
	unsigned int saved_rewritten[KSPLICE_SITE_KINDS], saved_original[KSPLICE_SITE_KINDS];
	unsigned long winner = 0;

	if (!f->nr_map_candidates || !f->map_candidates)
		return ksplice_abort(us, KSPLICE_ABORT_BAD_DESCRIPTOR,
				     "%s: neither map_addr nor candidates", f->name);
	if (f->sympos) {
		/* The generator knows which copy is ours: verify that one only. */
		if (f->sympos > f->nr_map_candidates)
			return ksplice_abort(us, KSPLICE_ABORT_BAD_DESCRIPTOR,
					     "%s: sympos %lu but %u candidates", f->name, f->sympos,
					     f->nr_map_candidates);
		return locate_at(us, fs, f->map_candidates[f->sympos - 1], run);
	}
	memcpy(saved_rewritten, us->sites_rewritten, sizeof(saved_rewritten));
	memcpy(saved_original, us->sites_original, sizeof(saved_original));
	us->probing++;
	for (c = 0; c < f->nr_map_candidates; c++) {
		us->nr_learned = saved_learned;
		if (!locate_at(us, fs, f->map_candidates[c], run)) {
			matches++;
			winner = f->map_candidates[c];
		}
	}
	us->probing--;
	us->nr_learned = saved_learned;
	memcpy(us->sites_rewritten, saved_rewritten, sizeof(saved_rewritten));
	memcpy(us->sites_original, saved_original, sizeof(saved_original));
	if (matches == 0)
		return ksplice_abort(us, KSPLICE_ABORT_NO_MATCH,
				     "%s: none of its %u System.map candidates matches the pre code",
				     f->name, f->nr_map_candidates);
	if (matches > 1)
		return ksplice_abort(us, KSPLICE_ABORT_BAD_ADDRESS,
				     "%s: %u of its %u System.map candidates match: ambiguous",
				     f->name, matches, f->nr_map_candidates);
	/* Again, for real: records learned symbols, site statistics and the fentry site. */
	return locate_at(us, fs, winner, run);
}

/* What every match starts with: the slide, the loader's symbols, an empty learned table. */
static int match_prologue(struct ksplice_update_state *us)
{
	struct ksplice_update *u = us->update;
	unsigned int i, total_relocs = 0;
	int ret;

	us->nr_loaded_verified = 0;	/* sysfs shows what this match verified, nothing older */
	ret = compute_slide(us);
	if (!ret)
		ret = verify_loaded_symbols(us);
	if (ret)
		return ret;

	for (i = 0; i < u->nr_funcs; i++)
		total_relocs += u->funcs[i].nr_sites;
	kfree(us->learned);
	us->learned = kcalloc(max(total_relocs, 1u), sizeof(*us->learned), GFP_KERNEL);
	if (!us->learned)
		return ksplice_abort(us, KSPLICE_ABORT_OUT_OF_MEMORY, "learned-symbol table");
	us->max_learned = max(total_relocs, 1u);
	us->nr_learned = 0;
	memset(us->sites_rewritten, 0, sizeof(us->sites_rewritten));
	memset(us->sites_original, 0, sizeof(us->sites_original));
	return 0;
}

/* Locate and match one function (fs->mod set for a module target). */
static int locate_one(struct ksplice_update_state *us, struct ksplice_func_state *fs)
{
	struct ksplice_func *f = fs->func;
	u8 *run;
	int ret;

	ret = check_sites(us, f);
	if (ret)
		return ret;
	run = kmalloc(f->pre_size, GFP_KERNEL);
	if (!run)
		return ksplice_abort(us, KSPLICE_ABORT_OUT_OF_MEMORY, "copy of %s", f->name);
	if (f->module)
		ret = locate_in_module(us, fs, run);
	else if (f->map_addr)
		ret = locate_at(us, fs, f->map_addr, run);
	else
		ret = locate_among_candidates(us, fs, run);
	kfree(run);
	if (!ret && !fs->fentry_ip && f->new_func)
		ret = ksplice_abort(us, KSPLICE_ABORT_CANNOT_REDIRECT,
				    "%s: no fentry site, ftrace cannot redirect it", f->name);
	return ret;
}

/*
 * Every target: vmlinux ones always; a module target when its module is
 * loaded (fs->mod set), else it stays pending (fs->mod NULL, fs->addr 0)
 * and the module notifier matches it when the module loads.
 */
int ksplice_locate_and_match(struct ksplice_update_state *us)
{
	struct ksplice_update *u = us->update;
	unsigned int i;
	int ret;

	ret = match_prologue(us);
	if (ret)
		return ret;
	for (i = 0; i < u->nr_funcs; i++) {
		struct ksplice_func_state *fs = &us->funcs[i];

		fs->mod = NULL;
		if (u->funcs[i].module) {
			struct module *mod = ksplice_find_module(us, u->funcs[i].module);

			if (IS_ERR(mod))
				return ksplice_abort(us, KSPLICE_ABORT_BAD_ADDRESS,
						     "modules: System.map address 0x%lx + slide is not the kernel's module list",
						     u->modules_map_addr);
			if (!mod) {
				fs->addr = 0;
				fs->fentry_ip = 0;
				continue;	/* pending: patched when it loads */
			}
			fs->mod = mod;
		}
		ret = locate_one(us, fs);
		if (ret)
			return ret;
	}
	return resolve_symbols(us);
}

bool ksplice_update_targets_module(const struct ksplice_update *u, const char *name)
{
	unsigned int i;

	for (i = 0; i < u->nr_funcs; i++)
		if (u->funcs[i].module && !strcmp(u->funcs[i].module, name))
			return true;
	return false;
}

/*
 * A module coming while the update is applied: locate and match its
 * targets in that module (fs->mod set on success; left NULL on failure).
 */
int ksplice_match_coming(struct ksplice_update_state *us, struct module *mod)
{
	struct ksplice_update *u = us->update;
	unsigned int i;
	int ret;

	ret = match_prologue(us);
	for (i = 0; !ret && i < u->nr_funcs; i++) {
		if (!u->funcs[i].module || strcmp(u->funcs[i].module, mod->name))
			continue;
		us->funcs[i].mod = mod;
		ret = locate_one(us, &us->funcs[i]);
	}
	if (ret)
		for (i = 0; i < u->nr_funcs; i++)
			if (us->funcs[i].mod == mod) {
				us->funcs[i].mod = NULL;
				us->funcs[i].addr = 0;
			}
	return ret;
}
