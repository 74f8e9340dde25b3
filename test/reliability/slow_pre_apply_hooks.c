// SPDX-License-Identifier: GPL-2.0
/*
 * TEST FIXTURE: hooks of update "hostkill" (test/reliability/killed-guest.test.ts). pre_apply
 * sleeps 5 s, then lets the apply go on: a host that kills QEMU as soon as the update module is
 * loaded then kills it in the middle of ksplice-apply (the write of "apply" pending), never
 * after it, however fast the guest runs. The clean boot that follows applies the update whole.
 */
#include <linux/delay.h>
#include "ksplice_hooks.h"

static int hostkill_pre_apply(void)
{
	msleep(5000);
	return 0;
}
ksplice_pre_apply(hostkill_pre_apply);
