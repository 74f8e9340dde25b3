// The result contract (src/create/outcome.ts, src/diff/findings.ts): the exit code of each
// outcome, the --json round trip, outcomeFromJson's refusals of malformed input, the closed table
// of finding rules (a new rule is one entry: messages, JSON, acceptability and the docs follow
// from it), and the module name kbuild gives an object.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { kbuildModuleName, moduleOfObject } from '../../src/create/object-module.ts';
import {
  exitCodeOf,
  outcomeFromJson,
  outcomeMessage,
  outcomeToJson,
  OutcomeJsonError,
  type CreateOutcome,
  type CreateReport,
} from '../../src/create/outcome.ts';
import { describeFinding, finding, FINDING_RULES, isRuleCode, RULE_CODES, ruleTableMarkdown } from '../../src/diff/findings.ts';
import { REPO, scratchDir } from '../helpers/paths.ts';

const report: CreateReport = {
  id: 'abcd1234',
  kernelRelease: '6.1.0-50-amd64',
  changed: [{ object: 'fs/proc/cmdline.o', function: 'cmdline_proc_show', module: 'vmlinux' }],
  new: [{ object: 'net/sctp/auth.o', function: 'sctp_auth_new_helper', module: 'sctp' }],
  unsafe: [],
  accepted: [finding('new-data', 'cmdline_reads', 'new zero-initialized static variable ...')],
  notes: ['fs/proc/cmdline.o: __bug_table entry: line number differs (not shipped)'],
  reproduction: { checked: 12, shippedVmlinux: true, shippedModules: ['ext4'] },
  timingsMs: { 'double build': 5123, diff: 40 },
};

const outcomes: CreateOutcome[] = [
  { ...report, outcome: 'built', tarball: '/out/ksplice-abcd1234.tar.gz' },
  { ...report, outcome: 'analyzed', tarball: null },
  { ...report, changed: [], new: [], outcome: 'no-changes', tarball: null },
  // One finding of every rule of the table: a new rule round-trips without touching this test.
  { ...report, outcome: 'unsafe', tarball: null, unsafe: RULE_CODES.map((rule, i) => finding(rule, `symbol_${i}`, `why ${rule} applies`)) },
];

test('each outcome maps to its exit code: 0 built or analyzed, 66 no changes, 2 unsafe', () => {
  assert.deepEqual(
    outcomes.map((o) => [o.outcome, exitCodeOf(o)]),
    [
      ['built', 0],
      ['analyzed', 0],
      ['no-changes', 66],
      ['unsafe', 2],
    ],
  );
});

test('--json round trip: every outcome reads back as itself, with every documented field', () => {
  for (const o of outcomes) {
    const json = outcomeToJson(o);
    assert.ok(!json.includes('\n'), 'one line');
    assert.deepEqual(outcomeFromJson(json), o, o.outcome);
    assert.deepEqual(Object.keys(JSON.parse(json) as object), [
      'outcome',
      'id',
      'tarball',
      'kernelRelease',
      'changed',
      'new',
      'unsafe',
      'accepted',
      'notes',
      'reproduction',
      'timingsMs',
    ]);
  }
  const unsafe = JSON.parse(outcomeToJson(outcomes[3]!)) as { unsafe: object[] };
  assert.deepEqual(unsafe.unsafe[0], {
    rule: RULE_CODES[0],
    symbol: 'symbol_0',
    reason: `why ${RULE_CODES[0]} applies`,
    acceptable: FINDING_RULES[RULE_CODES[0]!].acceptable,
  });
});

test('outcomeFromJson refuses malformed input, naming the field', () => {
  const good = JSON.parse(outcomeToJson(outcomes[3]!)) as Record<string, unknown>;
  const built = JSON.parse(outcomeToJson(outcomes[0]!)) as Record<string, unknown>;
  const cases: [string, RegExp][] = [
    ['{"outcome": ', /not JSON/],
    ['[1, 2]', /expected a JSON object/],
    [JSON.stringify({ ...good, outcome: 'refused' }), /outcome: "refused" is not one of built, analyzed, no-changes, unsafe/],
    [JSON.stringify({ ...good, kernelRelease: undefined }), /kernelRelease: expected a string/],
    [
      JSON.stringify({ ...good, unsafe: [{ rule: 'made-up', symbol: 'x', reason: 'y' }] }),
      /unsafe\[0\]\.rule: "made-up" is not a finding rule \(init-code, /,
    ],
    [
      JSON.stringify({ ...good, unsafe: [{ rule: 'notrace', symbol: 'x', reason: 'y', acceptable: true }] }),
      /unsafe\[0\]\.acceptable: rule notrace is not acceptable/,
    ],
    [JSON.stringify({ ...good, unsafe: [{ rule: 'notrace', symbol: 'x' }] }), /unsafe\[0\]\.reason: expected a string/],
    [JSON.stringify({ ...good, changed: [{ object: 'kernel/sys.o', function: 'f' }] }), /changed\[0\]\.module: expected a string/],
    [JSON.stringify({ ...good, notes: 'one' }), /notes: expected an array/],
    [JSON.stringify({ ...good, reproduction: { checked: '12' } }), /reproduction: expected \{checked: number, shippedVmlinux: boolean\}/],
    [
      JSON.stringify({ ...good, reproduction: { checked: 12, shippedVmlinux: true, shippedModules: 'ext4' } }),
      /reproduction\.shippedModules: expected an array of module names/,
    ],
    [JSON.stringify({ ...good, timingsMs: { diff: 'fast' } }), /timingsMs: expected \{stage: milliseconds\}/],
    [JSON.stringify({ ...good, unsafe: [] }), /unsafe: outcome unsafe with 0 refusing finding\(s\)/],
    [JSON.stringify({ ...built, tarball: null }), /tarball: outcome built without a tarball/],
    [JSON.stringify({ ...good, tarball: '/out/x.tar.gz' }), /tarball: outcome unsafe with tarball "\/out\/x\.tar\.gz"/],
    [JSON.stringify({ ...built, outcome: 'no-changes', tarball: null }), /changed: outcome no-changes with changed or new functions/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => outcomeFromJson(text),
      (e: Error) => e instanceof OutcomeJsonError && /^not a ksplice-create outcome: /.test(e.message) && message.test(e.message),
      text,
    );
  }
  // Older JSON without `acceptable` takes the table's.
  const withoutAcceptable = { ...good, unsafe: [{ rule: 'notrace', symbol: 'x', reason: 'y' }] };
  assert.equal(outcomeFromJson(JSON.stringify(withoutAcceptable)).unsafe[0]!.acceptable, false);
});

test('the finding rules are one closed table: each has a human message, acceptability comes from it, nothing else is a rule', () => {
  assert.ok(RULE_CODES.length >= 15);
  for (const code of RULE_CODES) {
    assert.match(code, /^[a-z]+(-[a-z]+)*$/, 'a short word tools can match');
    assert.ok(FINDING_RULES[code].message.length > 20, `${code} has a message`);
    assert.equal(finding(code, 's', 'r').acceptable, FINDING_RULES[code].acceptable);
  }
  assert.ok(!isRuleCode('bogus') && !isRuleCode('toString') && !isRuleCode(undefined));
  // What ftrace cannot redirect, or the tool cannot build, no hook makes safe.
  assert.deepEqual(RULE_CODES.filter((c) => !FINDING_RULES[c].acceptable).sort(), [
    'assembly',
    'entry-code',
    'module-code',
    'no-fentry',
    'noinstr',
    'notrace',
  ]);
  assert.equal(describeFinding(finding('export-change', 'free_uid', 'newly exported')), 'free_uid: newly exported [export-change]');
});

test('every rule code is documented: README and docs/action.md carry the rule table as the code makes it', async () => {
  for (const doc of ['README.md', 'docs/action.md']) {
    const text = await readFile(path.join(REPO, doc), 'utf8');
    for (const code of RULE_CODES) assert.ok(text.includes(`| \`${code}\` |`), `${doc}: a row for rule ${code}`);
    assert.ok(
      text.includes(ruleTableMarkdown()),
      `${doc}: the table of ruleTableMarkdown() (node --import tsx -e "import('./src/diff/findings.ts').then((m) => console.log(m.ruleTableMarkdown()))")`,
    );
    for (const field of ['outcome', 'rule', 'module'])
      assert.ok(text.includes(`\`${field}\``) || text.includes(`"${field}"`), `${doc}: the ${field} field`);
  }
});

test('outcome messages: the article\'s line for a tarball, "No changes detected", and each refusing finding with its rule', () => {
  assert.equal(outcomeMessage(outcomes[0]!), 'Ksplice update tarball written to /out/ksplice-abcd1234.tar.gz');
  assert.equal(outcomeMessage(outcomes[2]!), 'No changes detected');
  const unsafe = outcomeMessage(outcomes[3]!);
  assert.match(unsafe, /^the patch cannot be applied safely without custom code:\n {2}symbol_0: why init-code applies \[init-code\]/);
  assert.equal(unsafe.split('\n').length, RULE_CODES.length + 1);
});

test('module of an object: KBUILD_MODNAME of its kbuild command file, vmlinux for built-in code', async () => {
  const cmd = `cmd_fs/ext4/namei.o :=  gcc-12 -Wp,-MMD,fs/ext4/.namei.o.d -nostdinc -DMODULE  -DKBUILD_BASENAME='"namei"' -DKBUILD_MODNAME='"ext4"' -D__KBUILD_MODNAME=kmod_ext4 -c -o fs/ext4/namei.o fs/ext4/namei.c\n`;
  assert.equal(kbuildModuleName(cmd), 'ext4');
  assert.equal(
    kbuildModuleName(
      `cmd_net/sctp/auth.o := gcc-12 -DMODULE -DKBUILD_BASENAME='"auth"' -DKBUILD_MODNAME='"sctp"' -c -o net/sctp/auth.o net/sctp/auth.c`,
    ),
    'sctp',
  );
  assert.equal(kbuildModuleName('cmd_x.o := gcc-12 -c -o x.o x.c'), null);
  const tree = await scratchDir('object-module');
  try {
    await mkdir(path.join(tree, 'net/sched'), { recursive: true });
    await writeFile(
      path.join(tree, 'net/sched/.sch_multiq.o.cmd'),
      `cmd_net/sched/sch_multiq.o := gcc-12 -DMODULE -DKBUILD_BASENAME='"sch_multiq"' -DKBUILD_MODNAME='"sch_multiq"' -c\n`,
    );
    assert.equal(await moduleOfObject(tree, 'net/sched/sch_multiq.o', 'module'), 'sch_multiq');
    assert.equal(await moduleOfObject(tree, 'kernel/sys.o', 'vmlinux'), 'vmlinux', 'built-in: no command file read');
    await writeFile(path.join(tree, 'net/sched/.sch_prio.o.cmd'), 'cmd_net/sched/sch_prio.o := gcc-12 -c\n');
    await assert.rejects(
      moduleOfObject(tree, 'net/sched/sch_prio.o', 'module'),
      /defines no KBUILD_MODNAME: cannot tell which module net\/sched\/sch_prio\.o is part of/,
    );
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
});
