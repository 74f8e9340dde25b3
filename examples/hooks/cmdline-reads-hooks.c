// SPDX-License-Identifier: GPL-2.0
/*
 * Hooks of the cmdline-reads update (examples/hooks/cmdline-reads.patch; guide:
 * docs/hooks.md). Built into the update module by
 *   ksplice-create --patch=cmdline-reads.patch --hooks=cmdline-reads-hooks.c \
 *                  --accept=cmdline_reads_enabled ...
 *
 * The new code counts reads only once cmdline_reads_enabled is set. Apply:
 * inside stop_machine, right after the switch (nothing runs, no task can be
 * created or exit), every existing task gets its zeroed counter, then counting
 * is switched on. While applied, the patched free_task() frees a task's
 * counter with the task. Undo: counting is switched off inside the stop; the
 * core frees every shadow still attached once the update is reversed.
 */
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include "ksplice_hooks.h"

#define CMDLINE_READS_SHADOW 0x636d646cUL

/* Defined by the new code of fs/proc/cmdline.c, in this same module. */
extern bool cmdline_reads_enabled;
/*
 * kernel/fork.c, not exported: hooks reach such symbols by name, like the new
 * code (ksplice-create turns the reference into a livepatch relocation).
 */
extern int nr_threads;

static unsigned int attached, missed;

static int reads_pre_apply(void)
{
	attached = missed = 0;
	pr_info("cmdline_reads: pre_apply: preparing per-task read counters\n");
	return 0;
}
ksplice_pre_apply(reads_pre_apply);

/* Inside stop_machine, after the switch: may not sleep, so GFP_ATOMIC. */
static void reads_apply(void)
{
	struct task_struct *g, *t;

	rcu_read_lock();
	for_each_process_thread(g, t) {
		if (ksplice_shadow_get_or_alloc(t, CMDLINE_READS_SHADOW, sizeof(unsigned long), GFP_ATOMIC))
			attached++;
		else
			missed++;	/* the new code allocates it on the task's first read */
	}
	rcu_read_unlock();
	WRITE_ONCE(cmdline_reads_enabled, true);
}
ksplice_apply(reads_apply);

static void reads_post_apply(void)
{
	pr_info("cmdline_reads: post_apply: counters attached to %u existing tasks (%u left for later; nr_threads %d)\n",
		attached, missed, READ_ONCE(nr_threads));
}
ksplice_post_apply(reads_post_apply);

static void reads_fail_apply(void)
{
	pr_info("cmdline_reads: fail_apply: update not applied\n");
}
ksplice_fail_apply(reads_fail_apply);

/* Inside stop_machine, after switching back: the old code ignores the counters. */
static void reads_reverse(void)
{
	WRITE_ONCE(cmdline_reads_enabled, false);
}
ksplice_reverse(reads_reverse);

static void reads_post_reverse(void)
{
	pr_info("cmdline_reads: post_reverse: counting stopped\n");
}
ksplice_post_reverse(reads_post_reverse);
