/**
 * Runs an in-process fuzz arm (test/fuzz/fuzz-worker.ts) in a worker thread with a watchdog: the
 * reader is JavaScript running on the thread that would have to notice, so an endless loop on one
 * mutant would hang the test run instead of failing it. Here the worker posts a heartbeat before
 * each mutant; when none comes for `stallMs` the worker is terminated (V8 stops even a tight
 * loop) and the run fails naming the seed and iteration to replay.
 *
 * Usage:
 *   const parsed = await fuzzInWorker('readElf', object, 1500, 1);          // mutants that parsed
 *   await fuzzInWorker('readUpdateTarball-tar', object, 400, 3, 10_000);     // stall limit in ms
 */
import { Worker } from 'node:worker_threads';

export type FuzzArm = 'readElf' | 'readUpdateTarball-gz' | 'readUpdateTarball-tar' | 'spin-at-5';

export type WorkerReport = { kind: 'begin'; iteration: number } | { kind: 'done'; parsed: number } | { kind: 'error'; message: string };

/** No heartbeat for this long: a hang (a mutant normally takes milliseconds; fuzz() fails one over 2 s). */
export const STALL_MS = 15_000;

const WORKER = new URL('./fuzz-worker.ts', import.meta.url).href;

export function fuzzInWorker(arm: FuzzArm, input: Buffer, iterations: number, seed: number, stallMs = STALL_MS): Promise<number> {
  // Node 20 does not hand the main thread's --import (tsx) to workers: register it in the worker first
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { arm, input, iterations, seed } });
  return new Promise<number>((resolve, reject) => {
    let current = -1;
    let watchdog: NodeJS.Timeout;
    const finish = (done: () => void) => {
      clearTimeout(watchdog);
      void worker.terminate();
      done();
    };
    const rearm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `${arm}: seed ${seed}, ${current < 0 ? 'before the first mutant' : `iteration ${current}`}: no answer in ${stallMs} ms (a hang); the worker was terminated`,
              ),
            ),
          ),
        stallMs,
      );
    };
    rearm();
    worker.on('message', (m: WorkerReport) => {
      if (m.kind === 'begin') {
        current = m.iteration;
        rearm();
      } else if (m.kind === 'done') finish(() => resolve(m.parsed));
      else finish(() => reject(new Error(m.message)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`${arm}: the fuzz worker exited (code ${code}) before reporting`))));
  });
}
