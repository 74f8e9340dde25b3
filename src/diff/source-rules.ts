/**
 * Source-level safety rules: what the patch text itself says an update cannot carry, before any
 * object is compared. The object differ sees the effects (every caller of a changed inline
 * changes; a struct's new field shifts offsets); these rules name the cause.
 *
 *   const findings = sourceSafetyFindings({ patchText, readPre: (f) => readFile(path.join(tree, f), 'utf8'),
 *                                           libMembers, changedFunctions });
 *
 * Each rule is a predicate named for the question it answers, with a worked example; each
 * finding carries its rule code (findings.ts).
 */
import { finding, type Finding } from './findings.ts';

/** One changed line of a patch, placed at its line in the pre file. */
export interface ChangedLine {
  file: string;
  /** 1-based line of the pre file at which the line is removed (`-`) or before which it is added (`+`). */
  preLine: number;
  kind: '+' | '-';
  text: string;
}

/**
 * The added and removed lines of a unified diff, each with its position in the pre file.
 *
 * Example: `@@ -10,3 +10,4 @@` then ` a`, `+b`, ` c` → {preLine: 11, kind: '+', text: 'b'}.
 */
export function changedLines(patchText: string): ChangedLine[] {
  const out: ChangedLine[] = [];
  let file = '';
  let line = 0;
  let inHunk = false;
  for (const raw of patchText.split('\n')) {
    if (raw.startsWith('+++ ')) {
      const name = raw.slice(4).split('\t')[0]!.trim();
      file = name.slice(name.indexOf('/') + 1);
      inHunk = false;
      continue;
    }
    if (raw.startsWith('--- ') && !inHunk) continue;
    const hunk = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(raw);
    if (hunk) {
      line = Number(hunk[1]);
      inHunk = true;
      continue;
    }
    if (!inHunk) continue;
    if (raw.startsWith('diff ')) {
      inHunk = false;
      continue;
    }
    if (raw.startsWith('-')) {
      out.push({ file, preLine: line, kind: '-', text: raw.slice(1) });
      line++;
    } else if (raw.startsWith('+')) {
      out.push({ file, preLine: line, kind: '+', text: raw.slice(1) });
    } else if (raw.startsWith(' ')) {
      line++;
    }
  }
  return out;
}

/**
 * C source with comments, string and character literals blanked and preprocessor lines emptied,
 * line structure kept, so braces can be counted.
 */
export function stripForBraces(source: string): string[] {
  let text = source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '));
  text = text
    .replace(/\/\/[^\n]*/g, '')
    .replace(/"(?:\\.|[^"\\\n])*"/g, '""')
    .replace(/'(?:\\.|[^'\\\n])*'/g, "''");
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*#/.test(lines[i]!)) continue;
    while (i < lines.length && lines[i]!.trimEnd().endsWith('\\')) lines[i++] = '';
    if (i < lines.length) lines[i] = '';
  }
  return lines;
}

/**
 * The outermost brace block open at the start of `line` (1-based), as the text that opened it
 * (from the previous `;`, `}` or `{` up to the `{`), or null at file scope.
 *
 * Example: in `struct audit_context {\n\tint dummy;\n ...`, line 2 → "struct audit_context".
 */
export function enclosingBlock(lines: string[], line: number): string | null {
  let depth = 0;
  let opener: string | null = null;
  let pending = '';
  for (let i = 0; i < line - 1 && i < lines.length; i++) {
    for (const ch of lines[i]! + '\n') {
      if (ch === '{') {
        if (depth === 0) opener = pending.replace(/\s+/g, ' ').trim();
        depth++;
        pending = '';
      } else if (ch === '}') {
        depth = Math.max(0, depth - 1);
        if (depth === 0) opener = null;
        pending = '';
      } else if (ch === ';') {
        pending = '';
      } else {
        pending += ch;
      }
    }
  }
  return depth > 0 ? opener : null;
}

/** A line that declares or removes something (not blank, not only a comment or a brace). */
function isDeclarationLine(text: string): boolean {
  const code = text
    .replace(/\/\*.*?\*\//g, '')
    .replace(/\/\/.*$/, '')
    .trim();
  return code !== '' && !/^[{}]+;?$/.test(code) && !code.startsWith('/*') && !code.startsWith('*') && !code.startsWith('#');
}

/**
 * Does this changed line alter a struct or union type's layout? A member added, removed or
 * retyped inside `struct NAME { ... }` changes the size and offsets every user was compiled
 * with; the running kernel's objects of that type keep the old layout, and code not rebuilt
 * (other objects, loaded modules) keeps reading old offsets.
 *
 * Example: `+\tunsigned int nr_overflows;` inside `struct audit_context {` in kernel/audit.h →
 * "struct audit_context".
 */
export function structWhoseLayoutChanges(opener: string | null, text: string, typedefName: string | null = null): string | null {
  if (!opener || !isDeclarationLine(text)) return null;
  const m = /^(?:typedef\s+)?(struct|union)\s+([A-Za-z_]\w*)(?:\s+__\w+(?:\([^)]*\))?)*$/.exec(opener);
  if (m) return `${m[1]} ${m[2]}`;
  // A type with no tag, known only by its typedef name.
  const anonymous = /^typedef\s+(struct|union)(?:\s+__\w+(?:\([^)]*\))?)*$/.exec(opener);
  return anonymous && typedefName ? `${anonymous[1]} ${typedefName} (typedef)` : null;
}

/**
 * The name a `typedef struct { ... } NAME;` gives the outermost block open at `line` (1-based):
 * the last identifier between the block's closing brace and the next `;`, or null.
 *
 * Example: in `typedef struct {\n\tint counter;\n} atomic_t;`, line 2 → "atomic_t".
 */
export function typedefNameOfBlock(lines: string[], line: number): string | null {
  let depth = 0;
  let closedAt: { row: number; col: number } | null = null;
  for (let i = 0; i < lines.length && !closedAt; i++) {
    const row = lines[i]!;
    for (let j = 0; j < row.length; j++) {
      if (row[j] === '{') depth++;
      else if (row[j] === '}') {
        depth = Math.max(0, depth - 1);
        if (depth === 0 && i >= line - 1) {
          closedAt = { row: i, col: j + 1 };
          break;
        }
      }
    }
  }
  if (!closedAt) return null;
  const after = [lines[closedAt.row]!.slice(closedAt.col), ...lines.slice(closedAt.row + 1, closedAt.row + 4)].join(' ');
  const declarators = after.split(';')[0]!;
  const names = declarators.match(/[A-Za-z_]\w*/g) ?? [];
  return names.filter((n) => !/^__\w+$/.test(n)).pop() ?? null;
}

/**
 * A member declaration as the compiler sees its type and name: comments and spacing dropped,
 * the spellings C treats as one type made one.
 *
 * Example: `unsigned index;		/* index *\/` and `unsigned int index;	/* index *\/` →
 * both `unsigned int index;` (the corpus audit_tree fix: no layout change).
 */
export function canonicalMember(text: string): string {
  return text
    .replace(/\/\*.*?\*\//g, ' ')
    .replace(/\/\/.*$/, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*([;,*[\]():])\s*/g, '$1')
    .replace(/\bunsigned(?! (?:int|long|short|char)\b)/g, 'unsigned int')
    .replace(/\bsigned(?! (?:int|long|short|char)\b)/g, 'int')
    .replace(/\b(long|short) int\b/g, '$1')
    .trim();
}

/**
 * Does the patch leave a struct's members as they were, once spelled canonically? Then its
 * layout did not change, whatever the lines look like.
 */
export function sameMembers(removed: string[], added: string[]): boolean {
  const a = removed.map(canonicalMember).filter(Boolean);
  const b = added.map(canonicalMember).filter(Boolean);
  return a.length === b.length && a.every((m, i) => m === b[i]);
}

/**
 * Is this block the body of an inline function of a header? Its code is copied into every
 * caller: the patch changes each of them, in objects the update rebuilds and in modules it
 * does not.
 *
 * Example: `static inline u64 clocksource_delta(u64 now, u64 last, u64 mask)` in
 * kernel/time/timekeeping_internal.h → "clocksource_delta".
 */
export function inlineFunctionOfHeader(file: string, opener: string | null): string | null {
  if (!file.endsWith('.h') || !opener) return null;
  if (!/\b(inline|__always_inline)\b/.test(opener)) return null;
  const m = /([A-Za-z_]\w*)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*(?:__\w+\s*)*$/.exec(opener);
  return m ? m[1]! : null;
}

/**
 * Is this object a member of a kbuild `lib-y` archive (`lib.a`)? An archive member is linked into
 * vmlinux only when something refers to it, objects there are often hand-written assembly or
 * built for early boot, and its functions may be missing from or duplicated in the running
 * kernel: the update cannot know which copy runs.
 *
 * Example: `lib-y := ctype.o string.o vsprintf.o cmdline.o \` in lib/Makefile → lib/cmdline.o.
 */
export function isLibArchiveMember(object: string, makefileText: string): boolean {
  const base = object.slice(object.lastIndexOf('/') + 1);
  const joined = makefileText.replace(/\\\n/g, ' ');
  for (const m of joined.matchAll(/^\s*lib-(?:y|\$\(CONFIG_\w+\))\s*[:+]?=\s*(.*)$/gm)) {
    const members = m[1]!.split(/\s+/).map((w) => w.replace(/\$\(BITS\)/, '64'));
    if (members.includes(base)) return true;
  }
  return false;
}

/**
 * Is this changed object assembled from a `.S` file? Assembly has no compiler-inserted fentry
 * call (ftrace cannot redirect it), no function sections, and often runs where nothing may be
 * patched underneath it (entry code, early boot, trampolines).
 *
 * Example: a patch to arch/x86/lib/hweight.S → "__sw_hweight32 ... assembly".
 */
export function isAssemblySource(file: string): boolean {
  return file.endsWith('.S');
}

/** A top-level function definition of a C file: its name and its body (stripped text). */
export interface FunctionBody {
  name: string;
  body: string;
}

/**
 * The function definitions at file scope of stripped C lines (stripForBraces), in one pass: a
 * block opened at file scope whose opener ends in a parameter list (and attributes) is a
 * function; struct, union, enum and initializer blocks are not.
 *
 * Example: `static inline u64 timekeeping_get_delta(const struct tk_read_base *tkr)\n{ ... }` →
 * { name: 'timekeeping_get_delta', body: ' ... ' }.
 */
export function functionBodies(lines: string[]): FunctionBody[] {
  const out: FunctionBody[] = [];
  let depth = 0;
  let pending = '';
  let current: FunctionBody | null = null;
  for (const ch of lines.join('\n')) {
    if (ch === '{') {
      if (depth === 0) current = definedFunction(pending.replace(/\s+/g, ' ').trim());
      else if (current) current.body += ch;
      depth++;
      pending = '';
    } else if (ch === '}') {
      depth = Math.max(0, depth - 1);
      if (depth === 0 && current) {
        out.push(current);
        current = null;
      } else if (current) current.body += ch;
      pending = '';
    } else if (depth > 0) {
      if (current) current.body += ch;
    } else if (ch === ';') {
      pending = '';
    } else {
      pending += ch;
    }
  }
  return out;
}

/** The function an opener defines (`int f(int a) __attr`), or null (struct, enum, `= {`). */
function definedFunction(opener: string): FunctionBody | null {
  if (/^(?:typedef\s+)?(?:struct|union|enum)\b[^(]*$/.test(opener) || /=$/.test(opener)) return null;
  const m = /([A-Za-z_]\w*)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*(?:__\w+(?:\([^)]*\))?\s*)*$/.exec(opener);
  return m ? { name: m[1]!, body: '' } : null;
}

/**
 * The functions of a file whose code contains the given functions' code once the compiler has
 * inlined: those that name one of them, and, transitively, those that name such a function (a
 * static helper inlined into its callers carries the inline along).
 *
 * Example: in kernel/time/timekeeping.c, clocksource_delta is named by timekeeping_get_delta,
 * which timekeeping_get_ns names, which ktime_get names → all three reach clocksource_delta.
 */
export function functionsReaching(targets: Iterable<string>, bodies: FunctionBody[]): Set<string> {
  const names = new Set(targets);
  const reaching = new Set<string>();
  for (let grew = true; grew;) {
    grew = false;
    const named = new RegExp(`\\b(?:${[...names].map((n) => n.replace(/\W/g, '')).join('|')})\\b`);
    for (const b of bodies) {
      if (reaching.has(b.name) || !named.test(b.body)) continue;
      reaching.add(b.name);
      names.add(b.name);
      grew = true;
    }
  }
  return reaching;
}

/**
 * A C file's text followed by the `.c` files it #includes (one level), where an object is built
 * from several: kernel/sched/build_policy.c includes rt.c, deadline.c, ...; '' if unreadable.
 */
async function sourceWithIncludedC(file: string, readPre: SourceSafetyInput['readPre']): Promise<string> {
  const text = await readPre(file).catch(() => '');
  const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
  const included = [...text.matchAll(/^\s*#\s*include\s+"([^"]+\.c)"/gm)].map((m) => m[1]!);
  const parts = await Promise.all(included.map((f) => readPre(`${dir}${f}`).catch(() => '')));
  return [text, ...parts].join('\n');
}

/** A changed function's source name: GCC's clone suffixes dropped (`f.constprop.0` → `f`). */
function sourceName(fn: string): string {
  return fn.split('.')[0]!;
}

/**
 * The callers an update of a header inline must replace: in each built object, the changed
 * functions whose source reaches the inline (functionsReaching over the object's .c file, with the
 * header's own inlines that call it as further targets). Functions the patch changed for other
 * reasons are not callers. An object whose source cannot be read is named with its changed
 * functions, said to be unsorted.
 */
async function callersOfInline(inline: string, headerBodies: FunctionBody[], input: SourceSafetyInput): Promise<string> {
  if (input.objects.length === 0) return 'the patch was not built, so they are not listed';
  const targets = new Set([inline, ...functionsReaching([inline], headerBodies)]);
  const callers: string[] = [];
  const unsorted: string[] = [];
  for (const { object, changedFunctions } of input.objects) {
    if (changedFunctions.length === 0) continue;
    const source = await sourceWithIncludedC(object.replace(/\.o$/, '.c'), input.readPre);
    if (!source) {
      unsorted.push(...changedFunctions.map((f) => `${f} (${object})`));
      continue;
    }
    const reaching = functionsReaching(targets, functionBodies(stripForBraces(source)));
    callers.push(...changedFunctions.filter((f) => reaching.has(sourceName(f))).map((f) => `${f} (${object})`));
  }
  const listed = callers.length ? `here ${callers.join(', ')}` : 'none of the changed functions calls it';
  return unsorted.length ? `${listed}; changed in objects whose source was not read: ${unsorted.join(', ')}` : listed;
}

export interface SourceSafetyInput {
  patchText: string;
  /** Reads a file of the pristine (pre) tree, relative to its root. */
  readPre: (file: string) => Promise<string>;
  /** The built objects and the source each came from. */
  objects: { object: string; changedFunctions: string[] }[];
}

/** Every source-level finding of a patch: struct layouts, header inlines, lib-y members, assembly. */
export async function sourceSafetyFindings(input: SourceSafetyInput): Promise<Finding[]> {
  const findings: Finding[] = [];
  const byFile = new Map<string, ChangedLine[]>();
  for (const l of changedLines(input.patchText)) byFile.set(l.file, [...(byFile.get(l.file) ?? []), l]);
  for (const [file, lines] of byFile) {
    if (!/\.(c|h)$/.test(file)) continue;
    const pre = await input.readPre(file).catch(() => '');
    if (!pre) continue;
    const stripped = stripForBraces(pre);
    const structs = new Map<string, { removed: string[]; added: string[] }>();
    const inlines = new Set<string>();
    for (const l of lines) {
      const opener = enclosingBlock(stripped, l.preLine);
      const struct = structWhoseLayoutChanges(
        opener,
        l.text,
        opener && /^typedef\s+(struct|union)\b/.test(opener) ? typedefNameOfBlock(stripped, l.preLine) : null,
      );
      if (struct) {
        const members = structs.get(struct) ?? { removed: [], added: [] };
        (l.kind === '-' ? members.removed : members.added).push(l.text);
        structs.set(struct, members);
      }
      const inline = inlineFunctionOfHeader(file, opener);
      if (inline && isDeclarationLine(l.text)) inlines.add(inline);
    }
    for (const [s, members] of structs) {
      if (sameMembers(members.removed, members.added)) continue;
      findings.push(
        finding(
          'data-layout',
          s,
          `data layout of ${s} changed in ${file}: the running kernel's ${s} objects keep the old layout and code the update does not replace (other objects, loaded modules) keeps the old offsets; keep the layout and attach new fields as shadow variables (ksplice_shadow_* in kmod/ksplice_hooks.h)`,
        ),
      );
    }
    const headerBodies = inlines.size ? functionBodies(stripped) : [];
    for (const f of inlines) {
      findings.push(
        finding(
          'header-inline',
          f,
          `inline function ${f} of header ${file} changed: its code is copied into every caller, so the update must replace all of them — ${await callersOfInline(f, headerBodies, input)} — and loadable modules built with the old ${f} keep it`,
        ),
      );
    }
  }
  for (const { object, changedFunctions } of input.objects) {
    if (changedFunctions.length === 0) continue;
    const dir = object.includes('/') ? object.slice(0, object.lastIndexOf('/')) : '.';
    const makefile = await input.readPre(`${dir}/Makefile`).catch(() => '');
    if (isLibArchiveMember(object, makefile)) {
      findings.push(
        finding(
          'lib-archive',
          object,
          `${object} is a lib-y archive member (${dir}/Makefile): it is linked into vmlinux only if something refers to it, may be built without ftrace, and the running kernel may lack or duplicate its functions (${changedFunctions.join(', ')})`,
        ),
      );
    }
    const source = object.replace(/\.o$/, '.S');
    if (input.patchText.includes(`/${source}`) && isAssemblySource(source)) {
      findings.push(
        finding(
          'assembly',
          object,
          `${source} is assembly: its functions (${changedFunctions.join(', ')}) have no fentry call for ftrace to redirect, and hand-written entry/low-level code cannot be switched under a running CPU`,
        ),
      );
    }
  }
  return findings;
}
