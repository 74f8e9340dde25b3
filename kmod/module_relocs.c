// SPDX-License-Identifier: GPL-2.0
/*
 * module_relocs.c - the new code's references into a target module's own
 * symbols (its statics, and its exports: the update must load while the
 * module is absent), resolved against the loaded instance.
 *
 * The module loader cannot resolve them: the target module may not be
 * loaded when the update module is, and it may be unloaded and loaded again
 * at another address while the update stays applied. So ksplice-create
 * leaves those fields zero and describes them the way livepatch does
 * (Documentation/livepatch/module-elf-format.rst): a relocation section
 * `.klp.rela.<module>.<section>` (SHF_RELA_LIVEPATCH | SHF_ALLOC, so it stays
 * in the update module's memory) whose symbols are `.klp.sym.<module>.
 * <name>,<pos>`; modinfo `livepatch=Y` makes the loader keep the section
 * headers (mod->klp_info) and every symbol. The loader itself only applies
 * the `.klp.rela.vmlinux.*` sections; these wait for us.
 *
 * When a target module is there (at apply, or at its COMING) the core
 * writes them: `name` is looked up in that module's own symbol table (the
 * pos-th of that name; pos 0: it must be unique), the field computed as the
 * x86-64 module loader would, and written with the kernel's text_poke()
 * under text_mutex (the update module's text is read-only by then; neither
 * is exported, so both come from System.map + slide, checked by kallsyms
 * like the `modules` head). Writing is idempotent: a field that already
 * holds the value is left alone, a field holding anything else but zero is
 * refused (bad_address). When the module goes (GOING, a refused COMING, an
 * undo, a failed apply) the fields are zeroed again, so the next load of
 * the module can be written afresh: 6.1 has no clear_relocate_add().
 *
 * The new code cannot run before its fields are written: it is reached only
 * through the redirects of that module's functions, switched in after.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/elf.h>
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include "ksplice_internal.h"

#define KLP_REL_PREFIX ".klp.rela."

typedef void *(*text_poke_fn)(void *addr, const void *opcode, size_t len);

/* A System.map symbol of the running kernel, checked by kallsyms: NULL if it does not check out. */
static void *map_symbol(struct ksplice_update_state *us, unsigned long map_addr, const char *name)
{
	unsigned long addr = map_addr + us->slide;

	return map_addr && ksplice_kallsyms_names(addr, name, NULL) ? (void *)addr : NULL;
}

/* Is section `sec` of the update module a relocation section for module `modname`? */
static bool is_module_rela(const struct klp_modinfo *info, const Elf_Shdr *sec, const char *modname)
{
	const char *name = info->secstrings + sec->sh_name;
	size_t len = strlen(modname);

	if (!(sec->sh_flags & SHF_RELA_LIVEPATCH) || sec->sh_type != SHT_RELA)
		return false;
	if (strncmp(name, KLP_REL_PREFIX, sizeof(KLP_REL_PREFIX) - 1))
		return false;
	name += sizeof(KLP_REL_PREFIX) - 1;
	return !strncmp(name, modname, len) && name[len] == '.';
}

/* Does the update have module relocations for `modname` at all? */
static bool has_module_relas(struct ksplice_update_state *us, const char *modname)
{
	struct module *owner = us->update->owner;
	unsigned int i;

	if (!owner->klp_info)
		return false;
	for (i = 1; i < owner->klp_info->hdr.e_shnum; i++)
		if (is_module_rela(owner->klp_info, &owner->klp_info->sechdrs[i], modname))
			return true;
	return false;
}

/* Width in bytes of the field a relocation type writes; 0: a type we do not write. */
static unsigned int field_width(unsigned int type)
{
	switch (type) {
	case R_X86_64_64:
	case R_X86_64_PC64:
		return 8;
	case R_X86_64_32:
	case R_X86_64_32S:
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		return 4;
	default:
		return 0;
	}
}

/* The field's value for symbol address `sym` (x86-64 psABI), or -ERANGE if it does not fit. */
static int field_value(unsigned int type, u64 sym, s64 addend, u64 loc, u64 *out)
{
	u64 val = sym + addend;

	switch (type) {
	case R_X86_64_64:
		*out = val;
		return 0;
	case R_X86_64_PC64:
		*out = val - loc;
		return 0;
	case R_X86_64_32:
		*out = val;
		return val == (u32)val ? 0 : -ERANGE;
	case R_X86_64_32S:
		*out = val;
		return (s64)val == (s32)val ? 0 : -ERANGE;
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		val -= loc;
		*out = val;
		return (s64)val == (s32)val ? 0 : -ERANGE;
	default:
		return -EINVAL;
	}
}

/*
 * `.klp.sym.<module>.<name>,<pos>` → name and pos; false if malformed or
 * for another module.
 */
static bool parse_klp_symbol(const char *sym, const char *modname, char *name, size_t size,
			     unsigned long *pos)
{
	const char *p = sym, *comma;
	size_t len = strlen(modname);

	if (strncmp(p, ".klp.sym.", 9))
		return false;
	p += 9;
	if (strncmp(p, modname, len) || p[len] != '.')
		return false;
	p += len + 1;
	comma = strrchr(p, ',');
	if (!comma || comma == p || (size_t)(comma - p) >= size)
		return false;
	memcpy(name, p, comma - p);
	name[comma - p] = '\0';
	return !kstrtoul(comma + 1, 10, pos);
}

struct reloc_writer {
	struct ksplice_update_state *us;
	struct module *target;
	text_poke_fn poke;
	struct mutex *text_mutex;
	bool clear;
	unsigned int written;
};

/* One relocation entry: resolve, compute and write (or zero) its field. */
static int do_one(struct reloc_writer *w, const Elf_Shdr *sechdrs, const Elf64_Rela *r)
{
	struct module *owner = w->us->update->owner;
	const struct klp_modinfo *info = owner->klp_info;
	const Elf64_Sym *symtab = (const Elf64_Sym *)sechdrs[info->symndx].sh_addr;
	const char *symname = owner->core_kallsyms.strtab + symtab[ELF64_R_SYM(r->r_info)].st_name;
	unsigned int type = ELF64_R_TYPE(r->r_info), width = field_width(type);
	u64 zero = 0, have = 0, val = 0;
	unsigned long pos, addr, size;
	char name[KSYM_NAME_LEN];
	unsigned int count;
	void *loc;

	if (!width)
		return ksplice_abort(w->us, KSPLICE_ABORT_BAD_DESCRIPTOR,
				     "relocation type %u against %s", type, symname);
	if (!parse_klp_symbol(symname, w->target->name, name, sizeof(name), &pos))
		return ksplice_abort(w->us, KSPLICE_ABORT_BAD_DESCRIPTOR,
				     "symbol %s in a relocation section for %s", symname,
				     w->target->name);
	/* Only inside the update module's own memory: the section it applies to. */
	loc = (void *)r->r_offset;
	memcpy(&have, loc, width);
	if (w->clear) {
		if (have)
			w->poke(loc, &zero, width);
		return 0;
	}
	if (ksplice_module_symbol(w->target, name, false, pos, &addr, &size, &count) ||
	    (!pos && count != 1))
		return ksplice_abort(w->us, KSPLICE_ABORT_BAD_ADDRESS,
				     "%s: module %s has %u symbol(s) of that name, wanted %s%lu",
				     name, w->target->name, count, pos ? "number " : "a unique one, pos ",
				     pos);
	if (field_value(type, addr, r->r_addend, (u64)loc, &val))
		return ksplice_abort(w->us, KSPLICE_ABORT_BAD_ADDRESS,
				     "%s of module %s at %px is out of reach of the new code at %px",
				     name, w->target->name, (void *)addr, loc);
	if (!memcmp(&have, &val, width))
		return 0;
	if (have)
		return ksplice_abort(w->us, KSPLICE_ABORT_BAD_ADDRESS,
				     "%s of module %s: the field at %px already holds %llx",
				     name, w->target->name, loc, have);
	w->poke(loc, &val, width);
	w->written++;
	return 0;
}

/* Walks every `.klp.rela.<target>.*` section of the update, writing or zeroing each field. */
static int walk(struct reloc_writer *w)
{
	struct module *owner = w->us->update->owner;
	const struct klp_modinfo *info = owner->klp_info;
	unsigned int i, j;
	int ret = 0;

	mutex_lock(w->text_mutex);
	for (i = 1; i < info->hdr.e_shnum && !ret; i++) {
		const Elf_Shdr *sec = &info->sechdrs[i];
		const Elf_Shdr *dest;
		const Elf64_Rela *relas;

		if (!is_module_rela(info, sec, w->target->name))
			continue;
		if (sec->sh_info >= info->hdr.e_shnum || !(sec->sh_flags & SHF_ALLOC)) {
			ret = ksplice_abort(w->us, KSPLICE_ABORT_BAD_DESCRIPTOR,
					    "relocation section %s is not kept in memory",
					    info->secstrings + sec->sh_name);
			break;
		}
		dest = &info->sechdrs[sec->sh_info];
		relas = (const Elf64_Rela *)sec->sh_addr;
		for (j = 0; j < sec->sh_size / sizeof(*relas) && !ret; j++) {
			Elf64_Rela r = relas[j];
			unsigned int width = field_width(ELF64_R_TYPE(r.r_info));

			/* The field must lie inside the section it applies to, in the update module. */
			if (!width || r.r_offset + width > dest->sh_size ||
			    !within_module(dest->sh_addr + r.r_offset, owner)) {
				ret = ksplice_abort(w->us, KSPLICE_ABORT_BAD_DESCRIPTOR,
						    "relocation %u of %s outside its section",
						    j, info->secstrings + sec->sh_name);
				break;
			}
			r.r_offset += dest->sh_addr;
			ret = do_one(w, info->sechdrs, &r);
		}
	}
	mutex_unlock(w->text_mutex);
	return ret;
}

static int prepare_writer(struct reloc_writer *w, struct ksplice_update_state *us,
			  struct module *target, bool clear)
{
	*w = (struct reloc_writer){ .us = us, .target = target, .clear = clear };
	w->poke = map_symbol(us, us->update->text_poke_map_addr, "text_poke");
	w->text_mutex = map_symbol(us, us->update->text_mutex_map_addr, "text_mutex");
	if (!w->poke || !w->text_mutex)
		return ksplice_abort(us, KSPLICE_ABORT_BAD_ADDRESS,
				     "text_poke/text_mutex at their System.map address + slide do not check out");
	return 0;
}

/**
 * ksplice_module_relocs_write() - resolve the update's fields for @target
 * @us:     an update being applied, or applied (at @target's COMING)
 * @target: a loaded (or coming) instance of a module the update targets
 *
 * Context: ksplice_mutex held; may sleep (text_mutex).
 * Return: 0, or an abort (bad_address: a name missing or ambiguous in
 * @target, out of reach, or a field already holding another value;
 * bad_descriptor: a malformed relocation). On failure the fields written
 * so far are zeroed again.
 */
int ksplice_module_relocs_write(struct ksplice_update_state *us, struct module *target)
{
	struct reloc_writer w;
	int ret;

	lockdep_assert_held(&ksplice_mutex);
	if (!has_module_relas(us, target->name))
		return 0;
	ret = prepare_writer(&w, us, target, false);
	if (ret)
		return ret;
	ret = walk(&w);
	if (ret) {
		ksplice_module_relocs_clear(us, target);
		return ret;
	}
	if (w.written)
		pr_info("Update %s: %u reference(s) into module %s resolved\n", us->update->id,
			w.written, target->name);
	return 0;
}

/**
 * ksplice_module_relocs_clear() - zero the update's fields for @target
 * @us:     the update
 * @target: the module going away (or whose apply/load was refused)
 *
 * Context: ksplice_mutex held; may sleep. No code may run the update's new
 * code for @target any more (its redirects are out).
 */
void ksplice_module_relocs_clear(struct ksplice_update_state *us, struct module *target)
{
	struct reloc_writer w;
	enum ksplice_abort code = us->abort_code;
	char cause[KSPLICE_ABORT_CAUSE_LEN];

	lockdep_assert_held(&ksplice_mutex);
	if (!has_module_relas(us, target->name))
		return;
	/* Zeroing must not overwrite the reason an apply or load was refused. */
	strscpy(cause, us->abort_cause, sizeof(cause));
	if (!prepare_writer(&w, us, target, true))
		walk(&w);
	us->abort_code = code;
	strscpy(us->abort_cause, cause, sizeof(us->abort_cause));
}

/* Every target module of the update that is loaded now (us->funcs[].mod), written or cleared. */
static int for_each_loaded_module(struct ksplice_update_state *us, bool clear)
{
	unsigned int i, j;
	int ret;

	for (i = 0; i < us->update->nr_funcs; i++) {
		struct module *mod = us->funcs[i].mod;
		bool seen = false;

		if (!mod)
			continue;
		for (j = 0; j < i && !seen; j++)
			seen = us->funcs[j].mod == mod;
		if (seen)
			continue;
		if (clear) {
			ksplice_module_relocs_clear(us, mod);
			continue;
		}
		ret = ksplice_module_relocs_write(us, mod);
		if (ret) {
			for (j = 0; j < i; j++)
				if (us->funcs[j].mod && us->funcs[j].mod != mod)
					ksplice_module_relocs_clear(us, us->funcs[j].mod);
			return ret;
		}
	}
	return 0;
}

/* At apply, after matching located the loaded target modules. */
int ksplice_module_relocs_write_loaded(struct ksplice_update_state *us)
{
	return for_each_loaded_module(us, false);
}

/* After a failed apply or a completed undo. */
void ksplice_module_relocs_clear_loaded(struct ksplice_update_state *us)
{
	for_each_loaded_module(us, true);
}
