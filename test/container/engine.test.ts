// The container engine's configuration and the image tags (pure; src/container/engine.ts,
// src/container/base-image.ts). The engine itself runs in real-engine.test.ts and workflows.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE_RECIPE, baseImageTag, contentTag, debianSources, toolchainImageTag } from '../../src/container/base-image.ts';
import { containersConf, engineEnv, storageConf } from '../../src/container/engine.ts';

const layout = { configDir: '/t/run/config', graphRoot: '/c/images/storage', runRoot: '/t/run' };

test('containers.conf: runc as the runtime, no default ulimits, a private tmp_dir; storage.conf: a private store', () => {
  const conf = containersConf(layout);
  assert.match(conf, /^\[containers\]\n(#.*\n)*default_ulimits = \[\]$/m);
  assert.match(conf, /^\[engine\]\n(#.*\n)*runtime = "runc"$/m);
  assert.match(conf, /^tmp_dir = "\/t\/run\/libpod"$/m);
  const storage = storageConf(layout);
  assert.match(storage, /^graphroot = "\/c\/images\/storage"$/m);
  assert.match(storage, /^runroot = "\/t\/run\/storage"$/m);
});

test('the engine env points podman at the private config and puts podman-docker first on PATH', () => {
  const env = engineEnv(layout, { PATH: '/usr/local/bin:/usr/bin', HOME: '/h' });
  assert.equal(env.CONTAINERS_CONF, '/t/run/config/containers.conf');
  assert.equal(env.CONTAINERS_STORAGE_CONF, '/t/run/config/storage.conf');
  assert.equal(env.PATH, '/t/run/config/bin:/usr/local/bin:/usr/bin', 'before a Docker CLI in /usr/local/bin');
  assert.equal(env.HOME, '/h');
});

test('image tags change with every input and only with them', () => {
  assert.match(contentTag(['a']), /^[0-9a-f]{16}$/);
  assert.equal(contentTag(['a', Buffer.from('b')]), contentTag(['a', 'b']));
  assert.notEqual(contentTag(['ab', 'c']), contentTag(['a', 'bc']), 'length-prefixed');
  const base = baseImageTag();
  assert.match(base, /^localhost\/ksplice-bookworm-node:[0-9a-f]{16}$/);
  assert.equal(baseImageTag(), base);
  assert.notEqual(baseImageTag({ ...BASE_RECIPE, steps: 2 } as unknown as typeof BASE_RECIPE), base);
  const dockerfile = Buffer.from('FROM ${BASE}\n');
  assert.notEqual(toolchainImageTag(base, dockerfile), toolchainImageTag(base, Buffer.from('FROM ${BASE}\nRUN true\n')));
  assert.notEqual(toolchainImageTag(base, dockerfile), toolchainImageTag(`${base}0`, dockerfile));
});

test("the base's apt sources: bookworm, its updates and security, main, Debian's keyring", () => {
  const sources = debianSources();
  assert.match(sources, /^Suites: bookworm bookworm-updates$/m);
  assert.match(sources, /^URIs: http:\/\/deb\.debian\.org\/debian-security\nSuites: bookworm-security$/m);
  assert.equal(sources.match(/^Signed-By: \/usr\/share\/keyrings\/debian-archive-keyring\.gpg$/gm)?.length, 2);
});
