/**
 * Test helper: fakes of what the GitHub Action talks to, for test/action/action.test.ts: the
 * results service's artifact API with its blob storage, GitHub's releases API (both HTTP servers
 * on 127.0.0.1), the runtime token the artifact client reads, and a `docker` for a machine with no
 * Docker engine.
 *
 * Usage:
 *   const artifacts = await fakeArtifactService();   // artifacts.base, .uploads, .calls, .close()
 *   const github = await fakeGitHub({ existing: true, assets: ['README.txt'] });
 *   const docker = await fakeDockerBin(scratch);     // PATH=`${docker.bin}:…`, FAKE_DOCKER_LOG=docker.log
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    }),
  );
}

/** The results service's artifact API and the blob storage it signs URLs for. */
export async function fakeArtifactService() {
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
      return res.end(
        JSON.stringify({ ok: true, signedUploadUrl: `${base}/devstoreaccount1/artifacts/${encodeURIComponent(name)}?sig=fake` }),
      );
    }
    if (url.pathname.endsWith('/FinalizeArtifact')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ ok: true, artifactId: '42' }));
    }
    if (req.method === 'PUT' && url.pathname.startsWith('/devstoreaccount1/')) {
      const blob = decodeURIComponent(url.pathname.split('/').pop()!);
      const comp = url.searchParams.get('comp');
      if (comp === 'block') blocks.set(url.searchParams.get('blockid')!, data);
      else if (comp === 'blocklist')
        uploads.set(blob, Buffer.concat([...data.toString().matchAll(/<Latest>([^<]+)<\/Latest>/g)].map((m) => blocks.get(m[1])!)));
      else uploads.set(blob, data);
      res.writeHead(201, {
        etag: '"0x1"',
        'last-modified': new Date().toUTCString(),
        'x-ms-request-id': '1',
        'x-ms-version': '2023-11-03',
        'x-ms-request-server-encrypted': 'true',
      });
      return res.end();
    }
    res.writeHead(404);
    res.end();
  });
  base = await listen(server);
  return { base, uploads, calls, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export interface FakeGitHubOptions {
  /** The release of v1.0 exists already (GET .../releases/tags/v1.0 → 200). */
  existing?: boolean;
  /** Asset names already on that release. */
  assets?: string[];
  /** The release is created by someone else between our GET and POST (POST → 422). */
  createdMeanwhile?: boolean;
}

/**
 * GitHub's releases API for org/kernel-fixes, release 7 of tag v1.0. As GitHub does, a second
 * asset of a name already on the release is refused (422), and an upload must say its length.
 */
export async function fakeGitHub(options: FakeGitHubOptions = {}) {
  const assets = new Map<string, { id: number; bytes: Buffer }>(
    (options.assets ?? []).map((name, i) => [name, { id: 100 + i, bytes: Buffer.from('an older build') }]),
  );
  let released = options.existing ?? false;
  let nextAsset = 200;
  const calls: string[] = [];
  let base = '';
  const release = () => ({ id: 7, tag_name: 'v1.0', upload_url: `${base}/uploads/repos/org/kernel-fixes/releases/7/assets{?name,label}` });
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    const data = await body(req);
    calls.push(`${req.method} ${url.pathname}`);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.method === 'GET' && url.pathname === '/repos/org/kernel-fixes/releases/tags/v1.0')
      return released ? json(200, release()) : json(404, { message: 'Not Found' });
    if (req.method === 'POST' && url.pathname === '/repos/org/kernel-fixes/releases') {
      const wasThere = released || options.createdMeanwhile;
      released = true;
      if (wasThere)
        return json(422, { message: 'Validation Failed', errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }] });
      if ((JSON.parse(data.toString()) as { tag_name: string }).tag_name !== 'v1.0') return json(400, { message: 'wrong tag_name' });
      return json(201, release());
    }
    if (req.method === 'GET' && url.pathname === '/repos/org/kernel-fixes/releases/7/assets') {
      return json(
        200,
        [...assets].map(([name, a]) => ({ id: a.id, name, size: a.bytes.length })),
      );
    }
    const downloaded = /^\/repos\/org\/kernel-fixes\/releases\/assets\/(\d+)$/.exec(url.pathname);
    const wanted = downloaded && [...assets.values()].find((a) => a.id === Number(downloaded[1]));
    if (req.method === 'GET' && wanted && req.headers.accept === 'application/octet-stream') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return res.end(wanted.bytes);
    }
    const deleted = /^\/repos\/org\/kernel-fixes\/releases\/assets\/(\d+)$/.exec(url.pathname);
    if (req.method === 'DELETE' && deleted) {
      const name = [...assets].find(([, a]) => a.id === Number(deleted[1]))?.[0];
      if (!name) return json(404, { message: 'Not Found' });
      assets.delete(name);
      res.writeHead(204);
      return res.end();
    }
    if (req.method === 'POST' && url.pathname === '/uploads/repos/org/kernel-fixes/releases/7/assets') {
      const name = url.searchParams.get('name')!;
      if (req.headers['content-length'] !== String(data.length))
        return json(400, { message: `content-length ${req.headers['content-length']} for ${data.length} bytes` });
      if (assets.has(name))
        return json(422, { message: 'Validation Failed', errors: [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }] });
      assets.set(name, { id: nextAsset++, bytes: data });
      return json(201, { id: nextAsset - 1, name, browser_download_url: `${base}/download/${name}` });
    }
    json(404, { message: `no fake for ${req.method} ${url.pathname}` });
  });
  base = await listen(server);
  return { base, assets, calls, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A runtime token whose claims carry the run and job the artifact client asks for. */
export function runtimeToken(): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ scp: 'Actions.ExampleScope Actions.Results:run-1:job-1' })}.sig`;
}

/**
 * A `docker` for a machine with no Docker engine: `docker run` executes the container's command
 * here, as the container would see it. Volumes are mounted at their own paths, so the command's
 * paths are the same; every absolute path the command names must lie in a volume (a path left
 * unmounted is where a real container would fail), the user must be the caller's, --network=none
 * runs it in a new network namespace with no network (unshare -n), and only the -e variables
 * reach it, with the image's PATH. Each call is logged as one JSON line to $FAKE_DOCKER_LOG.
 */
const FAKE_DOCKER = `#!/usr/bin/env node
import { appendFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
const argv = process.argv.slice(2);
appendFileSync(process.env.FAKE_DOCKER_LOG, JSON.stringify(argv) + '\\n');
const refuse = (why) => { process.stderr.write('fake docker: ' + why + '\\n'); process.exit(125); };
if (argv.shift() !== 'run') refuse('only docker run is faked');
const mounts = [];
const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
let network = true, cwd = '/', user = null;
while (argv.length && argv[0].startsWith('-')) {
  const flag = argv.shift();
  if (flag === '--rm') continue;
  if (flag === '--network=none') { network = false; continue; }
  const value = argv.shift();
  if (flag === '-v') {
    const [host, inside] = value.split(':');
    if (host !== inside) refuse('volume ' + value + ' is not mounted at its own path');
    if (!existsSync(host)) refuse('volume ' + host + ' does not exist');
    mounts.push(host);
  } else if (flag === '-w') cwd = value;
  else if (flag === '-e') env[value.slice(0, value.indexOf('='))] = value.slice(value.indexOf('=') + 1);
  else if (flag === '--user') user = value;
  else refuse('unknown option ' + flag);
}
const image = argv.shift();
if (!/@sha256:[0-9a-f]{64}$/.test(image)) refuse('image ' + image + ' is not pinned by digest');
if (user !== process.getuid() + ':' + process.getgid()) refuse('--user ' + user + ' is not the caller');
const mounted = (p) => mounts.some((m) => p === m || p.startsWith(m + '/'));
for (const p of [cwd, ...argv.flatMap((a) => a.split('=')).filter((a) => a.startsWith('/'))]) {
  if (!mounted(path.resolve(p))) refuse(p + ' is used inside the container but not mounted');
}
const command = network ? argv : ['unshare', '-n', ...argv];
const result = spawnSync(command[0], command.slice(1), { cwd, env, stdio: 'inherit' });
process.exit(result.status ?? 1);
`;

/** A folder under `scratch` holding the fake docker, to put first on PATH. */
export async function fakeDockerBin(scratch: string): Promise<{ bin: string; calls: () => Promise<string[][]>; log: string }> {
  const bin = path.join(scratch, 'fake-docker-bin');
  await mkdir(bin, { recursive: true });
  await writeFile(path.join(bin, 'docker'), FAKE_DOCKER);
  await chmod(path.join(bin, 'docker'), 0o755);
  const log = path.join(scratch, 'fake-docker.log');
  await writeFile(log, '');
  const calls = async () =>
    (await readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as string[]);
  return { bin, calls, log };
}
