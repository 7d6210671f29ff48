/**
 * Run processEnvironment over many environments: in the main thread, or in N worker threads
 * (render-worker.ts) that each take the next environment when done with one. Workers pay a start-up
 * (loading the generator's modules again), so the default (`--jobs` unset) uses them only when
 * there are enough environments to render; `--jobs 1` never does.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { addPhaseTimes, zeroPhaseTimes, type PhaseTimes } from '../lib/timing.js';
import { UsageError } from '../validate/diagnostics.js';
import { processEnvironment, type EnvOutcome, type WorkContext } from './work.js';

/**
 * Environments a worker renders before it retires and a fresh one takes over: whatever a thread
 * keeps (caches, a heap V8 grew and does not give back) is bounded by this, not by the run's size.
 */
export const RECYCLE_AFTER = 100;

/** With `--jobs` unset, environments to render below which the main thread alone is faster. */
export const AUTO_WORKERS_FROM = 40;

export function parseJobs(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`--jobs ${String(v)}: expected a whole number of worker threads from 1 to 256`);
  return n;
}

/** How many threads render `count` environments: `jobs` as given, else the cores when there are enough. */
export function threadsFor(count: number, jobs: number | undefined): number {
  const cores = availableParallelism();
  if (jobs === undefined) return count >= AUTO_WORKERS_FROM ? Math.min(cores, Math.ceil(count / 4)) : 1;
  return Math.max(1, Math.min(jobs, count));
}

export interface WorkResult {
  outcomes: EnvOutcome[];
  /** Time per phase spent in worker threads, summed over them (the main thread's own is in its phaseTimes()). */
  workerTimes: PhaseTimes;
  threads: number;
}

/** The worker's entry next to this module: TypeScript under tsx/vitest, JavaScript when built. */
function workerScript(): { url: URL; ts: boolean } {
  const ts = import.meta.url.endsWith('.ts');
  return { url: new URL(ts ? './render-worker.ts' : './render-worker.js', import.meta.url), ts };
}

function startWorker(ctx: WorkContext): Worker {
  const data = { root: ctx.root, generator: ctx.generator, mode: ctx.mode, sources: [...ctx.sources], fleet: [...ctx.fleet] };
  const { url, ts } = workerScript();
  if (!ts) return new Worker(url, { workerData: data });
  // TypeScript sources: the worker registers tsx's loader itself, then imports its entry.
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`, { eval: true, workerData: data });
}

export async function processEnvironments(
  names: readonly string[],
  ctx: WorkContext,
  jobs: number | undefined,
  opts: { recycleAfter?: number; /** Called as each environment finishes, in this thread (progress lines). */ onOutcome?: (o: EnvOutcome) => void } = {},
): Promise<WorkResult> {
  const recycleAfter = opts.recycleAfter ?? RECYCLE_AFTER;
  const injected = ctx.render !== undefined || ctx.io !== undefined;
  const threads = injected ? 1 : threadsFor(names.length, jobs);
  if (threads <= 1) {
    const outcomes = names.map((n) => {
      const o = processEnvironment(n, ctx);
      opts.onOutcome?.(o);
      return o;
    });
    return { outcomes, workerTimes: zeroPhaseTimes(), threads: 1 };
  }
  const queue = [...names];
  const outcomes: EnvOutcome[] = [];
  const times = zeroPhaseTimes();
  const workers = new Set<Worker>();
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      const spawn = (): void => {
        const w = startWorker(ctx);
        workers.add(w);
        running++;
        let done = 0;
        const next = (): void => {
          const name = done < recycleAfter ? queue.shift() : undefined;
          w.postMessage(name === undefined ? { type: 'stop' } : { type: 'env', name });
        };
        w.on('message', (m: { type: 'ready' } | { type: 'done'; outcome: EnvOutcome } | { type: 'stopped'; times: PhaseTimes } | { type: 'failed'; message: string; stack?: string }) => {
          if (m.type === 'ready') next();
          else if (m.type === 'done') {
            outcomes.push(m.outcome);
            opts.onOutcome?.(m.outcome);
            done++;
            next();
          } else if (m.type === 'stopped') {
            addPhaseTimes(times, m.times);
            workers.delete(w);
            void w.terminate();
            running--;
            // A worker retires after `recycleAfter` environments; a fresh one takes over what is left.
            if (queue.length > 0) spawn();
            else if (running === 0) resolve();
          } else {
            const err = new Error(m.message);
            if (m.stack) err.stack = m.stack;
            reject(err);
          }
        });
        w.on('error', reject);
        w.on('exit', (code) => {
          if (code !== 0 && workers.has(w)) reject(new Error(`a render worker exited with code ${code}`));
        });
      };
      for (let i = 0; i < threads; i++) spawn();
    });
  } finally {
    await Promise.all([...workers].map((w) => w.terminate()));
  }
  outcomes.sort((a, b) => names.indexOf(a.env) - names.indexOf(b.env));
  return { outcomes, workerTimes: times, threads };
}
