/**
 * `node dist/index.js release-assets --dir=DIR`: every update tarball already released, downloaded
 * through GitHub's REST API and checked against each release's SHA256SUMS (release-assets.ts);
 * the paths written are printed on stdout, one per line, what each release held on stderr.
 * The token is $GITHUB_TOKEN (or $GH_TOKEN), the API $GITHUB_API_URL (GitHub Enterprise), the
 * repository $GITHUB_REPOSITORY unless --repository. workflows/nightly-qemu.yml's `released` job
 * runs it from the Action's bundle (the bundle's dispatcher, index.ts, loads this file). Options: RELEASE_ASSETS_CLI.
 */
import { runCli, UsageError } from '../util/cli.ts';
import { EXIT } from '../util/exit-codes.ts';
import { stderrSink } from '../util/progress.ts';
import { downloadReleasedTarballs, RELEASE_ASSETS_CLI } from './release-assets.ts';

runCli(RELEASE_ASSETS_CLI, async ({ values }) => {
  if (!values.dir) throw new UsageError('--dir is required');
  const repository = values.repository ?? process.env.GITHUB_REPOSITORY;
  if (!repository) throw new UsageError('--repository or $GITHUB_REPOSITORY is required');
  const token = process.env.GITHUB_TOKEN || process.env.GH_TOKEN;
  if (!token) throw new Error('no token: set GITHUB_TOKEN (e.g. env: GITHUB_TOKEN: ${{ github.token }})');
  const got = await downloadReleasedTarballs({
    token,
    repository,
    dir: values.dir,
    kernelRelease: values['kernel-release'],
    apiUrl: process.env.GITHUB_API_URL,
    log: stderrSink,
  });
  for (const t of got) process.stdout.write(`${t.path}\n`);
  stderrSink(`${got.length} released update(s), ${got.filter((t) => t.verified).length} verified against SHA256SUMS`);
  return EXIT.ok;
});
