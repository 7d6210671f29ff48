/**
 * Run processEnvironment over many environments: in the main thread alone, or in N threads — the
 * main thread and N - 1 worker threads (render-worker.ts) — each taking the next environment when
 * done with one. Workers pay a start-up (loading the generator's modules again), so the default
 * (`--jobs` unset) uses them only when there are enough environments to render; `--jobs 1` never does.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { addPhaseTimes, zeroPhaseTimes, type PhaseTimes } from '../lib/timing.js';
import { UsageError } from '../validate/diagnostics.js';
import { listEnvironmentNames } from '../load/loader.js';
import type { FleetEntry } from '../model/fleet.js';
import { completeFleet, processEnvironment, readFleetEntries, type EnvOutcome, type WorkContext } from './work.js';

/**
 * Environments a worker renders before it retires and a fresh one takes over: whatever a thread
 * keeps (caches, a heap V8 grew and does not give back) is bounded by this, not by the run's size.
 */
export const RECYCLE_AFTER = 100;

/** Fleet entries read per chunk (a few milliseconds each): small, so that no thread waits long for the last. */
const READ_CHUNK = 4;

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
  const data = { root: ctx.root, generator: ctx.generator, mode: ctx.mode, today: ctx.today, ...(ctx.base !== undefined ? { base: ctx.base } : {}), sources: [...ctx.sources], fleet: [...ctx.fleet] };
  const { url, ts } = workerScript();
  if (!ts) return new Worker(url, { workerData: data });
  // TypeScript sources: the worker registers tsx's loader itself, then imports its entry.
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`, { eval: true, workerData: data });
}

/** `items` in `n` contiguous shares of nearly equal length. */
function shares<T>(items: readonly T[], n: number): T[][] {
  return Array.from({ length: n }, (_, i) => items.slice(Math.floor((i * items.length) / n), Math.floor(((i + 1) * items.length) / n)));
}

type FromWorker =
  | { type: 'ready' }
  | { type: 'fleet-read'; entries: [string, FleetEntry | null][] }
  | { type: 'done'; outcome: EnvOutcome }
  | { type: 'stopped'; times: PhaseTimes }
  | { type: 'failed'; message: string; stack?: string };

/**
 * Process `names`. When `ctx.fleetPending` lists environments whose fleet entries are not read yet,
 * they are read first, a few at a time by whichever thread is free, before any renders (every
 * environment validates against the whole fleet); each thread then renders the environments it read,
 * the last read first (their parses are still in its loader cache), and helps with the others' when done.
 */
export async function processEnvironments(
  names: readonly string[],
  ctx: WorkContext,
  jobs: number | undefined,
  opts: { recycleAfter?: number; /** Called as each environment finishes, in this thread (progress lines). */ onOutcome?: (o: EnvOutcome) => void } = {},
): Promise<WorkResult> {
  const recycleAfter = opts.recycleAfter ?? RECYCLE_AFTER;
  const injected = ctx.render !== undefined || ctx.io !== undefined;
  const threads = injected ? 1 : threadsFor(names.length, jobs);
  const pending = ctx.fleetPending ?? [];
  const all = listEnvironmentNames(ctx.sources);
  if (threads <= 1) {
    // Read last to first: the loader's cache then still holds the first environments to render.
    const read = new Map(readFleetEntries(ctx.sources, [...pending].reverse(), RECYCLE_AFTER));
    const full: WorkContext = pending.length === 0 ? ctx : { ...ctx, fleet: completeFleet(all, ctx.fleet, read), fleetPending: [] };
    const outcomes = names.map((n) => {
      const o = processEnvironment(n, full);
      opts.onOutcome?.(o);
      return o;
    });
    return { outcomes, workerTimes: zeroPhaseTimes(), threads: 1 };
  }
  // Each thread's share of the fleet to read, and its queue: the environments to render of its share
  // first (all of `names` in shares when there is nothing to read). Slot 0 is this thread: it renders
  // too (its modules are loaded already, while a worker's start-up costs about 0.25 s of CPU before
  // its first environment; issue 23), so `threads` threads are this one and threads - 1 workers.
  // The fleet entries to read, a few at a time by whichever thread is free: this one from the front,
  // the workers from the back. A worker loads its modules before its first read, and this thread
  // does not wait for it (it used to wait for a fixed share each: 0.4-1.5 s idle; issue 23, seventh
  // pass). Each thread renders the environments it read, the last read first: their parses are
  // still in its loader cache.
  const toRead = [...pending];
  const toRender = new Set(names);
  const queues = pending.length > 0 ? Array.from({ length: threads }, (): string[] => []) : shares(names, threads);
  const assign = (slot: number, read: readonly string[]): void => {
    queues[slot]!.unshift(...read.filter((n) => toRender.delete(n)).reverse());
  };
  if (pending.length > 0) {
    const fleetNames = new Set(pending);
    queues[0]!.push(...names.filter((n) => !fleetNames.has(n))); // (a name outside the fleet: its render reports it)
  }
  const take = (slot: number): string | undefined => {
    const own = queues[slot]!;
    if (own.length > 0) return own.shift();
    const longest = queues.reduce((a, b) => (b.length > a.length ? b : a));
    return longest.pop(); // the other queue's last: the least likely to be in its thread's cache
  };
  let fleet = ctx.fleet;
  let complete = pending.length === 0;
  const read = new Map<string, FleetEntry | null>();
  /** Chunks of toRead sent to workers and not answered yet. */
  let reading = 0;
  const outcomes: EnvOutcome[] = [];
  const times = zeroPhaseTimes();
  const workers = new Set<Worker>();
  /** Per slot with a live thread: what starts it rendering (a worker: sends it the fleet first if it lacks it). */
  const starts = new Map<number, () => void>();
  const waiting = new Set<number>();
  const finish = (o: EnvOutcome): void => {
    outcomes.push(o);
    opts.onOutcome?.(o);
  };
  try {
    await new Promise<void>((resolve, rejectRun) => {
      let running = 0;
      let mainDone = false;
      // Once the run failed, this thread's loop stages nothing more (the caller removes what was staged).
      let failed = false;
      const reject = (err: unknown): void => {
        failed = true;
        rejectRun(err);
      };
      const settle = (): void => {
        if (running === 0 && mainDone && queues.every((q) => q.length === 0)) resolve();
      };
      /** Once every fleet entry is read: the fleet is complete, and every thread waiting for it starts. */
      const readDone = (): void => {
        if (complete || toRead.length > 0 || reading > 0) return;
        fleet = completeFleet(all, ctx.fleet, read);
        complete = true;
        for (const s of waiting) starts.get(s)?.();
        waiting.clear();
      };
      const spawn = (slot: number): void => {
        const w = startWorker({ ...ctx, fleet });
        let hasFleet = complete;
        workers.add(w);
        running++;
        let sent = 0;
        let inFlight = 0;
        // Two environments in flight: the next is already in the worker's queue while this thread
        // renders its own and does not answer.
        const fill = (): void => {
          while (inFlight < 2 && sent < recycleAfter) {
            const name = take(slot);
            if (name === undefined) break;
            w.postMessage({ type: 'env', name });
            sent++;
            inFlight++;
          }
          if (inFlight === 0) w.postMessage({ type: 'stop' });
        };
        const start = (): void => {
          if (!hasFleet) w.postMessage({ type: 'fleet', fleet: [...fleet] });
          hasFleet = true;
          fill();
        };
        starts.set(slot, start);
        /** The next few fleet entries for this worker to read, from the back; false when none are left. */
        const readMore = (): boolean => {
          const chunk = toRead.splice(Math.max(0, toRead.length - READ_CHUNK));
          if (chunk.length === 0) return false;
          reading++;
          w.postMessage({ type: 'fleet-read', names: chunk, keep: recycleAfter });
          return true;
        };
        w.on('message', (m: FromWorker) => {
          if (m.type === 'ready') {
            // Two chunks in flight, as two environments are: the next is queued while this thread reads its own.
            if (complete) start();
            else if (!readMore()) waiting.add(slot);
            else readMore();
          } else if (m.type === 'fleet-read') {
            for (const [n, e] of m.entries) read.set(n, e);
            assign(slot, m.entries.map(([n]) => n));
            reading--;
            if (!readMore()) {
              waiting.add(slot);
              readDone();
            }
          } else if (m.type === 'done') {
            finish(m.outcome);
            inFlight--;
            fill();
          } else if (m.type === 'stopped') {
            addPhaseTimes(times, m.times);
            workers.delete(w);
            starts.delete(slot);
            // A worker retires after `recycleAfter` environments; a fresh one takes over what is left,
            // once the old one is gone (and its heap with it: the two never add up).
            w.terminate().then(() => {
              running--;
              if (queues.some((q) => q.length > 0)) spawn(slot);
              else settle();
            }, reject);
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
      /**
       * This thread's share: its fleet entries, then environments until the queues are empty or it
       * rendered `recycleAfter` (what it keeps is not bounded by recycling; the workers take the rest).
       * It yields between environments, so the workers' messages are answered.
       */
      const renderHere = async (): Promise<void> => {
        while (toRead.length > 0 && !failed) {
          const chunk = toRead.splice(0, READ_CHUNK);
          for (const [n, e] of readFleetEntries(ctx.sources, chunk)) read.set(n, e);
          assign(0, chunk);
          readDone();
          // Yield: a worker that is ready takes its first chunk now.
          await new Promise<void>((r) => setImmediate(r));
        }
        while (!complete && !failed) await new Promise<void>((r) => waiting.add(0) && starts.set(0, r));
        const full: WorkContext = { ...ctx, fleet, fleetPending: [] };
        for (let done = 0; done < recycleAfter && !failed; done++) {
          const name = take(0);
          if (name === undefined) break;
          finish(processEnvironment(name, full));
          await new Promise<void>((r) => setImmediate(r));
        }
        mainDone = true;
        settle();
      };
      for (let i = 1; i < threads; i++) spawn(i);
      renderHere().catch(reject);
    });
  } finally {
    await Promise.all([...workers].map((w) => w.terminate()));
  }
  outcomes.sort((a, b) => names.indexOf(a.env) - names.indexOf(b.env));
  return { outcomes, workerTimes: times, threads };
}
