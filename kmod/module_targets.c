// SPDX-License-Identifier: GPL-2.0
/*
 * module_targets.c - targets inside loadable modules.
 *
 * A module has no System.map address: a target `f` of module `m` is found
 * by name, first the module (the kernel's `modules` list, walked under
 * preempt_disable as find_module_all() does: find_module() and
 * module_mutex are not exported in 6.1, so the list head comes from
 * System.map + slide, verified by kallsyms), then the function in that
 * module's own symbol table (mod->kallsyms, RCU-sched protected, with its
 * position among same-named functions like a klp sympos).
 *
 * Modules loaded after an update was applied are patched by a module
 * notifier at MODULE_STATE_COMING: prepare_coming_module() (kernel/module/
 * main.c) calls it after ftrace_module_enable() and before any code of the
 * module runs (parse_args and init come later), and aborts the load if the
 * notifier fails. So there the target is located, run-pre matched and its
 * redirect switched in without stop_machine: no task can be in the module's
 * code yet. A mismatch refuses the load ("refusing to load"). At GOING
 * (after the module's exit, before its memory is freed) the redirects of
 * that module are taken out; the update stays applied, its targets there
 * "pending" until the module loads again. The update never pins a target
 * module: rmmod works while patched.
 *
 * Race with apply: a module in COMING state whose notifier has already run
 * (recorded in ksplice_seen, under ksplice_mutex) counts as loaded for an
 * apply; one whose notifier has not run yet does not (the notifier, which
 * waits for ksplice_mutex, will patch it).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include "ksplice_internal.h"

struct ksplice_seen {
	struct list_head node;
	struct module *mod;
};

static LIST_HEAD(ksplice_seen);		/* protected by ksplice_mutex */

static struct ksplice_seen *find_seen(struct module *mod)
{
	struct ksplice_seen *s;

	list_for_each_entry(s, &ksplice_seen, node)
		if (s->mod == mod)
			return s;
	return NULL;
}

/* The kernel's `modules` list head, from System.map + slide; checked by kallsyms. */
static struct list_head *modules_head(struct ksplice_update_state *us)
{
	unsigned long addr = us->update->modules_map_addr + us->slide;

	if (!us->update->modules_map_addr || !ksplice_kallsyms_names(addr, "modules", NULL))
		return NULL;
	return (struct list_head *)addr;
}

/*
 * The loaded instance of module `name`, or NULL when it is not loaded (or
 * still coming and not yet seen by our notifier, or going). Called under
 * ksplice_mutex, which the GOING notifier takes before the module is freed.
 * ERR_PTR(-EINVAL) when the list head does not check out.
 */
struct module *ksplice_find_module(struct ksplice_update_state *us, const char *name)
{
	struct list_head *head = modules_head(us);
	struct module *mod, *found = NULL;

	lockdep_assert_held(&ksplice_mutex);
	if (!head)
		return ERR_PTR(-EINVAL);
	preempt_disable();
	list_for_each_entry_rcu(mod, head, list) {
		if (mod->state == MODULE_STATE_UNFORMED || strcmp(mod->name, name))
			continue;
		if (mod->state == MODULE_STATE_LIVE ||
		    (mod->state == MODULE_STATE_COMING && find_seen(mod)))
			found = mod;
		break;
	}
	preempt_enable();
	return found;
}

/*
 * Symbol `name` of a module (functions only if func_only), the pos-th of
 * that name in the module's symbol table order (pos 0: the first). count:
 * how many the module has. Returns -ENOENT when there is no pos-th one.
 */
int ksplice_module_symbol(struct module *mod, const char *name, bool func_only,
			  unsigned long pos, unsigned long *addr, unsigned long *size,
			  unsigned int *count)
{
	struct mod_kallsyms *kas;
	unsigned int i, n = 0;
	unsigned long want = pos ? pos : 1;

	preempt_disable();
	kas = rcu_dereference_sched(mod->kallsyms);
	for (i = 0; kas && i < kas->num_symtab; i++) {
		const Elf_Sym *sym = &kas->symtab[i];

		if (sym->st_shndx == SHN_UNDEF || !sym->st_name ||
		    strcmp(kas->strtab + sym->st_name, name))
			continue;
		if (func_only && ELF_ST_TYPE(sym->st_info) != STT_FUNC)
			continue;
		if (++n == want) {
			*addr = kallsyms_symbol_value(sym);
			*size = sym->st_size;
		}
	}
	preempt_enable();
	*count = n;
	return n >= want ? 0 : -ENOENT;
}

/* sysfs `modules`: the state of one target module of an update. */
const char *ksplice_module_state(struct ksplice_update_state *us, const char *module)
{
	unsigned int i;

	if (us->stage != KSPLICE_STAGE_APPLIED)
		return "unpatched";
	for (i = 0; i < us->update->nr_funcs; i++) {
		const struct ksplice_func *f = &us->update->funcs[i];

		if (f->module && !strcmp(f->module, module) && us->funcs[i].mod)
			return "patched";
	}
	return "pending";
}

static int ksplice_module_notify(struct notifier_block *nb, unsigned long action, void *data)
{
	struct module *mod = data;
	struct ksplice_seen *s;
	int ret = 0;

	if (action != MODULE_STATE_COMING && action != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	mutex_lock(&ksplice_mutex);
	if (action == MODULE_STATE_COMING) {
		s = kzalloc(sizeof(*s), GFP_KERNEL);
		if (!s) {
			ret = -ENOMEM;
		} else {
			ret = ksplice_module_coming(mod);
			s->mod = mod;
			if (!ret)
				list_add(&s->node, &ksplice_seen);
			else
				kfree(s);
		}
	} else {
		ksplice_module_going(mod);
		s = find_seen(mod);
		if (s) {
			list_del(&s->node);
			kfree(s);
		}
	}
	mutex_unlock(&ksplice_mutex);
	return notifier_from_errno(ret);
}

static struct notifier_block ksplice_module_nb = {
	.notifier_call = ksplice_module_notify,
};

int ksplice_module_targets_init(void)
{
	return register_module_notifier(&ksplice_module_nb);
}

void ksplice_module_targets_exit(void)
{
	struct ksplice_seen *s, *tmp;

	unregister_module_notifier(&ksplice_module_nb);
	list_for_each_entry_safe(s, tmp, &ksplice_seen, node) {
		list_del(&s->node);
		kfree(s);
	}
}
