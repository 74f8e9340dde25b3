// SPDX-License-Identifier: GPL-2.0
/*
 * Hooks of the tcp-reordering update: a real stable fix that changes state the
 * running kernel built at boot (examples/hooks/tcp-reordering.patch,
 * CVE-2026-64422, a stable fix Debian ships from 6.1.180-1 on, in its
 * 6.1.176 -> 6.1.190 updates; provenance and guide: docs/hooks.md).
 * Built into the update module by
 *   ksplice-create --patch=tcp-reordering.patch --hooks=tcp-reordering-hooks.c \
 *                  --accept=ipv4_net_table ...
 *
 * The fix bounds the net.ipv4.tcp_reordering and tcp_max_reordering sysctls
 * (1 <= tcp_reordering <= tcp_max_reordering) by changing their entries of
 * ipv4_net_table: proc_dointvec becomes proc_dointvec_minmax with extra1/extra2.
 * A rebootless update replaces code, not data, and the running kernel has one
 * copy of those entries per network namespace: init_net registered the static
 * table at boot, every other namespace a kmemdup() of it. So:
 *
 *   apply (inside stop_machine):  bound the entries of every namespace's table,
 *                                 the static one included; the patched
 *                                 ipv4_sysctl_init_net() points extra2 of the
 *                                 copies made from then on into their own net.
 *   post_apply:                   once more under pernet_ops_rwsem, for a
 *                                 namespace whose init ran before the stop but
 *                                 that was not yet on net_namespace_list.
 *   reverse (inside the stop):    the entries as the old code expects them;
 *   post_reverse:                 once more under pernet_ops_rwsem.
 */
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/rtnetlink.h>	/* pernet_ops_rwsem */
#include <linux/rwsem.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>
#include "ksplice_hooks.h"

static unsigned int tables_changed;

/* One namespace's table: the two entries the fix bounds, found by the variable they control. */
static void set_reordering_bounds(struct net *net, bool bounded)
{
	struct ctl_table *entry;

	for (entry = net->ipv4.ipv4_hdr->ctl_table_arg; entry->procname; entry++) {
		bool is_reordering = entry->data == &net->ipv4.sysctl_tcp_reordering;
		bool is_max = entry->data == &net->ipv4.sysctl_tcp_max_reordering;

		if (!is_reordering && !is_max)
			continue;
		/*
		 * The handler changes last on the way in and first on the way
		 * out: a write racing with post_apply sees either the old
		 * handler or the new one with its bounds in place.
		 */
		if (bounded) {
			WRITE_ONCE(entry->extra1, SYSCTL_ONE);
			WRITE_ONCE(entry->extra2, is_reordering ? &net->ipv4.sysctl_tcp_max_reordering : NULL);
			WRITE_ONCE(entry->proc_handler, proc_dointvec_minmax);
		} else {
			WRITE_ONCE(entry->proc_handler, proc_dointvec);
			WRITE_ONCE(entry->extra1, NULL);
			WRITE_ONCE(entry->extra2, NULL);
		}
	}
}

/* Every namespace on net_namespace_list (RCU: safe inside the stop and beside netns creation). */
static unsigned int set_bounds_everywhere(bool bounded)
{
	struct net *net;
	unsigned int n = 0;

	rcu_read_lock();
	for_each_net_rcu(net) {
		set_reordering_bounds(net, bounded);
		n++;
	}
	rcu_read_unlock();
	return n;
}

/*
 * With pernet_ops_rwsem held for writing no namespace is half made or half
 * gone, so the list is complete: this catches one whose ipv4_sysctl_init_net()
 * ran before the switch and that joined the list after the stop.
 */
static unsigned int set_bounds_with_no_netns_in_flight(bool bounded)
{
	unsigned int n;

	down_write(&pernet_ops_rwsem);
	n = set_bounds_everywhere(bounded);
	up_write(&pernet_ops_rwsem);
	return n;
}

static void bound_apply(void)
{
	tables_changed = set_bounds_everywhere(true);
}
ksplice_apply(bound_apply);

static void bound_post_apply(void)
{
	unsigned int n = set_bounds_with_no_netns_in_flight(true);

	pr_info("tcp_reordering: post_apply: bounded in %u network namespace(s) inside the stop, %u now\n",
		tables_changed, n);
}
ksplice_post_apply(bound_post_apply);

static void bound_reverse(void)
{
	tables_changed = set_bounds_everywhere(false);
}
ksplice_reverse(bound_reverse);

static void bound_post_reverse(void)
{
	unsigned int n = set_bounds_with_no_netns_in_flight(false);

	pr_info("tcp_reordering: post_reverse: unbounded in %u network namespace(s) inside the stop, %u now\n",
		tables_changed, n);
}
ksplice_post_reverse(bound_post_reverse);
