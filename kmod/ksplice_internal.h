/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ksplice_internal.h - state the core keeps per update and per patched
 * address. Nothing here is seen by update modules.
 */
#ifndef _KSPLICE_INTERNAL_H
#define _KSPLICE_INTERNAL_H

#include <linux/ftrace.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include "ksplice_update.h"

#define KSPLICE_ABORT_CAUSE_LEN 256
#define KSPLICE_CONFLICTS_LEN 1024

enum ksplice_stage {
	KSPLICE_STAGE_LOADED,	/* registered, never applied */
	KSPLICE_STAGE_APPLIED,
	KSPLICE_STAGE_REVERSED,
};

/* Typed abort codes; abort.c holds the word and human message of each. */
enum ksplice_abort {
	KSPLICE_ABORT_NONE = 0,
	KSPLICE_ABORT_NO_MATCH,
	KSPLICE_ABORT_CODE_BUSY,
	KSPLICE_ABORT_MODULE_BUSY,
	KSPLICE_ABORT_OUT_OF_ORDER,
	KSPLICE_ABORT_ALREADY_APPLIED,
	KSPLICE_ABORT_NOT_APPLIED,
	KSPLICE_ABORT_WRONG_KERNEL,
	KSPLICE_ABORT_BAD_ADDRESS,
	KSPLICE_ABORT_BAD_DESCRIPTOR,
	KSPLICE_ABORT_CANNOT_REDIRECT,
	KSPLICE_ABORT_OUT_OF_MEMORY,
	KSPLICE_ABORT_CALL_FAILED,
	KSPLICE_ABORT_UNEXPECTED,
	KSPLICE_ABORT_COUNT,
};

struct ksplice_target;

/* Runtime facts about one ksplice_func of one update. */
struct ksplice_func_state {
	struct ksplice_func *func;
	struct ksplice_update_state *update;
	/* Module target: the loaded instance it was located in; NULL = not loaded (pending). */
	struct module *mod;
	unsigned long addr;		/* running address of the target; 0 = pending */
	unsigned long fentry_ip;	/* the ftrace location inside it */
	struct ksplice_target *target;	/* shared per-address redirect */
	struct list_head stack_node;	/* in target->stack, newest first */
};

/* A symbol whose value run-pre matching learned from the running code. */
struct ksplice_learned {
	const char *name;
	unsigned long value;
};

struct ksplice_update_state {
	struct ksplice_update *update;
	struct list_head node;		/* in ksplice_updates, load order */
	struct list_head applied_node;	/* in ksplice_applied, apply order, while applied */
	struct kobject kobj;
	enum ksplice_stage stage;
	enum ksplice_abort abort_code;
	char abort_cause[KSPLICE_ABORT_CAUSE_LEN];
	char conflicts[KSPLICE_CONFLICTS_LEN];
	u64 stop_ns;			/* time all CPUs were stopped, last switch */
	u64 stop_total_ns;		/* whole stop_machine() call, last switch */
	/* Last match: runtime-patched sites found rewritten / in pre-code form, per kind. */
	unsigned int sites_rewritten[KSPLICE_SITE_KINDS];
	unsigned int sites_original[KSPLICE_SITE_KINDS];
	unsigned int probing;		/* >0: trying a form, do not record aborts */
	unsigned int attempts;		/* stop_machine tries, last apply/undo that got that far */
	bool new_code_running;		/* reversed, but a task was still in the new code */
	unsigned long slide;
	unsigned int nr_loaded_verified;	/* loaded_symbols checked by the last match */
	struct ksplice_func_state *funcs;	/* nr_funcs entries */
	struct ksplice_learned *learned;
	unsigned int nr_learned, max_learned;
};

/* One patched address: a single IPMODIFY ftrace_ops shared by all updates. */
struct ksplice_target {
	struct list_head node;		/* in ksplice_targets */
	unsigned long ip;
	struct ftrace_ops ops;
	struct list_head stack;		/* switched-in funcs, newest first (RCU) */
	unsigned int users;		/* prepared funcs, switched in or not */
};

extern struct mutex ksplice_mutex;

/* abort.c */
int ksplice_abort(struct ksplice_update_state *us, enum ksplice_abort code,
		  const char *fmt, ...) __printf(3, 4);
void ksplice_clear_abort(struct ksplice_update_state *us);
const char *ksplice_abort_word(enum ksplice_abort code);
const char *ksplice_abort_message(enum ksplice_abort code);

/* match.c */
bool ksplice_kallsyms_names(unsigned long addr, const char *name, unsigned long *size);
int ksplice_locate_and_match(struct ksplice_update_state *us);
int ksplice_match_coming(struct ksplice_update_state *us, struct module *mod);
bool ksplice_update_targets_module(const struct ksplice_update *u, const char *name);
int ksplice_match_plain(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			const u8 *run, unsigned int off, unsigned int len);

/* arch_x86.c */
int ksplice_arch_match_site(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			    const u8 *run, unsigned int site_index);
bool ksplice_arch_is_nop(const u8 *code, unsigned int len);

/* stack_check.c */
struct ksplice_code_range {
	unsigned long start, end;	/* [start, end) */
	const char *name;		/* for the conflicts report */
};
int ksplice_check_stacks(struct ksplice_update_state *us,
			 const struct ksplice_code_range *ranges, unsigned int nr);

/* redirect.c */
int ksplice_redirect_prepare(struct ksplice_update_state *us);
void ksplice_redirect_release(struct ksplice_update_state *us);
void ksplice_redirect_switch_in(struct ksplice_update_state *us);
void ksplice_redirect_switch_out(struct ksplice_update_state *us);
struct ksplice_func_state *ksplice_redirect_top(struct ksplice_target *t);
struct ksplice_target *ksplice_redirect_find(unsigned long ip);
int ksplice_redirect_prepare_module(struct ksplice_update_state *us, struct module *mod);
void ksplice_redirect_release_module(struct ksplice_update_state *us, struct module *mod);
void ksplice_redirect_switch_in_module(struct ksplice_update_state *us, struct module *mod);
void ksplice_redirect_switch_out_module(struct ksplice_update_state *us, struct module *mod);

/* module_targets.c */
struct module *ksplice_find_module(struct ksplice_update_state *us, const char *name);
int ksplice_module_symbol(struct module *mod, const char *name, bool func_only,
			  unsigned long pos, unsigned long *addr, unsigned long *size,
			  unsigned int *count);
int ksplice_module_targets_init(void);
void ksplice_module_targets_exit(void);
const char *ksplice_module_state(struct ksplice_update_state *us, const char *module);

/* module_relocs.c */
int ksplice_module_relocs_write(struct ksplice_update_state *us, struct module *target);
void ksplice_module_relocs_clear(struct ksplice_update_state *us, struct module *target);
int ksplice_module_relocs_write_loaded(struct ksplice_update_state *us);
void ksplice_module_relocs_clear_loaded(struct ksplice_update_state *us);

/* sysfs.c */
int ksplice_sysfs_init(void);
void ksplice_sysfs_exit(void);
int ksplice_sysfs_add(struct ksplice_update_state *us);
void ksplice_sysfs_remove_dir(struct ksplice_update_state *us);
void ksplice_sysfs_put(struct ksplice_update_state *us);

/* core.c */
int ksplice_apply(struct ksplice_update_state *us);
int ksplice_reverse(struct ksplice_update_state *us);
int ksplice_check_match(struct ksplice_update_state *us);
int ksplice_module_coming(struct module *mod);
void ksplice_module_going(struct module *mod);
void ksplice_free_state(struct ksplice_update_state *us);

/* shadow.c */
unsigned int ksplice_shadow_free_owner(struct module *owner);
unsigned int ksplice_shadow_count(struct module *owner);

#endif /* _KSPLICE_INTERNAL_H */
