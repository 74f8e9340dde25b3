/**
 * Test helper: a source change the shipped kernel does not have, made in the pristine tree for
 * the length of one test and always undone. /proc/cmdline is created with mode 0444 instead of 0:
 * proc_cmdline_init's code changes, and proc_cmdline.patch (cmdline_proc_show only) still applies,
 * so the reproduction check must catch it in proc_cmdline_init.
 *
 * Usage:
 *   await withForgedCmdlineSource(target.sourceDir, async (file, forged) => { ... });
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function withForgedCmdlineSource(sourceDir: string, body: (file: string, forged: string) => Promise<void>): Promise<void> {
  const file = path.join(sourceDir, 'fs/proc/cmdline.c');
  const original = await readFile(file, 'utf8');
  const forged = original.replace('proc_create_single("cmdline", 0,', 'proc_create_single("cmdline", 0444,');
  assert.notEqual(forged, original, 'the forgery applies to this tree');
  try {
    await writeFile(file, forged);
    await body(file, forged);
  } finally {
    await writeFile(file, original);
  }
}
