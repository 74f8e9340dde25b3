/**
 * GitHub's releases REST API on 127.0.0.1, for the real octokit of @actions/github: releases of
 * one repository (org/kernel-fixes), their assets with bytes, uploads on the upload host's path,
 * and asset downloads answered as GitHub does (the API redirects to storage, 302). As GitHub does:
 * a second asset of a name already on the release is refused (422), an upload must say its
 * length, a release is created once per tag (422 after), drafts are listed.
 *
 * Usage:
 *   const gh = await fakeReleasesApi({ releases: [{ tag: 'v1.0', assets: { 'ksplice-a.tar.gz': bytes } }] });
 *   ... getOctokit('t', { baseUrl: gh.base }) ...;   gh.asset('v1.0', 'SHA256SUMS');   gh.calls;   await gh.close();
 *   const bytes = updateTarball('aa11', '6.1.0-50-amd64');   // a small, real update tarball (no modules in it)
 */
import { createServer, type IncomingMessage } from 'node:http';
import { writeUpdateTarball } from '../../src/package/update-tarball.ts';

/** A real update tarball (manifest and checksums as ksplice-create writes them) for a kernel release, with one small file. */
export function updateTarball(id: string, kernelRelease: string): Buffer {
  return writeUpdateTarball(
    {
      id,
      kernelRelease,
      sourceVersion: '6.1.176-1',
      toolchain: { cc: 'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0', as: 24000, ld: 24000 },
      description: `update ${id}`,
      patch: `${id}.patch`,
      coreModule: 'ksplice.ko',
      updateModule: `ksplice_${id}.ko`,
      changed: [{ object: 'kernel/printk/printk.o', function: '_printk', address: 'ffffffff81b4c6a8' }],
      new: [],
    },
    [{ path: `${id}.patch`, data: Buffer.from(`--- a/x\n+++ b/x\n`) }],
  );
}

const REPO = '/repos/org/kernel-fixes';

export interface FakeRelease {
  tag: string;
  draft?: boolean;
  assets?: Record<string, Buffer | string>;
}

interface StoredAsset {
  id: number;
  name: string;
  bytes: Buffer;
}

interface StoredRelease {
  id: number;
  tag: string;
  draft: boolean;
  assets: StoredAsset[];
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export interface FakeReleasesOptions {
  releases?: FakeRelease[];
  /** Page size of the release list (GitHub pages with a Link header). */
  pageSize?: number;
  /** Called before an upload is stored (a neighbour job acting in between). */
  beforeUpload?: (name: string) => void | Promise<void>;
}

export async function fakeReleasesApi(options: FakeReleasesOptions = {}) {
  let nextId = 100;
  const releases: StoredRelease[] = (options.releases ?? []).map((r, i) => ({
    id: i + 1,
    tag: r.tag,
    draft: r.draft ?? false,
    assets: Object.entries(r.assets ?? {}).map(([name, bytes]) => ({ id: nextId++, name, bytes: Buffer.from(bytes) })),
  }));
  const calls: string[] = [];
  let base = '';
  const releaseJson = (r: StoredRelease) => ({
    id: r.id,
    tag_name: r.tag,
    draft: r.draft,
    upload_url: `${base}/uploads${REPO}/releases/${r.id}/assets{?name,label}`,
  });
  const assetJson = (a: StoredAsset) => ({
    id: a.id,
    name: a.name,
    size: a.bytes.length,
    browser_download_url: `${base}/download/${a.id}/${a.name}`,
  });
  const findAsset = (id: number) => releases.flatMap((r) => r.assets.map((a) => ({ r, a }))).find(({ a }) => a.id === id);

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    const data = await body(req);
    calls.push(`${req.method} ${url.pathname}`);
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(value));
    };
    const p = url.pathname;
    let m: RegExpExecArray | null;
    if (req.method === 'GET' && p === `${REPO}/releases`) {
      const size = options.pageSize ?? 30;
      const page = Number(url.searchParams.get('page') ?? '1');
      const all = [...releases].reverse(); // newest first
      const last = Math.max(1, Math.ceil(all.length / size));
      const link: Record<string, string> =
        page < last ? { link: `<${base}${REPO}/releases?per_page=${size}&page=${page + 1}>; rel="next"` } : {};
      return json(200, all.slice((page - 1) * size, page * size).map(releaseJson), link);
    }
    if (req.method === 'GET' && (m = new RegExp(`^${REPO}/releases/tags/(.+)$`).exec(p))) {
      const r = releases.find((x) => x.tag === decodeURIComponent(m![1]) && !x.draft);
      return r ? json(200, releaseJson(r)) : json(404, { message: 'Not Found' });
    }
    if (req.method === 'POST' && p === `${REPO}/releases`) {
      const { tag_name } = JSON.parse(data.toString()) as { tag_name: string };
      if (releases.some((r) => r.tag === tag_name))
        return json(422, { message: 'Validation Failed', errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }] });
      const r = { id: releases.length + 1, tag: tag_name, draft: false, assets: [] };
      releases.push(r);
      return json(201, releaseJson(r));
    }
    if (req.method === 'GET' && (m = new RegExp(`^${REPO}/releases/(\\d+)/assets$`).exec(p))) {
      const r = releases.find((x) => x.id === Number(m![1]));
      return r ? json(200, r.assets.map(assetJson)) : json(404, { message: 'Not Found' });
    }
    if ((m = new RegExp(`^${REPO}/releases/assets/(\\d+)$`).exec(p))) {
      const found = findAsset(Number(m[1]));
      if (!found) return json(404, { message: 'Not Found' });
      if (req.method === 'DELETE') {
        found.r.assets = found.r.assets.filter((a) => a !== found.a);
        res.writeHead(204);
        return res.end();
      }
      if (req.method === 'GET' && req.headers.accept === 'application/octet-stream') {
        res.writeHead(302, { location: `${base}/storage/${found.a.id}` });
        return res.end();
      }
      if (req.method === 'GET') return json(200, assetJson(found.a));
    }
    if (req.method === 'GET' && (m = /^\/storage\/(\d+)$/.exec(p))) {
      const found = findAsset(Number(m[1]));
      if (!found) return json(404, { message: 'Not Found' });
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return res.end(found.a.bytes);
    }
    if (req.method === 'POST' && (m = new RegExp(`^/uploads${REPO}/releases/(\\d+)/assets$`).exec(p))) {
      const r = releases.find((x) => x.id === Number(m![1]));
      const name = url.searchParams.get('name') ?? '';
      if (!r) return json(404, { message: 'Not Found' });
      if (req.headers['content-length'] !== String(data.length))
        return json(400, { message: `content-length ${req.headers['content-length']} for ${data.length} bytes` });
      await options.beforeUpload?.(name);
      if (r.assets.some((a) => a.name === name))
        return json(422, { message: 'Validation Failed', errors: [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }] });
      const a = { id: nextId++, name, bytes: data };
      r.assets.push(a);
      return json(201, assetJson(a));
    }
    json(404, { message: `no fake for ${req.method} ${p}` });
  });
  base = await new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    }),
  );
  return {
    base,
    calls,
    /** An asset's bytes on the release of `tag`, or undefined. */
    asset: (tag: string, name: string) => releases.find((r) => r.tag === tag)?.assets.find((a) => a.name === name)?.bytes,
    assetNames: (tag: string) => (releases.find((r) => r.tag === tag)?.assets ?? []).map((a) => a.name).sort(),
    /** Puts an asset on a release directly (a neighbour job, a human). */
    put: (tag: string, name: string, bytes: Buffer | string) => {
      const r = releases.find((x) => x.tag === tag)!;
      r.assets = r.assets.filter((a) => a.name !== name);
      r.assets.push({ id: nextId++, name, bytes: Buffer.from(bytes) });
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
