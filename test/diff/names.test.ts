// GCC's symbol naming, as the differ reads it (names seen in Debian's 6.1 printk.o and sched/core.o).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cloneParent, coldOwner, hasCounter, isCloneName, isColdPart, unnumberedName } from '../../src/diff/names.ts';

test('clone parents and cold owners', () => {
  assert.equal(cloneParent('__pr_flush.constprop.0.isra.0'), '__pr_flush');
  assert.equal(cloneParent('console_emit_next_record.constprop.0.cold'), 'console_emit_next_record');
  assert.equal(cloneParent('__wake_up_klogd.part.0'), '__wake_up_klogd');
  assert.equal(cloneParent('vprintk_emit'), 'vprintk_emit');
  assert.equal(coldOwner('console_emit_next_record.constprop.0.cold'), 'console_emit_next_record.constprop.0');
  assert.equal(coldOwner('devkmsg_write.cold'), 'devkmsg_write');
  assert.ok(isColdPart('register_console.cold'));
  assert.ok(!isColdPart('coldplug'));
  assert.ok(isCloneName('add_to_rb.constprop.0'));
  assert.ok(!isCloneName('console.part_of_name'));
});

test('counters GCC adds to static locals and unique IDs are removed for matching', () => {
  assert.equal(unnumberedName('__already_done.24'), '__already_done');
  assert.equal(unnumberedName('__UNIQUE_ID_ddebug371.21'), '__UNIQUE_ID_ddebug');
  assert.equal(unnumberedName('__UNIQUE_ID___addressable___SCK__might_resched29.19'), '__UNIQUE_ID___addressable___SCK__might_resched');
  assert.equal(unnumberedName('CSWTCH.381'), 'CSWTCH');
  assert.equal(unnumberedName('foo.constprop.3'), 'foo.constprop');
  assert.equal(unnumberedName('printk_rb_static'), 'printk_rb_static');
  assert.ok(hasCounter('__func__.7'));
  assert.ok(!hasCounter('console_sem'));
});
