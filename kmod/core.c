// SPDX-License-Identifier: GPL-2.0
/*
 * core.c - ksplice.ko: registry of updates, apply and undo.
 *
 * Usage (normally through kmod/tools/ksplice-apply and friends):
 *   insmod ksplice.ko
 *   insmod ksplice_<id>.ko                      # registers, changes nothing
 *   echo apply > /sys/kernel/ksplice/<id>/stage # run-pre match, stop, switch
 *   cat /sys/kernel/ksplice/<id>/stage          # applied
 *   echo undo > /sys/kernel/ksplice/<id>/stage  # stop, switch back
 *   rmmod ksplice_<id>
 * A failed apply or undo changes nothing, makes the write fail with
 * ECANCELED and leaves "<code>: <details>" in abort_cause.
 *
 * Reference counting: an applied update pins its own module (its new code
 * is live) and the core (its ftrace handler is live), so neither can be
 * removed until the update is undone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/delay.h>
#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/stop_machine.h>
#include <linux/timekeeping.h>
#include <linux/utsname.h>
#include "ksplice_internal.h"

#define KSPLICE_STOP_ATTEMPTS 5
#define KSPLICE_STOP_RETRY_PAUSE_MS 200

/*
 * ksplice_mutex serializes every operation on updates: registration and
 * unregistration, apply, undo and check (sysfs stage writes), and the sysfs
 * reads that walk an update's arrays. It protects the list of updates, the
 * mutable state of each (struct ksplice_update_state: stage, abort cause,
 * conflicts, stop times, attempts, per-function addresses and targets,
 * learned symbols, match statistics), and redirect.c's list of targets with
 * their user counts. It does not protect a target's stack of replacements:
 * that changes only inside stop_machine() and the ftrace handler reads it
 * under RCU, and neither the stop callback nor the handler takes the mutex
 * (it is held across stop_machine()). Shadow variables have their own
 * spinlock (shadow.c).
 */
DEFINE_MUTEX(ksplice_mutex);
static LIST_HEAD(ksplice_updates);	/* protected by ksplice_mutex */
static LIST_HEAD(ksplice_applied);	/* applied updates, apply order; ksplice_mutex */

struct ksplice_stop_work {
	struct ksplice_update_state *us;
	const struct ksplice_code_range *ranges;
	unsigned int nr_ranges;
	bool apply;			/* false: reverse */
	bool check_only;		/* only look at the stacks, switch nothing */
	bool forced;			/* rmmod -f: a refusing check hook is ignored */
	bool hook_failed;
};

/* Runs on one CPU while every other CPU spins with interrupts off. */
static int ksplice_stop_work_fn(void *data)
{
	struct ksplice_stop_work *w = data;
	struct ksplice_update_state *us = w->us;
	struct ksplice_hooks *hooks = &us->update->hooks;
	u64 start = ktime_get_mono_fast_ns();
	int ret;

	if (w->check_only)
		return ksplice_check_stacks(us, w->ranges, w->nr_ranges);
	ret = ksplice_check_stacks(us, w->ranges, w->nr_ranges);
	if (!ret) {
		int (*check)(void) = w->apply ? hooks->check_apply : hooks->check_reverse;

		if (check && check() && !w->forced) {
			w->hook_failed = true;
			ret = -EAGAIN;
		}
	}
	if (!ret) {
		if (w->apply) {
			ksplice_redirect_switch_in(us);
			if (hooks->apply)
				hooks->apply();
		} else {
			ksplice_redirect_switch_out(us);
			if (hooks->reverse)
				hooks->reverse();
		}
	}
	us->stop_ns = ktime_get_mono_fast_ns() - start;
	return ret;
}

/* stop_machine() with retries; returns 0 or an abort (code_busy/call_failed). */
static int ksplice_stop_and_switch(struct ksplice_update_state *us,
				   const struct ksplice_code_range *ranges,
				   unsigned int nr_ranges, bool apply, bool forced)
{
	struct ksplice_stop_work w = {
		.us = us, .ranges = ranges, .nr_ranges = nr_ranges, .apply = apply,
		.forced = forced,
	};
	char first[64];
	int ret = -EBUSY;
	u64 start;

	for (us->attempts = 1; us->attempts <= KSPLICE_STOP_ATTEMPTS; us->attempts++) {
		start = ktime_get_ns();
		ret = stop_machine(ksplice_stop_work_fn, &w, NULL);
		us->stop_total_ns = ktime_get_ns() - start;
		if (ret != -EBUSY)
			break;
		if (us->attempts < KSPLICE_STOP_ATTEMPTS)
			msleep(KSPLICE_STOP_RETRY_PAUSE_MS);
	}
	if (!ret)
		return 0;
	if (w.hook_failed)
		return ksplice_abort(us, KSPLICE_ABORT_CALL_FAILED, "check_%s hook refused",
				     apply ? "apply" : "reverse");
	if (ret == -EBUSY) {
		/* conflicts holds "<comm> <pid> <function>" lines; quote the first. */
		strscpy(first, us->conflicts, sizeof(first));
		strreplace(first, '\n', '\0');
		us->attempts = KSPLICE_STOP_ATTEMPTS;
		return ksplice_abort(us, KSPLICE_ABORT_CODE_BUSY,
				     "after %d attempts, still in use (task pid function): %s",
				     KSPLICE_STOP_ATTEMPTS, first);
	}
	return ksplice_abort(us, KSPLICE_ABORT_UNEXPECTED, "stop_machine failed (%d)", ret);
}

static unsigned long module_text_end(struct module *mod)
{
	return (unsigned long)mod->core_layout.base + mod->core_layout.text_size;
}

/* Extent of a function from kallsyms ("name+0x0/0xsize"), 0 if unknown. */
static unsigned long kallsyms_size(unsigned long addr)
{
	char buf[KSYM_SYMBOL_LEN];
	char *slash, *end;
	unsigned long size;

	sprint_symbol(buf, addr);
	slash = strchr(buf, '/');
	if (!slash || !strstr(buf, "+0x0/"))
		return 0;
	end = strchr(slash, ' ');
	if (end)
		*end = '\0';
	return kstrtoul(slash + 1, 16, &size) ? 0 : size;
}

/*
 * Apply: code being replaced = each target's original code, and the
 * replacement currently live on it if an earlier update patched it.
 */
static struct ksplice_code_range *apply_ranges(struct ksplice_update_state *us, unsigned int *nr)
{
	unsigned int n = us->update->nr_funcs, i, k = 0;
	struct ksplice_code_range *r = kcalloc(2 * n, sizeof(*r), GFP_KERNEL);

	if (!r)
		return NULL;
	for (i = 0; i < n; i++) {
		struct ksplice_func_state *fs = &us->funcs[i];
		struct ksplice_func_state *live = fs->target ? ksplice_redirect_top(fs->target) : NULL;

		if (!fs->addr)
			continue;	/* module not loaded: nothing of it can be busy */
		r[k].start = fs->addr;
		r[k].end = fs->addr + fs->func->pre_size;
		r[k++].name = fs->func->name;
		if (live) {
			unsigned long start = (unsigned long)live->func->new_func;
			unsigned long size = kallsyms_size(start);

			r[k].start = start;
			r[k].end = size ? start + size : module_text_end(live->update->update->owner);
			r[k++].name = fs->func->name;
		}
	}
	*nr = k;
	return r;
}

/* Reverse: code being removed = this update's replacements (its module text). */
static struct ksplice_code_range *reverse_ranges(struct ksplice_update_state *us, unsigned int *nr)
{
	unsigned int n = us->update->nr_funcs, i;
	struct ksplice_code_range *r = kcalloc(n + 1, sizeof(*r), GFP_KERNEL);
	struct module *owner = us->update->owner;

	if (!r)
		return NULL;
	unsigned int k = 0;

	for (i = 0; i < n; i++) {
		unsigned long start = (unsigned long)us->funcs[i].func->new_func;
		unsigned long size;

		if (!start)
			continue;	/* companion: its old code stays, nothing removed */
		size = kallsyms_size(start);
		r[k].start = start;
		r[k].end = size ? start + size : module_text_end(owner);
		r[k++].name = us->funcs[i].func->name;
	}
	/* Anything else of the module's code (helpers of the new functions). */
	r[k].start = (unsigned long)owner->core_layout.base;
	r[k].end = module_text_end(owner);
	r[k++].name = owner->name;
	*nr = k;
	return r;
}

/* The cost of the last switch, logged before the success line of apply and undo. */
static void log_stop_time(struct ksplice_update_state *us)
{
	pr_info("Update %s: machine stopped for %llu ns (stop_machine call %llu ns, attempt %u)\n",
		us->update->id, us->stop_ns, us->stop_total_ns, us->attempts);
}

/* An update runs only on the kernel release it was built for: wrong_kernel otherwise. */
static int check_kernel_release(struct ksplice_update_state *us)
{
	const char *running = init_utsname()->release;

	if (strcmp(us->update->kernel_release, running))
		return ksplice_abort(us, KSPLICE_ABORT_WRONG_KERNEL, "built for %s, running %s",
				     us->update->kernel_release, running);
	return 0;
}

/* Frees the shadow variables the update's code attached (shadow.c), saying how many. */
static void free_shadows(struct ksplice_update_state *us, const char *why)
{
	unsigned int n = ksplice_shadow_free_owner(us->update->owner);

	if (n)
		pr_info("Update %s %s: freed %u shadow variable(s)\n", us->update->id, why, n);
}

int ksplice_apply(struct ksplice_update_state *us)
{
	struct ksplice_update *u = us->update;
	struct ksplice_code_range *ranges = NULL;
	unsigned int nr_ranges = 0;
	int ret;

	lockdep_assert_held(&ksplice_mutex);
	ksplice_clear_abort(us);
	us->conflicts[0] = '\0';

	if (us->stage == KSPLICE_STAGE_APPLIED)
		return ksplice_abort(us, KSPLICE_ABORT_ALREADY_APPLIED, "update %s", u->id);
	ret = check_kernel_release(us);
	if (ret)
		return ret;
	if (!try_module_get(u->owner))
		return ksplice_abort(us, KSPLICE_ABORT_MODULE_BUSY, "module %s is going away",
				     u->owner->name);

	if (u->hooks.pre_apply && u->hooks.pre_apply()) {
		ret = ksplice_abort(us, KSPLICE_ABORT_CALL_FAILED, "pre_apply hook refused");
		goto fail_hook;
	}
	ret = ksplice_locate_and_match(us);
	if (ret)
		goto fail_hook;
	ret = ksplice_module_relocs_write_loaded(us);
	if (ret)
		goto fail_hook;
	ret = ksplice_redirect_prepare(us);
	if (ret)
		goto fail_relocs;
	ranges = apply_ranges(us, &nr_ranges);
	if (!ranges) {
		ret = ksplice_abort(us, KSPLICE_ABORT_OUT_OF_MEMORY, "code ranges");
		goto fail_release;
	}
	ret = ksplice_stop_and_switch(us, ranges, nr_ranges, true, false);
	kfree(ranges);
	if (ret)
		goto fail_release;

	us->stage = KSPLICE_STAGE_APPLIED;
	list_add_tail(&us->applied_node, &ksplice_applied);
	__module_get(THIS_MODULE);
	if (u->hooks.post_apply)
		u->hooks.post_apply();
	/* The article's `dmesg | tail -n2` ends with the success line: print it last. */
	log_stop_time(us);
	pr_info("Update %s applied successfully\n", u->id);
	return 0;

fail_release:
	ksplice_redirect_release(us);
fail_relocs:
	ksplice_module_relocs_clear_loaded(us);
fail_hook:
	if (u->hooks.fail_apply)
		u->hooks.fail_apply();
	free_shadows(us, "not applied");
	module_put(u->owner);
	return ret;
}

/*
 * After the switch out, a task may still be about to run the new code: one
 * preempted inside the ftrace trampoline after our handler chose the new
 * function (the stop cannot see that choice). synchronize_rcu_tasks() lets
 * every such task move on; if one then sits in the new code, the update
 * module must stay loaded, or rmmod would free code a task still runs.
 */
static bool new_code_still_running(struct ksplice_update_state *us,
				   const struct ksplice_code_range *ranges, unsigned int nr_ranges)
{
	struct ksplice_stop_work w = {
		.us = us, .ranges = ranges, .nr_ranges = nr_ranges, .check_only = true,
	};

	synchronize_rcu_tasks();
	return stop_machine(ksplice_stop_work_fn, &w, NULL) != 0;
}

/*
 * forced: the update module is being removed by `rmmod -f`, whatever we say.
 * Then the order rule is waived (taking out an entry below a later update's
 * is safe: that entry was not live) and the module reference is left alone.
 */
static int __ksplice_reverse(struct ksplice_update_state *us, bool forced)
{
	struct ksplice_update *u = us->update;
	struct ksplice_code_range *ranges;
	unsigned int nr_ranges, i;
	bool still_running;
	int ret;

	lockdep_assert_held(&ksplice_mutex);
	ksplice_clear_abort(us);
	us->conflicts[0] = '\0';

	if (us->stage != KSPLICE_STAGE_APPLIED)
		return ksplice_abort(us, KSPLICE_ABORT_NOT_APPLIED, "update %s", u->id);
	for (i = 0; i < u->nr_funcs; i++) {
		struct ksplice_func_state *top;

		if (!us->funcs[i].target)
			continue;	/* companion */
		top = ksplice_redirect_top(us->funcs[i].target);
		if (top != &us->funcs[i] && !forced)
			return ksplice_abort(us, KSPLICE_ABORT_OUT_OF_ORDER,
					     "%s is patched again by later update %s",
					     u->funcs[i].name, top ? top->update->update->id : "?");
	}
	if (u->hooks.pre_reverse && u->hooks.pre_reverse() && !forced) {
		ret = ksplice_abort(us, KSPLICE_ABORT_CALL_FAILED, "pre_reverse hook refused");
		if (u->hooks.fail_reverse)
			u->hooks.fail_reverse();
		return ret;
	}

	ranges = reverse_ranges(us, &nr_ranges);
	if (!ranges)
		return ksplice_abort(us, KSPLICE_ABORT_OUT_OF_MEMORY, "code ranges");
	ret = ksplice_stop_and_switch(us, ranges, nr_ranges, false, forced);
	if (ret) {
		kfree(ranges);
		if (u->hooks.fail_reverse)
			u->hooks.fail_reverse();
		return ret;
	}

	us->stage = KSPLICE_STAGE_REVERSED;
	list_del_init(&us->applied_node);
	ksplice_redirect_release(us);
	still_running = new_code_still_running(us, ranges, nr_ranges);
	kfree(ranges);
	if (u->hooks.post_reverse)
		u->hooks.post_reverse();
	/* Undo leaves no trace: shadow variables and module references go (not while its code may still run). */
	if (!still_running) {
		free_shadows(us, "reversed");
		ksplice_module_relocs_clear_loaded(us);
	}
	log_stop_time(us);
	pr_info("Update %s reversed successfully\n", u->id);
	us->new_code_running = still_running;
	if (still_running)
		pr_warn("Update %s: a task still runs its code (%s); module %s stays pinned\n",
			u->id, us->conflicts, u->owner->name);
	else if (!forced)
		module_put(u->owner);
	module_put(THIS_MODULE);
	return 0;
}

int ksplice_reverse(struct ksplice_update_state *us)
{
	return __ksplice_reverse(us, false);
}

/*
 * `rmmod -f` of an applied update (Debian has MODULE_FORCE_UNLOAD): the
 * module's memory goes away when its exit returns, so reverse now, waiting
 * as long as it takes for its code to be unused. A hung rmmod -f is better
 * than a kernel jumping into freed memory.
 */
static void ksplice_reverse_for_forced_unload(struct ksplice_update_state *us)
{
	struct ksplice_code_range *ranges;
	unsigned int nr_ranges;

	pr_warn("Update %s: forced unload while applied, reversing it first\n",
		us->update->id);
	while (us->stage == KSPLICE_STAGE_APPLIED && __ksplice_reverse(us, true)) {
		mutex_unlock(&ksplice_mutex);
		msleep(1000);
		mutex_lock(&ksplice_mutex);
	}
	while (us->new_code_running) {
		ranges = reverse_ranges(us, &nr_ranges);
		mutex_unlock(&ksplice_mutex);
		msleep(1000);
		if (ranges)
			us->new_code_running = new_code_still_running(us, ranges, nr_ranges);
		kfree(ranges);
		mutex_lock(&ksplice_mutex);
	}
}

/*
 * Check only: steps 1-4 of apply (release, slide, location, run-pre matching)
 * without redirecting anything. Lets a tool ask "would this update match
 * this kernel?" and lets tests run the matcher over many functions.
 */
int ksplice_check_match(struct ksplice_update_state *us)
{
	struct ksplice_update *u = us->update;
	int ret;

	lockdep_assert_held(&ksplice_mutex);
	ksplice_clear_abort(us);
	ret = check_kernel_release(us);
	if (ret)
		return ret;
	ret = ksplice_locate_and_match(us);
	if (!ret)
		pr_info("Update %s matches the running kernel (%u functions)\n",
			u->id, u->nr_funcs);
	return ret;
}

/*
 * Module notifier, COMING (module_targets.c, under ksplice_mutex): every
 * applied update with targets in `mod`, in apply order, locates and matches
 * them there and switches their redirect in. A mismatch refuses the load:
 * the updates done so far for this module are taken out again (newest
 * first), and the error makes load_module() give up before any code of the
 * module runs. No stop_machine: no task can be in the module's code yet.
 */
int ksplice_module_coming(struct module *mod)
{
	struct ksplice_update_state *us, *failed = NULL;
	int ret = 0;

	lockdep_assert_held(&ksplice_mutex);
	list_for_each_entry(us, &ksplice_applied, applied_node) {
		if (!ksplice_update_targets_module(us->update, mod->name))
			continue;
		ksplice_clear_abort(us);
		ret = ksplice_match_coming(us, mod);
		if (!ret)
			ret = ksplice_module_relocs_write(us, mod);
		if (!ret)
			ret = ksplice_redirect_prepare_module(us, mod);
		if (ret) {
			failed = us;
			break;
		}
		ksplice_redirect_switch_in_module(us, mod);
		pr_info("Update %s: module %s patched at load\n", us->update->id, mod->name);
	}
	if (!failed)
		return 0;
	pr_err("%s: refusing to load %s: %s\n", failed->update->id, mod->name,
	       failed->abort_cause);
	/* The failed one holds nothing of mod; the earlier ones are taken out. */
	ksplice_module_going(mod);
	return ret;
}

/*
 * Module notifier, GOING (or a refused COMING): the redirects into `mod`'s
 * functions go, the updates stay applied with those targets pending.
 */
void ksplice_module_going(struct module *mod)
{
	struct ksplice_update_state *us;
	unsigned int i;

	lockdep_assert_held(&ksplice_mutex);
	list_for_each_entry(us, &ksplice_applied, applied_node)
		ksplice_redirect_switch_out_module(us, mod);
	list_for_each_entry(us, &ksplice_applied, applied_node) {
		bool had = false;

		ksplice_redirect_release_module(us, mod);
		ksplice_module_relocs_clear(us, mod);
		for (i = 0; i < us->update->nr_funcs; i++) {
			if (us->funcs[i].mod != mod)
				continue;
			had = true;
			us->funcs[i].mod = NULL;
			us->funcs[i].addr = 0;
			us->funcs[i].fentry_ip = 0;
		}
		if (had && mod->state == MODULE_STATE_GOING)
			pr_info("Update %s: module %s unloaded, its targets pending\n",
				us->update->id, mod->name);
	}
}

static bool valid_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	size_t i;

	if (!n || n > 32)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum(id[i]) && id[i] != '_' && id[i] != '-')
			return false;
	return true;
}

static struct ksplice_update_state *find_update(const char *id)
{
	struct ksplice_update_state *us;

	list_for_each_entry(us, &ksplice_updates, node)
		if (!strcmp(us->update->id, id))
			return us;
	return NULL;
}

static int check_descriptor(struct ksplice_update *u)
{
	unsigned int i;

	if (u->abi_version != KSPLICE_ABI_VERSION) {
		pr_err("update ABI %u, core speaks %u\n", u->abi_version, KSPLICE_ABI_VERSION);
		return -EPROTO;
	}
	if (!valid_id(u->id) || !u->kernel_release || !u->owner || !u->nr_funcs || !u->funcs) {
		pr_err("malformed update descriptor (id, release, owner or funcs)\n");
		return -EINVAL;
	}
	unsigned int redirected = 0;

	for (i = 0; i < u->nr_funcs; i++) {
		struct ksplice_func *f = &u->funcs[i];

		if (!f->name || !f->pre_code || !f->pre_size ||
		    (f->module && (f->map_addr || !u->modules_map_addr)) ||
		    (!f->module && !f->map_addr && (!f->map_candidates || !f->nr_map_candidates)) ||
		    (f->nr_sites && !f->sites) ||
		    (f->new_func && !within_module_core((unsigned long)f->new_func, u->owner))) {
			pr_err("update %s: malformed function %u (%s)\n", u->id, i,
			       f->name ? f->name : "?");
			return -EINVAL;
		}
		redirected += f->new_func != NULL;
	}
	if (!redirected) {
		pr_err("update %s replaces no function\n", u->id);
		return -EINVAL;
	}
	return 0;
}

void ksplice_free_state(struct ksplice_update_state *us)
{
	kfree(us->learned);
	kfree(us->funcs);
	kfree(us);
}

/**
 * ksplice_register_update() - make an update known to the core
 * @u: the update module's descriptor (ksplice_update.h), with @u->owner set
 *     to the update module; it must stay valid until
 *     ksplice_unregister_update()
 *
 * Called from the init of an update module (KSPLICE_UPDATE_MODULE()).
 * Checks that the descriptor is well formed (ABI version, id, owner,
 * functions; the kernel release is compared with the running one at apply)
 * and creates /sys/kernel/ksplice/<id>/ with stage "loaded". Nothing in the
 * running kernel changes: the update is applied by writing "apply" to its
 * stage file.
 *
 * Context: process context; takes ksplice_mutex.
 * Return: 0 on success; -EPROTO if the descriptor speaks another ABI
 * version, -EINVAL if it is malformed, -EEXIST if an update of the same id
 * is loaded, -ENOMEM, or the error of creating the sysfs directory.
 */
int ksplice_register_update(struct ksplice_update *u)
{
	struct ksplice_update_state *us;
	unsigned int i;
	int ret;

	ret = check_descriptor(u);
	if (ret)
		return ret;
	us = kzalloc(sizeof(*us), GFP_KERNEL);
	if (!us)
		return -ENOMEM;
	us->funcs = kcalloc(u->nr_funcs, sizeof(*us->funcs), GFP_KERNEL);
	if (!us->funcs) {
		kfree(us);
		return -ENOMEM;
	}
	us->update = u;
	us->stage = KSPLICE_STAGE_LOADED;
	INIT_LIST_HEAD(&us->applied_node);
	for (i = 0; i < u->nr_funcs; i++) {
		us->funcs[i].func = &u->funcs[i];
		us->funcs[i].update = us;
		INIT_LIST_HEAD(&us->funcs[i].stack_node);
	}

	mutex_lock(&ksplice_mutex);
	if (find_update(u->id)) {
		mutex_unlock(&ksplice_mutex);
		pr_err("update %s is already loaded\n", u->id);
		ksplice_free_state(us);
		return -EEXIST;
	}
	ret = ksplice_sysfs_add(us);	/* on failure it has freed us */
	if (!ret)
		list_add_tail(&us->node, &ksplice_updates);
	mutex_unlock(&ksplice_mutex);
	if (ret)
		return ret;
	pr_info("Update %s loaded (%u functions)\n", u->id, u->nr_funcs);
	return 0;
}
EXPORT_SYMBOL_GPL(ksplice_register_update);

/**
 * ksplice_unregister_update() - forget an update, reversing it if need be
 * @u: the descriptor given to ksplice_register_update()
 *
 * Called from the exit of an update module. An applied update pins its
 * module, so it is normally reversed already; after `rmmod -f` it is
 * reversed here first, waiting as long as a task may run its code. Removes
 * its sysfs directory and frees its shadow variables.
 *
 * Context: process context, may sleep; takes ksplice_mutex.
 */
void ksplice_unregister_update(struct ksplice_update *u)
{
	struct ksplice_update_state *us, *found = NULL;

	mutex_lock(&ksplice_mutex);
	list_for_each_entry(us, &ksplice_updates, node)
		if (us->update == u)
			found = us;
	mutex_unlock(&ksplice_mutex);
	if (!found)
		return;
	/*
	 * An applied update holds a reference on its module, so its exit only
	 * runs applied after `rmmod -f`: then reverse now, or the redirect
	 * would outlive the code it points to. Same when a task still ran its
	 * code at undo time (the module stayed pinned).
	 */
	mutex_lock(&ksplice_mutex);
	if (found->stage == KSPLICE_STAGE_APPLIED || found->new_code_running)
		ksplice_reverse_for_forced_unload(found);
	mutex_unlock(&ksplice_mutex);
	/* Waits for sysfs writes in progress; they take ksplice_mutex themselves. */
	ksplice_sysfs_remove_dir(found);
	mutex_lock(&ksplice_mutex);
	list_del(&found->node);
	mutex_unlock(&ksplice_mutex);
	if (!found->new_code_running)
		free_shadows(found, "unloaded");
	ksplice_sysfs_put(found);
}
EXPORT_SYMBOL_GPL(ksplice_unregister_update);

static int __init ksplice_init(void)
{
	int ret = ksplice_sysfs_init();

	if (ret)
		return ret;
	ret = ksplice_module_targets_init();
	if (ret) {
		ksplice_sysfs_exit();
		return ret;
	}
	pr_info("core loaded (ABI %u)\n", KSPLICE_ABI_VERSION);
	return 0;
}

static void __exit ksplice_exit(void)
{
	/* Update modules depend on us, and applied ones pin us: nothing is left. */
	WARN_ON(!list_empty(&ksplice_updates));
	ksplice_module_targets_exit();
	ksplice_sysfs_exit();
}

module_init(ksplice_init);
module_exit(ksplice_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Ksplice-style rebootless kernel updates: core");
