/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ksplice_update.h - the contract between the ksplice core (ksplice.ko) and
 * one per-update module (ksplice_<id>.ko).
 *
 * Who fills it: ksplice-create (src/create/update-module.ts) links
 * ksplice_<id>.ko from
 *   - descriptor.c, generated (src/create/update-descriptor.ts): one
 *     `struct ksplice_update` describing every target (pre code, sites,
 *     System.map addresses) and the hook dispatchers, ending with
 *     KSPLICE_UPDATE_MODULE(ksplice_update_<id>);
 *   - post-<n>.o, one prebuilt object per patched object file: the new
 *     (post) code of its changed functions, extracted from the post build
 *     and renamed ksplice_new_<name>, which new_func points at;
 *   - hooks.o, the patch author's hooks (ksplice_hooks.h), if any.
 *
 * What the core does with it (see kmod/README.md for the whole story):
 *   1. insmod ksplice_<id>.ko: its init calls ksplice_register_update();
 *      /sys/kernel/ksplice/<id>/ appears with stage "loaded". Nothing else.
 *   2. `echo apply > /sys/kernel/ksplice/<id>/stage`:
 *      - the KASLR slide is computed from two exported anchors (&_printk and
 *        &stop_machine minus their System.map addresses, which must agree);
 *      - every symbol the module loader resolved for the new code
 *        (loaded_symbols) must be at its System.map address + slide;
 *      - each target's running address is map_addr + slide, and kallsyms must
 *        name it `name` at offset 0 (sprint_symbol);
 *      - run-pre matching: the running bytes of each target must equal
 *        pre_code everywhere, where every `site` says how the bytes at that
 *        place are allowed to differ (relocations are computed and compared,
 *        runtime-patched instructions must have one of their known forms);
 *      - the ftrace redirect is prepared, then under stop_machine every
 *        task's stack is checked for addresses inside the code being
 *        replaced and, if none, the redirect is switched on;
 *      - log "ksplice: Update <id> applied successfully", stage "applied".
 *   3. `echo undo > /sys/kernel/ksplice/<id>/stage`: the reverse, checking
 *      stacks for this module's code; stage "reversed" (it may be applied
 *      again, or removed with rmmod).
 *   `echo check > /sys/kernel/ksplice/<id>/stage` runs only the checks of
 *   apply up to run-pre matching (nothing changes).
 *   Any failure: stage unchanged, `abort_cause` says "<code>: <why>".
 *
 * Addresses in this file are link-time (System.map) addresses, never
 * runtime ones: the core adds the KASLR slide itself.
 *
 * Rules for the generator:
 *   - sites[] sorted by offset; sites may nest only as "relocation inside a
 *     runtime-patched instruction" (e.g. the R_X86_64_PLT32 to __fentry__
 *     inside the FENTRY site); other overlaps are refused (bad_descriptor).
 *   - every byte of pre_code not covered by a site must match exactly.
 *   - new_func must live in the update module (it is the redirect target);
 *     NULL makes the entry a companion: matched and stack-checked only
 *     (a target's `.cold` part).
 *   - a name System.map holds several times: map_addr 0, map_candidates
 *     (all its addresses) and, if known, sympos; run-pre matching decides.
 *   - symbols[] lets new code reach non-exported kernel objects without klp
 *     relocations: the core stores map_addr + slide into *addr after checking
 *     kallsyms names that address `name`. The preferred route for generated
 *     code is klp relocations resolved by the module loader (README.md).
 */
#ifndef _KSPLICE_UPDATE_H
#define _KSPLICE_UPDATE_H

#include <linux/module.h>
#include <linux/types.h>

#define KSPLICE_ABI_VERSION 4

/* How the bytes covered by a site may legitimately differ from pre_code. */
enum ksplice_site_kind {
	/* A relocation: bytes = value computed from symbol + addend (+ place). */
	KSPLICE_SITE_RELOC = 1,
	/* `call __fentry__` (5 bytes): a 5-byte nop, or a call into ftrace. */
	KSPLICE_SITE_FENTRY = 2,
	/* `jmp __x86_return_thunk` (5 bytes): `ret; int3...` or a jmp to a return thunk. */
	KSPLICE_SITE_RETURN_THUNK = 3,
	/* `call/jmp __x86_indirect_thunk_<reg>`: thunk call, or inline indirect branch. */
	KSPLICE_SITE_RETPOLINE = 4,
	/* `call *pv_ops+X(%rip)`: unchanged, direct call, or inline native code. */
	KSPLICE_SITE_PARAVIRT = 5,
	/* Original instructions of an alternative: original or a replacement. */
	KSPLICE_SITE_ALTERNATIVE = 6,
	/* `call/jmp __SCT__<name>` (5 bytes): call/jmp to a function start, or nop. */
	KSPLICE_SITE_STATIC_CALL = 7,
	/* Jump label (2 or 5 bytes): nop, or jmp to target_offset. */
	KSPLICE_SITE_JUMP_LABEL = 8,
	/* `lock` prefix (1 byte): 0xf0, or 0x3e (ds) once the kernel ran UP. */
	KSPLICE_SITE_LOCK_PREFIX = 9,
	KSPLICE_SITE_KINDS		/* one past the last kind (array size); not a kind */
};

/* Relocation types carried in ksplice_site.reloc_type: the ELF numbers. */
#define KSPLICE_R_X86_64_64	1
#define KSPLICE_R_X86_64_PC32	2
#define KSPLICE_R_X86_64_PLT32	4
#define KSPLICE_R_X86_64_32	10
#define KSPLICE_R_X86_64_32S	11
#define KSPLICE_R_X86_64_PC64	24

/* One replacement of an alternative, as it appears in .altinstr_replacement. */
struct ksplice_alt_replacement {
	const unsigned char *bytes;
	unsigned int len;
};

struct ksplice_site {
	unsigned int offset;		/* first byte, from the start of pre_code */
	unsigned int length;		/* bytes covered */
	unsigned int kind;		/* enum ksplice_site_kind */
	/* RELOC: R_X86_64_* (KSPLICE_R_*). 0 for other kinds. */
	unsigned int reloc_type;
	/*
	 * RELOC: the referenced symbol (messages, and key for learned values).
	 * RETPOLINE/RETURN_THUNK/STATIC_CALL/PARAVIRT: the symbol the pre code
	 * branches through, for messages.
	 */
	const char *symbol;
	/*
	 * RELOC: System.map address of `symbol`, or 0 when the generator could
	 * not know it (e.g. a merged string section): then the core learns the
	 * value from the running bytes, and every site naming the same symbol
	 * must agree on it (Ksplice's run-pre symbol discovery).
	 */
	unsigned long symbol_map_addr;
	/*
	 * RELOC into a merged string section (symbol_map_addr 0): the string
	 * the reference must point at. The linker merges and deduplicates
	 * strings, so no section base exists to learn; instead the core reads
	 * the string at the referenced address (S + A, plus 4 for PC-relative
	 * references, whose displacement ends the instruction) and compares it.
	 */
	const char *target_string;
	/*
	 * RELOC: 1 when the symbol is a per-CPU variable (System.map address
	 * inside __per_cpu_start..__per_cpu_end): those are offsets from the
	 * per-CPU base, which KASLR does not move, so no slide is added.
	 */
	unsigned int symbol_is_percpu;
	/*
	 * RELOC in a module target: 1 when `symbol` may be defined by the
	 * target's own module (a static function or variable of it, or
	 * __this_module): the core resolves it by name in that module's
	 * symbol table; found once, the value is computed and compared, else
	 * (a section name, a duplicate, another module's export) it is learned
	 * like any symbol_map_addr 0 reference.
	 */
	unsigned int symbol_in_module;
	long addend;			/* RELOC: ELF addend */
	int target_offset;		/* JUMP_LABEL: branch target, from function start */
	unsigned int reg;		/* RETPOLINE: register number 0..15 of the thunk */
	unsigned int is_jump;		/* RETPOLINE/STATIC_CALL: 1 = jmp, 0 = call */
	/* ALTERNATIVE: the replacements the kernel may have patched in. */
	const struct ksplice_alt_replacement *replacements;
	unsigned int nr_replacements;
};

struct ksplice_func {
	const char *name;		/* target function, as kallsyms names it */
	/*
	 * NULL: the target is in vmlinux (map_addr / map_candidates). Else the
	 * name of the loadable module holding it (e.g. "binfmt_misc"): no
	 * System.map address (map_addr 0, no candidates); the core finds the
	 * module by name and the function in that module's own symbol table
	 * (sympos among its same-named functions), when the module is loaded
	 * at apply, or later when it loads (module notifier, COMING state).
	 */
	const char *module;
	/*
	 * Position among same-named local symbols in kallsyms (= System.map)
	 * order, 1-based; 0 if unique or unknown. With map_candidates, selects
	 * map_candidates[sympos - 1]; the same number a klp symbol would carry.
	 */
	unsigned long sympos;
	unsigned long map_addr;		/* System.map address of the target */
	/*
	 * When map_addr is 0: every System.map address of a local name that
	 * several objects define, in System.map order. With sympos, that one
	 * is verified; without, run-pre matching picks the one copy that
	 * matches (none: no_match, several: bad_address "ambiguous").
	 */
	const unsigned long *map_candidates;
	unsigned int nr_map_candidates;
	/*
	 * Replacement, inside the update module. NULL for a companion: code
	 * that is not redirected but must match and be idle when the switch
	 * happens, e.g. the `<name>.cold` part gcc split off a target into
	 * .text.unlikely (reached only from the old code of that target).
	 */
	void *new_func;
	const unsigned char *pre_code;	/* the target's code in the pre object */
	unsigned int pre_size;
	const struct ksplice_site *sites;
	unsigned int nr_sites;
};

/* A non-exported kernel object the new code needs (see the rules above). */
struct ksplice_symbol {
	const char *name;
	unsigned long map_addr;
	unsigned long *addr;		/* filled by the core before the switch */
};

/*
 * A kernel symbol the module loader resolved for the new code through a
 * livepatch relocation (.klp.sym.vmlinux.<name>,<pos>), checked at apply
 * before anything changes: the address the loader wrote into *loaded must be
 * map_addr + slide (map_addr itself for a per-CPU symbol), and kallsyms must
 * name it `name`. The loader picks a copy by name and position only; this
 * check ties that choice to the copy ksplice-create meant (System.map) in the
 * kernel that is running (KASLR), or aborts with bad_address.
 *
 * Example: the new cmdline_proc_show reads saved_command_line (not exported).
 * The generated descriptor holds `.quad saved_command_line` in a table whose
 * relocation the loader resolves exactly as it resolves the new code's own
 * reference; the core compares that value with 0xffffffff82a0e0c8 + slide.
 */
struct ksplice_loaded_symbol {
	const char *name;
	unsigned long map_addr;
	unsigned int is_percpu;
	const unsigned long *loaded;	/* written by the module loader */
};

/*
 * Custom code for patches that need it (Ksplice's hooks). Any may be NULL.
 * Patch authors do not fill this by hand: they register hooks with the
 * macros of ksplice_hooks.h (several per stage), and ksplice-create
 * generates one dispatcher per stage into these slots (docs/hooks.md).
 * pre_*: before the stop, may sleep, non-zero aborts (call_failed).
 * check_*: inside stop_machine before the switch, non-zero aborts.
 * apply/reverse: inside stop_machine right after the switch; must not fail.
 * post_*: after the stop, on success. fail_*: after a failed attempt,
 * including a refusal by pre_* (so pre_* may undo partial work there).
 */
struct ksplice_hooks {
	int (*pre_apply)(void);
	int (*check_apply)(void);
	void (*apply)(void);
	void (*post_apply)(void);
	void (*fail_apply)(void);
	int (*pre_reverse)(void);
	int (*check_reverse)(void);
	void (*reverse)(void);
	void (*post_reverse)(void);
	void (*fail_reverse)(void);
};

struct ksplice_update {
	unsigned int abi_version;	/* KSPLICE_ABI_VERSION */
	const char *id;			/* [a-z0-9_]{1,32}; sysfs directory name */
	const char *kernel_release;	/* must equal `uname -r` */
	struct module *owner;		/* THIS_MODULE of the update module */
	/* KASLR anchors: System.map addresses of _printk and stop_machine. */
	unsigned long printk_map_addr;
	unsigned long stop_machine_map_addr;
	/*
	 * System.map address of the kernel's `modules` list head (kernel/module/
	 * main.c): needed when a function has `module`, to find a loaded module
	 * by name (find_module is not exported in 6.1). Verified by kallsyms.
	 */
	unsigned long modules_map_addr;
	/*
	 * System.map addresses of text_poke and text_mutex: needed when the new
	 * code refers to a target module's own symbols (`.klp.rela.<module>.*`
	 * sections, module_relocs.c), written into the update module's text
	 * once the module is there. Verified by kallsyms.
	 */
	unsigned long text_poke_map_addr;
	unsigned long text_mutex_map_addr;
	struct ksplice_func *funcs;
	unsigned int nr_funcs;
	struct ksplice_symbol *symbols;
	unsigned int nr_symbols;
	const struct ksplice_loaded_symbol *loaded_symbols;
	unsigned int nr_loaded_symbols;
	struct ksplice_hooks hooks;
};

int ksplice_register_update(struct ksplice_update *update);
void ksplice_unregister_update(struct ksplice_update *update);

/*
 * Per-update module glue: registers the descriptor at load and withdraws it
 * at unload. The core holds a reference on the module while the update is
 * applied, so rmmod fails ("in use") until it has been undone.
 */
#define KSPLICE_UPDATE_MODULE(update)					\
	static int __init ksplice_update_init(void)			\
	{								\
		(update).owner = THIS_MODULE;				\
		return ksplice_register_update(&(update));		\
	}								\
	static void __exit ksplice_update_exit(void)			\
	{								\
		ksplice_unregister_update(&(update));			\
	}								\
	module_init(ksplice_update_init);				\
	module_exit(ksplice_update_exit);				\
	MODULE_LICENSE("GPL")

#endif /* _KSPLICE_UPDATE_H */
