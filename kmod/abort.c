// SPDX-License-Identifier: GPL-2.0
/*
 * abort.c - typed abort codes, Ksplice style.
 *
 * Every failed apply/undo leaves exactly one code, a short word the tools
 * can test, plus the details: /sys/kernel/ksplice/<id>/abort_cause reads
 * "<word>: <details>", e.g.
 *   no_match: cmdline_proc_show+0x1d: running byte 0x90, pre code 0x48 (...)
 * and the kernel log repeats it with the human message of the code.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/printk.h>
#include "ksplice_internal.h"

static const struct {
	const char *word;
	const char *message;
} ksplice_aborts[KSPLICE_ABORT_COUNT] = {
	[KSPLICE_ABORT_NONE] = { "none", "no error" },
	[KSPLICE_ABORT_NO_MATCH] = { "no_match",
		"the running code does not match the pre code of the update" },
	[KSPLICE_ABORT_CODE_BUSY] = { "code_busy",
		"code being replaced is in use on a task's stack; try again later" },
	[KSPLICE_ABORT_MODULE_BUSY] = { "module_busy",
		"the update module is being unloaded or cannot be pinned" },
	[KSPLICE_ABORT_OUT_OF_ORDER] = { "out_of_order",
		"a later update patches the same function; undo it first" },
	[KSPLICE_ABORT_ALREADY_APPLIED] = { "already_applied",
		"the update is already applied" },
	[KSPLICE_ABORT_NOT_APPLIED] = { "not_applied",
		"the update is not applied" },
	[KSPLICE_ABORT_WRONG_KERNEL] = { "wrong_kernel",
		"the update was built for another kernel release" },
	[KSPLICE_ABORT_BAD_ADDRESS] = { "bad_address",
		"a System.map address does not fit the running kernel" },
	[KSPLICE_ABORT_BAD_DESCRIPTOR] = { "bad_descriptor",
		"the update descriptor is malformed" },
	[KSPLICE_ABORT_CANNOT_REDIRECT] = { "cannot_redirect",
		"ftrace refused to redirect the function" },
	[KSPLICE_ABORT_OUT_OF_MEMORY] = { "out_of_memory", "out of memory" },
	[KSPLICE_ABORT_CALL_FAILED] = { "call_failed",
		"a hook of the update returned an error" },
	[KSPLICE_ABORT_UNEXPECTED] = { "unexpected",
		"unexpected internal error" },
};

const char *ksplice_abort_word(enum ksplice_abort code)
{
	if (code >= KSPLICE_ABORT_COUNT)
		code = KSPLICE_ABORT_UNEXPECTED;
	return ksplice_aborts[code].word;
}

const char *ksplice_abort_message(enum ksplice_abort code)
{
	if (code >= KSPLICE_ABORT_COUNT)
		code = KSPLICE_ABORT_UNEXPECTED;
	return ksplice_aborts[code].message;
}

void ksplice_clear_abort(struct ksplice_update_state *us)
{
	us->abort_code = KSPLICE_ABORT_NONE;
	us->abort_cause[0] = '\0';
}

/*
 * Records the abort and returns the errno a sysfs write reports for it.
 * The first abort of an operation wins: later ones are consequences.
 */
int ksplice_abort(struct ksplice_update_state *us, enum ksplice_abort code,
		  const char *fmt, ...)
{
	char details[KSPLICE_ABORT_CAUSE_LEN];
	va_list args;

	if (us->abort_code != KSPLICE_ABORT_NONE || us->probing)
		return -ECANCELED;

	va_start(args, fmt);
	vscnprintf(details, sizeof(details), fmt, args);
	va_end(args);

	us->abort_code = code;
	scnprintf(us->abort_cause, sizeof(us->abort_cause), "%s: %s",
		  ksplice_abort_word(code), details);
	pr_err("Update %s aborted (%s): %s\n", us->update->id,
	       ksplice_abort_message(code), us->abort_cause);
	return -ECANCELED;
}
