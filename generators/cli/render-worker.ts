/**
 * A render worker thread (jobs.ts starts it): receives the run's sources and fleet once, then one
 * environment at a time, and answers each with processEnvironment's outcome (plain data).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { phaseTimes } from '../lib/timing.js';
import type { FleetEntry } from '../model/fleet.js';
import { processEnvironment, type WorkContext, type WorkMode } from './work.js';

const data = workerData as { root: string; generator: string; mode: WorkMode; sources: [string, string][]; fleet: [string, FleetEntry][] };
const ctx: WorkContext = { root: data.root, generator: data.generator, mode: data.mode, sources: new Map(data.sources), fleet: new Map(data.fleet) };
const port = parentPort!;

port.on('message', (m: { type: 'env'; name: string } | { type: 'stop' }) => {
  if (m.type === 'stop') {
    port.postMessage({ type: 'stopped', times: phaseTimes() });
    return;
  }
  try {
    port.postMessage({ type: 'done', outcome: processEnvironment(m.name, ctx) });
  } catch (e) {
    const err = e as Error;
    port.postMessage({ type: 'failed', message: err.message, stack: err.stack });
  }
});
port.postMessage({ type: 'ready' });
