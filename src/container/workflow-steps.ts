/**
 * The shell steps of a GitHub Actions workflow, read with js-yaml, for running them in a real
 * container (test/container/workflows.test.ts): per job, its container image and its `run:` steps
 * in order, each marked by whether it comes before the job's `actions/cache` step (what must be on
 * the machine when the cache is restored: tar and zstd, or the cache key's compression differs).
 *
 * Usage:
 *   for (const job of workflowJobs(readFileSync('workflows/pr-check.yml', 'utf8')))
 *     for (const step of job.runSteps) ...step.script, step.beforeCache
 */
import { load } from 'js-yaml';

export interface RunStep {
  /** The step's name (or id, or its first line). */
  name: string;
  script: string;
  env: Record<string, string>;
  /** Comes before the job's first actions/cache step. */
  beforeCache: boolean;
}

export interface WorkflowJob {
  id: string;
  /** `container:` (a string or its `image:`); null when the job runs on the runner itself. */
  image: string | null;
  /** The workflow's and the job's `env:`. */
  env: Record<string, string>;
  runSteps: RunStep[];
  /** A step `uses:` actions/cache. */
  cached: boolean;
}

interface Step {
  name?: string;
  id?: string;
  run?: string;
  uses?: string;
  env?: Record<string, unknown>;
}

function strings(env: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, String(v)]));
}

export function workflowJobs(text: string): WorkflowJob[] {
  const doc = load(text) as { env?: Record<string, unknown>; jobs?: Record<string, Record<string, unknown>> };
  return Object.entries(doc.jobs ?? {}).map(([id, job]) => {
    const container = job.container as string | { image?: string } | undefined;
    const steps = (job.steps as Step[] | undefined) ?? [];
    const cacheAt = steps.findIndex((s) => s.uses?.startsWith('actions/cache@'));
    const runSteps = steps.flatMap((s, i) =>
      s.run === undefined
        ? []
        : [
            {
              name: s.name ?? s.id ?? s.run.split('\n')[0],
              script: s.run,
              env: strings(s.env),
              beforeCache: cacheAt >= 0 && i < cacheAt,
            },
          ],
    );
    return {
      id,
      image: typeof container === 'string' ? container : (container?.image ?? null),
      env: { ...strings(doc.env), ...strings(job.env as Record<string, unknown> | undefined) },
      runSteps,
      cached: cacheAt >= 0,
    };
  });
}

/** `${{ … }}` expressions left in a script or value: they need GitHub's contexts to run. */
export function expressionsIn(text: string): string[] {
  return [...text.matchAll(/\$\{\{\s*(.*?)\s*\}\}/g)].map((m) => m[1]);
}
