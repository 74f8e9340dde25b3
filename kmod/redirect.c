// SPDX-License-Identifier: GPL-2.0
/*
 * redirect.c - send callers of a target function to its new version.
 *
 * The trampoline of Ksplice, built on the kernel's supported text-patching
 * path: one ftrace_ops with FTRACE_OPS_FL_IPMODIFY per patched address (as
 * livepatch does), whose handler rewrites the return instruction pointer to
 * the newest switched-in replacement. ftrace itself patches the fentry nop
 * with text_poke_bp(); we never write kernel text.
 *
 * Two phases, so the switch itself fits inside stop_machine():
 *   prepare (may sleep): register the ftrace_ops; its stack of replacements
 *     is still empty, so the handler changes nothing and callers keep the
 *     original code;
 *   switch in/out (inside stop_machine, nothing can sleep or run): push or
 *     pop this update's replacement on each target's stack. That is the
 *     atomic moment the update takes or loses effect.
 *   release (may sleep): unregister ftrace_ops whose stack is empty;
 *     unregister_ftrace_function() waits until no CPU is still inside the
 *     handler.
 * Several updates may patch the same function: they share the target and
 * the newest one wins; undo must go newest first (core.c enforces it).
 */
#include <linux/ftrace.h>
#include <linux/kernel.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include "ksplice_internal.h"

static LIST_HEAD(ksplice_targets);	/* protected by ksplice_mutex */

static void notrace ksplice_ftrace_handler(unsigned long ip, unsigned long parent_ip,
					   struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct ksplice_target *t = container_of(ops, struct ksplice_target, ops);
	struct ksplice_func_state *top;
	int bit;

	/* Disables preemption: stop_machine() cannot run mid-handler. */
	bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0)
		return;
	top = list_first_or_null_rcu(&t->stack, struct ksplice_func_state, stack_node);
	if (top)
		ftrace_instruction_pointer_set(fregs, (unsigned long)top->func->new_func);
	ftrace_test_recursion_unlock(bit);
}

struct ksplice_target *ksplice_redirect_find(unsigned long ip)
{
	struct ksplice_target *t;

	list_for_each_entry(t, &ksplice_targets, node)
		if (t->ip == ip)
			return t;
	return NULL;
}

struct ksplice_func_state *ksplice_redirect_top(struct ksplice_target *t)
{
	return list_first_entry_or_null(&t->stack, struct ksplice_func_state, stack_node);
}

static void put_target(struct ksplice_target *t)
{
	if (--t->users)
		return;
	WARN_ON(!list_empty(&t->stack));
	unregister_ftrace_function(&t->ops);
	ftrace_set_filter_ip(&t->ops, t->ip, 1, 0);
	list_del(&t->node);
	kfree(t);
}

static int get_target(struct ksplice_update_state *us, struct ksplice_func_state *fs)
{
	struct ksplice_target *t = ksplice_redirect_find(fs->fentry_ip);
	int ret;

	if (t) {
		t->users++;
		fs->target = t;
		return 0;
	}
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return ksplice_abort(us, KSPLICE_ABORT_OUT_OF_MEMORY, "redirect for %s", fs->func->name);
	t->ip = fs->fentry_ip;
	INIT_LIST_HEAD(&t->stack);
	t->ops.func = ksplice_ftrace_handler;
	t->ops.flags = FTRACE_OPS_FL_DYNAMIC | FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_PERMANENT |
#ifndef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
		       FTRACE_OPS_FL_SAVE_REGS |
#endif
		       0;
	ret = ftrace_set_filter_ip(&t->ops, t->ip, 0, 0);
	if (ret) {
		kfree(t);
		return ksplice_abort(us, KSPLICE_ABORT_CANNOT_REDIRECT,
				     "%s: ftrace_set_filter_ip(0x%lx) failed (%d)",
				     fs->func->name, fs->fentry_ip, ret);
	}
	ret = register_ftrace_function(&t->ops);
	if (ret) {
		ftrace_set_filter_ip(&t->ops, t->ip, 1, 0);
		kfree(t);
		/* -EBUSY: another IPMODIFY user (livepatch?) owns this function. */
		return ksplice_abort(us, KSPLICE_ABORT_CANNOT_REDIRECT,
				     "%s: register_ftrace_function failed (%d)%s", fs->func->name, ret,
				     ret == -EBUSY ? ": another live patch redirects it" : "");
	}
	t->users = 1;
	list_add(&t->node, &ksplice_targets);
	fs->target = t;
	return 0;
}

int ksplice_redirect_prepare(struct ksplice_update_state *us)
{
	unsigned int i;
	int ret;

	for (i = 0; i < us->update->nr_funcs; i++) {
		if (!us->funcs[i].func->new_func)
			continue;	/* companion: matched and checked, not redirected */
		if (!us->funcs[i].addr)
			continue;	/* module target whose module is not loaded: pending */
		ret = get_target(us, &us->funcs[i]);
		if (ret) {
			/* Targets are only set here: the later funcs have none yet. */
			ksplice_redirect_release(us);
			return ret;
		}
	}
	return 0;
}

/* Drop this update's hold on its targets (after switch out, or a failed apply). */
void ksplice_redirect_release(struct ksplice_update_state *us)
{
	unsigned int i;

	for (i = 0; i < us->update->nr_funcs; i++) {
		if (us->funcs[i].target)
			put_target(us->funcs[i].target);
		us->funcs[i].target = NULL;
	}
}

/* Inside stop_machine: make every replacement of this update the live one. */
void ksplice_redirect_switch_in(struct ksplice_update_state *us)
{
	unsigned int i;

	for (i = 0; i < us->update->nr_funcs; i++)
		if (us->funcs[i].target)
			list_add_rcu(&us->funcs[i].stack_node, &us->funcs[i].target->stack);
}

/* Inside stop_machine: withdraw this update's replacements. */
void ksplice_redirect_switch_out(struct ksplice_update_state *us)
{
	unsigned int i;

	for (i = 0; i < us->update->nr_funcs; i++)
		if (us->funcs[i].target)
			list_del_rcu(&us->funcs[i].stack_node);
}

/*
 * The same for the targets of one module only: at its COMING (prepare, then
 * switch in: its code has not run yet, no stop_machine needed) and GOING
 * (switch out, then release: its exit has run, nothing calls into it).
 */
int ksplice_redirect_prepare_module(struct ksplice_update_state *us, struct module *mod)
{
	unsigned int i;
	int ret;

	for (i = 0; i < us->update->nr_funcs; i++) {
		if (!us->funcs[i].func->new_func || us->funcs[i].mod != mod || !us->funcs[i].addr)
			continue;
		ret = get_target(us, &us->funcs[i]);
		if (ret) {
			ksplice_redirect_release_module(us, mod);
			return ret;
		}
	}
	return 0;
}

void ksplice_redirect_release_module(struct ksplice_update_state *us, struct module *mod)
{
	unsigned int i;

	for (i = 0; i < us->update->nr_funcs; i++) {
		if (us->funcs[i].mod != mod)
			continue;
		if (us->funcs[i].target)
			put_target(us->funcs[i].target);
		us->funcs[i].target = NULL;
	}
}

void ksplice_redirect_switch_in_module(struct ksplice_update_state *us, struct module *mod)
{
	unsigned int i;

	for (i = 0; i < us->update->nr_funcs; i++)
		if (us->funcs[i].mod == mod && us->funcs[i].target)
			list_add_rcu(&us->funcs[i].stack_node, &us->funcs[i].target->stack);
}

void ksplice_redirect_switch_out_module(struct ksplice_update_state *us, struct module *mod)
{
	unsigned int i;

	for (i = 0; i < us->update->nr_funcs; i++)
		if (us->funcs[i].mod == mod && us->funcs[i].target)
			list_del_rcu(&us->funcs[i].stack_node);
}
