/**
 * A render worker thread (jobs.ts starts it): receives the run's sources and fleet once, then one
 * environment at a time, and answers each with processEnvironment's outcome (plain data). When the
 * fleet is not read yet, it first reads the entries of a share of the environments for it, then
 * receives the whole fleet.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { phaseTimes } from '../lib/timing.js';
import type { FleetEntry } from '../model/fleet.js';
import { processEnvironment, readFleetEntries, type WorkContext, type WorkMode } from './work.js';

const data = workerData as { root: string; generator: string; mode: WorkMode; today: string; base?: string; sources: [string, string][]; fleet: [string, FleetEntry][] };
const ctx: WorkContext = { root: data.root, generator: data.generator, mode: data.mode, today: data.today, ...(data.base !== undefined ? { base: data.base } : {}), sources: new Map(data.sources), fleet: new Map(data.fleet) };
const port = parentPort!;

port.on('message', (m: { type: 'env'; name: string } | { type: 'fleet-read'; names: string[]; keep: number } | { type: 'fleet'; fleet: [string, FleetEntry][] } | { type: 'stop' }) => {
  if (m.type === 'stop') {
    port.postMessage({ type: 'stopped', times: phaseTimes() });
    return;
  }
  if (m.type === 'fleet') {
    ctx.fleet = new Map(m.fleet);
    return;
  }
  try {
    if (m.type === 'fleet-read') port.postMessage({ type: 'fleet-read', entries: readFleetEntries(ctx.sources, m.names, m.keep) });
    else port.postMessage({ type: 'done', outcome: processEnvironment(m.name, ctx) });
  } catch (e) {
    const err = e as Error;
    port.postMessage({ type: 'failed', message: err.message, stack: err.stack });
  }
});
port.postMessage({ type: 'ready' });
