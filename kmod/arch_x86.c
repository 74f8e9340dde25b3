// SPDX-License-Identifier: GPL-2.0
/*
 * arch_x86.c - the forms x86-64 runtime-patched instructions may take.
 *
 * The kernel rewrites some instructions of its own text after linking
 * (boot-time alternatives, ftrace, static calls, jump labels...), so the
 * running bytes of a function legitimately differ from the pre object at
 * those places. For every such site the create stage tells us what the pre
 * code holds there; this file decides whether the running bytes are one of
 * the forms the kernel could have produced from it. Each accepted form is
 * checked as far as it can be (branch destinations included); anything else
 * is a no_match. Forms follow arch/x86/kernel/alternative.c, ftrace.c,
 * static_call.c, jump_label.c and paravirt.c of Linux 6.1.
 */
#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include "ksplice_internal.h"

#define X86_CALL_REL32	0xe8
#define X86_JMP_REL32	0xe9
#define X86_JMP_REL8	0xeb
#define X86_RET		0xc3
#define X86_INT3	0xcc

/* The kernel's 64-bit nops (x86_nops[], BYTES_NOPn in asm/nops.h) plus 0x90. */
static const u8 x86_nop_forms[][8] = {
	{ 0x90 },
	{ 0x66, 0x90 },
	{ 0x0f, 0x1f, 0x00 },
	{ 0x0f, 0x1f, 0x40, 0x00 },
	{ 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	{ 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	{ 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
	{ 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};
static const u8 x86_nop_lengths[] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* True when code[0..len) is a sequence of the kernel's nops. */
bool ksplice_arch_is_nop(const u8 *code, unsigned int len)
{
	unsigned int pos = 0;

	while (pos < len) {
		int i, found = 0;

		for (i = ARRAY_SIZE(x86_nop_forms) - 1; i >= 0; i--) {
			unsigned int n = x86_nop_lengths[i];

			if (pos + n <= len && !memcmp(code + pos, x86_nop_forms[i], n)) {
				pos += n;
				found = 1;
				break;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

/* Padding after a rewritten branch: nops or int3 (the kernel uses both). */
static bool is_padding(const u8 *code, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		if (code[i] != X86_INT3)
			break;
	return i == len || ksplice_arch_is_nop(code + i, len - i);
}

static unsigned long rel32_dest(unsigned long insn_addr, const u8 *insn, unsigned int insn_len)
{
	s32 rel;

	memcpy(&rel, insn + insn_len - 4, 4);
	return insn_addr + insn_len + (long)rel;
}

/* kallsyms name of addr when it is a symbol start; NULL otherwise. */
static const char *symbol_start_name(unsigned long addr, char *buf)
{
	char *plus;

	sprint_symbol(buf, addr);
	plus = strchr(buf, '+');
	if (!plus || strncmp(plus, "+0x0/", 5))
		return NULL;
	*plus = '\0';
	return buf;
}

static bool inside_function(struct ksplice_func_state *fs, unsigned long addr)
{
	return addr >= fs->addr && addr < fs->addr + fs->func->pre_size;
}

static int site_mismatch(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			 const u8 *run, const struct ksplice_site *site, const char *what)
{
	return ksplice_abort(us, KSPLICE_ABORT_NO_MATCH,
			     "%s+0x%x: %s site (%s): running bytes %*ph match no form the kernel produces",
			     fs->func->name, site->offset, what,
			     site->symbol ? site->symbol : "-",
			     (int)min(site->length, 16u), run + site->offset);
}

/* The site still holds its pre-code form (relocations inside computed). */
static bool matches_original(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			     const u8 *run, unsigned int site_index)
{
	const struct ksplice_site *site = &fs->func->sites[site_index];
	int ret;

	/*
	 * Not matching the original form is no verdict yet: probe quietly and
	 * leave the abort slot to the caller.
	 */
	us->probing++;
	ret = ksplice_match_plain(us, fs, run, site->offset, site->length);
	us->probing--;
	return ret == 0;
}

/* call __fentry__ -> 5-byte nop (ftrace idle) or call into ftrace (traced). */
static int match_fentry(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			const u8 *run, unsigned int idx)
{
	const struct ksplice_site *site = &fs->func->sites[idx];
	const u8 *r = run + site->offset;

	if (site->length != 5)
		return ksplice_abort(us, KSPLICE_ABORT_BAD_DESCRIPTOR,
				     "%s+0x%x: fentry site must be 5 bytes", fs->func->name, site->offset);
	if (!memcmp(r, x86_nop_forms[4], 5))
		return 0;
	/*
	 * Traced: a call into ftrace. Either the shared ftrace_caller /
	 * ftrace_regs_caller (several ops on the site), or a dynamic trampoline
	 * kallsyms cannot name: accepted only when it is the one of our own
	 * ftrace_ops for this address (an earlier update patched the function).
	 */
	if (r[0] == X86_CALL_REL32) {
		unsigned long dest = rel32_dest(fs->addr + site->offset, r, 5);
		struct ksplice_target *ours = ksplice_redirect_find(fs->addr + site->offset);
		char name[KSYM_SYMBOL_LEN];

		/* Our own redirect of an earlier update: its ops' dynamic trampoline. */
		if (ours && ours->ops.trampoline == dest)
			return 0;
		sprint_symbol(name, dest);
		if (!strncmp(name, "ftrace_caller+", 14) || !strncmp(name, "ftrace_regs_caller+", 19))
			return 0;
		return ksplice_abort(us, KSPLICE_ABORT_NO_MATCH,
				     "%s+0x%x: fentry calls %s, not a known ftrace entry (another tracer's trampoline?): stop tracing it and retry",
				     fs->func->name, site->offset, name);
	}
	return site_mismatch(us, fs, run, site, "fentry");
}

static bool is_return_thunk_name(const char *name)
{
	return name && (strstr(name, "return_thunk") || !strcmp(name, "entry_untrain_ret") ||
			!strcmp(name, "zen_untrain_ret") || !strcmp(name, "srso_untrain_ret"));
}

/* jmp __x86_return_thunk -> ret + int3 padding, or jmp x86_return_thunk. */
static int match_return_thunk(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			      const u8 *run, unsigned int idx)
{
	const struct ksplice_site *site = &fs->func->sites[idx];
	const u8 *r = run + site->offset;
	char name[KSYM_SYMBOL_LEN];

	if (r[0] == X86_RET && is_padding(r + 1, site->length - 1))
		return 0;
	if (matches_original(us, fs, run, idx))
		return 0;
	if (site->length == 5 && r[0] == X86_JMP_REL32 &&
	    is_return_thunk_name(symbol_start_name(rel32_dest(fs->addr + site->offset, r, 5), name)))
		return 0;
	return site_mismatch(us, fs, run, site, "return thunk");
}

/* Inline form of a retpoline: [lfence] call/jmp *%reg, then padding. */
static bool matches_inline_indirect(const u8 *r, unsigned int len, unsigned int reg, bool is_jump)
{
	unsigned int i = 0;
	u8 modrm = (is_jump ? 0x20 : 0x10) | 0xc0 | (reg & 7);

	if (len >= 3 && r[0] == 0x0f && r[1] == 0xae && r[2] == 0xe8)
		i = 3;				/* lfence */
	if (reg >= 8) {
		if (i >= len || r[i] != 0x41)
			return false;
		i++;
	}
	if (i + 2 > len || r[i] != 0xff || r[i + 1] != modrm)
		return false;
	return is_padding(r + i + 2, len - i - 2);
}

static int match_retpoline(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			   const u8 *run, unsigned int idx)
{
	const struct ksplice_site *site = &fs->func->sites[idx];
	const u8 *r = run + site->offset;

	if (matches_original(us, fs, run, idx))
		return 0;
	if (matches_inline_indirect(r, site->length, site->reg, site->is_jump))
		return 0;
	/* Conditional jump to a thunk: inverted Jcc.d8 over the inline jmp. */
	if (site->length >= 4 && (r[0] & 0xf0) == 0x70 && r[1] == site->length - 2 &&
	    matches_inline_indirect(r + 2, site->length - 2, site->reg, true))
		return 0;
	return site_mismatch(us, fs, run, site, "retpoline");
}

/*
 * call *pv_ops+X(%rip): unchanged; a direct call to a function start (the
 * op's current target, paravirt_patch()); all nops (_paravirt_nop); or the
 * inline native code that the ALT_NOT(X86_FEATURE_XENPV) alternative at the
 * same place puts there: the site's replacements, or one of the native
 * sequences of 6.1's paravirt.h/irqflags.h below, padded with nops.
 */
static const u8 *const pv_native_forms[] = {
	(const u8 *)"\x02\xfa",			/* cli */
	(const u8 *)"\x02\xfb",			/* sti */
	(const u8 *)"\x03\x9c\x58",		/* pushf; pop %rax */
	(const u8 *)"\x03\x57\x9d",		/* push %rdi; popf */
	(const u8 *)"\x04\x0f\x20\xd0",		/* mov %cr2,%rax */
	(const u8 *)"\x04\x0f\x20\xd8",		/* mov %cr3,%rax */
	(const u8 *)"\x04\x0f\x22\xdf",		/* mov %rdi,%cr3 */
	(const u8 *)"\x04\x48\x89\xf8",		/* mov %rdi,%rax */
	(const u8 *)"\x01",			/* nothing: _paravirt_nop */
};

static int match_paravirt(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			  const u8 *run, unsigned int idx)
{
	const struct ksplice_site *site = &fs->func->sites[idx];
	const u8 *r = run + site->offset;
	char name[KSYM_SYMBOL_LEN];
	unsigned int i;

	if (matches_original(us, fs, run, idx))
		return 0;
	if (site->length >= 5 && r[0] == X86_CALL_REL32 && is_padding(r + 5, site->length - 5) &&
	    symbol_start_name(rel32_dest(fs->addr + site->offset, r, 5), name))
		return 0;
	for (i = 0; i < ARRAY_SIZE(pv_native_forms); i++) {
		unsigned int n = pv_native_forms[i][0] - 1;

		if (n <= site->length && !memcmp(r, pv_native_forms[i] + 1, n) &&
		    ksplice_arch_is_nop(r + n, site->length - n))
			return 0;
	}
	for (i = 0; i < site->nr_replacements; i++) {
		const struct ksplice_alt_replacement *rep = &site->replacements[i];

		if (rep->len <= site->length && !memcmp(r, rep->bytes, rep->len) &&
		    ksplice_arch_is_nop(r + rep->len, site->length - rep->len))
			return 0;
	}
	return site_mismatch(us, fs, run, site, "paravirt");
}

/*
 * Alternatives: the original instructions, or one replacement padded with
 * nops. A replacement starting with a rel32 call/jmp was re-targeted by
 * apply_alternatives(), so its opcode and a destination that is a symbol
 * start or inside this function are checked; a jmp may have been shortened
 * to jmp.d8 (recompute_jump), whose destination must stay inside.
 */
static int match_alternative(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			     const u8 *run, unsigned int idx)
{
	const struct ksplice_site *site = &fs->func->sites[idx];
	const u8 *r = run + site->offset;
	char name[KSYM_SYMBOL_LEN];
	unsigned int i;

	if (matches_original(us, fs, run, idx))
		return 0;
	if (ksplice_arch_is_nop(r, site->length))
		return 0;	/* replacement was empty: the kernel nops the site */
	for (i = 0; i < site->nr_replacements; i++) {
		const struct ksplice_alt_replacement *rep = &site->replacements[i];

		if (rep->len > site->length)
			continue;
		if ((rep->bytes[0] == X86_CALL_REL32 || rep->bytes[0] == X86_JMP_REL32) &&
		    rep->len == 5) {
			unsigned long at = fs->addr + site->offset;

			if (r[0] == rep->bytes[0] && ksplice_arch_is_nop(r + 5, site->length - 5) &&
			    (symbol_start_name(rel32_dest(at, r, 5), name) ||
			     inside_function(fs, rel32_dest(at, r, 5))))
				return 0;
			/* recompute_jump() shortens a jmp.d32 to jmp.d8 when it fits. */
			if (rep->bytes[0] == X86_JMP_REL32 && r[0] == X86_JMP_REL8 &&
			    ksplice_arch_is_nop(r + 2, site->length - 2) &&
			    inside_function(fs, at + 2 + (long)(s8)r[1]))
				return 0;
			continue;
		}
		if (!memcmp(r, rep->bytes, rep->len) &&
		    ksplice_arch_is_nop(r + rep->len, site->length - rep->len))
			return 0;
	}
	return site_mismatch(us, fs, run, site, "alternative");
}

/* call/jmp __SCT__x -> call/jmp to the current target's start, or a nop. */
static int match_static_call(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			     const u8 *run, unsigned int idx)
{
	const struct ksplice_site *site = &fs->func->sites[idx];
	const u8 *r = run + site->offset;
	char name[KSYM_SYMBOL_LEN];

	if (site->length != 5)
		return site_mismatch(us, fs, run, site, "static call");
	if (matches_original(us, fs, run, idx))
		return 0;
	if (!memcmp(r, x86_nop_forms[4], 5))
		return 0;	/* NULL target */
	if ((r[0] == X86_CALL_REL32 || r[0] == X86_JMP_REL32) &&
	    symbol_start_name(rel32_dest(fs->addr + site->offset, r, 5), name))
		return 0;
	if (site->is_jump && r[0] == X86_RET && is_padding(r + 1, 4))
		return 0;	/* tail call to a NULL/ret0 target */
	return site_mismatch(us, fs, run, site, "static call");
}

/* Jump label: a nop of the site's length, or a jmp to target_offset. */
static int match_jump_label(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			    const u8 *run, unsigned int idx)
{
	const struct ksplice_site *site = &fs->func->sites[idx];
	const u8 *r = run + site->offset;
	unsigned long want = fs->addr + site->target_offset;
	unsigned long at = fs->addr + site->offset;

	if (ksplice_arch_is_nop(r, site->length))
		return 0;
	if (site->length == 5 && r[0] == X86_JMP_REL32 && rel32_dest(at, r, 5) == want)
		return 0;
	if (site->length == 2 && r[0] == X86_JMP_REL8 && at + 2 + (long)(s8)r[1] == want)
		return 0;
	return site_mismatch(us, fs, run, site, "jump label");
}

static int match_lock_prefix(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			     const u8 *run, unsigned int idx)
{
	const struct ksplice_site *site = &fs->func->sites[idx];
	u8 b = run[site->offset];

	if (site->length == 1 && (b == 0xf0 || b == 0x3e))
		return 0;
	return site_mismatch(us, fs, run, site, "lock prefix");
}

static int match_site_kind(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			   const u8 *run, unsigned int site_index)
{
	switch (fs->func->sites[site_index].kind) {
	case KSPLICE_SITE_FENTRY:
		return match_fentry(us, fs, run, site_index);
	case KSPLICE_SITE_RETURN_THUNK:
		return match_return_thunk(us, fs, run, site_index);
	case KSPLICE_SITE_RETPOLINE:
		return match_retpoline(us, fs, run, site_index);
	case KSPLICE_SITE_PARAVIRT:
		return match_paravirt(us, fs, run, site_index);
	case KSPLICE_SITE_ALTERNATIVE:
		return match_alternative(us, fs, run, site_index);
	case KSPLICE_SITE_STATIC_CALL:
		return match_static_call(us, fs, run, site_index);
	case KSPLICE_SITE_JUMP_LABEL:
		return match_jump_label(us, fs, run, site_index);
	case KSPLICE_SITE_LOCK_PREFIX:
		return match_lock_prefix(us, fs, run, site_index);
	default:
		return ksplice_abort(us, KSPLICE_ABORT_BAD_DESCRIPTOR, "%s+0x%x: unknown site kind %u",
				     fs->func->name, fs->func->sites[site_index].offset,
				     fs->func->sites[site_index].kind);
	}
}

/*
 * Match one runtime-patched site, and count how it was found: still in its
 * pre-code form, or rewritten by the kernel (sysfs match_stats), so tests
 * can see which forms a kernel really exercised.
 */
int ksplice_arch_match_site(struct ksplice_update_state *us, struct ksplice_func_state *fs,
			    const u8 *run, unsigned int site_index)
{
	unsigned int kind = fs->func->sites[site_index].kind;
	int ret = match_site_kind(us, fs, run, site_index);

	if (ret || kind >= KSPLICE_SITE_KINDS)
		return ret;
	if (matches_original(us, fs, run, site_index))
		us->sites_original[kind]++;
	else
		us->sites_rewritten[kind]++;
	return 0;
}
