// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs.c - /sys/kernel/ksplice/<id>/, the only control surface.
 *
 *   stage          read: loaded | applied | reversed
 *                  write: "apply" or "undo" ("reverse" also accepted); the
 *                  write returns when done, failing with ECANCELED on abort;
 *                  "check" only run-pre matches (nothing changes, stage stays)
 *   abort_cause    "<code>: <details>" of the last failed operation, or "none"
 *   conflicts      "<comm> <pid> <function>" per task found busy, last attempt
 *   stop_ns        time the machine was stopped by the last switch (ns)
 *   stop_total_ns  duration of the whole stop_machine() call (ns)
 *   attempts       stop_machine attempts of the last operation
 *   functions      "<name> <running address> <new address>" per target
 *   module         name of the update module (for rmmod after undo)
 *   modules        "<module> patched|pending|unpatched" per loadable module
 *                  holding targets (module_targets.c)
 *   match_stats    "<kind> rewritten=N original=M" per runtime-patched site kind
 *                  seen by the last match: how the kernel had rewritten them
 *   loaded_symbols "<name> <address> <System.map address> verified|unchecked"
 *                  per symbol the module loader resolved for the new code
 *                  (address - System.map address is the KASLR slide)
 * Everything is one line or line-oriented text, for busybox shell tools.
 */
#include <linux/kallsyms.h>
#include <linux/kobject.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include "ksplice_internal.h"

static struct kobject *ksplice_root;

#define to_state(k) container_of(k, struct ksplice_update_state, kobj)

static const char *const stage_names[] = {
	[KSPLICE_STAGE_LOADED] = "loaded",
	[KSPLICE_STAGE_APPLIED] = "applied",
	[KSPLICE_STAGE_REVERSED] = "reversed",
};

static ssize_t stage_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%s\n", stage_names[to_state(k)->stage]);
}

static ssize_t stage_store(struct kobject *k, struct kobj_attribute *a,
			   const char *buf, size_t count)
{
	struct ksplice_update_state *us = to_state(k);
	int ret;

	mutex_lock(&ksplice_mutex);
	if (sysfs_streq(buf, "apply"))
		ret = ksplice_apply(us);
	else if (sysfs_streq(buf, "undo") || sysfs_streq(buf, "reverse"))
		ret = ksplice_reverse(us);
	else if (sysfs_streq(buf, "check"))
		ret = ksplice_check_match(us);
	else
		ret = -EINVAL;
	mutex_unlock(&ksplice_mutex);
	return ret ? ret : count;
}

static ssize_t abort_cause_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	struct ksplice_update_state *us = to_state(k);

	return sysfs_emit(buf, "%s\n", us->abort_cause[0] ? us->abort_cause : "none");
}

static ssize_t conflicts_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%s", to_state(k)->conflicts);
}

static ssize_t stop_ns_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%llu\n", to_state(k)->stop_ns);
}

static ssize_t stop_total_ns_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%llu\n", to_state(k)->stop_total_ns);
}

static ssize_t attempts_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", to_state(k)->attempts);
}

static ssize_t functions_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	struct ksplice_update_state *us = to_state(k);
	unsigned int i;
	int len = 0;

	mutex_lock(&ksplice_mutex);
	for (i = 0; i < us->update->nr_funcs; i++) {
		char line[KSYM_SYMBOL_LEN + 64];
		int n = scnprintf(line, sizeof(line), "%s 0x%lx %ps\n", us->update->funcs[i].name,
				  us->funcs[i].addr, us->update->funcs[i].new_func);

		/* sysfs gives one page; say so rather than cut a line. */
		if (len + n >= PAGE_SIZE - 32) {
			len += sysfs_emit_at(buf, len, "... %u more\n", us->update->nr_funcs - i);
			break;
		}
		len += sysfs_emit_at(buf, len, "%s", line);
	}
	mutex_unlock(&ksplice_mutex);
	return len;
}

static const char *const site_kind_names[KSPLICE_SITE_KINDS] = {
	[KSPLICE_SITE_FENTRY] = "fentry",
	[KSPLICE_SITE_RETURN_THUNK] = "return_thunk",
	[KSPLICE_SITE_RETPOLINE] = "retpoline",
	[KSPLICE_SITE_PARAVIRT] = "paravirt",
	[KSPLICE_SITE_ALTERNATIVE] = "alternative",
	[KSPLICE_SITE_STATIC_CALL] = "static_call",
	[KSPLICE_SITE_JUMP_LABEL] = "jump_label",
	[KSPLICE_SITE_LOCK_PREFIX] = "lock_prefix",
};

static ssize_t match_stats_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	struct ksplice_update_state *us = to_state(k);
	unsigned int kind;
	int len = 0;

	mutex_lock(&ksplice_mutex);
	for (kind = 0; kind < KSPLICE_SITE_KINDS; kind++)
		if (site_kind_names[kind] && (us->sites_rewritten[kind] || us->sites_original[kind]))
			len += sysfs_emit_at(buf, len, "%s rewritten=%u original=%u\n",
					     site_kind_names[kind], us->sites_rewritten[kind],
					     us->sites_original[kind]);
	mutex_unlock(&ksplice_mutex);
	return len;
}

static ssize_t loaded_symbols_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	struct ksplice_update_state *us = to_state(k);
	const struct ksplice_update *u = us->update;
	unsigned int i;
	int len = 0;

	for (i = 0; i < u->nr_loaded_symbols; i++) {
		const struct ksplice_loaded_symbol *sym = &u->loaded_symbols[i];

		len += sysfs_emit_at(buf, len, "%s 0x%lx 0x%lx %s\n", sym->name, *sym->loaded,
				     sym->map_addr, i < us->nr_loaded_verified ? "verified" : "unchecked");
	}
	return len;
}

static ssize_t module_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%s\n", to_state(k)->update->owner->name);
}

/*
 * "<module> patched|pending|unpatched" per loadable module the update has
 * targets in: patched = applied and the module loaded (redirected);
 * pending = applied, the module not loaded (patched when it loads);
 * unpatched = the update is not applied. Nothing for vmlinux targets.
 */
static ssize_t modules_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	struct ksplice_update_state *us = to_state(k);
	const struct ksplice_update *u = us->update;
	unsigned int i, j;
	int len = 0;

	mutex_lock(&ksplice_mutex);
	for (i = 0; i < u->nr_funcs; i++) {
		const char *m = u->funcs[i].module;

		if (!m)
			continue;
		for (j = 0; j < i; j++)
			if (u->funcs[j].module && !strcmp(u->funcs[j].module, m))
				break;
		if (j < i)
			continue;	/* listed already */
		len += sysfs_emit_at(buf, len, "%s %s\n", m, ksplice_module_state(us, m));
	}
	mutex_unlock(&ksplice_mutex);
	return len;
}

/* Shadow variables the update's code has attached and not yet freed (shadow.c). */
static ssize_t shadows_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", ksplice_shadow_count(to_state(k)->update->owner));
}

static struct kobj_attribute stage_attr = __ATTR_RW(stage);
static struct kobj_attribute abort_cause_attr = __ATTR_RO(abort_cause);
static struct kobj_attribute conflicts_attr = __ATTR_RO(conflicts);
static struct kobj_attribute stop_ns_attr = __ATTR_RO(stop_ns);
static struct kobj_attribute stop_total_ns_attr = __ATTR_RO(stop_total_ns);
static struct kobj_attribute attempts_attr = __ATTR_RO(attempts);
static struct kobj_attribute functions_attr = __ATTR_RO(functions);
static struct kobj_attribute module_attr = __ATTR_RO(module);
static struct kobj_attribute modules_attr = __ATTR_RO(modules);
static struct kobj_attribute match_stats_attr = __ATTR_RO(match_stats);
static struct kobj_attribute shadows_attr = __ATTR_RO(shadows);
static struct kobj_attribute loaded_symbols_attr = __ATTR_RO(loaded_symbols);

static struct attribute *ksplice_update_attrs[] = {
	&stage_attr.attr,
	&abort_cause_attr.attr,
	&conflicts_attr.attr,
	&stop_ns_attr.attr,
	&stop_total_ns_attr.attr,
	&attempts_attr.attr,
	&functions_attr.attr,
	&module_attr.attr,
	&modules_attr.attr,
	&match_stats_attr.attr,
	&shadows_attr.attr,
	&loaded_symbols_attr.attr,
	NULL,
};
ATTRIBUTE_GROUPS(ksplice_update);

static void ksplice_update_release(struct kobject *k)
{
	ksplice_free_state(to_state(k));
}

static struct kobj_type ksplice_update_ktype = {
	.release = ksplice_update_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = ksplice_update_groups,
};

/* On failure the state has been freed through the kobject release. */
int ksplice_sysfs_add(struct ksplice_update_state *us)
{
	int ret = kobject_init_and_add(&us->kobj, &ksplice_update_ktype, ksplice_root,
				       "%s", us->update->id);

	if (ret)
		kobject_put(&us->kobj);
	return ret;
}

/* Removes the directory and waits for readers and writers inside it. */
void ksplice_sysfs_remove_dir(struct ksplice_update_state *us)
{
	kobject_del(&us->kobj);
}

void ksplice_sysfs_put(struct ksplice_update_state *us)
{
	kobject_put(&us->kobj);
}

int ksplice_sysfs_init(void)
{
	ksplice_root = kobject_create_and_add("ksplice", kernel_kobj);
	return ksplice_root ? 0 : -ENOMEM;
}

void ksplice_sysfs_exit(void)
{
	kobject_put(ksplice_root);
}
