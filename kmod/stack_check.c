// SPDX-License-Identifier: GPL-2.0
/*
 * stack_check.c - is any task using the code we are about to replace?
 *
 * Runs inside stop_machine(), so no task moves while we look. For every
 * thread the ORC unwinder lists the return addresses (and interrupted
 * instruction pointers) on its kernel stack; an address inside one of the
 * ranges means the code is busy. When the unwinder cannot walk a stack
 * reliably, the live part of that stack (saved sp up to the top) is scanned
 * word by word instead: any word that looks like an address inside a range
 * counts as busy. That errs on the side of "busy", which only costs a retry.
 *
 * Skipped, with reasons: the task running this check (it is inside
 * stop_machine, not inside patched code) and the tasks on other CPUs, which
 * are the stopper threads spinning in multi_cpu_stop(). Per-CPU idle tasks
 * are not on the task list; they only run idle code.
 */
#include <linux/kernel.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <asm/unwind.h>
#include "ksplice_internal.h"

#define KSPLICE_MAX_FRAMES 512

static const struct ksplice_code_range *range_of(unsigned long addr,
						 const struct ksplice_code_range *ranges,
						 unsigned int nr)
{
	unsigned int i;

	/* end is inclusive: a call as the last instruction returns to end. */
	for (i = 0; i < nr; i++)
		if (addr >= ranges[i].start && addr <= ranges[i].end)
			return &ranges[i];
	return NULL;
}

/* Conservative: every word of the live stack that points into a range. */
static const struct ksplice_code_range *scan_stack_words(struct task_struct *t,
							 const struct ksplice_code_range *ranges,
							 unsigned int nr)
{
	unsigned long *bottom = (unsigned long *)task_stack_page(t);
	unsigned long *top = bottom + THREAD_SIZE / sizeof(long);
	unsigned long *sp = (unsigned long *)t->thread.sp;
	const struct ksplice_code_range *hit;

	if (sp < bottom || sp >= top)
		sp = bottom;
	for (; sp < top; sp++) {
		hit = range_of(READ_ONCE_NOCHECK(*sp), ranges, nr);
		if (hit)
			return hit;
	}
	return NULL;
}

static const struct ksplice_code_range *check_task(struct task_struct *t,
						   const struct ksplice_code_range *ranges,
						   unsigned int nr, bool *scanned)
{
	const struct ksplice_code_range *hit;
	struct unwind_state state;
	unsigned int frames = 0;
	unsigned long addr;

	for (unwind_start(&state, t, NULL, NULL); !unwind_done(&state);
	     unwind_next_frame(&state)) {
		/* 0 for the user-mode frame at the bottom: nothing to check there. */
		addr = unwind_get_return_address(&state);
		hit = addr ? range_of(addr, ranges, nr) : NULL;
		if (hit)
			return hit;
		if (++frames > KSPLICE_MAX_FRAMES)
			break;
	}
	if (unwind_error(&state) || !unwind_done(&state)) {
		*scanned = true;
		return scan_stack_words(t, ranges, nr);
	}
	return NULL;
}

/*
 * Returns 0 when no stack holds an address in ranges, -EBUSY otherwise with
 * us->conflicts describing each busy task ("<comm> <pid> <function>" lines).
 */
int ksplice_check_stacks(struct ksplice_update_state *us,
			 const struct ksplice_code_range *ranges, unsigned int nr)
{
	struct task_struct *g, *t;
	size_t used = 0;
	int busy = 0;

	us->conflicts[0] = '\0';
	rcu_read_lock();
	for_each_process_thread(g, t) {
		const struct ksplice_code_range *hit;
		bool scanned = false;

		if (t == current || READ_ONCE(t->on_cpu))
			continue;
		if (!t->stack || !refcount_read(&t->stack_refcount))
			continue;	/* exited: its stack is gone */
		hit = check_task(t, ranges, nr, &scanned);
		if (!hit)
			continue;
		busy = 1;
		/* "(stack scan)": found by the conservative scan, the unwinder gave up. */
		if (used < sizeof(us->conflicts))
			used += scnprintf(us->conflicts + used, sizeof(us->conflicts) - used,
					  "%s %d %s%s\n", t->comm, task_pid_nr(t), hit->name,
					  scanned ? " (stack scan)" : "");
	}
	rcu_read_unlock();
	return busy ? -EBUSY : 0;
}
