// SPDX-License-Identifier: GPL-2.0
/*
 * shadow.c - shadow variables: new fields attached to existing kernel objects
 * by address, for updates whose fix adds state (a struct member the running
 * kernel's objects do not have).
 *
 * Usage (from an update's hooks or its new code; kmod/ksplice_hooks.h):
 *   struct reads *r = ksplice_shadow_get_or_alloc(task, MY_ID, sizeof(*r), GFP_KERNEL);
 *   r = ksplice_shadow_get(task, MY_ID);        // NULL if none attached
 *   ksplice_shadow_free(task, MY_ID);           // e.g. where the object dies
 *
 * A shadow is keyed by (object address, id); its memory is zeroed at
 * allocation. Each shadow remembers the code that allocated it: when an update
 * is reversed (after its post_reverse hooks) or its module is removed, every
 * shadow allocated from that update module's code is freed, so undo leaves no
 * trace. The object's lifetime is the caller's business: a shadow of a freed
 * object stays until freed by hand or by the undo.
 *
 * Any context: a spinlock with interrupts off guards the table; allocation
 * happens outside it with the caller's gfp flags (GFP_ATOMIC inside
 * stop_machine or under spinlocks).
 */
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include "ksplice_internal.h"
#include "ksplice_hooks.h"

#define KSPLICE_SHADOW_HASH_BITS 8

struct ksplice_shadow {
	struct hlist_node node;
	const void *obj;
	unsigned long id;
	unsigned long caller;		/* allocating code: owner, for free on undo */
	size_t size;
	char data[] __aligned(sizeof(long));
};

static DEFINE_HASHTABLE(ksplice_shadows, KSPLICE_SHADOW_HASH_BITS);
static DEFINE_SPINLOCK(ksplice_shadow_lock);

static unsigned long shadow_key(const void *obj, unsigned long id)
{
	return hash_ptr(obj, 32) ^ id;
}

static struct ksplice_shadow *shadow_find(const void *obj, unsigned long id)
{
	struct ksplice_shadow *s;

	hash_for_each_possible(ksplice_shadows, s, node, shadow_key(obj, id))
		if (s->obj == obj && s->id == id)
			return s;
	return NULL;
}

void *ksplice_shadow_get(const void *obj, unsigned long id)
{
	struct ksplice_shadow *s;
	unsigned long flags;

	spin_lock_irqsave(&ksplice_shadow_lock, flags);
	s = shadow_find(obj, id);
	spin_unlock_irqrestore(&ksplice_shadow_lock, flags);
	return s ? s->data : NULL;
}
EXPORT_SYMBOL_GPL(ksplice_shadow_get);

/* Attach a zeroed shadow; @existing_ok: return one already there instead of NULL. */
static void *shadow_attach(const void *obj, unsigned long id, size_t size, gfp_t gfp,
			   bool existing_ok, unsigned long caller)
{
	struct ksplice_shadow *s, *old;
	unsigned long flags;

	if (existing_ok) {
		void *data = ksplice_shadow_get(obj, id);

		if (data)
			return data;
	}
	s = kzalloc(struct_size(s, data, size), gfp);
	if (!s)
		return NULL;
	s->obj = obj;
	s->id = id;
	s->size = size;
	s->caller = caller;
	spin_lock_irqsave(&ksplice_shadow_lock, flags);
	old = shadow_find(obj, id);
	if (!old)
		hash_add(ksplice_shadows, &s->node, shadow_key(obj, id));
	spin_unlock_irqrestore(&ksplice_shadow_lock, flags);
	if (old) {
		kfree(s);
		return existing_ok ? old->data : NULL;
	}
	return s->data;
}

/* A new zeroed shadow, or NULL if one is already attached (or no memory). */
void *ksplice_shadow_alloc(const void *obj, unsigned long id, size_t size, gfp_t gfp)
{
	return shadow_attach(obj, id, size, gfp, false, _RET_IP_);
}
EXPORT_SYMBOL_GPL(ksplice_shadow_alloc);

/* The attached shadow, or a new zeroed one (NULL only without memory). */
void *ksplice_shadow_get_or_alloc(const void *obj, unsigned long id, size_t size, gfp_t gfp)
{
	return shadow_attach(obj, id, size, gfp, true, _RET_IP_);
}
EXPORT_SYMBOL_GPL(ksplice_shadow_get_or_alloc);

void ksplice_shadow_free(const void *obj, unsigned long id)
{
	struct ksplice_shadow *s;
	unsigned long flags;

	spin_lock_irqsave(&ksplice_shadow_lock, flags);
	s = shadow_find(obj, id);
	if (s)
		hash_del(&s->node);
	spin_unlock_irqrestore(&ksplice_shadow_lock, flags);
	kfree(s);
}
EXPORT_SYMBOL_GPL(ksplice_shadow_free);

/*
 * Unhash, under the lock, every shadow @match accepts, then free them outside it;
 * returns how many.
 */
static unsigned int free_matching(bool (*match)(const struct ksplice_shadow *s, unsigned long key),
				  unsigned long key)
{
	struct ksplice_shadow *s;
	struct hlist_node *tmp;
	unsigned long flags;
	unsigned int bkt, n = 0;
	HLIST_HEAD(dead);

	spin_lock_irqsave(&ksplice_shadow_lock, flags);
	hash_for_each_safe(ksplice_shadows, bkt, tmp, s, node) {
		if (!match(s, key))
			continue;
		hash_del(&s->node);
		hlist_add_head(&s->node, &dead);
		n++;
	}
	spin_unlock_irqrestore(&ksplice_shadow_lock, flags);
	hlist_for_each_entry_safe(s, tmp, &dead, node)
		kfree(s);
	return n;
}

static bool has_id(const struct ksplice_shadow *s, unsigned long id)
{
	return s->id == id;
}

/* Allocated by code of the module at @owner (the update's new code or hooks). */
static bool allocated_by(const struct ksplice_shadow *s, unsigned long owner)
{
	return within_module(s->caller, (struct module *)owner);
}

/* Free every shadow with @id (e.g. from a post_reverse hook); returns how many. */
unsigned int ksplice_shadow_free_all(unsigned long id)
{
	return free_matching(has_id, id);
}
EXPORT_SYMBOL_GPL(ksplice_shadow_free_all);

/*
 * Core side: free the shadows allocated by code of @owner (an update module),
 * after its update was reversed or before the module goes away. Returns how
 * many were freed.
 */
unsigned int ksplice_shadow_free_owner(struct module *owner)
{
	return free_matching(allocated_by, (unsigned long)owner);
}

/* Shadows attached now (sysfs /sys/kernel/ksplice/<id>/shadows counts per owner). */
unsigned int ksplice_shadow_count(struct module *owner)
{
	struct ksplice_shadow *s;
	unsigned long flags;
	unsigned int bkt, n = 0;

	spin_lock_irqsave(&ksplice_shadow_lock, flags);
	hash_for_each(ksplice_shadows, bkt, s, node)
		if (!owner || within_module(s->caller, owner))
			n++;
	spin_unlock_irqrestore(&ksplice_shadow_lock, flags);
	return n;
}
